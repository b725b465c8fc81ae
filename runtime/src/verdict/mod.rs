//! The outcome model: what a policy decided ([`Verdict`], [`Veto`]), why
//! it could not ([`Failure`]), what it was allowed ([`Limits`]) and what
//! its run left ([`PolicyRun`]), or why it did not run ([`Skip`]).
//!
//! It imports nothing of hookrt: the sandbox produces these values, and the
//! report, the audit log and the webhooks read them, without any of them
//! knowing the others (`tests/e2e/architecture.rs` holds it to that).

mod failure;
mod limits;
mod problem;
mod run;
mod veto;

pub use failure::Failure;
pub use limits::{Grew, HOST_COPY_BYTES, Limits, MAX_INSTANCES, MAX_MEMORIES, MAX_TABLES};
pub use problem::{Origin, SettingProblem};
pub use run::{Emitted, HostWork, PolicyRun, Skip};
pub use veto::{MAX_VETOES, Verdict, Veto, cut, cut_copy};
