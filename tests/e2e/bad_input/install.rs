//! `hookrt install` run eight times at once on one repository: each waits
//! its turn (installs hold git's config lock, and a lock of their own, from
//! first read to last write) and succeeds, and the repository ends up
//! installed exactly once.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;

use crate::support::{Server, assert_no_panic};

const INSTALLS: usize = 8;

fn names_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("list dir")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn eight_concurrent_installs_install_once() {
    let server = Server::new();
    let root = server.root().canonicalize().expect("canonical root");
    // A fresh repository whose hooks were in a directory of their own,
    // with a pre-receive that must keep running, once, after hookrt's.
    server.command("git", &root).args(["init", "--quiet", "--bare", "fresh.git"]).status().expect("git init");
    let fresh = root.join("fresh.git");
    let custom = root.join("custom-hooks");
    std::fs::create_dir(&custom).expect("mkdir");
    let old_hook = custom.join("pre-receive");
    std::fs::write(&old_hook, "#!/bin/sh\necho 'the old pre-receive ran' >&2\n").expect("write hook");
    std::fs::set_permissions(&old_hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let git_fresh = |args: &[&str]| {
        let out = server.command("git", &fresh).args(args).output().expect("git");
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
    };
    git_fresh(&["config", "core.hooksPath", custom.to_str().expect("utf-8")]);

    // All started before any is waited for.
    let fresh_arg = fresh.to_str().expect("utf-8 path");
    let children: Vec<_> = (0..INSTALLS)
        .map(|_| {
            server
                .hookrt_command(&["install", fresh_arg])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run hookrt install")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait for hookrt install");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_no_panic(&stderr);
        assert!(out.status.success(), "an install failed:\n{stdout}{stderr}");
        assert!(stdout.contains(&format!("chained:  {}", custom.display())), "{stdout}");
    }

    let hooks = fresh.join("hookrt").join("hooks");
    assert_eq!(git_fresh(&["config", "--get-all", "core.hooksPath"]), hooks.display().to_string());
    assert_eq!(git_fresh(&["config", "--get-all", "hookrt.previousHooksPath"]), custom.display().to_string());
    // The seven server hooks' scripts, complete, executable, chaining the
    // old hooks once and never hookrt's own; no temp or lock file left
    // anywhere.
    let server_hooks = [
        "post-receive",
        "post-update",
        "pre-receive",
        "proc-receive",
        "push-to-checkout",
        "reference-transaction",
        "update",
    ];
    assert_eq!(names_in(&hooks), BTreeSet::from(server_hooks.map(String::from)));
    for hook in server_hooks {
        let path = hooks.join(hook);
        let script = std::fs::read_to_string(&path).expect("read script");
        assert!(script.starts_with("#!/bin/sh\n") && script.ends_with(" \"$@\"\n"), "{hook}:\n{script}");
        assert_eq!(script.matches("--chain").count(), 1, "{hook}:\n{script}");
        assert!(script.contains(&format!("--chain '{}'", custom.display())), "{hook}:\n{script}");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o755, "{hook}");
    }
    assert_eq!(names_in(&fresh.join("hookrt")), BTreeSet::from(["hooks", "policies"].map(String::from)));
    let leftovers: Vec<String> =
        names_in(&fresh).into_iter().filter(|n| n.ends_with(".lock") || n.starts_with(".tmp")).collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");

    // Once more, alone: nothing changes.
    let config = std::fs::read_to_string(fresh.join("config")).expect("read config");
    let out = server.hookrt(&["install", fresh_arg]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(fresh.join("config")).expect("read config"), config);

    // A real push runs hookrt, then the old hook, once.
    let pushed = server.push(&[&format!("file://{fresh_arg}"), "main"]).assert_ok();
    let ran = pushed.remote_lines().into_iter().filter(|l| *l == "the old pre-receive ran").count();
    assert_eq!(ran, 1, "{}", pushed.stderr);
}
