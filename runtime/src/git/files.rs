//! What blobs hold, and the paths and trees commits have: read only when a
//! policy asks.

use std::sync::Arc;
use std::time::Instant;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::objs::FindExt;

use super::commit::header;
use super::odb::{Bounded, ReadError};
use super::{LookupError, Repo};

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
/// Blobs up to this size are decoded whole, whatever is asked, and kept
/// for the next read (`git::packs`): at a cost in memory of at most this,
/// each version of a file costs one delta, where the stream of
/// `git::prefix`, which keeps nothing, costs its whole chain.
const WHOLE_BELOW: u64 = 1 << 20;

/// The start of a blob as read, before it is copied out.
pub(super) struct Content {
    pub id: ObjectId,
    pub size: u64,
    /// What was read: the whole blob (shared with the push's cache) or its
    /// start; `data()` is the part asked for.
    bytes: Arc<Vec<u8>>,
    take: usize,
    pub looks_binary: bool,
}

impl Content {
    fn new(id: ObjectId, size: u64, bytes: Arc<Vec<u8>>, max: usize) -> Self {
        let looks_binary = bytes[..bytes.len().min(BINARY_PROBE)].contains(&0);
        Content { id, size, take: bytes.len().min(max), bytes, looks_binary }
    }

    /// The bytes asked for.
    pub fn data(&self) -> &[u8] {
        &self.bytes[..self.take]
    }

    /// Whether `data()` is shorter than the blob.
    pub fn truncated(&self) -> bool {
        (self.take as u64) < self.size
    }
}

impl Repo {
    /// The first `max` bytes of the blob `id`, with its full size. A blob
    /// larger than what is read (and than 1 MiB) is not decoded whole:
    /// hookrt's memory follows `max`, not the blob (see `git::prefix`).
    pub fn read_blob(&self, id: ObjectId, max: usize, deadline: Option<Instant>) -> Result<Blob, LookupError> {
        let content = self.content(id, max, deadline)?;
        Ok(Blob {
            id: content.id,
            size: content.size,
            data: content.data().to_vec(),
            truncated: content.truncated(),
            looks_binary: content.looks_binary,
        })
    }

    /// What [`Repo::read_blob`] reads, not yet copied.
    pub(super) fn content(&self, id: ObjectId, max: usize, deadline: Option<Instant>) -> Result<Content, LookupError> {
        let packs = self.shared.packs.get_or_init(|| super::packs::Locator::new(&self.odb.dirs, self.odb.hash_kind()));
        if let Some(bytes) = packs.decoded(&id) {
            return Ok(Content::new(id, bytes.len() as u64, bytes, max));
        }
        let mut buf = Vec::new();
        let (id, size) = self.peeled(id, gix::object::Kind::Blob, &mut buf)?;
        // Enough to read what is asked and to tell binary content.
        let want = usize::try_from(size).unwrap_or(usize::MAX).min(max.max(BINARY_PROBE));
        let failed = |err: String| LookupError::bounded(deadline, id, err);
        let read = if size > WHOLE_BELOW && (want as u64) < size {
            packs.read_prefix(id, want, deadline).map_err(failed)?.map(Arc::new)
        } else {
            packs.read_whole(&id, deadline).map_err(failed)?
        };
        // Not found on disk by hand (a loose delta base, say): gix reads it.
        let bytes = match read {
            Some(bytes) => bytes,
            None => Arc::new(self.odb.read(&id, &mut buf)?.data.to_vec()),
        };
        Ok(Content::new(id, size, bytes, max))
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
    pub(super) fn on_a_branch(&self, path: &gix::bstr::BStr, deadline: Option<Instant>) -> Result<bool, LookupError> {
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

impl Repo {
    /// The tree and first parent of `commit` (tags peeled), read as git
    /// reads them: a commit whose other headers are damaged still has both.
    pub(super) fn tree_and_first_parent(
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
