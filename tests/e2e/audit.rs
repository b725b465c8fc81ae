//! `hookrt audit` over logs filled by real pushes: the summary and its
//! JSON against what was pushed, filters, a rotated file and a damaged
//! line, the HTML report in a real browser (headless Chromium), and the
//! metrics through a Prometheus text parser.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{Server, documented, example_policy, guests, stderr, stdout};

/// What was pushed, for the assertions to be checked against.
struct Pushed {
    server: Server,
    /// Commits jira-keys (in evaluate mode) found no issue key in, each
    /// with its ref: what evaluate mode caught.
    findings: Vec<(String, &'static str)>,
    log: PathBuf,
}

/// Four pushes into a repository with no-wip enforced, jira-keys in
/// evaluate mode, and a policy that spins on `try/` branches and may fail
/// (`on_failure = "allow"`):
/// 1. ann, `HOOK-1 add the parser` to main: all accept (the spinner is
///    skipped: not its refs);
/// 2. bob, `fix a typo` to main: accepted, jira-keys would have vetoed;
/// 3. ann, `WIP: half a lexer` to main: no-wip vetoes, jira-keys would have;
/// 4. bob, `HOOK-2 try it` to try/lexer: the spinner runs out of fuel.
///
/// Between 2 and 3 the log is rotated by hand (as a size rotation does), and
/// a damaged line is left at the end of the rotated file.
fn pushed() -> Pushed {
    let server = Server::new();
    server.add_policy("no-wip", example_policy("no-wip"));
    server.add_policy("jira-keys", example_policy("jira-keys"));
    server.add_policy("spinner", guests::CONFIGURABLE);
    server.write_config(
        "[policy.jira-keys]\nmode = \"evaluate\"\n[policy.jira-keys.settings]\nprojects = [\"HOOK\"]\n\n\
         [policy.spinner]\nrefs = [\"refs/heads/try/**\"]\non_failure = \"allow\"\nfuel = 1_000_000\n\
         [policy.spinner.settings]\nspin = true\n",
    );
    let as_ = |who: &'static str| [("GL_USERNAME", who), ("GL_ID", who)];
    let log = server.bare.join("hookrt/audit.log");
    let mut findings = Vec::new();

    server.commit("HOOK-1 add the parser");
    server.push_with_env(&["origin", "main"], &as_("ann")).assert_ok();
    let typo = server.commit("fix a typo");
    server.push_with_env(&["origin", "main"], &as_("bob")).assert_ok();
    findings.push((typo, "refs/heads/main"));

    let mut rotated = log.as_os_str().to_owned();
    rotated.push(".1");
    std::fs::rename(&log, &rotated).expect("rotate the log");
    let mut text = std::fs::read_to_string(&rotated).expect("read the rotated log");
    text.push_str("{\"time\": \"2026-12-0\n");
    std::fs::write(&rotated, text).expect("damage the rotated log");

    let wip = server.commit("WIP: half a lexer");
    server.push_with_env(&["origin", "main"], &as_("ann")).assert_rejected();
    findings.push((wip, "refs/heads/main"));
    server.git(&["reset", "--quiet", "--hard", "HEAD~1"]);
    server.git(&["checkout", "--quiet", "-b", "try/lexer"]);
    server.commit("HOOK-2 try it");
    server.push_with_env(&["origin", "try/lexer"], &as_("bob")).assert_ok();
    Pushed { server, findings, log }
}

fn audit(pushed: &Pushed, args: &[&str]) -> Output {
    let out = pushed.server.hookrt(&[&["audit"], args].concat());
    assert!(out.status.success(), "hookrt audit {args:?}: {}{}", stdout(&out), stderr(&out));
    out
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("hookrt audit --format json prints JSON")
}

/// The policy named `name` of a JSON summary.
fn policy<'a>(summary: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    let policies = summary["policies"].as_array().expect("policies");
    policies.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no {name} in {summary}"))
}

#[test]
fn the_summary_counts_what_was_pushed_and_lists_what_evaluate_mode_caught() {
    let pushed = pushed();
    let git_dir = pushed.server.bare.to_str().expect("utf-8");
    documented("docs/admin.md", "hookrt audit --git-dir /srv/git/project.git ");
    // The repository's log (found through its hookrt.toml), the rotated
    // file included; the damaged line is named and skipped.
    let out = audit(&pushed, &["--git-dir", git_dir, "--format", "json"]);
    assert!(stderr(&out).contains("audit.log.1:3: skipped: not a JSON record"), "{}", stderr(&out));
    let summary = json(&out);
    assert_eq!(summary["runs"], 4, "{summary}");

    let no_wip = policy(&summary, "no-wip");
    assert_eq!(
        (no_wip["runs"].as_u64(), no_wip["accepted"].as_u64(), no_wip["vetoed"].as_u64()),
        (Some(4), Some(3), Some(1))
    );
    let jira = policy(&summary, "jira-keys");
    assert_eq!(
        (jira["runs"].as_u64(), jira["accepted"].as_u64(), jira["would_have_vetoed"].as_u64()),
        (Some(4), Some(2), Some(2))
    );
    assert_eq!(jira["vetoed"], 0, "evaluate mode vetoes nothing");
    let spinner = policy(&summary, "spinner");
    assert_eq!((spinner["runs"].as_u64(), spinner["skipped"].as_u64()), (Some(1), Some(3)));
    assert_eq!(spinner["failures"], serde_json::json!({"fuel": 1}));
    // Time and fuel: what the runs spent, as the log has them.
    assert!(spinner["fuel"]["p95"].as_u64().is_some_and(|f| f > 500_000), "{spinner}");
    assert!(no_wip["fuel"]["p50"].as_u64().is_some_and(|f| f > 0) && no_wip["duration_ms"]["p95"].as_f64() > Some(0.0));

    let found: Vec<(String, String)> = summary["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (f["commit"].as_str().unwrap_or("").to_owned(), f["ref"].as_str().unwrap_or("").to_owned()))
        .collect();
    let expected: Vec<(String, String)> = pushed.findings.iter().map(|(c, r)| (c.clone(), (*r).to_owned())).collect();
    assert_eq!(found, expected);
    let pushers: Vec<&str> =
        summary["findings"].as_array().expect("findings").iter().filter_map(|f| f["pusher"].as_str()).collect();
    assert_eq!(pushers, ["bob", "ann"]);

    // The table says the same.
    let out = audit(&pushed, &["--git-dir", git_dir]);
    let table = stdout(&out);
    let row = |name: &str| -> Vec<String> {
        let line = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} row:\n{table}"));
        line.split_whitespace().map(str::to_owned).collect()
    };
    assert_eq!(row("no-wip")[1..7], ["4", "3", "1", "0", "0", "0"], "{table}");
    assert_eq!(row("jira-keys")[1..7], ["4", "2", "0", "2", "0", "0"], "{table}");
    assert!(table.contains("failures of spinner: fuel 1"), "{table}");
    assert!(table.contains(&format!("refs/heads/main {}", &pushed.findings[0].0[..12])), "{table}");
}

#[test]
fn filters_narrow_by_policy_pusher_ref_verdict_and_time() {
    let pushed = pushed();
    let log = pushed.log.to_str().expect("utf-8");
    let runs = |args: &[&str]| json(&audit(&pushed, &[&[log, "--format", "json"], args].concat()));

    documented("docs/admin.md", "hookrt audit /var/log/hookrt/audit.log --policy jira-keys --format json");
    let only_jira = json(&audit(&pushed, &[log, "--policy", "jira-keys", "--format", "json"]));
    let names: Vec<&str> =
        only_jira["policies"].as_array().expect("policies").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["jira-keys"]);
    assert_eq!(runs(&["--pusher", "bob"])["runs"], 2);
    assert_eq!(runs(&["--ref", "refs/heads/try/**"])["runs"], 1);
    let vetoes = runs(&["--verdict", "reject", "--mode", "enforce"]);
    assert_eq!((vetoes["runs"].as_u64(), policy(&vetoes, "no-wip")["vetoed"].as_u64()), (Some(1), Some(1)));
    assert_eq!(runs(&["--since", "2999-01-01"])["runs"], 0);
    assert_eq!(runs(&["--until", "2999-01-01", "--since", "1d"])["runs"], 4);
    // A directory is searched for every audit.log under it.
    documented("docs/admin.md", "hookrt audit /srv/git --since 7d ");
    let root = pushed.server.root().to_str().expect("utf-8");
    assert_eq!(json(&audit(&pushed, &[root, "--since", "7d", "--format", "json"]))["runs"], 4);
}

/// Headless Chromium, as Debian's `chromium` package installs it.
fn chromium() -> Command {
    let path = Path::new("/usr/bin/chromium");
    assert!(path.exists(), "{} is missing: `just setup-browser` installs it", path.display());
    let mut cmd = Command::new(path);
    // Root in a container has no user namespace for Chromium's sandbox.
    cmd.args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"]);
    cmd
}

#[test]
fn the_html_report_renders_in_a_browser_with_the_findings() {
    let pushed = pushed();
    let page = pushed.server.root().join("report.html");
    let page_arg = page.to_str().expect("utf-8");
    documented("docs/admin.md", "hookrt audit report --html report.html /srv/git --since 7d");
    let root = pushed.server.root().to_str().expect("utf-8");
    let out = audit(&pushed, &["report", "--html", page_arg, root, "--since", "7d"]);
    assert!(stdout(&out).contains("(4 hook runs, 3 policies)"), "{}", stdout(&out));
    let html = std::fs::read_to_string(&page).expect("read the page");
    // Self-contained: nothing to fetch.
    for outside in ["http://", "https://", "src=", "<link", "<script"] {
        assert!(!html.contains(outside), "the page refers to something outside it ({outside})");
    }

    let url = format!("file://{page_arg}");
    let dom = chromium().args(["--dump-dom", &url]).output().expect("run chromium");
    let dom = stdout(&dom);
    for text in
        ["hookrt audit report", "no-wip", "jira-keys", "spinner", "Found in evaluate mode", "Failures by cause", "fuel"]
    {
        assert!(dom.contains(text), "the rendered page lacks {text:?}:\n{dom}");
    }
    for (commit, _) in &pushed.findings {
        assert!(dom.contains(&commit[..12]), "the finding {commit} is not listed");
    }
    assert!(dom.matches("<rect").count() >= 3, "a chart per policy");

    let shot = pushed.server.root().join("report.png");
    let taken = chromium()
        .args([&format!("--screenshot={}", shot.display()), "--window-size=1100,1400", &url])
        .output()
        .expect("run chromium");
    assert!(shot.is_file(), "no screenshot: {}", stderr(&taken));
    let (colours, inked) = ink(&shot);
    assert!(colours >= 6 && inked > 0.01, "the screenshot is blank: {colours} colours, {inked:.3} of it not white");
}

/// The number of distinct colours in a PNG and the share of its pixels
/// that are not white.
fn ink(png_file: &Path) -> (usize, f64) {
    let decoder =
        png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png_file).expect("open the screenshot")));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buffer).expect("a frame");
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buffer[..info.buffer_size()].chunks(channels).collect();
    let colours: std::collections::HashSet<&[u8]> = pixels.iter().copied().collect();
    let inked = pixels.iter().filter(|p| p.iter().take(3).any(|c| *c < 250)).count();
    (colours.len(), inked as f64 / pixels.len() as f64)
}

#[test]
fn metrics_parse_as_prometheus_text_and_count_what_was_pushed() {
    let pushed = pushed();
    let file = pushed.server.root().join("hookrt.prom");
    documented("docs/admin.md", "hookrt audit metrics /srv/git --output /var/lib/prometheus/node-exporter/hookrt.prom");
    let root = pushed.server.root().to_str().expect("utf-8");
    audit(&pushed, &["metrics", root, "--output", file.to_str().expect("utf-8")]);
    let text = std::fs::read_to_string(&file).expect("read the metrics");
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text");

    let value = |name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        scrape.samples.iter().find_map(|s| {
            let matches = s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v));
            match (&s.value, matches) {
                (prometheus_parse::Value::Counter(v), true) => Some(*v),
                _ => None,
            }
        })
    };
    let evaluations = "hookrt_policy_evaluations_total";
    assert_eq!(value(evaluations, &[("policy", "no-wip"), ("mode", "enforce"), ("verdict", "reject")]), Some(1.0));
    assert_eq!(value(evaluations, &[("policy", "no-wip"), ("mode", "enforce"), ("verdict", "accept")]), Some(3.0));
    assert_eq!(value(evaluations, &[("policy", "jira-keys"), ("mode", "evaluate"), ("verdict", "reject")]), Some(2.0));
    assert_eq!(value(evaluations, &[("policy", "spinner"), ("mode", "enforce"), ("verdict", "skipped")]), Some(3.0));
    assert_eq!(value("hookrt_policy_failures_total", &[("policy", "spinner"), ("cause", "fuel")]), Some(1.0));
    assert_eq!(value("hookrt_hook_runs_total", &[("decision", "rejected")]), Some(1.0));

    // The histograms hold one observation per run, in cumulative buckets.
    let histogram = |name: &str, policy: &str| {
        scrape
            .samples
            .iter()
            .find_map(|s| match &s.value {
                prometheus_parse::Value::Histogram(b) if s.metric == name && s.labels.get("policy") == Some(policy) => {
                    Some(b.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {name} for {policy}:\n{text}"))
    };
    let seconds = histogram("hookrt_policy_duration_seconds", "no-wip");
    assert!(seconds.windows(2).all(|w| w[0].count <= w[1].count), "{seconds:?}");
    let fuel = histogram("hookrt_policy_fuel", "spinner");
    assert_eq!(
        fuel.iter().find(|b| b.less_than == 1e5).map(|b| b.count),
        Some(0.0),
        "the spinner spent most of its million"
    );
    assert!(text.lines().filter(|l| l.starts_with("hookrt_policy_fuel_count")).count() == 3, "{text}");
}
