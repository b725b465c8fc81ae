//! What a commit changed against its first parent, as `git diff-tree -r
//! -M100%` lists it: read only when a policy asks, and once per push.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use gix::ObjectId;
use gix::bstr::BString;
use gix::hashtable::HashMap;
use gix::objs::{FindExt, TreeRefIter};

use super::odb::Bounded;
use super::{LookupError, Repo};

/// What a commit did to one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
    /// Deleted at one path and added with the same content at another,
    /// as git pairs exact renames (see `pair_renames`).
    Renamed,
}

/// One path a commit changed against its first parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The path after the commit (before it, for a deletion), as stored.
    pub path: BString,
    /// For a rename, the path before it.
    pub old_path: Option<BString>,
    pub kind: ChangeKind,
    /// Git file modes; 0 where the path did not exist.
    pub old_mode: u32,
    pub new_mode: u32,
    pub old_id: Option<ObjectId>,
    pub new_id: Option<ObjectId>,
    /// The new blob's size (the old one's for a deletion); 0 for a
    /// submodule.
    pub size: u64,
    /// Added at a path that no branch had before the push.
    pub new_to_repository: bool,
}

impl Repo {
    /// The paths `commit` changed against its first parent (the empty tree
    /// for a root commit), in git's order. Exact renames are paired up. A
    /// commit that changes more than `max` paths is an error, not a shorter
    /// list (a policy must not pass what it did not see), found without
    /// listing more than twice `max` (renames pair two records into one).
    ///
    /// Worked out once per push: every policy that asks about the same
    /// commit shares the answer.
    pub fn changes(&self, commit: ObjectId, max: usize, deadline: Option<Instant>) -> Result<Vec<Change>, LookupError> {
        let cache = &self.shared.changes;
        match cache.get(commit, max) {
            Some(Ok(changes)) => return Ok(changes.to_vec()),
            Some(Err(())) => return Err(too_many(commit, max)),
            None => {}
        }
        match self.compute_changes(commit, max, deadline) {
            Ok(changes) => {
                cache.put(commit, max, Ok(&changes));
                Ok(changes)
            }
            Err(None) => {
                cache.put(commit, max, Err(()));
                Err(too_many(commit, max))
            }
            Err(Some(err)) => Err(err),
        }
    }

    /// [`Repo::changes`] worked out; `Err(None)` when there are more than
    /// `max`.
    fn compute_changes(
        &self,
        commit: ObjectId,
        max: usize,
        deadline: Option<Instant>,
    ) -> Result<Vec<Change>, Option<LookupError>> {
        let hash = self.odb.hash_kind();
        let mut buf = Vec::new();
        let (tree, parent) = self.tree_and_first_parent(commit, &mut buf)?;
        let parent_tree = match parent {
            Some(parent) => Some(self.tree_and_first_parent(parent, &mut buf)?.0),
            None => None,
        };

        let odb = Bounded { odb: &self.odb, deadline };
        let failed = |err: gix::Error| LookupError::bounded(deadline, commit, err);
        let (mut old_buf, mut new_buf) = (Vec::new(), Vec::new());
        let old = match parent_tree {
            Some(id) => odb.find_tree_iter(&id, &mut old_buf).map_err(failed)?,
            None => TreeRefIter::from_bytes(&[], hash),
        };
        let new = odb.find_tree_iter(&tree, &mut new_buf).map_err(failed)?;
        let mut capped = Capped { recorder: Default::default(), files: 0, max: max.saturating_mul(2) };
        match gix::diff::tree(old, new, gix::diff::tree::State::default(), &odb, &mut capped) {
            Ok(()) => {}
            Err(gix::diff::tree::Error::Cancelled) => return Err(None),
            Err(err) => return Err(Some(LookupError::bounded(deadline, commit, err))),
        }

        let mut changes = Vec::new();
        for record in capped.recorder.records {
            use gix::diff::tree::recorder::Change as R;
            let change = match record {
                R::Addition { entry_mode, oid, path, .. } if !entry_mode.is_tree() => {
                    entry(path, ChangeKind::Added, None, Some((entry_mode, oid)))
                }
                R::Deletion { entry_mode, oid, path, .. } if !entry_mode.is_tree() => {
                    entry(path, ChangeKind::Deleted, Some((entry_mode, oid)), None)
                }
                R::Modification { previous_entry_mode, previous_oid, entry_mode, oid, path } => {
                    match (previous_entry_mode.is_tree(), entry_mode.is_tree()) {
                        (false, false) => entry(
                            path,
                            ChangeKind::Modified,
                            Some((previous_entry_mode, previous_oid)),
                            Some((entry_mode, oid)),
                        ),
                        // A file became a directory or the other way round:
                        // the trees' contents are listed on their own.
                        (true, false) => entry(path, ChangeKind::Added, None, Some((entry_mode, oid))),
                        (false, true) => {
                            entry(path, ChangeKind::Deleted, Some((previous_entry_mode, previous_oid)), None)
                        }
                        (true, true) => continue,
                    }
                }
                _ => continue,
            };
            changes.push(change);
        }
        // gix walks the trees breadth first; git lists paths depth first,
        // which is byte order of the full paths (trees sort as `name/`).
        // Renames are paired in that order, as git pairs them.
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        pair_renames(&mut changes);
        if changes.len() > max {
            return Err(None);
        }
        for change in &mut changes {
            let (mode, id) = match change.kind {
                ChangeKind::Deleted => (change.old_mode, change.old_id),
                _ => (change.new_mode, change.new_id),
            };
            if let Some(id) = id.filter(|_| mode & 0o170000 != 0o160000) {
                change.size = self.odb.header(&id).map_err(LookupError::from)?.1;
            }
            if matches!(change.kind, ChangeKind::Added | ChangeKind::Renamed) {
                change.new_to_repository = !self.on_a_branch(change.path.as_ref(), deadline)?;
            }
        }
        Ok(changes)
    }
}

/// gix's recorder of a tree diff, stopping the diff once it has recorded
/// more than `max` changes of files (trees are walked, not counted).
struct Capped {
    recorder: gix::diff::tree::Recorder,
    files: usize,
    max: usize,
}

impl gix::diff::tree::Visit for Capped {
    fn pop_front_tracked_path_and_set_current(&mut self) {
        self.recorder.pop_front_tracked_path_and_set_current();
    }

    fn push_back_tracked_path_component(&mut self, component: &gix::bstr::BStr) {
        self.recorder.push_back_tracked_path_component(component);
    }

    fn push_path_component(&mut self, component: &gix::bstr::BStr) {
        self.recorder.push_path_component(component);
    }

    fn pop_path_component(&mut self) {
        self.recorder.pop_path_component();
    }

    fn visit(&mut self, change: gix::diff::tree::visit::Change) -> gix::diff::tree::visit::Action {
        use gix::diff::tree::visit::Change as C;
        let file = match &change {
            C::Addition { entry_mode, .. } | C::Deletion { entry_mode, .. } => !entry_mode.is_tree(),
            C::Modification { previous_entry_mode, entry_mode, .. } => {
                !(previous_entry_mode.is_tree() && entry_mode.is_tree())
            }
        };
        self.files += usize::from(file);
        if self.files > self.max {
            return std::ops::ControlFlow::Break(());
        }
        self.recorder.visit(change)
    }
}

fn entry(
    path: BString,
    kind: ChangeKind,
    old: Option<(gix::objs::tree::EntryMode, ObjectId)>,
    new: Option<(gix::objs::tree::EntryMode, ObjectId)>,
) -> Change {
    Change {
        path,
        old_path: None,
        kind,
        old_mode: old.map_or(0, |(mode, _)| u32::from(mode.value())),
        new_mode: new.map_or(0, |(mode, _)| u32::from(mode.value())),
        old_id: old.map(|(_, id)| id),
        new_id: new.map(|(_, id)| id),
        size: 0,
        new_to_repository: false,
    }
}

/// The error for a commit that changes more than `max` paths.
fn too_many(commit: ObjectId, max: usize) -> LookupError {
    LookupError::Invalid(format!(
        "commit {commit} changes more than {max} paths, the most hookrt lists for one commit \
         (`changes_max` in hookrt.toml)"
    ))
}

/// Each commit's changes, worked out once per push and shared by every
/// policy that asks (each still pays its fuel per path listed): a push's
/// path policies otherwise diff the same trees once each. Policies may
/// have different caps (`changes_max`), so what is kept is the list, or
/// the cap it was too long for.
#[derive(Default)]
pub(super) struct ChangesCache {
    entries: Mutex<ChangesEntries>,
}

#[derive(Default)]
struct ChangesEntries {
    by_commit: HashMap<ObjectId, Result<Arc<[Change]>, usize>>,
    /// Changes held, all commits together: past [`ChangesCache::MOST`],
    /// nothing more is kept (a 100,000-commit push must not hold its whole
    /// diff), and later asks work it out again.
    held: usize,
}

impl ChangesCache {
    const MOST: usize = 200_000;

    /// What is known of `commit` for a cap of `max`: the list, `Err` when
    /// it is longer than `max`, `None` when it must be worked out.
    fn get(&self, commit: ObjectId, max: usize) -> Option<Result<Arc<[Change]>, ()>> {
        let entries = self.entries.lock().ok()?;
        match entries.by_commit.get(&commit)? {
            Ok(list) if list.len() > max => Some(Err(())),
            Ok(list) => Some(Ok(Arc::clone(list))),
            Err(cap) if max <= *cap => Some(Err(())),
            Err(_) => None,
        }
    }

    fn put(&self, commit: ObjectId, max: usize, result: Result<&[Change], ()>) {
        let Ok(mut entries) = self.entries.lock() else { return };
        let entry = match result {
            Ok(list) if entries.held + list.len() <= Self::MOST => {
                entries.held += list.len();
                Ok(Arc::from(list))
            }
            Ok(_) => return,
            Err(()) => Err(max),
        };
        entries.by_commit.insert(commit, entry);
    }
}

/// Turns deletions and additions of the same blob into renames, as git's
/// exact rename detection (`find_identical_files` in diffcore-rename.c,
/// what `git diff-tree -M100%` shows) pairs them: each added path, in path
/// order, takes a deleted one with the same blob that no other rename took,
/// preferring one with the same file name, and among equals the first in
/// path order. Regular files
/// may change mode on the way (`100644` to `100755`); a symlink or a
/// submodule only pairs with its own kind. Only exact renames: finding
/// similar content would cost a blob diff per pair. `changes` is in path
/// order.
fn pair_renames(changes: &mut Vec<Change>) {
    // gix's hash tables take object ids only; this key is a blob id.
    let mut deleted: std::collections::HashMap<ObjectId, Vec<usize>> = Default::default();
    for (index, change) in changes.iter().enumerate() {
        if let (ChangeKind::Deleted, Some(id)) = (change.kind, change.old_id) {
            deleted.entry(id).or_default().push(index);
        }
    }
    if deleted.is_empty() {
        return;
    }
    let regular = |mode: u32| mode & 0o170000 == 0o100000;
    let mut gone = vec![false; changes.len()];
    for index in 0..changes.len() {
        let change = &changes[index];
        let Some(new_id) = change.new_id.filter(|_| change.kind == ChangeKind::Added) else { continue };
        let Some(sources) = deleted.get(&new_id) else { continue };
        let mut best: Option<(usize, u8)> = None;
        for &from in sources {
            let source = &changes[from];
            let compatible =
                (regular(source.old_mode) && regular(change.new_mode)) || source.old_mode == change.new_mode;
            if gone[from] || !compatible {
                continue;
            }
            let score = 1 + u8::from(same_file_name(&source.path, &change.path));
            if best.is_none_or(|(_, best)| score > best) {
                best = Some((from, score));
            }
            if score == 2 {
                break;
            }
        }
        let Some((from, _)) = best else { continue };
        let (old_path, old_mode) = (changes[from].path.clone(), changes[from].old_mode);
        let change = &mut changes[index];
        change.kind = ChangeKind::Renamed;
        change.old_path = Some(old_path);
        change.old_mode = old_mode;
        change.old_id = Some(new_id);
        gone[from] = true;
    }
    let mut index = 0;
    changes.retain(|_| {
        index += 1;
        !gone[index - 1]
    });
}

/// Whether two paths end in the same file name (git's `basename_same`).
fn same_file_name(a: &[u8], b: &[u8]) -> bool {
    let name = |p: &[u8]| p.rsplit(|&c| c == b'/').next().map(<[u8]>::to_vec);
    name(a) == name(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str) -> Change {
        let id = Some(ObjectId::null(gix::hash::Kind::Sha1));
        let mut c = entry(path.into(), ChangeKind::Added, None, None);
        c.new_id = id;
        c
    }

    #[test]
    fn what_one_policy_worked_out_serves_the_others_within_their_caps() {
        let cache = ChangesCache::default();
        let (a, b) = (ObjectId::from_hex(&[b'a'; 40]).expect("id"), ObjectId::from_hex(&[b'b'; 40]).expect("id"));
        assert!(cache.get(a, 10).is_none(), "nothing known yet");
        cache.put(a, 10, Ok(&[change("x"), change("y"), change("z")]));
        assert_eq!(cache.get(a, 3).expect("known").expect("within the cap").len(), 3);
        assert!(cache.get(a, 2).expect("known").is_err(), "a smaller cap still refuses the list");
        // Too long for a cap of 5: as long for a smaller one, unknown for a bigger one.
        cache.put(b, 5, Err(()));
        assert!(cache.get(b, 4).expect("known").is_err());
        assert!(cache.get(b, 6).is_none());
    }

    #[test]
    fn the_cache_stops_keeping_lists_past_its_bound() {
        let cache = ChangesCache::default();
        let many: Vec<Change> = (0..ChangesCache::MOST).map(|i| change(&i.to_string())).collect();
        let (a, b) = (ObjectId::from_hex(&[b'a'; 40]).expect("id"), ObjectId::from_hex(&[b'b'; 40]).expect("id"));
        cache.put(a, usize::MAX, Ok(&many));
        cache.put(b, usize::MAX, Ok(&many[..1]));
        assert!(cache.get(a, usize::MAX).is_some());
        assert!(cache.get(b, usize::MAX).is_none(), "past the bound, worked out again");
    }
}
