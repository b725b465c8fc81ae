//! What each commit changed against `git diff-tree -r -M100% --raw`, sizes
//! against `git cat-file -s`.

use std::collections::{HashMap, HashSet};

use gix::ObjectId;
use gix::bstr::BString;
use hookrt::git::ChangeKind;

use super::{all_commits, assert_none, git, git_with_input, open};

/// One changed path, as both sides are compared.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    kind: ChangeKind,
    path: BString,
    old_path: Option<BString>,
    old_mode: u32,
    new_mode: u32,
    old_id: Option<ObjectId>,
    new_id: Option<ObjectId>,
    size: u64,
}

/// A record of `git diff-tree --raw -z`.
struct Raw {
    status: u8,
    old_mode: u32,
    new_mode: u32,
    old_id: Option<ObjectId>,
    new_id: Option<ObjectId>,
    /// The path before (for a rename) and the path.
    old_path: Option<BString>,
    path: BString,
}

fn parse_raw(out: &[u8]) -> Vec<Raw> {
    let mut fields = out.split(|&b| b == 0).filter(|f| !f.is_empty());
    let mut records = Vec::new();
    while let Some(meta) = fields.next() {
        let meta = std::str::from_utf8(meta).expect("the record's head is ASCII");
        let parts: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let [old_mode, new_mode, old_id, new_id, status] = parts[..] else { panic!("a raw record: {meta:?}") };
        let mode = |m: &str| u32::from_str_radix(m, 8).expect("an octal mode");
        let object = |id: &str| Some(id.parse::<ObjectId>().expect("an id")).filter(|id| !id.is_null());
        let status = status.as_bytes()[0];
        let first = BString::from(fields.next().expect("a path"));
        let (old_path, path) = match status {
            b'R' | b'C' => (Some(first), BString::from(fields.next().expect("the new path"))),
            _ => (None, first),
        };
        records.push(Raw {
            status,
            old_mode: mode(old_mode),
            new_mode: mode(new_mode),
            old_id: object(old_id),
            new_id: object(new_id),
            old_path,
            path,
        });
    }
    records
}

/// git's record as the library's contract puts it: a type change is a
/// modification, and a rename is git's exact rename (a regular file may
/// become executable on the way, files.wit).
fn expected(raw: &Raw, sizes: &HashMap<ObjectId, u64>) -> Vec<Listed> {
    let size = |mode: u32, id: Option<ObjectId>| match id {
        Some(_) if mode == 0o160000 => 0,
        Some(id) => *sizes.get(&id).expect("every blob was sized"),
        None => 0,
    };
    let listed = |kind, path: &BString, old_path, old: (u32, Option<ObjectId>), new: (u32, Option<ObjectId>)| {
        let size = if kind == ChangeKind::Deleted { size(old.0, old.1) } else { size(new.0, new.1) };
        Listed {
            kind,
            path: path.clone(),
            old_path,
            old_mode: old.0,
            new_mode: new.0,
            old_id: old.1,
            new_id: new.1,
            size,
        }
    };
    let (old, new) = ((raw.old_mode, raw.old_id), (raw.new_mode, raw.new_id));
    match raw.status {
        b'A' => vec![listed(ChangeKind::Added, &raw.path, None, old, new)],
        b'D' => vec![listed(ChangeKind::Deleted, &raw.path, None, old, new)],
        b'M' | b'T' => vec![listed(ChangeKind::Modified, &raw.path, None, old, new)],
        b'R' => vec![listed(ChangeKind::Renamed, &raw.path, raw.old_path.clone(), old, new)],
        other => panic!("git listed a change of status {}", other as char),
    }
}

/// `git cat-file -s` of every id, in one run.
fn sizes(ids: impl IntoIterator<Item = ObjectId>) -> HashMap<ObjectId, u64> {
    let ids: Vec<ObjectId> = ids.into_iter().collect::<HashSet<_>>().into_iter().collect();
    let input: String = ids.iter().map(|id| format!("{id}\n")).collect();
    let out = String::from_utf8(git_with_input(&["cat-file", "--batch-check=%(objectsize)"], input.as_bytes()))
        .expect("sizes");
    ids.into_iter().zip(out.lines()).map(|(id, size)| (id, size.parse().expect("a size"))).collect()
}

#[test]
fn every_commit_changes_what_diff_tree_lists() {
    // git's records for every commit first, so that their blobs are
    // sized in one run.
    let mut listed = Vec::new();
    for (commit, parents) in all_commits() {
        let id = commit.to_string();
        let out = match parents.first() {
            Some(parent) => git(&["diff-tree", "-r", "-M100%", "--raw", "-z", &parent.to_string(), &id]),
            None => git(&["diff-tree", "-r", "-M100%", "--raw", "-z", "--root", "--no-commit-id", &id]),
        };
        listed.push((*commit, parents.len(), parse_raw(&out)));
    }
    let blobs = listed
        .iter()
        .flat_map(|(_, _, raw)| raw.iter())
        .flat_map(|r| [(r.old_mode, r.old_id), (r.new_mode, r.new_id)].into_iter().filter(|(m, _)| *m != 0o160000));
    let sizes = sizes(blobs.filter_map(|(_, id)| id));

    // No branch before the push: the new-to-repository test, which is
    // not compared here, costs nothing then.
    let repo = open(&[], Vec::new());
    let mut differences = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut statuses: HashSet<u8> = HashSet::new();
    let mut largest = 0;
    for (commit, parents, raw) in &listed {
        let want: Vec<Listed> = raw.iter().flat_map(|r| expected(r, &sizes)).collect();
        let got = match repo.changes(*commit, 100_000, None) {
            Ok(got) => got,
            Err(err) => {
                differences.push(format!("{commit}: changes failed ({err}); git lists {}", want.len()));
                continue;
            }
        };
        let got: Vec<Listed> = got
            .into_iter()
            .map(|c| Listed {
                kind: c.kind,
                path: c.path,
                old_path: c.old_path,
                old_mode: c.old_mode,
                new_mode: c.new_mode,
                old_id: c.old_id,
                new_id: c.new_id,
                size: c.size,
            })
            .collect();
        if got != want {
            let show = |list: &[Listed]| {
                let lines = list.iter().take(20).map(|c| format!("\n    {c:?}"));
                lines.collect::<String>()
            };
            differences.push(format!(
                "{commit}: {} changes, git {}\n  hookrt:{}\n  git:{}",
                got.len(),
                want.len(),
                show(&got),
                show(&want)
            ));
            continue;
        }
        largest = largest.max(got.len());
        statuses.extend(raw.iter().map(|r| r.status));
        for change in &got {
            if std::str::from_utf8(&change.path).is_err() {
                seen.insert("a path that is not UTF-8");
            }
            match change.new_mode.max(change.old_mode) {
                0o120000 => seen.insert("a symlink"),
                0o160000 => seen.insert("a submodule"),
                _ => false,
            };
            if change.old_mode == 0o100644 && change.new_mode == 0o100755 {
                seen.insert("a file made executable");
            }
            if change.kind == ChangeKind::Renamed {
                seen.insert("a rename");
            }
            if *parents > 1 {
                seen.insert("a merge against its first parent");
            }
        }
    }
    assert_none("the commits' changes", &differences);

    // What the fixture claims to hold was compared.
    for what in [
        "a rename",
        "a path that is not UTF-8",
        "a symlink",
        "a submodule",
        "a file made executable",
        "a merge against its first parent",
    ] {
        assert!(seen.contains(what), "no {what} among the changes compared");
    }
    for (status, what) in [(b'R', "rename"), (b'T', "type change"), (b'D', "deletion"), (b'M', "modification")] {
        assert!(statuses.contains(&status), "git listed no {what}");
    }
    assert!(largest >= 3000, "the largest commit compared changes {largest} paths; the fixture adds 3000");
    let copies =
        git(&["log", "--all", "--format=", "-r", "-C100%", "--find-copies-harder", "--raw", "--diff-filter=C"]);
    assert!(!copies.is_empty(), "git finds no exact copy in the fixture");
}
