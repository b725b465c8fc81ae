//! The GitLab and Gitea recipes of docs/hosting.md. Neither host can be
//! installed here, so each test builds the host's layout around a bare
//! repository (its hook runner, from tests/fixtures/hosts, and the
//! directories it reads), drops hookrt in where the recipe says, and pushes
//! with the environment the host gives its hooks.

use std::path::Path;

use crate::support::servers::{drop_in, install_script};
use crate::support::{Pushed, Server, example_policy, guests, repo_root, short};

/// Makes `server` run its hooks the host's way: `runner` (a script in
/// tests/fixtures/hosts) as pre-receive, update and post-receive in `dir`.
fn host_hooks(runner: &str, dir: &Path) {
    let script = std::fs::read_to_string(repo_root().join("tests/fixtures/hosts").join(runner)).expect("read runner");
    for hook in ["pre-receive", "update", "post-receive"] {
        install_script(&dir.join(hook), &script);
    }
}

/// Puts the probe and no-wip into `dir` (a policy directory).
fn probe_and_no_wip(dir: &Path) {
    std::fs::create_dir_all(dir).expect("create the policy dir");
    std::fs::copy(guests::PROBE, dir.join("probe.wasm")).expect("copy the probe");
    std::fs::copy(example_policy("no-wip"), dir.join("no-wip.wasm")).expect("copy no-wip");
}

/// What GitLab's web interface shows of a rejection: the lines that start
/// with `GitLab:` or `GL-HOOK-ERR:`, prefix and blanks after it removed
/// (`Gitlab::Git::PreReceiveError`, SAFE_MESSAGE_REGEX).
fn gitlab_web_message(pushed: &Pushed) -> Vec<String> {
    fn safe(line: &str) -> Option<&str> {
        ["GitLab:", "GL-HOOK-ERR:"].iter().find_map(|p| line.strip_prefix(p)).map(str::trim_start)
    }
    pushed.remote_lines().into_iter().filter_map(safe).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// A repository whose hooks Gitaly runs (the stand-in, through
/// `core.hooksPath` as Gitaly sets it).
fn gitlab_server() -> Server {
    let server = Server::without_hookrt();
    let gitaly = server.root().join("gitaly-hooks");
    host_hooks("gitaly-hooks", &gitaly);
    server.server_git(&["config", "core.hooksPath", gitaly.to_str().expect("utf-8")]);
    server
}

fn gitlab_env(protocol: &'static str) -> [(&'static str, &'static str); 5] {
    [
        ("GL_ID", "user-7"),
        ("GL_USERNAME", "ann"),
        ("GL_PROJECT_PATH", "group/app"),
        ("GL_PROTOCOL", protocol),
        ("GL_REPOSITORY", "project-12"),
    ]
}

#[test]
fn gitlab_runs_hookrt_from_a_repositorys_custom_hooks_and_its_web_ui_shows_the_veto() {
    let server = gitlab_server();
    drop_in("pre-receive", &server.bare.join("custom_hooks/pre-receive.d/hookrt"));
    probe_and_no_wip(&server.bare.join("hookrt/policies"));
    let before = server.server_ref("refs/heads/main");

    // A `git push` over ssh: GitLab shows the hook's lines as they are.
    let wip = server.commit("WIP: half a parser");
    let pushed = server.push_with_env(&["origin", "main"], &gitlab_env("ssh")).assert_rejected();
    pushed.assert_line("[probe] pusher ann email=- id=user-7 source=gitlab");
    pushed.assert_line(
        "[probe] context default-branch=refs/heads/main format=sha1 project=group/app protocol=ssh address=-",
    );
    pushed.assert_line("hookrt: policy no-wip vetoed refs/heads/main");
    assert!(!pushed.stderr.contains("GL-HOOK-ERR"), "{}", pushed.stderr);

    // The same change merged in the web interface: every line is marked
    // safe to show, so the web UI shows all of the veto.
    let pushed = server.push_with_env(&["origin", "main"], &gitlab_env("web")).assert_rejected();
    assert!(pushed.remote_lines().iter().all(|l| l.starts_with("GL-HOOK-ERR: ")), "{}", pushed.stderr);
    let shown = gitlab_web_message(&pushed);
    let veto = shown.iter().position(|l| l == "hookrt: policy no-wip vetoed refs/heads/main");
    let veto = veto.unwrap_or_else(|| panic!("no veto in what the web UI shows: {shown:#?}"));
    assert_eq!(shown[veto + 1], format!("commit {}  WIP: half a parser", short(&wip)), "{shown:#?}");
    assert!(shown.iter().any(|l| l.starts_with("hookrt: push rejected")), "{shown:#?}");
    assert_eq!(server.server_ref("refs/heads/main"), before, "a vetoed push moves nothing");
}

#[test]
fn gitlabs_global_custom_hooks_dir_runs_hookrt_for_every_repository() {
    let server = gitlab_server();
    let global_hooks = server.root().join("custom_hooks");
    for hook in ["pre-receive", "post-receive"] {
        drop_in(hook, &global_hooks.join(format!("{hook}.d/hookrt")));
    }
    // Server-wide policies, for every repository.
    server.add_global_policy("probe", guests::PROBE);
    server.add_global_policy("no-wip", example_policy("no-wip"));
    let mut env = gitlab_env("http").to_vec();
    env.push(("GITALY_CUSTOM_HOOKS_DIR", global_hooks.to_str().expect("utf-8")));

    let tip = server.commit("a whole parser");
    let pushed = server.push_with_env(&["origin", "main"], &env).assert_ok();
    pushed.assert_line("[probe] pusher ann email=- id=user-7 source=gitlab");
    assert_eq!(server.server_ref("refs/heads/main"), Some(tip));
    server.commit("WIP: the next one");
    server
        .push_with_env(&["origin", "main"], &env)
        .assert_rejected()
        .assert_line("hookrt: policy no-wip vetoed refs/heads/main");
}

#[test]
fn gitea_runs_hookrt_from_pre_receive_d_beside_its_own_hook() {
    let server = Server::without_hookrt();
    let hooks = server.bare.join("hooks");
    host_hooks("gitea-hook", &hooks);
    // Gitea's own hook (its protected-branch checks), which must still run.
    install_script(&hooks.join("pre-receive.d/gitea"), "#!/bin/sh\ncat >/dev/null\necho 'gitea: checks passed' >&2\n");
    drop_in("pre-receive", &hooks.join("pre-receive.d/hookrt"));
    probe_and_no_wip(&server.bare.join("hookrt/policies"));
    let env = [
        ("GITEA_PUSHER_NAME", "dee"),
        ("GITEA_PUSHER_EMAIL", "dee@example.com"),
        ("GITEA_PUSHER_ID", "3"),
        ("GITEA_REPO_USER_NAME", "team"),
        ("GITEA_REPO_NAME", "site"),
        ("GITEA_REPO_ID", "12"),
        ("GITEA_REPO_IS_WIKI", "false"),
        ("GITEA_KEY_ID", "5"),
        // Gitea's `serv`, which sshd runs, passes sshd's environment on.
        ("SSH_ORIGINAL_COMMAND", "git-receive-pack 'team/site.git'"),
        ("SSH_CONNECTION", "198.51.100.7 52014 10.0.0.2 22"),
    ];

    let tip = server.commit("a whole parser");
    let pushed = server.push_with_env(&["origin", "main"], &env).assert_ok();
    pushed.assert_line("gitea: checks passed");
    pushed.assert_line("[probe] pusher dee email=dee@example.com id=3 source=gitea");
    pushed.assert_line(
        "[probe] context default-branch=refs/heads/main format=sha1 project=team/site protocol=ssh address=198.51.100.7",
    );
    pushed.assert_line("[probe] var GITEA_KEY_ID=5");
    assert_eq!(server.server_ref("refs/heads/main"), Some(tip.clone()));

    let wip = server.commit("WIP: the next one");
    let pushed = server.push_with_env(&["origin", "main"], &env).assert_rejected();
    pushed.assert_line("gitea: checks passed");
    pushed.assert_line("hookrt: policy no-wip vetoed refs/heads/main");
    pushed.assert_line(&format!("  commit {}  WIP: the next one", short(&wip)));
    assert_eq!(server.server_ref("refs/heads/main"), Some(tip));
}

/// docs/hosting.md shows parts of the files the tests use; what it shows
/// must be what they hold.
#[test]
fn the_hosting_page_quotes_the_files_the_tests_use() {
    let page = std::fs::read_to_string(repo_root().join("docs/hosting.md")).expect("read docs/hosting.md");
    let doc = crate::support::hosting_doc;
    let quoted =
        |text: &str, file: &str| assert!(page.contains(text), "docs/hosting.md does not quote {file}:\n{text}");
    quoted(&doc("authorized_keys"), "hosting/authorized_keys");
    let sshd = doc("sshd_config");
    quoted(sshd.lines().find(|l| !l.starts_with('#')).expect("a setting"), "hosting/sshd_config");
    let lighttpd = doc("lighttpd.conf");
    let start = lighttpd.find("$HTTP[\"url\"] =~ \"^/git\" {").expect("the CGI block");
    let end = start + lighttpd[start..].find("\n}\n").expect("its end") + 2;
    quoted(&lighttpd[start..end], "hosting/lighttpd.conf");
    let hook = doc("hooks/pre-receive");
    quoted(hook.lines().last().expect("a command"), "hosting/hooks/pre-receive");
    for hook in ["pre-receive", "update", "post-receive"] {
        assert!(doc(&format!("hooks/{hook}")).ends_with(&format!("exec /usr/local/bin/hookrt run {hook} \"$@\"\n")));
    }
}
