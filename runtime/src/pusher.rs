//! Who pushed and from where, as the layer in front of git says.
//!
//! Git itself does not know who pushes: the transport or the hosting layer
//! does, and each tells the hook in its own environment variables. One small
//! adapter per layer turns those into a [`Pusher`] and a [`PushContext`];
//! the first layer whose variables are present wins. The values are data
//! only: they are handed to policies as strings and never used as paths,
//! config or commands, and only the variables an adapter names are read,
//! never the whole environment.

/// The person or account behind the push.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Pusher {
    /// The login or account name.
    pub name: String,
    /// The e-mail address, where the hosting layer gives one.
    pub email: Option<String>,
    /// The hosting layer's id for the account (`GL_ID`, `GITEA_PUSHER_ID`).
    pub id: Option<String>,
    /// Which layer said so: `server`, `gitlab`, `github`, `gitea`,
    /// `gitolite`, `http`, `os`, or `test` under `hookrt test`.
    #[serde(default = "test_source")]
    pub source: String,
}

fn test_source() -> String {
    "test".to_owned()
}

/// Where the push came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushContext {
    /// The hosting layer's name for the repository (`group/project`).
    pub project: Option<String>,
    /// `ssh`, `http` or `web`.
    pub protocol: Option<String>,
    /// The client's address.
    pub remote_address: Option<String>,
    pub pull_request: Option<PullRequest>,
    pub certificate: Option<PushCertificate>,
    /// The variables the fields came from, name and value.
    #[serde(default)]
    pub variables: Vec<(String, String)>,
}

/// The pull request a push comes from (GitHub Enterprise).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    pub author: Option<String>,
    pub head: Option<String>,
    pub base: Option<String>,
}

/// A signed push's certificate, as receive-pack checked it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushCertificate {
    /// The certificate's blob id.
    pub id: String,
    pub signer: Option<String>,
    pub key: Option<String>,
    /// GPG's status letter (`G`, `B`, `U`, `N`…).
    pub status: String,
    pub nonce: Option<String>,
    pub nonce_status: Option<String>,
}

/// Every variable an adapter may read. [`PushContext::variables`] lists
/// those that were set; nothing else of the environment is looked at.
const KNOWN: &[&str] = &[
    // The server's own word, for a shared ssh account: each key's
    // `environment="HOOKRT_PUSHER=…"` in authorized_keys (docs/hosting.md).
    "HOOKRT_PUSHER",
    // GitLab (Gitaly passes these to server hooks).
    "GL_ID",
    "GL_USERNAME",
    "GL_PROJECT_PATH",
    "GL_PROTOCOL",
    "GL_REPOSITORY",
    // GitHub Enterprise Server (pre-receive hook environment).
    "GITHUB_USER_LOGIN",
    "GITHUB_REPO_NAME",
    "GITHUB_REPO_PUBLIC",
    "GITHUB_VIA",
    "GITHUB_USER_IP",
    "GITHUB_PULL_REQUEST_AUTHOR_LOGIN",
    "GITHUB_PULL_REQUEST_HEAD",
    "GITHUB_PULL_REQUEST_BASE",
    // Gitea and Forgejo.
    "GITEA_PUSHER_NAME",
    "GITEA_PUSHER_EMAIL",
    "GITEA_PUSHER_ID",
    "GITEA_REPO_USER_NAME",
    "GITEA_REPO_NAME",
    "GITEA_REPO_ID",
    "GITEA_REPO_IS_WIKI",
    "GITEA_PR_ID",
    "GITEA_PR_INDEX",
    "GITEA_INTERNAL_PUSH",
    "GITEA_KEY_ID",
    "GITEA_DEPLOY_KEY_ID",
    // Gitolite (its gitolite-shell sets them from the ssh key's name).
    "GL_USER",
    "GL_REPO",
    // A web server in front of git-http-backend (CGI), and OpenSSH.
    "REMOTE_USER",
    "REMOTE_ADDR",
    "SSH_CONNECTION",
    // The account git runs as: the last resort for who pushes.
    "USER",
    "LOGNAME",
    // A signed push (githooks(5)).
    "GIT_PUSH_CERT",
    "GIT_PUSH_CERT_SIGNER",
    "GIT_PUSH_CERT_KEY",
    "GIT_PUSH_CERT_STATUS",
    "GIT_PUSH_CERT_NONCE",
    "GIT_PUSH_CERT_NONCE_STATUS",
];

/// The known variables that are set and not blank.
struct Vars(Vec<(&'static str, String)>);

impl Vars {
    fn read(env: impl Fn(&str) -> Option<String>) -> Vars {
        Vars(KNOWN.iter().filter_map(|&key| env(key).filter(|v| !v.trim().is_empty()).map(|v| (key, v))).collect())
    }

    fn get(&self, key: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone())
    }
}

impl Pusher {
    /// The pusher from the hook's environment (`env` is a lookup such as
    /// `std::env::var`): first what the server's setup says
    /// (`HOOKRT_PUSHER`), then the hosting layers: GitLab (`GL_USERNAME`,
    /// `GL_ID`), GitHub Enterprise (`GITHUB_USER_LOGIN`), Gitea and Forgejo
    /// (`GITEA_PUSHER_NAME`, `_EMAIL`, `_ID`), gitolite (`GL_USER`), then a
    /// web server's authenticated user (`REMOTE_USER`, smart HTTP), and last
    /// the account git runs as (`USER`, `LOGNAME`: the ssh login on a plain
    /// ssh server). Empty values count as absent.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Option<Pusher> {
        Self::from_vars(&Vars::read(env))
    }

    fn from_vars(vars: &Vars) -> Option<Pusher> {
        let pusher = |name: String, email: Option<String>, id: Option<String>, source: &str| Pusher {
            name,
            email,
            id,
            source: source.to_owned(),
        };
        if let Some(name) = vars.get("HOOKRT_PUSHER") {
            return Some(pusher(name, None, None, "server"));
        }
        if let Some(name) = vars.get("GL_USERNAME") {
            return Some(pusher(name, None, vars.get("GL_ID"), "gitlab"));
        }
        if let Some(name) = vars.get("GITHUB_USER_LOGIN") {
            return Some(pusher(name, None, None, "github"));
        }
        if let Some(name) = vars.get("GITEA_PUSHER_NAME") {
            return Some(pusher(name, vars.get("GITEA_PUSHER_EMAIL"), vars.get("GITEA_PUSHER_ID"), "gitea"));
        }
        if let Some(name) = vars.get("GL_USER") {
            return Some(pusher(name, None, None, "gitolite"));
        }
        if let Some(name) = vars.get("REMOTE_USER") {
            return Some(pusher(name, None, None, "http"));
        }
        vars.get("USER").or_else(|| vars.get("LOGNAME")).map(|name| pusher(name, None, None, "os"))
    }
}

impl PushContext {
    /// The push's context from the hook's environment; see [`Pusher::from_env`]
    /// for the order the layers are asked in.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> PushContext {
        let vars = Vars::read(env);
        let ssh = vars.get("SSH_CONNECTION");
        let project = vars
            .get("GL_PROJECT_PATH")
            .or_else(|| vars.get("GITHUB_REPO_NAME"))
            .or_else(|| {
                let name = vars.get("GITEA_REPO_NAME")?;
                Some(match vars.get("GITEA_REPO_USER_NAME") {
                    Some(owner) => format!("{owner}/{name}"),
                    None => name,
                })
            })
            .or_else(|| vars.get("GL_REPO"));
        let protocol = vars
            .get("GL_PROTOCOL")
            .or_else(|| vars.get("GITHUB_VIA"))
            .or_else(|| ssh.as_ref().map(|_| "ssh".to_owned()))
            .or_else(|| vars.get("REMOTE_ADDR").map(|_| "http".to_owned()));
        // `SSH_CONNECTION` is `client-ip client-port server-ip server-port`.
        let ssh_client = ssh.as_deref().and_then(|s| s.split_whitespace().next()).map(str::to_owned);
        let remote_address = vars.get("GITHUB_USER_IP").or(ssh_client).or_else(|| vars.get("REMOTE_ADDR"));
        let pull_request = PullRequest {
            author: vars.get("GITHUB_PULL_REQUEST_AUTHOR_LOGIN"),
            head: vars.get("GITHUB_PULL_REQUEST_HEAD"),
            base: vars.get("GITHUB_PULL_REQUEST_BASE"),
        };
        let pull_request = (pull_request != PullRequest::default()).then_some(pull_request);
        let certificate = vars.get("GIT_PUSH_CERT").map(|id| PushCertificate {
            id,
            signer: vars.get("GIT_PUSH_CERT_SIGNER"),
            key: vars.get("GIT_PUSH_CERT_KEY"),
            status: vars.get("GIT_PUSH_CERT_STATUS").unwrap_or_else(|| "N".to_owned()),
            nonce: vars.get("GIT_PUSH_CERT_NONCE"),
            nonce_status: vars.get("GIT_PUSH_CERT_NONCE_STATUS"),
        });
        let variables = vars.0.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        PushContext { project, protocol, remote_address, pull_request, certificate, variables }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
        |k| vars.iter().find(|(key, _)| *key == k).map(|(_, v)| (*v).to_owned())
    }

    fn pusher(vars: &[(&str, &str)]) -> Option<Pusher> {
        Pusher::from_env(env(vars))
    }

    #[test]
    fn gitlab() {
        let vars = [
            ("USER", "git"),
            ("GL_USERNAME", "ann"),
            ("GL_ID", "user-7"),
            ("GL_PROJECT_PATH", "group/app"),
            ("GL_PROTOCOL", "web"),
            ("GL_REPOSITORY", "project-12"),
        ];
        let p = pusher(&vars).expect("a pusher");
        assert_eq!((p.name.as_str(), p.id.as_deref(), p.source.as_str()), ("ann", Some("user-7"), "gitlab"));
        let c = PushContext::from_env(env(&vars));
        assert_eq!((c.project.as_deref(), c.protocol.as_deref()), (Some("group/app"), Some("web")));
        assert!(c.variables.contains(&("GL_REPOSITORY".into(), "project-12".into())));
    }

    #[test]
    fn github_enterprise() {
        let vars = [
            ("GITHUB_USER_LOGIN", "bob"),
            ("GITHUB_REPO_NAME", "org/repo"),
            ("GITHUB_VIA", "pull request merge button"),
            ("GITHUB_USER_IP", "192.0.2.4"),
            ("GITHUB_PULL_REQUEST_AUTHOR_LOGIN", "cy"),
            ("GITHUB_PULL_REQUEST_HEAD", "cy:topic"),
            ("GITHUB_PULL_REQUEST_BASE", "org:main"),
        ];
        assert_eq!(pusher(&vars).map(|p| (p.name, p.source)), Some(("bob".into(), "github".into())));
        let c = PushContext::from_env(env(&vars));
        assert_eq!(c.project.as_deref(), Some("org/repo"));
        assert_eq!(c.protocol.as_deref(), Some("pull request merge button"));
        assert_eq!(c.remote_address.as_deref(), Some("192.0.2.4"));
        let pr = c.pull_request.expect("a pull request");
        assert_eq!((pr.author.as_deref(), pr.head.as_deref()), (Some("cy"), Some("cy:topic")));
    }

    #[test]
    fn gitea_gives_an_email_and_an_owner() {
        let vars = [
            ("GITEA_PUSHER_NAME", "dee"),
            ("GITEA_PUSHER_EMAIL", "dee@example.com"),
            ("GITEA_PUSHER_ID", "3"),
            ("GITEA_REPO_USER_NAME", "team"),
            ("GITEA_REPO_NAME", "site"),
        ];
        let p = pusher(&vars).expect("a pusher");
        assert_eq!(
            (p.email.as_deref(), p.id.as_deref(), p.source.as_str()),
            (Some("dee@example.com"), Some("3"), "gitea")
        );
        assert_eq!(PushContext::from_env(env(&vars)).project.as_deref(), Some("team/site"));
    }

    #[test]
    fn plain_ssh_and_http() {
        let ssh = [("USER", "git"), ("SSH_CONNECTION", "198.51.100.7 52014 10.0.0.2 22")];
        assert_eq!(pusher(&ssh).map(|p| (p.name, p.source)), Some(("git".into(), "os".into())));
        let c = PushContext::from_env(env(&ssh));
        assert_eq!((c.protocol.as_deref(), c.remote_address.as_deref()), (Some("ssh"), Some("198.51.100.7")));

        let http = [("USER", "www-data"), ("REMOTE_USER", "cy"), ("REMOTE_ADDR", "203.0.113.9")];
        assert_eq!(pusher(&http).map(|p| (p.name, p.source)), Some(("cy".into(), "http".into())));
        let c = PushContext::from_env(env(&http));
        assert_eq!((c.protocol.as_deref(), c.remote_address.as_deref()), (Some("http"), Some("203.0.113.9")));
    }

    #[test]
    fn gitolite_and_a_shared_ssh_account() {
        let gitolite =
            [("USER", "git"), ("GL_USER", "alice"), ("GL_REPO", "team/app"), ("SSH_CONNECTION", "::1 5 ::1 22")];
        assert_eq!(pusher(&gitolite).map(|p| (p.name, p.source)), Some(("alice".into(), "gitolite".into())));
        let c = PushContext::from_env(env(&gitolite));
        assert_eq!((c.project.as_deref(), c.protocol.as_deref()), (Some("team/app"), Some("ssh")));

        let shared = [("USER", "git"), ("HOOKRT_PUSHER", "bob"), ("REMOTE_USER", "x"), ("GL_USER", "y")];
        assert_eq!(pusher(&shared).map(|p| (p.name, p.source)), Some(("bob".into(), "server".into())));
    }

    #[test]
    fn signed_push_certificate() {
        let vars = [
            ("GIT_PUSH_CERT", "0123456789012345678901234567890123456789"),
            ("GIT_PUSH_CERT_SIGNER", "Ann <ann@example.com>"),
            ("GIT_PUSH_CERT_STATUS", "G"),
            ("GIT_PUSH_CERT_NONCE_STATUS", "OK"),
        ];
        let cert = PushContext::from_env(env(&vars)).certificate.expect("a certificate");
        assert_eq!((cert.status.as_str(), cert.nonce_status.as_deref()), ("G", Some("OK")));
        assert_eq!(cert.signer.as_deref(), Some("Ann <ann@example.com>"));
    }

    #[test]
    fn empty_values_are_absent_and_nothing_else_is_read() {
        assert_eq!(pusher(&[("GL_USERNAME", ""), ("USER", " ")]), None);
        assert_eq!(pusher(&[]), None);
        let c = PushContext::from_env(env(&[("PATH", "/bin"), ("GL_PROTOCOL", "ssh"), ("SECRET_TOKEN", "x")]));
        assert_eq!(c.variables, [("GL_PROTOCOL".to_owned(), "ssh".to_owned())]);
    }
}
