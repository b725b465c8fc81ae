//! What went wrong in a run, as a [`Failure`]: wasmtime's traps and
//! refusals, and the host's own, each named by its cause.

use wasmtime::Trap;

use crate::host::{DeadlineInHostCall, MemoryCapExceeded};
use crate::verdict::{Failure, Grew, Limits};

/// Names the cause of a failed run. What the guest printed (a Rust panic
/// message, a Python traceback) is kept with a trap.
pub(crate) fn classify(err: &wasmtime::Error, limits: &Limits, stderr: &[u8]) -> Failure {
    if let Some(exceeded) = err.downcast_ref::<MemoryCapExceeded>() {
        return Failure::OutOfMemory { limit: limits.memory_bytes, grew: exceeded.grew.clone() };
    }
    if let Some(grew) = refused_by_wasmtime(&err.root_cause().to_string()) {
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

/// What wasmtime's own refusal says grew, if it is one: the counts are
/// checked by wasmtime, which fails with a plain message
/// (`resource limit exceeded: instance count too high at 65`), and the
/// copy limit with a private error type, so the text is all there is to
/// go on. `tests/e2e/hostile/memory.rs` proves each is recognized.
fn refused_by_wasmtime(message: &str) -> Option<Grew> {
    if message.contains("fuel allocated for hostcalls has been exhausted") {
        return Some(Grew::HostCopy);
    }
    let count = message.strip_prefix("resource limit exceeded: ")?;
    [("instance ", Grew::Instances), ("table ", Grew::Tables), ("memory ", Grew::Memories)]
        .into_iter()
        .find_map(|(what, grew)| count.starts_with(what).then_some(grew))
}
