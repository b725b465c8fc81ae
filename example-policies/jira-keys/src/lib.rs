//! jira-keys: every new commit names a Jira issue.
//!
//! The classic pre-receive script (seed 000) as a policy: each commit new to
//! the repository must carry a key matching `(KEY1|KEY2|…)-\d+` as a whole
//! word, for one of the Jira projects the admin lists:
//!
//! ```toml
//! [policy.jira-keys.settings]
//! projects = ["HOOK", "OPS"]   # required: the accepted Jira project keys
//! ```

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Filter, Push, SettingError, Verdict, Veto};

/// The admin's settings, checked.
struct Settings {
    /// The accepted Jira project keys; at least one.
    projects: Vec<String>,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let projects: Vec<String> = s.required("projects");
        if projects.is_empty() {
            s.error("projects", "list at least one Jira project key, e.g. projects = [\"PROJ\"]");
        }
        for problem in projects.iter().filter_map(|key| key_problem(key)) {
            s.error("projects", problem);
        }
        s.finish(Settings { projects })
    }
}

/// What is wrong with `key` as a Jira project key (a capital letter, then
/// capitals, digits or underscores), if anything.
fn key_problem(key: &str) -> Option<String> {
    let is_key = |k: &str| {
        k.len() >= 2
            && k.starts_with(|c: char| c.is_ascii_uppercase())
            && k.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    if is_key(key) {
        return None;
    }
    let mut problem = format!(
        "{key:?} is not a Jira project key: write the key alone, a capital letter then capitals, digits \
         or underscores, e.g. \"PROJ\""
    );
    // "hook", "HOOK-", "HOOK-123": say which key was meant.
    let guess = key.split('-').next().unwrap_or(key).trim().to_ascii_uppercase();
    if is_key(&guess) {
        problem.push_str(&format!(" (did you mean \"{guess}\"?)"));
    }
    Some(problem)
}

/// Whether `message` contains `KEY-<digits>` for one of `keys`, not glued to
/// a longer word on either side.
fn has_issue_key(message: &str, keys: &[String]) -> bool {
    let bytes = message.as_bytes();
    let word = |i: usize| bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
    keys.iter().any(|key| {
        let pattern = format!("{key}-");
        message.match_indices(&pattern).any(|(at, _)| {
            let digits_start = at + pattern.len();
            let digits = bytes[digits_start..].iter().take_while(|b| b.is_ascii_digit()).count();
            digits > 0 && (at == 0 || !word(at - 1)) && !word(digits_start + digits)
        })
    })
}

fn check(push: &Push, settings: &Settings) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates() {
        for commit in update.commits(Filter::AddedToRepository) {
            if !has_issue_key(&commit.message, &settings.projects) {
                vetoes.push(Veto::commit(
                    update,
                    &commit,
                    "no Jira issue key in the commit message",
                    format!(
                        "Name the issue this commit belongs to, e.g. {}-123, then push again \
                         (git commit --amend, or git rebase -i for older commits).",
                        settings.projects[0]
                    ),
                ));
            }
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check, Settings);

#[cfg(test)]
mod tests {
    use super::{has_issue_key, key_problem};

    #[test]
    fn matches_keys_as_words() {
        let keys = ["HOOK".to_owned(), "OPS".to_owned()];
        assert!(has_issue_key("HOOK-12 fix the parser", &keys));
        assert!(has_issue_key("Fix (OPS-7)", &keys));
        assert!(!has_issue_key("HOOK- fix", &keys));
        assert!(!has_issue_key("XHOOK-12 fix", &keys));
        assert!(!has_issue_key("HOOK-12a fix", &keys));
        assert!(!has_issue_key("just a fix", &keys));
        assert!(!has_issue_key("DATA-3 fix", &keys));
        assert!(has_issue_key("DATA-3 fix", &["DATA".to_owned()]));
    }

    #[test]
    fn project_keys_are_checked() {
        for key in ["HOOK", "OPS", "AB", "A1_B"] {
            assert_eq!(key_problem(key), None, "{key}");
        }
        for key in ["", "H", "1AB", "_AB", "HO OK", "Hook"] {
            assert!(key_problem(key).is_some(), "{key}");
        }
        let problem = key_problem("hook").unwrap_or_default();
        assert!(problem.contains("\"hook\" is not a Jira project key"), "{problem}");
        assert!(problem.ends_with("(did you mean \"HOOK\"?)"), "{problem}");
        let problem = key_problem("HOOK-123").unwrap_or_default();
        assert!(problem.ends_with("(did you mean \"HOOK\"?)"), "{problem}");
        assert!(!key_problem("1").unwrap_or_default().contains("did you mean"));
    }
}
