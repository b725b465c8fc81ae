//! Trailers against `git interpret-trailers --parse`, signatures and
//! messages against `git log`, and the malformed commits git shows.

use std::collections::HashSet;

use gix::ObjectId;

use super::{DAMAGED_SIGNATURE, all_commits, assert_none, git, git_with_input, id, malformed, open, try_git};

/// What `git log --encoding=UTF-8` shows of one commit.
struct Shown {
    id: ObjectId,
    /// Name, e-mail and `--date=raw` date.
    author: [String; 3],
    committer: [String; 3],
    /// `%B`, which ends at a NUL as git reads messages.
    message: Vec<u8>,
}

/// `1700000000 +0530` as seconds and minutes east of UTC.
fn raw_date(date: &str) -> (i64, i32) {
    let (time, zone) = date.split_once(' ').expect("a raw date");
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits: i32 = zone[1..].parse().expect("a zone");
    (time.parse().expect("seconds"), sign * (digits / 100 * 60 + digits % 100))
}

/// Every commit as git shows it, in one run.
fn shown() -> Vec<Shown> {
    let headers_only = id("malformed/headers-only");
    // No field holds a NUL (`%B` ends at one), so each commit is eight
    // NUL-terminated fields, the next one's first after a newline.
    let out = git(&[
        "log",
        "--all",
        "--encoding=UTF-8",
        "--date=raw",
        "--format=format:%H%x00%an%x00%ae%x00%ad%x00%cn%x00%ce%x00%cd%x00%B%x00",
    ]);
    let fields: Vec<&[u8]> = out.split(|&b| b == 0).collect();
    assert_eq!(fields.last(), Some(&&b""[..]), "the log ends with a NUL");
    let mut shown = Vec::new();
    for record in fields[..fields.len() - 1].chunks(8) {
        assert_eq!(record.len(), 8, "a commit of eight fields");
        let text = |i: usize| String::from_utf8_lossy(record[i]).into_owned();
        let id: ObjectId = text(0).trim_start_matches('\n').parse().expect("an id");
        // Of a commit with no blank line after its headers, git's `%B`
        // reads past the object's end (whatever memory follows: seen as
        // "" and as "\x05"); its message is empty (types.wit).
        let message = if id == headers_only { Vec::new() } else { record[7].to_vec() };
        shown.push(Shown { id, author: [text(1), text(2), text(3)], committer: [text(4), text(5), text(6)], message });
    }
    assert_eq!(shown.len(), all_commits().len(), "git log shows every commit once");
    shown
}

/// The commits whose signatures are hookrt's repair, not git's.
fn damaged() -> HashSet<ObjectId> {
    malformed().into_iter().filter(|(kind, _)| DAMAGED_SIGNATURE.contains(kind)).map(|(_, id)| id).collect()
}

/// `git interpret-trailers --parse` of `message`, as (key, value).
fn git_trailers(message: &[u8]) -> Vec<(String, String)> {
    let out = git_with_input(&["interpret-trailers", "--parse"], message);
    String::from_utf8_lossy(&out)
        .lines()
        .map(|line| {
            // git prints `key: value`; a key never holds a `:`.
            let (key, value) = line.split_once(':').expect("key: value");
            (key.to_owned(), value.strip_prefix(' ').unwrap_or(value).to_owned())
        })
        .collect()
}

#[test]
fn every_commit_has_the_trailers_interpret_trailers_finds() {
    let repo = open(&[], Vec::new());
    let (mut differences, mut found) = (Vec::new(), Vec::new());
    let mut messages = (0, 0);
    for commit in shown() {
        let want = git_trailers(&commit.message);
        let Ok(got) = repo.commit(commit.id) else { continue };
        if got.trailers != want {
            differences.push(format!(
                "{}: {:?}\n  hookrt {:?}\n  git    {:?}",
                commit.id,
                got.message.lines().next().unwrap_or(""),
                got.trailers,
                want
            ));
        }
        let text = String::from_utf8_lossy(&commit.message);
        messages.0 += usize::from(text.contains("(cherry picked from commit "));
        messages.1 += usize::from(text.contains("\r\n"));
        found.extend(want);
    }
    assert_none("the trailers", &differences);

    // The odd shapes the fixture claims are there, as git reads them.
    assert!(found.len() >= 30, "git finds only {} trailers in the fixture", found.len());
    for (key, value) in [
        ("Note", "a value folded over three lines of text"),
        ("Reviewed-by", "Spaced Key <key@example.com>"),
        ("https", "//example.com/not-a-key"),
        ("Change-Id", "Iabcdef"),
        ("Co-authored-by", "Pair Programmer <pair@example.com>"),
        ("Signed-off-by", "Ren\u{e9} Lef\u{e8}vre <rene@example.com>"),
    ] {
        assert!(found.iter().any(|(k, v)| k == key && v == value), "git finds no trailer {key}: {value}");
    }
    assert!(messages.0 >= 2, "{} cherry-picked messages", messages.0);
    assert!(messages.1 >= 1, "no message with CRLF line ends");
}

#[test]
fn every_commit_has_the_author_committer_and_message_git_log_shows() {
    let repo = open(&[], Vec::new());
    let damaged = damaged();
    let nul = id("malformed/nul-message");
    let (mut differences, mut compared, mut not_utf8, mut latin1) = (Vec::new(), 0, 0, 0);
    for shown in shown() {
        if damaged.contains(&shown.id) {
            continue;
        }
        let commit = match repo.commit(shown.id) {
            Ok(commit) => commit,
            Err(err) => {
                differences.push(format!("{}: does not decode: {err}", shown.id));
                continue;
            }
        };
        let person = |s: &hookrt::git::Signature| (s.name.clone(), s.email.clone(), s.time, s.tz_offset_minutes);
        let git_person = |[name, email, date]: &[String; 3]| {
            let (time, zone) = raw_date(date);
            (name.clone(), email.clone(), time, zone)
        };
        for (header, got, want) in
            [("author", &commit.author, &shown.author), ("committer", &commit.committer, &shown.committer)]
        {
            let (got, want) = (person(got), git_person(want));
            if got != want {
                differences.push(format!("{}: {header} {got:?}, git {want:?}", shown.id));
            }
        }
        // git's `%B` ends at a NUL; the message goes on (types.wit).
        let message = if shown.id == nul { commit.message.split('\0').next().unwrap_or("") } else { &commit.message };
        let want = String::from_utf8_lossy(&shown.message);
        if message != want {
            differences.push(format!("{}: message {message:?}, git {want:?}", shown.id));
        }
        compared += 1;
        not_utf8 += usize::from(std::str::from_utf8(&shown.message).is_err());
        latin1 += usize::from(commit.headers.iter().any(|(k, v)| k == "encoding" && v == "ISO-8859-1"));
    }
    assert_none("the signatures and messages", &differences);
    assert!(compared + DAMAGED_SIGNATURE.len() == all_commits().len(), "{compared} commits compared");
    assert!(not_utf8 >= 1, "no message of invalid UTF-8 was compared");
    assert!(latin1 >= 2, "{latin1} ISO-8859-1 commits compared");
}

/// The decoder is lenient as git is (git::commit): a commit git shows is
/// one a policy sees.
#[test]
fn every_malformed_commit_git_shows_decodes() {
    let repo = open(&[], Vec::new());
    let mut failures = Vec::new();
    let all = ("all", id("malformed/all"));
    for (kind, id) in malformed().into_iter().chain([all]) {
        let shown = try_git(&["log", "-1", &id.to_string()], &[]);
        assert!(shown.is_ok(), "git does not show malformed/{kind}: {shown:?}");
        if let Err(err) = repo.commit(id) {
            failures.push(format!("malformed/{kind} {id}: {err}"));
        }
    }
    assert_none("decoding what git shows", &failures);
}
