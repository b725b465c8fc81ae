//! Issue 7: garbage and edge cases on the hook's input, broken repositories
//! and policy directories, concurrent installs. Each gets a clear message
//! that names the thing and what to do; pre-receive and update fail closed
//! (exit non-zero, refs untouched), post-receive warns and exits 0, and
//! hookrt never panics (every run goes through `assert_no_panic`).
//!
//! Input git can send is sent by a real `git push`; input it never sends is
//! fed to `hookrt run` directly through [`run_hook`].

mod install;
mod many_refs;
mod missing_objects;
mod policy_dirs;
mod ref_names;
mod stdin;

use std::io::Write;
use std::process::Stdio;

use crate::support::{Server, assert_no_panic};

/// The null id of a SHA-1 repository.
const Z40: &str = "0000000000000000000000000000000000000000";
/// A well-formed SHA-1 id that no test repository has.
const UNKNOWN40: &str = "1234567890abcdef1234567890abcdef12345678";

/// How a pre-receive or update run that could not check the push starts its
/// message.
const CANNOT_CHECK: &str = "hookrt: error: the push is rejected because hookrt cannot check it: ";
/// How a post-receive run that could not run its policies starts its
/// message.
const POST_RECEIVE_WARNING: &str = "hookrt: warning: the post-receive policies could not run: ";

/// Runs `hookrt run <hook> --git-dir <bare> <args…>` for `server` with
/// `stdin`, as the installed script would, and returns its exit code and
/// standard error.
fn run_hook(server: &Server, hook: &str, args: &[&str], stdin: impl AsRef<[u8]>) -> (i32, String) {
    let bare = server.bare.to_str().expect("utf-8 path");
    let mut child = server
        .hookrt_command(&["run", hook, "--git-dir", bare])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hookrt");
    if let Some(mut input) = child.stdin.take() {
        // hookrt may stop before reading (bad arguments): a closed pipe is
        // its answer, not the test's failure.
        let _ = input.write_all(stdin.as_ref());
    }
    let out = child.wait_with_output().expect("wait for hookrt");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_no_panic(&stderr);
    assert_no_panic(&String::from_utf8_lossy(&out.stdout));
    (out.status.code().expect("hookrt exits, it is not killed"), stderr)
}

/// Runs pre-receive for `server` with `stdin`; see [`run_hook`].
fn pre_receive(server: &Server, stdin: impl AsRef<[u8]>) -> (i32, String) {
    run_hook(server, "pre-receive", &[], stdin)
}

/// Asserts that a pre-receive or update run failed closed because hookrt
/// could not check the push, saying `key`.
fn assert_fails_closed((code, stderr): &(i32, String), key: &str) {
    assert_eq!(*code, 1, "{stderr}");
    assert!(stderr.contains(CANNOT_CHECK), "{stderr}");
    assert!(stderr.contains(key), "no {key:?} in:\n{stderr}");
}

/// Asserts that a post-receive run warned, saying `key`, and exited 0.
fn assert_warns((code, stderr): &(i32, String), key: &str) {
    assert_eq!(*code, 0, "{stderr}");
    assert!(stderr.contains(POST_RECEIVE_WARNING), "{stderr}");
    assert!(stderr.contains(key), "no {key:?} in:\n{stderr}");
}

/// Creates (or moves) refs in the clone in one `git update-ref --stdin`:
/// `(full ref name, id)`.
fn update_refs<'a>(server: &Server, refs: impl IntoIterator<Item = (&'a str, &'a str)>) {
    let mut input = String::new();
    for (name, id) in refs {
        input.push_str(&format!("update {name} {id}\n"));
    }
    let mut child = server
        .command("git", &server.work)
        .args(["update-ref", "--stdin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run git update-ref");
    child.stdin.take().expect("piped").write_all(input.as_bytes()).expect("feed git update-ref");
    let out = child.wait_with_output().expect("wait for git update-ref");
    assert!(out.status.success(), "git update-ref failed: {}", String::from_utf8_lossy(&out.stderr));
}
