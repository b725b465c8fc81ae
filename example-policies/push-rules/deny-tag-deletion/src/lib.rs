//! deny-tag-deletion: tags are never deleted.
//!
//! GitLab's push rule "Do not allow users to remove Git tags with git push":
//! a push that deletes a tag (`refs/tags/*`) is vetoed. Releases, changelogs
//! and downstream builds refer to tags, so a tag that disappears breaks
//! them. Creating tags is untouched, and so is moving one (GitLab's rule
//! covers deletion only; protected tags are a separate feature).
//! The rule has no parameters.

use hookrt_guest::{Push, RefClass, RefKind, Verdict, Veto};

fn check(push: &Push) -> Verdict {
    let vetoes = push
        .updates()
        .iter()
        .filter(|u| u.class == RefClass::Tag && u.kind == RefKind::Delete)
        .map(|update| {
            Veto::on_ref(
                update,
                format!("tag {} can't be deleted: tags are permanent here", update.short_name()),
                "Leave the tag in place: to publish a fix, tag a new version (git tag v1.0.1 && git push origin v1.0.1).\n\
                 If the tag really has to go, ask a repository admin.",
            )
        })
        .collect();
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check);
