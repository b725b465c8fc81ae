//! Who pushed, as the layer in front of git says.
//!
//! Git itself does not know who pushes: the transport or the hosting layer
//! does, and each tells the hook in its own environment variables. The
//! adapters here turn those into one [`Pusher`]. The values are data only:
//! they are handed to policies as strings and never used as paths, config
//! or commands.

/// The person or account behind the push.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pusher {
    /// The login or account name.
    pub name: String,
    /// The e-mail address, where the hosting layer gives one.
    pub email: Option<String>,
    /// Which layer said so: `gitlab`, `github`, `gitea`, `http`, `os`, or
    /// `test` under `hookrt test`.
    #[serde(default = "test_source")]
    pub source: String,
}

fn test_source() -> String {
    "test".to_owned()
}

impl Pusher {
    /// The pusher from the hook's environment (`env` is a lookup such as
    /// `std::env::var`), asking the hosting layers first: GitLab
    /// (`GL_USERNAME`), GitHub Enterprise (`GITHUB_USER_LOGIN`), Gitea and
    /// Forgejo (`GITEA_PUSHER_NAME`, `GITEA_PUSHER_EMAIL`), then a web
    /// server's authenticated user (`REMOTE_USER`, smart HTTP), and last the
    /// account git runs as (`USER`, `LOGNAME`: the ssh login on a plain ssh
    /// server). Empty values count as absent.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Option<Pusher> {
        let get = |key: &str| env(key).filter(|v| !v.trim().is_empty());
        let pusher =
            |name: String, email: Option<String>, source: &str| Pusher { name, email, source: source.to_owned() };
        if let Some(name) = get("GL_USERNAME") {
            return Some(pusher(name, None, "gitlab"));
        }
        if let Some(name) = get("GITHUB_USER_LOGIN") {
            return Some(pusher(name, None, "github"));
        }
        if let Some(name) = get("GITEA_PUSHER_NAME") {
            return Some(pusher(name, get("GITEA_PUSHER_EMAIL"), "gitea"));
        }
        if let Some(name) = get("REMOTE_USER") {
            return Some(pusher(name, None, "http"));
        }
        get("USER").or_else(|| get("LOGNAME")).map(|name| pusher(name, None, "os"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(vars: &[(&str, &str)]) -> Option<Pusher> {
        Pusher::from_env(|k| vars.iter().find(|(key, _)| *key == k).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn hosting_layers_come_before_the_os_account() {
        let git = [("USER", "git")];
        assert_eq!(from(&git).map(|p| (p.name, p.source)), Some(("git".into(), "os".into())));
        let gitlab = [("USER", "git"), ("GL_USERNAME", "ann"), ("GL_ID", "user-7")];
        assert_eq!(from(&gitlab).map(|p| (p.name, p.source)), Some(("ann".into(), "gitlab".into())));
        let github = [("USER", "git"), ("GITHUB_USER_LOGIN", "bob")];
        assert_eq!(from(&github).map(|p| (p.name, p.source)), Some(("bob".into(), "github".into())));
        let http = [("USER", "www-data"), ("REMOTE_USER", "cy")];
        assert_eq!(from(&http).map(|p| (p.name, p.source)), Some(("cy".into(), "http".into())));
    }

    #[test]
    fn gitea_gives_an_email() {
        let gitea = [("GITEA_PUSHER_NAME", "dee"), ("GITEA_PUSHER_EMAIL", "dee@example.com")];
        let pusher = from(&gitea).expect("a pusher");
        assert_eq!((pusher.name.as_str(), pusher.email.as_deref()), ("dee", Some("dee@example.com")));
        assert_eq!(pusher.source, "gitea");
    }

    #[test]
    fn empty_values_are_absent() {
        assert_eq!(from(&[("GL_USERNAME", ""), ("USER", " ")]), None);
        assert_eq!(from(&[]), None);
    }
}
