//! The host interfaces policies import, one module per WIT interface, over
//! the per-run state in [`HostState`].

mod bindings;
mod commits;
mod conversions;
mod events;
mod exports;
mod files;
mod memory;
mod output;
mod repository;
mod settings;

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::git::Repo;
use crate::policy::Settings;
use crate::push::RefUpdate;
use crate::verdict::{HostWork, Limits};

pub(crate) use events::Emitter;
pub use exports::CONTRACT;
pub(crate) use exports::{Exports, link, validate};
pub(crate) use memory::{MemoryBudget, MemoryCapExceeded};
pub use output::Output;

/// The most host resources (open walks, WASI streams and timers) a policy
/// may hold at once. The SDKs close a walk when it is dropped; a policy
/// that keeps them all, or opens them in a loop, stops here instead of
/// growing hookrt's memory.
pub(crate) const MAX_RESOURCES: usize = 4096;

/// Everything one policy's store holds for one hook run.
pub struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) memory: MemoryBudget,
    pub(crate) limits: Limits,
    /// None while a validator runs: there is no push then.
    pub(crate) repo: Option<Repo>,
    /// The policy's settings (`settings.get`).
    pub(crate) settings: Arc<Settings>,
    /// The policy's ref updates, sorted by name (see [`update_named`]).
    pub(crate) updates: Vec<RefUpdate>,
    /// Host calls give up past this instant, like guest code does through
    /// the epoch deadline.
    pub(crate) deadline: Instant,
    pub(crate) output: Output,
    /// The events an observer emitted; `None` for a policy, which may not.
    pub(crate) events: Option<Emitter>,
    /// What the guest wrote to its standard error (a panic message, say).
    pub(crate) stderr: MemoryOutputPipe,
    /// What the host did for this policy.
    pub(crate) work: HostWork,
    /// Fuel the host's work costs, taken from the guest when the host call
    /// returns (see `sandbox::store`).
    pub(crate) fuel_debt: u64,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl bindings::types::Host for HostState {}

/// The ref update named `name` in `HostState::updates`. A policy asks by
/// name once per walk or force-push question, so on a push of 10,000 refs a
/// linear search per call would make the push quadratic; the updates are
/// sorted instead. (A function of the field, not of `HostState`, so that
/// the rest of the state stays free to borrow.)
pub(crate) fn update_named<'a>(updates: &'a [RefUpdate], name: &str) -> Option<&'a RefUpdate> {
    updates.binary_search_by(|u| u.name.as_str().cmp(name)).ok().and_then(|i| updates.get(i))
}

impl HostState {
    /// The repository; a trap while a validator runs, since settings
    /// validation has no push to look at.
    pub(crate) fn repo(&self) -> wasmtime::Result<&Repo> {
        self.repo.as_ref().ok_or_else(|| {
            wasmtime::format_err!("validate-settings may read settings only: there is no push or repository yet")
        })
    }
}

/// A host call that ran past the policy's wall-clock deadline. It traps the
/// guest; the runner reports it as the deadline cause.
#[derive(Debug, thiserror::Error)]
#[error("the policy ran past its deadline inside a host call")]
pub struct DeadlineInHostCall;

/// A policy opened more host resources than it may hold at once. It traps
/// the guest with this message.
#[derive(Debug, thiserror::Error)]
#[error(
    "the policy holds {} host resources (open walks) at once, the most hookrt allows; a walk must be dropped when done",
    MAX_RESOURCES
)]
pub struct TooManyResources;
