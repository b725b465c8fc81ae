//! commit-message: new commits name an issue and are not fixups.
//!
//! GitLab's push rules "Require expression in commit messages" and "Reject
//! expression in commit messages" together: the message of every commit new
//! to the repository must match `required-regex` and must not match
//! `rejected-regex`. Only commits new to the repository are checked (as
//! GitLab does): history that is already on some branch was judged when it
//! was pushed, and branching from it must not fail because of old messages.
//! Merge commits are checked too, as GitLab does: give them a message that
//! names the issue (`git merge -m "Merge topic for #12"`).
//!
//! The whole message is matched, not only its subject, so the issue may be
//! named in the body ("Closes #12").
//!
//! ```toml
//! [policy.commit-message.settings]
//! # What every message must contain; the default is an issue reference in
//! # GitLab's form, #123 or group/project#123, standing on its own (not
//! # &#123;, not abc#1). "" requires nothing, as a blank field in GitLab.
//! required-regex = '(?:^|[\s(\[])(?:[\w.-]+/[\w./-]+)?#\d+\b'
//! # What no message may contain; the default catches git commit
//! # --fixup/--squash commits, meant to be squashed before they are shared,
//! # and "do not merge" markers. "" rejects nothing.
//! rejected-regex = '(?i)\A(?:fixup|squash|amend)!|\bdo not merge\b'
//! ```

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Commit, Filter, Push, RefKind, RefUpdate, SettingError, Verdict, Veto};
use regex::Regex;

/// The default `required-regex` (see above).
const REQUIRED: &str = r"(?:^|[\s(\[])(?:[\w.-]+/[\w./-]+)?#\d+\b";
/// The default `rejected-regex`.
const REJECTED: &str = r"(?i)\A(?:fixup|squash|amend)!|\bdo not merge\b";

/// The admin's settings, checked. `as_str()` of each is as written.
struct Settings {
    /// What every message must match; none when set to "".
    required: Option<Regex>,
    /// What no message may match; none when set to "".
    rejected: Option<Regex>,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let required = compile(&s.or("required-regex", REQUIRED.to_owned()));
        let rejected = compile(&s.or("rejected-regex", REJECTED.to_owned()));
        if let Err(problem) = &required {
            s.error("required-regex", problem.clone());
        }
        if let Err(problem) = &rejected {
            s.error("rejected-regex", problem.clone());
        }
        match (required, rejected) {
            (Ok(None), Ok(None)) => s.error(
                "required-regex",
                "with both expressions \"\" nothing is checked: set one, or remove the policy",
            ),
            (Ok(required), Ok(rejected)) => return s.finish(Settings { required, rejected }),
            _ => {}
        }
        // Every problem recorded above, and any unknown key.
        Err(s.finish(()).err().unwrap_or_default())
    }
}

/// `regex` compiled (none for ""), or what is wrong with it.
fn compile(regex: &str) -> Result<Option<Regex>, String> {
    if regex.is_empty() {
        return Ok(None);
    }
    Regex::new(regex).map(Some).map_err(|e| {
        let text = e.to_string();
        let why = text.lines().find_map(|l| l.strip_prefix("error: ")).unwrap_or(text.trim());
        format!("'{regex}' is not a valid regular expression: {why}")
    })
}

/// The vetoes `commit` earns: one per expression it fails.
fn message_vetoes(update: &RefUpdate, commit: &Commit, settings: &Settings) -> Vec<Veto> {
    let mut vetoes = Vec::new();
    if let Some(required) = settings.required.as_ref().filter(|r| !r.is_match(&commit.message)) {
        vetoes.push(Veto::commit(
            update,
            commit,
            format!("commit message does not match the required expression {required}"),
            "Name the issue the commit belongs to, e.g. \"Fix the parser (#123)\", then push again:\n\
             git commit --amend (the last commit) or git rebase -i (older ones), reword.",
        ));
    }
    if let Some((rejected, found)) = settings.rejected.as_ref().and_then(|r| Some((r, r.find(&commit.message)?))) {
        vetoes.push(Veto::commit(
            update,
            commit,
            format!("commit message contains {:?}, rejected by the expression {rejected}", found.as_str()),
            "Squash fixup commits into the commits they fix (git rebase -i --autosquash), \
             or reword the message, then push again.",
        ));
    }
    vetoes
}

fn check(push: &Push, settings: &Settings) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind != RefKind::Delete) {
        for commit in update.commits(Filter::AddedToRepository) {
            vetoes.extend(message_vetoes(update, &commit, settings));
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check, Settings);

#[cfg(test)]
mod tests {
    use super::{REJECTED, REQUIRED, compile};
    use regex::Regex;

    fn default(regex: &str) -> Regex {
        compile(regex).ok().flatten().expect("the default is a valid regex")
    }

    #[test]
    fn required_finds_issue_references() {
        let required = default(REQUIRED);
        for message in ["Fix the parser (#12)", "#7 start", "Fix it\n\nCloses group/project#12", "see [#3]"] {
            assert!(required.is_match(message), "{message}");
        }
        for message in ["Fix the parser", "abc#12", "&#123; entity", "# 12", "#x"] {
            assert!(!required.is_match(message), "{message}");
        }
    }

    #[test]
    fn rejected_finds_fixups_and_markers() {
        let rejected = default(REJECTED);
        for message in ["fixup! Fix #1", "squash! x", "amend! x", "Try #2 (DO NOT MERGE)", "wip\n\ndo not merge"] {
            assert!(rejected.is_match(message), "{message}");
        }
        for message in ["Fix the fixup! handling (#1)", "Fix #1", "do not merged"] {
            assert!(!rejected.is_match(message), "{message}");
        }
    }

    #[test]
    fn empty_turns_a_check_off_and_bad_expressions_say_why() {
        assert!(matches!(compile(""), Ok(None)));
        let problem = compile("JIRA-\\d+)").err().unwrap_or_default();
        assert_eq!(problem, r"'JIRA-\d+)' is not a valid regular expression: unopened group");
    }
}
