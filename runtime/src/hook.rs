//! One hook run, end to end: load the policy set, pick the policies for
//! this hook, pusher and refs, run each in its own sandbox within the push's
//! time budget, collect the verdicts, queue the webhook events (in
//! post-receive), and record the decision.

use std::path::PathBuf;
use std::time::Instant;

use crate::audit;
use crate::git::{self, Repo};
use crate::policy::{ConfigError, Mode, PolicySet, PolicySpec, Scopes};
use crate::push::{HookKind, Push};
use crate::report::{PolicyEntry, Report, Status};
use crate::sandbox::{EngineError, LoadError, PolicyModule, Sandbox};
use crate::verdict::{Failure, PolicyRun, Skip};
use crate::{timing, webhook};

/// Everything a hook run needs; the `hookrt` binary fills it from git's
/// arguments, standard input and environment, an embedding server from its
/// own state.
#[derive(Debug, Clone)]
pub struct HookRequest {
    /// The hook, the repository and what git said about the push.
    pub push: Push,
    /// Where the policies and `hookrt.toml`s are: the server's directory and
    /// the repository's.
    pub scopes: Scopes,
    /// Where compiled code is cached; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
    /// Where objects are read from, quarantine first; see
    /// [`git::object_dirs`].
    pub object_dirs: Vec<PathBuf>,
    /// The refs as they stood before the hook, where they are not the
    /// repository's own: on a clone, the remote's refs as it last saw them
    /// (`client::pre_push`). `None` reads the repository's.
    pub refs: Option<Vec<(String, gix::ObjectId)>>,
}

/// The error returned by [`run_hook`] when no policy could run at all. In
/// pre-receive and update it must reject the push (fail closed).
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Repository(#[from] git::OpenError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(
        "{0} is hookrt's own ref (the policy set published for clones, written by `hookrt publish` on the server); a push cannot change it"
    )]
    Reserved(String),
}

/// Runs every policy configured for `request.push.hook`, in the policy
/// set's order, and appends the decision to the audit log. Each policy runs
/// even when an earlier one vetoed, so the pusher learns every problem with
/// the push at once.
pub fn run_hook(request: &HookRequest) -> Result<Report, HookError> {
    let started = Instant::now();
    let push = &request.push;
    if push.hook.can_reject()
        && let Some(update) =
            push.updates.iter().find(|u| u.name.starts_with(crate::server::transaction::RESERVED_PREFIX))
    {
        return Err(HookError::Reserved(update.name.clone()));
    }
    let set = match timing::timed("config", "", || PolicySet::load(&request.scopes)) {
        Ok(set) => set,
        // The configuration is what says where the log goes; without it,
        // the default place still hears about the rejection.
        Err(err) => return Err(record_error(push, &Default::default(), err.into())),
    };
    let mut report = evaluate(request, &set, started).map_err(|err| record_error(push, &set.audit, err))?;
    // After the refs moved: the push's events, queued for the webhooks
    // (sent by `webhook::deliver`, outside this run).
    if push.observers_run() {
        webhook::queue_events(push, &request.object_dirs, &set, &mut report, started + set.budget);
    }
    // A hook with no policy configured decides nothing: git runs all three
    // hooks for every push, and only those with policies leave a record.
    let decided = !report.entries.is_empty();
    if let Some(log) = audit::AuditLog::for_repository(&push.git_dir, &set.audit).filter(|_| decided)
        && let Err(err) = log.append(&audit::Record::decision(push, &set, &report, started.elapsed()))
    {
        report.audit_error = Some(err.to_string());
    }
    timing::record("hook", "", started.elapsed());
    Ok(report)
}

/// Records a hook run that no policy could decide (a broken configuration,
/// input that does not fit the repository), and hands the error back.
fn record_error(push: &Push, audit: &crate::policy::AuditConfig, err: HookError) -> HookError {
    let log = audit::AuditLog::for_repository(&push.git_dir, audit);
    if let Some(Err(e)) = log.map(|log| log.append(&audit::Record::error(push, &err.to_string()))) {
        tracing::warn!("{e}");
    }
    err
}

fn evaluate(request: &HookRequest, set: &PolicySet, started: Instant) -> Result<Report, HookError> {
    let push = &request.push;
    let pusher = push.pusher.as_ref().map(|p| p.name.as_str());
    // Each policy of this hook: the ref updates it is handed, or why it
    // does not run.
    let plan: Vec<(&PolicySpec, Result<Vec<_>, Skip>)> = set
        .policies
        .iter()
        .filter(|spec| runs_in(spec, push))
        .map(|spec| {
            let updates: Vec<_> = push.updates.iter().filter(|u| spec.refs.matches(&u.name)).cloned().collect();
            let plan = if spec.mode == Mode::Disabled {
                Err(Skip::Disabled)
            } else if let Some(name) = pusher.filter(|name| spec.bypass.iter().any(|b| b == name)) {
                Err(Skip::Bypassed(name.to_owned()))
            } else if updates.is_empty() {
                Err(Skip::NoMatchingRefs)
            } else {
                Ok(updates)
            };
            (spec, plan)
        })
        .collect();
    let mut report = Report::new(push.hook, Vec::new(), None);
    // Refused overrides are news where policies run, not in every hook.
    if !plan.is_empty() {
        report.notices = set.notices.clone();
    }
    // The repository, the engine and the modules are set up only when some
    // policy runs, not for hooks whose policies are all skipped.
    let runnable: Vec<&PolicySpec> = plan.iter().filter(|(_, plan)| plan.is_ok()).map(|(spec, _)| *spec).collect();
    let deadline = started + set.budget;
    let (prepared, mut modules) = match runnable.is_empty() {
        true => (None, Vec::new().into_iter()),
        false => {
            let (repo, sandbox, modules) = prepare(request, &runnable, deadline)?;
            report.notices.extend(sandbox.cache_warning());
            (Some((repo, sandbox)), modules.into_iter())
        }
    };
    for (spec, plan) in plan {
        let status = match plan {
            Err(skip) => Status::Skipped(skip),
            // One module was loaded for each policy that runs, in order.
            Ok(updates) => Status::Ran(match (&prepared, modules.next()) {
                // A reference transaction runs its policies while the refs
                // are locked and its observers once they moved; which one a
                // module is, only its world says. (A module that did not
                // load fails in `prepared`, where it can still reject.)
                (Some(_), Some(module)) if !in_this_phase(push, module.as_ref().ok()) => continue,
                (Some((repo, sandbox)), Some(module)) => {
                    let push = Push { updates, ..push.clone() };
                    run_within_budget(sandbox, spec, module, &push, repo, deadline, set)
                }
                _ => PolicyRun::failed(&spec.name, Failure::Load("not loaded (a bug in hookrt)".into())),
            }),
        };
        report.entries.push(PolicyEntry::new(spec, status));
    }
    report.repo = prepared.map(|(repo, _)| repo);
    Ok(report)
}

/// Whether `spec` is one of the policies of `push`'s hook. A clone runs the
/// server's policies: all that check a push before its refs move at
/// pre-push, those marked `commit_msg` at commit-msg. A reference
/// transaction that a push makes was checked by pre-receive already, so
/// only policies that ask for `pushes` run again there.
fn runs_in(spec: &PolicySpec, push: &Push) -> bool {
    let checks_pushes = matches!(spec.hook, HookKind::PreReceive | HookKind::Update);
    match push.hook {
        HookKind::PrePush => checks_pushes,
        HookKind::CommitMsg => checks_pushes && spec.commit_msg,
        HookKind::ReferenceTransaction => {
            spec.hook == push.hook && (spec.pushes || !push.transaction.is_some_and(|t| t.within_push))
        }
        hook => spec.hook == hook,
    }
}

/// Whether a module that loaded runs in this phase of a reference
/// transaction; every other hook has one phase.
fn in_this_phase(push: &Push, module: Option<&PolicyModule>) -> bool {
    match (push.transaction, module) {
        (Some(t), Some(module)) => module.is_observer() == t.committed,
        (Some(t), None) => !t.committed,
        (None, _) => true,
    }
}

/// The modules loaded for the policies that run, in the policy set's order.
type Modules = Vec<Result<PolicyModule, LoadError>>;

/// The engine, the repository and the modules of `specs` (in order), made
/// at once: on a small push, loading modules is most of a hook's time, and
/// it neither waits for the repository nor for other modules.
fn prepare(
    request: &HookRequest,
    specs: &[&PolicySpec],
    deadline: Instant,
) -> Result<(Repo, Sandbox, Modules), HookError> {
    let push = &request.push;
    let sandbox = timing::timed("engine", "", || Sandbox::new(request.cache_dir.as_deref()))?;
    let modules: Vec<_> = specs.iter().map(|spec| (spec.name.as_str(), spec.path.as_path())).collect();
    let (repo, modules) = std::thread::scope(|scope| {
        let repo = scope.spawn(|| {
            timing::timed("repository", "", || {
                Repo::open_with_refs(
                    &push.git_dir,
                    &request.object_dirs,
                    push.when(),
                    &push.updates,
                    request.refs.clone(),
                )
            })
        });
        let modules = sandbox.load_all(&modules, Some(deadline));
        (repo.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), modules)
    });
    Ok((repo?, sandbox, modules))
}

/// Runs one policy with its own timeout cut to what is left of the push's
/// budget; a policy stopped by the budget (or never started because it was
/// spent) fails with the budget as its cause.
fn run_within_budget(
    sandbox: &Sandbox,
    spec: &PolicySpec,
    module: Result<PolicyModule, LoadError>,
    push: &Push,
    repo: &Repo,
    deadline: Instant,
    set: &PolicySet,
) -> PolicyRun {
    // A module that could not be loaded fails for that reason, whatever
    // is left of the budget (a compile that ran out of it took it all).
    let module = match module {
        Ok(module) => module,
        Err(LoadError::NotCompiled { .. }) => {
            return PolicyRun::failed(&spec.name, Failure::NotCompiled { budget: set.budget });
        }
        Err(err) => return PolicyRun::failed(&spec.name, Failure::Load(err.to_string())),
    };
    let budget = Failure::Budget { budget: set.budget };
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return PolicyRun::failed(&spec.name, budget);
    }
    let mut limits = spec.limits;
    let cut = left < limits.timeout;
    limits.timeout = limits.timeout.min(left);
    let mut run = sandbox.run(&module, push, repo.clone(), limits, &spec.settings);
    if cut && matches!(run.outcome, Err(Failure::Deadline { .. })) {
        run.outcome = Err(budget);
    }
    run
}
