//! no-wip: work-in-progress commits don't get pushed.
//!
//! Bitbucket's `WorkInProgressHook`: a commit new to the repository whose
//! message starts with "WIP" or "work in progress" (any case) is vetoed. The
//! walk stops at the first such commit on each ref: one is enough to reject
//! the push, and the author fixes them all in one rebase anyway.
//!
//! ```toml
//! [policy.no-wip.settings]
//! prefixes = ["WIP", "work in progress"]   # the default; compared in any case
//! ```

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Filter, Push, SettingError, Verdict, Veto};

/// The admin's settings, checked.
struct Settings {
    /// How a work-in-progress message starts, compared without regard to
    /// ASCII case; at least one, none empty.
    prefixes: Vec<String>,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let prefixes = s.or("prefixes", vec!["WIP".to_owned(), "work in progress".to_owned()]);
        if prefixes.is_empty() {
            s.error("prefixes", "list at least one prefix, e.g. [\"WIP\"]; to allow every commit, remove the policy");
        }
        if prefixes.iter().any(|p| p.trim().is_empty()) {
            s.error("prefixes", "an empty prefix would match every message: remove it from the list");
        }
        s.finish(Settings { prefixes })
    }
}

/// Whether `message` starts (after blank space) with one of `prefixes`, in
/// any case.
fn is_wip(message: &str, prefixes: &[String]) -> bool {
    let start = message.trim_start();
    prefixes.iter().any(|p| start.get(..p.len()).is_some_and(|s| s.eq_ignore_ascii_case(p)))
}

fn check(push: &Push, settings: &Settings) -> Verdict {
    let prefixes = &settings.prefixes;
    let mut vetoes = Vec::new();
    for update in push.updates() {
        if let Some(commit) = update.commits(Filter::AddedToRepository).find(|c| is_wip(&c.message, prefixes)) {
            vetoes.push(Veto::commit(
                update,
                &commit,
                "work-in-progress commits can't be pushed",
                "Finish the work, or reword the commit (git rebase -i), then push again.",
            ));
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check, Settings);

#[cfg(test)]
mod tests {
    use super::is_wip;

    #[test]
    fn prefixes_in_any_case() {
        let prefixes = ["WIP".to_owned(), "work in progress".to_owned()];
        assert!(is_wip("WIP: half a lexer", &prefixes));
        assert!(is_wip("  wip", &prefixes));
        assert!(is_wip("Work In Progress on the parser", &prefixes));
        assert!(!is_wip("finish the lexer", &prefixes));
        assert!(!is_wip("work in prog", &prefixes));
        assert!(!is_wip("ä", &prefixes), "a prefix ending inside a character");
        assert!(is_wip("draft: x", &["Draft:".to_owned()]));
    }
}
