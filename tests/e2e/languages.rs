//! The example policies written in Python, JavaScript and C: each passes its
//! own `hookrt test` cases, lands a push it accepts, stops one it vetoes
//! with the refs untouched, (where it reads commits) walks a 10,000-commit
//! push within the default limits, and reads real histories without a trap
//! (issue 21): a damaged commit is checked, and named as damaged when
//! vetoed; history git cannot walk past vetoes the ref.
//!
//! Each language is one test that runs the cases first: they compile the
//! policy (seconds for Python and JavaScript), and the pushes after them
//! find it in the shared cache.

use crate::support::{Server, assert_example_passes_its_cases, commits_produced, example_policy, heavy, in_repo, text};

/// Pushes `main`, expecting a rejection that shows `shown`, and checks that
/// no ref on the server moved.
fn push_is_vetoed(server: &Server, shown: &str) {
    let before = server.server_refs();
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert!(pushed.stderr.contains(shown), "no {shown:?} in:\n{}", pushed.stderr);
    assert_eq!(server.server_refs(), before);
}

/// Drops the commits the server refused, adds 10,000 good ones and pushes
/// them: the policy must read every one within the default limits.
fn walks_ten_thousand_commits(server: &Server, name: &str, refused: usize) {
    let _heavy = heavy();
    server.git(&["reset", "--quiet", "--hard", &format!("HEAD~{refused}")]);
    server.fixture("many-commits.sh", &["10000"]);
    let pushed = server.push_with_env(&["origin", "main"], &[("HOOKRT_LOG", "debug")]).assert_ok();
    assert_eq!(commits_produced(&pushed.stderr, name), 10_000);
}

/// An author line without an e-mail: git shows the commit, `git fsck`
/// reports `missingEmail`, and hookrt hands it over repaired.
const NO_EMAIL: &str = "A U Thor 1700000000 +0000";

/// A commit on the clone's `parent` whose author line has no e-mail.
fn damaged_commit(server: &Server, parent: &str, message: &str) -> String {
    let tree = server.git(&["rev-parse", &format!("{parent}^{{tree}}")]);
    let parent = server.git(&["rev-parse", parent]);
    let text = format!(
        "tree {tree}\nparent {parent}\nauthor {NO_EMAIL}\ncommitter A U Thor <author@example.com> 1700000000 +0000\n\n{message}\n"
    );
    server.write_object(&server.work, "commit", text.as_bytes())
}

/// Issue 21: a commit with a damaged author line, pushed for real, is
/// checked like any other: `good` (on the clone's HEAD, to `good_ref`) is
/// accepted, `bad` (on `good`, to `bad_ref`) is vetoed for what the policy
/// checks, and the veto's detail names the damage. Never a trap. The clone
/// is left at `good`.
fn damaged_commits_are_checked(
    server: &Server,
    name: &str,
    (good_ref, good): (&str, &str),
    (bad_ref, bad): (&str, &str),
) {
    let good = damaged_commit(server, "HEAD", good);
    let pushed = server.push(&["origin", &format!("{good}:{good_ref}")]);
    assert!(pushed.ok, "{name} vetoed a damaged commit it should read on:\n{}", pushed.stderr);
    server.git(&["reset", "--quiet", "--hard", &good]);
    let bad = damaged_commit(server, &good, bad);
    let before = server.server_refs();
    let pushed = server.push(&["origin", &format!("{bad}:{bad_ref}")]).assert_rejected();
    assert!(!pushed.stderr.contains("trapped"), "{name} trapped:\n{}", pushed.stderr);
    assert_eq!(server.server_refs(), before);
    let lines = pushed.remote_lines();
    let note = format!("Commit {} is malformed (`git fsck` reports it)", &bad[..12]);
    assert!(lines.iter().any(|l| l.contains(&note)), "{name}: no {note:?} in:\n{}", pushed.stderr);
    let damage = format!("author: missingEmail (`{NO_EMAIL}`)");
    assert!(lines.iter().any(|l| l.trim() == damage), "{name}: no {damage:?} in:\n{}", pushed.stderr);
    let record = server.audit_records().pop().expect("an audit record");
    assert_eq!(record["policies"][0]["vetoes"][0]["commit"], bad.as_str(), "{record}");
}

/// Issue 21: history git cannot walk past (here a parent that is a blob)
/// ends a walk with `malformed`. No push can bring such a commit (git's
/// pack-objects and receive-pack's connectivity check refuse it), so this
/// is a dry run over the clone: the policy vetoes the ref, naming the
/// commit and what to do, and does not trap.
fn unwalkable_history_is_vetoed(server: &Server, name: &str) {
    let blob = server.write_object(&server.work, "blob", b"not a commit\n");
    let tree = server.git(&["rev-parse", "HEAD^{tree}"]);
    let who = "A U Thor <author@example.com> 1700000000 +0000";
    let commit = format!("tree {tree}\nparent {blob}\nauthor {who}\ncommitter {who}\n\nfix: on a blob\n");
    let bad = server.write_object(&server.work, "commit", commit.as_bytes());
    let policy = example_policy(name);
    let range = format!("HEAD..{bad}");
    let work = server.work.to_str().expect("utf-8");
    let out = server.hookrt(&["test", "--policy", policy.to_str().expect("utf-8"), "--repo", work, "--range", &range]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(!shown.contains("trapped"), "{name} trapped:\n{shown}");
    assert!(shown.contains(" cannot be read: "), "{shown}");
    assert!(shown.contains("Run `git fsck` in your clone to see the damage"), "{shown}");
}

/// Issue 21: a ref of the server points at imported history that git
/// cannot walk past (a parent that is a blob, dated after everything
/// pushed, so a walk meets it before the new commits run out). receive-pack
/// takes a push beside it, and then so must every policy: accept it, or
/// veto it saying what to do. Whether such hidden history stops a walk is
/// the host's choice; a trap never is.
fn pushes_beside_unwalkable_history_get_a_verdict(server: &Server, name: &str, ref_name: &str) {
    let blob = server.write_object(&server.bare, "blob", b"not a commit\n");
    let tree = server.server_git(&["rev-parse", "main^{tree}"]);
    let when = "2000000000 +0000";
    let text = format!(
        "tree {tree}\nparent {blob}\nauthor A U Thor <author@example.com> {when}\ncommitter A U Thor <author@example.com> {when}\n\nimported\n"
    );
    let imported = server.write_object(&server.bare, "commit", text.as_bytes());
    server.server_git(&["update-ref", "refs/heads/imported", &imported]);
    let head = server.commit("fix: a push beside the imported history");
    let pushed = server.push(&["origin", &format!("HEAD:{ref_name}")]);
    assert!(!pushed.stderr.contains("trapped"), "{name} trapped:\n{}", pushed.stderr);
    let record = server.audit_records().pop().expect("an audit record");
    assert_eq!(record["ref_updates"][0]["new"], head.as_str(), "no hook ran:\n{}", pushed.stderr);
    let policy = &record["policies"][0];
    match policy["verdict"].as_str() {
        Some("accept") => assert!(pushed.ok, "{}", pushed.stderr),
        Some("reject") => {
            assert!(
                policy["vetoes"][0]["summary"].as_str().is_some_and(|s| s.contains(" cannot be read: ")),
                "{policy}"
            );
            assert!(pushed.stderr.contains("Run `git fsck` in your clone"), "{}", pushed.stderr);
        }
        _ => panic!("{name} did not decide: {policy}"),
    }
    server.server_git(&["update-ref", "-d", "refs/heads/imported"]);
}

#[test]
fn python_conventional_commits() {
    let name = "conventional-commits";
    assert_example_passes_its_cases(name);
    let server = Server::with_example(name);
    server.commit("feat(parser): accept empty input");
    server.push(&["origin", "main"]).assert_ok();
    server.commit("fix: handle a missing newline");
    server.commit("Added the lexer");
    push_is_vetoed(&server, "the subject does not start with `type: ` or `type(scope): `");
    walks_ten_thousand_commits(&server, name, 2);
    let main = "refs/heads/main";
    damaged_commits_are_checked(
        &server,
        name,
        (main, "fix: read commits without an author e-mail"),
        (main, "Read commits without an author e-mail"),
    );
    unwalkable_history_is_vetoed(&server, name);
    pushes_beside_unwalkable_history_get_a_verdict(&server, name, main);
}

#[test]
fn javascript_ref_names() {
    let name = "ref-names";
    assert_example_passes_its_cases(name);
    let server = Server::with_example(name);
    server.commit("add the parser");
    server.push(&["origin", "HEAD:refs/heads/feature/add-parser"]).assert_ok();
    let before = server.server_refs();
    let pushed = server.push(&["origin", "HEAD:refs/heads/Feature/Add_Parser"]).assert_rejected();
    assert!(pushed.stderr.contains(r#"branch name "Feature/Add_Parser" is not allowed"#), "{}", pushed.stderr);
    assert_eq!(server.server_refs(), before);
    // The pusher's own branch is fine, someone else's is not.
    let as_ann = [("USER", "git"), ("GL_USERNAME", "ann")];
    server.push_with_env(&["origin", "HEAD:refs/heads/users/ann/spike"], &as_ann).assert_ok();
    let pushed = server.push_with_env(&["origin", "HEAD:refs/heads/users/bob/spike"], &as_ann).assert_rejected();
    assert!(pushed.stderr.contains("users/bob/spike"), "{}", pushed.stderr);
    // A new release branch has its new commits read: all 10,000.
    server.git(&["checkout", "--quiet", "-b", "release/1.0"]);
    server.fixture("many-commits.sh", &["10000"]);
    let _heavy = heavy();
    let pushed = server.push_with_env(&["origin", "release/1.0"], &[("HOOKRT_LOG", "debug")]).assert_ok();
    assert_eq!(commits_produced(&pushed.stderr, name), 10_000);
    // New release branches, whose new commits ref-names reads. (A dry run
    // updates a ref, which ref-names does not read: no unwalkable_history
    // check here.)
    damaged_commits_are_checked(
        &server,
        name,
        ("refs/heads/release/2.0", "Read commits without an author e-mail"),
        ("refs/heads/release/2.1", "WIP: read commits without an author e-mail"),
    );
    pushes_beside_unwalkable_history_get_a_verdict(&server, name, "refs/heads/release/3.0");
}

#[test]
fn c_line_length() {
    let name = "line-length";
    assert_example_passes_its_cases(name);
    let server = Server::with_example(name);
    server.commit("Fix the build on Windows");
    server.push(&["origin", "main"]).assert_ok();
    server.commit("Add a README that explains how to build, test and install the project on Linux");
    push_is_vetoed(&server, "commit subject (line 1) is 78 characters long, over the limit of 72");
    walks_ten_thousand_commits(&server, name, 1);
    let main = "refs/heads/main";
    damaged_commits_are_checked(
        &server,
        name,
        (main, "Read commits without an author e-mail"),
        (main, "Read commits without an author e-mail, which imported histories are full of"),
    );
    unwalkable_history_is_vetoed(&server, name);
    pushes_beside_unwalkable_history_get_a_verdict(&server, name, main);
}

/// The code on each language's guide is cut from the example policy (or,
/// for C, from the bindings the build generates), so what a reader copies
/// is what the tests above build and push against.
#[test]
fn the_guides_show_the_examples_code() {
    let guides = [
        ("docs/python.md", "example-policies/conventional-commits", &["python", "toml"][..], None),
        ("docs/javascript.md", "example-policies/ref-names", &["js", "json", "toml"][..], None),
        ("docs/c.md", "example-policies/line-length", &["c", "toml"][..], Some("target/c/bindings/policy.h")),
    ];
    for (guide, example, languages, generated) in guides {
        let mut sources = Vec::new();
        let mut dirs = vec![in_repo(example)];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("read example dir").map(|e| e.expect("dir entry").path()) {
                if entry.is_dir() && !entry.ends_with("node_modules") {
                    dirs.push(entry);
                } else if entry.is_file() {
                    sources.push(std::fs::read_to_string(&entry).unwrap_or_default());
                }
            }
        }
        if let Some(file) = generated {
            sources.push(std::fs::read_to_string(in_repo(file)).expect("generated bindings: run `just policies`"));
        }
        let text = std::fs::read_to_string(in_repo(guide)).expect("read guide");
        let mut checked = 0;
        for block in text.split("\n```").skip(1).step_by(2) {
            let (language, code) = block.split_once('\n').expect("a fenced block");
            if languages.contains(&language) {
                assert!(
                    sources.iter().any(|s| s.contains(code)),
                    "{guide}: this {language} block is not in {example}:\n{code}"
                );
                checked += 1;
            }
        }
        assert!(checked >= 3, "{guide}: only {checked} code blocks found");
    }
}

/// A Rust block in docs/policies.md that starts with `// <path>` is cut
/// from that file, verbatim, so the guide cannot drift from the examples
/// the suite pushes against.
#[test]
fn the_policy_guide_quotes_the_examples_verbatim() {
    let text = std::fs::read_to_string(in_repo("docs/policies.md")).expect("read guide");
    let mut checked = 0;
    for block in text.split("\n```").skip(1).step_by(2) {
        let Some(code) = block.strip_prefix("rust\n// ") else { continue };
        let (path, excerpt) = code.split_once('\n').expect("a path line and code");
        let source = std::fs::read_to_string(in_repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            source.contains(excerpt.trim_end_matches('\n')),
            "docs/policies.md quotes {path}, which has no:\n{excerpt}"
        );
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} quoted blocks found");
}
