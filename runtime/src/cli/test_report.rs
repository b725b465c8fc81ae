//! How `hookrt test` prints results: text for people (a line per case, a
//! side-by-side diff for a failure), JSON lines for scripts, JUnit XML for
//! CI systems.

use std::fmt::Write;

use hookrt::testing::CaseOutcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// One case's result and the file it came from.
pub struct CaseLine {
    pub file: String,
    pub outcome: CaseOutcome,
}

/// Results as they come in, printed at once.
pub struct Summary {
    format: Format,
    lines: Vec<CaseLine>,
}

/// Width of the "expected" column of a failure's diff.
const COLUMN: usize = 46;

impl Summary {
    pub fn new(format: Format) -> Self {
        Summary { format, lines: Vec::new() }
    }

    pub fn failed(&self) -> usize {
        self.lines.iter().filter(|l| !l.outcome.passed).count()
    }

    pub fn add(&mut self, line: CaseLine) {
        match self.format {
            Format::Text => out!("{}", text(&line)),
            Format::Json => {
                let mut value = serde_json::to_value(&line.outcome).expect("a case outcome serializes");
                value["file"] = line.file.clone().into();
                outln!("{value}");
            }
        }
        self.lines.push(line);
    }

    /// Prints the closing line.
    pub fn finish(&self) {
        let failed = self.failed();
        let passed = self.lines.len() - failed;
        match self.format {
            Format::Text => outln!("{passed} passed, {failed} failed"),
            Format::Json => outln!("{}", serde_json::json!({ "summary": { "passed": passed, "failed": failed } })),
        }
    }

    /// The JUnit XML report: a test suite per case file.
    pub fn junit(&self) -> String {
        let total_time: f64 = self.lines.iter().map(|l| l.outcome.elapsed.as_secs_f64()).sum();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            xml,
            "<testsuites name=\"hookrt\" tests=\"{}\" failures=\"{}\" time=\"{total_time:.3}\">",
            self.lines.len(),
            self.failed()
        );
        let mut files: Vec<&str> = self.lines.iter().map(|l| l.file.as_str()).collect();
        files.dedup();
        for file in files {
            let cases: Vec<&CaseLine> = self.lines.iter().filter(|l| l.file == file).collect();
            let failures = cases.iter().filter(|l| !l.outcome.passed).count();
            let time: f64 = cases.iter().map(|l| l.outcome.elapsed.as_secs_f64()).sum();
            let _ = writeln!(
                xml,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" time=\"{time:.3}\">",
                escape(file),
                cases.len()
            );
            for line in cases {
                let o = &line.outcome;
                let _ = write!(
                    xml,
                    "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
                    escape(&o.name),
                    escape(file),
                    o.elapsed.as_secs_f64()
                );
                if o.passed {
                    let _ = writeln!(xml, ">");
                } else {
                    let first = o.rows.iter().find(|r| !r.ok).unwrap_or(&o.rows[0]);
                    let message = format!("expected {}, got {}", first.expected.trim(), first.actual.trim());
                    let _ = writeln!(
                        xml,
                        ">\n      <failure message=\"{}\">{}</failure>",
                        escape(&message),
                        escape(&diff(o))
                    );
                }
                let _ = writeln!(xml, "      <system-out>fuel {}</system-out>\n    </testcase>", o.fuel);
            }
            let _ = writeln!(xml, "  </testsuite>");
        }
        xml.push_str("</testsuites>\n");
        xml
    }
}

fn text(line: &CaseLine) -> String {
    let o = &line.outcome;
    let mut out = format!(
        "{}  {} › {}  ({:.1} ms, fuel {})\n",
        if o.passed { "PASS" } else { "FAIL" },
        line.file,
        o.name,
        o.elapsed.as_secs_f64() * 1000.0,
        o.fuel
    );
    if !o.passed {
        for row in diff(o).lines() {
            let _ = writeln!(out, "      {row}");
        }
    }
    out
}

/// Expected and actual side by side, `✗` on the rows that disagree.
fn diff(o: &CaseOutcome) -> String {
    let mut out = format!("  {:<COLUMN$} │ {}\n", "expected", "actual");
    for row in &o.rows {
        let mark = if row.ok { ' ' } else { '✗' };
        let _ = writeln!(out, "{mark} {:<COLUMN$} │ {}", truncate(&row.expected), row.actual);
    }
    out
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= COLUMN {
        text.to_owned()
    } else {
        text.chars().take(COLUMN - 1).chain(['…']).collect()
    }
}

/// Escapes text for an XML attribute or element.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters at all.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
