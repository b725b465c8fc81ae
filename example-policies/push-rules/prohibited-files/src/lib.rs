//! prohibited-files: files that usually hold secrets are not pushed.
//!
//! GitLab's push rule "Prevent pushing secret files": a file whose path
//! matches one of [`SECRET_FILES`] (GitLab's own list, `files_denylist.yml`:
//! SSH private keys, `.pem`/`.key` files, AWS credentials, shell histories)
//! is vetoed when a commit new to the repository adds it at a path no branch
//! had before the push (`change.new_to_repository`). As GitLab says, files
//! already committed are not affected: the rule stops new leaks and does not
//! make every later push of an old repository fail. Only file names are
//! checked, never contents, so the check is cheap.
//!
//! `.env` files are not on GitLab's list (templates such as `.env.example`
//! are common and harmless); add `(^|/)\.env$` below to forbid them.

use std::sync::LazyLock;

use hookrt_guest::{Change, Filter, Push, RefKind, Verdict, Veto};
use regex::RegexSet;

// Until policies get settings (issue 6), the parameters are constants here.

/// Paths (`/`-separated, from the repository root) that may not be added,
/// as regular expressions matched anywhere in the path.
const SECRET_FILES: &[&str] = &[
    // AWS CLI credentials
    r"aws/credentials$",
    // SSH private keys: RSA, DSA, ECDSA, Ed25519, and the FIDO (-sk) kinds
    r"(ssh|config)/(personal|server)_(rsa|dsa|ed25519|ecdsa|ecdsa_sk|ed25519_sk)",
    r"id_rsa$",
    r"id_dsa$",
    r"id_ed25519$",
    r"id_ecdsa$",
    r"id_ecdsa_sk$",
    r"id_ed25519_sk$",
    // privatekey.pem, secret.key
    r"\.(pem|key)$",
    // shell and REPL histories: .bash_history, .psql_history, .python_history…
    r"[._]history$",
];

// Compiled on first use. An invalid constant is a bug of this policy: the unit
// test below catches it, and on a server the panic rejects the push.
static PATTERNS: LazyLock<RegexSet> =
    LazyLock::new(|| RegexSet::new(SECRET_FILES).expect("SECRET_FILES are valid regexes"));

/// Whether the change adds a file (or symlink) at a path new to the
/// repository.
fn is_new_file(change: &Change) -> bool {
    change.new_to_repository && change.exists_after() && change.is_blob()
}

fn check(push: &Push) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind != RefKind::Delete) {
        for commit in update.commits(Filter::AddedToRepository) {
            let changes = match commit.changes() {
                Ok(changes) => changes,
                // Fail closed: a commit whose files can't be listed can't be cleared.
                Err(err) => {
                    vetoes.push(Veto::commit(
                        update,
                        &commit,
                        "the repository could not be read to check the commit's files",
                        format!("Try the push again; if it keeps failing, tell a repository admin ({err:?})."),
                    ));
                    continue;
                }
            };
            for change in changes.iter().filter(|c| is_new_file(c)) {
                if let Some(index) = PATTERNS.matches(&change.path).into_iter().next() {
                    vetoes.push(Veto::commit(
                        update,
                        &commit,
                        format!(
                            "{} may hold a secret (its name matches {}): it can't be pushed",
                            change.path, SECRET_FILES[index]
                        ),
                        format!(
                            "Take it out of the commit and keep it out of git, then push again:\n\
                             git rm --cached '{path}' && echo '/{path}' >> .gitignore\n\
                             git commit --amend (or git rebase -i for an older commit)",
                            path = change.path
                        ),
                    ));
                }
            }
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check);

#[cfg(test)]
mod tests {
    use super::PATTERNS;

    #[test]
    fn the_list_catches_gitlabs_examples() {
        for path in [
            "id_rsa",
            "home/.ssh/id_ed25519",
            ".aws/credentials",
            "deploy/server.pem",
            "tls/secret.key",
            ".bash_history",
            "config/server_rsa",
            "root/.python_history",
        ] {
            assert!(PATTERNS.is_match(path), "{path}");
        }
        for path in ["id_rsa.pub", "src/keyboard.rs", "docs/history.md", "aws/credentials.md", "key"] {
            assert!(!PATTERNS.is_match(path), "{path}");
        }
    }
}
