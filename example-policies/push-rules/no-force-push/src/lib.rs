//! no-force-push: no branch or tag is ever rewound.
//!
//! A port of Bitbucket Server's built-in hook "Reject force push"
//! (`force-push-hook`): an update of a branch or tag whose old commit is not
//! an ancestor of the new one would drop commits (or move a released tag)
//! and is vetoed, naming the old and the new tip. Creating and deleting
//! refs is not a force push; other refs (`refs/notes/*`, review refs) are
//! left alone, as Bitbucket does.
//!
//! The host answers "is this a force push" itself, once per push, without
//! the policy walking any commits. If it can't tell, the update is vetoed
//! (fail closed).
//!
//! ```toml
//! [policy.no-force-push.settings]
//! protect = ["branches", "tags"]   # the default; ["branches"] lets tags move
//! ```

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Push, RefClass, RefKind, RefUpdate, SettingError, Verdict, Veto};

/// The admin's settings, checked.
struct Settings {
    /// The kinds of refs that may not be force-pushed; at least one.
    protect: Vec<RefClass>,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let names = s.or("protect", vec!["branches".to_owned(), "tags".to_owned()]);
        if names.is_empty() {
            s.error(
                "protect",
                "list what to protect, e.g. [\"branches\", \"tags\"]; to protect nothing, remove the policy",
            );
        }
        let mut protect = Vec::new();
        for name in &names {
            match ref_class(name) {
                Ok(class) => protect.push(class),
                Err(problem) => s.error("protect", problem),
            }
        }
        s.finish(Settings { protect })
    }
}

/// The kind of ref `name` stands for, or what to write instead.
fn ref_class(name: &str) -> Result<RefClass, String> {
    match name {
        "branches" => Ok(RefClass::Branch),
        "tags" => Ok(RefClass::Tag),
        "branch" | "heads" => Err(format!("{name:?}: write \"branches\"")),
        "tag" => Err(format!("{name:?}: write \"tags\"")),
        _ => Err(format!("{name:?} is not a kind of ref: write \"branches\", \"tags\" or both")),
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn veto(update: &RefUpdate) -> Veto {
    let name = update.short_name();
    let (old, new) = (short(&update.old_id), short(&update.new_id));
    let advice = if update.class == RefClass::Tag {
        format!("A published tag must not move. Tag the new commit under a new name: git tag <new-name> {new}")
    } else {
        "Bring in the server's work first (git pull --rebase), then push without --force.".to_owned()
    };
    Veto::on_ref(
        update,
        format!("force push to {name} rejected: {old} is not an ancestor of {new}"),
        format!("{name} is at {old} on the server; the push would move it to {new}, dropping commits.\n{advice}"),
    )
}

fn check(push: &Push, settings: &Settings) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind == RefKind::Update && settings.protect.contains(&u.class)) {
        match update.is_force_push() {
            Ok(false) => {}
            Ok(true) => vetoes.push(veto(update)),
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

#[cfg(test)]
mod tests {
    use super::ref_class;
    use hookrt_guest::RefClass;

    #[test]
    fn kinds_of_refs() {
        assert_eq!(ref_class("branches"), Ok(RefClass::Branch));
        assert_eq!(ref_class("tags"), Ok(RefClass::Tag));
        assert_eq!(ref_class("tag"), Err("\"tag\": write \"tags\"".to_owned()));
        assert!(ref_class("notes").is_err_and(|p| p.contains("not a kind of ref")));
    }
}
