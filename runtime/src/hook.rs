//! One hook run, end to end: load the policy set, pick the policies for
//! this hook, pusher and refs, run each in its own sandbox within the push's
//! time budget, collect the verdicts, queue the webhook events (in
//! post-receive), and record the decision.

use std::path::PathBuf;
use std::time::Instant;

use crate::audit;
use crate::git::{self, Repo};
use crate::policy::{Planned, PolicySet, PolicySetError, PolicySpec, Scopes, in_this_phase, observer_refused};
use crate::push::Push;
use crate::report::{PolicyEntry, Report, Status};
use crate::sandbox::{EngineError, LoadError, PolicyModule, Sandbox};
use crate::verdict::{Failure, PolicyRun};
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
    Config(#[from] PolicySetError),
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
    let (mut report, repo) = evaluate(request, &set, started).map_err(|err| record_error(push, &set.audit, err))?;
    // After the refs moved: the push's events, queued for the webhooks
    // (sent by `webhook::deliver`, outside this run).
    if push.observers_run() {
        let runs = report.entries.iter().filter_map(|e| Some((e.name.as_str(), e.mode, e.run()?)));
        let queued = webhook::queue_events(push, repo, &request.object_dirs, &set, runs, started + set.budget);
        report.queued = queued.deliveries;
        report.notices.extend(queued.notices);
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

/// Runs the policies the set plans for this push; the repository, if one
/// was opened for them.
fn evaluate(request: &HookRequest, set: &PolicySet, started: Instant) -> Result<(Report, Option<Repo>), HookError> {
    let push = &request.push;
    let plan = set.plan(push);
    let mut report = Report::new(push.hook, Vec::new());
    // Refused overrides are news where policies run, not in every hook.
    if !plan.is_empty() {
        report.notices = set.notices.clone();
    }
    // The repository, the engine and the modules are set up only when some
    // policy runs, not for hooks whose policies are all skipped.
    let runnable: Vec<&PolicySpec> = plan.iter().filter(|p| p.updates.is_ok()).map(|p| p.spec).collect();
    let deadline = started + set.budget;
    let (prepared, mut modules) = match runnable.is_empty() {
        true => (None, Vec::new().into_iter()),
        false => {
            let (repo, sandbox, modules) = prepare(request, &runnable, deadline)?;
            report.notices.extend(sandbox.cache_warning());
            (Some((repo, sandbox)), modules.into_iter())
        }
    };
    for Planned { spec, updates } in plan {
        let status = match updates {
            Err(skip) => Status::Skipped(skip),
            // One module was loaded for each policy that runs, in order.
            Ok(updates) => Status::Ran(match (&prepared, modules.next()) {
                (Some(_), Some(module))
                    if !in_this_phase(push, module.as_ref().ok().map(PolicyModule::is_observer)) =>
                {
                    continue;
                }
                (Some((repo, sandbox)), Some(module)) => {
                    let push = Push { updates, ..push.clone() };
                    run_within_budget(sandbox, spec, module, &push, repo, deadline, set)
                }
                _ => PolicyRun::failed(&spec.name, Failure::Load("not loaded (a bug in hookrt)".into())),
            }),
        };
        report.entries.push(PolicyEntry::new(spec, status));
    }
    let repo = prepared.map(|(repo, _)| repo);
    if let Some(repo) = &repo {
        report.look_up_subjects(|id| repo.subject(id));
    }
    Ok((report, repo))
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
        Ok(module)
            if module.is_observer()
                && let Some(refused) = observer_refused(spec.hook, &spec.name) =>
        {
            return PolicyRun::failed(&spec.name, Failure::Load(refused));
        }
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
