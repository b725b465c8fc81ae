//! The part built once per run: a fresh store with the policy's limits, the
//! call to `check`, and the mapping of whatever went wrong to a [`Failure`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{Instance, ResourceTable};
use wasmtime::{CallHook, Store, StoreContextMut, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use super::engine::{EPOCH_TICK, Sandbox};
use super::failure::Failure;
use super::limits::{Grew, HOST_COPY_BYTES, Limits, MemoryBudget, MemoryCapExceeded};
use super::module::{Exports, PolicyModule};
use crate::git::Repo;
use crate::host::bindings::types::SettingError;
use crate::host::bindings::{Observer, Policy};
use crate::host::conversions::push_for_guest;
use crate::host::{DeadlineInHostCall, HostState, HostWork, Output};
use crate::policy::{SettingProblem, Settings};
use crate::push::Push;
use crate::timing;
use crate::verdict::{Verdict, Veto};
use crate::webhook::{Emitted, Emitter};

/// What a policy may write to the pusher in one run.
const OUTPUT_BUDGET: usize = 64 << 10;
/// What is kept of a guest's stdout and stderr (panic messages, tracebacks).
const STDERR_BUDGET: usize = 16 << 10;
/// The most host resources (open walks, WASI streams and timers) a policy
/// may hold at once. The SDKs close a walk when it is dropped; a policy
/// that keeps them all, or opens them in a loop, stops here instead of
/// growing hookrt's memory.
pub(crate) const MAX_RESOURCES: usize = 4096;

/// One policy's run over one push.
#[derive(Debug)]
pub struct PolicyRun {
    pub policy: String,
    pub outcome: Result<Verdict, Failure>,
    /// Lines the policy wrote for the pusher.
    pub output: Vec<String>,
    /// Whether output past the budget was dropped.
    pub output_truncated: bool,
    /// Non-blocking warnings for the pusher.
    pub warnings: Vec<Veto>,
    /// Warnings past the output budget, counted only.
    pub warnings_dropped: usize,
    /// Vetoes past [`crate::verdict::MAX_VETOES`], counted only.
    pub vetoes_dropped: usize,
    /// What an observer emitted, for the admin's webhooks (delivered only
    /// if it finished).
    pub events: Vec<Emitted>,
    /// What the host did for the policy (commits walked, paths listed,
    /// blob bytes read).
    pub work: HostWork,
    pub fuel_used: u64,
    pub elapsed: Duration,
}

impl Sandbox {
    /// Runs `module` over `push` in a fresh store capped by `limits`. A
    /// policy with a validator has its settings checked first; problems fail
    /// it closed. Never fails: a policy that does not produce a verdict gets
    /// a [`Failure`] as its outcome.
    pub fn run(
        &self,
        module: &PolicyModule,
        push: &Push,
        repo: Repo,
        limits: Limits,
        settings: &Arc<Settings>,
    ) -> PolicyRun {
        let started = Instant::now();
        if module.is_observer() && !push.observers_run() {
            return PolicyRun::failed(
                &module.name,
                Failure::Load(format!(
                    "it is an observer (the `observer` world), which runs after the refs moved; set `hook = \"post-receive\"` (or post-update, reference-transaction) in its [policy.{}] entry",
                    module.name
                )),
            );
        }
        let mut store = self.store(limits, Some(repo), push.updates.clone(), settings);
        let mut outcome = call_check(&mut store, module, push, limits)
            .unwrap_or_else(|err| Err(classify(&err, &limits, &store.data().stderr.contents())));
        let vetoes_dropped = outcome.as_mut().map_or(0, Verdict::cap_vetoes);
        // A fresh store starts with zero fuel, so what is left is exact.
        let fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let state = store.into_data();
        let run = PolicyRun {
            policy: module.name.clone(),
            outcome,
            output: state.output.lines,
            output_truncated: state.output.truncated,
            warnings: state.output.warnings,
            warnings_dropped: state.output.warnings_dropped,
            vetoes_dropped,
            events: state.events.map(Emitter::into_events).unwrap_or_default(),
            work: state.work,
            fuel_used,
            elapsed: started.elapsed(),
        };
        tracing::debug!(
            policy = %run.policy,
            commits = run.work.commits,
            changes = run.work.changes,
            blob_bytes = run.work.blob_bytes,
            ancestry = run.work.ancestry,
            fuel = run.fuel_used,
            elapsed_us = run.elapsed.as_micros() as u64,
            outcome = match &run.outcome { Ok(Verdict::Accept) => "accept", Ok(Verdict::Reject(_)) => "reject", Err(f) => f.cause() },
            "policy finished"
        );
        run
    }

    /// Asks the policy's validator about `settings`, with no push: what
    /// `hookrt check` shows the admin. A policy without a validator has
    /// nothing to say. Running out of a limit is a failure like in a push.
    pub fn validate(
        &self,
        module: &PolicyModule,
        limits: Limits,
        settings: &Arc<Settings>,
    ) -> Result<Vec<SettingProblem>, Failure> {
        if module.validator.is_none() {
            return Ok(Vec::new());
        }
        let mut store = self.store(limits, None, Vec::new(), settings);
        let result = start(&mut store, limits)
            .and_then(|()| module.instance_pre().instantiate(&mut store))
            .and_then(|instance| call_validator(&mut store, module, &instance));
        result.map_err(|err| classify(&err, &limits, &store.data().stderr.contents()))
    }

    fn store(
        &self,
        limits: Limits,
        repo: Option<Repo>,
        mut updates: Vec<crate::push::RefUpdate>,
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
fn start(store: &mut Store<HostState>, limits: Limits) -> wasmtime::Result<()> {
    store.set_fuel(limits.fuel)?;
    let ticks = limits.timeout.as_nanos().div_ceil(EPOCH_TICK.as_nanos()).max(1);
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
    store.epoch_deadline_trap();
    Ok(())
}

/// The validator's problems, if the policy has one, placed in the
/// configuration; then `check` (or an observer's `observe`, whose verdict
/// is always to accept).
fn call_check(
    store: &mut Store<HostState>,
    module: &PolicyModule,
    push: &Push,
    limits: Limits,
) -> wasmtime::Result<Result<Verdict, Failure>> {
    start(store, limits)?;
    let instance = timing::timed("instantiate", &module.name, || module.instance_pre().instantiate(&mut *store))?;
    let problems = call_validator(store, module, &instance)?;
    if !problems.is_empty() {
        return Ok(Err(Failure::Settings(problems)));
    }
    let push = push_for_guest(push, store.data().repo()?);
    let verdict = match &module.exports {
        Exports::Check(_) => {
            let policy = Policy::new(&mut *store, &instance)?;
            timing::timed("check", &module.name, || policy.call_check(&mut *store, &push))?.into()
        }
        Exports::Observe(_) => {
            let observer = Observer::new(&mut *store, &instance)?;
            store.data_mut().events = Some(Emitter::default());
            timing::timed("observe", &module.name, || observer.call_observe(&mut *store, &push))?;
            Verdict::Accept
        }
    };
    timing::record("walk", &module.name, store.data().work.walking);
    Ok(Ok(verdict))
}

fn call_validator(
    store: &mut Store<HostState>,
    module: &PolicyModule,
    instance: &Instance,
) -> wasmtime::Result<Vec<SettingProblem>> {
    let Some(index) = &module.validator else {
        return Ok(Vec::new());
    };
    let validate = instance.get_typed_func::<(), (Vec<SettingError>,)>(&mut *store, index)?;
    let (errors,) = validate.call(&mut *store, ())?;
    let settings = &store.data().settings;
    Ok(errors.into_iter().map(|e| settings.problem(e.key, e.message)).collect())
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

/// Names the cause of a failed run. What the guest printed (a Rust panic
/// message, a Python traceback) is kept with a trap.
fn classify(err: &wasmtime::Error, limits: &Limits, stderr: &[u8]) -> Failure {
    if let Some(exceeded) = err.downcast_ref::<MemoryCapExceeded>() {
        return Failure::OutOfMemory { limit: limits.memory_bytes, grew: exceeded.grew.clone() };
    }
    if let Some(grew) = Grew::from_wasmtime(&err.root_cause().to_string()) {
        return Failure::OutOfMemory { limit: limits.memory_bytes, grew };
    }
    if err.downcast_ref::<DeadlineInHostCall>().is_some() {
        return Failure::Deadline { limit: limits.timeout };
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Failure::OutOfFuel { limit: limits.fuel },
        Some(Trap::Interrupt) => Failure::Deadline { limit: limits.timeout },
        Some(Trap::StackOverflow) => Failure::StackOverflow,
        trap => Failure::Trap {
            message: match trap {
                Some(trap) => trap.to_string().trim_start_matches("wasm trap: ").to_owned(),
                // Not a wasm trap: an error from instantiation or a host call.
                None => err.root_cause().to_string(),
            },
            printed: guest_output(stderr),
        },
    }
}

/// The guest's output, less the advice of Rust's panic handler to set
/// `RUST_BACKTRACE`: a pusher cannot set it, and there is no backtrace to be
/// had inside the sandbox anyway.
fn guest_output(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> =
        text.lines().filter(|l| !l.starts_with("note: run with `RUST_BACKTRACE=")).map(str::trim_end).collect();
    let text = lines.join("\n");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

impl PolicyRun {
    /// A policy that never ran, e.g. because its module could not be loaded.
    pub fn failed(policy: &str, failure: Failure) -> Self {
        PolicyRun {
            policy: policy.to_owned(),
            outcome: Err(failure),
            output: Vec::new(),
            output_truncated: false,
            warnings: Vec::new(),
            warnings_dropped: 0,
            vetoes_dropped: 0,
            events: Vec::new(),
            work: HostWork::default(),
            fuel_used: 0,
            elapsed: Duration::ZERO,
        }
    }
}
