//! Which decisions an admin asks about ([`Filter`]) and what they add up
//! to per policy ([`Summary`]): the figures `hookrt audit` prints, the HTML
//! report draws and the metrics count.

use std::collections::BTreeMap;

use serde::Serialize;

use super::read::{PolicyEntry, RunEntry};
use crate::policy::{Mode, RefFilter};

/// What to keep. Every part left empty keeps everything; a run is kept if
/// its time, pusher and refs match, and of a kept run the policies whose
/// name, verdict and mode match.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub policies: Vec<String>,
    /// Policy verdicts: `accept`, `reject`, `failed`, `skipped`.
    pub verdicts: Vec<String>,
    pub mode: Option<Mode>,
    /// Pusher logins.
    pub pushers: Vec<String>,
    /// A run matches if one of its ref updates does.
    pub refs: Option<RefFilter>,
    pub since: Option<jiff::Timestamp>,
    pub until: Option<jiff::Timestamp>,
}

impl Filter {
    fn keeps_run(&self, run: &RunEntry) -> bool {
        self.since.is_none_or(|since| run.time >= since)
            && self.until.is_none_or(|until| run.time < until)
            && (self.pushers.is_empty() || run.pusher.as_ref().is_some_and(|p| self.pushers.contains(&p.name)))
            && self.refs.as_ref().is_none_or(|refs| run.ref_updates.iter().any(|u| refs.matches(&u.name)))
    }

    fn keeps_policy(&self, policy: &PolicyEntry) -> bool {
        (self.policies.is_empty() || self.policies.contains(&policy.name))
            && (self.verdicts.is_empty() || self.verdicts.contains(&policy.verdict))
            && self.mode.is_none_or(|mode| mode == policy.mode)
    }

    /// `run` if it is kept, with only the policies kept; a run left with
    /// none is dropped when policies were filtered on.
    pub fn keep(&self, mut run: RunEntry) -> Option<RunEntry> {
        if !self.keeps_run(&run) {
            return None;
        }
        let by_policy = !self.policies.is_empty() || !self.verdicts.is_empty() || self.mode.is_some();
        run.policies.retain(|p| self.keeps_policy(p));
        (!by_policy || !run.policies.is_empty()).then_some(run)
    }
}

/// One policy's figures over the runs read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PolicySummary {
    pub name: String,
    /// Times it ran (accepted, vetoed or failed; not skipped).
    pub runs: usize,
    pub accepted: usize,
    /// Rejections in `enforce` mode: pushes it stopped.
    pub vetoed: usize,
    /// Rejections in `evaluate` mode: what it would have stopped.
    pub would_have_vetoed: usize,
    pub failed: usize,
    /// Failures by cause (`fuel`, `deadline`, `settings`, …).
    pub failures: BTreeMap<String, usize>,
    pub skipped: usize,
    pub duration_ms: Percentiles<f64>,
    pub fuel: Percentiles<u64>,
}

/// The median and 95th percentile (nearest rank) of what the runs took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles<T> {
    pub p50: T,
    pub p95: T,
}

/// A veto found in `evaluate` mode: what enforcing the policy would have
/// stopped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub time: String,
    pub policy: String,
    pub repository: String,
    pub pusher: Option<String>,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub commit: Option<String>,
    pub summary: String,
}

/// What `hookrt audit` reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Hook runs read (after filtering).
    pub runs: usize,
    /// Runs a broken configuration stopped before any policy ran.
    pub configuration_errors: usize,
    pub policies: Vec<PolicySummary>,
    pub findings: Vec<Finding>,
}

/// Adds runs up into a [`Summary`], one at a time.
#[derive(Debug, Default)]
pub struct Tally {
    runs: usize,
    configuration_errors: usize,
    /// Each policy's figures so far, with the times and fuel of its runs
    /// (for the percentiles).
    policies: BTreeMap<String, (PolicySummary, Vec<f64>, Vec<u64>)>,
    findings: Vec<Finding>,
}

impl Tally {
    pub fn add(&mut self, run: &RunEntry) {
        self.runs += 1;
        self.configuration_errors += usize::from(run.error.is_some());
        for policy in &run.policies {
            let (summary, times, fuel) = self.policies.entry(policy.name.clone()).or_default();
            summary.name.clone_from(&policy.name);
            match policy.verdict.as_str() {
                "skipped" => {
                    summary.skipped += 1;
                    continue;
                }
                "accept" => summary.accepted += 1,
                "reject" if policy.mode == Mode::Evaluate => {
                    summary.would_have_vetoed += 1;
                    // To the second: the log keeps the rest.
                    let time = run.time.round(jiff::Unit::Second).unwrap_or(run.time).to_string();
                    self.findings.extend(policy.vetoes.iter().map(|veto| Finding {
                        time: time.clone(),
                        policy: policy.name.clone(),
                        repository: run.repository.display().to_string(),
                        pusher: run.pusher.as_ref().map(|p| p.name.clone()),
                        ref_name: veto.ref_name.clone(),
                        commit: veto.commit.clone(),
                        summary: veto.summary.clone(),
                    }));
                }
                "reject" => summary.vetoed += 1,
                _ => {
                    summary.failed += 1;
                    let cause = policy.cause.clone().unwrap_or_else(|| "unknown".into());
                    *summary.failures.entry(cause).or_default() += 1;
                }
            }
            summary.runs += 1;
            times.push(policy.duration_ms);
            fuel.push(policy.fuel);
        }
    }

    pub fn finish(self) -> Summary {
        let policies = self
            .policies
            .into_values()
            .map(|(mut summary, mut times, mut fuel)| {
                times.sort_by(f64::total_cmp);
                fuel.sort_unstable();
                summary.duration_ms = Percentiles { p50: rank(&times, 50), p95: rank(&times, 95) };
                summary.fuel = Percentiles { p50: rank(&fuel, 50), p95: rank(&fuel, 95) };
                summary
            })
            .collect();
        Summary { runs: self.runs, configuration_errors: self.configuration_errors, policies, findings: self.findings }
    }
}

/// A time as `--since`/`--until` take it: an RFC 3339 timestamp
/// (`2026-12-01T09:00:00Z`), a date (`2026-12-01`, midnight UTC), or an age
/// back from `now` (`7d`, `12h`, `1w`).
pub fn parse_time(text: &str, now: jiff::Timestamp) -> Result<jiff::Timestamp, String> {
    if let Ok(time) = text.parse::<jiff::Timestamp>() {
        return Ok(time);
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        return date.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).map_err(|e| e.to_string());
    }
    let age: jiff::Span = text.parse().map_err(|_| {
        format!("`{text}` is not a time: write 2026-12-01T09:00:00Z, a date (2026-12-01), or an age (7d, 12h)")
    })?;
    // Days and weeks are 24 hours here: the log's times are UTC.
    let age = age.to_duration(jiff::SpanRelativeTo::days_are_24_hours()).map_err(|e| e.to_string())?;
    now.checked_sub(age).map_err(|e| e.to_string())
}

/// The nearest-rank `p`th percentile of `sorted` (the default when empty).
fn rank<T: Copy + Default>(sorted: &[T], p: usize) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let index = (p * sorted.len()).div_ceil(100).max(1) - 1;
    sorted[index.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u64> = (1..=20).collect();
        assert_eq!((rank(&values, 50), rank(&values, 95)), (10, 19));
        assert_eq!((rank(&[7u64], 50), rank(&[7u64], 95)), (7, 7));
        assert_eq!(rank::<u64>(&[], 95), 0);
    }

    #[test]
    fn times_are_timestamps_dates_or_ages() {
        let now: jiff::Timestamp = "2026-12-04T12:00:00Z".parse().expect("a time");
        let at = |text: &str| parse_time(text, now).map(|t| t.to_string());
        assert_eq!(at("2026-12-01T09:30:00Z").as_deref(), Ok("2026-12-01T09:30:00Z"));
        assert_eq!(at("2026-12-01").as_deref(), Ok("2026-12-01T00:00:00Z"));
        assert_eq!(at("7d").as_deref(), Ok("2026-11-27T12:00:00Z"));
        assert_eq!(at("12h").as_deref(), Ok("2026-12-04T00:00:00Z"));
        assert!(at("last tuesday").is_err_and(|e| e.contains("is not a time")));
    }
}
