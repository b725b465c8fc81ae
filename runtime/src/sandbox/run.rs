//! One policy's run: instantiate its module in a fresh store, ask its
//! validator, call its export, and turn whatever went wrong into a
//! [`Failure`].

use std::sync::Arc;
use std::time::Instant;

use wasmtime::Store;
use wasmtime::component::Instance;

use super::engine::Sandbox;
use super::failure::classify;
use super::module::PolicyModule;
use super::store::start;
use crate::git::Repo;
use crate::host::{self, Emitter, HostState};
use crate::policy::Settings;
use crate::push::Push;
use crate::timing;
use crate::verdict::{Failure, Limits, PolicyRun, SettingProblem, Verdict};

impl Sandbox {
    /// Runs `module` over `push` in a fresh store capped by `limits` (the
    /// caller has planned it for this hook: see `policy::plan`). A policy
    /// with a validator has its settings checked first; problems fail
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
    let call = if module.is_observer() { "observe" } else { "check" };
    let verdict = timing::timed(call, &module.name, || module.exports.call(store, &instance, push))?;
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
    host::validate(store, instance, index)
}
