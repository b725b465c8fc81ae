//! Changed paths and blob contents.

use crate::bindings::hookrt::policy::files;
use crate::{Blob, Change, ChangeKind, Commit, LookupError};

/// Reads at most `max_bytes` of the blob `id` (the admin's per-read cap,
/// 1 MiB by default, applies on top). `Blob::size` is always the full size.
pub fn read_blob(id: &str, max_bytes: u64) -> Result<Blob, LookupError> {
    files::read_blob(id, max_bytes)
}

/// Reads at most `max_bytes` of the file at `path` in `commit`'s tree.
pub fn read_file(commit: &str, path: &str, max_bytes: u64) -> Result<Blob, LookupError> {
    files::read_file(commit, path, max_bytes)
}

impl Change {
    /// The last component of the path (`id_rsa` for `home/.ssh/id_rsa`).
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// Whether the path holds content after the commit: added, modified or
    /// renamed, not deleted.
    pub fn exists_after(&self) -> bool {
        self.kind != ChangeKind::Deleted
    }

    /// For a change of a merge `commit` (changes are listed against the
    /// first parent): whether one of the other parents already has this
    /// content at this path, so the merge carries it over rather than
    /// writes it. Always false for a commit with one parent.
    pub fn from_other_parent(&self, commit: &Commit) -> Result<bool, LookupError> {
        for parent in commit.parent_ids.iter().skip(1) {
            match read_file(parent, &self.path, 0) {
                Ok(blob) if Some(&blob.id) == self.new_id.as_ref() => return Ok(true),
                Ok(_) | Err(LookupError::NotFound(_)) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(false)
    }

    /// Whether the path is a regular file or symlink (not a submodule).
    pub fn is_blob(&self) -> bool {
        let mode = if self.exists_after() { self.new_mode } else { self.old_mode };
        mode & 0o170000 != 0o160000
    }
}

impl Blob {
    /// The bytes read, as text with invalid UTF-8 replaced.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.data)
    }
}
