//! What the end-to-end tests share, and the only module they import from
//! one another (`tests/e2e/architecture.rs` holds them to it): the test
//! bed ([`Server`]: a bare repository with hookrt installed, a clone to
//! push from, the real `git` client between), the policies and test guests
//! built from source, and the real servers some tests push through. Git
//! runs with an isolated HOME and no system or global config, so the
//! machine's own settings never leak into a test.

mod docs;
mod modules;
pub mod receiver;
mod server;
pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use docs::{documented, documented_config, hosting_doc};
/// The test guests (tests/guests/components), built from source with the
/// suite: `guests::SPIN` is the path of the `spin` guest's component.
pub use hookrt_test_guests as guests;
pub use modules::unique_no_wip;
pub use server::{Commit, Pushed, Server};

pub const HOOKRT: &str = env!("CARGO_BIN_EXE_hookrt");

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("runtime/ has a parent").to_owned()
}

/// An example policy built by `just policies`.
pub fn example_policy(name: &str) -> PathBuf {
    let path = repo_root().join("target").join("policies").join(format!("{name}.wasm"));
    assert!(path.is_file(), "{} is missing: run `just policies` (or `just test`) first", path.display());
    path
}

/// The compiled-code cache shared by the suite: content-keyed, so sharing
/// it is safe, and it spares each test a compile.
pub(crate) fn shared_cache() -> PathBuf {
    repo_root().join("target").join("e2e-cache")
}

/// Tests that load the whole machine (dozens of pushes at once) or that
/// need its full speed (10,000 commits within the default deadline) hold
/// this while they run, so no two of them ever overlap: on a 2-core CI
/// machine one would starve the other past its deadline.
pub fn heavy() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    // A test that failed while holding it does not stop the others.
    HEAVY.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What hookrt prints when it panics (see `runtime/src/main.rs`).
const PANIC_MARKER: &str = "hookrt: internal error";

/// Fails the test if hookrt panicked: a panic anywhere in hookrt is a bug,
/// whatever the input. Every hookrt run and push of the suite goes through
/// this.
pub fn assert_no_panic(output: &str) {
    // A policy's own panic message ("thread '<unnamed>' panicked at …")
    // is the guest's business; hookrt's threads are `main` and `hookrt-*`.
    let panicked = output.contains(PANIC_MARKER)
        || output.contains("thread 'main' panicked at")
        || output.contains("thread 'hookrt-");
    assert!(!panicked, "hookrt panicked:\n{output}");
}

/// `out` after checking that hookrt did not panic.
pub(crate) fn checked(out: Output) -> Output {
    assert_no_panic(&stderr(&out));
    assert_no_panic(&stdout(&out));
    out
}

/// Runs the hookrt binary outside any server (for `hookrt test` and
/// `hookrt check`), with the suite's cache and no git configuration.
pub fn hookrt(args: &[&str]) -> Output {
    checked(hookrt_command(args).output().expect("run hookrt"))
}

/// The command [`hookrt`] runs, for tests that feed it input or run many.
pub fn hookrt_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(HOOKRT);
    cmd.args(args)
        .stdin(Stdio::null())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOOKRT_CACHE_DIR", shared_cache())
        // Never the machine's /etc/hookrt: tests that want a server-wide
        // scope name their own.
        .env("HOOKRT_GLOBAL_DIR", empty_global_dir())
        .env_remove("GIT_DIR");
    cmd
}

/// An empty server-wide policy directory, shared by tests that have none.
fn empty_global_dir() -> PathBuf {
    let dir = repo_root().join("target").join("e2e-empty-global");
    std::fs::create_dir_all(&dir).expect("create the empty global dir");
    dir
}

/// Runs a fixture script from tests/fixtures.
pub fn run_fixture(script: &str, args: &[&str]) {
    run_fixture_with_env(script, args, &[]);
}

/// Like [`run_fixture`], with extra environment.
pub fn run_fixture_with_env(script: &str, args: &[&str], env: &[(&str, &str)]) {
    let path = repo_root().join("tests").join("fixtures").join(script);
    let mut cmd = Command::new("bash");
    cmd.arg(path).args(args).envs(env.iter().copied()).stdin(Stdio::null());
    let out = cmd.output().expect("run fixture");
    assert!(out.status.success(), "fixture {script} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// The `commits=N` the host reports for `policy` in its debug log.
pub fn commits_produced(stderr: &str, policy: &str) -> u64 {
    stderr
        .lines()
        .find(|l| l.contains("policy finished") && l.contains(&format!("policy={policy}")))
        .and_then(|l| l.split_whitespace().find_map(|w| w.strip_prefix("commits=")))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `policy finished` line for {policy} in:\n{stderr}"))
}

/// Runs an example policy's own case files (`example-policies/<name>/tests`)
/// with `hookrt test` and asserts that every case passes.
pub fn assert_example_passes_its_cases(name: &str) {
    assert_cases_pass(&format!("example-policies/{name}"), name);
}

/// Runs a push-rule policy's own case files
/// (`example-policies/push-rules/<name>/tests`), as above.
pub fn assert_push_rule_passes_its_cases(name: &str) {
    assert_cases_pass(&format!("example-policies/push-rules/{name}"), name);
}

fn assert_cases_pass(dir: &str, name: &str) {
    let dir = in_repo(dir);
    let policy = example_policy(name);
    let out = hookrt(&["test", dir.to_str().expect("utf-8"), "--policy", policy.to_str().expect("utf-8")]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.lines().last().is_some_and(|l| l.ends_with(" passed, 0 failed")), "{shown}");
    assert!(!shown.contains("FAIL"), "{shown}");
}

/// A path inside the repository (for the example policies' case files).
pub fn in_repo(path: &str) -> PathBuf {
    repo_root().join(path)
}

/// The short id git and hookrt show for a commit.
pub fn short(id: &str) -> &str {
    &id[..12]
}

/// What a command printed, its standard output then its standard error.
pub fn text(out: &Output) -> String {
    stdout(out) + &stderr(out)
}

/// What a command printed on its standard output.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a command printed on its standard error.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Whether the suite runs as root, whom no file mode stops.
pub fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}
