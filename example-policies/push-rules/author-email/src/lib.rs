//! author-email: new commits are authored and committed from the company's
//! addresses.
//!
//! GitLab's push rule "Commit author's email": both the author's and the
//! committer's e-mail address of every commit new to the repository must
//! match the admin's regular expression. Commits already in the repository
//! are not checked again: branching from old history, written before the
//! rule, must still work. Each address is a veto of its own, naming which
//! one (author or committer) and the address, since they are fixed
//! differently.
//!
//! ```toml
//! [policy.author-email.settings]
//! email-regex = '(?i)@example\.com$'   # required; (?i): domains have no case
//! ```

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Filter, Push, RefKind, SettingError, Verdict, Veto};
use regex::Regex;

/// The admin's settings, checked.
struct Settings {
    /// What both e-mail addresses must match (`as_str()` is as written).
    email: Regex,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let email_regex: String = s.required("email-regex");
        match compile(&email_regex) {
            Ok(email) => s.finish(Settings { email }),
            Err(problem) => {
                s.error("email-regex", problem);
                Err(s.finish(()).err().unwrap_or_default())
            }
        }
    }
}

/// `regex` compiled, or what is wrong with it.
fn compile(regex: &str) -> Result<Regex, String> {
    if regex.is_empty() {
        return Err(
            "write what the addresses must match, e.g. '(?i)@example\\.com$' (an empty one matches every address)"
                .into(),
        );
    }
    Regex::new(regex).map_err(|e| {
        let text = e.to_string();
        let why = text.lines().find_map(|l| l.strip_prefix("error: ")).unwrap_or(text.trim());
        format!("'{regex}' is not a valid regular expression: {why}")
    })
}

fn check(push: &Push, settings: &Settings) -> Verdict {
    let expected = settings.email.as_str();
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind != RefKind::Delete) {
        for commit in update.commits(Filter::AddedToRepository) {
            if !settings.email.is_match(&commit.author.email) {
                vetoes.push(Veto::commit(
                    update,
                    &commit,
                    format!("author email {:?} does not match the required expression {expected}", commit.author.email),
                    "Set your work address and rewrite the commits with it, then push again:\n\
                     git config user.email <your work address>\n\
                     git rebase --exec 'git commit --amend --no-edit --reset-author' origin/main",
                ));
            }
            if !settings.email.is_match(&commit.committer.email) {
                vetoes.push(Veto::commit(
                    update,
                    &commit,
                    format!(
                        "committer email {:?} does not match the required expression {expected}",
                        commit.committer.email
                    ),
                    "The committer is whoever last rewrote the commit (rebase, cherry-pick, amend).\n\
                     Set your work address and rewrite the commits, then push again:\n\
                     git config user.email <your work address>\n\
                     git rebase --force-rebase origin/main",
                ));
            }
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check, Settings);

#[cfg(test)]
mod tests {
    use super::compile;

    #[test]
    fn the_documented_expression_takes_the_domain_only() {
        let pattern = compile(r"(?i)@example\.com$").expect("valid");
        for email in ["ann@example.com", "Bob.Builder@EXAMPLE.COM"] {
            assert!(pattern.is_match(email), "{email}");
        }
        for email in ["ann@example.org", "ann@example.com.evil.org", "ann@exampleXcom", ""] {
            assert!(!pattern.is_match(email), "{email}");
        }
    }

    #[test]
    fn bad_expressions_say_why() {
        assert_eq!(
            compile("(@example.com").err().as_deref(),
            Some("'(@example.com' is not a valid regular expression: unclosed group")
        );
        assert!(compile("").is_err_and(|e| e.contains("an empty one matches every address")));
    }
}
