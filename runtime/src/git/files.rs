//! What a commit changed, and what blobs hold: read only when a policy asks.

use std::time::Instant;

use gix::ObjectId;
use gix::bstr::{BString, ByteSlice};
use gix::objs::{FindExt, TreeRefIter};

use super::commit::header;
use super::odb::{Bounded, ReadError};
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

/// The start of a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub id: ObjectId,
    /// The whole blob's size.
    pub size: u64,
    pub data: Vec<u8>,
    /// Whether `data` is shorter than the blob.
    pub truncated: bool,
    /// A NUL byte in the first 8000 bytes, git's own test
    /// (`buffer_is_binary`).
    pub looks_binary: bool,
}

/// How far git looks for a NUL byte to call content binary.
const BINARY_PROBE: usize = 8000;

impl Repo {
    /// The paths `commit` changed against its first parent (the empty tree
    /// for a root commit), in git's order. Exact renames are paired up. A
    /// commit that changes more than `max` paths is an error, not a shorter
    /// list (a policy must not pass what it did not see), found without
    /// listing more than twice `max` (renames pair two records into one).
    pub fn changes(&self, commit: ObjectId, max: usize, deadline: Option<Instant>) -> Result<Vec<Change>, LookupError> {
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
        let too_many = || {
            LookupError::Invalid(format!(
                "commit {commit} changes more than {max} paths, the most hookrt lists for one commit \
                 (`changes_max` in hookrt.toml)"
            ))
        };
        let mut capped = Capped { recorder: Default::default(), files: 0, max: max.saturating_mul(2) };
        match gix::diff::tree(old, new, gix::diff::tree::State::default(), &odb, &mut capped) {
            Ok(()) => {}
            Err(gix::diff::tree::Error::Cancelled) => return Err(too_many()),
            Err(err) => return Err(LookupError::bounded(deadline, commit, err)),
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
            return Err(too_many());
        }
        for change in &mut changes {
            let (mode, id) = match change.kind {
                ChangeKind::Deleted => (change.old_mode, change.old_id),
                _ => (change.new_mode, change.new_id),
            };
            if let Some(id) = id.filter(|_| mode & 0o170000 != 0o160000) {
                change.size = self.odb.header(&id)?.1;
            }
            if matches!(change.kind, ChangeKind::Added | ChangeKind::Renamed) {
                change.new_to_repository = !self.on_a_branch(change.path.as_ref(), deadline)?;
            }
        }
        Ok(changes)
    }

    /// The first `max` bytes of the blob `id`, with its full size. A blob
    /// larger than what is read is not decoded whole: hookrt's memory
    /// follows `max`, not the blob (see `git::prefix`).
    pub fn read_blob(&self, id: ObjectId, max: usize, deadline: Option<Instant>) -> Result<Blob, LookupError> {
        let mut buf = Vec::new();
        let (id, size) = self.peeled(id, gix::object::Kind::Blob, &mut buf)?;
        // Enough to read what is asked and to tell binary content.
        let want = usize::try_from(size).unwrap_or(usize::MAX).min(max.max(BINARY_PROBE));
        let prefix = if want as u64 == size {
            None
        } else {
            super::prefix::Locator::new(&self.odb.dirs, self.odb.hash_kind())
                .read_prefix(id, want, deadline)
                .map_err(|err| LookupError::bounded(deadline, id, err))?
        };
        let data = match &prefix {
            Some(prefix) => prefix.as_slice(),
            // Small enough to read whole, or not found on disk by hand.
            None => self.odb.read(&id, &mut buf)?.data,
        };
        let take = data.len().min(max);
        let looks_binary = data[..data.len().min(BINARY_PROBE)].contains(&0);
        Ok(Blob { id, size, data: data[..take].to_vec(), truncated: (take as u64) < size, looks_binary })
    }

    /// The first `max` bytes of the blob at `path` in `commit`'s tree.
    pub fn read_file(
        &self,
        commit: ObjectId,
        path: &str,
        max: usize,
        deadline: Option<Instant>,
    ) -> Result<Blob, LookupError> {
        let (tree, _) = self.tree_and_first_parent(commit, &mut Vec::new())?;
        match self.lookup(tree, path.as_bytes().as_bstr(), deadline)? {
            Some(entry) if entry.mode.is_blob_or_symlink() => self.read_blob(entry.oid, max, deadline),
            Some(_) => Err(LookupError::Invalid(format!("{path} in {commit} is not a file"))),
            None => Err(LookupError::NotFound(format!("{path} in {commit}"))),
        }
    }

    /// Whether some branch's tip before the push has `path`.
    fn on_a_branch(&self, path: &gix::bstr::BStr, deadline: Option<Instant>) -> Result<bool, LookupError> {
        for tree in self.branch_trees() {
            if self.lookup(*tree, path, deadline)?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The entry at `path` (`/`-separated) in `tree`.
    fn lookup(
        &self,
        tree: ObjectId,
        path: &gix::bstr::BStr,
        deadline: Option<Instant>,
    ) -> Result<Option<gix::objs::tree::Entry>, LookupError> {
        let odb = Bounded { odb: &self.odb, deadline };
        let failed = |err: gix::Error| LookupError::bounded(deadline, tree, err);
        let (mut root, mut buf) = (Vec::new(), Vec::new());
        let root = odb.find_tree_iter(&tree, &mut root).map_err(failed)?;
        root.lookup_entry(&odb, &mut buf, path.split_str("/")).map_err(failed)
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

impl Repo {
    /// The tree and first parent of `commit` (tags peeled), read as git
    /// reads them: a commit whose other headers are damaged still has both.
    fn tree_and_first_parent(
        &self,
        commit: ObjectId,
        buf: &mut Vec<u8>,
    ) -> Result<(ObjectId, Option<ObjectId>), LookupError> {
        let data = self.object(commit, gix::object::Kind::Commit, buf)?;
        let head = header::head(data, self.odb.hash_kind())
            .map_err(|problem| LookupError::Read(ReadError::MalformedCommit { id: commit, problem }))?;
        Ok((head.tree, head.parents.first().copied()))
    }
}
