//! The test bed: a bare "server" repository with hookrt installed and a
//! clone to push from.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

use super::{HOOKRT, assert_no_panic, checked, example_policy, guests, repo_root, running_as_root, shared_cache};

/// The unprivileged user of [`Server::unprivileged`]: nobody.
const NOBODY: u32 = 65534;

/// What a `git push` printed and whether it succeeded.
pub struct Pushed {
    pub ok: bool,
    pub stderr: String,
}

impl Pushed {
    /// The lines the hook printed (git shows them prefixed `remote: `).
    pub fn remote_lines(&self) -> Vec<&str> {
        self.stderr.lines().filter_map(|l| l.strip_prefix("remote: ")).map(str::trim_end).collect()
    }
}

/// How [`Server::commit_with`] makes a commit, beyond its message and date.
#[derive(Default)]
pub struct Commit<'a> {
    /// Extra environment for `git commit` (`GIT_AUTHOR_EMAIL`,
    /// `GIT_COMMITTER_NAME`, `GNUPGHOME`…).
    pub env: &'a [(&'a str, &'a str)],
    /// Signed (`git commit -S`, with the key the git config names).
    pub signed: bool,
}

impl<'a> Commit<'a> {
    /// A commit made with extra environment `env`.
    pub fn with_env(env: &'a [(&'a str, &'a str)]) -> Self {
        Commit { env, signed: false }
    }
}

pub struct Server {
    root: TempDir,
    pub bare: PathBuf,
    pub work: PathBuf,
    env: Vec<(String, String)>,
    /// The hookrt binary this server installs and runs.
    hookrt: PathBuf,
    /// Who runs git and hookrt (see [`Server::unprivileged`]); the suite's
    /// own user if `None`.
    user: Option<u32>,
    dates: std::cell::Cell<i64>,
    date_step: std::cell::Cell<i64>,
}

impl Server {
    /// A bare repository with hookrt installed and an empty policy
    /// directory, plus a clone with one commit pushed to `main`.
    pub fn new() -> Self {
        Self::with_object_format("sha1")
    }

    /// Like [`Server::new`], with both repositories in `format` (`sha1` or
    /// `sha256`).
    pub fn with_object_format(format: &str) -> Self {
        let server = Self::bare(format);
        server.install();
        server
    }

    /// Like [`Server::new`], with every git and hookrt run of this server
    /// made by an unprivileged user (nobody, uid 65534) when the suite runs
    /// as root, whom no file mode stops: for the tests of what a mode
    /// denies. The server's files are then nobody's, and so are its
    /// compiled-code cache and the copy of hookrt it installs (the build's
    /// own may sit where nobody cannot reach, as under /root).
    pub fn unprivileged() -> Self {
        let mut server = Self::bare("sha1");
        if running_as_root() {
            let binary = server.root().join("bin").join("hookrt");
            std::fs::create_dir_all(binary.parent().expect("bin/")).expect("create bin/");
            std::fs::copy(HOOKRT, &binary).expect("copy hookrt");
            server.hookrt = binary;
            let cache = server.root().join("cache").display().to_string();
            server.env.retain(|(k, _)| k != "HOOKRT_CACHE_DIR");
            server.env.push(("HOOKRT_CACHE_DIR".into(), cache));
            let owner = format!("{NOBODY}:{NOBODY}");
            let out = Command::new("chown").args(["-R", &owner]).arg(server.root()).output().expect("run chown");
            assert!(out.status.success(), "chown failed: {}", String::from_utf8_lossy(&out.stderr));
            server.user = Some(NOBODY);
        }
        server.install();
        server
    }

    fn install(&self) {
        let out = self.hookrt(&["install", self.bare.to_str().expect("utf-8 path")]);
        assert!(out.status.success(), "hookrt install failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Like [`Server::new`] without `hookrt install`: git's own `hooks/`
    /// is active, for tests that install hookrt the way a host does.
    pub fn without_hookrt() -> Self {
        Self::bare("sha1")
    }

    fn bare(format: &str) -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        let home = root.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let global = root.path().join("global");
        std::fs::create_dir_all(&global).expect("global policy dir");
        let server = Server {
            bare: root.path().join("server.git"),
            work: root.path().join("work"),
            env: vec![
                ("HOME".into(), home.display().to_string()),
                ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
                ("GIT_CONFIG_GLOBAL".into(), home.join("gitconfig").display().to_string()),
                ("HOOKRT_CACHE_DIR".into(), shared_cache().display().to_string()),
                // The server-wide scope of this server only (empty unless a
                // test puts policies there).
                ("HOOKRT_GLOBAL_DIR".into(), global.display().to_string()),
            ],
            root,
            hookrt: PathBuf::from(HOOKRT),
            user: None,
            dates: std::cell::Cell::new(1_700_000_000),
            date_step: std::cell::Cell::new(1),
        };
        std::fs::write(
            home.join("gitconfig"),
            "[user]\n\tname = Test Pusher\n\temail = pusher@example.com\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
        )
        .expect("gitconfig");
        let format = format!("--object-format={format}");
        server.git_in(server.root.path(), &["init", "--quiet", "--bare", &format, "server.git"]);
        server.git_in(server.root.path(), &["init", "--quiet", &format, "work"]);
        server.git(&["remote", "add", "origin", &format!("file://{}", server.bare.display())]);
        server.commit("initial commit");
        server.push(&["origin", "main"]).assert_ok();
        server
    }

    /// A server with only the example policy `name` installed.
    pub fn with_example(name: &str) -> Self {
        let server = Server::new();
        server.add_policy(name, example_policy(name));
        server
    }

    /// A server with only the probe test guest installed (it prints what
    /// the contract shows it) and push options on.
    pub fn with_probe() -> Self {
        let server = Server::new();
        server.add_policy("probe", guests::PROBE);
        server.server_git(&["config", "receive.advertisePushOptions", "true"]);
        server
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The environment every git and hookrt run of this server gets
    /// (isolated HOME and git config, the suite's cache, this server's
    /// server-wide directory), for servers that start hooks themselves.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    pub fn policy_dir(&self) -> PathBuf {
        self.bare.join("hookrt").join("policies")
    }

    /// Puts `wasm` (a path: a policy built by `just policies`, a test guest
    /// of [`guests`]) into the policy directory as `<name>.wasm`.
    pub fn add_policy(&self, name: &str, wasm: impl AsRef<Path>) {
        std::fs::copy(wasm, self.policy_dir().join(format!("{name}.wasm"))).expect("copy policy");
    }

    pub fn write_config(&self, toml: &str) {
        std::fs::write(self.policy_dir().join("hookrt.toml"), toml).expect("write hookrt.toml");
    }

    /// The server-wide directory (`HOOKRT_GLOBAL_DIR`) of this server.
    pub fn global_dir(&self) -> PathBuf {
        self.root().join("global")
    }

    /// Puts `wasm` into the server-wide directory as `<name>.wasm`.
    pub fn add_global_policy(&self, name: &str, wasm: impl AsRef<Path>) {
        std::fs::copy(wasm, self.global_dir().join(format!("{name}.wasm"))).expect("copy policy");
    }

    pub fn write_global_config(&self, toml: &str) {
        std::fs::write(self.global_dir().join("hookrt.toml"), toml).expect("write the global hookrt.toml");
    }

    /// The webhook deliveries waiting in the server's outbox.
    pub fn outbox_files(&self) -> Vec<PathBuf> {
        let dir = self.bare.join("hookrt").join("outbox");
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        let files = entries.filter_map(|e| e.ok().map(|e| e.path()));
        files.filter(|p| p.extension().is_some_and(|x| x == "json")).collect()
    }

    /// The audit log's records (`<GIT_DIR>/hookrt/audit.log`), parsed.
    pub fn audit_records(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.bare.join("hookrt").join("audit.log")).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).expect("each audit line is JSON")).collect()
    }

    pub fn command(&self, program: &str, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir).stdin(Stdio::null());
        if let Some(user) = self.user {
            // As root dropping to `user`, std also drops root's groups.
            cmd.uid(user).gid(user);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.env_remove("GIT_DIR").env_remove("HOOKRT_LOG");
        cmd
    }

    pub fn hookrt(&self, args: &[&str]) -> Output {
        checked(self.hookrt_command(args).output().expect("run hookrt"))
    }

    /// The command [`Server::hookrt`] runs, for tests that feed it input.
    pub fn hookrt_command(&self, args: &[&str]) -> Command {
        let mut cmd = self.command(self.hookrt.to_str().expect("utf-8 path"), self.root.path());
        cmd.args(args);
        cmd
    }

    fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.command("git", dir).args(args).output().expect("run git");
        assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("git prints UTF-8 here").trim_end().to_owned()
    }

    /// Runs git in the clone.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.work, args)
    }

    /// Runs git in the server repository.
    pub fn server_git(&self, args: &[&str]) -> String {
        self.git_in(&self.bare, args)
    }

    /// From now on, give every commit the same date (as a rebase often
    /// does), instead of one second later than the one before.
    pub fn freeze_dates(&self) {
        self.date_step.set(0);
    }

    /// Commits (empty) in the clone with `message`, a second later than the
    /// previous commit (see [`Server::freeze_dates`]), and returns its id.
    /// Everything written to the clone since the last commit (see
    /// [`Server::write_file`]) goes into it.
    pub fn commit(&self, message: &str) -> String {
        self.commit_with(message, Commit::default())
    }

    /// Like [`Server::commit`], made as `how` says.
    pub fn commit_with(&self, message: &str, how: Commit) -> String {
        let date = self.dates.get() + self.date_step.get();
        self.dates.set(date);
        self.git(&["add", "--all"]);
        let out = self
            .command("git", &self.work)
            .args(["commit", "--quiet", "--allow-empty", "-m", message])
            .args(how.signed.then_some("-S"))
            .env("GIT_AUTHOR_DATE", format!("{date} +0000"))
            .env("GIT_COMMITTER_DATE", format!("{date} +0000"))
            .envs(how.env.iter().copied())
            .output()
            .expect("run git commit");
        assert!(out.status.success(), "git commit failed: {}", String::from_utf8_lossy(&out.stderr));
        self.git(&["rev-parse", "HEAD"])
    }

    /// Writes `data` as an object of `kind` into the repository at `dir`
    /// (the clone or the bare one), whatever git thinks of it
    /// (`hash-object --literally`): commits git accepts but never writes.
    pub fn write_object(&self, dir: &Path, kind: &str, data: &[u8]) -> String {
        use std::io::Write;
        let mut child = self
            .command("git", dir)
            .args(["hash-object", "-t", kind, "--literally", "-w", "--stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("run git hash-object");
        child.stdin.take().expect("stdin").write_all(data).expect("write the object");
        let out = child.wait_with_output().expect("git hash-object");
        assert!(out.status.success(), "git hash-object failed");
        String::from_utf8(out.stdout).expect("an id").trim().to_owned()
    }

    /// Writes `content` to `path` in the clone (directories are created);
    /// the next [`Server::commit`] records it.
    pub fn write_file(&self, path: &str, content: impl AsRef<[u8]>) {
        let path = self.work.join(path);
        std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("create directories");
        std::fs::write(path, content).expect("write file");
    }

    /// Deletes `path` in the clone; the next [`Server::commit`] records it.
    pub fn remove_file(&self, path: &str) {
        std::fs::remove_file(self.work.join(path)).expect("remove file");
    }

    /// `git push <args>` from the clone, with extra environment.
    pub fn push_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Pushed {
        let mut cmd = self.command("git", &self.work);
        cmd.arg("push").args(args).envs(env.iter().copied());
        let out = cmd.output().expect("run git push");
        assert_no_panic(&String::from_utf8_lossy(&out.stderr));
        Pushed { ok: out.status.success(), stderr: String::from_utf8_lossy(&out.stderr).into_owned() }
    }

    pub fn push(&self, args: &[&str]) -> Pushed {
        self.push_with_env(args, &[])
    }

    /// The id a ref has on the server, if it exists.
    pub fn server_ref(&self, name: &str) -> Option<String> {
        let out =
            self.command("git", &self.bare).args(["rev-parse", "--verify", "--quiet", name]).output().expect("git");
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Every ref on the server with its id, sorted.
    pub fn server_refs(&self) -> String {
        self.server_git(&["for-each-ref", "--format=%(objectname) %(refname)"])
    }

    /// From now on, the pre-receive hook runs hookrt under GNU time, which
    /// records the process's peak resident memory (the kernel's `ru_maxrss`
    /// of that one process) for [`PeakMemory::kib`] to read after a push.
    pub fn measure_pre_receive(&self) -> PeakMemory {
        let script = self.bare.join("hookrt").join("hooks").join("pre-receive");
        let text = std::fs::read_to_string(&script).expect("read the pre-receive script");
        let file = self.root().join(format!("peak-rss-{}", self.dates.get()));
        let measured = format!("exec /usr/bin/time -f %M -o '{}' '", file.display());
        assert!(text.contains("exec '"), "the script does not exec hookrt:\n{text}");
        std::fs::write(&script, text.replacen("exec '", &measured, 1)).expect("rewrite the pre-receive script");
        PeakMemory { file }
    }

    /// Runs a fixture script from tests/fixtures with the clone as its
    /// working directory.
    pub fn fixture(&self, script: &str, args: &[&str]) {
        let path = repo_root().join("tests").join("fixtures").join(script);
        let out = self.command("bash", &self.work).arg(path).args(args).output().expect("run fixture");
        assert!(out.status.success(), "fixture {script} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Pushed {
    pub fn assert_ok(self) -> Self {
        assert!(self.ok, "push was rejected:\n{}", self.stderr);
        self
    }

    /// Asserts that the hook printed exactly `line` (without `remote: `).
    pub fn assert_line(&self, line: &str) {
        assert!(self.remote_lines().contains(&line), "no line {line:?} in:\n{}", self.stderr);
    }

    pub fn assert_rejected(self) -> Self {
        assert!(!self.ok, "push was accepted:\n{}", self.stderr);
        self
    }
}

/// The peak memory of one hook run, as GNU time wrote it (see
/// [`Server::measure_pre_receive`]).
pub struct PeakMemory {
    file: PathBuf,
}

impl PeakMemory {
    /// The hookrt process's peak resident set size, in KiB.
    pub fn kib(&self) -> u64 {
        let text = std::fs::read_to_string(&self.file)
            .unwrap_or_else(|e| panic!("no peak memory in {} ({e}): did the hook run?", self.file.display()));
        // GNU time says "Command exited with non-zero status 1" first when
        // the hook rejects; the figure is the last line.
        let last = text.lines().last().unwrap_or_default();
        last.trim().parse().unwrap_or_else(|_| panic!("GNU time wrote {text:?}"))
    }
}
