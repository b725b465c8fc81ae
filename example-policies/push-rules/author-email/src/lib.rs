//! author-email: new commits are authored and committed from the company's
//! addresses.
//!
//! GitLab's push rule "Commit author's email": both the author's and the
//! committer's e-mail address of every commit new to the repository must
//! match [`EMAIL`]. Commits already in the repository are not checked again:
//! branching from old history, written before the rule, must still work.
//! Each address is a veto of its own, naming which one (author or committer)
//! and the address, since they are fixed differently.

use std::sync::LazyLock;

use hookrt_guest::{Filter, Push, RefKind, Verdict, Veto};
use regex::Regex;

// Until policies get settings (issue 6), the parameters are constants here.

/// What both e-mail addresses must match. Case-insensitive: domains are.
const EMAIL: &str = r"(?i)@example\.com$";

// Compiled on first use. An invalid constant is a bug of this policy: the unit
// test below catches it, and on a server the panic rejects the push.
static PATTERN: LazyLock<Regex> = LazyLock::new(|| Regex::new(EMAIL).expect("EMAIL is a valid regex"));

fn check(push: &Push) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind != RefKind::Delete) {
        for commit in update.commits(Filter::AddedToRepository) {
            if !PATTERN.is_match(&commit.author.email) {
                vetoes.push(Veto::commit(
                    update,
                    &commit,
                    format!("author email {:?} does not match the required expression {EMAIL}", commit.author.email),
                    "Set your work address and rewrite the commits with it, then push again:\n\
                     git config user.email you@example.com\n\
                     git rebase --exec 'git commit --amend --no-edit --reset-author' origin/main",
                ));
            }
            if !PATTERN.is_match(&commit.committer.email) {
                vetoes.push(Veto::commit(
                    update,
                    &commit,
                    format!(
                        "committer email {:?} does not match the required expression {EMAIL}",
                        commit.committer.email
                    ),
                    "The committer is whoever last rewrote the commit (rebase, cherry-pick, amend).\n\
                     Set your work address and rewrite the commits, then push again:\n\
                     git config user.email you@example.com\n\
                     git rebase --force-rebase origin/main",
                ));
            }
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check);

#[cfg(test)]
mod tests {
    use super::PATTERN;

    #[test]
    fn the_pattern_takes_the_domain_only() {
        for email in ["ann@example.com", "Bob.Builder@EXAMPLE.COM"] {
            assert!(PATTERN.is_match(email), "{email}");
        }
        for email in ["ann@example.org", "ann@example.com.evil.org", "ann@exampleXcom", ""] {
            assert!(!PATTERN.is_match(email), "{email}");
        }
    }
}
