//! `hookrt:policy/commits`: lazy commit walks over the push's ref updates.

use wasmtime::component::Resource;

use super::bindings::commits::{self, Filter, MalformedCommit, WalkError};
use super::bindings::types::Commit;
use super::{DeadlineInHostCall, HostState, TooManyResources};
use crate::git::{self, Walk};

/// The most commits one `next-batch` call returns, whatever the guest asks:
/// it bounds the memory and time of a single host call.
const MAX_BATCH: u32 = 1024;

type WalkResult<T> = wasmtime::Result<Result<T, WalkError>>;

impl commits::Host for HostState {
    fn open(&mut self, ref_name: String, filter: Filter) -> WalkResult<Resource<Walk>> {
        let Some(update) = super::update_named(&self.updates, &ref_name) else {
            return Ok(Err(WalkError::UnknownRef(ref_name)));
        };
        match self.repo()?.walk(update, filter.into()) {
            Ok(walk) => Ok(Ok(self.table.push(walk).map_err(|_| TooManyResources)?)),
            Err(err) => walk_error(err),
        }
    }
}

impl commits::HostCommitWalk for HostState {
    fn next(&mut self, walk: Resource<Walk>) -> WalkResult<Option<Commit>> {
        Ok(self.next_batch(walk, 1)?.map(|mut batch| batch.pop()))
    }

    fn next_batch(&mut self, walk: Resource<Walk>, max: u32) -> WalkResult<Vec<Commit>> {
        let (deadline, started) = (self.deadline, std::time::Instant::now());
        let walk = self.table.get_mut(&walk)?;
        let mut batch = Vec::with_capacity(max.min(MAX_BATCH) as usize);
        while batch.len() < max.min(MAX_BATCH) as usize {
            match walk.next(Some(deadline)) {
                Ok(Some(commit)) => batch.push(commit.into()),
                Ok(None) => break,
                Err(err) => return walk_error(err),
            }
        }
        self.work.commits += batch.len() as u64;
        self.work.walking += started.elapsed();
        Ok(Ok(batch))
    }

    fn drop(&mut self, walk: Resource<Walk>) -> wasmtime::Result<()> {
        self.table.delete(walk)?;
        Ok(())
    }
}

/// A deadline ends the policy (a trap); a repository problem is data the
/// policy may handle, though most will fail and so reject the push.
fn walk_error<T>(err: git::WalkError) -> WalkResult<T> {
    match err {
        git::WalkError::DeadlineExceeded => Err(DeadlineInHostCall.into()),
        git::WalkError::Read(git::ReadError::MalformedCommit { id, problem }) => {
            Ok(Err(WalkError::Malformed(MalformedCommit { id: id.to_string(), problem })))
        }
        git::WalkError::Read(err) => Ok(Err(WalkError::Repository(err.to_string()))),
        // hookrt's fault, not the repository's: the policy fails (closed).
        err @ git::WalkError::Stopped => Err(wasmtime::Error::msg(err.to_string())),
    }
}
