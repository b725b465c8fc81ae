//! Why a policy did not produce a verdict: the typed causes a pusher and an
//! admin see. Every one of them rejects the push (fail closed) before the
//! refs move.

use std::time::Duration;

use super::limits::Grew;
use super::problem::SettingProblem;

/// The error a policy run ends with instead of a verdict.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Failure {
    #[error("ran out of fuel (limit {limit})")]
    OutOfFuel { limit: u64 },
    /// `grew` names what reached the limit.
    #[error("exceeded its memory limit ({} MiB): {grew}", limit >> 20)]
    OutOfMemory { limit: usize, grew: Grew },
    #[error("ran past its deadline ({} ms)", limit.as_millis())]
    Deadline { limit: Duration },
    #[error("overflowed its call stack")]
    StackOverflow,
    /// Any other trap: `unreachable` (a Rust panic), a bad memory access…
    /// `printed` is what the guest wrote to stdout and stderr (a panic
    /// message, a traceback), if anything.
    #[error("trapped: {message}")]
    Trap { message: String, printed: Option<String> },
    #[error("could not be loaded: {0}")]
    Load(String),
    /// The policy's validator refused its settings; each problem names the
    /// file and line.
    #[error("has invalid settings")]
    Settings(Vec<SettingProblem>),
    /// Its module was not in the compiled-code cache, and compiling it did
    /// not finish within the push's time budget.
    #[error(
        "was not compiled yet, and compiling it took longer than the push's time budget ({} ms)",
        budget.as_millis()
    )]
    NotCompiled { budget: Duration },
    /// The push's shared time budget ran out before or while it ran.
    #[error("did not finish within the push's time budget ({} ms, shared by all policies)", budget.as_millis())]
    Budget { budget: Duration },
}

impl Failure {
    /// A short, stable name for the cause, for logs and tests.
    pub fn cause(&self) -> &'static str {
        match self {
            Failure::OutOfFuel { .. } => "fuel",
            Failure::OutOfMemory { .. } => "memory",
            Failure::Deadline { .. } => "deadline",
            Failure::StackOverflow => "stack",
            Failure::Trap { .. } => "trap",
            Failure::Load(_) => "load",
            Failure::Settings(_) => "settings",
            Failure::NotCompiled { .. } => "compile",
            Failure::Budget { .. } => "budget",
        }
    }

    /// What the admin or policy author can do about it.
    pub fn advice(&self) -> &'static str {
        match self {
            Failure::OutOfFuel { .. } => {
                "If the push is legitimately large, raise `fuel` for this policy in hookrt.toml."
            }
            Failure::OutOfMemory { .. } => "Raise `memory_mib` for this policy in hookrt.toml, or make it hold less.",
            Failure::Deadline { .. } => "Raise `timeout_ms` for this policy in hookrt.toml, or make it stop earlier.",
            Failure::StackOverflow => "The policy recursed too deeply; this is a bug in the policy.",
            Failure::Trap { .. } => "This is a bug in the policy; its author can reproduce it with the same push.",
            Failure::Load(_) => {
                "Rebuild the module against hookrt:policy@0.1.0, or remove it from the policy directory."
            }
            Failure::Settings(_) => {
                "Fix the settings in hookrt.toml; `hookrt check` lists every problem with its line."
            }
            Failure::NotCompiled { .. } => {
                "Compile it ahead of pushes: run `hookrt check` on the repository as the account that runs git (it \
                 fills the cache pushes read)."
            }
            Failure::Budget { .. } => {
                "Raise `budget_ms` in hookrt.toml's [push] section, or make the policies before this one cheaper."
            }
        }
    }
}
