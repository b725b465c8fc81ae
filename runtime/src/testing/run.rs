//! Running one case: build its repository, run the policy through the same
//! sandbox and host interfaces as a real push, and hold the result against
//! the expectation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::case::{Case, Expect, ExpectEvent, ExpectVeto, full_ref};
use super::scratch::{Scratch, ScratchError};
use crate::git::{self, Repo};
use crate::policy::{PolicyConfig, Settings};
use crate::push::{HookKind, Push};
use crate::sandbox::{PolicyModule, Sandbox};
use crate::verdict::Emitted;
use crate::verdict::Verdict;

/// What one case came to.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaseOutcome {
    pub name: String,
    pub passed: bool,
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
    pub fuel: u64,
    /// The expectation point by point, each beside what happened.
    pub rows: Vec<Row>,
}

/// One point of a case: what was expected, what happened, and whether
/// they agree.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub expected: String,
    pub actual: String,
    pub ok: bool,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// One veto as the case sees it: the commit by its subject.
#[derive(Debug)]
struct SeenVeto {
    ref_name: String,
    summary: String,
    commit: Option<String>,
}

/// The error returned by [`run_case`] when the case itself is broken.
#[derive(Debug, thiserror::Error)]
pub enum CaseRunError {
    #[error(transparent)]
    Scratch(#[from] ScratchError),
    #[error(transparent)]
    Repository(#[from] git::OpenError),
    #[error("[case.limits]: {0}")]
    Limits(String),
}

/// Runs `case` against `module` with `settings` (see
/// [`super::CaseFile::settings_for`]).
pub fn run_case(
    sandbox: &Sandbox,
    module: &PolicyModule,
    case: &Case,
    settings: &Arc<Settings>,
) -> Result<CaseOutcome, CaseRunError> {
    let mut scratch = Scratch::new()?;
    scratch.setup(&case.setup)?;
    let updates = scratch.prepare_push(&case.push)?;
    let config = PolicyConfig {
        hook: Some(case.hook),
        fuel: case.limits.fuel,
        memory_mib: case.limits.memory_mib,
        timeout_ms: case.limits.timeout_ms,
        blob_read_kib: case.limits.blob_read_kib,
        changes_max: case.limits.changes_max,
        ..PolicyConfig::default()
    };
    config.check_limits().map_err(CaseRunError::Limits)?;
    let limits = config.limits();

    // The runs git would make: one for the push, or one per ref in update
    // (with the refs accepted so far already moved, as git does).
    let batches: Vec<Vec<_>> = match case.hook {
        HookKind::Update => updates.iter().map(|u| vec![u.clone()]).collect(),
        _ => vec![updates.clone()],
    };
    if case.hook == HookKind::PostReceive {
        updates.iter().try_for_each(|u| scratch.apply(u))?;
    }
    let started = Instant::now();
    let (mut fuel, mut vetoes, mut failures, mut output, mut accepted) = (0, Vec::new(), Vec::new(), Vec::new(), true);
    let (mut warnings, mut events) = (Vec::new(), Vec::new());
    for batch in batches {
        let dirs = git::object_dirs(scratch.git_dir(), |_| None);
        let when = if case.hook == HookKind::PostReceive { git::When::After } else { git::When::Before };
        let repo = Repo::open(scratch.git_dir(), &dirs, when, &batch)?;
        let push = Push {
            hook: case.hook,
            git_dir: scratch.git_dir().to_owned(),
            updates: batch.clone(),
            push_options: case.push_options.clone(),
            pusher: case.pusher.clone(),
            context: case.context.clone(),
            transaction: None,
        };
        let run = super::run_policy(sandbox, module, &push, &repo, limits, settings);
        fuel += run.fuel_used;
        output.extend(run.output);
        warnings.extend(run.warnings.into_iter().map(|w| w.summary));
        events.extend(run.events);
        match run.outcome {
            Ok(Verdict::Accept) => {
                if case.hook == HookKind::Update {
                    scratch.apply(&batch[0])?;
                }
            }
            Ok(Verdict::Reject(list)) => {
                accepted = false;
                vetoes.extend(list.into_iter().map(|v| SeenVeto {
                    commit: v.commit.as_deref().and_then(|id| subject(&repo, id)).or(v.commit),
                    ref_name: v.ref_name,
                    summary: v.summary,
                }));
            }
            Err(failure) => {
                accepted = false;
                failures.push(failure);
            }
        }
    }
    let elapsed = started.elapsed();

    let observed = Observed { accepted, vetoes, failures, output, warnings, events, fuel };
    let rows = compare(&case.expect, &observed);
    let passed = rows.iter().all(|r| r.ok);
    Ok(CaseOutcome { name: case.name.clone(), passed, elapsed, fuel, rows })
}

/// What the policy did in a case.
struct Observed {
    accepted: bool,
    vetoes: Vec<SeenVeto>,
    failures: Vec<crate::Failure>,
    output: Vec<String>,
    /// The summaries of the policy's warnings.
    warnings: Vec<String>,
    /// What an observer emitted.
    events: Vec<Emitted>,
    fuel: u64,
}

/// The expectation point by point beside what was seen.
fn compare(expect: &Expect, seen: &Observed) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut row = |expected: String, actual: String, ok: bool| rows.push(Row { expected, actual, ok });

    // The verdict.
    let verdict_line = |accepted: bool, vetoes: usize, failure: Option<&str>| match (accepted, failure) {
        (true, _) => "accept".to_owned(),
        (false, Some(cause)) => format!("failure: {cause}"),
        (false, None) => format!("reject: {vetoes} veto{}", if vetoes == 1 { "" } else { "es" }),
    };
    let want = verdict_line(expect.accept, expect.vetoes.len(), expect.failure.as_deref());
    let got = verdict_line(seen.accepted, seen.vetoes.len(), seen.failures.first().map(|f| f.cause()));
    let same = want == got;
    row(want, got, same);
    for failure in &seen.failures {
        row(String::new(), format!("  {failure}"), expect.failure.is_some());
        // A Python traceback or a JavaScript stack is how the author finds
        // the bug: show it as the pusher would see it.
        if let crate::Failure::Trap { printed: Some(printed), .. } = failure {
            for line in printed.lines() {
                row(String::new(), format!("  | {line}"), expect.failure.is_some());
            }
        }
        if let crate::Failure::Settings(problems) = failure {
            for problem in problems {
                row(String::new(), format!("  {problem}"), expect.failure.is_some());
            }
        }
    }

    // Each expected veto against a distinct actual one.
    let mut unmatched: Vec<&SeenVeto> = seen.vetoes.iter().collect();
    for want in &expect.vetoes {
        match unmatched.iter().position(|veto| matches(want, veto)) {
            Some(i) => row(describe_expected(want), describe_seen(unmatched.remove(i)), true),
            None => row(describe_expected(want), "  (no such veto)".to_owned(), false),
        }
    }
    for extra in unmatched {
        row(String::new(), describe_seen(extra), false);
    }

    for line in &expect.output {
        match seen.output.iter().find(|o| o.contains(line.as_str())) {
            Some(found) => row(format!("  output: {line}"), format!("  output: {found}"), true),
            None => row(format!("  output: {line}"), "  (no such output)".to_owned(), false),
        }
    }

    for warning in &expect.warnings {
        match seen.warnings.iter().find(|w| w.contains(warning.as_str())) {
            Some(found) => row(format!("  warning: {warning}"), format!("  warning: {found}"), true),
            None => row(format!("  warning: {warning}"), "  (no such warning)".to_owned(), false),
        }
    }

    // Each expected event against a distinct emitted one; with a list,
    // every event must be expected.
    if let Some(expected) = &expect.events {
        let mut unmatched: Vec<&Emitted> = seen.events.iter().collect();
        for want in expected {
            let found = unmatched.iter().position(|event| event_matches(want, event)).map(|i| unmatched.remove(i));
            let described = found.map_or_else(|| "  (no such event)".to_owned(), describe_event);
            row(format!("  event {}", want.name), described, found.is_some());
        }
        for extra in unmatched {
            row(String::new(), describe_event(extra), false);
        }
    }

    if let Some(max) = expect.max_fuel {
        row(format!("fuel at most {max}"), format!("fuel {}", seen.fuel), seen.fuel <= max);
    }
    rows
}

fn event_matches(want: &ExpectEvent, seen: &Emitted) -> bool {
    want.name == seen.name
        && want.ref_name.as_deref().is_none_or(|name| Some(full_ref(name)).as_deref() == seen.ref_name.as_deref())
        && want.payload.as_ref().is_none_or(|payload| {
            serde_json::to_value(payload).is_ok_and(|payload| json_subset(&payload, &seen.payload))
        })
}

/// Whether `actual` holds `wanted`: the same value, or for objects, at
/// least `wanted`'s keys with values that hold theirs.
fn json_subset(wanted: &serde_json::Value, actual: &serde_json::Value) -> bool {
    match (wanted, actual) {
        (serde_json::Value::Object(wanted), serde_json::Value::Object(actual)) => {
            wanted.iter().all(|(key, value)| actual.get(key).is_some_and(|a| json_subset(value, a)))
        }
        _ => wanted == actual,
    }
}

fn describe_event(event: &Emitted) -> String {
    let tied = event.ref_name.as_deref().map(|r| format!(" on {r}")).unwrap_or_default();
    format!("  event {}{tied}: {}", event.name, event.payload)
}

fn subject(repo: &Repo, id: &str) -> Option<String> {
    let id = gix::ObjectId::from_hex(id.as_bytes()).ok()?;
    Some(repo.commit(id).ok()?.subject().to_owned())
}

fn matches(want: &ExpectVeto, seen: &SeenVeto) -> bool {
    // `CaseFile::load` checked that the pattern compiles.
    let regex_ok = |pattern: &str| regex::Regex::new(pattern).is_ok_and(|r| r.is_match(&seen.summary));
    want.summary.as_deref().is_none_or(|text| seen.summary.contains(text))
        && want.summary_regex.as_deref().is_none_or(regex_ok)
        && want.ref_name.as_deref().is_none_or(|name| full_ref(name) == seen.ref_name)
        && want.commit.as_deref().is_none_or(|subject| seen.commit.as_deref() == Some(subject))
}

fn describe_expected(want: &ExpectVeto) -> String {
    let mut text = format!("  veto {}", want.ref_name.as_deref().map(full_ref).unwrap_or_else(|| "(any ref)".into()));
    if let Some(commit) = &want.commit {
        text.push_str(&format!(" at {commit:?}"));
    }
    match (&want.summary, &want.summary_regex) {
        (Some(s), _) => text.push_str(&format!(": …{s}…")),
        (None, Some(r)) => text.push_str(&format!(": /{r}/")),
        (None, None) => {}
    }
    text
}

fn describe_seen(seen: &SeenVeto) -> String {
    let mut text = format!("  veto {}", seen.ref_name);
    if let Some(commit) = &seen.commit {
        text.push_str(&format!(" at {commit:?}"));
    }
    text.push_str(&format!(": {}", seen.summary));
    text
}
