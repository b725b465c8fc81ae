//! One hook run, end to end: discover the policies for this hook, open the
//! repository, run each policy in its own sandbox, collect the verdicts.

use std::path::PathBuf;

use crate::git::{self, Repo};
use crate::policy::{self, DiscoverError};
use crate::push::Push;
use crate::report::Report;
use crate::sandbox::{EngineError, Failure, PolicyRun, Sandbox};

/// Everything a hook run needs; the `hookrt` binary fills it from git's
/// arguments, standard input and environment, an embedding server from its
/// own state.
#[derive(Debug, Clone)]
pub struct HookRequest {
    /// The hook, the repository and what git said about the push.
    pub push: Push,
    /// Where the `*.wasm` policies (and `hookrt.toml`) are.
    pub policy_dir: PathBuf,
    /// Where compiled code is cached; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
    /// Where objects are read from, quarantine first; see
    /// [`git::object_dirs`].
    pub object_dirs: Vec<PathBuf>,
}

/// The error returned by [`run_hook`] when no policy could run at all. In
/// pre-receive and update it must reject the push (fail closed).
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error(transparent)]
    Policies(#[from] DiscoverError),
    #[error(transparent)]
    Repository(#[from] git::OpenError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Runs every policy configured for `request.hook`, in name order. Each
/// policy runs even when an earlier one vetoed, so the pusher learns every
/// problem with the push at once.
pub fn run_hook(request: &HookRequest) -> Result<Report, HookError> {
    let push = &request.push;
    let specs: Vec<_> =
        policy::discover(&request.policy_dir)?.into_iter().filter(|spec| spec.hook == push.hook).collect();
    if specs.is_empty() || push.updates.is_empty() {
        return Ok(Report::new(push.hook, Vec::new(), None));
    }
    let repo = Repo::open(&push.git_dir, &request.object_dirs, push.hook, &push.updates)?;
    let sandbox = Sandbox::new(request.cache_dir.as_deref())?;
    let runs = specs
        .iter()
        .map(|spec| match sandbox.load(&spec.name, &spec.path) {
            Ok(module) => sandbox.run(&module, push, repo.clone(), spec.limits),
            Err(err) => PolicyRun::failed(&spec.name, Failure::Load(err.to_string())),
        })
        .collect();
    Ok(Report::new(push.hook, runs, Some(repo)))
}
