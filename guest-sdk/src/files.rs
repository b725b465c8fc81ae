//! Changed paths and blob contents.

use crate::bindings::hookrt::policy::files;
use crate::{Additions, Blob, Change, ChangeKind, Commit, LookupError};

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

    /// The lines this change adds (every line, for an added file), as
    /// `git diff --histogram` shows them, reading at most `max_bytes` of
    /// each blob (the admin's per-read cap applies on top): what a content
    /// policy scans instead of whole files. A deletion adds nothing.
    pub fn added_lines(&self, max_bytes: u64) -> Result<Additions, LookupError> {
        match self.new_id.as_deref() {
            Some(new) => files::added_lines(self.old_id.as_deref(), new, max_bytes),
            None => {
                Ok(Additions { text: String::new(), numbers: Vec::new(), truncated: false, binary: false, read: 0 })
            }
        }
    }

    /// Whether the path is a regular file or symlink (not a submodule).
    pub fn is_blob(&self) -> bool {
        let mode = if self.exists_after() { self.new_mode } else { self.old_mode };
        mode & 0o170000 != 0o160000
    }
}

impl Additions {
    /// The added lines with their line numbers in the new blob, in order.
    pub fn lines(&self) -> impl Iterator<Item = (u32, &str)> {
        self.numbers.iter().copied().zip(self.text.split('\n'))
    }
}

impl Blob {
    /// The bytes read, as text with invalid UTF-8 replaced.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.data)
    }
}
