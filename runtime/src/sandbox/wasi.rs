//! The WASI a policy gets: the interfaces every Rust, Python, JavaScript or
//! C guest imports are all linked, and they grant nothing. No preopened
//! directories, no environment, no arguments, no network; stdout and stderr
//! go to a small capped buffer (what a panic prints).
//!
//! Time is frozen: the wall clock reads the Unix epoch and the monotonic
//! clock never moves, so a policy gives the same verdict on the same push
//! whenever it runs (`hookrt test` today, the push next year) and has no
//! timer to measure the host with. A sleep returns at once: wasmtime-wasi's
//! own would block the host thread for as long as the guest asks, beyond
//! the reach of the epoch deadline, which only interrupts guest code.

use std::time::Duration;

use wasmtime::component::{HasSelf, Linker, Resource};
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::p2::{DynPollable, Pollable};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder};

use crate::host::HostState;

/// Links every WASI interface, with the monotonic clock's replaced by
/// [`FrozenClock`]'s.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    linker.allow_shadowing(true);
    monotonic_clock::add_to_linker::<_, HasSelf<_>>(linker, |state| state)?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The context behind the interfaces: nothing granted, time frozen, output
/// to `output`.
pub(crate) fn context(output: &MemoryOutputPipe) -> WasiCtx {
    WasiCtxBuilder::new()
        .stdout(output.clone())
        .stderr(output.clone())
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock)
        .build()
}

/// A clock that always reads zero: the context's clocks, for whatever in
/// wasmtime-wasi reads them beside the interfaces (the monotonic-clock
/// interface itself is answered by `HostState` below).
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        0
    }
}

/// A timer that has already gone off: time is frozen, so every sleep is
/// over as soon as it starts.
struct Elapsed;

#[wasmtime_wasi::async_trait]
impl Pollable for Elapsed {
    async fn ready(&mut self) {}
}

impl monotonic_clock::Host for HostState {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(0)
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(1)
    }

    fn subscribe_instant(&mut self, _when: monotonic_clock::Instant) -> wasmtime::Result<Resource<DynPollable>> {
        self.elapsed_timer()
    }

    fn subscribe_duration(&mut self, _after: monotonic_clock::Duration) -> wasmtime::Result<Resource<DynPollable>> {
        self.elapsed_timer()
    }
}

impl HostState {
    fn elapsed_timer(&mut self) -> wasmtime::Result<Resource<DynPollable>> {
        let timer = self.table.push(Elapsed)?;
        wasmtime_wasi::p2::subscribe(&mut self.table, timer)
    }
}
