//! Reading the log back: the records [`super::Record`] wrote, owned, from
//! one repository's log, a server's worth (a directory walk) or files
//! given, rotated files included.
//!
//! Nothing a log holds is fatal to reading it: a line that is not a record
//! (cut short by a full disk, edited by hand, written by a newer hookrt) is
//! handed to the caller as [`Damaged`] and skipped, so one bad line never
//! hides a week of decisions.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Pusher;
use crate::policy::Mode;
use crate::push::HookKind;

/// The file name hookrt writes unless `[audit] path` says otherwise, and
/// the one a directory walk looks for.
pub const LOG_NAME: &str = "audit.log";

/// One hook run, as the log recorded it.
#[derive(Debug, Clone, Deserialize)]
pub struct RunEntry {
    pub time: jiff::Timestamp,
    pub repository: PathBuf,
    pub hook: HookKind,
    pub pusher: Option<Pusher>,
    #[serde(default)]
    pub ref_updates: Vec<RefEntry>,
    /// `accepted`, `rejected` or `error`.
    pub decision: String,
    pub error: Option<String>,
    pub duration_ms: f64,
    #[serde(default)]
    pub policies: Vec<PolicyEntry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RefEntry {
    #[serde(rename = "ref")]
    pub name: String,
    pub old: String,
    pub new: String,
}

/// One policy's part of a run.
#[derive(Debug, Clone, Deserialize)]
pub struct PolicyEntry {
    pub name: String,
    pub mode: Mode,
    /// `accept`, `reject`, `failed` or `skipped`.
    pub verdict: String,
    pub blocking: bool,
    #[serde(default)]
    pub vetoes: Vec<VetoEntry>,
    #[serde(default)]
    pub vetoes_not_shown: usize,
    pub cause: Option<String>,
    pub failure: Option<String>,
    pub skipped: Option<String>,
    pub fuel: u64,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VetoEntry {
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub commit: Option<String>,
    pub summary: String,
}

/// A line that is not a record, with where it is and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damaged {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Damaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: skipped: {}", self.file.display(), self.line, self.message)
    }
}

/// A file or directory that could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the audit log {}: {source}", path.display())]
pub struct ReadError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// The log files `paths` name, oldest first: a file with its rotations
/// (`audit.log.3` … `audit.log.1`, `audit.log`), a directory walked for
/// every `audit.log` under it (each repository's, or a central log
/// directory's), with theirs.
pub fn log_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ReadError> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| ReadError { path: path.clone(), source })?;
        if !meta.is_dir() {
            files.extend(with_rotations(path));
            continue;
        }
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            let entry = entry.map_err(|err| ReadError {
                path: err.path().unwrap_or(path).to_owned(),
                source: err.into_io_error().unwrap_or_else(|| std::io::Error::other("a link loops")),
            })?;
            if entry.file_type().is_file() && entry.file_name() == LOG_NAME {
                files.extend(with_rotations(entry.path()));
            }
        }
    }
    files.dedup();
    Ok(files)
}

/// `log`'s rotated files that exist, oldest first, then `log` itself.
fn with_rotations(log: &Path) -> Vec<PathBuf> {
    let rotated = |n: u32| {
        let mut name = log.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    };
    let mut files: Vec<PathBuf> = (1..).map(rotated).take_while(|p| p.is_file()).collect();
    files.reverse();
    files.push(log.to_owned());
    files
}

/// Reads the hook runs of `files` one at a time into `each` (so that a
/// server's worth of logs is never held in memory), passing over webhook
/// delivery records, calling `damaged` for each line that is not a record
/// and `progress` with the bytes read so far.
pub fn read_runs(
    files: &[PathBuf],
    mut damaged: impl FnMut(Damaged),
    mut progress: impl FnMut(u64),
    mut each: impl FnMut(RunEntry),
) -> Result<(), ReadError> {
    let mut read = 0u64;
    for file in files {
        let error = |source| ReadError { path: file.clone(), source };
        let reader = BufReader::new(std::fs::File::open(file).map_err(error)?);
        for (index, line) in reader.split(b'\n').enumerate() {
            let line = line.map_err(error)?;
            read += line.len() as u64 + 1;
            progress(read);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match parse(&line) {
                Ok(Some(run)) => each(run),
                Ok(None) => {}
                Err(message) => damaged(Damaged { file: file.clone(), line: index + 1, message }),
            }
        }
    }
    Ok(())
}

/// A run, `None` for a webhook delivery's record, or why the line is
/// neither.
fn parse(line: &[u8]) -> Result<Option<RunEntry>, String> {
    #[derive(Deserialize)]
    struct Kind {
        webhook: Option<serde::de::IgnoredAny>,
    }
    let kind: Kind = serde_json::from_slice(line).map_err(|e| format!("not a JSON record ({e})"))?;
    if kind.webhook.is_some() {
        return Ok(None);
    }
    serde_json::from_slice(line).map(Some).map_err(|e| format!("not a hook run's record ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotations_come_oldest_first_and_damage_is_skipped_and_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("repo.git/hookrt").join(LOG_NAME);
        std::fs::create_dir_all(log.parent().expect("a parent")).expect("mkdir");
        let run = |time: &str| {
            format!(
                r#"{{"time":"{time}","repository":"/r.git","hook":"pre-receive","pusher":null,"ref_updates":[],"decision":"accepted","duration_ms":1.0,"policies":[]}}"#
            )
        };
        std::fs::write(format!("{}.2", log.display()), run("2026-12-01T00:00:00Z") + "\n").expect("write");
        std::fs::write(format!("{}.1", log.display()), run("2026-12-02T00:00:00Z") + "\n{\"time\":\n").expect("write");
        let delivery = r#"{"time":"2026-12-03T00:00:00Z","repository":"/r.git","webhook":"ci","event":"push","ref":null,"delivery":"d","outcome":"queued","attempt":0}"#;
        std::fs::write(&log, format!("{}\n{delivery}\n\nnot json\n", run("2026-12-03T00:00:00Z"))).expect("write");

        let files = log_files(&[dir.path().to_owned()]).expect("walk");
        assert_eq!(files.len(), 3);
        let (mut damage, mut runs) = (Vec::new(), Vec::new());
        read_runs(&files, |d| damage.push(d), |_| {}, |run| runs.push(run)).expect("read");
        let times: Vec<String> = runs.iter().map(|r| r.time.to_string()).collect();
        assert_eq!(times, ["2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z"]);
        assert_eq!(damage.iter().map(|d| d.line).collect::<Vec<_>>(), [2, 4], "{damage:?}");
        assert!(damage[0].file.ends_with("audit.log.1") && damage[1].message.starts_with("not a JSON record"));
    }
}
