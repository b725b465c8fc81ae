//! A scratch repository built for one test case with the real `git`: a bare
//! repository whose objects are written by `git fast-import`, so a policy
//! under test reads real commits through the same host code as on a server.

mod merge;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gix::ObjectId;

use super::case::{CommitSpec, FileSpec, FullCommit, Generated, PushRef, SetupRef, full_ref};
use super::raw::{self, Placeholder};
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
        let mut batch =
            Batch { temp: format!("refs/hookrt-scratch/{}", self.temp_refs), stream: Vec::new(), tip: base };
        for spec in commits {
            match spec {
                // Both need the commit before them written: a merge to merge
                // into, a raw commit to name as `{parent}`.
                CommitSpec::Full(commit @ FullCommit { raw: Some(text), .. }) => {
                    self.flush(&mut batch)?;
                    batch.tip = Some(self.write_raw(&batch, spec.message(), text, &commit.files)?);
                }
                CommitSpec::Full(commit) if !commit.merge.is_empty() => {
                    self.flush(&mut batch)?;
                    let first = batch.tip.ok_or_else(|| {
                        ScratchError::Case(format!(
                            "commit {:?}: a merge needs a commit before it to merge into (give the ref a `from`)",
                            spec.message()
                        ))
                    })?;
                    let others = commit
                        .merge
                        .iter()
                        .map(|rev| Ok((rev.clone(), self.resolve_commit(rev)?)))
                        .collect::<Result<Vec<_>, ScratchError>>()?;
                    let tree = merge::merged_tree(&self.git_dir, spec.message(), first, &others, &commit.files)?;
                    let parents: Vec<ObjectId> = others.iter().map(|(_, id)| *id).collect();
                    self.write_commit(&mut batch, spec, &parents, Some(tree))?;
                }
                _ => self.write_commit(&mut batch, spec, &[], None)?,
            }
        }
        self.flush(&mut batch)?;
        if self.resolve(&batch.temp).is_some() {
            self.git(&["update-ref", "-d", &batch.temp], None)?;
        }
        Ok(batch.tip)
    }

    /// Runs fast-import on the commits gathered so far; the batch's tip is
    /// then the last of them.
    fn flush(&self, batch: &mut Batch) -> Result<(), ScratchError> {
        if batch.stream.is_empty() {
            return Ok(());
        }
        self.git(&["fast-import", "--quiet", "--force"], Some(&batch.stream))?;
        batch.stream.clear();
        batch.tip = self.resolve(&batch.temp);
        Ok(())
    }

    /// Adds a commit to the batch's stream: on top of the batch's tip, with
    /// `merged` as its later parents and `tree` (a merge's) under its files.
    fn write_commit(
        &mut self,
        batch: &mut Batch,
        spec: &CommitSpec,
        merged: &[ObjectId],
        tree: Option<ObjectId>,
    ) -> Result<(), ScratchError> {
        let (message, author, committer, date, files) = match spec {
            CommitSpec::Message(m) => (m.as_str(), DEFAULT_AUTHOR, None, None, None),
            CommitSpec::Full(c) => (
                c.message.as_deref().unwrap_or_default(),
                c.author.as_deref().unwrap_or(DEFAULT_AUTHOR),
                c.committer.as_deref(),
                c.date,
                Some(&c.files),
            ),
        };
        let date = date.unwrap_or(self.clock + 60);
        self.clock = date;
        // The first commit of a stream starts from the tip explicitly:
        // fast-import knows nothing of what an earlier run wrote.
        let parent = if batch.stream.is_empty() { batch.tip } else { None };
        let out = &mut batch.stream;
        writeln!(out, "commit {}", batch.temp)?;
        writeln!(out, "author {author} {date} +0000")?;
        writeln!(out, "committer {} {date} +0000", committer.unwrap_or(author))?;
        data(out, message.as_bytes())?;
        if let Some(parent) = parent {
            writeln!(out, "from {parent}")?;
        }
        for id in merged {
            writeln!(out, "merge {id}")?;
        }
        if let Some(tree) = tree {
            // An empty path is the root: the tree becomes the merge's.
            writeln!(out, "M 040000 {tree} \"\"")?;
        }
        write_files(out, files.into_iter().flatten())?;
        writeln!(out)?;
        Ok(())
    }

    /// Writes a raw commit on top of the batch's tip (which must have been
    /// flushed), its placeholders replaced, with `git hash-object
    /// --literally`: the one way to store a commit git's own checks refuse.
    fn write_raw(
        &self,
        batch: &Batch,
        label: &str,
        text: &str,
        files: &BTreeMap<String, FileSpec>,
    ) -> Result<ObjectId, ScratchError> {
        // `CaseFile::parse` has checked the text.
        let template = raw::Template::parse(text).map_err(ScratchError::Case)?;
        let tree = if template.uses_tree() { Some(self.tree_for_raw(batch, files)?) } else { None };
        let bytes = template.expand(|placeholder| match placeholder {
            Placeholder::Tree => Ok(tree.map(|t| t.to_string()).unwrap_or_default()),
            Placeholder::Parent => batch.tip.map(|id| id.to_string()).ok_or_else(|| {
                ScratchError::Case(format!(
                    "commit {label:?}: `{{parent}}`: there is no commit before it (give the ref a `from`)"
                ))
            }),
            Placeholder::Rev(rev) => self
                .resolve_commit(rev)
                .map(|id| id.to_string())
                .map_err(|e| ScratchError::Case(format!("commit {label:?}: {e}"))),
        })?;
        let id = self.git(&["hash-object", "-t", "commit", "--literally", "-w", "--stdin"], Some(&bytes))?;
        ObjectId::from_hex(id.trim().as_bytes()).map_err(|e| ScratchError::Case(e.to_string()))
    }

    /// The tree `{tree}` stands for: the tip's with `files` written, made
    /// by fast-import as a throwaway commit that nothing refers to.
    fn tree_for_raw(&self, batch: &Batch, files: &BTreeMap<String, FileSpec>) -> Result<ObjectId, ScratchError> {
        let mut out = Vec::new();
        writeln!(out, "commit {}", batch.temp)?;
        writeln!(out, "committer {DEFAULT_AUTHOR} {} +0000", self.clock)?;
        data(&mut out, b"")?;
        if let Some(tip) = batch.tip {
            writeln!(out, "from {tip}")?;
        }
        write_files(&mut out, files)?;
        writeln!(out)?;
        self.git(&["fast-import", "--quiet", "--force"], Some(&out))?;
        self.resolve(&format!("{}^{{tree}}", batch.temp))
            .ok_or_else(|| ScratchError::Case(format!("fast-import wrote no commit to {}", batch.temp)))
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

/// Commits being written to the temporary ref `temp`: the fast-import
/// stream gathered and not yet run, and the last commit written.
struct Batch {
    temp: String,
    stream: Vec<u8>,
    tip: Option<ObjectId>,
}

/// A commit's `files` as fast-import commands.
fn write_files<'a>(
    out: &mut Vec<u8>,
    files: impl IntoIterator<Item = (&'a String, &'a FileSpec)>,
) -> Result<(), ScratchError> {
    for (path, content) in files {
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
    Ok(())
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

/// Runs git and returns its standard output, or its complaint when it
/// fails.
pub(super) fn run_git(git_dir: Option<&Path>, args: &[&str], stdin: Option<&[u8]>) -> Result<String, ScratchError> {
    let out = git_output(git_dir, args, stdin)?;
    if !out.status.success() {
        return Err(ScratchError::Git {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs git with no system or global configuration and none of the
/// variables of a surrounding hook, so `hookrt test` behaves the same on a
/// laptop and inside a server's hook; whether it succeeded is the caller's
/// to judge.
pub(super) fn git_output(
    git_dir: Option<&Path>,
    args: &[&str],
    stdin: Option<&[u8]>,
) -> Result<std::process::Output, ScratchError> {
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
    Ok(child.wait_with_output()?)
}
