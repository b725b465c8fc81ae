//! commit-message: new commits name an issue and are not fixups.
//!
//! GitLab's push rules "Require expression in commit messages" and "Reject
//! expression in commit messages" together: the message of every commit new
//! to the repository must match [`REQUIRED`] and must not match
//! [`REJECTED`]. Only commits new to the repository are checked (as GitLab
//! does): history that is already on some branch was judged when it was
//! pushed, and branching from it must not fail because of old messages.
//! Merge commits are checked too, as GitLab does: give them a message that
//! names the issue (`git merge -m "Merge topic for #12"`).
//!
//! The whole message is matched, not only its subject, so the issue may be
//! named in the body ("Closes #12").

use std::sync::LazyLock;

use hookrt_guest::{Commit, Filter, Push, RefKind, RefUpdate, Verdict, Veto};
use regex::Regex;

// Until policies get settings (issue 6), the parameters are constants here.

/// What every message must contain: an issue reference in GitLab's form,
/// `#123` or `group/project#123`, standing on its own (not `&#123;`, not
/// `abc#1`).
const REQUIRED: &str = r"(?:^|[\s(\[])(?:[\w.-]+/[\w./-]+)?#\d+\b";
/// What no message may contain: `git commit --fixup/--squash` commits meant
/// to be squashed before they are shared, and "do not merge" markers.
const REJECTED: &str = r"(?i)\A(?:fixup|squash|amend)!|\bdo not merge\b";

// Compiled on first use. An invalid constant is a bug of this policy: the unit
// tests below catch it, and on a server the panic rejects the push.
static REQUIRED_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(REQUIRED).expect("REQUIRED is a valid regex"));
static REJECTED_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(REJECTED).expect("REJECTED is a valid regex"));

/// The vetoes `commit` earns: one per expression it fails.
fn message_vetoes(update: &RefUpdate, commit: &Commit) -> Vec<Veto> {
    let mut vetoes = Vec::new();
    if !REQUIRED_RE.is_match(&commit.message) {
        vetoes.push(Veto::commit(
            update,
            commit,
            format!("commit message does not match the required expression {REQUIRED}"),
            "Name the issue the commit belongs to, e.g. \"Fix the parser (#123)\", then push again:\n\
             git commit --amend (the last commit) or git rebase -i (older ones), reword.",
        ));
    }
    if let Some(found) = REJECTED_RE.find(&commit.message) {
        vetoes.push(Veto::commit(
            update,
            commit,
            format!("commit message contains {:?}, rejected by the expression {REJECTED}", found.as_str()),
            "Squash fixup commits into the commits they fix (git rebase -i --autosquash), \
             or reword the message, then push again.",
        ));
    }
    vetoes
}

fn check(push: &Push) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind != RefKind::Delete) {
        for commit in update.commits(Filter::AddedToRepository) {
            vetoes.extend(message_vetoes(update, &commit));
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check);

#[cfg(test)]
mod tests {
    use super::{REJECTED_RE, REQUIRED_RE};

    #[test]
    fn required_finds_issue_references() {
        for message in ["Fix the parser (#12)", "#7 start", "Fix it\n\nCloses group/project#12", "see [#3]"] {
            assert!(REQUIRED_RE.is_match(message), "{message}");
        }
        for message in ["Fix the parser", "abc#12", "&#123; entity", "# 12", "#x"] {
            assert!(!REQUIRED_RE.is_match(message), "{message}");
        }
    }

    #[test]
    fn rejected_finds_fixups_and_markers() {
        for message in ["fixup! Fix #1", "squash! x", "amend! x", "Try #2 (DO NOT MERGE)", "wip\n\ndo not merge"] {
            assert!(REJECTED_RE.is_match(message), "{message}");
        }
        for message in ["Fix the fixup! handling (#1)", "Fix #1", "do not merged"] {
            assert!(!REJECTED_RE.is_match(message), "{message}");
        }
    }
}
