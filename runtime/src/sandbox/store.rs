//! The part built once per policy run: a fresh wasmtime store holding the
//! host's state for one policy, with its limits (fuel, memory, deadline,
//! host resources) set.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::{CallHook, Store, StoreContextMut, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use super::engine::{EPOCH_TICK, Sandbox};
use crate::git::Repo;
use crate::host::{HostState, MAX_RESOURCES, MemoryBudget, Output};
use crate::policy::Settings;
use crate::push::RefUpdate;
use crate::verdict::{HOST_COPY_BYTES, HostWork, Limits};

/// What a policy may write to the pusher in one run.
const OUTPUT_BUDGET: usize = 64 << 10;
/// What is kept of a guest's stdout and stderr (panic messages, tracebacks).
const STDERR_BUDGET: usize = 16 << 10;
impl Sandbox {
    /// A store for one run of a policy under `limits`: `repo` is `None` for a
    /// settings validator, which has no push.
    pub(crate) fn store(
        &self,
        limits: Limits,
        repo: Option<Repo>,
        mut updates: Vec<RefUpdate>,
        settings: &Arc<Settings>,
    ) -> Store<HostState> {
        // For `host::update_named`'s binary search.
        updates.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        let stderr = MemoryOutputPipe::new(STDERR_BUDGET);
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        let state = HostState {
            wasi: super::wasi::context(&stderr),
            table,
            memory: MemoryBudget::new(limits.memory_bytes),
            limits,
            repo,
            settings: Arc::clone(settings),
            updates,
            deadline: Instant::now() + limits.timeout,
            output: Output::new(OUTPUT_BUDGET),
            events: None,
            stderr,
            work: HostWork::default(),
            fuel_debt: 0,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.memory);
        store.set_hostcall_fuel(HOST_COPY_BYTES);
        store.call_hook(charge_host_work);
        store
    }
}

/// Gives a new store its fuel and deadline: it starts with zero fuel and an
/// epoch deadline of zero, and both trap at once until set.
pub(crate) fn start(store: &mut Store<HostState>, limits: Limits) -> wasmtime::Result<()> {
    store.set_fuel(limits.fuel)?;
    let ticks = limits.timeout.as_nanos().div_ceil(EPOCH_TICK.as_nanos()).max(1);
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
    store.epoch_deadline_trap();
    Ok(())
}

/// Takes the fuel the host's work cost (see `host::files`) from the guest as
/// a host call returns: host work counts against the policy's fuel like its
/// own instructions do, and running out of it ends the policy the same way.
fn charge_host_work(mut store: StoreContextMut<'_, HostState>, hook: CallHook) -> wasmtime::Result<()> {
    if !matches!(hook, CallHook::ReturningFromHost) || store.data().fuel_debt == 0 {
        return Ok(());
    }
    let debt = std::mem::take(&mut store.data_mut().fuel_debt);
    let left = store.get_fuel()?;
    store.set_fuel(left.saturating_sub(debt))?;
    if debt > left {
        return Err(Trap::OutOfFuel.into());
    }
    Ok(())
}
