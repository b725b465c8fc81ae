//! The wasmtime sandbox, split by lifetime: `engine` is built once per
//! hook run, `module` once per policy, `run` once per policy run.

mod cache;
mod engine;
mod failure;
mod limits;
mod module;
mod run;
mod wasi;

pub use cache::{Cache, CacheError};
pub use engine::{EngineError, Sandbox};
pub use failure::Failure;
pub use limits::{Limits, MemoryCap, MemoryCapExceeded};
pub use module::{CONTRACT, LoadError, PolicyModule};
pub(crate) use run::MAX_RESOURCES;
pub use run::PolicyRun;
