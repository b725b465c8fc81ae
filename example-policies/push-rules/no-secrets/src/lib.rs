//! no-secrets: private keys and AWS access keys don't get committed.
//!
//! A port of GitHub Enterprise's pre-receive sample `block_confidentials.sh`
//! (github/platform-samples): every commit new to the repository is vetoed
//! when a line it adds to a text file holds a private-key header
//! (`-----BEGIN RSA PRIVATE KEY-----` and its OPENSSH, EC, DSA, PGP and
//! plain kin) or an AWS access key id (`AKIA` and 16 more capitals or
//! digits). A secret a later commit of the push deletes still vetoes: it
//! would stay in the history. The sample's 40-character "secret key"
//! pattern is left out: it matches every commit id.
//!
//! "Added lines" are the `+` lines of `git diff --histogram`, which the host
//! works out (`files.added-lines`): the policy never reads whole files, and a
//! secret already in the repository does not block every later edit of its
//! file. A line moved within a file is added where it now is, as `git diff`
//! shows it. Binary files (git's test: a NUL in the first 8000 bytes) are
//! skipped. Of a file bigger than the host lets a policy read
//! (`blob_read_kib`, 1 MiB by default), the start is scanned and the pusher
//! is warned that the rest was not.
//!
//! A merge is compared with its first parent; a path whose content is the
//! same as in another parent came from there and was checked there (or was
//! in the repository already), so only what the merge itself introduces is
//! scanned. A veto names the path and line, never the secret itself.
//!
//! ```toml
//! [policy.no-secrets]
//! blob_read_kib = 4096   # scan the first 4 MiB of each file rather than 1 MiB
//!
//! [policy.no-secrets.settings]
//! # The default: what starts a private key, each a "-----BEGIN …" line.
//! # [] looks for AWS access keys only.
//! private-key-headers = [
//!     "-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN OPENSSH PRIVATE KEY-----",
//!     "-----BEGIN EC PRIVATE KEY-----", "-----BEGIN DSA PRIVATE KEY-----",
//!     "-----BEGIN PRIVATE KEY-----", "-----BEGIN ENCRYPTED PRIVATE KEY-----",
//!     "-----BEGIN PGP PRIVATE KEY BLOCK-----",
//! ]
//! ```

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{
    Change, ChangeKind, Commit, Filter, LookupError, Push, RefKind, RefUpdate, SettingError, Verdict, Veto, warn,
};

/// What every private-key header starts with.
const PEM_BEGIN: &str = "-----BEGIN ";
/// The default `private-key-headers`.
const PRIVATE_KEY_HEADERS: &[&str] = &[
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----",
    "-----BEGIN DSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----",
    "-----BEGIN PGP PRIVATE KEY BLOCK-----",
];
/// An AWS access key id: this prefix, then 16 capitals or digits.
const AWS_KEY_PREFIX: &str = "AKIA";
const AWS_KEY_LEN: usize = 20;
/// How many findings one veto lists.
const MAX_LISTED: usize = 5;

/// The admin's settings, checked.
struct Settings {
    /// Lines holding any of these start a private key; each starts with
    /// [`PEM_BEGIN`].
    private_key_headers: Vec<String>,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let defaults = PRIVATE_KEY_HEADERS.iter().map(|h| h.to_string()).collect();
        let private_key_headers: Vec<String> = s.or("private-key-headers", defaults);
        for problem in private_key_headers.iter().filter_map(|h| header_problem(h)) {
            s.error("private-key-headers", problem);
        }
        s.finish(Settings { private_key_headers })
    }
}

/// What is wrong with `header` as a private-key header, if anything.
fn header_problem(header: &str) -> Option<String> {
    // Files holding no "-----BEGIN " are skipped unread line by line, so
    // every header must contain it.
    let named = header.strip_prefix(PEM_BEGIN).is_some_and(|rest| !rest.trim_matches('-').trim().is_empty());
    (!named).then(|| {
        format!("{header:?} is not a PEM header: write the whole first line, e.g. \"-----BEGIN RSA PRIVATE KEY-----\"")
    })
}

/// What kind of secret `line` holds, described without the secret itself.
fn find_secret(line: &str, headers: &[String]) -> Option<String> {
    let pem = line.contains(PEM_BEGIN);
    if let Some(header) = headers.iter().find(|h| pem && line.contains(h.as_str())) {
        return Some(format!("a private key ({})", header.trim_matches('-')));
    }
    has_aws_key(line).then(|| format!("an AWS access key id ({AWS_KEY_PREFIX}{})", "*".repeat(16)))
}

/// Whether `line` holds `AKIA` and 16 capitals or digits, not glued to a
/// longer word on either side.
fn has_aws_key(line: &str) -> bool {
    let bytes = line.as_bytes();
    line.match_indices(AWS_KEY_PREFIX).any(|(at, _)| {
        let end = at + AWS_KEY_LEN;
        let body = bytes.get(at + AWS_KEY_PREFIX.len()..end).unwrap_or_default();
        let glued_before = at > 0 && bytes[at - 1].is_ascii_alphanumeric();
        let glued_after = bytes.get(end).is_some_and(u8::is_ascii_alphanumeric);
        body.len() == AWS_KEY_LEN - AWS_KEY_PREFIX.len()
            && body.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && !glued_before
            && !glued_after
    })
}

/// A secret on a line: where, and what kind.
struct Finding {
    path: String,
    line: usize,
    what: String,
}

/// The secrets on the lines `change` adds. Warns when the file is too big
/// to scan whole.
fn scan(
    update: &RefUpdate,
    commit: &Commit,
    change: &Change,
    settings: &Settings,
) -> Result<Vec<Finding>, LookupError> {
    let Some(new_id) = change.new_id.as_deref() else { return Ok(Vec::new()) };
    if change.old_id.as_deref() == Some(new_id) || (commit.is_merge && change.from_other_parent(commit)?) {
        return Ok(Vec::new());
    }
    // As much as the admin lets a policy read (blob_read_kib) of each.
    let added = change.added_lines(u64::MAX)?;
    if added.binary {
        return Ok(Vec::new());
    }
    if added.truncated {
        warn(&Veto::commit(
            update,
            commit,
            format!(
                "{}: only the first {} KiB of {} KiB were scanned for secrets",
                change.path,
                added.read / 1024,
                change.size / 1024
            ),
            "The rest of the file was not checked for private keys or AWS keys: make sure it holds none.",
        ));
    }
    // One pass over all of it first: most changes hold neither marker, and
    // looking line by line would cost many times more.
    if !added.text.contains(PEM_BEGIN) && !added.text.contains(AWS_KEY_PREFIX) {
        return Ok(Vec::new());
    }
    Ok(added
        .lines()
        .filter_map(|(number, line)| {
            let what = find_secret(line, &settings.private_key_headers)?;
            Some(Finding { path: change.path.clone(), line: number as usize, what })
        })
        .collect())
}

fn findings(update: &RefUpdate, commit: &Commit, settings: &Settings) -> Result<Vec<Finding>, LookupError> {
    let mut found = Vec::new();
    for change in commit.changes()? {
        let regular_file = change.new_mode & 0o170000 == 0o100000;
        if regular_file && matches!(change.kind, ChangeKind::Added | ChangeKind::Modified) {
            found.extend(scan(update, commit, &change, settings)?);
        }
    }
    Ok(found)
}

fn veto(update: &RefUpdate, commit: &Commit, found: &[Finding]) -> Veto {
    let first = &found[0];
    let mut summary = format!("secret in {} line {}: {}", first.path, first.line, first.what);
    if found.len() > 1 {
        summary.push_str(&format!(" (and {} more)", found.len() - 1));
    }
    // With one finding the summary says it all; with more, list them.
    let mut detail = String::new();
    if found.len() > 1 {
        for f in found.iter().take(MAX_LISTED) {
            detail.push_str(&format!("{}:{}: {}\n", f.path, f.line, f.what));
        }
        if found.len() > MAX_LISTED {
            detail.push_str(&format!("... and {} more\n", found.len() - MAX_LISTED));
        }
    }
    detail.push_str(
        "Take the secret out of this commit, not just out of a later one (git rebase -i), and\n\
         revoke or rotate it: it may have been copied already. Keep secrets in a secret store.",
    );
    Veto::commit(update, commit, summary, detail)
}

fn check(push: &Push, settings: &Settings) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind != RefKind::Delete) {
        for commit in update.commits(Filter::AddedToRepository) {
            match findings(update, &commit, settings) {
                Ok(found) if found.is_empty() => {}
                Ok(found) => vetoes.push(veto(update, &commit, &found)),
                // Fail closed: a commit that can't be read can't be cleared.
                Err(err) => vetoes.push(Veto::commit(
                    update,
                    &commit,
                    "the repository could not be read to scan the commit for secrets",
                    hookrt_guest::unreadable_detail(&err),
                )),
            }
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check, Settings);

#[cfg(test)]
mod tests {
    use super::{PRIVATE_KEY_HEADERS, find_secret, header_problem};

    #[test]
    fn finds_keys_without_showing_them() {
        let headers: Vec<String> = PRIVATE_KEY_HEADERS.iter().map(|h| h.to_string()).collect();
        let find_secret = |line: &str| find_secret(line, &headers);
        let rsa = find_secret("-----BEGIN RSA PRIVATE KEY-----");
        assert_eq!(rsa.as_deref(), Some("a private key (BEGIN RSA PRIVATE KEY)"));
        assert!(find_secret("  key: \"-----BEGIN OPENSSH PRIVATE KEY-----\"").is_some());
        let aws = find_secret("aws_access_key_id = AKIAIOSFODNN7EXAMPLE").unwrap_or_default();
        assert_eq!(aws, "an AWS access key id (AKIA****************)");
        assert!(!aws.contains("IOSFODNN7EXAMPLE"));
        assert!(find_secret("key=\"AKIAIOSFODNN7EXAMPLE\"").is_some());
        assert!(find_secret("-----BEGIN PUBLIC KEY-----").is_none());
        assert!(find_secret("AKIAIOSFODNN7EXAMPL").is_none(), "too short");
        assert!(find_secret("AKIAIOSFODNN7EXAMPLEX").is_none(), "too long");
        assert!(find_secret("XAKIAIOSFODNN7EXAMPLE").is_none(), "glued");
        assert!(find_secret("AKIAiosfodnn7example").is_none(), "lower case");
    }

    #[test]
    fn only_the_listed_headers_count() {
        let headers = ["-----BEGIN SSH2 ENCRYPTED PRIVATE KEY-----".to_owned()];
        assert!(find_secret("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----", &headers).is_none());
        assert!(find_secret("-----BEGIN SSH2 ENCRYPTED PRIVATE KEY-----", &headers).is_some());
        assert!(find_secret("-----BEGIN RSA PRIVATE KEY-----", &headers).is_none());
        assert!(find_secret("AKIAIOSFODNN7EXAMPLE", &[]).is_some(), "AWS keys are always looked for");
    }

    #[test]
    fn headers_are_checked() {
        for header in PRIVATE_KEY_HEADERS {
            assert_eq!(header_problem(header), None, "{header}");
        }
        for header in ["", "RSA PRIVATE KEY", "-----BEGIN -----", "BEGIN RSA PRIVATE KEY", "-----BEGIN"] {
            assert!(header_problem(header).is_some(), "{header:?}");
        }
    }
}
