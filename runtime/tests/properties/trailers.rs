//! A commit message's trailers, as hookrt decodes them, are exactly what
//! `git interpret-trailers --parse` finds in the message: messages made of
//! the lines git's trailer rules turn on (sign-offs, `(cherry picked from
//! …)`, continuation lines, `---` dividers, comments, the 25% rule's prose).

use std::io::Write;
use std::process::{Command, Stdio};

use hookrt::git::Commit;
use proptest::prelude::*;

const LINES: &[&str] = &[
    "",
    "some prose that is not a trailer",
    "more prose",
    "and more",
    "Signed-off-by: A U Thor <a@example.com>",
    "Signed-off-by:no space",
    "(cherry picked from commit 0123456789abcdef0123456789abcdef01234567)",
    "Reviewed-by: R <r@example.com>",
    "Reviewed-by : spaced key",
    "Co-authored-by: C <c@example.com>",
    "Change-Id: I0123456789abcdef",
    "Key:value",
    "Bug #12",
    "  continued value",
    "\tcontinued by a tab",
    "---",
    "--- not a divider? it is",
    "----",
    "# a comment",
    "#no space",
    ": starts with a colon",
    "Key: value with CRLF\r",
    "\r",
    " ",
    "not-a-key value: later colon",
    "Key-With-Dashes: x",
    "Key With Spaces: x",
    "Conflicts:",
    "# ------------------------ >8 ------------------------",
    "Ünïcode: välue",
];

/// A subject and paragraphs of [`LINES`]: git's rules look at the last
/// paragraph, and its ratio of trailers to prose, so paragraphs of up to
/// eight lines come often.
fn message() -> impl Strategy<Value = String> {
    let paragraph = proptest::collection::vec(proptest::sample::select(LINES), 1..8).prop_map(|l| l.join("\n"));
    (proptest::collection::vec(paragraph, 0..4), any::<bool>()).prop_map(|(paragraphs, newline)| {
        let mut text = std::iter::once("Fix the parser".to_owned()).chain(paragraphs).collect::<Vec<_>>().join("\n\n");
        if newline {
            text.push('\n');
        }
        text
    })
}

/// What git prints for `message`, one `(key, value)` per trailer.
fn git_trailers(message: &str) -> Vec<(String, String)> {
    let mut child = Command::new("git")
        .args(["interpret-trailers", "--parse"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run git interpret-trailers");
    child.stdin.take().expect("stdin").write_all(message.as_bytes()).expect("write the message");
    let out = child.wait_with_output().expect("git interpret-trailers");
    assert!(out.status.success(), "git interpret-trailers failed");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|line| {
            // `<key>: <value>`: a key never holds a `:`, git adds the space.
            let (key, value) = line.split_once(':').expect("a trailer line");
            (key.to_owned(), value.strip_prefix(' ').unwrap_or(value).to_owned())
        })
        .collect()
}

fn hookrt_trailers(message: &str) -> Vec<(String, String)> {
    let text = format!(
        "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n\n{message}"
    );
    let id = gix::ObjectId::null(gix::hash::Kind::Sha1);
    Commit::decode(id, text.as_bytes(), gix::hash::Kind::Sha1).expect("a well-formed commit").trailers
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn trailers_are_what_git_interpret_trailers_finds(message in message()) {
        prop_assert_eq!(hookrt_trailers(&message), git_trailers(&message), "message {:?}", message);
    }
}
