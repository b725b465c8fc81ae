//! The compiled-code cache: a damaged entry is detected and recompiled,
//! never run, and a directory someone else may write to is not used at all
//! (an entry is native code hookrt executes).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::{
    Pushed, Server, assert_no_panic, documented, example_policy, guests, running_as_root, unique_no_wip,
};

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

/// The cache's entries (compiled code, not index lines), sorted.
fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut list: Vec<PathBuf> = std::fs::read_dir(cache)
        .expect("read the cache")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    list.sort();
    list
}

#[test]
fn a_damaged_entry_is_recompiled_and_never_run() {
    let (server, cache) = server_with_cache(0o700);
    // The entry of a policy that traps…
    server.add_policy("panicker", guests::PANICKER);
    server.commit("first");
    push(&server, &cache)
        .assert_rejected()
        .assert_line("hookrt: policy panicker: trapped: wasm `unreachable` instruction executed");
    let panicker_entry = entries(&cache).pop().expect("the panicker's entry");
    std::fs::remove_file(server.policy_dir().join("panicker.wasm")).expect("remove the panicker");
    // …and of no-wip, which lets a clean commit through.
    server.add_policy("no-wip", example_policy("no-wip"));
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
        server.add_policy("no-wip", example_policy("no-wip"));
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
        documented(
            "docs/security.md",
            &shown.replace("its group may write to it (mode 770)", "anyone may write to it (mode 777)"),
        );
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
    // Someone else's directory: as root, this one given away to nobody; as
    // anyone else, who cannot give a directory away, root's `/`.
    let (cache, owner) = if running_as_root() {
        let out = server.command("chown", server.root()).arg("65534").arg(&cache).output().expect("run chown");
        assert!(out.status.success(), "chown: {}", String::from_utf8_lossy(&out.stderr));
        (cache, 65534)
    } else {
        (PathBuf::from("/"), 0)
    };
    server.add_policy("no-wip", example_policy("no-wip"));
    server.commit("fine");
    let pushed = push(&server, &cache).assert_ok();
    let warning = format!("not using the compiled-code cache {}: it belongs to uid {owner}", cache.display());
    assert!(pushed.stderr.contains(&warning), "{}", pushed.stderr);
}

/// Timing events of `pushed` (`HOOKRT_LOG=hookrt::timing=debug`) that name
/// `phase` for `policy`.
fn phase(pushed: &Pushed, phase: &str, policy: &str) -> bool {
    pushed.stderr.contains(&format!("phase=\"{phase}\" policy=\"{policy}\""))
}

#[test]
fn policies_compiled_by_install_or_check_are_never_compiled_by_a_push() {
    let (server, cache) = server_with_cache(0o700);
    let env = [("HOOKRT_CACHE_DIR", cache.to_str().expect("utf-8")), ("HOOKRT_LOG", "hookrt::timing=debug")];
    // A Python policy takes seconds to compile: more than this budget.
    server.write_config("[push]\nbudget_ms = 1000\n");
    server.add_policy("no-wip", example_policy("no-wip"));
    server.add_policy("conventional-commits", example_policy("conventional-commits"));
    server.commit("feat: the first push after the policies went in");
    let before = server.server_refs();

    // A push that meets them uncompiled compiles no-wip, and gives up on
    // the Python one when the budget runs out: it fails closed.
    let pushed = server.push_with_env(&["origin", "main"], &env).assert_rejected();
    assert!(phase(&pushed, "compile", "no-wip"), "{}", pushed.stderr);
    let line = "hookrt: policy conventional-commits: was not compiled yet, and compiling it took longer than the \
                push's time budget (1000 ms)";
    pushed.assert_line(line);
    pushed.assert_line(
        "  Compile it ahead of pushes: run `hookrt check` on the repository as the account that runs git (it fills \
         the cache pushes read).",
    );
    documented("docs/admin.md", line);
    assert_eq!(server.server_refs(), before);
    let record = server.audit_records().pop().expect("a record");
    let cause = |name: &str| {
        let policies = record["policies"].as_array().expect("policies");
        policies.iter().find(|p| p["name"] == name).and_then(|p| p["cause"].as_str()).map(str::to_owned)
    };
    assert_eq!(cause("conventional-commits").as_deref(), Some("compile"), "{record}");
    // The compile took the whole budget: nothing was left to run no-wip.
    assert_eq!(cause("no-wip").as_deref(), Some("budget"), "{record}");

    // `hookrt install` (again, as after adding policies) compiles what the
    // hooks will run, into the cache of the account running it.
    let bare = server.bare.to_str().expect("utf-8");
    let out = server.hookrt_command(&["install", bare]).env("HOOKRT_CACHE_DIR", &cache).output().expect("install");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}{}", String::from_utf8_lossy(&out.stderr));
    let cache_line = format!("  cache  {} (1 compiled now): pushes use it when git runs hooks as ", cache.display());
    assert!(shown.contains(&cache_line), "{shown}");

    // Now no push compiles: both load from the cache, and the push lands.
    let pushed = server.push_with_env(&["origin", "main"], &env).assert_ok();
    assert!(phase(&pushed, "cache-load", "conventional-commits"), "{}", pushed.stderr);
    assert!(phase(&pushed, "cache-load", "no-wip"), "{}", pushed.stderr);
    assert!(!pushed.stderr.contains("phase=\"compile\""), "{}", pushed.stderr);

    // `hookrt check` finds both compiled, and says where and for whom.
    let out = server.hookrt_command(&["check", bare]).env("HOOKRT_CACHE_DIR", &cache).output().expect("check");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("settings valid, compiled)"), "{shown}");
    assert!(!shown.contains(", compiled now)"), "{shown}");
    let line = shown.lines().find(|l| l.starts_with("cache  ")).expect("the cache line");
    // docs/admin.md shows it with the git account's home and uid.
    let uid = line.split("uid ").nth(1).and_then(|r| r.split(',').next()).expect("the uid");
    let user = line.split("as ").nth(1).and_then(|r| r.split(", uid").next()).expect("the user");
    let shown_in_docs = line
        .replace(&cache.display().to_string(), "/home/git/.cache/hookrt")
        .replace("(0 compiled now)", "(1 compiled now)")
        .replace(&format!("as {user}, uid {uid},"), "as git, uid 998,");
    documented("docs/admin.md", &shown_in_docs);
}

/// Sets the time `path` was last used (its modification time) to `days`
/// ago.
fn last_used(path: &Path, days: u64) {
    let when = std::time::SystemTime::now() - std::time::Duration::from_secs(days * 24 * 60 * 60 + 60);
    std::fs::File::options().write(true).open(path).expect("open").set_modified(when).expect("set the time");
}

#[test]
fn entries_unused_for_30_days_go_when_another_is_stored_and_used_ones_stay() {
    let (server, cache) = server_with_cache(0o700);
    server.add_policy("no-wip", example_policy("no-wip"));
    server.commit("one");
    push(&server, &cache).assert_ok();
    let [used] = &entries(&cache)[..] else { panic!("one entry: {:?}", entries(&cache)) };
    let used = used.clone();
    // no-wip's entry was last used 40 days ago; so was an entry of a module
    // no longer installed anywhere. What a compile killed midway leaves (a
    // temporary file, a lock) is two hours old.
    last_used(&used, 40);
    let gone = cache.join(format!("{}.cwasm", "ab".repeat(32)));
    std::fs::write(&gone, b"the code of a policy removed long ago").expect("write");
    last_used(&gone, 40);
    let (temporary, lock) = (cache.join(".tmpA1b2C3"), cache.join(format!("{}.lock", "cd".repeat(32))));
    for file in [&temporary, &lock] {
        std::fs::write(file, b"").expect("write");
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 60 * 60);
        std::fs::File::options().write(true).open(file).expect("open").set_modified(two_hours_ago).expect("time");
    }

    // A push uses no-wip's entry, which marks it used; storing nothing, it
    // removes nothing.
    server.commit("two");
    push(&server, &cache).assert_ok();
    assert!(gone.exists() && temporary.exists());
    // A new policy is compiled and stored: the cache makes room.
    let scratch = tempfile::tempdir().expect("temp dir");
    server.add_policy("new", unique_no_wip(scratch.path()));
    server.commit("three");
    push(&server, &cache).assert_ok();
    let left = entries(&cache);
    assert!(left.contains(&used), "the entry in use was removed: {left:?}");
    assert_eq!(left.len(), 2, "no-wip's and the new policy's entries, and nothing else: {left:?}");
}

#[test]
fn past_2_gib_the_least_recently_used_entries_go() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = hookrt::sandbox::Cache::open(dir.path().join("cache")).expect("open the cache");
    // Three entries of 1 GiB each (sparse: nothing is written), used 3, 2
    // and 1 days ago.
    let entry = |days: u64| {
        let path = cache.dir().join(format!("{days:064}.cwasm"));
        std::fs::File::create(&path).expect("create").set_len(1 << 30).expect("size");
        last_used(&path, days);
        path
    };
    let [oldest, older, newest] = [entry(3), entry(2), entry(1)];
    cache.evict(std::time::SystemTime::now());
    assert!(!oldest.exists(), "3 GiB in all: the least recently used goes");
    assert!(older.exists() && newest.exists(), "2 GiB are kept");
    assert_eq!(hookrt::sandbox::MAX_BYTES, 2 << 30, "docs/security.md and admin.md say 2 GiB");
    assert_eq!(hookrt::sandbox::MAX_AGE.as_secs(), 30 * 24 * 60 * 60, "the docs say 30 days");
}

/// A push finds a module's compiled code by the file's identity alone once
/// the file has settled (no read, no hash of 12 to 18 MB for a Python or
/// JavaScript policy, and no checksum of its 40 MB of code when the entry
/// is the file found sound before), a module replaced in place is never run
/// as the code it replaced, and an entry damaged in place is never run.
#[test]
fn a_settled_module_is_found_by_its_identity_and_a_replaced_one_is_not() {
    let (server, cache) = server_with_cache(0o700);
    let env = [("HOOKRT_CACHE_DIR", cache.to_str().expect("utf-8"))];
    server.add_policy("guard", example_policy("no-wip"));
    let check = server.hookrt_command(&["check", server.bare.to_str().expect("utf-8")]).envs(env).output();
    assert!(check.expect("run hookrt check").status.success());
    // Index lines are written only for files that have not changed for a
    // few seconds: a change within a timestamp's granularity would not show.
    std::thread::sleep(std::time::Duration::from_millis(3500));
    server.commit("WIP: indexed on this push");
    push(&server, &cache).assert_rejected();
    let index: Vec<PathBuf> = std::fs::read_dir(&cache)
        .expect("read the cache")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "idx"))
        .collect();
    assert_eq!(index.len(), 1, "one index line: {:?}", entries(&cache));
    let line = std::fs::read_to_string(&index[0]).expect("read the index line");
    let named = line.split_whitespace().next().expect("the entry's name");
    let entry = cache.join(format!("{named}.cwasm"));
    assert_eq!(entries(&cache), std::slice::from_ref(&entry), "it names the entry");

    // The entry damaged in place after it was indexed, its size unchanged:
    // the write changed its times, so its checksum is computed again, and
    // it is recompiled.
    let sound = std::fs::read(&entry).expect("read the entry");
    let mut damaged = sound.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;
    std::fs::write(&entry, &damaged).expect("damage the entry");
    server.commit("WIP: meets the recompiled entry");
    push(&server, &cache).assert_rejected().assert_line("hookrt: policy guard vetoed refs/heads/main");
    assert!(std::fs::read(&entry).expect("read the entry") == sound, "not recompiled: the damaged entry was kept");

    // Now the same path holds another policy: it runs, not the old code.
    std::fs::copy(guests::LIST_COMMITS, server.policy_dir().join("guard.wasm")).expect("replace the module");
    let pushed = push(&server, &cache).assert_ok();
    pushed.assert_line("[guard] push pre-receive 1 options=");
    assert_eq!(entries(&cache).len(), 2, "the new module was compiled");
}
