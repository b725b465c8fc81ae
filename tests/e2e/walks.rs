//! The four commit filters yield exactly what `git rev-list` says, in
//! pre-receive (refs not moved yet, objects in quarantine) and in
//! post-receive (refs moved).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::support::{Server, guests};

const ZERO: &str = "0000000000000000000000000000000000000000";

/// `(filter, ref) -> commit ids`, parsed from the list-commits guest's
/// lines.
type Walks = BTreeMap<(String, String), BTreeSet<String>>;

fn reported(lines: &[&str]) -> Walks {
    let mut walks = Walks::new();
    for line in lines {
        if let Some(rest) = line.strip_prefix("[list-commits] walk ") {
            let parts: Vec<&str> = rest.split(' ').collect();
            let [filter, name, id] = parts[..] else { panic!("odd line {line:?}") };
            walks.entry((filter.to_owned(), name.to_owned())).or_default().insert(id.to_owned());
        }
    }
    walks
}

fn rev_list(server: &Server, args: &[String]) -> BTreeSet<String> {
    let mut all = vec!["rev-list".to_owned()];
    all.extend(args.iter().cloned());
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    server.server_git(&all).lines().map(str::to_owned).collect()
}

/// What git says each filter should yield for `old -> new` of `name`, given
/// every ref's tip before and after the push.
fn expected(server: &Server, updates: &[(String, String, String)], before: &[String], after: &[String]) -> Walks {
    let mut walks = Walks::new();
    let not =
        |tips: &[String]| -> Vec<String> { std::iter::once("--not".to_owned()).chain(tips.iter().cloned()).collect() };
    for (name, old, new) in updates {
        let mut put = |filter: &str, ids: BTreeSet<String>| {
            if !ids.is_empty() {
                walks.insert((filter.to_owned(), name.clone()), ids);
            }
        };
        let tip = |id: &String| (id != ZERO).then(|| id.clone());
        if let Some(new) = tip(new) {
            let mut args = vec![new.clone()];
            args.extend(tip(old).map(|o| format!("^{o}")));
            put("added-to-ref", rev_list(server, &args));
            let mut args = vec![new.clone()];
            args.extend(not(before));
            put("added-to-repository", rev_list(server, &args));
        }
        if let Some(old) = tip(old) {
            let mut args = vec![old.clone()];
            args.extend(tip(new).map(|n| format!("^{n}")));
            put("removed-from-ref", rev_list(server, &args));
            let mut args = vec![old.clone()];
            args.extend(not(after));
            put("removed-from-repository", rev_list(server, &args));
        }
    }
    walks
}

fn tips(server: &Server) -> Vec<String> {
    server.server_git(&["for-each-ref", "--format=%(objectname)"]).lines().map(str::to_owned).collect()
}

/// A history with shared, rewritten and deleted commits:
/// main A-B-C, feature C-D-E, topic C-T1-T2, old B-X, tag v1 at B.
/// The push moves main onto E plus G (D, E already on feature), rewrites
/// topic to C-T3, deletes old (X is lost, A and B are not), creates
/// `fresh` at E (nothing new to the repository) and tag v2.
fn run(hook: &str, same_dates: bool) {
    let server = Server::new();
    if same_dates {
        server.freeze_dates();
    }
    server.add_policy("list-commits", guests::LIST_COMMITS);
    server.write_config(&format!("[policy.list-commits]\nhook = \"{hook}\"\n"));
    let g = |args: &[&str]| server.git(args);
    let b = server.commit("B");
    server.commit("C");
    g(&["tag", "-a", "-m", "v1", "v1", &b]);
    g(&["checkout", "--quiet", "-b", "feature"]);
    server.commit("D");
    server.commit("E");
    g(&["checkout", "--quiet", "-b", "topic", "main"]);
    server.commit("T1");
    server.commit("T2");
    g(&["checkout", "--quiet", "-b", "old", &b]);
    server.commit("X");
    server.push(&["origin", "main", "feature", "topic", "old", "v1"]).assert_ok();

    g(&["checkout", "--quiet", "main"]);
    g(&["merge", "--quiet", "--ff-only", "feature"]);
    server.commit("G");
    g(&["checkout", "--quiet", "topic"]);
    g(&["reset", "--quiet", "--hard", "main~3"]);
    server.commit("T3");
    g(&["tag", "-a", "-m", "v2", "v2", "main"]);

    let before = tips(&server);
    let old = |r: &str| server.server_ref(r).unwrap_or_else(|| ZERO.to_owned());
    let new = |r: &str| server.git(&["rev-parse", r]);
    let updates = vec![
        ("refs/heads/main".to_owned(), old("refs/heads/main"), new("main")),
        ("refs/heads/topic".to_owned(), old("refs/heads/topic"), new("topic")),
        ("refs/heads/old".to_owned(), old("refs/heads/old"), ZERO.to_owned()),
        ("refs/heads/fresh".to_owned(), ZERO.to_owned(), new("feature")),
        ("refs/tags/v2".to_owned(), ZERO.to_owned(), new("v2")),
    ];
    let pushed = server.push(&["--force", "origin", "main", "topic", ":old", "feature:fresh", "v2"]).assert_ok();
    let after = tips(&server);
    let got = reported(&pushed.remote_lines());
    let want = expected(&server, &updates, &before, &after);
    assert_eq!(got, want, "hook output:\n{}", pushed.stderr);
    // The scenario really exercises every filter.
    assert!(want.keys().any(|(f, _)| f == "removed-from-repository"));
    assert!(want[&("added-to-ref".to_owned(), "refs/heads/main".to_owned())].len() == 3);
}

#[test]
fn filters_match_rev_list_in_pre_receive() {
    run("pre-receive", false);
}

#[test]
fn filters_match_rev_list_in_post_receive() {
    run("post-receive", false);
}

/// Ties in committer date are the norm after a rebase; hidden commits of
/// the same date must still hide.
#[test]
fn filters_match_rev_list_when_every_commit_has_the_same_date() {
    run("pre-receive", true);
}

/// A walk long enough to move to a thread of its own (past its first 256
/// commits) yields exactly what `git rev-list` does, in the same order,
/// here across the merge of two long lines whose dates interleave; one
/// dropped half-way ends at once.
#[test]
fn a_long_walk_matches_rev_list_in_order() {
    use hookrt::RefUpdate;
    use hookrt::git::{self, Filter, Repo};

    let server = Server::new();
    let base = server.git(&["rev-parse", "HEAD"]).trim().to_owned();
    let base_date: i64 = server.git(&["log", "-1", "--format=%ct"]).trim().parse().expect("a date");
    server.fixture("many-commits.sh", &["1500"]);
    server.git(&["checkout", "--quiet", "-b", "side", &base]);
    // Its own first commit, or the fixture would make main's first 700 again.
    server.commit("Start the side line");
    server.fixture("many-commits.sh", &["700"]);
    server.git(&["checkout", "--quiet", "main"]);
    let work = PathBuf::from(server.git(&["rev-parse", "--show-toplevel"]).trim());
    // Dated after both lines, as a merge made now would be; both lines
    // change the same files, so the merge keeps main's.
    let merged = server
        .command("git", &work)
        .args(["merge", "--quiet", "--no-ff", "--strategy=ours", "-m", "Merge side", "side"])
        .env("GIT_COMMITTER_DATE", format!("@{} +0000", base_date + 2000))
        .output()
        .expect("run git merge");
    assert!(merged.status.success(), "{}", String::from_utf8_lossy(&merged.stderr));
    let tip = server.git(&["rev-parse", "HEAD"]).trim().to_owned();
    let want: Vec<String> = server.git(&["rev-list", &tip]).lines().map(str::to_owned).collect();
    assert_eq!(want.len(), 1 + 1500 + 701 + 1, "the history the test means to walk");

    let git_dir = work.join(".git");
    let update = RefUpdate {
        name: "refs/heads/new".to_owned(),
        old: gix::ObjectId::null(gix::hash::Kind::Sha1),
        new: tip.parse().expect("an id"),
    };
    let updates = [update.clone()];
    let repo = Repo::open(&git_dir, &git::object_dirs(&git_dir, |_| None), git::When::Before, &updates)
        .expect("open the repository");
    let mut walk = repo.walk(&update, Filter::AddedToRef).expect("start the walk");
    let mut got = Vec::new();
    while let Some(commit) = walk.next(None).expect("the next commit") {
        got.push(commit.id.to_string());
    }
    assert!(
        got == want,
        "{} commits walked, {} listed by git; first difference at {:?}",
        got.len(),
        want.len(),
        got.iter().zip(&want).position(|(a, b)| a != b)
    );

    let mut walk = repo.walk(&update, Filter::AddedToRef).expect("start the walk");
    for _ in 0..1000 {
        walk.next(None).expect("the next commit").expect("more commits");
    }
    drop(walk);
}
