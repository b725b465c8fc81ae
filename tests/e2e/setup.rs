//! `hookrt install` / `--uninstall`, hooks chained after hookrt, and the
//! compiled-code cache.

use std::os::unix::fs::PermissionsExt;

use crate::support::{Server, example_policy};

fn write_hook(path: &std::path::Path, body: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("hooks dir");
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write hook");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn install_is_idempotent_and_uninstall_restores_the_previous_hooks() {
    let server = Server::new();
    let bare = server.bare.to_str().expect("utf-8");
    let custom = server.root().join("custom-hooks");
    // Server::new installed once; start over from a repository with its own
    // hooksPath to see that it is kept and restored.
    assert!(server.hookrt(&["install", "--uninstall", bare]).status.success());
    server.server_git(&["config", "core.hooksPath", custom.to_str().expect("utf-8")]);
    let config_before = std::fs::read_to_string(server.bare.join("config")).expect("config");

    assert!(server.hookrt(&["install", bare]).status.success());
    let once = std::fs::read_to_string(server.bare.join("config")).expect("config");
    assert!(server.hookrt(&["install", bare]).status.success());
    assert_eq!(std::fs::read_to_string(server.bare.join("config")).expect("config"), once, "install twice = once");
    assert!(server.server_git(&["config", "core.hooksPath"]).ends_with("hookrt/hooks"));

    let out = server.hookrt(&["install", "--uninstall", bare]);
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(server.bare.join("config")).expect("config"), config_before);
    assert!(!server.bare.join("hookrt/hooks").exists());
    let again = server.hookrt(&["install", "--uninstall", bare]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("not installed"));
}

#[test]
fn previous_hooks_still_run_after_the_policies() {
    let server = Server::new();
    server.add_policy("no-wip", example_policy("no-wip"));
    let marker = server.root().join("chained-ran");
    write_hook(
        &server.bare.join("hooks/pre-receive"),
        &format!("cat > '{}'\necho 'legacy hook: checked'", marker.display()),
    );
    let id = server.commit("fine");
    let pushed = server.push(&["origin", "main"]).assert_ok();
    assert!(pushed.stderr.contains("legacy hook: checked"), "{}", pushed.stderr);
    let stdin = std::fs::read_to_string(&marker).expect("the chained hook ran");
    assert!(stdin.contains(&format!("{id} refs/heads/main")), "chained hook got git's stdin: {stdin:?}");

    // A chained hook that rejects still rejects.
    write_hook(&server.bare.join("hooks/pre-receive"), "echo 'legacy hook: no'; exit 1");
    let before = server.server_refs();
    server.commit("also fine by hookrt");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert!(pushed.stderr.contains("legacy hook: no"), "{}", pushed.stderr);
    assert_eq!(server.server_refs(), before);
}

#[test]
fn only_the_first_run_compiles() {
    let server = Server::new();
    server.add_policy("no-wip", example_policy("no-wip"));
    let cache = server.root().join("fresh-cache");
    let env = [("HOOKRT_LOG", "debug"), ("HOOKRT_CACHE_DIR", cache.to_str().expect("utf-8"))];
    server.commit("one");
    let first = server.push_with_env(&["origin", "main"], &env).assert_ok();
    assert!(first.stderr.contains("phase=\"compile\""), "{}", first.stderr);
    let entries = std::fs::read_dir(&cache).expect("cache dir").count();
    assert_eq!(entries, 1, "one entry for one policy");

    server.commit("two");
    let second = server.push_with_env(&["origin", "main"], &env).assert_ok();
    assert!(second.stderr.contains("phase=\"cache-load\""), "{}", second.stderr);
    assert!(!second.stderr.contains("phase=\"compile\""), "{}", second.stderr);
}
