//! jira-keys: every new commit names a Jira issue.
//!
//! The classic pre-receive script (seed 000) as a policy: each commit new to
//! the repository must carry a key matching `(KEY1|KEY2|…)-\d+` as a whole
//! word. The keys are a constant until per-policy settings exist.

use hookrt_guest::{Filter, Push, Verdict, Veto};

/// The accepted Jira project keys.
const PROJECT_KEYS: &[&str] = &["HOOK", "OPS"];

/// Whether `message` contains `KEY-<digits>` for one of the keys, not glued
/// to a longer word on either side.
fn has_issue_key(message: &str) -> bool {
    let bytes = message.as_bytes();
    let word = |i: usize| bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
    PROJECT_KEYS.iter().any(|key| {
        let pattern = format!("{key}-");
        message.match_indices(&pattern).any(|(at, _)| {
            let digits_start = at + pattern.len();
            let digits = bytes[digits_start..].iter().take_while(|b| b.is_ascii_digit()).count();
            digits > 0 && (at == 0 || !word(at - 1)) && !word(digits_start + digits)
        })
    })
}

fn check(push: &Push) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates() {
        for commit in update.commits(Filter::AddedToRepository) {
            if !has_issue_key(&commit.message) {
                vetoes.push(Veto::commit(
                    update,
                    &commit,
                    "no Jira issue key in the commit message",
                    format!(
                        "Name the issue this commit belongs to, e.g. {}-123, then push again \
                         (git commit --amend, or git rebase -i for older commits).",
                        PROJECT_KEYS[0]
                    ),
                ));
            }
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check);

#[cfg(test)]
mod tests {
    use super::has_issue_key;

    #[test]
    fn matches_keys_as_words() {
        assert!(has_issue_key("HOOK-12 fix the parser"));
        assert!(has_issue_key("Fix (OPS-7)"));
        assert!(!has_issue_key("HOOK- fix"));
        assert!(!has_issue_key("XHOOK-12 fix"));
        assert!(!has_issue_key("HOOK-12a fix"));
        assert!(!has_issue_key("just a fix"));
    }
}
