//! Read access to the repository a hook runs in, through gix: refs as they
//! were before and after the push, commits, and the four commit walks.

mod added;
mod ancestry;
mod changes;
mod commit;
mod files;
mod odb;
mod packs;
mod prefix;
mod walk;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use gix::ObjectId;

pub use added::Added;
pub use changes::{Change, ChangeKind};
pub use commit::{Commit, Damage, Problem, Signature};
pub use files::Blob;
pub use odb::{Odb, OpenError as OdbOpenError, ReadError, object_dirs};
pub use walk::{Walk, WalkError};

use crate::push::RefUpdate;
pub use crate::push::When;

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

/// The error returned when a policy's question about the repository cannot
/// be answered.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// No such object, path or ref update.
    #[error("not found: {0}")]
    NotFound(String),
    /// An object of the wrong kind, or a malformed argument.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Read(ReadError),
    /// The policy's deadline passed while the host was working.
    #[error("the deadline passed")]
    Deadline,
}

impl LookupError {
    /// What a read through [`odb::Bounded`] failed with: the deadline, if it
    /// has passed, else a problem with the object `id`.
    fn bounded(deadline: Option<std::time::Instant>, id: ObjectId, err: impl std::fmt::Display) -> Self {
        match deadline {
            Some(d) if std::time::Instant::now() >= d => LookupError::Deadline,
            _ => LookupError::Read(ReadError::Corrupt { id, message: err.to_string() }),
        }
    }
}

impl From<ReadError> for LookupError {
    fn from(err: ReadError) -> Self {
        match err {
            ReadError::Missing { id } => LookupError::NotFound(format!("object {id}")),
            err @ ReadError::WrongFormat { .. } => LookupError::Invalid(err.to_string()),
            err => LookupError::Read(err),
        }
    }
}

/// How the repository names its objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectFormat {
    Sha1,
    Sha256,
}

/// The error returned by [`Repo::open`].
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{path} is not a git repository hookrt can open: {message}")]
    Repository { path: PathBuf, message: String },
    #[error("cannot list the refs of {path}: {message}")]
    Refs { path: PathBuf, message: String },
    #[error("cannot read HEAD of {path}: {message}")]
    Head { path: PathBuf, message: String },
    #[error(transparent)]
    Objects(#[from] odb::OpenError),
    #[error(
        "the {side} id of {ref_name} does not fit {path}: {problem}; git only sends ids of objects the repository has, so this input did not come from git, or the repository is damaged (`git fsck` tells)"
    )]
    Update { path: PathBuf, ref_name: String, side: &'static str, problem: Box<ReadError> },
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
    when: When,
    updates: Vec<RefUpdate>,
    /// Every ref that points at an object right now, by name.
    current: Vec<(String, ObjectId)>,
    /// The ref `HEAD` names, if it is symbolic.
    default_branch: Option<String>,
    before: OnceLock<Vec<ObjectId>>,
    after: OnceLock<Vec<ObjectId>>,
    /// The root trees of the branches before the push (for
    /// `new-to-repository`).
    branch_trees: OnceLock<Vec<ObjectId>>,
    /// Force-push answers by ref name, shared by the policies that ask.
    forced: Mutex<HashMap<String, bool>>,
    /// Each commit's changes, shared likewise.
    changes: changes::ChangesCache,
    /// The packs as they lie on disk, with the blobs decoded from them
    /// (`git::packs`), opened on the first blob read.
    packs: OnceLock<packs::Locator>,
}

impl Repo {
    /// Opens the repository at `git_dir` for a hook run over `updates`
    /// `when` they move. `object_dirs` comes from [`object_dirs`] (git's
    /// quarantine variables).
    pub fn open(git_dir: &Path, object_dirs: &[PathBuf], when: When, updates: &[RefUpdate]) -> Result<Self, OpenError> {
        Self::open_with_refs(git_dir, object_dirs, when, updates, None)
    }

    /// Like [`Repo::open`], but with the refs as they stand before the hook
    /// given instead of read (`hookrt test --repo` simulates a push with it).
    pub fn open_with_refs(
        git_dir: &Path,
        object_dirs: &[PathBuf],
        when: When,
        updates: &[RefUpdate],
        refs: Option<Vec<(String, ObjectId)>>,
    ) -> Result<Self, OpenError> {
        let repo = gix::open_opts(git_dir, gix::open::Options::isolated())
            .map_err(|e| OpenError::Repository { path: git_dir.to_owned(), message: e.to_string() })?;
        let current = match refs {
            Some(refs) => refs,
            None => list_refs(&repo).map_err(|message| OpenError::Refs { path: git_dir.to_owned(), message })?,
        };
        let default_branch = repo
            .head_name()
            .map_err(|e| OpenError::Head { path: git_dir.to_owned(), message: e.to_string() })?
            .map(|name| name.as_bstr().to_string());
        let odb = Odb::open(object_dirs, repo.object_hash())?;
        check_updates(&odb, updates).map_err(|(update, side, problem)| OpenError::Update {
            path: git_dir.to_owned(),
            ref_name: update.name.clone(),
            side,
            problem: Box::new(problem),
        })?;
        Ok(Repo {
            odb,
            shared: Arc::new(Shared {
                git_dir: git_dir.to_owned(),
                when,
                updates: updates.to_vec(),
                current,
                default_branch,
                before: OnceLock::new(),
                after: OnceLock::new(),
                branch_trees: OnceLock::new(),
                forced: Mutex::new(HashMap::new()),
                changes: Default::default(),
                packs: OnceLock::new(),
            }),
        })
    }

    /// The repository's git directory.
    pub fn git_dir(&self) -> &Path {
        &self.shared.git_dir
    }

    /// The ref `HEAD` names (what hosting layers call the default branch);
    /// `None` when `HEAD` is detached.
    pub fn default_branch(&self) -> Option<&str> {
        self.shared.default_branch.as_deref()
    }

    /// The repository's object format.
    pub fn object_format(&self) -> ObjectFormat {
        match self.odb.hash_kind() {
            gix::hash::Kind::Sha1 => ObjectFormat::Sha1,
            #[allow(unreachable_patterns)]
            _ => ObjectFormat::Sha256,
        }
    }

    /// What `name` pointed at before the push, if it existed.
    pub fn ref_target(&self, name: &str) -> Option<ObjectId> {
        self.refs_before().get(name).copied().filter(|id| !id.is_null())
    }

    /// Reads an object a policy named, peeling tags, and checks its kind.
    /// Only the header is read before the kind is known, so asking for a
    /// huge blob as a commit costs nothing.
    fn object<'b>(&self, id: ObjectId, kind: gix::object::Kind, buf: &'b mut Vec<u8>) -> Result<&'b [u8], LookupError> {
        let (id, _) = self.peeled(id, kind, buf)?;
        Ok(self.odb.read(&id, buf)?.data)
    }

    /// The id and size of the object of `kind` that `id` names, peeling
    /// tags, from headers alone but for the tags.
    fn peeled(&self, id: ObjectId, kind: gix::object::Kind, buf: &mut Vec<u8>) -> Result<(ObjectId, u64), LookupError> {
        let (mut actual, mut size) = self.odb.header(&id)?;
        let mut id = id;
        if actual == gix::object::Kind::Tag && kind != gix::object::Kind::Tag {
            (id, actual) = self.odb.peel(id, buf)?;
            size = self.odb.header(&id)?.1;
        }
        if actual != kind {
            return Err(LookupError::Invalid(format!("{id} is a {actual}, not a {kind}")));
        }
        Ok((id, size))
    }

    /// The subject line of the commit whose full hex id is `id` (as a policy
    /// named it), if it is one.
    pub fn subject(&self, id: &str) -> Option<String> {
        let id = ObjectId::from_hex(id.as_bytes()).ok()?;
        Some(self.commit(id).ok()?.subject().to_owned())
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
            let undo = (self.shared.when == When::After).then_some(Side::Old);
            self.peeled_tips(undo)
        })
    }

    /// The commits every ref reaches once the push is done.
    fn after(&self) -> &[ObjectId] {
        self.shared.after.get_or_init(|| {
            // Before refs move (pre-receive, update), apply the push on paper.
            let apply = (self.shared.when == When::Before).then_some(Side::New);
            self.peeled_tips(apply)
        })
    }

    /// The root trees of every branch before the push.
    fn branch_trees(&self) -> &[ObjectId] {
        self.shared.branch_trees.get_or_init(|| {
            let mut buf = Vec::new();
            let mut trees = gix::hashtable::HashSet::default();
            for (name, id) in self.refs_before() {
                if !name.starts_with("refs/heads/") {
                    continue;
                }
                match self.commit_of(id, &mut buf).and_then(|c| c.map(|c| self.commit(c)).transpose()) {
                    Ok(Some(commit)) => {
                        trees.insert(commit.tree);
                    }
                    Ok(None) => {}
                    Err(err) => tracing::warn!(%name, %err, "branch skipped while listing the repository's paths"),
                }
            }
            trees.into_iter().collect()
        })
    }

    /// The refs as they stood before the push, by name (a null id for a
    /// ref the push creates, in post-receive).
    fn refs_before(&self) -> HashMap<&str, ObjectId> {
        // Once refs have moved (post-receive), undo the push on paper.
        self.refs_with((self.shared.when == When::After).then_some(Side::Old))
    }

    /// The current refs with this push's updates set to `side` (if any).
    fn refs_with(&self, side: Option<Side>) -> HashMap<&str, ObjectId> {
        let mut refs: HashMap<&str, ObjectId> =
            self.shared.current.iter().map(|(name, id)| (name.as_str(), *id)).collect();
        if let Some(side) = side {
            for update in &self.shared.updates {
                let id = match side {
                    Side::Old => update.old,
                    Side::New => update.new,
                };
                refs.insert(&update.name, id);
            }
        }
        refs
    }

    /// The current refs with this push's updates set to `side` (if any),
    /// peeled to commits. Refs that cannot be read are left out with a
    /// warning: one broken ref must not stop every push.
    fn peeled_tips(&self, side: Option<Side>) -> Vec<ObjectId> {
        // A null id (a created ref undone, a deleted ref applied) peels to
        // nothing below.
        let refs = self.refs_with(side);
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

/// Checks what the hook was told against the repository before any policy
/// reads it: every id must be of the repository's format, and every new id
/// an object it has. Git guarantees both (it checks what a push brings
/// before any hook runs), so a failure means the input did not come from
/// git or the repository is damaged, and no policy should decide on it.
/// Old ids need not exist: a ref pointing at a lost object can still be
/// deleted or repaired by a push, and the walks that read them say so.
fn check_updates<'u>(odb: &Odb, updates: &'u [RefUpdate]) -> Result<(), (&'u RefUpdate, &'static str, ReadError)> {
    let mut checked = gix::hashtable::HashSet::default();
    for update in updates {
        for (side, id) in [("old", update.old), ("new", update.new)] {
            if id.kind() != odb.hash_kind() {
                let problem = ReadError::WrongFormat { id, actual: id.kind(), expected: odb.hash_kind() };
                return Err((update, side, problem));
            }
        }
        // A push that moves many refs to one commit asks once.
        if !update.new.is_null() && checked.insert(update.new) {
            odb.header(&update.new).map_err(|problem| (update, "new", problem))?;
        }
    }
    Ok(())
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
