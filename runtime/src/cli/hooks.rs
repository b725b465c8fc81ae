//! `hookrt run` for the server hooks beyond pre-receive, update and
//! post-receive: each turns what git hands it into a run of the policies
//! (`hookrt::server` does the reading and the work after), then runs the
//! chained hook of the same name.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use gix::ObjectId;
use hookrt::HookKind;
use hookrt::policy::PolicySet;
use hookrt::push::{RefUpdate, Transaction};
use hookrt::server::proc_receive::{self, Outcome};
use hookrt::server::{checkout, transaction};

use super::run::{RunArgs, decide, is_executable, run_chained, tell_pusher};

/// reference-transaction: policies in `prepared` (a veto aborts it),
/// observers in `committed`.
pub fn reference_transaction(run: &RunArgs) -> anyhow::Result<ExitCode> {
    let mut stdin = Vec::new();
    std::io::stdin().read_to_end(&mut stdin).context("cannot read the hook's standard input")?;
    let state: transaction::State = match run.args.first() {
        Some(state) => state.parse().map_err(anyhow::Error::msg)?,
        None => bail!("reference-transaction takes the transaction's state as its argument, as git passes it"),
    };
    let committed = match state {
        transaction::State::Prepared => false,
        transaction::State::Committed => true,
        transaction::State::Preparing | transaction::State::Aborted => return run.chain(&run.args, &stdin),
    };
    let request = (|| {
        let git_dir = run.dirs.git_dir()?;
        let refs = current_refs(&git_dir)?;
        let updates = transaction::parse_updates(&stdin, state, |name| refs(name))?;
        let mut request = run.request(HookKind::ReferenceTransaction, updates)?;
        request.push.transaction = Some(Transaction { committed, within_push: transaction::within_push() });
        Ok(request)
    })();
    // Nothing hookrt looks at (HEAD alone, hookrt's own refs): no run.
    if request.as_ref().is_ok_and(|r| r.push.updates.is_empty()) {
        return run.chain(&run.args, &stdin);
    }
    if committed {
        run.observe(request);
    } else if !decide(HookKind::ReferenceTransaction, request) {
        return Ok(ExitCode::FAILURE);
    }
    run.chain(&run.args, &stdin)
}

/// post-update: observers over the named refs as they stand.
pub fn post_update(run: &RunArgs) -> anyhow::Result<ExitCode> {
    let request = (|| {
        let git_dir = run.dirs.git_dir()?;
        let refs = current_refs(&git_dir)?;
        let mut updates = Vec::new();
        for name in &run.args {
            // git says nothing of where the ref was: from its value to its
            // value, so no walk yields anything. A deleted ref has no value
            // left to name.
            if let Some(id) = refs(name) {
                updates.push(RefUpdate { name: name.clone(), old: id, new: id });
            }
        }
        run.request(HookKind::PostUpdate, updates)
    })();
    run.observe(request);
    run.chain(&run.args, &[])
}

/// push-to-checkout: the policies decide, then the work tree is updated as
/// git would (or by the chained hook, whose job that was before).
pub fn push_to_checkout(run: &RunArgs) -> anyhow::Result<ExitCode> {
    let [new] = run.args.as_slice() else {
        bail!("push-to-checkout takes the pushed commit as its one argument, as git passes it");
    };
    let new = ObjectId::from_hex(new.as_bytes()).with_context(|| format!("{new:?} is not an object id"))?;
    let git_dir = run.dirs.git_dir()?;
    let (branch, old) = match checkout::checked_out(&git_dir) {
        Ok(found) => found,
        Err(err) => {
            tell_pusher(&format!("hookrt: error: {err}\n"));
            return Ok(ExitCode::FAILURE);
        }
    };
    let request = run.request(HookKind::PushToCheckout, vec![RefUpdate { name: branch, old, new }]);
    if !decide(HookKind::PushToCheckout, request) {
        return Ok(ExitCode::FAILURE);
    }
    if let Some(dir) = run.chain.as_deref().filter(|dir| is_executable(&dir.join(run.hook.as_str()))) {
        return run_chained(dir, run.hook, &run.args, &[]);
    }
    let work_tree = std::env::current_dir().context("cannot tell the work tree")?;
    match checkout::update_work_tree(&work_tree, old, new) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(err) => {
            tell_pusher(&format!("hookrt: error: the work tree stays as it is: {err}\n"));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// proc-receive: each command of a review namespace is checked against its
/// target branch and, once accepted, kept at `[proc_receive] target`.
pub fn proc_receive(run: &RunArgs) -> anyhow::Result<ExitCode> {
    // A proc-receive that was there before keeps the namespace: the
    // protocol has one handler.
    if let Some(dir) = run.chain.as_deref().filter(|dir| is_executable(&dir.join(run.hook.as_str()))) {
        let path = dir.join(run.hook.as_str());
        let status = std::process::Command::new(&path)
            .status()
            .with_context(|| format!("cannot run the chained hook {}", path.display()))?;
        return Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE });
    }
    let (mut stdin, mut stdout) = (std::io::stdin().lock(), std::io::stdout().lock());
    let request = proc_receive::read_request(&mut stdin, &mut stdout)?;
    let git_dir = run.dirs.git_dir()?;
    let work_dir = std::env::current_dir().context("cannot tell the current directory")?;
    let namespaces: Vec<String> = hookrt::server::git(&work_dir, &["config", "--get-all", "receive.procReceiveRefs"])
        .map(|v| v.lines().map(str::to_owned).collect())
        .unwrap_or_default();
    let results: Vec<(String, Outcome)> = request
        .commands
        .iter()
        .map(|command| {
            let outcome = review(run, &git_dir, &work_dir, &namespaces, command, &request.push_options)
                .unwrap_or_else(|err| Outcome::Rejected(format!("hookrt cannot check it: {err:#}")));
            (command.name.clone(), outcome)
        })
        .collect();
    proc_receive::write_results(&mut stdout, &results).context("cannot answer receive-pack")?;
    Ok(ExitCode::SUCCESS)
}

/// One command of a review namespace: its policies' verdict and, if they
/// accept, the ref it is kept at.
fn review(
    run: &RunArgs,
    git_dir: &Path,
    work_dir: &Path,
    namespaces: &[String],
    command: &proc_receive::Command,
    push_options: &[String],
) -> anyhow::Result<Outcome> {
    let Some(branch) = proc_receive::target_branch(&command.name, namespaces) else {
        return Ok(Outcome::Rejected(format!("{} names no branch after its namespace", command.name)));
    };
    let new = ObjectId::from_hex(command.new.as_bytes()).context("the new id is not an object id")?;
    if new.is_null() {
        return Ok(Outcome::Rejected("a review ref cannot be deleted".into()));
    }
    let target_branch = format!("refs/heads/{branch}");
    let refs = current_refs(git_dir)?;
    let old = refs(&target_branch).unwrap_or_else(|| ObjectId::null(new.kind()));
    let mut request = run.request(HookKind::ProcReceive, vec![RefUpdate { name: target_branch, old, new }])?;
    request.push.push_options = push_options.to_vec();
    let report = hookrt::run_hook(&request)?;
    tell_pusher(&report.render());
    if !report.accepted() {
        return Ok(Outcome::Rejected(report.reason().unwrap_or_else(|| "rejected by policy".into())));
    }
    let topic = push_options
        .iter()
        .find_map(|o| o.strip_prefix("topic="))
        .map(str::to_owned)
        .or_else(|| request.push.pusher.as_ref().map(|p| p.name.clone()))
        .unwrap_or_else(|| "change".into());
    let set = PolicySet::load(&request.scopes)?;
    let target = proc_receive::target_ref(&set.proc_receive_target, branch, &topic);
    hookrt::server::git(work_dir, &["check-ref-format", &target])
        .map_err(|_| anyhow::anyhow!("{target} is not a valid ref name (see [proc_receive] target and the topic)"))?;
    let previous = refs(&target).unwrap_or_else(|| ObjectId::null(new.kind()));
    hookrt::server::git(work_dir, &["update-ref", "-m", "hookrt proc-receive", &target, &command.new])
        .map_err(anyhow::Error::msg)?;
    Ok(Outcome::Stored { refname: target, old: previous.to_string(), new: command.new.clone() })
}

/// A lookup of the refs of `git_dir` as they stand now.
fn current_refs(git_dir: &Path) -> anyhow::Result<impl Fn(&str) -> Option<ObjectId>> {
    let repo = gix::open_opts(git_dir, gix::open::Options::isolated())
        .with_context(|| format!("cannot open {}", git_dir.display()))?;
    Ok(move |name: &str| {
        repo.try_find_reference(name).ok().flatten().and_then(|r| r.target().try_id().map(|id| id.to_owned()))
    })
}
