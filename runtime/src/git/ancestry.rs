//! Ancestry: `git merge-base --is-ancestor`, and force pushes built on it.

use std::time::Instant;

use gix::ObjectId;
use gix::revwalk::{Graph, graph};
use gix_revision::merge_base::Flags;

use super::odb::Bounded;
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
        // gix's merge base paints down from both sides by date and stops
        // where they meet, as git's own `paint_down_to_common` does: the
        // cost is the history since the fork, not the repository's.
        let odb = Bounded { odb: &self.odb, deadline };
        let mut graph: Graph<'_, '_, graph::Commit<Flags>> = Graph::new(&odb, None);
        match gix_revision::merge_base(ancestor, &[descendant], &mut graph) {
            Ok(bases) => Ok(bases.is_some_and(|bases| bases.contains(&ancestor))),
            Err(err) => Err(LookupError::bounded(deadline, descendant, err)),
        }
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
