//! prohibited-files: files that usually hold secrets are not pushed.
//!
//! GitLab's push rule "Prevent pushing secret files": a file whose path
//! matches one of the expressions (by default [`SECRET_FILES`], GitLab's own
//! list, `files_denylist.yml`: SSH private keys, `.pem`/`.key` files, AWS
//! credentials, shell histories) is vetoed when a commit new to the
//! repository adds it at a path no branch had before the push
//! (`change.new_to_repository`). As GitLab says, files already committed are
//! not affected: the rule stops new leaks and does not make every later push
//! of an old repository fail. Only file names are checked, never contents,
//! so the check is cheap.
//!
//! ```toml
//! [policy.prohibited-files.settings]
//! # Added to the list; `.env` files are not on GitLab's (templates such as
//! # .env.example are common and harmless): this forbids them.
//! extra-path-regexes = ['(^|/)\.env$']
//! # Replaces the list (GitLab's by default).
//! # path-regexes = ['id_rsa$', '\.(pem|key)$']
//! ```
//!
//! Paths are `/`-separated, from the repository root; an expression may
//! match anywhere in the path.

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Change, Filter, Push, RefKind, SettingError, Verdict, Veto};
use regex::{Regex, RegexSet};

/// The default `path-regexes`: GitLab's list.
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

/// The admin's settings, checked.
struct Settings {
    /// The expressions, as written: `path-regexes`, then `extra-path-regexes`.
    regexes: Vec<String>,
    /// The same, compiled.
    set: RegexSet,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let defaults = SECRET_FILES.iter().map(|r| r.to_string()).collect();
        let mut regexes: Vec<String> = s.or("path-regexes", defaults);
        let extra: Vec<String> = s.or("extra-path-regexes", Vec::new());
        let mut valid = true;
        for (key, list) in [("path-regexes", &regexes), ("extra-path-regexes", &extra)] {
            for problem in list.iter().filter_map(|r| regex_problem(r)) {
                s.error(key, problem);
                valid = false;
            }
        }
        regexes.extend(extra);
        if regexes.is_empty() {
            s.error(
                "path-regexes",
                "list at least one expression, e.g. ['id_rsa$']; to allow every file, remove the policy",
            );
        }
        let mut set = None;
        if valid {
            match RegexSet::new(&regexes) {
                Ok(compiled) => set = Some(compiled),
                // Valid expressions fail together only when the set grows too big.
                Err(err) => s.error("path-regexes", format!("the expressions are too many or too big together: {err}")),
            }
        }
        match set {
            Some(set) => s.finish(Settings { regexes, set }),
            // Every problem recorded above, and any unknown key.
            None => Err(s.finish(()).err().unwrap_or_default()),
        }
    }
}

/// What is wrong with `regex` as a path expression, if anything.
fn regex_problem(regex: &str) -> Option<String> {
    if regex.is_empty() {
        return Some("an empty expression matches every path: remove it, or write e.g. 'id_rsa$'".into());
    }
    Regex::new(regex).err().map(|e| {
        let text = e.to_string();
        let why = text.lines().find_map(|l| l.strip_prefix("error: ")).unwrap_or(text.trim());
        format!("'{regex}' is not a valid regular expression: {why}")
    })
}

/// Whether the change adds a file (or symlink) at a path new to the
/// repository.
fn is_new_file(change: &Change) -> bool {
    change.new_to_repository && change.exists_after() && change.is_blob()
}

fn check(push: &Push, settings: &Settings) -> Verdict {
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
                        hookrt_guest::unreadable_detail(&err),
                    ));
                    continue;
                }
            };
            for change in changes.iter().filter(|c| is_new_file(c)) {
                if let Some(index) = settings.set.matches(&change.path).into_iter().next() {
                    vetoes.push(Veto::commit(
                        update,
                        &commit,
                        format!(
                            "{} may hold a secret (its name matches {}): it can't be pushed",
                            change.path, settings.regexes[index]
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

hookrt_guest::policy!(check, Settings);

#[cfg(test)]
mod tests {
    use super::{SECRET_FILES, regex_problem};
    use regex::RegexSet;

    #[test]
    fn the_list_catches_gitlabs_examples() {
        let set = RegexSet::new(SECRET_FILES).expect("valid expressions");
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
            assert!(set.is_match(path), "{path}");
        }
        for path in ["id_rsa.pub", "src/keyboard.rs", "docs/history.md", "aws/credentials.md", "key"] {
            assert!(!set.is_match(path), "{path}");
        }
    }

    #[test]
    fn expressions_are_checked() {
        assert_eq!(regex_problem(r"(^|/)\.env$"), None);
        assert_eq!(
            regex_problem(r"\.(pem|key$").as_deref(),
            Some(r"'\.(pem|key$' is not a valid regular expression: unclosed group")
        );
        assert!(regex_problem("").is_some_and(|p| p.contains("matches every path")));
    }
}
