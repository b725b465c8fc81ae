//! The policy's side of the contract: the host interfaces linked for it,
//! its exports pre-linked once per module ([`Exports`]), and the calls to
//! them in each run. The generated types stop here; the sandbox deals in
//! hookrt's own.

use wasmtime::Store;
use wasmtime::component::{ComponentExportIndex, HasSelf, Instance, InstancePre, Linker};

use super::HostState;
use super::bindings::types::SettingError;
use super::bindings::{Observer, ObserverPre, Policy, PolicyPre};
use super::conversions::{push_for_guest, setting_problems};
use super::events::Emitter;
use crate::push::Push;
use crate::verdict::{SettingProblem, Verdict};

/// The contract this hookrt implements.
pub const CONTRACT: &str = "hookrt:policy@0.1.0";

/// Adds every host interface to `linker`. The observer world imports them
/// all; policies of the `policy` world use a subset of the same linker.
pub(crate) fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    Observer::add_to_linker::<_, HasSelf<_>>(linker, |state| state)
}

/// What a component exports: a `policy` world's `check`, or an `observer`
/// world's `observe`.
pub(crate) enum Exports {
    Check(PolicyPre<HostState>),
    Observe(ObserverPre<HostState>),
}

impl Exports {
    /// The exports of a linked component. Neither world's: the policy
    /// world's complaint is the one returned, as most modules are policies.
    pub(crate) fn new(instance_pre: InstancePre<HostState>) -> wasmtime::Result<Self> {
        match PolicyPre::new(instance_pre.clone()) {
            Ok(pre) => Ok(Exports::Check(pre)),
            Err(err) => ObserverPre::new(instance_pre).map(Exports::Observe).map_err(|_| err),
        }
    }

    pub(crate) fn is_observer(&self) -> bool {
        matches!(self, Exports::Observe(_))
    }

    pub(crate) fn instance_pre(&self) -> &InstancePre<HostState> {
        match self {
            Exports::Check(pre) => pre.instance_pre(),
            Exports::Observe(pre) => pre.instance_pre(),
        }
    }

    /// Calls `check` on `instance`, or an observer's `observe` (whose
    /// verdict is always to accept, and which is handed an emitter).
    pub(crate) fn call(
        &self,
        store: &mut Store<HostState>,
        instance: &Instance,
        push: &Push,
    ) -> wasmtime::Result<Verdict> {
        let push = push_for_guest(push, store.data().repo()?);
        Ok(match self {
            Exports::Check(_) => Policy::new(&mut *store, instance)?.call_check(&mut *store, &push)?.into(),
            Exports::Observe(_) => {
                let observer = Observer::new(&mut *store, instance)?;
                store.data_mut().events = Some(Emitter::default());
                observer.call_observe(&mut *store, &push)?;
                Verdict::Accept
            }
        })
    }
}

/// Calls the `validate-settings` export at `index`: its complaints, placed
/// in the configuration.
pub(crate) fn validate(
    store: &mut Store<HostState>,
    instance: &Instance,
    index: &ComponentExportIndex,
) -> wasmtime::Result<Vec<SettingProblem>> {
    let validate = instance.get_typed_func::<(), (Vec<SettingError>,)>(&mut *store, index)?;
    let (errors,) = validate.call(&mut *store, ())?;
    Ok(setting_problems(&store.data().settings, errors))
}
