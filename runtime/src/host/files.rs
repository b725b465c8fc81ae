//! `hookrt:policy/files`: changed paths and blob contents, charged to the
//! policy's fuel as it reads them.

use super::bindings::files;
use super::bindings::types::{Blob, Change, LookupError};
use super::{HostState, lookup_result, object_id};

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
