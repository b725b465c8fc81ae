//! The push model: what git tells a hook about a push, parsed and typed.
//!
//! Git hands pre-receive and post-receive one line per ref on standard input
//! (`<old> <new> <ref>`), the update hook the same three values as arguments,
//! and push options through `GIT_PUSH_OPTION_COUNT` / `GIT_PUSH_OPTION_<n>`
//! (githooks(5)). Everything here is plain data; nothing touches the
//! repository.

use std::path::PathBuf;

use gix::ObjectId;

/// Which git hook hookrt runs as (githooks(5)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookKind {
    /// Before any ref moves; one run for the whole push. A veto rejects the
    /// whole push.
    PreReceive,
    /// Before each single ref moves; a veto rejects that ref only.
    Update,
    /// After the refs moved; vetoes are only shown as warnings.
    PostReceive,
    /// Every ref transaction, pushes or not (`git update-ref`, `git branch`,
    /// a fetch into a mirror): policies run once the refs are locked
    /// (`prepared`) and a veto aborts the transaction; observers run once it
    /// is `committed`.
    ReferenceTransaction,
    /// After a push moved its refs, with only their names (git's older
    /// post-receive); an observer point.
    PostUpdate,
    /// A push to the branch a non-bare repository has checked out
    /// (`receive.denyCurrentBranch = updateInstead`): a veto refuses it,
    /// else hookrt updates the work tree as git would.
    PushToCheckout,
    /// A push to a `receive.procReceiveRefs` namespace (`refs/for/<branch>`):
    /// the policies run per ref against the target branch, and hookrt
    /// reports each ref's status back to receive-pack.
    ProcReceive,
    /// On a developer's clone, before `git push` sends anything: the
    /// server's pre-receive and update policies, over the commits about to
    /// be pushed.
    PrePush,
    /// On a developer's clone, before a commit is made: the server's
    /// policies marked `commit_msg = true`, over the commit being made.
    CommitMsg,
}

impl HookKind {
    /// The hook's name as git spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            HookKind::PreReceive => "pre-receive",
            HookKind::Update => "update",
            HookKind::PostReceive => "post-receive",
            HookKind::ReferenceTransaction => "reference-transaction",
            HookKind::PostUpdate => "post-update",
            HookKind::PushToCheckout => "push-to-checkout",
            HookKind::ProcReceive => "proc-receive",
            HookKind::PrePush => "pre-push",
            HookKind::CommitMsg => "commit-msg",
        }
    }

    /// Whether a veto in this hook stops refs from moving (or, on the
    /// client, the push or commit from being made).
    pub fn can_reject(self) -> bool {
        !matches!(self, HookKind::PostReceive | HookKind::PostUpdate)
    }

    /// Whether observers can be configured for this hook: those that run
    /// after refs moved (in a reference transaction, once it committed).
    pub fn has_observers(self) -> bool {
        matches!(self, HookKind::PostReceive | HookKind::PostUpdate | HookKind::ReferenceTransaction)
    }

    /// Whether this hook runs on a developer's clone rather than the
    /// server (`hookrt client install`).
    pub fn is_client(self) -> bool {
        matches!(self, HookKind::PrePush | HookKind::CommitMsg)
    }

    /// Every server hook hookrt installs itself as, in the order git runs
    /// them in a push.
    pub const SERVER: [HookKind; 7] = [
        HookKind::PreReceive,
        HookKind::ProcReceive,
        HookKind::Update,
        HookKind::PushToCheckout,
        HookKind::ReferenceTransaction,
        HookKind::PostReceive,
        HookKind::PostUpdate,
    ];

    /// The client hooks hookrt installs itself as in a clone.
    pub const CLIENT: [HookKind; 2] = [HookKind::PrePush, HookKind::CommitMsg];
}

impl std::fmt::Display for HookKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for HookKind {
    type Err = UnknownHook;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HookKind::SERVER
            .into_iter()
            .chain(HookKind::CLIENT)
            .find(|h| h.as_str() == s)
            .ok_or_else(|| UnknownHook(s.to_owned()))
    }
}

/// The error returned when a hook name is not one hookrt runs as.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown hook {0:?}: hookrt runs as pre-receive, update, post-receive, reference-transaction, post-update, push-to-checkout or proc-receive (and pre-push or commit-msg on a clone)"
)]
pub struct UnknownHook(pub String);

/// What a ref update does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    Create,
    Update,
    Delete,
}

/// What a ref is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefClass {
    Branch,
    Tag,
    Other,
}

/// One ref that the push moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    /// The full ref name, e.g. `refs/heads/main`.
    pub name: String,
    /// The id before the push; all zeros when the ref is created.
    pub old: ObjectId,
    /// The id after the push; all zeros when the ref is deleted.
    pub new: ObjectId,
}

impl RefUpdate {
    /// Whether the update creates, moves or deletes the ref.
    pub fn kind(&self) -> RefKind {
        if self.old.is_null() {
            RefKind::Create
        } else if self.new.is_null() {
            RefKind::Delete
        } else {
            RefKind::Update
        }
    }

    /// Whether the ref is a branch, a tag or something else.
    pub fn class(&self) -> RefClass {
        if self.name.starts_with("refs/heads/") {
            RefClass::Branch
        } else if self.name.starts_with("refs/tags/") {
            RefClass::Tag
        } else {
            RefClass::Other
        }
    }

    /// Parses the three values git gives the update hook as arguments (and
    /// pre-receive as one line of standard input).
    ///
    /// The name is taken as git gives it, past the `refs/` prefix: git
    /// refuses a name `git check-ref-format` would ("funny refname") when it
    /// comes to move the ref, before the update hook and long before
    /// post-receive, so such a name never lands whatever a policy says (only
    /// pre-receive can see one). Ids are 40 (SHA-1) or 64 (SHA-256) hex
    /// digits, upper case too (git writes lower case; either spells the same
    /// id), and both of one update are of the same hash.
    pub fn parse(name: &str, old: &str, new: &str) -> Result<Self, ParseError> {
        let id = |what: &'static str, hex: &str| {
            ObjectId::from_hex(hex.as_bytes()).map_err(|_| ParseError::BadObjectId {
                what,
                value: hex.to_owned(),
                ref_name: name.to_owned(),
            })
        };
        if name.is_empty() || !name.starts_with("refs/") {
            return Err(ParseError::BadRefName(name.to_owned()));
        }
        let update = RefUpdate { name: name.to_owned(), old: id("old", old)?, new: id("new", new)? };
        if update.old.kind() != update.new.kind() {
            return Err(ParseError::MixedHashes(name.to_owned()));
        }
        if update.old.is_null() && update.new.is_null() {
            return Err(ParseError::BothNull(name.to_owned()));
        }
        Ok(update)
    }
}

/// The error returned by [`RefUpdate::parse`]: the update hook's arguments,
/// or one line of pre-receive's input, are not what git sends.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("the {what} id of {ref_name} is not a full hex object id: {value:?}")]
    BadObjectId { what: &'static str, value: String, ref_name: String },
    #[error("{0:?} is not a full ref name (expected refs/...)")]
    BadRefName(String),
    #[error("the update of {0} has both ids all zeros: nothing to create or delete")]
    BothNull(String),
    #[error("the update of {0} has one SHA-1 and one SHA-256 id: a repository uses one hash")]
    MixedHashes(String),
}

/// The error returned by [`parse_ref_updates`]: which line of standard
/// input is not what git sends, and why.
#[derive(Debug, thiserror::Error)]
#[error("line {line} of the hook's standard input: {problem}")]
pub struct StdinError {
    /// 1-based, counting every `\n`-terminated line, empty ones too.
    pub line: usize,
    pub problem: LineProblem,
}

/// What is wrong with one line of a hook's standard input.
#[derive(Debug, thiserror::Error)]
pub enum LineProblem {
    #[error("it is not valid UTF-8")]
    NotUtf8,
    #[error("it ends in a carriage return (git ends lines with a bare newline): {text:?}")]
    CarriageReturn { text: String },
    #[error("it is not `<old-id> <new-id> <ref>`, three fields separated by single spaces: {text:?}")]
    Fields { text: String },
    #[error("its ids are {found} hex digits long, line {first_line}'s {expected}: a push uses one hash throughout")]
    MixedHashes { first_line: usize, expected: usize, found: usize },
    #[error(transparent)]
    Update(#[from] ParseError),
}

/// Parses pre-receive / post-receive standard input: one `<old> <new> <ref>`
/// line per updated ref, each ended by `\n` (the last one may lack it).
/// Empty lines are skipped; anything else that git would not have written is
/// an error naming the line, so a hook never runs on a push it misread.
///
/// That includes a carriage return before the newline: git never writes
/// one, and no ref name can hold one, so it means the input went through
/// something that rewrote it (a text-mode copy, a wrapper script), and
/// saying so beats guessing what else was rewritten.
pub fn parse_ref_updates(input: &[u8]) -> Result<Vec<RefUpdate>, StdinError> {
    let mut updates = Vec::new();
    // The first update's line and hex length: every other id must match it.
    let mut hash: Option<(usize, usize)> = None;
    for (index, raw) in input.split(|b| *b == b'\n').enumerate() {
        let line = index + 1;
        let at = |problem: LineProblem| StdinError { line, problem };
        let text = std::str::from_utf8(raw).map_err(|_| at(LineProblem::NotUtf8))?;
        if text.is_empty() {
            continue;
        }
        if text.ends_with('\r') {
            return Err(at(LineProblem::CarriageReturn { text: text.to_owned() }));
        }
        let fields: Vec<&str> = text.split(' ').collect();
        let [old, new, name] = fields[..] else {
            return Err(at(LineProblem::Fields { text: text.to_owned() }));
        };
        let update = RefUpdate::parse(name, old, new).map_err(|err| at(err.into()))?;
        let found = old.len();
        match hash {
            None => hash = Some((line, found)),
            Some((first_line, expected)) if expected != found => {
                return Err(at(LineProblem::MixedHashes { first_line, expected, found }));
            }
            Some(_) => {}
        }
        updates.push(update);
    }
    Ok(updates)
}

/// Everything about one hook run except the commits, which are read lazily.
#[derive(Debug, Clone)]
pub struct Push {
    pub hook: HookKind,
    /// The repository's git directory.
    pub git_dir: PathBuf,
    pub updates: Vec<RefUpdate>,
    pub push_options: Vec<String>,
    /// Who pushed, where the transport or hosting layer says.
    pub pusher: Option<crate::Pusher>,
    /// Where the push came from.
    pub context: crate::PushContext,
    /// For reference-transaction: which state of it, and whether a push
    /// made it; `None` for every other hook.
    pub transaction: Option<Transaction>,
}

impl Push {
    /// Whether the refs have already moved when the hook runs.
    pub fn when(&self) -> When {
        let moved = match self.hook {
            HookKind::PostReceive => true,
            // git names the refs but not where they were: each update is
            // from the ref's value to itself, and the refs as they stand are
            // all the "before" hookrt can know, so every walk is empty.
            HookKind::PostUpdate => false,
            HookKind::ReferenceTransaction => self.transaction.is_some_and(|t| t.committed),
            _ => false,
        };
        if moved { When::After } else { When::Before }
    }
}

impl Push {
    /// Whether observers run in this hook: once the refs moved, in
    /// post-receive, post-update or a committed reference transaction.
    pub fn observers_run(&self) -> bool {
        match self.hook {
            HookKind::PostReceive | HookKind::PostUpdate => true,
            HookKind::ReferenceTransaction => self.transaction.is_some_and(|t| t.committed),
            _ => false,
        }
    }
}

/// Whether the hook runs before the refs it is told about move (pre-receive,
/// update, a prepared transaction) or after (post-receive, post-update, a
/// committed transaction): which refs stood "before the push" follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Before,
    After,
}

/// A reference-transaction hook's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transaction {
    /// `committed` (the refs moved; observers run) rather than `prepared`
    /// (the refs are locked; policies run and may abort it).
    pub committed: bool,
    /// Whether receive-pack makes this transaction: the ref changes of a
    /// push, which pre-receive's policies already checked.
    pub within_push: bool,
}

/// Reads the push options git passes as `GIT_PUSH_OPTION_COUNT` and
/// `GIT_PUSH_OPTION_<n>` from `env` (a lookup such as `std::env::var`).
/// Missing or unreadable entries are skipped: options are advisory data.
pub fn push_options_from_env(env: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let count = env("GIT_PUSH_OPTION_COUNT").and_then(|c| c.trim().parse::<usize>().ok()).unwrap_or(0);
    // Git caps push options far below this; the bound keeps a forged count
    // from making us loop for long.
    (0..count.min(10_000)).filter_map(|n| env(&format!("GIT_PUSH_OPTION_{n}"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const Z: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn parses_git_stdin() {
        let input = format!("{Z} {A} refs/heads/new\n{A} {Z} refs/tags/v1\n\n");
        let updates = parse_ref_updates(input.as_bytes()).expect("valid input");
        assert_eq!(updates.len(), 2);
        assert_eq!(updates[0].kind(), RefKind::Create);
        assert_eq!(updates[0].class(), RefClass::Branch);
        assert_eq!(updates[1].kind(), RefKind::Delete);
        assert_eq!(updates[1].class(), RefClass::Tag);
    }

    #[test]
    fn rejects_malformed_lines() {
        let err = parse_ref_updates(format!("{A} refs/heads/x\n").as_bytes()).expect_err("must be rejected");
        assert!(matches!(err, StdinError { line: 1, problem: LineProblem::Fields { .. } }), "{err}");
        let err = parse_ref_updates(format!("{A} nothex refs/heads/x").as_bytes()).expect_err("must be rejected");
        assert!(err.to_string().contains("refs/heads/x"), "{err}");
        let err = parse_ref_updates(format!("\n{Z} {Z} refs/heads/x").as_bytes()).expect_err("must be rejected");
        assert!(matches!(err, StdinError { line: 2, problem: LineProblem::Update(ParseError::BothNull(_)) }), "{err}");
    }

    #[test]
    fn reads_push_options() {
        let env = |k: &str| match k {
            "GIT_PUSH_OPTION_COUNT" => Some("2".into()),
            "GIT_PUSH_OPTION_0" => Some("ci.skip".into()),
            "GIT_PUSH_OPTION_1" => Some("reviewer=ann".into()),
            _ => None,
        };
        assert_eq!(push_options_from_env(env), ["ci.skip", "reviewer=ann"]);
    }
}
