//! The wasmtime sandbox, split by lifetime and built one way, as
//! Kubewarden's policy-evaluator is: `engine` (once per hook run) ←
//! `module` (once per policy: read, `compile`d or taken from the `cache`,
//! linked) ← `store` (once per policy run) ← `run` (the calls of the
//! exports, and the `failure` they end in). The host interfaces the
//! policy calls back into are `crate::host`'s.

mod cache;
mod compile;
mod engine;
mod error;
mod failure;
mod module;
mod run;
mod store;
mod wasi;

pub use crate::host::CONTRACT;
pub use cache::{Cache, CacheError, Entry, LockTimedOut, MAX_AGE, MAX_BYTES};
pub use engine::Sandbox;
pub use error::{EngineError, LoadError};
pub use module::PolicyModule;
