//! `hookrt:policy/files`: changed paths and blob contents, charged to the
//! policy's fuel as it reads them.

use super::HostState;
use super::bindings::files;
use super::bindings::types::{Additions, Blob, Change, LookupError};
use super::conversions::{lookup_result, object_id};

/// Fuel charged per path listed: about what the guest spends receiving one.
pub const FUEL_PER_CHANGE: u64 = 1_000;
/// Fuel charged per blob byte copied into the guest.
pub const FUEL_PER_BLOB_BYTE: u64 = 1;

type LookupResult<T> = wasmtime::Result<Result<T, LookupError>>;

impl files::Host for HostState {
    fn changes(&mut self, commit: String) -> LookupResult<Vec<Change>> {
        let repo = self.repo()?;
        let changes = object_id(&commit).and_then(|id| repo.changes(id, self.limits.changes_max, Some(self.deadline)));
        if let Ok(changes) = &changes {
            self.work.changes += changes.len() as u64;
            self.fuel_debt += changes.len() as u64 * FUEL_PER_CHANGE;
        }
        lookup_result(changes.map(|c| c.into_iter().map(Into::into).collect()))
    }

    fn read_blob(&mut self, id: String, max_bytes: u64) -> LookupResult<Blob> {
        let cap = self.read_cap(max_bytes);
        let repo = self.repo()?;
        let blob = object_id(&id).and_then(|id| repo.read_blob(id, cap, Some(self.deadline)));
        self.charge(blob)
    }

    fn added_lines(&mut self, old_id: Option<String>, new_id: String, max_bytes: u64) -> LookupResult<Additions> {
        let cap = self.read_cap(max_bytes);
        let repo = self.repo()?;
        let old = old_id.as_deref().map(object_id).transpose();
        let added = old.and_then(|old| repo.added_lines(old, object_id(&new_id)?, cap, Some(self.deadline)));
        if let Ok(added) = &added {
            // Each line and its `\n`.
            let bytes = added.text.len() as u64 + u64::from(!added.numbers.is_empty());
            self.work.blob_bytes += bytes;
            self.fuel_debt += bytes * FUEL_PER_BLOB_BYTE;
        }
        lookup_result(added.map(Into::into))
    }

    fn read_file(&mut self, commit: String, path: String, max_bytes: u64) -> LookupResult<Blob> {
        let cap = self.read_cap(max_bytes);
        let repo = self.repo()?;
        let blob = object_id(&commit).and_then(|id| repo.read_file(id, &path, cap, Some(self.deadline)));
        self.charge(blob)
    }
}

impl HostState {
    /// What one read may return: what the policy asked for, within the
    /// admin's cap.
    fn read_cap(&self, asked: u64) -> usize {
        usize::try_from(asked).unwrap_or(usize::MAX).min(self.limits.blob_read_bytes)
    }

    fn charge(&mut self, blob: Result<crate::git::Blob, crate::git::LookupError>) -> LookupResult<Blob> {
        if let Ok(blob) = &blob {
            self.work.blob_bytes += blob.data.len() as u64;
            self.fuel_debt += blob.data.len() as u64 * FUEL_PER_BLOB_BYTE;
        }
        lookup_result(blob.map(Into::into))
    }
}
