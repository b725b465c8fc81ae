//! `hookrt test`: policies proven on cases before they see a push.
//!
//! A case file holds cases: a starting repository, a push and the verdict
//! expected ([`case`]). Each case gets a real scratch repository built with
//! git ([`scratch`]) and runs the policy through the same sandbox, limits
//! and host interfaces as a real push ([`run`]).

pub mod case;
pub mod raw;
pub mod run;
pub mod scratch;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use case::{Case, CaseError, CaseFile};
pub use run::{CaseOutcome, CaseRunError, Row, run_case};

/// The case files a path stands for: the file itself, or the `*.toml` in
/// `<dir>/tests/` (else in `<dir>`), in name order.
pub fn case_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let dir = if path.join("tests").is_dir() { path.join("tests") } else { path.to_owned() };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// The error returned by [`dry_run`].
#[derive(Debug, thiserror::Error)]
pub enum DryRunError {
    #[error("`{rev}` names no commit of {repo}")]
    Revision { rev: String, repo: PathBuf },
    #[error(transparent)]
    Repository(#[from] crate::git::OpenError),
}

/// Runs `module` in pre-receive as if `old..new` were being pushed to
/// `ref_name` of the repository at `git_dir`, with `ref_name` at `old` its
/// only ref: every commit of the range counts as new. Nothing is written to
/// the repository.
pub fn dry_run(
    sandbox: &crate::Sandbox,
    module: &crate::sandbox::PolicyModule,
    git_dir: &Path,
    ref_name: &str,
    (old, new): (&str, &str),
    limits: crate::Limits,
    settings: &std::sync::Arc<crate::policy::Settings>,
) -> Result<crate::Report, DryRunError> {
    let resolve = |rev: &str| {
        scratch::rev_parse(git_dir, &format!("{rev}^{{commit}}"))
            .ok_or_else(|| DryRunError::Revision { rev: rev.to_owned(), repo: git_dir.to_owned() })
    };
    let (old, new) = (resolve(old)?, resolve(new)?);
    let name = case::full_ref(ref_name);
    let update = crate::RefUpdate { name: name.clone(), old, new };
    let hook = crate::HookKind::PreReceive;
    let dirs = crate::git::object_dirs(git_dir, |_| None);
    let repo = crate::git::Repo::open_with_refs(
        git_dir,
        &dirs,
        crate::git::When::Before,
        std::slice::from_ref(&update),
        Some(vec![(name, old)]),
    )?;
    let push = crate::push::Push {
        hook,
        git_dir: git_dir.to_owned(),
        updates: vec![update],
        push_options: Vec::new(),
        pusher: None,
        context: Default::default(),
        transaction: None,
    };
    let run = run_policy(sandbox, module, &push, &repo, limits, settings);
    let mut report = crate::Report::new(hook, vec![crate::PolicyEntry::alone(run)]);
    report.look_up_subjects(|id| repo.subject(id));
    Ok(report)
}

/// Runs `module` as policy of `push`'s hook, as a push would (an observer
/// refused outside the hooks that run observers).
fn run_policy(
    sandbox: &crate::Sandbox,
    module: &crate::sandbox::PolicyModule,
    push: &crate::push::Push,
    repo: &crate::git::Repo,
    limits: crate::Limits,
    settings: &std::sync::Arc<crate::policy::Settings>,
) -> crate::PolicyRun {
    match crate::policy::observer_refused(push.hook, module.name()).filter(|_| module.is_observer()) {
        Some(refused) => crate::PolicyRun::failed(module.name(), crate::Failure::Load(refused)),
        None => sandbox.run(module, push, repo.clone(), limits, settings),
    }
}
