//! commit-msg: the commit about to be made, written where nothing sees it.
//!
//! git hands the hook only the message file. hookrt writes the commit that
//! `git commit` is about to make (the index's tree, HEAD and any
//! `MERGE_HEAD` as parents, the message as git will clean it) into a
//! scratch object directory, as receive-pack's quarantine does, so the
//! policies read a real commit and the repository gains nothing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gix::ObjectId;

use crate::RefUpdate;

/// The commit being made, and where its objects are.
pub struct Pending {
    /// The current branch, from HEAD's commit (null for the first) to the
    /// new one.
    pub update: RefUpdate,
    /// The scratch directory first, then the repository's objects.
    pub object_dirs: Vec<PathBuf>,
    /// Removed when dropped.
    _scratch: tempfile::TempDir,
}

/// The error returned by [`pending`].
#[derive(Debug, thiserror::Error)]
#[error("cannot build the commit being made: {0}")]
pub struct CommitError(String);

/// The commit `git commit` is making in the clone at `git_dir` (run from
/// `work_dir`, with the hook's environment: `GIT_INDEX_FILE` names the
/// index being committed), with `message_file`'s message; `None` on a
/// detached HEAD (no branch for the policies' ref filters; the server
/// checks it when it is pushed).
pub fn pending(git_dir: &Path, work_dir: &Path, message_file: &Path) -> Result<Option<Pending>, CommitError> {
    let (branch, head) = match crate::server::checkout::checked_out(git_dir) {
        Ok(found) => found,
        Err(crate::server::checkout::CheckoutError::Detached(_)) => return Ok(None),
        Err(err) => return Err(CommitError(err.to_string())),
    };
    let objects = git_dir.join("objects");
    let scratch = tempfile::Builder::new()
        .prefix("hookrt-commit-msg-")
        .tempdir_in(&objects)
        .map_err(|e| CommitError(format!("cannot make a scratch object directory in {}: {e}", objects.display())))?;
    let git = |args: &[&str], input: Option<&[u8]>| -> Result<String, CommitError> {
        let mut child = Command::new("git")
            .args(args)
            .current_dir(work_dir)
            .env("GIT_OBJECT_DIRECTORY", scratch.path())
            .env("GIT_ALTERNATE_OBJECT_DIRECTORIES", &objects)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| CommitError(format!("cannot run git: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(input.unwrap_or_default());
        }
        let out = child.wait_with_output().map_err(|e| CommitError(e.to_string()))?;
        if !out.status.success() {
            return Err(CommitError(format!(
                "`git {}`: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let message = std::fs::read(message_file)
        .map_err(|e| CommitError(format!("cannot read the message file {}: {e}", message_file.display())))?;
    let message = git(&["stripspace", "--strip-comments"], Some(&message))?;
    let tree = git(&["write-tree"], None)?;
    let mut args = vec!["commit-tree".to_owned(), tree.trim().to_owned()];
    let merging = std::fs::read_to_string(git_dir.join("MERGE_HEAD")).unwrap_or_default();
    let parents =
        (!head.is_null()).then(|| head.to_string()).into_iter().chain(merging.split_whitespace().map(str::to_owned));
    for parent in parents {
        args.extend(["-p".to_owned(), parent]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let id = git(&args, Some(message.as_bytes()))?;
    let update = RefUpdate::parse(&branch, &head.to_string(), id.trim()).map_err(|e| CommitError(e.to_string()))?;
    let mut object_dirs = vec![scratch.path().to_owned()];
    object_dirs.extend(crate::git::object_dirs(git_dir, |_| None));
    Ok(Some(Pending { update, object_dirs, _scratch: scratch }))
}

impl Pending {
    /// The id of the commit being made (it exists only in the scratch
    /// directory).
    pub fn commit(&self) -> ObjectId {
        self.update.new
    }
}
