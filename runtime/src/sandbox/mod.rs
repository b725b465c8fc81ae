//! The wasmtime sandbox, split by lifetime: `engine` is built once per
//! hook run, `module` once per policy, `run` once per policy run.

mod cache;
mod compile;
mod engine;
mod failure;
mod limits;
mod module;
mod run;
mod wasi;

pub use cache::{Cache, CacheError, Entry, LockTimedOut, MAX_AGE, MAX_BYTES};
pub use engine::{EngineError, Sandbox};
pub use failure::Failure;
pub use limits::{
    Grew, HOST_COPY_BYTES, Limits, MAX_INSTANCES, MAX_MEMORIES, MAX_TABLES, MemoryBudget, MemoryCapExceeded,
};
pub use module::{CONTRACT, LoadError, PolicyModule};
pub(crate) use run::MAX_RESOURCES;
pub use run::PolicyRun;
