//! What one policy run may use, and the memory limiter that enforces it.

use std::time::Duration;

/// Caps for one run of one policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wasm fuel: roughly one unit per instruction the guest executes.
    pub fuel: u64,
    /// Linear memories and tables in bytes, summed over every instance the
    /// component creates (see [`MemoryBudget`]).
    pub memory_bytes: usize,
    /// Wall-clock time from instantiation to verdict, host calls included.
    pub timeout: Duration,
    /// The most one blob read returns, whatever the policy asks for.
    pub blob_read_bytes: usize,
    /// The most paths `files.changes` lists for one commit; a commit that
    /// changes more is an error the policy sees, never a shorter list.
    pub changes_max: usize,
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
            // A few hundred bytes of host memory each while listed: 100,000
            // paths (a big vendoring or import commit) cost some 30 MiB.
            changes_max: 100_000,
        }
    }
}

/// The most core instances, tables and linear memories one policy run may
/// create. The largest real components are far below: a Python policy
/// (componentize-py) makes 15 core instances with 2 tables and 1 memory, a
/// Rust, C or JavaScript one 3 or 4. Without a count, a component could
/// instantiate one module thousands of times, each instance with tables and
/// memories of its own.
pub const MAX_INSTANCES: usize = 64;
pub const MAX_TABLES: usize = 64;
pub const MAX_MEMORIES: usize = 16;

/// The most data a policy hands hookrt at once, in bytes: its verdict, or
/// the arguments of one host call, as wasmtime copies them out of the
/// policy's memory (its "hostcall fuel"). A kept verdict is at most 100
/// vetoes of a few KiB; this leaves room for a policy that returns
/// thousands before hookrt cuts them, and keeps hookrt's own copy small.
pub const HOST_COPY_BYTES: usize = 16 << 20;

/// What wasmtime stores per table element: a pointer (see
/// `wasmtime::ResourceLimiter::table_growing`).
const TABLE_ELEMENT_BYTES: usize = size_of::<usize>();

/// What a policy grew past its memory budget: named in the failure the
/// pusher and the audit log see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grew {
    /// A linear memory was to grow to `size` bytes, making `total` bytes
    /// of memories and tables in all.
    Memory {
        size: usize,
        total: usize,
    },
    /// A table was to grow to `elements`, making `total` bytes in all.
    Table {
        elements: usize,
        total: usize,
    },
    /// More core instances, tables or memories than [`MAX_INSTANCES`],
    /// [`MAX_TABLES`] or [`MAX_MEMORIES`].
    Instances,
    Tables,
    Memories,
    /// More than [`HOST_COPY_BYTES`] handed to hookrt at once.
    HostCopy,
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

impl std::fmt::Display for Grew {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let run = "hookrt allows in one run";
        match self {
            Grew::Memory { size, total } => write!(
                f,
                "a linear memory grew to {:.1} MiB; the policy's memories and tables would take {:.1} MiB",
                mib(*size),
                mib(*total)
            ),
            Grew::Table { elements, total } => write!(
                f,
                "a table grew to {elements} elements; the policy's memories and tables would take {:.1} MiB",
                mib(*total)
            ),
            Grew::Instances => write!(f, "it created more core instances than the {MAX_INSTANCES} {run}"),
            Grew::Tables => write!(f, "it created more tables than the {MAX_TABLES} {run}"),
            Grew::Memories => write!(f, "it created more linear memories than the {MAX_MEMORIES} {run}"),
            Grew::HostCopy => write!(
                f,
                "it handed hookrt more than {} MiB at once (its verdict, or what it passed to one host call)",
                HOST_COPY_BYTES >> 20
            ),
        }
    }
}

/// The guest tried to grow its memories and tables past
/// [`Limits::memory_bytes`]. It traps the guest, and the runner reports it
/// as the memory cause.
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {limit} bytes reached: {grew}")]
pub struct MemoryCapExceeded {
    pub limit: usize,
    pub grew: Grew,
}

/// A `ResourceLimiter` that counts every linear memory and table of the
/// store, of every instance the component makes, against one budget, and
/// traps (rather than failing the grow) when it is reached, so the cause is
/// reported as memory and not as whatever the guest does when an allocation
/// fails. Memories and tables are counted when they are created (at their
/// initial size) and whenever they grow.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: usize,
}

impl MemoryBudget {
    pub fn new(limit: usize) -> Self {
        MemoryBudget { limit, used: 0 }
    }

    fn grow(&mut self, added: usize, grew: impl FnOnce(usize) -> Grew) -> wasmtime::Result<bool> {
        let total = self.used.saturating_add(added);
        if total > self.limit {
            return Err(MemoryCapExceeded { limit: self.limit, grew: grew(total) }.into());
        }
        self.used = total;
        Ok(true)
    }
}

impl wasmtime::ResourceLimiter for MemoryBudget {
    fn memory_growing(&mut self, current: usize, desired: usize, max: Option<usize>) -> wasmtime::Result<bool> {
        // Past its own maximum the grow fails anyway; it must not count.
        if max.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        self.grow(desired.saturating_sub(current), |total| Grew::Memory { size: desired, total })
    }

    fn table_growing(&mut self, current: usize, desired: usize, max: Option<usize>) -> wasmtime::Result<bool> {
        if max.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        let added = desired.saturating_sub(current).saturating_mul(TABLE_ELEMENT_BYTES);
        self.grow(added, |total| Grew::Table { elements: desired, total })
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

impl Grew {
    /// What wasmtime's own refusal says grew, if it is one: the counts are
    /// checked by wasmtime, which fails with a plain message
    /// (`resource limit exceeded: instance count too high at 65`), and the
    /// copy limit with a private error type, so the text is all there is to
    /// go on. `tests/e2e/hostile/memory.rs` proves each is recognized.
    pub(crate) fn from_wasmtime(message: &str) -> Option<Grew> {
        if message.contains("fuel allocated for hostcalls has been exhausted") {
            return Some(Grew::HostCopy);
        }
        let count = message.strip_prefix("resource limit exceeded: ")?;
        [("instance ", Grew::Instances), ("table ", Grew::Tables), ("memory ", Grew::Memories)]
            .into_iter()
            .find_map(|(what, grew)| count.starts_with(what).then_some(grew))
    }
}
