//! reference-transaction: git runs it for every ref transaction, in a push
//! or not (`git update-ref`, `git branch`, a fetch into a mirror), once per
//! state, with one `<old> <new> <ref>` line per ref on standard input.
//!
//! hookrt runs the policies configured for it in `prepared` (the refs are
//! locked; a non-zero exit aborts the transaction) and its observers in
//! `committed`. `preparing` and `aborted` run nothing.

use gix::ObjectId;

use crate::push::{LineProblem, RefUpdate, StdinError};

/// The refs under this prefix are hookrt's own (the policy set a server
/// publishes for clones, `crate::client`): no policy sees them change, and
/// no push may change them.
pub const RESERVED_PREFIX: &str = "refs/hookrt/";

/// The state git names as the hook's argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Preparing,
    Prepared,
    Committed,
    Aborted,
}

impl std::str::FromStr for State {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "preparing" => Ok(State::Preparing),
            "prepared" => Ok(State::Prepared),
            "committed" => Ok(State::Committed),
            "aborted" => Ok(State::Aborted),
            other => Err(format!(
                "reference-transaction takes the state git passes (preparing, prepared, committed or aborted), not {other:?}"
            )),
        }
    }
}

/// The ref updates of a transaction's standard input, as policies see them.
///
/// Left out: names outside `refs/` (`HEAD`, `AUTO_MERGE`, pseudo-refs),
/// hookrt's own refs, and symbolic-ref values (`ref:<target>`, git 2.46+).
/// git writes the all-zero old id when the caller did not say what it
/// expected (`git update-ref NAME NEW`, a forced update); in `prepared` the
/// ref has not moved yet, so its value now (`current`) is what it was. A
/// deletion whose old value is unknown even then names a ref that is not
/// there, and is left out too.
pub fn parse_updates(
    input: &[u8],
    state: State,
    current: impl Fn(&str) -> Option<ObjectId>,
) -> Result<Vec<RefUpdate>, StdinError> {
    let mut updates = Vec::new();
    for (index, raw) in input.split(|b| *b == b'\n').enumerate() {
        let at = |problem: LineProblem| StdinError { line: index + 1, problem };
        let text = std::str::from_utf8(raw).map_err(|_| at(LineProblem::NotUtf8))?;
        if text.is_empty() {
            continue;
        }
        let fields: Vec<&str> = text.split(' ').collect();
        let [old, new, name] = fields[..] else {
            return Err(at(LineProblem::Fields { text: text.to_owned() }));
        };
        if !name.starts_with("refs/")
            || name.starts_with(RESERVED_PREFIX)
            || old.starts_with("ref:")
            || new.starts_with("ref:")
        {
            continue;
        }
        let zero = old.bytes().all(|b| b == b'0');
        let old = match (zero, state, current(name)) {
            (true, State::Prepared, Some(id)) => id.to_string(),
            _ => old.to_owned(),
        };
        if old.bytes().all(|b| b == b'0') && new.bytes().all(|b| b == b'0') {
            continue;
        }
        updates.push(RefUpdate::parse(name, &old, new).map_err(|err| at(err.into()))?);
    }
    Ok(updates)
}

/// Whether receive-pack makes this transaction: one of this process's
/// ancestors is `git receive-pack` (git runs the hook from it, or from a
/// `git update-ref` that hookrt's proc-receive runs). Read from `/proc`;
/// where there is none, no transaction counts as a push's, so policies run
/// (twice rather than never).
pub fn within_push() -> bool {
    let mut pid = std::os::unix::process::parent_id();
    // A hook is a few processes below receive-pack; the bound keeps a
    // strange process table from making this loop for long.
    for _ in 0..16 {
        if pid <= 1 {
            return false;
        }
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return false };
        let mut args = cmdline.split(|b| *b == 0).map(|a| a.rsplit(|b| *b == b'/').next().unwrap_or(a));
        match (args.next(), args.next()) {
            (Some(b"git-receive-pack"), _) | (Some(b"git"), Some(b"receive-pack")) => return true,
            _ => {}
        }
        let Some(parent) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| s.lines().find_map(|l| l.strip_prefix("PPid:").and_then(|v| v.trim().parse().ok())))
        else {
            return false;
        };
        pid = parent;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const Z: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn reads_what_git_writes() {
        let input = format!(
            "{Z} {A} HEAD\n{Z} {A} refs/heads/main\n{Z} {Z} refs/x\n{Z} {B} refs/hookrt/policies\n{Z} ref:refs/heads/a refs/heads/sym\n{Z} {Z} refs/gone\n"
        );
        let current = |name: &str| (name == "refs/x").then(|| ObjectId::from_hex(B.as_bytes()).expect("hex"));
        let prepared = parse_updates(input.as_bytes(), State::Prepared, current).expect("valid");
        let names: Vec<_> = prepared.iter().map(|u| (u.name.as_str(), u.old.to_string(), u.new.to_string())).collect();
        // main's old is unknown (no such ref yet), refs/x is deleted from
        // its value now, refs/gone never was.
        assert_eq!(names, [("refs/heads/main", Z.into(), A.into()), ("refs/x", B.into(), Z.into())]);
        let committed = parse_updates(input.as_bytes(), State::Committed, current).expect("valid");
        assert_eq!(committed.len(), 1, "a deletion of an unknown value is left out once committed");
        assert!(parse_updates(b"junk\n", State::Prepared, |_| None).is_err());
    }
}
