//! Real histories never break a policy (issue 21): over a repository shaped
//! like a real project's (tests/fixtures/real-history.sh: a quarter of the
//! commits merges, octopus and criss-cross merges, trailers git parses in
//! odd ways, Latin-1 and broken UTF-8, renames, copies, symlinks, a
//! submodule, a 3000-file tree, paths that are not UTF-8, malformed
//! commits), the library answers as git itself does: the four walks, what
//! each commit changed, trailers, signatures and messages, ancestry and
//! force pushes. Each test collects every difference before it fails, so
//! one run shows them all.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use gix::ObjectId;
use hookrt::RefUpdate;
use hookrt::git::{self, Repo};

use crate::support::run_fixture;

mod added;
mod ancestry;
mod changes;
mod commits;
mod pushes;
mod walks;

/// The malformed commits, each the tip of `refs/heads/malformed/<kind>`.
const MALFORMED: [&str; 11] = [
    "bad-tz-plus",
    "bad-tz-alpha",
    "no-email",
    "no-author",
    "headers-only",
    "nul-message",
    "latin1",
    "extra-headers",
    "date-overflow",
    "octopus-200",
    "zero-padded-tree",
];

/// The malformed commits whose author or committer line is damaged: what a
/// policy sees of those is hookrt's repair, not what git prints.
const DAMAGED_SIGNATURE: [&str; 5] = ["bad-tz-plus", "bad-tz-alpha", "no-email", "no-author", "date-overflow"];

/// The fixture's bare repository, built once per test process. It lives in
/// cargo's temporary directory for tests (under `target/`), made afresh by
/// each run: a temporary directory held by a static would never be
/// removed, and each run would leave 34 MB behind.
fn real() -> &'static Path {
    static REPO: OnceLock<PathBuf> = OnceLock::new();
    REPO.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("real-history");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove the last run's fixture");
        }
        run_fixture("real-history.sh", &[dir.to_str().expect("utf-8")]);
        dir.join("real.git")
    })
}

/// Runs git in the fixture with `input` on stdin; `Err` with its stderr if
/// it fails.
fn try_git(args: &[&str], input: &[u8]) -> Result<Vec<u8>, String> {
    let mut child = Command::new("git")
        .current_dir(real())
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run git");
    // Written from a thread of its own, or a large input and a large output
    // would wait for each other.
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("git");
    writer.join().expect("the writer").expect("write git's input");
    if out.status.success() { Ok(out.stdout) } else { Err(String::from_utf8_lossy(&out.stderr).into_owned()) }
}

fn git(args: &[&str]) -> Vec<u8> {
    git_with_input(args, &[])
}

fn git_with_input(args: &[&str], input: &[u8]) -> Vec<u8> {
    try_git(args, input).unwrap_or_else(|err| panic!("git {args:?}: {err}"))
}

fn git_text(args: &[&str]) -> String {
    String::from_utf8(git(args)).expect("git prints UTF-8 here")
}

/// What `rev` names (a tag stays a tag).
fn id(rev: &str) -> ObjectId {
    git_text(&["rev-parse", "--verify", rev]).trim().parse().expect("an id")
}

fn ids(text: &str) -> Vec<ObjectId> {
    text.split_whitespace().map(|id| id.parse().expect("an id")).collect()
}

/// `git merge-base --is-ancestor ancestor descendant`.
fn git_is_ancestor(ancestor: ObjectId, descendant: ObjectId) -> bool {
    let out = Command::new("git")
        .current_dir(real())
        .args(["merge-base", "--is-ancestor", &ancestor.to_string(), &descendant.to_string()])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git merge-base");
    match out.status.code() {
        Some(0) => true,
        Some(1) => false,
        _ => panic!("git merge-base {ancestor} {descendant}: {}", String::from_utf8_lossy(&out.stderr)),
    }
}

/// The library's view of the fixture for a pre-receive run of `updates`,
/// with `refs` as the refs before the push.
fn open(updates: &[RefUpdate], refs: Vec<(String, ObjectId)>) -> Repo {
    let git_dir = real();
    Repo::open_with_refs(git_dir, &[git_dir.join("objects")], git::When::Before, updates, Some(refs))
        .expect("open the fixture")
}

/// Every commit of every ref with its parents, newest first.
fn all_commits() -> &'static [(ObjectId, Vec<ObjectId>)] {
    static COMMITS: OnceLock<Vec<(ObjectId, Vec<ObjectId>)>> = OnceLock::new();
    COMMITS.get_or_init(|| {
        let listed = git_text(&["rev-list", "--all", "--parents"]);
        listed
            .lines()
            .map(|line| {
                let mut line = ids(line).into_iter();
                (line.next().expect("a commit"), line.collect())
            })
            .collect()
    })
}

/// The tips of the malformed branches, by kind.
fn malformed() -> Vec<(&'static str, ObjectId)> {
    MALFORMED.iter().map(|kind| (*kind, id(&format!("refs/heads/malformed/{kind}")))).collect()
}

/// Fails with every difference found, one a line.
fn assert_none(what: &str, differences: &[String]) {
    assert!(
        differences.is_empty(),
        "{} differences from git in {what}:\n{}",
        differences.len(),
        differences.join("\n")
    );
}
