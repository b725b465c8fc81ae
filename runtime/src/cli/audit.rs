//! `hookrt audit`: the audit log's questions answered (what did evaluate
//! mode catch, which policy rejects most, what fails), as a table, JSON,
//! an HTML page or Prometheus metrics (docs/admin.md, "Rolling a policy
//! out").

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use hookrt::audit::query::{Filter, Tally, parse_time};
use hookrt::audit::read::{self, RunEntry};
use hookrt::audit::{AuditLog, html, metrics::Metrics};
use hookrt::policy::{Mode, PolicySet, RefFilter};

use super::dirs::RepoDirs;

/// Summarize the audit log per policy: runs, vetoes, what evaluate mode
/// would have vetoed, failures by cause, p50/p95 time and fuel; or, with a
/// subcommand, write an HTML report or Prometheus metrics. Reads the
/// repository's log (through its hookrt.toml), or the files and directories
/// given (a directory is searched for every audit.log under it), rotated
/// files included. A damaged line is reported and skipped.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: Option<AuditCommand>,
    #[command(flatten)]
    query: QueryArgs,
    /// table, or json (every figure, and every evaluate-mode finding).
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Write one self-contained HTML page: a chart per policy of its
    /// decisions by day, what evaluate mode caught, failures by cause.
    Report(ReportArgs),
    /// Write Prometheus text metrics (counters by policy, mode, verdict and
    /// cause; time and fuel histograms), for node_exporter's textfile
    /// collector.
    Metrics(MetricsArgs),
}

#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// Where to write the page.
    #[arg(long, value_name = "FILE")]
    html: PathBuf,
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, clap::Args)]
struct MetricsArgs {
    /// Where to write them (replaced atomically, as the textfile collector
    /// wants) [default: standard output].
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    query: QueryArgs,
}

/// Which records, from where.
#[derive(Debug, clap::Args)]
struct QueryArgs {
    /// Log files, or directories to search for audit.log files [default:
    /// the repository's log].
    paths: Vec<PathBuf>,
    #[command(flatten)]
    dirs: RepoDirs,
    /// Only this policy (repeatable).
    #[arg(long, value_name = "NAME")]
    policy: Vec<String>,
    /// Only policy runs with this verdict (repeatable).
    #[arg(long, value_parser = ["accept", "reject", "failed", "skipped"])]
    verdict: Vec<String>,
    /// Only policy runs in this mode.
    #[arg(long, value_parser = ["enforce", "evaluate", "disabled"])]
    mode: Option<String>,
    /// Only pushes by this login (repeatable).
    #[arg(long, value_name = "LOGIN")]
    pusher: Vec<String>,
    /// Only pushes that update a ref matching this glob (git's wildmatch:
    /// refs/heads/**; repeatable).
    #[arg(long = "ref", value_name = "GLOB")]
    refs: Vec<String>,
    /// From this time on: 2026-12-01T09:00:00Z, a date, or an age (7d, 12h).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Before this time (same forms).
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
}

impl QueryArgs {
    /// Hands each run the query keeps to `each`; a title saying where they
    /// came from.
    fn read(self, mut each: impl FnMut(RunEntry)) -> anyhow::Result<String> {
        let now = jiff::Timestamp::now();
        let time = |text: Option<String>| text.map(|t| parse_time(&t, now).map_err(anyhow::Error::msg)).transpose();
        let filter = Filter {
            policies: self.policy,
            verdicts: self.verdict,
            mode: self.mode.as_deref().map(|m| match m {
                "evaluate" => Mode::Evaluate,
                "disabled" => Mode::Disabled,
                _ => Mode::Enforce,
            }),
            pushers: self.pusher,
            refs: (!self.refs.is_empty())
                .then(|| RefFilter::new(self.refs, Vec::new()))
                .transpose()
                .map_err(anyhow::Error::msg)?,
            since: time(self.since)?,
            until: time(self.until)?,
        };
        let paths = if self.paths.is_empty() {
            let git_dir = self.dirs.git_dir()?;
            let set = PolicySet::load(&self.dirs.scopes(&git_dir))
                .with_context(|| format!("cannot find {}'s audit log", git_dir.display()))?;
            let log = AuditLog::for_repository(&git_dir, &set.audit).with_context(|| {
                format!("the audit log of {} is switched off ([audit] enabled = false)", git_dir.display())
            })?;
            vec![log.path]
        } else {
            self.paths
        };
        let title = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        let files = read::log_files(&paths)?;
        let total: u64 = files.iter().filter_map(|f| f.metadata().ok()).map(|m| m.len()).sum();
        // Drawn only on a terminal (indicatif hides itself otherwise), and
        // only for logs big enough to take a moment.
        let bar = if total > 8 << 20 { indicatif::ProgressBar::new(total) } else { indicatif::ProgressBar::hidden() };
        bar.set_style(
            indicatif::ProgressStyle::with_template("reading audit logs {bar:30} {binary_bytes}/{binary_total_bytes}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        read::read_runs(
            &files,
            |damaged| bar.suspend(|| eprintln!("hookrt: {damaged}")),
            |read| bar.set_position(read),
            |run| {
                if let Some(run) = filter.keep(run) {
                    each(run);
                }
            },
        )?;
        bar.finish_and_clear();
        Ok(title)
    }
}

impl AuditArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self.command {
            Some(AuditCommand::Report(args)) => {
                let (mut tally, mut days) = (Tally::default(), html::Days::default());
                let title = args.query.read(|run| {
                    tally.add(&run);
                    days.add(&run);
                })?;
                let summary = tally.finish();
                let page = html::render(days, &summary, &title, &jiff::Timestamp::now().to_string())?;
                std::fs::write(&args.html, page).with_context(|| format!("cannot write {}", args.html.display()))?;
                outln!(
                    "wrote {} ({} hook runs, {} policies)",
                    args.html.display(),
                    summary.runs,
                    summary.policies.len()
                );
            }
            Some(AuditCommand::Metrics(args)) => {
                let mut metrics = Metrics::default();
                args.query.read(|run| metrics.add(&run))?;
                let text = metrics.render();
                match &args.output {
                    None => out!("{text}"),
                    Some(path) => write_atomically(path, text.as_bytes())?,
                }
            }
            None => {
                let mut tally = Tally::default();
                self.query.read(|run| tally.add(&run))?;
                let summary = tally.finish();
                if self.format == "json" {
                    outln!("{}", serde_json::to_string_pretty(&summary)?);
                } else {
                    table(&summary);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Writes `path` through a temporary file beside it, so that a reader (the
/// textfile collector) never sees half of it.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let mut file =
        tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    file.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// How many evaluate-mode findings the table lists; JSON has them all.
const FINDINGS_SHOWN: usize = 20;

fn table(summary: &hookrt::audit::query::Summary) {
    let header = [
        "policy",
        "runs",
        "accepted",
        "vetoed",
        "would-veto",
        "failed",
        "skipped",
        "p50 ms",
        "p95 ms",
        "p50 fuel",
        "p95 fuel",
    ];
    let mut rows = vec![header.map(str::to_owned).to_vec()];
    for p in &summary.policies {
        rows.push(vec![
            p.name.clone(),
            p.runs.to_string(),
            p.accepted.to_string(),
            p.vetoed.to_string(),
            p.would_have_vetoed.to_string(),
            p.failed.to_string(),
            p.skipped.to_string(),
            format!("{:.1}", p.duration_ms.p50),
            format!("{:.1}", p.duration_ms.p95),
            p.fuel.p50.to_string(),
            p.fuel.p95.to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..header.len()).map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0)).collect();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, width))| if i == 0 { format!("{cell:<width$}") } else { format!("{cell:>width$}") })
            .collect();
        outln!("{}", cells.join("  ").trim_end());
    }
    let errors = if summary.configuration_errors == 0 {
        String::new()
    } else {
        format!(", {} stopped by a broken configuration", summary.configuration_errors)
    };
    outln!("{} hook runs{errors}", summary.runs);
    for p in summary.policies.iter().filter(|p| !p.failures.is_empty()) {
        let causes: Vec<String> = p.failures.iter().map(|(cause, n)| format!("{cause} {n}")).collect();
        outln!("failures of {}: {}", p.name, causes.join(", "));
    }
    if summary.findings.is_empty() {
        return;
    }
    outln!("\nfound in evaluate mode (what enforcing would have rejected):");
    for f in summary.findings.iter().take(FINDINGS_SHOWN) {
        let commit = f.commit.as_deref().map_or(String::new(), |c| format!(" {}", c.get(..12).unwrap_or(c)));
        let pusher = f.pusher.as_deref().map_or(String::new(), |p| format!(" by {p}"));
        outln!("  {} {}: {} {}{commit}{pusher}: {}", f.time, f.policy, f.repository, f.ref_name, f.summary);
    }
    if summary.findings.len() > FINDINGS_SHOWN {
        outln!("  … and {} more (--format json lists them all)", summary.findings.len() - FINDINGS_SHOWN);
    }
}
