//! The server's policies on a developer's clone, before anything is pushed.
//!
//! The server publishes its policy set as a ref ([`POLICY_REF`], by
//! [`publish`]); `hookrt client sync` fetches it into the clone ([`sync`]);
//! `hookrt client install` makes git run hookrt as the clone's pre-push and
//! commit-msg hooks, which run those very components over the commits about
//! to be pushed ([`pre_push`]) or the commit being made ([`commit`]). The
//! server decides: on a clone, only a veto stops anything; a policy that
//! fails is a warning.

pub mod commit;
pub mod pre_push;
pub mod publish;
pub mod sync;

use std::path::{Path, PathBuf};

use crate::policy::Scopes;

/// The ref a server keeps its published policy set in: a commit whose tree
/// holds `server/` (the server-wide directory) and `repository/` (the
/// repository's), each a `hookrt.toml` and its modules.
pub const POLICY_REF: &str = "refs/hookrt/policies";

/// Where a clone keeps the policy set it synced.
pub fn policy_dir(git_dir: &Path) -> PathBuf {
    git_dir.join("hookrt").join("client")
}

/// The scopes a clone's hooks read: the synced set, laid out as on the
/// server. Neither has to exist (a clone that never synced has none; the
/// hook then says to sync).
pub fn scopes(git_dir: &Path) -> Scopes {
    let dir = policy_dir(git_dir);
    Scopes {
        global: Some(dir.join(publish::SERVER_DIR)),
        global_required: false,
        repository: dir.join(publish::REPOSITORY_DIR),
        repository_required: false,
    }
}

/// The local git user, as the pusher a clone's policies see (the server
/// knows the account; the clone knows `user.name` and `user.email`).
pub fn local_user(work_dir: &Path) -> Option<crate::Pusher> {
    let get = |key: &str| crate::server::git(work_dir, &["config", "--get", key]).ok().filter(|v| !v.is_empty());
    let name = get("user.name")?;
    Some(crate::Pusher { name, email: get("user.email"), id: None, source: "client".into() })
}
