//! A damaged repository: an object a walk needs is gone. The policy that
//! reads it cannot decide, the message names the object, and the push is
//! rejected.

use super::{Z40, pre_receive, run_hook};
use crate::support::Server;

/// Deletes the loose object `id` from the server (a push of a few objects
/// is stored loose).
fn lose(server: &Server, id: &str) {
    let path = server.bare.join("objects").join(&id[..2]).join(&id[2..]);
    std::fs::remove_file(&path).unwrap_or_else(|e| panic!("cannot delete {}: {e}", path.display()));
}

/// Pushes three commits to `topic` and takes the ref away again, so that
/// the commits are in the server's store but new to the repository.
fn pushed_then_unreferenced(server: &Server, messages: [&str; 3]) -> [String; 3] {
    let ids = messages.map(|m| server.commit(m));
    server.push(&["origin", "main:refs/heads/topic"]).assert_ok();
    server.server_git(&["update-ref", "-d", "refs/heads/topic"]);
    ids
}

#[test]
fn a_missing_commit_in_the_walk_fails_closed_naming_it() {
    let server = Server::with_example("no-wip");
    let [_, lost, tip] = pushed_then_unreferenced(&server, ["feat: one", "feat: two", "feat: three"]);
    lose(&server, &lost);

    let (code, stderr) = pre_receive(&server, format!("{Z40} {tip} refs/heads/topic\n"));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&format!("object {lost} is missing from the repository")), "{stderr}");
    // The SDK's iterator turns the walk's error into a veto, not a trap.
    assert!(stderr.contains("hookrt: policy no-wip vetoed refs/heads/topic"), "{stderr}");
    assert!(stderr.contains("the commits of refs/heads/topic could not be read"), "{stderr}");
    assert!(stderr.contains("hookrt: push rejected: 1 veto"), "{stderr}");

    // After the fact, the same policy's failure is a warning.
    server.write_config("[policy.no-wip-after]\nmodule = \"no-wip.wasm\"\nhook = \"post-receive\"\n");
    let (code, stderr) = run_hook(&server, "post-receive", &[], format!("{Z40} {tip} refs/heads/topic\n"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(&format!("object {lost} is missing from the repository")), "{stderr}");
    assert!(stderr.contains("warning"), "{stderr}");
}

#[test]
fn a_missing_tip_fails_closed_before_any_policy_runs() {
    let server = Server::with_example("no-wip");
    let [_, _, tip] = pushed_then_unreferenced(&server, ["feat: one", "feat: two", "feat: three"]);
    lose(&server, &tip);

    let run = pre_receive(&server, format!("{Z40} {tip} refs/heads/topic\n"));
    super::assert_fails_closed(&run, &format!("object {tip} is missing from the repository"));
}

#[test]
fn a_missing_tree_fails_closed_naming_it() {
    let server = Server::with_example("blocked-extensions");
    server.write_file("notes.txt", "plain text\n");
    let [_, _, tip] = pushed_then_unreferenced(&server, ["feat: one", "feat: two", "feat: add notes"]);
    let tree = server.git(&["rev-parse", &format!("{tip}^{{tree}}")]);
    lose(&server, &tree);

    let (code, stderr) = pre_receive(&server, format!("{Z40} {tip} refs/heads/topic\n"));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&tree), "the message names the lost tree {tree}:\n{stderr}");
    assert!(stderr.contains("hookrt: policy blocked-extensions"), "{stderr}");
}
