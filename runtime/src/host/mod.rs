//! The host interfaces policies import, one module per WIT interface, over
//! the per-run state in [`HostState`].

pub(crate) mod bindings;
mod commits;
pub(crate) mod conversions;
mod output;

use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::git::Repo;
use crate::push::RefUpdate;
use crate::sandbox::MemoryCap;

pub use output::Output;

/// Everything one policy's store holds for one hook run.
pub struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) memory: MemoryCap,
    pub(crate) repo: Repo,
    pub(crate) updates: Vec<RefUpdate>,
    /// Host calls give up past this instant, like guest code does through
    /// the epoch deadline.
    pub(crate) deadline: Instant,
    pub(crate) output: Output,
    /// What the guest wrote to its standard error (a panic message, say).
    pub(crate) stderr: MemoryOutputPipe,
    /// Commits the host produced for this policy over all its walks.
    pub(crate) commits_produced: u64,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl bindings::types::Host for HostState {}

/// A host call that ran past the policy's wall-clock deadline. It traps the
/// guest; the runner reports it as the deadline cause.
#[derive(Debug, thiserror::Error)]
#[error("the policy ran past its deadline inside a host call")]
pub struct DeadlineInHostCall;
