//! What one policy run may use, and what it grew past when it used more
//! (the sandbox enforces them: `host::memory`, `sandbox::store`).

use std::time::Duration;

/// Caps for one run of one policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wasm fuel: roughly one unit per instruction the guest executes.
    pub fuel: u64,
    /// Linear memories and tables in bytes, summed over every instance the
    /// component creates.
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
