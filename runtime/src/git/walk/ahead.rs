//! A walk on a thread of its own, a few batches ahead of the policy.
//!
//! Reading and decoding commits (inflating each from the pack) is most of a
//! long walk's cost, and the policy's own work on a commit (copying it into
//! the sandbox, looking at it) is the rest. On two cores the two overlap.
//! The thread stays at most [`BATCHES`] batches ahead, stops when the walk
//! is dropped (a policy that found what it looked for), and keeps to the
//! policy's deadline.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{Raw, WalkError, Walker};

/// Commits per message from the thread.
const BATCH: usize = 64;
/// Messages the thread may have sent and the policy not yet taken.
const BATCHES: usize = 4;
/// Walks running ahead at once, in the whole process; others stay on their
/// caller's thread. A policy that opens many long walks gets no more
/// threads than this.
const MAX_THREADS: usize = 4;

static THREADS: AtomicUsize = AtomicUsize::new(0);

/// A claim on one of the [`MAX_THREADS`]; released when dropped.
pub(super) struct Slot(());

impl Slot {
    pub(super) fn take() -> Option<Slot> {
        let claimed = THREADS.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < MAX_THREADS).then_some(n + 1));
        claimed.is_ok().then_some(Slot(()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        THREADS.fetch_sub(1, Ordering::AcqRel);
    }
}

enum Message {
    Commits(Vec<Raw>),
    Failed(WalkError),
    End,
}

/// The policy's end of a walk running ahead.
pub(super) struct Ahead {
    messages: Option<Receiver<Message>>,
    pending: std::vec::IntoIter<Raw>,
    stop: Arc<AtomicBool>,
}

impl Ahead {
    /// A walk with nothing left (a placeholder while the real one starts).
    pub(super) fn finished() -> Self {
        Ahead { messages: None, pending: Vec::new().into_iter(), stop: Arc::new(AtomicBool::new(true)) }
    }

    /// Moves `walker` to a new thread that works until `deadline`, or hands
    /// it back if no thread can be started.
    pub(super) fn start(walker: Walker, deadline: Option<Instant>, slot: Slot) -> Result<Self, Box<Walker>> {
        let (sender, messages) = sync_channel(BATCHES);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        // Shared so that it can be taken back: a thread that fails to start
        // drops the closure, and the walker with it.
        let ours = Arc::new(Mutex::new(Some(walker)));
        let theirs = Arc::clone(&ours);
        let spawned = std::thread::Builder::new().name("hookrt-walk".into()).spawn(move || {
            let _slot = slot;
            if let Some(walker) = theirs.lock().ok().and_then(|mut walker| walker.take()) {
                run(walker, deadline, &sender, &stopped);
            }
        });
        let ahead = Ahead { messages: Some(messages), pending: Vec::new().into_iter(), stop };
        match spawned {
            Ok(_) => Ok(ahead),
            // Not started, so the walker is still here. (Were it not, the
            // sender is gone and the walk fails with `Stopped`.)
            Err(_) => ours.lock().ok().and_then(|mut walker| walker.take()).map_or(Ok(ahead), |w| Err(Box::new(w))),
        }
    }

    pub(super) fn next(&mut self, deadline: Option<Instant>) -> Result<Option<Raw>, WalkError> {
        loop {
            if let Some(commit) = self.pending.next() {
                return Ok(Some(commit));
            }
            let Some(messages) = &self.messages else { return Ok(None) };
            let message = match deadline {
                Some(deadline) => messages.recv_timeout(deadline.saturating_duration_since(Instant::now())),
                None => messages.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match message {
                Ok(Message::Commits(commits)) => self.pending = commits.into_iter(),
                Ok(Message::End) => self.messages = None,
                Ok(Message::Failed(err)) => {
                    self.messages = None;
                    return Err(err);
                }
                Err(RecvTimeoutError::Timeout) => return Err(WalkError::DeadlineExceeded),
                // Ended without `End`: the thread panicked. Fail rather than
                // let the policy think it saw every commit.
                Err(RecvTimeoutError::Disconnected) => {
                    self.messages = None;
                    return Err(WalkError::Stopped);
                }
            }
        }
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        // The thread notices at its next commit, or when its next send finds
        // no receiver; it is not waited for.
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn run(mut walker: Walker, deadline: Option<Instant>, sender: &SyncSender<Message>, stop: &AtomicBool) {
    loop {
        let mut batch = Vec::with_capacity(BATCH);
        let mut last = None;
        while batch.len() < BATCH && !stop.load(Ordering::Relaxed) {
            match walker.next(deadline) {
                Ok(Some(commit)) => batch.push(commit),
                Ok(None) => {
                    last = Some(Message::End);
                    break;
                }
                Err(err) => {
                    last = Some(Message::Failed(err));
                    break;
                }
            }
        }
        if stop.load(Ordering::Relaxed) || sender.send(Message::Commits(batch)).is_err() {
            return;
        }
        if let Some(last) = last {
            let _ = sender.send(last);
            return;
        }
    }
}
