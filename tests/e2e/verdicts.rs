//! Accepting and vetoing pushes, in pre-receive and in update.

use crate::support::{Server, example_policy};

#[test]
fn accepted_push_lands() {
    let server = Server::new();
    server.add_policy("no-wip", example_policy("no-wip"));
    let id = server.commit("add the parser");
    server.push(&["origin", "main"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(id.as_str()));
}

#[test]
fn vetoed_push_changes_no_ref_and_names_policy_ref_and_commit() {
    let server = Server::new();
    server.add_policy("no-wip", example_policy("no-wip"));
    let before = server.server_refs();
    server.commit("add the parser");
    let wip = server.commit("WIP: half a lexer");
    server.commit("more lexer");
    server.git(&["checkout", "--quiet", "-b", "topic"]);
    server.commit("topic work");

    let pushed = server.push(&["origin", "main", "topic"]).assert_rejected();
    assert_eq!(server.server_refs(), before, "no ref may move on a rejected push");
    pushed.assert_line("hookrt: policy no-wip vetoed refs/heads/main");
    pushed.assert_line(&format!("  commit {}  WIP: half a lexer", &wip[..12]));
    pushed.assert_line("  work-in-progress commits can't be pushed");
    // The WIP commit is on topic too: the same push vetoes both refs.
    pushed.assert_line("hookrt: policy no-wip vetoed refs/heads/topic");
    pushed.assert_line("hookrt: push rejected: 2 vetoes");
}

#[test]
fn jira_keys_vetoes_each_commit_without_a_key() {
    let server = Server::new();
    server.add_policy("jira-keys", example_policy("jira-keys"));
    server.write_config("[policy.jira-keys.settings]\nprojects = [\"HOOK\", \"OPS\"]\n");
    server.commit("HOOK-1 add the parser");
    let bad = server.commit("fix typo");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    pushed.assert_line(&format!("  commit {}  fix typo", &bad[..12]));
    assert!(pushed.stderr.contains("no Jira issue key"), "{}", pushed.stderr);

    server.git(&["commit", "--quiet", "--amend", "--allow-empty", "-m", "HOOK-2 fix typo"]);
    server.push(&["origin", "main"]).assert_ok();
}

#[test]
fn protect_branches_blocks_force_push_and_deletion_of_main_only() {
    let server = Server::new();
    server.add_policy("protect-branches", example_policy("protect-branches"));
    server.commit("second");
    server.push(&["origin", "main", "main:refs/heads/scratch"]).assert_ok();
    let main = server.server_ref("refs/heads/main");

    server.git(&["reset", "--quiet", "--hard", "HEAD~1"]);
    server.commit("rewritten second");
    let pushed = server.push(&["--force", "origin", "main"]).assert_rejected();
    assert!(pushed.stderr.contains("main is protected: force pushes are not allowed"), "{}", pushed.stderr);
    assert_eq!(server.server_ref("refs/heads/main"), main);

    let pushed = server.push(&["origin", ":main"]).assert_rejected();
    assert!(pushed.stderr.contains("main is protected and can't be deleted"), "{}", pushed.stderr);
    assert_eq!(server.server_ref("refs/heads/main"), main);

    // Unprotected branches may be rewritten and deleted.
    server.push(&["--force", "origin", "main:refs/heads/scratch"]).assert_ok();
    server.push(&["origin", ":scratch"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/scratch"), None);
}

#[test]
fn update_hook_rejects_one_ref_while_the_others_land() {
    let server = Server::new();
    server.add_policy("no-wip", example_policy("no-wip"));
    server.write_config("[policy.no-wip]\nhook = \"update\"\n");
    let base = server.git(&["rev-parse", "HEAD"]);
    let good = server.commit("finished work");
    server.git(&["checkout", "--quiet", "-b", "topic", &base]);
    server.commit("WIP: not yet");

    let pushed = server.push(&["origin", "main", "topic"]);
    assert!(!pushed.ok, "git reports a partly rejected push as a failure:\n{}", pushed.stderr);
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(good.as_str()), "main must land");
    assert_eq!(server.server_ref("refs/heads/topic"), None, "topic must be rejected");
    pushed.assert_line("hookrt: policy no-wip vetoed refs/heads/topic");
    pushed.assert_line("hookrt: ref update rejected: 1 veto");
}

#[test]
fn post_receive_vetoes_are_warnings_and_the_push_stands() {
    let server = Server::new();
    server.add_policy("no-wip", example_policy("no-wip"));
    server.write_config("[policy.no-wip]\nhook = \"post-receive\"\n");
    let id = server.commit("WIP: allowed after the fact");
    let pushed = server.push(&["origin", "main"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(id.as_str()));
    pushed.assert_line("hookrt: warning: policy no-wip vetoed refs/heads/main");
    pushed.assert_line("hookrt: warning: the push stands (post-receive cannot reject): 1 veto");
}
