//! The compiled-code cache: a damaged entry is detected and recompiled,
//! never run, and a directory someone else may write to is not used at all
//! (an entry is native code hookrt executes).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::hostile::documented;
use crate::support::{Pushed, Server, assert_no_panic, example_policy, test_guest};

/// A server whose pushes use their own cache directory, `mode`.
fn server_with_cache(mode: u32) -> (Server, PathBuf) {
    let server = Server::new();
    let cache = server.root().join("cache");
    std::fs::create_dir(&cache).expect("create the cache dir");
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(mode)).expect("chmod");
    (server, cache)
}

fn push(server: &Server, cache: &Path) -> Pushed {
    server.push_with_env(&["origin", "main"], &[("HOOKRT_CACHE_DIR", cache.to_str().expect("utf-8"))])
}

/// The cache's entries, sorted.
fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut list: Vec<PathBuf> =
        std::fs::read_dir(cache).expect("read the cache").map(|e| e.expect("entry").path()).collect();
    list.sort();
    list
}

#[test]
fn a_damaged_entry_is_recompiled_and_never_run() {
    let (server, cache) = server_with_cache(0o700);
    // The entry of a policy that traps…
    server.add_policy("panicker", &test_guest("panicker"));
    server.commit("first");
    push(&server, &cache)
        .assert_rejected()
        .assert_line("hookrt: policy panicker: trapped: wasm `unreachable` instruction executed");
    let panicker_entry = entries(&cache).pop().expect("the panicker's entry");
    std::fs::remove_file(server.policy_dir().join("panicker.wasm")).expect("remove the panicker");
    // …and of no-wip, which lets a clean commit through.
    server.add_policy("no-wip", &example_policy("no-wip"));
    push(&server, &cache).assert_ok();
    let no_wip_entry = entries(&cache).into_iter().find(|e| *e != panicker_entry).expect("no-wip's entry");
    let sound = std::fs::read(&no_wip_entry).expect("read the entry");

    // no-wip's entry replaced by the panicker's compiled code, its digest
    // off by one bit: loadable code, but not what was stored.
    let mut forged = std::fs::read(&panicker_entry).expect("read the entry");
    forged[0] ^= 1;
    std::fs::write(&no_wip_entry, &forged).expect("write the damaged entry");
    server.commit("WIP: must meet no-wip, not the panicker's code");
    let pushed = push(&server, &cache).assert_rejected();
    pushed.assert_line("hookrt: policy no-wip vetoed refs/heads/main");
    assert!(!pushed.stderr.contains("trapped"), "the damaged entry ran:\n{}", pushed.stderr);
    assert_eq!(std::fs::read(&no_wip_entry).expect("read the entry"), sound, "recompiled and stored again");

    // A truncated entry: the same.
    std::fs::write(&no_wip_entry, &sound[..sound.len() / 3]).expect("truncate the entry");
    push(&server, &cache).assert_rejected().assert_line("hookrt: policy no-wip vetoed refs/heads/main");
    assert_eq!(std::fs::read(&no_wip_entry).expect("read the entry"), sound);
}

#[test]
fn a_cache_others_may_write_to_is_not_used() {
    for (mode, why) in [(0o777, "anyone may write to it (mode 777)"), (0o770, "its group may write to it (mode 770)")] {
        let (server, cache) = server_with_cache(mode);
        server.add_policy("no-wip", &example_policy("no-wip"));
        server.commit("WIP: still checked, compiled without the cache");
        let pushed = push(&server, &cache).assert_rejected();
        pushed.assert_line("hookrt: policy no-wip vetoed refs/heads/main");
        let warning = format!("hookrt: warning: not using the compiled-code cache {}: {why}; ", cache.display());
        let line = pushed.remote_lines().into_iter().find(|l| l.starts_with(&warning));
        let line = line.unwrap_or_else(|| panic!("no {warning:?} in:\n{}", pushed.stderr));
        assert!(line.ends_with(&format!("`chmod go-w {}`, or point HOOKRT_CACHE_DIR elsewhere", cache.display())));
        // docs/security.md shows the line with a made-up path and uid.
        let shown = line.replace(&cache.display().to_string(), "/srv/cache");
        let uid = shown.split("(uid ").nth(1).and_then(|r| r.split(')').next()).expect("the uid");
        let shown = shown.replace(&format!("(uid {uid})"), "(uid 998)").replace(&format!("chown {uid} "), "chown 998 ");
        documented(&shown.replace("its group may write to it (mode 770)", "anyone may write to it (mode 777)"));
        assert!(entries(&cache).is_empty(), "nothing was written to it");
        let record = &server.audit_records()[0];
        assert!(record["notices"][0].as_str().is_some_and(|n| n.contains(why)), "{record}");
        // `hookrt check` counts it as a problem for the admin to fix.
        let bare = server.bare.to_str().expect("utf-8");
        let out = server.hookrt_command(&["check", bare]).env("HOOKRT_CACHE_DIR", &cache).output().expect("check");
        let shown = String::from_utf8_lossy(&out.stdout);
        assert_no_panic(&String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{shown}");
        assert!(shown.contains(&format!("error  not using the compiled-code cache {}: {why}", cache.display())));
    }
}

#[test]
fn a_cache_owned_by_someone_else_is_not_used() {
    let (server, cache) = server_with_cache(0o700);
    // Only root can give a directory away; as anyone else the case cannot
    // arise from this test's side.
    let chown = server.command("chown", server.root()).args(["65534", cache.to_str().expect("utf-8")]).output();
    if !chown.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: cannot chown as this user");
        return;
    }
    server.add_policy("no-wip", &example_policy("no-wip"));
    server.commit("fine");
    let pushed = push(&server, &cache).assert_ok();
    assert!(
        pushed
            .stderr
            .contains(&format!("not using the compiled-code cache {}: it belongs to uid 65534", cache.display())),
        "{}",
        pushed.stderr
    );
}
