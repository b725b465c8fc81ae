//! The lines each change adds (`files.added-lines`) against the `+` lines
//! of `git diff --histogram` between the same two blobs.

use std::collections::HashSet;

use hookrt::git::ChangeKind;

use super::{all_commits, assert_none, git, open};

/// The empty blob: what an added file is diffed against.
const EMPTY_BLOB: &str = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";

/// The new-side line numbers of git's `+` lines, or `None` for a binary
/// diff.
fn git_added(old: &str, new: &str) -> Option<Vec<u32>> {
    let out = git(&["diff", "--histogram", "-U0", "--no-color", "--no-ext-diff", old, new]);
    let text = String::from_utf8_lossy(&out);
    if text.lines().any(|l| l.starts_with("Binary files")) {
        return None;
    }
    let mut numbers = Vec::new();
    for hunk in text.lines().filter_map(|l| l.strip_prefix("@@ ")) {
        // `-a,b +c,d @@`: d lines from c (d is 1 when left out).
        let plus = hunk.split(' ').nth(1).and_then(|p| p.strip_prefix('+')).expect("a hunk header");
        let (start, count) = plus.split_once(',').map_or((plus, "1"), |(s, c)| (s, c));
        let (start, count): (u32, u32) = (start.parse().expect("a line"), count.parse().expect("a count"));
        numbers.extend(start..start + count);
    }
    Some(numbers)
}

#[test]
fn every_change_adds_the_lines_git_diff_shows() {
    let repo = open(&[], Vec::new());
    let (mut differences, mut compared, mut seen) = (Vec::new(), 0, HashSet::new());
    for (commit, _) in all_commits() {
        let changes = repo.changes(*commit, 100_000, None).expect("the commit's changes");
        // The 3000-file commit would be 3000 git runs; its kind is in others.
        if changes.len() > 40 {
            continue;
        }
        for change in changes.iter().filter(|c| c.kind != ChangeKind::Deleted && c.new_mode & 0o170000 == 0o100000) {
            let new = change.new_id.expect("a new blob");
            let old = change.old_id.filter(|_| change.kind != ChangeKind::Added);
            let old_hex = old.map_or(EMPTY_BLOB.to_owned(), |id| id.to_string());
            let got = repo.added_lines(old, new, usize::MAX, None).expect("the added lines");
            let want = git_added(&old_hex, &new.to_string());
            compared += 1;
            match (&want, got.binary) {
                (None, true) => {
                    seen.insert("binary");
                }
                (Some(want), false) => {
                    let numbers = &got.numbers;
                    if numbers != want {
                        differences.push(format!("{commit} {}: lines {numbers:?}, git {want:?}", change.path));
                    }
                    seen.insert(if old.is_some() { "modified" } else { "added" });
                    if want.is_empty() {
                        seen.insert("a change that adds no line");
                    }
                }
                _ => differences.push(format!("{commit} {}: binary {}, git {:?}", change.path, got.binary, want)),
            }
        }
    }
    assert_none("the lines changes add", &differences);
    assert!(compared > 200, "only {compared} changes compared");
    for what in ["binary", "modified", "added", "a change that adds no line"] {
        assert!(seen.contains(what), "no {what} change was compared");
    }
}
