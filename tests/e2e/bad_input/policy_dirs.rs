//! Policy directories and modules that cannot be read. What root cannot
//! bypass is tested everywhere: a directory that is a file, dangling and
//! looping links, modules that are directories, FIFOs, devices or too
//! large. Permissions are tested as a user they bind (as root, nobody).
//!
//! Symlinks that lead somewhere real are followed (policies are shared
//! that way); see docs/admin.md, "Which policies run where".

use std::os::unix::fs::symlink;
use std::path::Path;

use super::{CANNOT_CHECK, Z40, assert_warns, run_hook};
use crate::support::{Server, example_policy};

/// Commits and pushes to main, and asserts that hookrt rejected the push
/// because it could not check it, saying `key`, and that no ref moved.
fn assert_push_fails_closed(server: &Server, key: &str) {
    let before = server.server_refs();
    server.commit("feat: a fine commit");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert!(pushed.stderr.contains(&format!("remote: {CANNOT_CHECK}")), "{}", pushed.stderr);
    assert!(pushed.stderr.contains(key), "no {key:?} in:\n{}", pushed.stderr);
    assert_eq!(server.server_refs(), before);
}

/// Replaces whatever is at `path` with a symlink to `target`.
fn relink(target: &Path, path: &Path) {
    if path.is_dir() && !path.is_symlink() {
        std::fs::remove_dir_all(path).expect("remove dir");
    } else if std::fs::symlink_metadata(path).is_ok() {
        std::fs::remove_file(path).expect("remove file");
    }
    symlink(target, path).expect("symlink");
}

fn mkfifo(path: &Path) {
    let out = std::process::Command::new("mkfifo").arg(path).output().expect("run mkfifo");
    assert!(out.status.success(), "mkfifo failed: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_policy_dir_that_is_not_a_directory_fails_closed() {
    let server = Server::new();
    let dir = server.policy_dir();
    let shown = dir.display();

    std::fs::remove_dir_all(&dir).expect("remove the policy dir");
    std::fs::write(&dir, "not a directory\n").expect("write a file in its place");
    assert_push_fails_closed(
        &server,
        &format!("{shown}: the repository's policy directory is a regular file, not a directory"),
    );
    assert!(server.audit_records().last().is_some_and(|r| r["decision"] == "rejected"));

    let nowhere = server.root().join("nowhere");
    relink(&nowhere, &dir);
    assert_push_fails_closed(
        &server,
        &format!(
            "{shown}: the repository's policy directory is a symbolic link to {}, which does not exist",
            nowhere.display()
        ),
    );

    relink(&dir, &dir);
    assert_push_fails_closed(
        &server,
        &format!("{shown}: the repository's policy directory is a symbolic link to {shown} that cannot be followed"),
    );

    let file = server.root().join("a-file");
    std::fs::write(&file, "").expect("write a file");
    relink(&file, &dir);
    let key = format!("is a symbolic link to {}, which is a regular file, not a directory", file.display());
    assert_push_fails_closed(&server, &key);

    // After the fact, the same is a warning.
    let main = server.server_ref("refs/heads/main").expect("main exists");
    let run = run_hook(&server, "post-receive", &[], format!("{Z40} {main} refs/heads/x\n"));
    assert_warns(&run, &key);
}

/// A dangling server-wide directory is not "no server-wide policies": the
/// admin meant to have some.
#[test]
fn a_dangling_server_wide_dir_fails_closed() {
    let server = Server::new();
    let nowhere = server.root().join("nowhere");
    relink(&nowhere, &server.global_dir());
    let key = format!(
        "{}: the server-wide policy directory is a symbolic link to {}, which does not exist",
        server.global_dir().display(),
        nowhere.display()
    );
    assert_push_fails_closed(&server, &key);
}

/// Only regular files are read, and not too large ones: a FIFO would block
/// the push for ever, /dev/zero would fill the memory.
#[test]
fn modules_that_are_not_regular_files_fail_closed_unread() {
    let server = Server::with_example("no-wip");
    let module = server.policy_dir().join("bad.wasm");
    let at = format!("policy `bad`: module {}", module.display());
    let cases: Vec<(Box<dyn Fn()>, String)> = vec![
        (Box::new(|| std::fs::create_dir(&module).expect("mkdir")), "is a directory, not a regular file".into()),
        (Box::new(|| mkfifo(&module)), "is a FIFO, not a regular file".into()),
        (
            Box::new(|| relink(Path::new("/dev/zero"), &module)),
            "is a symbolic link to /dev/zero, which is a character device, not a regular file".into(),
        ),
        (
            Box::new(|| relink(Path::new("/dev/urandom"), &module)),
            "is a symbolic link to /dev/urandom, which is a character device, not a regular file".into(),
        ),
        (
            Box::new(|| relink(&server.root().join("gone.wasm"), &module)),
            format!("is a symbolic link to {}, which does not exist", server.root().join("gone.wasm").display()),
        ),
        (
            Box::new(|| relink(&module, &module)),
            format!("is a symbolic link to {} that cannot be followed", module.display()),
        ),
    ];
    for (make, problem) in cases {
        make();
        assert_push_fails_closed(&server, &format!("{at} {problem}"));
        let last = server.audit_records().pop().expect("a record");
        let error = last["error"].as_str().unwrap_or_default();
        assert!(error.ends_with("; hookrt loads only regular files (or symbolic links to them)"), "{error}");
        if module.is_dir() && !module.is_symlink() {
            std::fs::remove_dir(&module).expect("rmdir");
        } else {
            std::fs::remove_file(&module).expect("rm");
        }
    }

    // A regular file too large to be a policy is refused by the sandbox
    // before it reads it (sparse: the size takes no room).
    std::fs::File::create(&module).and_then(|f| f.set_len(257 << 20)).expect("big file");
    server.commit("feat: a fine commit");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    let key = format!("{} is {} bytes, more than the", module.display(), 257u64 << 20);
    assert!(pushed.stderr.contains(&key), "no {key:?} in:\n{}", pushed.stderr);
    std::fs::remove_file(&module).expect("rm");
    server.push(&["origin", "main"]).assert_ok();
}

#[test]
fn config_files_that_are_not_regular_files_fail_closed_unread() {
    let server = Server::with_example("no-wip");
    let config = server.policy_dir().join("hookrt.toml");
    let at = format!("{}: hookrt.toml", config.display());
    mkfifo(&config);
    assert_push_fails_closed(&server, &format!("{at} is a FIFO, not a regular file"));
    relink(Path::new("/dev/zero"), &config);
    assert_push_fails_closed(&server, &format!("{at} is a symbolic link to /dev/zero, which is a character device"));
    // A dangling link is not "no configuration".
    let gone = server.root().join("gone.toml");
    relink(&gone, &config);
    assert_push_fails_closed(&server, &format!("{at} is a symbolic link to {}, which does not exist", gone.display()));
    std::fs::remove_file(&config).expect("rm");
    std::fs::create_dir(&config).expect("mkdir");
    assert_push_fails_closed(&server, &format!("{at} is a directory, not a regular file"));
}

#[test]
fn a_policy_dir_linked_from_elsewhere_is_followed() {
    let server = Server::new();
    let shared = server.root().join("shared-policies");
    std::fs::create_dir(&shared).expect("mkdir");
    std::fs::copy(example_policy("no-wip"), shared.join("no-wip.wasm")).expect("copy");
    relink(&shared, &server.policy_dir());

    server.commit("WIP: through the link");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    pushed.assert_line("hookrt: policy no-wip vetoed refs/heads/main");
    server.git(&["reset", "--quiet", "--hard", "HEAD^"]);
    server.commit("feat: through the link");
    server.push(&["origin", "main"]).assert_ok();
}

#[test]
fn modules_and_config_linked_from_elsewhere_are_followed() {
    let server = Server::new();
    relink(&example_policy("no-wip"), &server.policy_dir().join("no-wip.wasm"));
    let shared = server.root().join("shared.toml");
    std::fs::write(&shared, "[policy.no-wip.settings]\nprefixes = [\"DRAFT\"]\n").expect("write toml");
    relink(&shared, &server.policy_dir().join("hookrt.toml"));

    server.commit("DRAFT: through the links");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    pushed.assert_line("hookrt: policy no-wip vetoed refs/heads/main");
    server.git(&["reset", "--quiet", "--hard", "HEAD^"]);
    server.commit("WIP: allowed here");
    server.push(&["origin", "main"]).assert_ok();
}

/// Root reads whatever a mode says, so as root the pushes are made by an
/// unprivileged user ([`Server::unprivileged`]): the modes bind either way.
#[test]
fn unreadable_policy_dir_and_module_fail_closed() {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::unprivileged();
    server.add_policy("no-wip", example_policy("no-wip"));
    let dir = server.policy_dir();
    let mode =
        |path: &Path, mode| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");

    mode(&dir, 0o000);
    let before = server.server_refs();
    server.commit("feat: unreadable");
    let pushed = server.push(&["origin", "main"]);
    mode(&dir, 0o755);
    assert!(!pushed.ok, "{}", pushed.stderr);
    assert!(pushed.stderr.contains(&format!("cannot list {}", dir.display())), "{}", pushed.stderr);
    assert_eq!(server.server_refs(), before);

    let module = dir.join("no-wip.wasm");
    mode(&module, 0o000);
    let pushed = server.push(&["origin", "main"]);
    mode(&module, 0o644);
    assert!(!pushed.ok, "{}", pushed.stderr);
    assert!(pushed.stderr.contains("no-wip") && pushed.stderr.contains("ermission denied"), "{}", pushed.stderr);
    assert_eq!(server.server_refs(), before);
    // Readable again, the same push lands: nothing was left half-done.
    server.push(&["origin", "main"]).assert_ok();
}
