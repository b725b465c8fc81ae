//! `hookrt:policy/repository`: ancestry and refs before the push.

use super::HostState;
use super::bindings::repository;
use super::bindings::types::LookupError;
use super::conversions::{lookup_result, object_id};

type LookupResult<T> = wasmtime::Result<Result<T, LookupError>>;

impl repository::Host for HostState {
    fn is_ancestor(&mut self, ancestor: String, descendant: String) -> LookupResult<bool> {
        let repo = self.repo()?;
        let answer = object_id(&ancestor)
            .and_then(|a| Ok((a, object_id(&descendant)?)))
            .and_then(|(a, d)| repo.is_ancestor(a, d, Some(self.deadline)));
        if !matches!(answer, Err(crate::git::LookupError::Invalid(_))) {
            self.work.ancestry += 1;
        }
        lookup_result(answer)
    }

    fn is_force_push(&mut self, ref_name: String) -> LookupResult<bool> {
        let Some(update) = super::update_named(&self.updates, &ref_name) else {
            return Ok(Err(LookupError::NotFound(format!("{ref_name} is not one of this push's ref updates"))));
        };
        self.work.ancestry += 1;
        lookup_result(self.repo()?.is_force_push(update, Some(self.deadline)))
    }

    fn ref_target(&mut self, ref_name: String) -> wasmtime::Result<Option<String>> {
        Ok(self.repo()?.ref_target(&ref_name).map(|id| id.to_string()))
    }
}
