//! The audit log: one JSON line per hook run (and per webhook delivery
//! step, see `crate::webhook`), appended to
//! `<GIT_DIR>/hookrt/audit.log` unless `[audit]` says otherwise, rotated by
//! size.
//!
//! Writing it never blocks or fails a push: each record is one `write` to a
//! file opened for appending (so concurrent hook runs do not interleave
//! records), a path that is not a regular file is refused rather than
//! opened (a FIFO would block), and any error is handed back for the pusher
//! to see once, while the push goes on. Rotation is done by whichever run
//! gets the file's lock without waiting; the others skip it.
//!
//! Reading it back is [`read`]; [`query`] filters and sums it up per
//! policy, for `hookrt audit`'s table and JSON, the [`html`] report and
//! the [`metrics`].

pub mod html;
pub mod metrics;
pub mod query;
pub mod read;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::policy::{AuditConfig, Mode, PolicySet, Scope};
use crate::push::{HookKind, Push};
use crate::report::{Report, Status};
use crate::verdict::Skip;
use crate::verdict::Verdict;

/// Where records go and when the file rotates.
#[derive(Debug, Clone)]
pub struct AuditLog {
    pub path: PathBuf,
    pub max_bytes: u64,
    pub keep: u32,
}

/// The error an append ends with; the push goes on regardless.
#[derive(Debug, thiserror::Error)]
#[error("the audit log {} could not be written: {message}", path.display())]
pub struct AuditError {
    pub path: PathBuf,
    pub message: String,
}

impl AuditLog {
    /// The log `config` describes for the repository at `git_dir`; `None`
    /// when it is switched off.
    pub fn for_repository(git_dir: &Path, config: &AuditConfig) -> Option<Self> {
        config.enabled.then(|| AuditLog {
            path: config.path.clone().unwrap_or_else(|| git_dir.join("hookrt").join("audit.log")),
            max_bytes: config.max_bytes,
            keep: config.keep,
        })
    }

    /// Appends one record (a [`Record`], or a webhook delivery's
    /// `crate::webhook::DeliveryRecord`), then rotates if the file has grown
    /// past its size.
    pub fn append(&self, record: &impl Serialize) -> Result<(), AuditError> {
        let error = |message: String| AuditError { path: self.path.clone(), message };
        let mut line = serde_json::to_vec(record).map_err(|e| error(e.to_string()))?;
        line.push(b'\n');
        if let Ok(meta) = self.path.symlink_metadata()
            && !meta.is_file()
        {
            return Err(error("it is not a regular file".into()));
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| error(e.to_string()))?;
        }
        let mut file =
            OpenOptions::new().append(true).create(true).open(&self.path).map_err(|e| error(e.to_string()))?;
        file.write_all(&line).map_err(|e| error(e.to_string()))?;
        if file.metadata().is_ok_and(|m| m.len() > self.max_bytes) {
            self.rotate(&file).map_err(|e| error(format!("rotating it failed: {e}")))?;
        }
        Ok(())
    }

    /// `audit.log` → `audit.log.1` → … → `audit.log.<keep>` (dropped). Only
    /// the run holding the lock rotates; the size is checked again under it,
    /// since another run may have rotated in between.
    fn rotate(&self, file: &File) -> std::io::Result<()> {
        if file.try_lock().is_err() {
            return Ok(());
        }
        if self.path.metadata().is_ok_and(|m| m.len() <= self.max_bytes) {
            return Ok(());
        }
        let numbered = |n: u32| PathBuf::from(format!("{}.{n}", self.path.display()));
        if self.keep == 0 {
            return std::fs::remove_file(&self.path);
        }
        for n in (1..self.keep).rev() {
            match std::fs::rename(numbered(n), numbered(n + 1)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        std::fs::rename(&self.path, numbered(1))
    }
}

/// One line of the log.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    /// RFC 3339, UTC.
    pub time: String,
    pub repository: &'a Path,
    pub hook: HookKind,
    pub pusher: Option<&'a crate::Pusher>,
    pub ref_updates: Vec<RefRecord<'a>>,
    /// `accepted`, `rejected`, or `error` (nothing could run).
    pub decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_ms: Option<u64>,
    pub duration_ms: f64,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub notices: &'a [String],
    pub policies: Vec<PolicyRecord<'a>>,
}

#[derive(Debug, Serialize)]
pub struct RefRecord<'a> {
    #[serde(rename = "ref")]
    pub name: &'a str,
    pub old: String,
    pub new: String,
}

/// One policy's part: what it decided, in which mode, at what cost.
#[derive(Debug, Serialize)]
pub struct PolicyRecord<'a> {
    pub name: &'a str,
    pub scope: Option<Scope>,
    pub mode: Mode,
    /// `accept`, `reject`, `failed` or `skipped`.
    pub verdict: &'static str,
    /// Whether this verdict stopped the push.
    pub blocking: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vetoes: Vec<VetoRecord<'a>>,
    /// Vetoes past hookrt's cap (the first 100 are kept), counted only.
    #[serde(skip_serializing_if = "is_zero")]
    pub vetoes_not_shown: usize,
    /// The failure's cause (`fuel`, `memory`, `deadline`, `budget`,
    /// `settings`, …) and text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Why it did not run: `disabled`, `no-matching-refs` or `bypass`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<&'static str>,
    /// The exempt pusher, for `bypass`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bypassed: Option<&'a str>,
    pub fuel: u64,
    pub duration_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct VetoRecord<'a> {
    #[serde(rename = "ref")]
    pub ref_name: &'a str,
    pub commit: Option<&'a str>,
    pub summary: &'a str,
}

impl<'a> Record<'a> {
    fn new(push: &'a Push, decision: &'static str, duration: Duration) -> Self {
        Record {
            time: jiff::Timestamp::now().to_string(),
            repository: &push.git_dir,
            hook: push.hook,
            pusher: push.pusher.as_ref(),
            ref_updates: push
                .updates
                .iter()
                .map(|u| RefRecord { name: &u.name, old: u.old.to_string(), new: u.new.to_string() })
                .collect(),
            decision,
            error: None,
            budget_ms: None,
            duration_ms: millis(duration),
            notices: &[],
            policies: Vec::new(),
        }
    }

    /// A hook run that produced a report.
    pub fn decision(push: &'a Push, set: &'a PolicySet, report: &'a Report, duration: Duration) -> Self {
        let decision = if report.accepted() { "accepted" } else { "rejected" };
        let mut record = Record::new(push, decision, duration);
        record.budget_ms = Some(set.budget.as_millis() as u64);
        record.notices = &report.notices;
        record.policies = report.entries.iter().map(PolicyRecord::of).collect();
        record
    }

    /// A hook run that could not run any policy (a broken configuration).
    pub fn error(push: &'a Push, error: &'a str) -> Self {
        let decision = if push.hook.can_reject() { "rejected" } else { "error" };
        let mut record = Record::new(push, decision, Duration::ZERO);
        record.error = Some(error);
        record
    }
}

impl<'a> PolicyRecord<'a> {
    fn of(entry: &'a crate::report::PolicyEntry) -> Self {
        let mut record = PolicyRecord {
            name: &entry.name,
            scope: entry.scope,
            mode: entry.mode,
            verdict: "skipped",
            blocking: entry.blocks(),
            vetoes: Vec::new(),
            vetoes_not_shown: 0,
            cause: None,
            failure: None,
            skipped: None,
            bypassed: None,
            fuel: 0,
            duration_ms: 0.0,
        };
        match &entry.status {
            Status::Skipped(skip) => {
                record.skipped = Some(match skip {
                    Skip::Disabled => "disabled",
                    Skip::NoMatchingRefs => "no-matching-refs",
                    Skip::Bypassed(_) => "bypass",
                });
                if let Skip::Bypassed(pusher) = skip {
                    record.bypassed = Some(pusher);
                }
            }
            Status::Ran(run) => {
                record.fuel = run.fuel_used;
                record.duration_ms = millis(run.elapsed);
                match &run.outcome {
                    Ok(Verdict::Accept) => record.verdict = "accept",
                    Ok(Verdict::Reject(vetoes)) => {
                        record.verdict = "reject";
                        record.vetoes_not_shown = run.vetoes_dropped;
                        record.vetoes = vetoes
                            .iter()
                            .map(|v| VetoRecord {
                                ref_name: &v.ref_name,
                                commit: v.commit.as_deref(),
                                summary: &v.summary,
                            })
                            .collect();
                    }
                    Err(failure) => {
                        record.verdict = "failed";
                        record.cause = Some(failure.cause());
                        record.failure = Some(failure.to_string());
                    }
                }
            }
        }
        record
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::RefUpdate;

    #[test]
    fn appends_one_line_per_record_and_rotates_by_size() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = AuditLog { path: dir.path().join("logs").join("audit.log"), max_bytes: 600, keep: 2 };
        let push = Push {
            hook: HookKind::PreReceive,
            git_dir: dir.path().to_owned(),
            updates: vec![RefUpdate {
                name: "refs/heads/main".into(),
                old: gix::ObjectId::null(gix::hash::Kind::Sha1),
                new: gix::ObjectId::null(gix::hash::Kind::Sha1),
            }],
            push_options: Vec::new(),
            pusher: None,
            context: Default::default(),
            transaction: None,
        };
        for _ in 0..12 {
            log.append(&Record::error(&push, "a broken configuration")).expect("append");
        }
        let lines = |path: &Path| std::fs::read_to_string(path).map(|t| t.lines().count()).unwrap_or(0);
        let numbered = |n| PathBuf::from(format!("{}.{n}", log.path.display()));
        assert!(numbered(1).is_file() && numbered(2).is_file(), "rotated twice at least");
        assert!(!numbered(3).exists(), "only `keep` old files");
        for path in [log.path.clone(), numbered(1), numbered(2)] {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for line in text.lines() {
                let record: serde_json::Value = serde_json::from_str(line).expect("JSON");
                assert_eq!(record["error"], "a broken configuration");
            }
        }
        assert!(lines(&log.path) <= 12);
    }
}
