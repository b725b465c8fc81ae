//! `hookrt audit report --html`: one self-contained page (inline CSS and
//! SVG, no script, nothing fetched) for the rollout step: per policy, a
//! chart of its decisions by day, what `evaluate` mode caught, and its
//! failures by cause. The page is a minijinja template
//! (`report.html.j2`, escaped as HTML); this file only shapes the data.

use std::collections::BTreeMap;

use serde::Serialize;

use super::query::{Finding, PolicySummary, Summary};
use super::read::RunEntry;
use crate::policy::Mode;

const TEMPLATE: &str = include_str!("report.html.j2");
/// The chart's drawing area, in SVG units.
const CHART_WIDTH: f64 = 640.0;
const CHART_HEIGHT: f64 = 120.0;
const BAR_WIDTH: f64 = 40.0;

/// The error of [`render`]: the template failed (a bug, not bad input).
#[derive(Debug, thiserror::Error)]
#[error("the report could not be rendered: {0}")]
pub struct RenderError(String);

/// One day's stacked bar of a policy's chart.
#[derive(Debug, Serialize)]
struct Bar {
    x: f64,
    width: f64,
    day: String,
    title: String,
    /// Bottom to top: accepted, vetoed, would have vetoed, failed.
    segments: Vec<Segment>,
}

#[derive(Debug, Serialize)]
struct Segment {
    y: f64,
    height: f64,
    class: &'static str,
}

#[derive(Debug, Serialize)]
struct PolicyView<'a> {
    summary: &'a PolicySummary,
    bars: Vec<Bar>,
    first_day: String,
    last_day: String,
    peak: usize,
    findings: Vec<&'a Finding>,
}

/// The outcomes of one policy on one day.
#[derive(Debug, Default, Clone, Copy)]
struct Day {
    accepted: usize,
    vetoed: usize,
    would_have_vetoed: usize,
    failed: usize,
}

impl Day {
    fn total(self) -> usize {
        self.accepted + self.vetoed + self.would_have_vetoed + self.failed
    }
}

/// Each policy's outcomes by day (UTC), added up one run at a time: what
/// the charts draw.
#[derive(Debug, Default)]
pub struct Days(BTreeMap<String, BTreeMap<jiff::civil::Date, Day>>);

impl Days {
    pub fn add(&mut self, run: &RunEntry) {
        let date = run.time.to_zoned(jiff::tz::TimeZone::UTC).date();
        for policy in &run.policies {
            let day = self.0.entry(policy.name.clone()).or_default().entry(date).or_default();
            match (policy.verdict.as_str(), policy.mode) {
                ("accept", _) => day.accepted += 1,
                ("reject", Mode::Evaluate) => day.would_have_vetoed += 1,
                ("reject", _) => day.vetoed += 1,
                ("failed", _) => day.failed += 1,
                _ => {}
            }
        }
    }
}

/// The page for the runs `days` and `summary` add up; `title` names what
/// was read.
pub fn render(days: Days, summary: &Summary, title: &str, generated: &str) -> Result<String, RenderError> {
    let mut days = days.0;
    let policies: Vec<PolicyView> = summary
        .policies
        .iter()
        .map(|policy| {
            let days = days.remove(policy.name.as_str()).unwrap_or_default();
            let (first, last) = match (days.keys().next(), days.keys().next_back()) {
                (Some(first), Some(last)) => (*first, *last),
                _ => (jiff::civil::Date::default(), jiff::civil::Date::default()),
            };
            let peak = days.values().map(|d| d.total()).max().unwrap_or(0);
            PolicyView {
                summary: policy,
                bars: bars(&days, first, last, peak),
                first_day: first.to_string(),
                last_day: last.to_string(),
                peak,
                findings: summary.findings.iter().filter(|f| f.policy == policy.name).collect(),
            }
        })
        .collect();
    let mut env = minijinja::Environment::new();
    // `.j2` is not a name minijinja escapes by: say it is HTML.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template("report.html", TEMPLATE).map_err(|e| RenderError(e.to_string()))?;
    let context = minijinja::context! {
        title,
        generated,
        summary => minijinja::Value::from(minijinja::value::Serde(summary)),
        policies => minijinja::Value::from(minijinja::value::Serde(&policies)),
        chart_width => CHART_WIDTH,
        chart_height => CHART_HEIGHT,
    };
    env.get_template("report.html").and_then(|t| t.render(context)).map_err(|e| RenderError(format!("{e:#}")))
}

/// One bar per day from `first` to `last` (days without runs are gaps),
/// scaled so that the busiest day fills the height.
fn bars(
    days: &BTreeMap<jiff::civil::Date, Day>,
    first: jiff::civil::Date,
    last: jiff::civil::Date,
    peak: usize,
) -> Vec<Bar> {
    let count = (first.until(last).map_or(0, |span| span.get_days()) + 1).max(1) as usize;
    let slot = CHART_WIDTH / count as f64;
    let scale = if peak == 0 { 0.0 } else { CHART_HEIGHT / peak as f64 };
    let mut bars = Vec::new();
    let mut date = first;
    for index in 0..count {
        if let Some(day) = days.get(&date) {
            let mut y = CHART_HEIGHT;
            let mut segments = Vec::new();
            for (n, class) in [
                (day.accepted, "accepted"),
                (day.vetoed, "vetoed"),
                (day.would_have_vetoed, "would"),
                (day.failed, "failed"),
            ] {
                if n == 0 {
                    continue;
                }
                let height = n as f64 * scale;
                y -= height;
                segments.push(Segment { y, height, class });
            }
            // A bar is at most BAR_WIDTH wide, centred in its day's slot,
            // so that a few days do not draw as a few walls.
            let width = (slot * 0.8).min(BAR_WIDTH);
            bars.push(Bar {
                x: index as f64 * slot + (slot - width) / 2.0,
                width,
                day: date.to_string(),
                title: format!(
                    "{date}: {} accepted, {} vetoed, {} would have been vetoed, {} failed",
                    day.accepted, day.vetoed, day.would_have_vetoed, day.failed
                ),
                segments,
            });
        }
        date = date.tomorrow().unwrap_or(date);
    }
    bars
}
