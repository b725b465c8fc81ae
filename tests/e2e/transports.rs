//! Pushes over the transports git servers use, each through a real server
//! on loopback that the test starts and stops: OpenSSH's sshd, git
//! http-backend behind lighttpd, and gitolite behind sshd. Each follows its
//! recipe in docs/hosting.md, with the files that page shows.

use crate::support::hosting_doc;
use crate::support::servers::{Lighttpd, Sshd, drop_in, keygen, login_name};
use crate::support::{Server, example_policy, guests, run_fixture_with_env, short};

/// docs/hosting/authorized_keys with `keys` in place of its example keys,
/// in order, plus one line with no name for `plain`: the account's own
/// login.
fn authorized_keys(keys: &[String], plain: &str) -> String {
    let doc = hosting_doc("authorized_keys");
    let mut lines: Vec<String> = doc
        .lines()
        .zip(keys)
        .map(|(line, key)| {
            let (options, _example_key) = line.split_once(" ssh-ed25519 ").expect("options, then the key");
            format!("{options} {key}")
        })
        .collect();
    assert_eq!(lines.len(), keys.len(), "docs/hosting/authorized_keys has a line per test key");
    lines.push(format!("restrict,command=\"git-shell -c \\\"$SSH_ORIGINAL_COMMAND\\\"\" {plain}"));
    lines.join("\n") + "\n"
}

#[test]
fn over_ssh_each_keys_holder_is_the_pusher_and_a_veto_reaches_them() {
    let server = Server::with_probe();
    server.add_policy("no-wip", example_policy("no-wip"));
    let dir = server.root().join("ssh");
    std::fs::create_dir_all(&dir).expect("create the ssh dir");
    let [alice, bob, login] = ["alice", "bob", "login"].map(|name| dir.join(name));
    let keys = [keygen(&alice), keygen(&bob)];
    let authorized = dir.join("authorized_keys");
    std::fs::write(&authorized, authorized_keys(&keys, &keygen(&login))).expect("write authorized_keys");
    let sshd = Sshd::start(&dir.join("sshd"), &authorized, server.env(), &hosting_doc("sshd_config"));
    server.git(&["remote", "add", "ssh", &sshd.url(server.bare.to_str().expect("utf-8"))]);
    let before = server.server_ref("refs/heads/main");

    // Alice pushes a work-in-progress commit: vetoed, over ssh as on disk.
    let wip = server.commit("WIP: half a parser");
    let pushed = server.push_with_env(&["ssh", "main"], &[("GIT_SSH_COMMAND", &sshd.ssh_command(&alice))]);
    let pushed = pushed.assert_rejected();
    pushed.assert_line("[probe] pusher alice email=- id=- source=server");
    pushed.assert_line(
        "[probe] context default-branch=refs/heads/main format=sha1 project=- protocol=ssh address=127.0.0.1",
    );
    pushed.assert_line("hookrt: policy no-wip vetoed refs/heads/main");
    pushed.assert_line(&format!("  commit {}  WIP: half a parser", short(&wip)));
    assert_eq!(server.server_ref("refs/heads/main"), before, "a vetoed push moves nothing");

    // Bob pushes the finished work; a key with no name is the login.
    server.git(&["reset", "--quiet", "--hard", "HEAD~1"]);
    let done = server.commit("a whole parser");
    let pushed = server.push_with_env(&["ssh", "main"], &[("GIT_SSH_COMMAND", &sshd.ssh_command(&bob))]).assert_ok();
    pushed.assert_line("[probe] pusher bob email=- id=- source=server");
    assert_eq!(server.server_ref("refs/heads/main"), Some(done), "{}", sshd.log());
    server.commit("more");
    let pushed = server.push_with_env(&["ssh", "main"], &[("GIT_SSH_COMMAND", &sshd.ssh_command(&login))]).assert_ok();
    pushed.assert_line(&format!("[probe] pusher {} email=- id=- source=os", login_name()));
}

#[test]
fn over_smart_http_the_logged_in_user_is_the_pusher_and_push_options_arrive() {
    let server = Server::with_probe();
    let dir = server.root().join("http");
    std::fs::create_dir_all(&dir).expect("create the http dir");
    let users = dir.join("git.users");
    std::fs::write(&users, "carol:s3cret\n").expect("write the users file");
    let var = |name: &str| server.env().iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).expect(name);
    let config = hosting_doc("lighttpd.conf")
        .replace("/srv/git", server.root().to_str().expect("utf-8"))
        .replace("/var/cache/hookrt", &var("HOOKRT_CACHE_DIR"))
        .replace("/etc/hookrt", &var("HOOKRT_GLOBAL_DIR"))
        .replace("/etc/lighttpd/git.users", users.to_str().expect("utf-8"));
    let web = Lighttpd::start(&dir, &config);
    let url = |login: &str| format!("http://{login}@127.0.0.1:{}/git/server.git", web.port);

    let tip = server.commit("over http");
    let pushed = server.push(&["-o", "ci.skip", "-o", "reviewer=dan", &url("carol:s3cret"), "main"]).assert_ok();
    pushed.assert_line("[probe] pusher carol email=- id=- source=http");
    pushed.assert_line(
        "[probe] context default-branch=refs/heads/main format=sha1 project=- protocol=http address=127.0.0.1",
    );
    pushed.assert_line("[probe] push-options ci.skip reviewer=dan");
    assert_eq!(server.server_ref("refs/heads/main"), Some(tip));

    // A wrong password stops at the web server: neither git nor hookrt runs.
    let audited = server.audit_records().len();
    server.commit("not logged in");
    let refused = server.push_with_env(&[&url("carol:wrong"), "main"], &[("GIT_TERMINAL_PROMPT", "0")]);
    let refused = refused.assert_rejected();
    assert!(refused.stderr.contains("Authentication failed"), "{}", refused.stderr);
    assert_eq!(server.audit_records().len(), audited, "hookrt ran for a push the web server refused");
}

#[test]
fn under_gitolite_its_user_is_the_pusher_and_its_own_update_hook_still_decides() {
    // The clone to push from; the repository is gitolite's.
    let server = Server::new();
    server.add_global_policy("probe", guests::PROBE);
    let dir = server.root().join("gitolite");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).expect("create gitolite's home");
    for user in ["admin", "alice", "bob"] {
        keygen(&dir.join(user));
    }
    let hooks = dir.join("hooks");
    for hook in ["pre-receive", "post-receive"] {
        drop_in(hook, &hooks.join(hook));
    }
    let home_str = home.to_str().expect("utf-8");
    let env = [("HOME", home_str), ("GIT_CONFIG_NOSYSTEM", "1")];
    run_fixture_with_env("gitolite.sh", &[dir.to_str().expect("utf-8"), hooks.to_str().expect("utf-8")], &env);

    // gitolite's own sshd setup: its authorized_keys, its account's HOME.
    let session: Vec<_> =
        server.env().iter().filter(|(k, _)| k != "HOME").cloned().chain([("HOME".into(), home_str.into())]).collect();
    let sshd = Sshd::start(&dir.join("sshd"), &home.join(".ssh/authorized_keys"), &session, "");
    server.git(&["remote", "add", "gitolite", &sshd.url("/app")]);
    let as_user = |user: &str| sshd.ssh_command(&dir.join(user));
    let gitolite_ref = |name: &str| {
        let out = server
            .command("git", &home.join("repositories/app.git"))
            .args(["rev-parse", "--verify", "--quiet", name])
            .output()
            .expect("git rev-parse");
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };

    let tip = server.commit("for gitolite");
    let pushed =
        server.push_with_env(&["gitolite", "main"], &[("GIT_SSH_COMMAND", as_user("alice").as_str())]).assert_ok();
    pushed.assert_line("[probe] pusher alice email=- id=- source=gitolite");
    let context = pushed.remote_lines().into_iter().find(|l| l.starts_with("[probe] context "));
    assert!(context.is_some_and(|l| l.ends_with(" project=app protocol=ssh address=127.0.0.1")), "{}", pushed.stderr);
    assert_eq!(gitolite_ref("refs/heads/main"), Some(tip.clone()));

    // Bob may push main only: hookrt's pre-receive accepts, then gitolite's
    // update hook denies, as it did before hookrt.
    let pushed = server
        .push_with_env(&["gitolite", "main:refs/heads/topic"], &[("GIT_SSH_COMMAND", as_user("bob").as_str())])
        .assert_rejected();
    pushed.assert_line("[probe] pusher bob email=- id=- source=gitolite");
    assert!(pushed.stderr.contains("W refs/heads/topic app bob DENIED by fallthru"), "{}", pushed.stderr);
    assert_eq!(gitolite_ref("refs/heads/topic"), None);
    let next = server.commit("bob's turn");
    server.push_with_env(&["gitolite", "main"], &[("GIT_SSH_COMMAND", as_user("bob").as_str())]).assert_ok();
    assert_eq!(gitolite_ref("refs/heads/main"), Some(next), "{}", sshd.log());
}
