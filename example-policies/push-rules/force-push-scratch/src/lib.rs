//! force-push-scratch: history is rewritten only on scratch and test branches.
//!
//! A port of GitHub Enterprise's pre-receive sample
//! `force_push_restricted_branches.sh` (github/platform-samples): a force
//! push (the ref existed, still exists, and its old commit is not an
//! ancestor of the new one) is allowed to the branches the admin lists
//! (`scratch/*` and `test/*` by default) only, and vetoed on every other
//! ref, tags included. Creating and deleting refs is not a force push and is
//! not this rule's business.
//!
//! The host answers "is this a force push" itself, once per push, without
//! the policy walking any commits. If it can't tell, the update is vetoed
//! (fail closed).
//!
//! ```toml
//! [policy.force-push-scratch.settings]
//! # The default. Branch names (without refs/heads/) in which * stands for any
//! # characters, / included, as in GitLab's protected branches; [] allows
//! # force pushes nowhere.
//! force-push-branches = ["scratch/*", "test/*"]
//! ```

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Push, RefClass, RefKind, RefUpdate, SettingError, Verdict, Veto};

/// The admin's settings, checked.
struct Settings {
    /// The branches that may be force-pushed: names or patterns.
    force_push_branches: Vec<String>,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let force_push_branches = s.or("force-push-branches", vec!["scratch/*".to_owned(), "test/*".to_owned()]);
        for problem in force_push_branches.iter().filter_map(|p| pattern_problem(p)) {
            s.error("force-push-branches", problem);
        }
        s.finish(Settings { force_push_branches })
    }
}

/// What is wrong with `pattern` as a branch name or pattern, if anything.
fn pattern_problem(pattern: &str) -> Option<String> {
    let example = "write a branch name such as \"sandbox\", or a pattern such as \"scratch/*\"";
    let problem = if pattern.is_empty() {
        "an empty pattern matches no branch".to_owned()
    } else if let Some(branch) = pattern.strip_prefix("refs/heads/") {
        format!("write the branch without refs/heads/: \"{branch}\"")
    } else if pattern.starts_with("refs/") {
        "only branches can be opened to force pushes, not other refs".to_owned()
    } else if let Some(c) = pattern.chars().find(|c| c.is_whitespace() || c.is_control() || "~^:?[\\".contains(*c)) {
        format!("{c:?} can't be part of a branch name")
    } else if pattern.starts_with('/') || pattern.ends_with('/') || pattern.contains("//") {
        "a branch name has no empty parts (no leading, trailing or double /)".to_owned()
    } else if pattern.contains("..") || pattern.contains("@{") || pattern.ends_with('.') || pattern.ends_with(".lock") {
        "git does not allow \"..\", \"@{\", or a trailing \".\" or \".lock\" in a branch name".to_owned()
    } else {
        return None;
    };
    Some(format!("{pattern:?}: {problem}; {example}"))
}

/// Whether `name` matches `pattern`, `*` standing for any characters.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => name.strip_prefix(head).is_some_and(|rest| {
            rest.char_indices().map(|(i, _)| i).chain([rest.len()]).any(|i| matches(tail, &rest[i..]))
        }),
    }
}

fn may_force_push(update: &RefUpdate, settings: &Settings) -> bool {
    update.class == RefClass::Branch && settings.force_push_branches.iter().any(|p| matches(p, update.short_name()))
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn veto(update: &RefUpdate, settings: &Settings) -> Veto {
    let name = update.short_name();
    let allowed = match settings.force_push_branches.as_slice() {
        [] => "not allowed".to_owned(),
        [only] => format!("not allowed (only to {only})"),
        [rest @ .., last] => format!("not allowed (only to {} and {last})", rest.join(", ")),
    };
    // Where the rewritten history may go instead: the first pattern's
    // directory, if it is one (scratch/* gives scratch/<name>).
    let elsewhere = match settings.force_push_branches.first().and_then(|p| p.strip_suffix('*')) {
        Some(dir) if dir.ends_with('/') && !dir.contains('*') => {
            format!(", or push the rewritten history to a branch of its own: git push origin HEAD:{dir}{name}")
        }
        _ => String::new(),
    };
    Veto::on_ref(
        update,
        format!("force pushes to {name} are {allowed}"),
        format!(
            "{name} is at {} on the server; the push would move it to {}, which does not contain it,\n\
             dropping commits. Bring in the server's work first (git pull --rebase) and push without\n\
             --force{elsewhere}",
            short(&update.old_id),
            short(&update.new_id)
        ),
    )
}

fn check(push: &Push, settings: &Settings) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind == RefKind::Update && !may_force_push(u, settings)) {
        match update.is_force_push() {
            Ok(false) => {}
            Ok(true) => vetoes.push(veto(update, settings)),
            // Fail closed: an update that can't be checked can't be allowed.
            Err(err) => vetoes.push(Veto::on_ref(
                update,
                format!("can't tell whether the update of {} is a force push", update.short_name()),
                format!("{err:?}\nTry the push again; if it keeps failing, tell the server's admin."),
            )),
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check, Settings);

#[cfg(test)]
mod tests {
    use super::{matches, pattern_problem};

    #[test]
    fn star_matches_any_characters() {
        assert!(matches("scratch/*", "scratch/ann"));
        assert!(matches("scratch/*", "scratch/ann/x"));
        assert!(!matches("scratch/*", "scratch"));
        assert!(!matches("scratch/*", "feature/scratch/x"));
        assert!(matches("sandbox", "sandbox"));
        assert!(matches("*/wip", "ann/wip"));
        assert!(!matches("*/wip", "ann/wip2"));
    }

    #[test]
    fn patterns_are_checked() {
        for pattern in ["scratch/*", "sandbox", "*/wip"] {
            assert_eq!(pattern_problem(pattern), None, "{pattern}");
        }
        for pattern in ["", "refs/heads/scratch/*", "refs/tags/*", "scratch/", "a b", "x..y", "a[0]"] {
            assert!(pattern_problem(pattern).is_some(), "{pattern}");
        }
    }
}
