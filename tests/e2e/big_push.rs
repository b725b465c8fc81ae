//! Large pushes: 10,000 new commits walked in full, and walked no further
//! than the first commit when that one is vetoed.

use crate::support::{Server, commits_produced, example_policy, heavy};

#[test]
fn ten_thousand_commits_pass_no_wip() {
    let _heavy = heavy();
    let server = Server::new();
    server.add_policy("no-wip", example_policy("no-wip"));
    server.fixture("many-commits.sh", &["10000"]);
    let pushed = server.push_with_env(&["origin", "main"], &[("HOOKRT_LOG", "debug")]).assert_ok();
    assert_eq!(commits_produced(&pushed.stderr, "no-wip"), 10_000);
    assert_eq!(server.server_ref("refs/heads/main"), Some(server.git(&["rev-parse", "HEAD"])));
}

#[test]
fn veto_at_the_first_of_ten_thousand_commits_stops_the_walk() {
    let _heavy = heavy();
    let server = Server::new();
    server.add_policy("no-wip", example_policy("no-wip"));
    // The newest commit, the first the walk meets, is the bad one.
    server.fixture("many-commits.sh", &["10000", "WIP: everything at once"]);
    let before = server.server_refs();
    let pushed = server.push_with_env(&["origin", "main"], &[("HOOKRT_LOG", "debug")]).assert_rejected();
    assert!(pushed.stderr.contains("WIP: everything at once"), "{}", pushed.stderr);
    assert_eq!(commits_produced(&pushed.stderr, "no-wip"), 1, "the host walked past the vetoed commit");
    assert_eq!(server.server_refs(), before);
}
