//! force-push-scratch: history is rewritten only on scratch and test branches.
//!
//! A port of GitHub Enterprise's pre-receive sample
//! `force_push_restricted_branches.sh` (github/platform-samples): a force
//! push (the ref existed, still exists, and its old commit is not an
//! ancestor of the new one) is allowed to `scratch/*` and `test/*` branches
//! only, and vetoed on every other ref, tags included. Creating and deleting
//! refs is not a force push and is not this rule's business.
//!
//! The host answers "is this a force push" itself, once per push, without
//! the policy walking any commits. If it can't tell, the update is vetoed
//! (fail closed).

use hookrt_guest::{Push, RefKind, RefUpdate, Verdict, Veto};

// Until policies get settings (issue 6), the parameters are constants here.
/// The refs that may be force-pushed.
const FORCE_PUSH_PREFIXES: &[&str] = &["refs/heads/scratch/", "refs/heads/test/"];

fn may_force_push(ref_name: &str) -> bool {
    FORCE_PUSH_PREFIXES.iter().any(|prefix| ref_name.starts_with(prefix))
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn veto(update: &RefUpdate) -> Veto {
    let name = update.short_name();
    Veto::on_ref(
        update,
        format!("force pushes to {name} are not allowed (only to scratch/* and test/*)"),
        format!(
            "{name} is at {} on the server; the push would move it to {}, which does not contain it,\n\
             dropping commits. Bring in the server's work first (git pull --rebase) and push without\n\
             --force, or push the rewritten history to a scratch branch: git push origin HEAD:scratch/{name}",
            short(&update.old_id),
            short(&update.new_id)
        ),
    )
}

fn check(push: &Push) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind == RefKind::Update && !may_force_push(&u.name)) {
        match update.is_force_push() {
            Ok(false) => {}
            Ok(true) => vetoes.push(veto(update)),
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

hookrt_guest::policy!(check);
