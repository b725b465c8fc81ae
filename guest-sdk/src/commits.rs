//! Commits as a Rust iterator over the host's lazy walk.

use std::collections::VecDeque;

use crate::Commit;
use crate::bindings::hookrt::policy::commits::{CommitWalk, Filter, WalkError, open};

/// The first batch is one commit, so a policy that stops at the first
/// commit makes the host walk exactly one; batches then double up to this,
/// so a long walk costs few host calls.
const MAX_BATCH: u32 = 256;

/// An iterator over the commits of one ref update. Dropping it ends the
/// walk on the host.
pub struct Commits {
    ref_name: String,
    walk: Result<CommitWalk, WalkError>,
    buffer: VecDeque<Commit>,
    batch: u32,
    done: bool,
}

impl Commits {
    pub(crate) fn open(ref_name: &str, filter: Filter) -> Self {
        Commits {
            ref_name: ref_name.to_owned(),
            walk: open(ref_name, filter),
            buffer: VecDeque::new(),
            batch: 1,
            done: false,
        }
    }

    /// The next commit, or the error that stopped the walk.
    pub fn try_next(&mut self) -> Result<Option<Commit>, WalkError> {
        if let Some(commit) = self.buffer.pop_front() {
            return Ok(Some(commit));
        }
        if self.done {
            return Ok(None);
        }
        let walk = self.walk.as_ref().map_err(Clone::clone)?;
        let batch = walk.next_batch(self.batch)?;
        self.batch = (self.batch * 2).min(MAX_BATCH);
        if batch.is_empty() {
            self.done = true;
        }
        self.buffer.extend(batch);
        Ok(self.buffer.pop_front())
    }
}

impl Iterator for Commits {
    type Item = Commit;

    fn next(&mut self) -> Option<Commit> {
        match self.try_next() {
            Ok(commit) => commit,
            Err(err) => panic!("hookrt: cannot read the commits of {}: {err:?}", self.ref_name),
        }
    }
}
