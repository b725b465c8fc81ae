//! The part built once per run: a fresh store with the policy's limits, the
//! call to `check`, and the mapping of whatever went wrong to a [`Failure`].

use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{Store, Trap};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use super::engine::{EPOCH_TICK, Sandbox};
use super::failure::Failure;
use super::limits::{Limits, MemoryCap, MemoryCapExceeded};
use super::module::PolicyModule;
use crate::git::Repo;
use crate::host::conversions::push_for_guest;
use crate::host::{DeadlineInHostCall, HostState, Output};
use crate::push::Push;
use crate::verdict::Verdict;

/// What a policy may write to the pusher in one run.
const OUTPUT_BUDGET: usize = 64 << 10;
/// What is kept of a guest's stdout and stderr (panic messages, tracebacks).
const STDERR_BUDGET: usize = 16 << 10;

/// One policy's run over one push.
#[derive(Debug)]
pub struct PolicyRun {
    pub policy: String,
    pub outcome: Result<Verdict, Failure>,
    /// Lines the policy wrote for the pusher.
    pub output: Vec<String>,
    /// Whether output past the budget was dropped.
    pub output_truncated: bool,
    /// Commits the host produced for the policy's walks.
    pub commits_produced: u64,
    pub fuel_used: u64,
    pub elapsed: Duration,
}

impl Sandbox {
    /// Runs `module` over `push` in a fresh store capped by `limits`. Never fails: a policy that does not produce a verdict gets a
    /// [`Failure`] as its outcome.
    pub fn run(&self, module: &PolicyModule, push: &Push, repo: Repo, limits: Limits) -> PolicyRun {
        let started = Instant::now();
        let stderr = MemoryOutputPipe::new(STDERR_BUDGET);
        // Nothing granted: no preopened directories, no environment, no
        // arguments, no network. Output goes to a capped buffer.
        let wasi = WasiCtxBuilder::new().stdout(stderr.clone()).stderr(stderr.clone()).build();
        let state = HostState {
            wasi,
            table: ResourceTable::new(),
            memory: MemoryCap::new(limits.memory_bytes),
            repo,
            updates: push.updates.clone(),
            deadline: started + limits.timeout,
            output: Output::new(OUTPUT_BUDGET),
            stderr,
            commits_produced: 0,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.memory);

        let outcome = call_check(&mut store, module, push, limits)
            .map_err(|err| classify(&err, &limits, &store.data().stderr.contents()));
        // A fresh store starts with zero fuel, so what is left is exact.
        let fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let state = store.into_data();
        let run = PolicyRun {
            policy: module.name.clone(),
            outcome,
            output: state.output.lines,
            output_truncated: state.output.truncated,
            commits_produced: state.commits_produced,
            fuel_used,
            elapsed: started.elapsed(),
        };
        tracing::debug!(
            policy = %run.policy,
            commits = run.commits_produced,
            fuel = run.fuel_used,
            elapsed_us = run.elapsed.as_micros() as u64,
            outcome = match &run.outcome { Ok(Verdict::Accept) => "accept", Ok(Verdict::Reject(_)) => "reject", Err(f) => f.cause() },
            "policy finished"
        );
        run
    }
}

fn call_check(
    store: &mut Store<HostState>,
    module: &PolicyModule,
    push: &Push,
    limits: Limits,
) -> wasmtime::Result<Verdict> {
    // A new store has zero fuel and an epoch deadline of zero: both trap at
    // once until set.
    store.set_fuel(limits.fuel)?;
    let ticks = limits.timeout.as_nanos().div_ceil(EPOCH_TICK.as_nanos()).max(1);
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
    store.epoch_deadline_trap();
    let policy = module.pre.instantiate(&mut *store)?;
    let verdict = policy.call_check(&mut *store, &push_for_guest(push))?;
    Ok(verdict.into())
}

/// Names the cause of a failed run. What the guest printed (a Rust panic
/// message, a Python traceback) is kept with a trap.
fn classify(err: &wasmtime::Error, limits: &Limits, stderr: &[u8]) -> Failure {
    if err.downcast_ref::<MemoryCapExceeded>().is_some() {
        return Failure::OutOfMemory { limit: limits.memory_bytes };
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
            commits_produced: 0,
            fuel_used: 0,
            elapsed: Duration::ZERO,
        }
    }
}
