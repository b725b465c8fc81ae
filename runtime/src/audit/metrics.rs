//! The log's decisions as Prometheus text (exposition format 0.0.4), for
//! node_exporter's textfile collector: no daemon, a cron job or timer
//! writes the file. Names follow Prometheus's conventions (`_total` for
//! counters, base units, `hookrt_` prefix), and every series of a metric
//! carries the same labels.
//!
//! The figures are those of the log files read: when a rotated file is
//! dropped the counters go down, which Prometheus treats as a counter
//! reset (rate() and increase() stay right).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::read::RunEntry;

/// Upper bounds of the time histogram, in seconds: a policy's run is
/// milliseconds; the default timeout is 5 s.
const SECONDS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];
/// Upper bounds of the fuel histogram: a Rust policy spends thousands per
/// commit, an interpreted one millions; the default limit is 5e9.
const FUEL: [f64; 8] = [1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 5e9, 1e10];

#[derive(Default)]
struct Histogram {
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], value: f64) {
        self.buckets.resize(bounds.len(), 0);
        for (bucket, bound) in self.buckets.iter_mut().zip(bounds) {
            if value <= *bound {
                *bucket += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str, bounds: &[f64]) {
        for (bucket, bound) in self.buckets.iter().zip(bounds) {
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {bucket}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

/// A label value, escaped as the text format asks (`\`, `"`, newline).
fn label(value: &str) -> String {
    value.replace('\\', r"\\").replace('"', "\\\"").replace('\n', r"\n")
}

/// The figures of the runs added, by (policy, mode, verdict); failures by
/// (policy, cause); time and fuel by policy, over the runs that ran.
#[derive(Default)]
pub struct Metrics {
    decisions: BTreeMap<String, u64>,
    evaluations: BTreeMap<(String, String, String), u64>,
    failures: BTreeMap<(String, String), u64>,
    seconds: BTreeMap<String, Histogram>,
    fuel: BTreeMap<String, Histogram>,
}

impl Metrics {
    pub fn add(&mut self, run: &RunEntry) {
        *self.decisions.entry(run.decision.clone()).or_default() += 1;
        for policy in &run.policies {
            let mode = policy.mode.as_str().to_owned();
            *self.evaluations.entry((policy.name.clone(), mode, policy.verdict.clone())).or_default() += 1;
            if policy.verdict == "skipped" {
                continue;
            }
            if policy.verdict == "failed" {
                let cause = policy.cause.clone().unwrap_or_else(|| "unknown".into());
                *self.failures.entry((policy.name.clone(), cause)).or_default() += 1;
            }
            self.seconds.entry(policy.name.clone()).or_default().observe(&SECONDS, policy.duration_ms / 1e3);
            self.fuel.entry(policy.name.clone()).or_default().observe(&FUEL, policy.fuel as f64);
        }
    }

    /// The metrics text.
    pub fn render(&self) -> String {
        let Metrics { decisions, evaluations, failures, seconds, fuel } = self;
        let mut out = String::new();
        let family = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
        };
        family(&mut out, "hookrt_hook_runs_total", "counter", "Hook runs in the audit log, by the push's decision.");
        for (decision, n) in decisions {
            let _ = writeln!(out, "hookrt_hook_runs_total{{decision=\"{}\"}} {n}", label(decision));
        }
        family(
            &mut out,
            "hookrt_policy_evaluations_total",
            "counter",
            "Policy runs in the audit log, by policy, mode and verdict (accept, reject, failed, skipped).",
        );
        for ((policy, mode, verdict), n) in evaluations {
            let labels =
                format!("policy=\"{}\",mode=\"{}\",verdict=\"{}\"", label(policy), label(mode), label(verdict));
            let _ = writeln!(out, "hookrt_policy_evaluations_total{{{labels}}} {n}");
        }
        family(&mut out, "hookrt_policy_failures_total", "counter", "Policy runs that failed, by policy and cause.");
        for ((policy, cause), n) in failures {
            let _ = writeln!(
                out,
                "hookrt_policy_failures_total{{policy=\"{}\",cause=\"{}\"}} {n}",
                label(policy),
                label(cause)
            );
        }
        family(&mut out, "hookrt_policy_duration_seconds", "histogram", "Wall-clock time of a policy's run.");
        for (policy, histogram) in seconds {
            histogram.write(
                &mut out,
                "hookrt_policy_duration_seconds",
                &format!("policy=\"{}\"", label(policy)),
                &SECONDS,
            );
        }
        family(
            &mut out,
            "hookrt_policy_fuel",
            "histogram",
            "Wasm fuel a policy's run spent (about one unit per instruction).",
        );
        for (policy, histogram) in fuel {
            histogram.write(&mut out, "hookrt_policy_fuel", &format!("policy=\"{}\"", label(policy)), &FUEL);
        }
        out
    }
}
