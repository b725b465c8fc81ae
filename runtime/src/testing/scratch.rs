//! A scratch repository built for one test case with the real `git`: a bare
//! repository whose objects are written by `git fast-import`, so a policy
//! under test reads real commits through the same host code as on a server.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gix::ObjectId;

use super::case::{CommitSpec, FileSpec, Generated, PushRef, SetupRef, full_ref};
use crate::push::RefUpdate;

const DEFAULT_AUTHOR: &str = "Test Author <author@example.com>";
/// Commits without a date get one a minute after the previous one,
/// starting here (2023-11-14), so the history has a stable order.
const FIRST_DATE: i64 = 1_700_000_000;

/// The error returned when a case's repository cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ScratchError {
    #[error("cannot create a scratch repository: {0}")]
    Io(#[from] std::io::Error),
    #[error("`git {args}` failed: {stderr}")]
    Git { args: String, stderr: String },
    #[error("{0}")]
    Case(String),
}

/// A throwaway bare repository.
pub struct Scratch {
    _dir: tempfile::TempDir,
    git_dir: PathBuf,
    clock: i64,
    temp_refs: usize,
}

impl Scratch {
    pub fn new() -> Result<Self, ScratchError> {
        let dir = tempfile::Builder::new().prefix("hookrt-test-").tempdir()?;
        let git_dir = dir.path().join("repo.git");
        run_git(None, &["init", "--quiet", "--bare", "--initial-branch=main", &git_dir.to_string_lossy()], None)?;
        Ok(Scratch { _dir: dir, git_dir, clock: FIRST_DATE, temp_refs: 0 })
    }

    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }

    fn git(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<String, ScratchError> {
        run_git(Some(&self.git_dir), args, stdin)
    }

    /// The commit (or tag) a revision names, if it exists.
    fn resolve(&self, rev: &str) -> Option<ObjectId> {
        rev_parse(&self.git_dir, rev)
    }

    fn resolve_commit(&self, rev: &str) -> Result<ObjectId, ScratchError> {
        self.resolve(&format!("{rev}^{{commit}}"))
            .ok_or_else(|| ScratchError::Case(format!("`{rev}` names no commit of the starting repository")))
    }

    /// Builds the starting repository.
    pub fn setup(&mut self, refs: &[SetupRef]) -> Result<(), ScratchError> {
        for spec in refs {
            let name = full_ref(&spec.name);
            let base = spec.from.as_deref().map(|rev| self.resolve_commit(rev)).transpose()?;
            let tip = self
                .write_commits(base, &spec.commits)?
                .ok_or_else(|| ScratchError::Case(format!("setup of {name} needs `commits` or `from`")))?;
            let target = match &spec.annotated {
                Some(message) => self.write_tag(&name, tip, message)?,
                None => tip,
            };
            self.git(&["update-ref", &name, &target.to_string()], None)?;
        }
        Ok(())
    }

    /// Writes the push's objects without moving any ref and returns the
    /// ref updates, as git would hand them to pre-receive.
    pub fn prepare_push(&mut self, refs: &[PushRef]) -> Result<Vec<RefUpdate>, ScratchError> {
        let mut updates = Vec::new();
        for spec in refs {
            let name = full_ref(&spec.name);
            let old = self.resolve(&name);
            let new = if spec.delete {
                if old.is_none() {
                    return Err(ScratchError::Case(format!(
                        "cannot delete {name}: the starting repository has no such ref"
                    )));
                }
                None
            } else {
                let base = match spec.from.as_deref() {
                    Some(rev) => Some(self.resolve_commit(rev)?),
                    None => {
                        old.map(|_| self.resolve_commit(&name)).transpose()?.or_else(|| self.resolve("HEAD^{commit}"))
                    }
                };
                let tip = self.write_commits(base, &spec.commits)?;
                let tip = tip.ok_or_else(|| {
                    ScratchError::Case(format!("the push of {name} needs `commits`, `from` or `delete`"))
                })?;
                Some(match &spec.annotated {
                    Some(message) => self.write_tag(&name, tip, message)?,
                    None => tip,
                })
            };
            let null = ObjectId::null(gix::hash::Kind::Sha1);
            updates.push(RefUpdate { name, old: old.unwrap_or(null), new: new.unwrap_or(null) });
        }
        Ok(updates)
    }

    /// Moves the refs as git does once the hooks accepted.
    pub fn apply(&self, update: &RefUpdate) -> Result<(), ScratchError> {
        if update.new.is_null() {
            self.git(&["update-ref", "-d", &update.name], None)?;
        } else {
            self.git(&["update-ref", &update.name, &update.new.to_string()], None)?;
        }
        Ok(())
    }

    /// Writes `commits` on top of `base` with fast-import and returns the
    /// last one (or `base` when there are none). The temporary ref it needs
    /// is deleted again, so it never counts as one of the repository's refs.
    fn write_commits(
        &mut self,
        base: Option<ObjectId>,
        commits: &[CommitSpec],
    ) -> Result<Option<ObjectId>, ScratchError> {
        if commits.is_empty() {
            return Ok(base);
        }
        self.temp_refs += 1;
        let temp = format!("refs/hookrt-scratch/{}", self.temp_refs);
        let mut stream = Vec::new();
        for (index, spec) in commits.iter().enumerate() {
            self.write_commit(&mut stream, &temp, spec, if index == 0 { base } else { None })?;
        }
        self.git(&["fast-import", "--quiet", "--force"], Some(&stream))?;
        let tip = self.resolve(&temp);
        self.git(&["update-ref", "-d", &temp], None)?;
        Ok(tip)
    }

    fn write_commit(
        &mut self,
        out: &mut Vec<u8>,
        temp: &str,
        spec: &CommitSpec,
        parent: Option<ObjectId>,
    ) -> Result<(), ScratchError> {
        let (message, author, committer, date, files, merge) = match spec {
            CommitSpec::Message(m) => (m.as_str(), DEFAULT_AUTHOR, None, None, None, &[][..]),
            CommitSpec::Full(c) => (
                c.message.as_str(),
                c.author.as_deref().unwrap_or(DEFAULT_AUTHOR),
                c.committer.as_deref(),
                c.date,
                Some(&c.files),
                &c.merge[..],
            ),
        };
        let date = date.unwrap_or(self.clock + 60);
        self.clock = date;
        writeln!(out, "commit {temp}")?;
        writeln!(out, "author {author} {date} +0000")?;
        writeln!(out, "committer {} {date} +0000", committer.unwrap_or(author))?;
        data(out, message.as_bytes())?;
        if let Some(parent) = parent {
            writeln!(out, "from {parent}")?;
        }
        for rev in merge {
            writeln!(out, "merge {}", self.resolve_commit(rev)?)?;
        }
        for (path, content) in files.into_iter().flatten() {
            match content {
                FileSpec::Delete(false) => writeln!(out, "D {path}")?,
                FileSpec::Delete(true) => {
                    return Err(ScratchError::Case(format!(
                        "file {path}: `true` is not a content (use `false` to delete)"
                    )));
                }
                FileSpec::Text(text) => {
                    writeln!(out, "M 100644 inline {path}")?;
                    data(out, text.as_bytes())?;
                }
                FileSpec::Generated(generated) => {
                    writeln!(out, "M 100644 inline {path}")?;
                    data(out, &generate(path, generated)?)?;
                }
            }
        }
        writeln!(out)?;
        Ok(())
    }

    fn write_tag(&self, name: &str, target: ObjectId, message: &str) -> Result<ObjectId, ScratchError> {
        let short = name.strip_prefix("refs/tags/").unwrap_or(name);
        let body = format!(
            "object {target}\ntype commit\ntag {short}\ntagger {DEFAULT_AUTHOR} {} +0000\n\n{message}\n",
            self.clock
        );
        let id = self.git(&["hash-object", "-t", "tag", "-w", "--stdin"], Some(body.as_bytes()))?;
        ObjectId::from_hex(id.trim().as_bytes()).map_err(|e| ScratchError::Case(e.to_string()))
    }
}

fn data(out: &mut Vec<u8>, bytes: &[u8]) -> std::io::Result<()> {
    writeln!(out, "data {}", bytes.len())?;
    out.extend_from_slice(bytes);
    writeln!(out)
}

/// Generated file content: repeated text, or seeded pseudo-random bytes
/// (xorshift: reproducible and good enough to look binary).
fn generate(path: &str, spec: &Generated) -> Result<Vec<u8>, ScratchError> {
    match (&spec.repeat, spec.times, spec.random_bytes) {
        (Some(text), times, None) => Ok(text.repeat(times.unwrap_or(1)).into_bytes()),
        (None, None, Some(len)) => {
            let mut state = spec.seed ^ 0x9E37_79B9_7F4A_7C15;
            Ok((0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 24) as u8
                })
                .collect())
        }
        _ => Err(ScratchError::Case(format!(
            "file {path}: generate either `repeat` (with `times`) or `random_bytes` (with `seed`)"
        ))),
    }
}

/// The object a revision of the repository at `git_dir` names, if any.
pub(crate) fn rev_parse(git_dir: &Path, rev: &str) -> Option<ObjectId> {
    let out = run_git(Some(git_dir), &["rev-parse", "--verify", "--quiet", rev], None).ok()?;
    ObjectId::from_hex(out.trim().as_bytes()).ok()
}

/// Runs git with no system or global configuration and none of the
/// variables of a surrounding hook, so `hookrt test` behaves the same on a
/// laptop and inside a server's hook.
fn run_git(git_dir: Option<&Path>, args: &[&str], stdin: Option<&[u8]>) -> Result<String, ScratchError> {
    let mut cmd = Command::new("git");
    if let Some(dir) = git_dir {
        cmd.arg("--git-dir").arg(dir);
    }
    cmd.args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_QUARANTINE_PATH",
    ] {
        cmd.env_remove(var);
    }
    let mut child = cmd.spawn()?;
    if let (Some(bytes), Some(mut input)) = (stdin, child.stdin.take()) {
        input.write_all(bytes)?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(ScratchError::Git {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
