//! What the contract hands a policy besides commits: the hook, push options,
//! the pusher, and messages that are not UTF-8.

use crate::support::{Server, test_guest};

#[test]
fn hook_and_push_options_reach_the_policy() {
    let server = Server::new();
    server.add_policy("list-commits", &test_guest("list-commits"));
    server.server_git(&["config", "receive.advertisePushOptions", "true"]);
    server.commit("one");
    let pushed = server.push(&["-o", "ci.skip", "-o", "reviewer=ann", "origin", "main"]).assert_ok();
    pushed.assert_line("[list-commits] push pre-receive 1 options=ci.skip,reviewer=ann");
}

#[test]
fn the_pusher_comes_from_the_hosting_layer_or_else_the_account() {
    let server = Server::new();
    server.add_policy("list-commits", &test_guest("list-commits"));
    server.commit("one");
    // A file:// push runs the hook as the pushing account, as ssh does.
    server
        .push_with_env(&["origin", "main"], &[("USER", "git-user")])
        .assert_ok()
        .assert_line("[list-commits] pusher git-user - os");
    server.commit("two");
    let gitea = [("USER", "git"), ("GITEA_PUSHER_NAME", "dee"), ("GITEA_PUSHER_EMAIL", "dee@example.com")];
    server
        .push_with_env(&["origin", "main"], &gitea)
        .assert_ok()
        .assert_line("[list-commits] pusher dee dee@example.com gitea");
}

#[test]
fn a_message_that_is_not_utf8_arrives_with_its_bytes() {
    let server = Server::new();
    server.add_policy("list-commits", &test_guest("list-commits"));
    // "café" in Latin-1: the 0xE9 byte is not valid UTF-8.
    let message = server.root().join("message");
    std::fs::write(&message, b"caf\xe9\n").expect("write message");
    server.git(&[
        "-c",
        "i18n.commitEncoding=ISO-8859-1",
        "commit",
        "--quiet",
        "--allow-empty",
        "-F",
        message.to_str().expect("utf-8"),
    ]);
    let id = server.git(&["rev-parse", "HEAD"]);
    let pushed = server.push(&["origin", "main"]).assert_ok();
    // The raw message is exactly what git stored: "caf\xe9\n".
    pushed.assert_line(&format!("[list-commits] raw {id} 5"));
}
