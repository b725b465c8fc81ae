//! The test case format: TOML files of `[[case]]`s, each a starting
//! repository, a push and the verdict expected. docs/testing.md documents it
//! field by field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::policy::{Origin, Setting, SettingValue, Settings};
use crate::push::HookKind;

/// One case file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The policy under test, relative to the file; `--policy` overrides it.
    pub policy: Option<PathBuf>,
    /// The policy's settings for every case, as in the `settings` table of
    /// its `hookrt.toml` entry.
    #[serde(default)]
    pub settings: BTreeMap<String, toml::Value>,
    #[serde(default, rename = "case")]
    pub cases: Vec<Case>,
    /// The file, for placing settings problems.
    #[serde(skip)]
    pub path: PathBuf,
}

/// A starting repository, a push, and what the policy must say about it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// The hook the policy runs in (pre-receive by default).
    #[serde(default = "default_hook")]
    pub hook: HookKind,
    /// `git push -o` values.
    #[serde(default)]
    pub push_options: Vec<String>,
    /// Who pushes (no one by default).
    pub pusher: Option<crate::Pusher>,
    /// Where the push came from (nothing by default).
    #[serde(default)]
    pub context: crate::PushContext,
    /// Limits for this case (defaults otherwise).
    #[serde(default)]
    pub limits: CaseLimits,
    /// Settings for this case, over the file's (key by key).
    #[serde(default)]
    pub settings: BTreeMap<String, toml::Value>,
    /// The repository before the push, built in this order.
    #[serde(default)]
    pub setup: Vec<SetupRef>,
    /// The ref updates of the push, in this order.
    pub push: Vec<PushRef>,
    pub expect: Expect,
}

fn default_hook() -> HookKind {
    HookKind::PreReceive
}

/// Per-case limits, as in `hookrt.toml`.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseLimits {
    pub fuel: Option<u64>,
    pub memory_mib: Option<u32>,
    pub timeout_ms: Option<u64>,
    pub blob_read_kib: Option<u64>,
    pub changes_max: Option<u32>,
}

/// A branch or tag of the starting repository.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupRef {
    /// `main` means `refs/heads/main`; a name starting `refs/` is used as is.
    #[serde(rename = "ref")]
    pub name: String,
    /// Where the ref starts before `commits` are added: a revision of the
    /// repository built so far. Without it, the commits start a new history.
    pub from: Option<String>,
    #[serde(default)]
    pub commits: Vec<CommitSpec>,
    /// For tags: make an annotated tag with this message.
    pub annotated: Option<String>,
}

/// One ref update of the push.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRef {
    #[serde(rename = "ref")]
    pub name: String,
    /// Where the new commits go on top of: a revision of the starting
    /// repository. Defaults to the ref's current tip, or to `HEAD` for a new
    /// ref. Pointing it below the current tip makes a force push.
    pub from: Option<String>,
    #[serde(default)]
    pub commits: Vec<CommitSpec>,
    /// Delete the ref.
    #[serde(default)]
    pub delete: bool,
    /// Push an annotated tag with this message (pointing at the new tip).
    pub annotated: Option<String>,
}

/// A commit: just its message, or a table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum CommitSpec {
    Message(String),
    Full(FullCommit),
}

/// A commit in full, or written byte for byte (`raw`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FullCommit {
    /// The full message; required unless the commit is `raw`.
    pub message: Option<String>,
    /// The commit object's text, written as is with its placeholders
    /// replaced ([`super::raw`]): for commits git accepts but would never
    /// write. The tree, parents, author and message are all in it, so only
    /// `files` (making the tree `{tree}` stands for) goes beside it.
    pub raw: Option<String>,
    /// `Name <email>`; a test author by default.
    pub author: Option<String>,
    /// `Name <email>`; the author by default.
    pub committer: Option<String>,
    /// Seconds since the epoch; by default one minute after the previous
    /// commit of the case.
    pub date: Option<i64>,
    /// Files to write (path → content) or delete (path → `false`).
    #[serde(default)]
    pub files: BTreeMap<String, FileSpec>,
    /// Revisions merged in: the second and later parents. The tree is
    /// what `git merge` makes of them, with `files` on top.
    #[serde(default)]
    pub merge: Vec<String>,
}

/// A file's content, spelled out or generated.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum FileSpec {
    /// The text itself.
    Text(String),
    /// `false` deletes the file.
    Delete(bool),
    Generated(Generated),
}

/// Generated content, so large and binary files need not be spelled out.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generated {
    /// `repeat` this many times.
    pub repeat: Option<String>,
    pub times: Option<usize>,
    /// This many pseudo-random bytes (binary), the same for the same seed.
    pub random_bytes: Option<usize>,
    #[serde(default)]
    pub seed: u64,
}

/// What the policy must answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The policy accepts.
    #[serde(default)]
    pub accept: bool,
    /// The policy vetoes exactly these (in any order).
    #[serde(default)]
    pub vetoes: Vec<ExpectVeto>,
    /// The policy fails with this cause: fuel, memory, deadline, stack,
    /// trap, load or settings.
    pub failure: Option<String>,
    /// Lines the policy must write to the pusher (each a substring of one).
    #[serde(default)]
    pub output: Vec<String>,
    /// Warnings the policy must give (each a substring of one's summary).
    /// Warnings not listed are allowed: they never change the verdict.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The events an observer must emit (in any order); when given, an
    /// event not listed fails the case (`events = []`: none at all).
    pub events: Option<Vec<ExpectEvent>>,
    /// The most fuel the case may use: a budget regression check.
    pub max_fuel: Option<u64>,
}

/// How an expected event is matched against an observer's.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectEvent {
    pub name: String,
    /// The ref it is tied to (short names as in `push`); unset matches any.
    #[serde(rename = "ref")]
    pub ref_name: Option<String>,
    /// Keys the payload must hold with these values (a table matches an
    /// object that has at least its keys); unset matches any payload.
    pub payload: Option<toml::Value>,
}

/// How an expected veto is matched against the policy's.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectVeto {
    /// A substring of the veto's summary.
    pub summary: Option<String>,
    /// A regular expression the summary must match.
    pub summary_regex: Option<String>,
    /// The ref (short names as in `push`).
    #[serde(rename = "ref")]
    pub ref_name: Option<String>,
    /// The subject of the commit the veto names.
    pub commit: Option<String>,
}

/// The error returned by [`CaseFile::load`] and [`CaseFile::parse`].
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid case file: {message}")]
    Parse { path: PathBuf, message: String },
}

impl CaseFile {
    /// Reads and checks one case file.
    pub fn load(path: &Path) -> Result<Self, CaseError> {
        let bytes = std::fs::read(path).map_err(|source| CaseError::Read { path: path.to_owned(), source })?;
        if bytes.starts_with(b"\0asm") {
            // `hookrt test policy.wasm cases.toml` is an easy slip.
            let message = "it is a WebAssembly module, not a case file: name the policy with `--policy FILE.wasm`";
            return Err(CaseError::Parse { path: path.to_owned(), message: message.to_owned() });
        }
        let text = String::from_utf8(bytes).map_err(|e| CaseError::Read {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        Self::parse(path, &text)
    }

    /// Parses and checks the text of a case file read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, CaseError> {
        let parse_error = |message: String| CaseError::Parse { path: path.to_owned(), message };
        let mut file: CaseFile = toml::from_str(text).map_err(|e| parse_error(e.to_string().trim_end().to_owned()))?;
        file.path = path.to_owned();
        if file.cases.is_empty() {
            return Err(parse_error("it has no [[case]]".into()));
        }
        for case in &file.cases {
            let e = &case.expect;
            let kinds = usize::from(e.accept) + usize::from(!e.vetoes.is_empty()) + usize::from(e.failure.is_some());
            if kinds != 1 {
                return Err(parse_error(format!(
                    "case {:?}: [case.expect] needs exactly one of `accept = true`, `vetoes = [...]` or `failure = \"...\"`",
                    case.name
                )));
            }
            for veto in &e.vetoes {
                if let Some(pattern) = &veto.summary_regex {
                    regex::Regex::new(pattern).map_err(|err| {
                        parse_error(format!(
                            "case {:?}: summary_regex {pattern:?} is not a regular expression: {err}",
                            case.name
                        ))
                    })?;
                }
            }
            file.settings_for(case).map_err(|message| parse_error(format!("case {:?}: {message}", case.name)))?;
            if case.push.is_empty() {
                return Err(parse_error(format!("case {:?}: a case needs at least one [[case.push]]", case.name)));
            }
            let commits = case.setup.iter().flat_map(|r| &r.commits).chain(case.push.iter().flat_map(|r| &r.commits));
            for commit in commits {
                commit.check().map_err(|message| parse_error(format!("case {:?}: {message}", case.name)))?;
            }
        }
        Ok(file)
    }
}

impl CaseFile {
    /// The settings `case` runs with: the file's, with the case's on top.
    pub fn settings_for(&self, case: &Case) -> Result<Settings, String> {
        let origin = Origin { file: self.path.clone(), line: 0 };
        let mut settings = Settings::empty(origin.clone());
        for (key, value) in self.settings.iter().chain(&case.settings) {
            let value = SettingValue::from_toml(value.clone()).map_err(|kind| {
                format!("setting `{key}` is {kind}; settings are strings, numbers, booleans or lists of strings")
            })?;
            settings.values.insert(key.clone(), Setting { value, origin: origin.clone() });
        }
        Ok(settings)
    }
}

/// The full name of a ref given as in a case (`main` → `refs/heads/main`).
pub fn full_ref(name: &str) -> String {
    if name.starts_with("refs/") { name.to_owned() } else { format!("refs/heads/{name}") }
}

/// The latest commit date a case may set: the end of year 9999. Git takes
/// no negative dates, and the scratch repository's clock adds a minute per
/// commit, which must not overflow.
const MAX_DATE: i64 = 253_402_300_799;

/// The most bytes one generated file may have: enough for any size limit a
/// policy tests, and far from what would exhaust memory building it.
const MAX_GENERATED: usize = 1 << 30;

impl CommitSpec {
    /// The commit's message (for a raw commit, what follows the headers
    /// in its text): what errors about the commit quote to say which one
    /// they mean.
    pub fn message(&self) -> &str {
        match self {
            CommitSpec::Message(m) => m,
            CommitSpec::Full(c) => match (&c.message, &c.raw) {
                (Some(message), _) => message,
                (None, Some(raw)) => raw.split_once("\n\n").map_or(raw.as_str(), |(_, message)| message),
                (None, None) => "",
            },
        }
    }

    /// Refuses what the scratch repository cannot build: a date git takes
    /// no part of, generated content too large to hold in memory, or a
    /// raw commit with keys its text already gives or a placeholder that is
    /// not one.
    fn check(&self) -> Result<(), String> {
        let CommitSpec::Full(commit) = self else { return Ok(()) };
        let label = self.message();
        match (&commit.message, &commit.raw) {
            (None, None) => return Err("a commit table needs `message` (or `raw`, the whole commit)".into()),
            (Some(_), Some(_)) => {
                return Err(format!("commit {label:?}: `raw` is the whole commit, message included: drop `message`"));
            }
            (None, Some(raw)) => {
                let beside = [
                    ("author", commit.author.is_some()),
                    ("committer", commit.committer.is_some()),
                    ("date", commit.date.is_some()),
                    ("merge", !commit.merge.is_empty()),
                ];
                if let Some((key, _)) = beside.iter().find(|(_, set)| *set) {
                    return Err(format!(
                        "commit {label:?}: `{key}` cannot go with `raw`: write it in the text (parents as `parent {{rev:REVISION}}` lines)"
                    ));
                }
                super::raw::Template::parse(raw).map_err(|e| format!("commit {label:?}: {e}"))?;
            }
            (Some(_), None) => {}
        }
        if let Some(date) = commit.date.filter(|date| !(0..=MAX_DATE).contains(date)) {
            return Err(format!(
                "commit {label:?}: `date = {date}` is not seconds since 1970 up to 9999 (0 to {MAX_DATE})"
            ));
        }
        for (path, spec) in &commit.files {
            let FileSpec::Generated(generated) = spec else { continue };
            let size = match (&generated.repeat, generated.random_bytes) {
                (Some(text), _) => text.len().checked_mul(generated.times.unwrap_or(1)),
                (None, Some(bytes)) => Some(bytes),
                // Neither: building the file says what to write.
                (None, None) => continue,
            };
            if size.is_none_or(|size| size > MAX_GENERATED) {
                return Err(format!(
                    "commit {label:?}: file {path} would be past the {MAX_GENERATED} bytes a case may generate"
                ));
            }
        }
        Ok(())
    }
}
