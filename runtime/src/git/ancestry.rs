//! Ancestry: `git merge-base --is-ancestor`, and force pushes built on it.

use std::time::Instant;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use gix::ObjectId;
use gix::hashtable::HashMap;

use super::commit::header;
use super::odb::{Odb, ReadError};
use super::{LookupError, Repo};
use crate::push::{RefKind, RefUpdate};

impl Repo {
    /// Whether `ancestor` is reachable from `descendant` (a commit is its
    /// own ancestor). Tags are peeled; anything else that is not a commit is
    /// an error.
    pub fn is_ancestor(
        &self,
        ancestor: ObjectId,
        descendant: ObjectId,
        deadline: Option<Instant>,
    ) -> Result<bool, LookupError> {
        let mut buf = Vec::new();
        let (ancestor, descendant) = (self.commit_id(ancestor, &mut buf)?, self.commit_id(descendant, &mut buf)?);
        if ancestor == descendant {
            return Ok(true);
        }
        paint_down(&self.odb, ancestor, descendant, deadline)
    }

    /// Whether `update` is a force push: it moves an existing ref to a
    /// commit its old commit is not an ancestor of. Creations and deletions
    /// are not; an old or new id that is not a commit (a tag of a tree, say)
    /// cannot be fast-forwarded and counts as forced, as receive-pack's
    /// `denyNonFastForwards` sees it. Worked out once per push.
    pub fn is_force_push(&self, update: &RefUpdate, deadline: Option<Instant>) -> Result<bool, LookupError> {
        if update.kind() != RefKind::Update {
            return Ok(false);
        }
        let known = self.shared.forced.lock().map(|cache| cache.get(&update.name).copied());
        if let Ok(Some(forced)) = known {
            return Ok(forced);
        }
        let forced = match self.is_ancestor(update.old, update.new, deadline) {
            Ok(ancestor) => !ancestor,
            Err(LookupError::Invalid(_)) => true,
            Err(err) => return Err(err),
        };
        if let Ok(mut cache) = self.shared.forced.lock() {
            cache.insert(update.name.clone(), forced);
        }
        Ok(forced)
    }

    /// `id` peeled to a commit.
    fn commit_id(&self, id: ObjectId, buf: &mut Vec<u8>) -> Result<ObjectId, LookupError> {
        let (peeled, kind) = self.odb.peel(id, buf)?;
        if kind != gix::object::Kind::Commit {
            return Err(LookupError::Invalid(format!("{id} is a {kind}, not a commit")));
        }
        Ok(peeled)
    }
}

/// Which side of [`paint_down`] reached a commit.
const FROM_ANCESTOR: u8 = 1;
const FROM_DESCENDANT: u8 = 2;
/// Passed down from a commit reached from both sides: a common ancestor's
/// history needs no more painting.
const STALE: u8 = 4;

/// How many commits are painted between two looks at the clock.
const DEADLINE_CHECK_EVERY: u32 = 256;

/// One commit [`paint_down`] has reached.
struct Node {
    flags: u8,
    date: i64,
    parents: Vec<ObjectId>,
    /// How many times it is in the queue (git queues a commit again each
    /// time it gains a flag).
    queued: usize,
}

/// Whether `ancestor` is reachable from `descendant`, as git's
/// `repo_in_merge_bases` answers it without a commit-graph: paint down from
/// both by committer date (`paint_down_to_common`) until every queued
/// commit is stale, so the cost is the history since the fork, not the
/// repository's. Commits are read with hookrt's own header reader, so a
/// commit with damaged author or committer lines, which `git merge-base`
/// walks through, does not stop it either.
fn paint_down(
    odb: &Odb,
    ancestor: ObjectId,
    descendant: ObjectId,
    deadline: Option<Instant>,
) -> Result<bool, LookupError> {
    let mut paint =
        Paint { odb, nodes: HashMap::default(), queue: BinaryHeap::new(), live: 0, seq: 0, buf: Vec::new() };
    paint.add(ancestor, FROM_ANCESTOR)?;
    paint.add(descendant, FROM_DESCENDANT)?;
    let mut steps = 0u32;
    while paint.live > 0 {
        steps += 1;
        if steps.is_multiple_of(DEADLINE_CHECK_EVERY) && deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(LookupError::Deadline);
        }
        let Some((_, _, id)) = paint.queue.pop() else { break };
        let node = paint.nodes.get_mut(&id).expect("a queued commit has a node");
        node.queued -= 1;
        if node.flags & STALE == 0 {
            paint.live -= 1;
        }
        let mut flags = node.flags;
        if flags & (FROM_ANCESTOR | FROM_DESCENDANT) == FROM_ANCESTOR | FROM_DESCENDANT {
            flags |= STALE;
        }
        for parent in node.parents.clone() {
            if paint.nodes.get(&parent).is_some_and(|p| p.flags & flags == flags) {
                continue;
            }
            paint.add(parent, flags)?;
        }
        if paint.nodes[&ancestor].flags & FROM_DESCENDANT != 0 {
            return Ok(true);
        }
    }
    Ok(paint.nodes[&ancestor].flags & FROM_DESCENDANT != 0)
}

struct Paint<'a> {
    odb: &'a Odb,
    nodes: HashMap<ObjectId, Node>,
    /// Newest first; among equal dates, the first queued first.
    queue: BinaryHeap<(i64, Reverse<u64>, ObjectId)>,
    /// Queue entries whose commit is not stale.
    live: usize,
    seq: u64,
    buf: Vec<u8>,
}

impl Paint<'_> {
    /// Adds `flags` to `id` (reading it the first time) and queues it.
    fn add(&mut self, id: ObjectId, flags: u8) -> Result<(), LookupError> {
        if !self.nodes.contains_key(&id) {
            let data = self.odb.read(&id, &mut self.buf)?;
            if data.kind != gix::object::Kind::Commit {
                let err = ReadError::WrongKind { id, actual: data.kind, expected: gix::object::Kind::Commit };
                return Err(LookupError::Read(err));
            }
            let head = header::head(data.data, self.odb.hash_kind())
                .map_err(|problem| LookupError::Read(ReadError::MalformedCommit { id, problem }))?;
            let date = header::walk_date(data.data, &head);
            self.nodes.insert(id, Node { flags: 0, date, parents: head.parents, queued: 0 });
        }
        let node = self.nodes.get_mut(&id).expect("just inserted");
        if node.flags & STALE == 0 && flags & STALE != 0 {
            // Its queue entries stop counting.
            self.live -= node.queued;
        }
        node.flags |= flags;
        node.queued += 1;
        if node.flags & STALE == 0 {
            self.live += 1;
        }
        self.seq += 1;
        self.queue.push((node.date, Reverse(self.seq), id));
        Ok(())
    }
}
