//! Which policies of the set run in a hook, and on which of the push's
//! refs: the hook (and phase) each is for, its mode, the pusher's bypass,
//! its ref filters. `hook::run_hook` and `hookrt check` both ask here.

use super::config::Mode;
use super::scope::{PolicySet, PolicySpec};
use crate::push::{HookKind, Push, RefUpdate};
use crate::verdict::Skip;

/// One policy of the hook being run: the ref updates it is handed, or why
/// it does not run.
#[derive(Debug)]
pub struct Planned<'a> {
    pub spec: &'a PolicySpec,
    pub updates: Result<Vec<RefUpdate>, Skip>,
}

impl PolicySet {
    /// The policies of `push`'s hook, in the set's order, each with the
    /// ref updates it runs on or why it is skipped.
    pub fn plan(&self, push: &Push) -> Vec<Planned<'_>> {
        let pusher = push.pusher.as_ref().map(|p| p.name.as_str());
        self.policies
            .iter()
            .filter(|spec| runs_in(spec, push))
            .map(|spec| {
                let updates: Vec<_> = push.updates.iter().filter(|u| spec.refs.matches(&u.name)).cloned().collect();
                let updates = if spec.mode == Mode::Disabled {
                    Err(Skip::Disabled)
                } else if let Some(name) = pusher.filter(|name| spec.bypass.iter().any(|b| b == name)) {
                    Err(Skip::Bypassed(name.to_owned()))
                } else if updates.is_empty() {
                    Err(Skip::NoMatchingRefs)
                } else {
                    Ok(updates)
                };
                Planned { spec, updates }
            })
            .collect()
    }
}

/// Whether `spec` is one of the policies of `push`'s hook. A clone runs the
/// server's policies: all that check a push before its refs move at
/// pre-push, those marked `commit_msg` at commit-msg. A reference
/// transaction that a push makes was checked by pre-receive already, so
/// only policies that ask for `pushes` run again there.
fn runs_in(spec: &PolicySpec, push: &Push) -> bool {
    let checks_pushes = matches!(spec.hook, HookKind::PreReceive | HookKind::Update);
    match push.hook {
        HookKind::PrePush => checks_pushes,
        HookKind::CommitMsg => checks_pushes && spec.commit_msg,
        HookKind::ReferenceTransaction => {
            spec.hook == push.hook && (spec.pushes || !push.transaction.is_some_and(|t| t.within_push))
        }
        hook => spec.hook == hook,
    }
}

/// Whether a policy whose module is (`Some(true)`) or is not an observer
/// runs in this phase of a reference transaction: its policies while the
/// refs are locked, its observers once they moved. Which one a module is,
/// only its world says; one that did not load (`None`) runs where it can
/// still reject. Every other hook has one phase.
pub fn in_this_phase(push: &Push, observer: Option<bool>) -> bool {
    match (push.transaction, observer) {
        (Some(t), Some(observer)) => observer == t.committed,
        (Some(t), None) => !t.committed,
        (None, _) => true,
    }
}

/// Why a module of the observer world cannot be policy `name` in `hook`,
/// if it cannot: observers run after the refs moved.
pub fn observer_refused(hook: HookKind, name: &str) -> Option<String> {
    (!hook.has_observers()).then(|| {
        format!(
            "it is an observer (the `observer` world), which runs after the refs moved; set `hook = \"post-receive\"` (or post-update, reference-transaction) in its [policy.{name}] entry"
        )
    })
}
