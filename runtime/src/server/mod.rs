//! The server hooks beyond pre-receive, update and post-receive: what git
//! hands each of them (githooks(5)), made into ref updates for
//! [`crate::run_hook`], and what hookrt does after the policies decide.
//!
//! - [`transaction`]: reference-transaction, for every ref change;
//! - [`checkout`]: push-to-checkout, a push into a checked-out branch;
//! - [`proc_receive`]: proc-receive's pkt-line protocol, for review
//!   namespaces such as `refs/for/<branch>`.

pub mod checkout;
pub mod proc_receive;
pub mod transaction;

/// Runs `git` with `args` in `dir` (the environment as git set it for the
/// hook) and returns its standard output, or what it said on failure.
pub fn git(dir: &std::path::Path, args: &[&str]) -> Result<String, String> {
    let output = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim_end().to_owned())
    } else {
        let said = String::from_utf8_lossy(&output.stderr);
        Err(format!("`git {}` failed: {}", args.join(" "), said.trim()))
    }
}
