//! Object access that sees what a push brought, inside git's quarantine.
//!
//! During pre-receive, git keeps the pushed objects in a quarantine directory
//! (`GIT_QUARANTINE_PATH`, also given as `GIT_OBJECT_DIRECTORY`) and points
//! at the main store through `GIT_ALTERNATE_OBJECT_DIRECTORIES`; the objects
//! move into the repository only if every hook accepts. gix 0.90 does not read
//! those variables, so a plain open does not find the pushed commits. This
//! module builds the lookup chain from them itself, read-only: nothing is
//! written into the quarantine, which git deletes on rejection.

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::objs::{Exists, Find};

/// Where a hook run finds objects, in lookup order.
#[derive(Clone)]
pub struct Odb {
    stores: Vec<gix::odb::Handle>,
    /// The directories of `stores`, in the same order, for what reads
    /// objects on disk itself (`git::packs`).
    pub(super) dirs: Vec<PathBuf>,
    hash: gix::hash::Kind,
}

/// The most a delta-base cache holds, per reader (each policy has its own).
const DELTA_BASE_CACHE: usize = 16 << 20;

/// The object directories a hook should read, from git's environment.
///
/// `env` is a variable lookup (`std::env::var_os` in the binary). The main
/// store (`<git-dir>/objects`, with its own `info/alternates`) always comes
/// last, so an object is found whether or not the push is quarantined.
pub fn object_dirs(git_dir: &Path, env: impl Fn(&str) -> Option<std::ffi::OsString>) -> Vec<PathBuf> {
    let main = git_dir.join("objects");
    let mut dirs = Vec::new();
    let mut add = |dir: PathBuf| {
        let dir = if dir.is_relative() { git_dir.join(dir) } else { dir };
        if !dirs.contains(&dir) && !same_dir(&dir, &main) {
            dirs.push(dir);
        }
    };
    if let Some(dir) = env("GIT_QUARANTINE_PATH").or_else(|| env("GIT_OBJECT_DIRECTORY")) {
        add(PathBuf::from(dir));
    }
    if let Some(list) = env("GIT_ALTERNATE_OBJECT_DIRECTORIES") {
        for dir in std::env::split_paths(&list) {
            if !dir.as_os_str().is_empty() {
                add(unquote(dir));
            }
        }
    }
    dirs.push(main);
    dirs
}

/// Git quotes an alternate path that contains a separator or a quote in C
/// style; receive-pack never produces such a path for its own quarantine,
/// so only the plain double quotes are stripped here.
fn unquote(dir: PathBuf) -> PathBuf {
    match dir.to_str() {
        Some(s) if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') => PathBuf::from(&s[1..s.len() - 1]),
        _ => dir,
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The error returned by [`Odb::open`].
#[derive(Debug, thiserror::Error)]
#[error("cannot open the object directory {dir}")]
pub struct OpenError {
    pub dir: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// The error returned when an object cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("object {id} is missing from the repository")]
    Missing { id: ObjectId },
    #[error("object {id} could not be read: {message}")]
    Corrupt { id: ObjectId, message: String },
    /// A commit git itself cannot walk past: its `tree` or `parent` lines
    /// are damaged.
    #[error("commit {id} is malformed: {problem}")]
    MalformedCommit { id: ObjectId, problem: String },
    #[error("object {id} is a {actual}, expected a {expected}")]
    WrongKind { id: ObjectId, actual: gix::object::Kind, expected: gix::object::Kind },
    #[error("{id} is a {actual} object id, but the repository names its objects with {expected}")]
    WrongFormat { id: ObjectId, actual: gix::hash::Kind, expected: gix::hash::Kind },
}

impl Odb {
    /// Opens each directory of [`object_dirs`] (missing ones are skipped:
    /// git may list an alternate that is gone).
    pub fn open(dirs: &[PathBuf], hash: gix::hash::Kind) -> Result<Self, OpenError> {
        let mut stores = Vec::new();
        let dirs: Vec<PathBuf> = dirs.iter().filter(|d| d.is_dir()).cloned().collect();
        for (index, dir) in dirs.iter().enumerate() {
            let mut handle =
                gix::odb::at(dir.clone(), hash).map_err(|source| OpenError { dir: dir.clone(), source })?;
            // A walk revisits the same packs over and over, and a content
            // policy reads each file's versions one after another: a cache of
            // delta bases (git's `core.deltaBaseCacheLimit`) saves inflating
            // the same chains again. Capped by bytes, not entries, since a
            // base may be a 3 MB file as well as a 300-byte commit.
            handle.set_pack_cache(|| Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(DELTA_BASE_CACHE)));
            // The quarantine (and any other directory before the main store)
            // is complete before the hook starts and nobody else writes to
            // it: a miss there is final, and must not send gix looking for
            // new packs on disk, as it would for each of the many objects
            // that are in the main store instead.
            if index + 1 < dirs.len() {
                handle.refresh_never();
            }
            stores.push(handle);
        }
        Ok(Odb { stores, dirs, hash })
    }

    /// The repository's hash kind.
    pub fn hash_kind(&self) -> gix::hash::Kind {
        self.hash
    }

    /// Fails for an id of the other hash kind (a SHA-1 id in a SHA-256
    /// repository): gix's stores assert that ids match and would panic.
    /// Such ids come from input: the hook's, or a policy's.
    fn check_format(&self, id: &gix::oid) -> Result<(), ReadError> {
        if id.kind() == self.hash {
            return Ok(());
        }
        Err(ReadError::WrongFormat { id: id.to_owned(), actual: id.kind(), expected: self.hash })
    }

    /// Reads an object into `buf`, returning its kind.
    pub fn read<'b>(&self, id: &gix::oid, buf: &'b mut Vec<u8>) -> Result<gix::objs::Data<'b>, ReadError> {
        self.check_format(id)?;
        // One lookup per store, no existence check first. Returning the
        // borrow of `buf` from inside the loop does not pass the borrow
        // checker, so the hit is noted as where in `buf` it lies.
        let mut hit = None;
        for store in &self.stores {
            match store.try_find(id, buf) {
                Ok(Some(data)) => {
                    hit = Some((data.kind, data.data.as_ptr() as usize, data.data.len()));
                    break;
                }
                Ok(None) => continue,
                Err(e) => return Err(ReadError::Corrupt { id: id.to_owned(), message: e.to_string() }),
            }
        }
        match hit {
            Some((kind, at, len)) => {
                let start = at - buf.as_ptr() as usize;
                Ok(gix::objs::Data::new(&buf[start..start + len], kind, self.hash))
            }
            None => Err(ReadError::Missing { id: id.to_owned() }),
        }
    }

    /// The kind and size of an object, without decoding it in full (a
    /// 100 MB blob costs its header, not 100 MB).
    pub fn header(&self, id: &gix::oid) -> Result<(gix::object::Kind, u64), ReadError> {
        use gix::objs::FindHeader;
        self.check_format(id)?;
        let last = self.stores.len().saturating_sub(1);
        for (index, store) in self.stores.iter().enumerate() {
            if index == last || store.exists(id) {
                return match store.try_header(id) {
                    Ok(Some(header)) => Ok((header.kind, header.size)),
                    Ok(None) => Err(ReadError::Missing { id: id.to_owned() }),
                    Err(e) => Err(ReadError::Corrupt { id: id.to_owned(), message: e.to_string() }),
                };
            }
        }
        Err(ReadError::Missing { id: id.to_owned() })
    }

    /// Follows annotated tags from `id` to what they finally point at and
    /// returns that object's id and kind.
    pub fn peel(&self, id: ObjectId, buf: &mut Vec<u8>) -> Result<(ObjectId, gix::object::Kind), ReadError> {
        let mut id = id;
        // A tag chain longer than this is a loop or an attack; git itself
        // gives up much sooner.
        for _ in 0..64 {
            let data = self.read(&id, buf)?;
            if data.kind != gix::object::Kind::Tag {
                return Ok((id, data.kind));
            }
            id = gix::objs::TagRefIter::from_bytes(data.data, self.hash)
                .target_id()
                .map_err(|e| ReadError::Corrupt { id, message: e.to_string() })?;
        }
        Err(ReadError::Corrupt { id, message: "tag chain too long".into() })
    }
}

/// The store as gix's algorithms (tree diff, merge base) read it, giving up
/// once `deadline` has passed so that they stay within the policy's time.
pub struct Bounded<'a> {
    pub odb: &'a Odb,
    pub deadline: Option<std::time::Instant>,
}

/// What [`Bounded`] fails with once the deadline has passed.
#[derive(Debug, thiserror::Error)]
#[error("the deadline passed while reading objects")]
pub struct DeadlinePassed;

impl Find for Bounded<'_> {
    fn try_find<'b>(&self, id: &gix::oid, buffer: &'b mut Vec<u8>) -> gix::Result<Option<gix::objs::Data<'b>>> {
        if self.deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Err(gix::Error::from_error(DeadlinePassed));
        }
        match self.odb.read(id, buffer) {
            Ok(data) => Ok(Some(data)),
            Err(ReadError::Missing { .. }) => Ok(None),
            Err(err) => Err(gix::Error::from_error(err)),
        }
    }
}
