//! Real servers for the transport tests: OpenSSH's sshd and lighttpd (from
//! Debian's packages, which `just setup-transports` installs), each started
//! on a free loopback port with its files in the test's directory, and
//! killed when the test ends, whether it passed or not.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::receiver::{free_port, wait_for};
use super::{HOOKRT, hosting_doc};

/// A server process, killed on drop.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Starts `program` (its output to `log`) and waits until it accepts
    /// connections on `port`.
    fn start(program: &str, args: &[&str], port: u16, log: PathBuf) -> Daemon {
        assert!(Path::new(program).is_file(), "{program} is missing: run `just setup-transports` (or `just test`)");
        let out = std::fs::File::create(&log).expect("create the daemon's log");
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("clone the log handle"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let mut daemon = Daemon { child, log };
        wait_for(Duration::from_secs(10), &format!("{program} listening on port {port}"), || {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!("{program} exited ({status}):\n{}", daemon.log());
            }
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        daemon
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `program` with `args` and asserts that it succeeds.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).stdin(Stdio::null()).output().expect("run a setup command");
    assert!(out.status.success(), "{program} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A new ed25519 key pair at `path` (and `path.pub`); returns the public
/// key's line.
pub fn keygen(path: &Path) -> String {
    run("ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", path.to_str().expect("utf-8")]);
    std::fs::read_to_string(path.with_extension("pub")).expect("read the public key").trim().to_owned()
}

/// The account this test runs as: the one ssh logs in to.
pub fn login_name() -> String {
    run("id", &["-un"])
}

/// OpenSSH's sshd on a loopback port, with a throwaway host key.
pub struct Sshd {
    daemon: Daemon,
    port: u16,
    known_hosts: PathBuf,
}

impl Sshd {
    /// Starts sshd in `dir`, accepting the keys in `authorized_keys` for
    /// this test's account and giving every session `env` (sshd_config's
    /// `SetEnv`: the account's HOME, where hookrt caches…), with `extra`
    /// lines appended to its config.
    pub fn start(dir: &Path, authorized_keys: &Path, env: &[(String, String)], extra: &str) -> Sshd {
        std::fs::create_dir_all(dir).expect("create the sshd dir");
        let host_key = dir.join("host_key");
        let public = keygen(&host_key);
        // Running as root, sshd wants its privilege separation directory,
        // which a container's fresh /run lacks.
        let _ = std::fs::create_dir_all("/run/sshd");
        let port = free_port();
        let set_env: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let config = format!(
            "ListenAddress 127.0.0.1\nPort {port}\nHostKey {}\nAuthorizedKeysFile {}\nPidFile none\nUsePAM no\n\
             StrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nSetEnv {}\n{extra}\n",
            host_key.display(),
            authorized_keys.display(),
            set_env.join(" "),
        );
        let config_path = dir.join("sshd_config");
        std::fs::write(&config_path, config).expect("write sshd_config");
        let known_hosts = dir.join("known_hosts");
        let host_key_line = public.rsplit_once(' ').map_or(public.as_str(), |(key, _comment)| key);
        std::fs::write(&known_hosts, format!("[127.0.0.1]:{port} {host_key_line}\n")).expect("write known_hosts");
        let config = config_path.to_str().expect("utf-8");
        let daemon = Daemon::start("/usr/sbin/sshd", &["-D", "-e", "-f", config], port, dir.join("sshd.log"));
        Sshd { daemon, port, known_hosts }
    }

    /// The ssh URL of `path` on this server, for this test's account.
    pub fn url(&self, path: &str) -> String {
        format!("ssh://{}@127.0.0.1:{}{path}", login_name(), self.port)
    }

    /// `GIT_SSH_COMMAND` that logs in with `key` only and trusts only this
    /// server's host key, ignoring the machine's ssh config.
    pub fn ssh_command(&self, key: &Path) -> String {
        format!(
            "ssh -F /dev/null -i {} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile={}",
            key.display(),
            self.known_hosts.display()
        )
    }

    /// What sshd logged (for a failing test's message).
    pub fn log(&self) -> String {
        self.daemon.log()
    }
}

/// lighttpd on a loopback port, serving `config` (a snippet such as
/// docs/hosting/lighttpd.conf) from `dir`.
pub struct Lighttpd {
    _daemon: Daemon,
    pub port: u16,
}

impl Lighttpd {
    pub fn start(dir: &Path, config: &str) -> Lighttpd {
        std::fs::create_dir_all(dir.join("www")).expect("create the document root");
        let snippet = dir.join("site.conf");
        std::fs::write(&snippet, config).expect("write the site config");
        let port = free_port();
        let main = format!(
            "server.document-root = \"{}\"\nserver.bind = \"127.0.0.1\"\nserver.port = {port}\n\
             server.errorlog = \"{}\"\ninclude \"{}\"\n",
            dir.join("www").display(),
            dir.join("error.log").display(),
            snippet.display()
        );
        let main_path = dir.join("lighttpd.conf");
        std::fs::write(&main_path, main).expect("write lighttpd.conf");
        let args = ["-D", "-f", main_path.to_str().expect("utf-8")];
        Lighttpd { _daemon: Daemon::start("/usr/sbin/lighttpd", &args, port, dir.join("lighttpd.log")), port }
    }
}

/// Copies the drop-in hook docs/hosting/hooks/`hook` to `dest` as the
/// recipes say, with this build's hookrt in place of /usr/local/bin/hookrt.
pub fn drop_in(hook: &str, dest: &Path) {
    let script = hosting_doc(&format!("hooks/{hook}"));
    assert!(script.contains("/usr/local/bin/hookrt"), "docs/hosting/hooks/{hook} names /usr/local/bin/hookrt");
    install_script(dest, &script.replace("/usr/local/bin/hookrt", HOOKRT));
}

/// Writes `text` to `dest` (directories created), executable.
pub fn install_script(dest: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dest.parent().expect("a file has a parent")).expect("create the hook's directory");
    std::fs::write(dest, text).expect("write the script");
    std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o755)).expect("make it executable");
}

/// The CNCF distribution registry (Debian's `docker-registry`) on a
/// loopback port, storing in `dir/data`; stopped when dropped (or by
/// [`Registry::stop`], to see what a registry that is down does).
pub struct Registry {
    daemon: Option<Daemon>,
    port: u16,
    data: PathBuf,
}

impl Registry {
    pub fn start(dir: &Path) -> Registry {
        std::fs::create_dir_all(dir).expect("create the registry's dir");
        let port = free_port();
        let data = dir.join("data");
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            data.display()
        );
        let config_path = dir.join("config.yml");
        std::fs::write(&config_path, config).expect("write the registry's config");
        let args = ["serve", config_path.to_str().expect("utf-8")];
        let daemon = Daemon::start("/usr/bin/docker-registry", &args, port, dir.join("registry.log"));
        Registry { daemon: Some(daemon), port, data }
    }

    /// `oci://127.0.0.1:PORT/<repository>`.
    pub fn reference(&self, repository: &str) -> String {
        format!("oci://127.0.0.1:{}/{repository}", self.port)
    }

    /// Where the registry keeps the blob with `digest` (`sha256:…`).
    pub fn blob(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        self.data.join("docker/registry/v2/blobs/sha256").join(&hex[..2]).join(hex).join("data")
    }

    pub fn stop(&mut self) {
        self.daemon = None;
    }
}
