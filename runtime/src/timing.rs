//! Where a hook run's time goes: one `debug` event per phase, under the
//! `hookrt::timing` target. `HOOKRT_LOG=hookrt::timing=debug` prints them,
//! and `just bench` sums them per phase (bench/report.py names the phases).

use std::time::{Duration, Instant};

/// Records that `phase` (of `policy`, if it is one policy's) took `elapsed`.
pub(crate) fn record(phase: &'static str, policy: &str, elapsed: Duration) {
    tracing::debug!(phase, policy, us = elapsed.as_micros() as u64);
}

/// Runs `work` as `phase` and records how long it took.
pub(crate) fn timed<T>(phase: &'static str, policy: &str, work: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let result = work();
    record(phase, policy, started.elapsed());
    result
}
