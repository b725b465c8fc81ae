//! A lazy, exact commit walk: `tips --not hidden`, one commit at a time.
//!
//! Commits come newest first by committer date, the way `git rev-list` lists
//! them. Hidden commits are processed before interesting ones of the same
//! (clamped) date, so a commit is produced only once nothing still queued can
//! hide it. With committer dates that never go backwards from child to
//! parent this gives exactly `git rev-list tips --not hidden`; with clock
//! skew, a parent's date is clamped to its child's, the hidden tips go
//! first whatever their dates, and a hidden commit older than its parent
//! goes with its parent, which keeps the common skewed cases right as well
//! (a tip amended after a wrong clock, a wrong clock below a tip, a commit
//! imported without a date; tests/e2e/history.rs checks them against git).
//! The walk stops the moment no interesting commit is left, and it
//! only does work when asked for the next commit: a policy that stops after
//! one commit costs one commit plus the hidden tips and whatever hidden
//! history is newer than it.
//!
//! A walk that goes on past its first few hundred commits moves to a thread
//! of its own (see [`ahead`]), which reads and decodes the next commits
//! while the policy looks at the ones it has.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::Instant;

use gix::ObjectId;
use gix::hashtable::HashMap;

use super::commit::{Commit, header};
use super::odb::{Odb, ReadError};

mod ahead;

/// The error returned by [`Walk::new`] and [`Walk::next`].
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("the walk ran past its deadline")]
    DeadlineExceeded,
    /// The thread reading ahead ended without saying so (a bug in hookrt).
    #[error("the commit walk stopped unexpectedly (a bug in hookrt; please report it)")]
    Stopped,
}

/// How many commits a walk produces on the caller's thread before it moves
/// to a thread of its own: a policy that stops early, or a push of a few
/// commits, never pays for a thread.
const INLINE_COMMITS: u64 = 256;

/// A commit walk in progress. Dropping it ends the walk.
pub struct Walk {
    mode: Mode,
    produced: u64,
    hash: gix::hash::Kind,
}

enum Mode {
    Inline(Walker),
    Ahead(ahead::Ahead),
}

impl Walk {
    /// Starts a walk over the commits reachable from `tips` and from none of
    /// `hidden`. Both must be commit ids (peel tags first).
    pub fn new(odb: Odb, tips: &[ObjectId], hidden: &[ObjectId]) -> Result<Self, WalkError> {
        let hash = odb.hash_kind();
        Ok(Walk { mode: Mode::Inline(Walker::new(odb, tips, hidden)?), produced: 0, hash })
    }

    /// The next commit, or `None` when the walk is done. Gives up with
    /// [`WalkError::DeadlineExceeded`] once `deadline` has passed.
    pub fn next(&mut self, deadline: Option<Instant>) -> Result<Option<Commit>, WalkError> {
        self.produced += 1;
        if self.produced > INLINE_COMMITS
            && let Mode::Inline(_) = self.mode
            && let Some(slot) = ahead::Slot::take()
        {
            let placeholder = Mode::Ahead(ahead::Ahead::finished());
            if let Mode::Inline(walker) = std::mem::replace(&mut self.mode, placeholder) {
                // No thread to be had: the walk goes on where it was.
                self.mode = match ahead::Ahead::start(walker, deadline, slot) {
                    Ok(ahead) => Mode::Ahead(ahead),
                    Err(walker) => Mode::Inline(*walker),
                };
            }
        }
        let raw = match &mut self.mode {
            Mode::Inline(walker) => walker.next(deadline)?,
            Mode::Ahead(ahead) => ahead.next(deadline)?,
        };
        Ok(raw.map(|raw| Commit::decode(raw.id, &raw.data, self.hash)).transpose()?)
    }
}

/// A commit as the walk found it: its id and its object's bytes. Decoding it
/// is left to the thread that hands it to the policy, to share the work
/// between the two when the walk runs ahead.
pub(super) struct Raw {
    id: ObjectId,
    data: Vec<u8>,
}

/// The walk itself, on whichever thread runs it.
pub(super) struct Walker {
    odb: Odb,
    queue: BinaryHeap<Queued>,
    seen: HashMap<ObjectId, State>,
    /// Queued commits not (yet) known to be hidden: the walk is over when
    /// this reaches zero, however much hidden history is left.
    interesting_queued: usize,
    seq: u64,
    buf: Vec<u8>,
    /// Commits read ahead of their turn (see [`Walker::newest`]), with
    /// their kind, until they are queued.
    peeked: HashMap<ObjectId, (gix::object::Kind, Vec<u8>)>,
}

#[derive(Clone, Copy)]
struct State {
    hidden: bool,
    queued: bool,
    /// Its walk date (0 for a commit that could not be read).
    date: i64,
}

struct Queued {
    /// The committer date, clamped to be no newer than the child that
    /// queued it.
    key: i64,
    hidden: bool,
    seq: u64,
    id: ObjectId,
    data: Vec<u8>,
    parents: Vec<ObjectId>,
}

impl Queued {
    fn order(&self) -> (i64, bool, Reverse<u64>) {
        (self.key, self.hidden, Reverse(self.seq))
    }
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.order() == other.order()
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        self.order().cmp(&other.order())
    }
}

/// How many commits are processed between two looks at the clock.
const DEADLINE_CHECK_EVERY: u32 = 256;

impl Walker {
    fn new(odb: Odb, tips: &[ObjectId], hidden: &[ObjectId]) -> Result<Self, WalkError> {
        let mut walk = Walker {
            odb,
            queue: BinaryHeap::new(),
            seen: HashMap::default(),
            interesting_queued: 0,
            seq: 0,
            buf: Vec::new(),
            peeked: HashMap::default(),
        };
        for id in hidden {
            walk.enqueue(*id, true, None)?;
        }
        for id in tips {
            walk.enqueue(*id, false, None)?;
        }
        Ok(walk)
    }

    /// The next commit, undecoded; see [`Walk::next`].
    pub(super) fn next(&mut self, deadline: Option<Instant>) -> Result<Option<Raw>, WalkError> {
        let mut steps = 0u32;
        while self.interesting_queued > 0 {
            steps += 1;
            if steps.is_multiple_of(DEADLINE_CHECK_EVERY) && deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(WalkError::DeadlineExceeded);
            }
            let item = self.queue.pop().expect("a commit counted as queued is in the queue");
            let state = self.seen.get_mut(&item.id).expect("every queued commit has a state");
            state.queued = false;
            let hidden = state.hidden;
            if !hidden {
                self.interesting_queued -= 1;
            }
            for parent in item.parents {
                self.enqueue(parent, hidden, Some((item.id, item.key)))?;
            }
            if !hidden {
                return Ok(Some(Raw { id: item.id, data: item.data }));
            }
        }
        Ok(None)
    }

    /// The newest walk date of `ids` (0 for none, or what cannot be read).
    /// What is read for it is kept for [`Walker::enqueue`], which queues
    /// these commits next: a commit is still read once.
    fn newest(&mut self, ids: &[ObjectId]) -> i64 {
        let hash = self.odb.hash_kind();
        let mut newest = 0;
        for id in ids {
            let date = match self.seen.get(id) {
                Some(state) => state.date,
                None => match self.odb.read(id, &mut self.buf) {
                    Ok(data) => {
                        let date = header::head(data.data, hash).map_or(0, |head| header::walk_date(data.data, &head));
                        self.peeked.insert(*id, (data.kind, data.data.to_vec()));
                        date
                    }
                    Err(_) => 0,
                },
            };
            newest = newest.max(date);
        }
        newest
    }

    /// Queues `id`, a tip or the parent of `child` (its id and date key).
    fn enqueue(&mut self, id: ObjectId, hidden: bool, child: Option<(ObjectId, i64)>) -> Result<(), WalkError> {
        if let Some(state) = self.seen.get_mut(&id) {
            if hidden && !state.hidden {
                state.hidden = true;
                if state.queued {
                    self.interesting_queued -= 1;
                }
            }
            return Ok(());
        }
        let read = match self.peeked.remove(&id) {
            Some(peeked) => Ok(peeked),
            None => self.odb.read(&id, &mut self.buf).map(|data| (data.kind, data.data.to_vec())),
        };
        let read = read.and_then(|(kind, data)| {
            if kind != gix::object::Kind::Commit {
                return Err(match child {
                    Some((child, _)) => ReadError::MalformedCommit {
                        id: child,
                        problem: format!("its parent {id} is a {kind}, not a commit"),
                    },
                    None => ReadError::WrongKind { id, actual: kind, expected: gix::object::Kind::Commit },
                });
            }
            // A commit git cannot walk past stops this walk too, naming it.
            let head = header::head(&data, self.odb.hash_kind())
                .map_err(|problem| ReadError::MalformedCommit { id, problem })?;
            Ok((data, head))
        });
        let (data, head) = match read {
            Ok(read) => read,
            // What hides commits only needs to be read as far as it can be:
            // git's walk skips an unreadable uninteresting parent (marking
            // it uninteresting all the same), so a broken commit already in
            // the repository does not block every later push. Skipping it
            // can only show the policy more commits, never fewer.
            Err(_) if hidden => {
                self.seen.insert(id, State { hidden, queued: false, date: 0 });
                return Ok(());
            }
            Err(err) => return Err(err.into()),
        };
        let time = header::walk_date(&data, &head);
        let parents = head.parents;
        let key = match child {
            // A hidden commit older than its own parent (a wrong clock below
            // a tip) goes when its parent would, so that it hides that
            // parent before the interesting side reaches it: `git rev-list`
            // is exact there, as it walks on until all it holds is hidden.
            Some((_, child)) if hidden => time.max(self.newest(&parents)).min(child),
            Some((_, child)) => time.min(child),
            // What hides commits starts first, whatever its date: a tip
            // with a wrong clock (amended later with a right one, or
            // imported without a date) must hide its parents before the
            // walk reaches them from the interesting side. Their own dates
            // order the rest, as before.
            None if hidden => i64::MAX,
            None => time,
        };
        self.seen.insert(id, State { hidden, queued: true, date: time });
        if !hidden {
            self.interesting_queued += 1;
        }
        self.seq += 1;
        self.queue.push(Queued { key, hidden, seq: self.seq, id, data, parents });
        Ok(())
    }
}
