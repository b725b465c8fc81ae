//! Commits as a Rust iterator over the host's lazy walk.

use std::cell::RefCell;
use std::collections::VecDeque;

use crate::bindings::hookrt::policy::commits::{CommitWalk, Filter, MalformedCommit, WalkError, open};
use crate::{Commit, Veto};

/// The first batch is one commit, so a policy that stops at the first
/// commit makes the host walk exactly one; batches then double up to this,
/// so a long walk costs few host calls.
const MAX_BATCH: u32 = 256;

thread_local! {
    /// Walks that ended in an error while a policy iterated over them, as
    /// `(ref, error)`: `policy!` turns each into a veto once `check`
    /// returns, so a policy fails closed on history it could not read
    /// without handling the error itself, and never traps.
    static FAILED: RefCell<Vec<(String, WalkError)>> = const { RefCell::new(Vec::new()) };
}

/// An iterator over the commits of one ref update. Dropping it ends the
/// walk on the host.
///
/// A walk error (a commit git cannot read either, an unreadable
/// repository) ends the iteration early, and the policy's verdict then
/// gets a veto that names the commit and what to do, whatever `check`
/// returns: what the policy did not see, it cannot pass. Use
/// [`Commits::try_next`] to handle errors yourself instead.
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

    /// The next commit, or the error that stopped the walk. An error
    /// returned here is the caller's to handle: it adds no veto.
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
            Err(err) => {
                self.done = true;
                FAILED.with(|failed| failed.borrow_mut().push((self.ref_name.clone(), err)));
                None
            }
        }
    }
}

/// The vetoes for the walks that failed since the last call, which
/// forgets them. `policy!` and `observer!` call it after each run.
#[doc(hidden)]
pub fn take_walk_failures() -> Vec<Veto> {
    FAILED.with(|failed| failed.take()).into_iter().map(|(ref_name, err)| walk_veto(ref_name, err)).collect()
}

/// A veto for a walk that could not go on: what happened, naming the
/// commit where there is one, and what the pusher can do about it.
pub fn walk_veto(ref_name: String, err: WalkError) -> Veto {
    let (summary, detail, commit_id) = match err {
        WalkError::Malformed(MalformedCommit { id, problem }) => (
            // The report names the commit (`commit <id>  <subject>`) above it.
            format!("this commit cannot be read: {problem}"),
            "git cannot read past this commit either, so the policy could not check what it brings.\n\
             Run `git fsck` in your clone to see the damage, then rewrite the commit (e.g. with \
             `git rebase -i` or `git filter-repo`), or ask the server's admin to exempt this ref."
                .to_owned(),
            Some(id),
        ),
        WalkError::Repository(text) => (
            format!("the commits of {ref_name} could not be read"),
            format!("{text}\nTry the push again; if it keeps failing, tell the server's admin."),
            None,
        ),
        WalkError::UnknownRef(name) => (
            format!("the policy asked for the commits of {name}, which this push does not update"),
            "This is a bug in the policy; tell its author.".to_owned(),
            None,
        ),
    };
    Veto { summary, detail, ref_name, commit_id }
}

/// What a commit's damage is, for a veto's detail: the header, git fsck's
/// name for the problem and the line as stored.
pub(crate) fn damage_note(commit: &Commit) -> Option<String> {
    if commit.damage.is_empty() {
        return None;
    }
    let lines: Vec<String> = commit
        .damage
        .iter()
        .map(|d| match String::from_utf8_lossy(&d.raw) {
            raw if raw.is_empty() => format!("  {}: {} (no such line)", d.header, d.problem),
            raw => format!("  {}: {} (`{raw}`)", d.header, d.problem),
        })
        .collect();
    Some(format!(
        "Commit {} is malformed (`git fsck` reports it); the policy read it the way hookrt repairs it:\n{}",
        short(&commit.id),
        lines.join("\n")
    ))
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}
