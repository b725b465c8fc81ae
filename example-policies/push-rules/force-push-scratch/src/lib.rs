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

use hookrt_guest::branches;
use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Push, RefClass, RefKind, RefUpdate, SettingError, Verdict, Veto};

/// What a refused pattern's message suggests instead.
const EXAMPLE: &str = "write a branch name such as \"sandbox\", or a pattern such as \"scratch/*\"";

/// The admin's settings, checked.
struct Settings {
    /// The branches that may be force-pushed: names or patterns.
    force_push_branches: Vec<String>,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let force_push_branches = s.or("force-push-branches", vec!["scratch/*".to_owned(), "test/*".to_owned()]);
        for problem in
            force_push_branches.iter().filter_map(|p| branches::pattern_problem(p, "opened to force pushes", EXAMPLE))
        {
            s.error("force-push-branches", problem);
        }
        s.finish(Settings { force_push_branches })
    }
}

fn may_force_push(update: &RefUpdate, settings: &Settings) -> bool {
    update.class == RefClass::Branch
        && settings.force_push_branches.iter().any(|p| branches::matches(p, update.short_name()))
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
                hookrt_guest::unreadable_detail(&err),
            )),
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check, Settings);
