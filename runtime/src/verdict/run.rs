//! One policy's run over one push, as data: its outcome and everything it
//! wrote, emitted and cost. The sandbox fills it in; the report, the audit
//! log and the webhooks read it.

use std::time::Duration;

use super::failure::Failure;
use super::veto::{Verdict, Veto};

/// One policy's run over one push.
#[derive(Debug)]
pub struct PolicyRun {
    pub policy: String,
    pub outcome: Result<Verdict, Failure>,
    /// Lines the policy wrote for the pusher.
    pub output: Vec<String>,
    /// Whether output past the budget was dropped.
    pub output_truncated: bool,
    /// Non-blocking warnings for the pusher.
    pub warnings: Vec<Veto>,
    /// Warnings past the output budget, counted only.
    pub warnings_dropped: usize,
    /// Vetoes past [`super::MAX_VETOES`], counted only.
    pub vetoes_dropped: usize,
    /// What an observer emitted, for the admin's webhooks (delivered only
    /// if it finished).
    pub events: Vec<Emitted>,
    /// What the host did for the policy (commits walked, paths listed,
    /// blob bytes read).
    pub work: HostWork,
    pub fuel_used: u64,
    pub elapsed: Duration,
}

impl PolicyRun {
    /// A policy that never ran, e.g. because its module could not be loaded.
    pub fn failed(policy: &str, failure: Failure) -> Self {
        PolicyRun {
            policy: policy.to_owned(),
            outcome: Err(failure),
            output: Vec::new(),
            output_truncated: false,
            warnings: Vec::new(),
            warnings_dropped: 0,
            vetoes_dropped: 0,
            events: Vec::new(),
            work: HostWork::default(),
            fuel_used: 0,
            elapsed: Duration::ZERO,
        }
    }
}

/// What the host did on one policy's behalf: the measure that a policy that
/// never asks for files or blobs costs nothing for them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostWork {
    /// Commits produced over all the policy's walks.
    pub commits: u64,
    /// Changed paths listed (`files.changes`).
    pub changes: u64,
    /// Blob bytes copied into the guest.
    pub blob_bytes: u64,
    /// Ancestry questions answered (`is-ancestor`, `is-force-push`).
    pub ancestry: u64,
    /// Time spent walking and decoding commits for the policy.
    pub walking: Duration,
}

/// One event an observer emitted (`hookrt:policy/events`), checked and
/// capped by the host as it came.
#[derive(Debug, Clone, PartialEq)]
pub struct Emitted {
    /// The policy's own name for it (`deploy`); webhooks see
    /// `<policy>/<name>`.
    pub name: String,
    pub ref_name: Option<String>,
    pub payload: serde_json::Value,
}

/// Why a policy did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// `mode = "disabled"`.
    Disabled,
    /// None of the pushed refs matches its `refs` / `exclude_refs`.
    NoMatchingRefs,
    /// The pusher (this login) is in its `bypass` list.
    Bypassed(String),
}
