//! Read access to the repository a hook runs in, through gix: refs as they
//! were before and after the push, commits, and the four commit walks.

mod commit;
mod odb;
mod walk;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use gix::ObjectId;

pub use commit::{Commit, Signature};
pub use odb::{Odb, OpenError as OdbOpenError, ReadError, object_dirs};
pub use walk::{Walk, WalkError};

use crate::push::{HookKind, RefUpdate};

/// Which commits of one ref update a walk yields (Bitbucket's four filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// `new ^old`
    AddedToRef,
    /// `new --not <all refs before the push>`
    AddedToRepository,
    /// `old ^new`
    RemovedFromRef,
    /// `old --not <all refs after the push>`
    RemovedFromRepository,
}

/// The error returned by [`Repo::open`].
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{path} is not a git repository hookrt can open: {message}")]
    Repository { path: PathBuf, message: String },
    #[error("cannot list the refs of {path}: {message}")]
    Refs { path: PathBuf, message: String },
    #[error(transparent)]
    Objects(#[from] odb::OpenError),
}

/// The repository one hook run reads: its objects (quarantine included) and
/// its refs as they stand when the hook starts.
///
/// Cloning is cheap and is how each policy gets its own: the ref snapshot is
/// shared, object caches are per clone (they are not thread-safe).
#[derive(Clone)]
pub struct Repo {
    odb: Odb,
    shared: Arc<Shared>,
}

struct Shared {
    git_dir: PathBuf,
    hook: HookKind,
    updates: Vec<RefUpdate>,
    /// Every ref that points at an object right now, by name.
    current: Vec<(String, ObjectId)>,
    before: OnceLock<Vec<ObjectId>>,
    after: OnceLock<Vec<ObjectId>>,
}

impl Repo {
    /// Opens the repository at `git_dir` for a run of `hook` over `updates`.
    /// `object_dirs` comes from [`object_dirs`] (git's quarantine variables).
    pub fn open(
        git_dir: &Path,
        object_dirs: &[PathBuf],
        hook: HookKind,
        updates: &[RefUpdate],
    ) -> Result<Self, OpenError> {
        Self::open_with_refs(git_dir, object_dirs, hook, updates, None)
    }

    /// Like [`Repo::open`], but with the refs as they stand before the hook
    /// given instead of read (`hookrt test --repo` simulates a push with it).
    pub fn open_with_refs(
        git_dir: &Path,
        object_dirs: &[PathBuf],
        hook: HookKind,
        updates: &[RefUpdate],
        refs: Option<Vec<(String, ObjectId)>>,
    ) -> Result<Self, OpenError> {
        let repo = gix::open_opts(git_dir, gix::open::Options::isolated())
            .map_err(|e| OpenError::Repository { path: git_dir.to_owned(), message: e.to_string() })?;
        let current = match refs {
            Some(refs) => refs,
            None => list_refs(&repo).map_err(|message| OpenError::Refs { path: git_dir.to_owned(), message })?,
        };
        Ok(Repo {
            odb: Odb::open(object_dirs, repo.object_hash())?,
            shared: Arc::new(Shared {
                git_dir: git_dir.to_owned(),
                hook,
                updates: updates.to_vec(),
                current,
                before: OnceLock::new(),
                after: OnceLock::new(),
            }),
        })
    }

    /// The repository's git directory.
    pub fn git_dir(&self) -> &Path {
        &self.shared.git_dir
    }

    /// Reads and decodes one commit.
    pub fn commit(&self, id: ObjectId) -> Result<Commit, ReadError> {
        let mut buf = Vec::new();
        let (id, kind) = self.odb.peel(id, &mut buf)?;
        if kind != gix::object::Kind::Commit {
            return Err(ReadError::WrongKind { id, actual: kind, expected: gix::object::Kind::Commit });
        }
        let data = self.odb.read(&id, &mut buf)?;
        Commit::decode(id, data.data, self.odb.hash_kind())
    }

    /// Starts the walk `filter` selects for `update`.
    pub fn walk(&self, update: &RefUpdate, filter: Filter) -> Result<Walk, WalkError> {
        let mut buf = Vec::new();
        let tip = |id: ObjectId, buf: &mut Vec<u8>| self.commit_of(id, buf).map(|c| c.into_iter().collect::<Vec<_>>());
        let (tips, hidden) = match filter {
            Filter::AddedToRef => (tip(update.new, &mut buf)?, tip(update.old, &mut buf)?),
            Filter::AddedToRepository => (tip(update.new, &mut buf)?, self.before().to_vec()),
            Filter::RemovedFromRef => (tip(update.old, &mut buf)?, tip(update.new, &mut buf)?),
            Filter::RemovedFromRepository => (tip(update.old, &mut buf)?, self.after().to_vec()),
        };
        Walk::new(self.odb.clone(), &tips, &hidden)
    }

    /// The commit `id` stands for: itself, or what a tag points at. `None`
    /// for the null id and for tags of trees or blobs, which have no history.
    fn commit_of(&self, id: ObjectId, buf: &mut Vec<u8>) -> Result<Option<ObjectId>, ReadError> {
        if id.is_null() {
            return Ok(None);
        }
        let (id, kind) = self.odb.peel(id, buf)?;
        Ok((kind == gix::object::Kind::Commit).then_some(id))
    }

    /// The commits every ref reached before the push.
    fn before(&self) -> &[ObjectId] {
        self.shared.before.get_or_init(|| {
            // Once refs have moved (post-receive), undo the push on paper.
            let undo = (self.shared.hook == HookKind::PostReceive).then_some(Side::Old);
            self.peeled_tips(undo)
        })
    }

    /// The commits every ref reaches once the push is done.
    fn after(&self) -> &[ObjectId] {
        self.shared.after.get_or_init(|| {
            // Before refs move (pre-receive, update), apply the push on paper.
            let apply = (self.shared.hook != HookKind::PostReceive).then_some(Side::New);
            self.peeled_tips(apply)
        })
    }

    /// The current refs with this push's updates set to `side` (if any),
    /// peeled to commits. Refs that cannot be read are left out with a
    /// warning: one broken ref must not stop every push.
    fn peeled_tips(&self, side: Option<Side>) -> Vec<ObjectId> {
        let mut refs: HashMap<&str, ObjectId> =
            self.shared.current.iter().map(|(name, id)| (name.as_str(), *id)).collect();
        if let Some(side) = side {
            // A null id (a created ref undone, a deleted ref applied) peels
            // to nothing below.
            for update in &self.shared.updates {
                let id = match side {
                    Side::Old => update.old,
                    Side::New => update.new,
                };
                refs.insert(&update.name, id);
            }
        }
        let mut buf = Vec::new();
        let mut tips = gix::hashtable::HashSet::default();
        for (name, id) in refs {
            match self.commit_of(id, &mut buf) {
                Ok(Some(commit)) => {
                    tips.insert(commit);
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(%name, %err, "ref skipped while listing the repository's commits")
                }
            }
        }
        tips.into_iter().collect()
    }
}

/// Every ref of `repo` that points at an object, by name.
fn list_refs(repo: &gix::Repository) -> Result<Vec<(String, ObjectId)>, String> {
    let mut refs = Vec::new();
    for reference in repo.refs.iter().map_err(|e| e.to_string())?.all().map_err(|e| e.to_string())? {
        let reference = reference.map_err(|e| e.to_string())?;
        // Symbolic refs (HEAD, refs/remotes/*/HEAD) point at refs that are
        // listed themselves.
        if let gix::refs::Target::Object(id) = reference.target {
            refs.push((reference.name.as_bstr().to_string(), id));
        }
    }
    Ok(refs)
}

#[derive(Clone, Copy)]
enum Side {
    Old,
    New,
}
