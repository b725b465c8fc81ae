//! The server's policies on a developer's clone (`hookrt client install`):
//! pre-push refuses what the server would, in the server's words;
//! commit-msg refuses a message the server would; what the server changes
//! reaches the clone with `hookrt client sync`; a policy that cannot run on
//! the clone never stops anything. The commands are docs/client.md's.

use std::process::Output;

use crate::support::{HOOKRT, Server, assert_no_panic, documented, documented_config, example_policy, guests, stderr};

/// `hookrt <args>` in the clone, as a developer runs it there.
fn in_clone(server: &Server, args: &[&str]) -> Output {
    let out = server.command(HOOKRT, &server.work).args(args).output().expect("run hookrt");
    assert_no_panic(&stderr(&out));
    out
}

/// `hookrt publish` on the server, as docs/client.md shows it.
fn publish(server: &Server) {
    documented("docs/client.md", "hookrt publish --git-dir /srv/git/project.git");
    let out = server.hookrt(&["publish", "--git-dir", server.bare.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

/// A server with `config` (and no-wip) published, and the clone with
/// `hookrt client install`.
fn with_client(config: &str) -> Server {
    let server = Server::with_example("no-wip");
    server.write_config(config);
    publish(&server);
    documented("docs/client.md", "hookrt client install");
    let out = in_clone(&server, &["client", "install"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    server
}

/// `git commit` in the clone, whatever its outcome.
fn commit(server: &Server, message: &str) -> Output {
    server.command("git", &server.work).args(["commit", "--allow-empty", "-m", message]).output().expect("git commit")
}

/// The lines hookrt wrote, as the pusher reads them.
fn hookrt_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(|l| l.strip_prefix("remote: ").unwrap_or(l).trim_end())
        .filter(|l| l.starts_with("hookrt:") || l.starts_with("  "))
        .collect()
}

#[test]
fn pre_push_refuses_what_the_server_would_in_the_servers_words() {
    let server = with_client("[policy.no-wip]\nhook = \"pre-receive\"\n");
    let main = server.server_ref("refs/heads/main");
    server.commit("Add the parser");
    server.commit("WIP: the parser's tests");
    server.commit("Tidy up");

    let pushed = server.push(&["origin", "main"]);
    assert!(!pushed.ok, "the clone let the push go: {}", pushed.stderr);
    assert_eq!(server.server_ref("refs/heads/main"), main, "nothing reached the server");
    assert!(pushed.stderr.contains("failed to push some refs"), "{}", pushed.stderr);

    // What the server says of the same push, word for word.
    let forced = server.push(&["--no-verify", "origin", "main"]);
    assert!(!forced.ok);
    let client = hookrt_lines(&pushed.stderr);
    let remote: Vec<&str> =
        forced.remote_lines().into_iter().filter(|l| l.starts_with("hookrt:") || l.starts_with("  ")).collect();
    assert!(client.contains(&"hookrt: policy no-wip vetoed refs/heads/main"), "{client:?}");
    assert_eq!(client, remote, "the clone and the server say the same");

    // Once the commit is reworded, the push goes through both.
    server.git(&["reset", "--quiet", "--hard", "HEAD~2"]);
    server.commit("Test the parser");
    let pushed = server.push(&["origin", "main"]);
    assert!(pushed.ok, "{}", pushed.stderr);
}

const MESSAGE_POLICY: &str = r#"[policy.no-wip]
commit_msg = true
"#;

#[test]
fn commit_msg_refuses_a_message_the_server_would_and_keeps_nothing_of_it() {
    let server = with_client(&documented_config("docs/client.md", MESSAGE_POLICY));
    let head = server.git(&["rev-parse", "HEAD"]);
    let objects = || server.git(&["count-objects"]);
    let before = objects();

    let out = commit(&server, "WIP: half a parser");
    assert!(!out.status.success(), "the commit was made");
    let said = stderr(&out);
    assert!(said.contains("hookrt: policy no-wip vetoed refs/heads/main"), "{said}");
    assert!(said.contains("WIP: half a parser"), "the veto names the commit being made: {said}");
    assert!(said.contains("hookrt: commit rejected: 1 veto"), "{said}");
    assert_eq!(server.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(objects(), before, "the commit hookrt checked was not kept");
    let scratch = std::fs::read_dir(server.work.join(".git/objects")).expect("objects").flatten();
    assert!(!scratch.into_iter().any(|e| e.file_name().to_string_lossy().starts_with("hookrt-")), "scratch left");

    assert!(commit(&server, "Add the parser").status.success());
}

#[test]
fn what_the_server_changes_reaches_the_clone_after_a_sync() {
    let server = with_client(MESSAGE_POLICY);
    assert!(commit(&server, "DRAFT: parser").status.success(), "DRAFT is fine by the default settings");

    server.write_config(&format!("{MESSAGE_POLICY}\n[policy.no-wip.settings]\nprefixes = [\"DRAFT\"]\n"));
    publish(&server);
    // Until the clone syncs, it runs what it has.
    assert!(commit(&server, "DRAFT: more parser").status.success());
    documented("docs/client.md", "hookrt client sync");
    let out = in_clone(&server, &["client", "sync"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let out = commit(&server, "DRAFT: even more parser");
    assert!(!out.status.success(), "the new settings did not reach the clone");
    assert!(commit(&server, "WIP: now allowed").status.success());
}

#[test]
fn a_policy_that_cannot_run_on_the_clone_warns_and_the_server_decides() {
    let server = Server::new();
    server.add_policy("panicker", guests::PANICKER);
    publish(&server);
    let out = in_clone(&server, &["client", "install"]);
    assert!(out.status.success());
    server.commit("Add the parser");

    let pushed = server.push(&["origin", "main"]);
    let client: Vec<&str> = pushed.stderr.lines().filter(|l| !l.starts_with("remote: ")).collect();
    assert!(client.iter().any(|l| l.starts_with("hookrt: warning: policy panicker")), "{client:?}");
    assert!(client.iter().any(|l| l.contains("It goes on")), "{client:?}");
    // The push reached the server, which fails closed.
    assert!(!pushed.ok);
    assert!(pushed.stderr.contains("pre-receive hook declined"), "{}", pushed.stderr);

    // A clone without a synced policy set says so, and pushes.
    std::fs::remove_dir_all(server.work.join(".git/hookrt/client")).expect("remove the synced set");
    server.hookrt(&["install", "--uninstall", server.bare.to_str().expect("utf-8")]);
    let pushed = server.push(&["origin", "main"]);
    assert!(pushed.ok, "{}", pushed.stderr);
    assert!(pushed.stderr.contains("run `hookrt client sync`"), "{}", pushed.stderr);
}

#[test]
fn the_clones_own_hooks_keep_running_and_webhooks_stay_on_the_server() {
    let server = Server::with_example("no-wip");
    server.write_config("[webhook.deploy]\nurl = \"http://127.0.0.1:9/hook\"\n");
    publish(&server);
    let marker = server.root().join("ran");
    for hook in ["pre-commit", "pre-push"] {
        let script = format!("#!/bin/sh\necho {hook} >> '{}'\n", marker.display());
        crate::support::servers::install_script(&server.work.join(".git/hooks").join(hook), &script);
    }
    let out = in_clone(&server, &["client", "install"]);
    assert!(out.status.success());

    assert!(commit(&server, "Add the parser").status.success());
    server.push(&["origin", "main"]).assert_ok();
    assert_eq!(std::fs::read_to_string(&marker).expect("the old hooks ran"), "pre-commit\npre-push\n");

    let published = server.git(&["show", "refs/hookrt/policies:repository/hookrt.toml"]);
    assert!(!published.contains("webhook") && !published.contains("127.0.0.1"), "{published}");
    let files = server.git(&["ls-tree", "-r", "--name-only", "refs/hookrt/policies"]);
    assert_eq!(files, "repository/hookrt.toml\nrepository/no-wip.wasm");
    assert_eq!(
        std::fs::read(server.work.join(".git/hookrt/client/repository/no-wip.wasm")).expect("synced module"),
        std::fs::read(example_policy("no-wip")).expect("module"),
    );
}
