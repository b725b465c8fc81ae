//! What one policy run may use, and the memory limiter that enforces it.

use std::time::Duration;

/// Caps for one run of one policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wasm fuel: roughly one unit per instruction the guest executes.
    pub fuel: u64,
    /// Linear memory in bytes, summed over all of the component's memories.
    pub memory_bytes: usize,
    /// Wall-clock time from instantiation to verdict, host calls included.
    pub timeout: Duration,
    /// The most one blob read returns, whatever the policy asks for.
    pub blob_read_bytes: usize,
}

impl Default for Limits {
    /// Generous for a Rust policy over a 100,000-commit push (a few thousand
    /// fuel per commit), tight enough that a runaway policy stops within
    /// seconds. GitHub Enterprise gives all hooks of a push 5 s together.
    fn default() -> Self {
        Limits {
            fuel: 5_000_000_000,
            memory_bytes: 256 << 20,
            timeout: Duration::from_secs(5),
            blob_read_bytes: 1 << 20,
        }
    }
}

/// The guest tried to grow its memory past [`Limits::memory_bytes`]. It traps
/// the guest, and the runner reports it as the memory cause.
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {limit} bytes reached (asked for {requested} bytes)")]
pub struct MemoryCapExceeded {
    pub limit: usize,
    pub requested: usize,
}

/// A `ResourceLimiter` that counts every memory of the store against one
/// cap and traps (rather than failing the grow) when it is reached, so the
/// cause is reported as memory and not as whatever the guest does when an
/// allocation fails.
#[derive(Debug)]
pub struct MemoryCap {
    limit: usize,
    used: usize,
}

/// Tables hold function references; no sane component needs more entries.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl MemoryCap {
    pub fn new(limit: usize) -> Self {
        MemoryCap { limit, used: 0 }
    }
}

impl wasmtime::ResourceLimiter for MemoryCap {
    fn memory_growing(&mut self, current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        let requested = self.used.saturating_add(desired.saturating_sub(current));
        if requested > self.limit {
            return Err(MemoryCapExceeded { limit: self.limit, requested }.into());
        }
        self.used = requested;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
