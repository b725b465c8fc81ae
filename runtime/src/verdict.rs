//! What a policy decided, in hookrt's own terms.

/// One reason to reject, as a policy gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Veto {
    pub summary: String,
    pub detail: String,
    pub ref_name: String,
    /// The commit id as the policy wrote it (it is shown, not trusted).
    pub commit: Option<String>,
}

/// A policy's answer to a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    /// One or more vetoes. An empty list still rejects: the policy said no,
    /// it only did not say why.
    Reject(Vec<Veto>),
}
