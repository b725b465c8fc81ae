//! Reading the start of a blob, differentially against git: every blob of
//! repositories that store them loose, packed whole and as OFS_DELTA and
//! REF_DELTA chains (tests/fixtures/blobs.sh), read at many lengths through
//! the library, must give the bytes `git cat-file` gives, with the size
//! and binary test git's would, in whatever order the reads come (each
//! leaves the objects of its delta chain decoded for the next, see
//! `git::packs`). The memory side (a 100 MiB blob costs a read's worth,
//! not the blob) is in hostile.rs.

use std::path::Path;
use std::process::Command;

use hookrt::git::{self, Repo};

use crate::support::run_fixture;

fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("git").current_dir(dir).args(args).env("GIT_CONFIG_NOSYSTEM", "1").output().expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// The ids of every blob in `repo`, and how many of them are deltas.
fn blobs(repo: &Path) -> (Vec<String>, usize) {
    let list = String::from_utf8(git(repo, &["cat-file", "--batch-all-objects", "--batch-check"])).expect("utf-8");
    let ids: Vec<String> =
        list.lines().filter(|l| l.contains(" blob ")).map(|l| l.split(' ').next().expect("an id").to_owned()).collect();
    let mut deltas = 0;
    for pack in std::fs::read_dir(repo.join("objects/pack")).expect("packs").flatten() {
        if pack.path().extension().is_some_and(|e| e == "idx") {
            let shown = git(repo, &["verify-pack", "-v", pack.path().to_str().expect("utf-8")]);
            // A delta's line ends with its depth and base.
            deltas += String::from_utf8_lossy(&shown)
                .lines()
                .filter(|l| l.contains(" blob ") && l.split_whitespace().count() == 7)
                .count();
        }
    }
    (ids, deltas)
}

#[test]
fn the_start_of_every_blob_is_what_git_reads_however_it_is_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    run_fixture("blobs.sh", &[dir.path().to_str().expect("utf-8")]);
    for name in ["ofs.git", "ref.git"] {
        let repo_dir = dir.path().join(name);
        let (ids, deltas) = blobs(&repo_dir);
        assert!(deltas >= 10, "{name}: only {deltas} deltas; the fixture is meant to make chains");
        let repo = Repo::open(&repo_dir, &[repo_dir.join("objects")], git::When::Before, &[]).expect("open");
        for id in &ids {
            let whole = git(&repo_dir, &["cat-file", "blob", id]);
            let oid = gix::ObjectId::from_hex(id.as_bytes()).expect("an id");
            let size = whole.len();
            for max in [
                0,
                1,
                100,
                7999,
                8000,
                8001,
                65535,
                65536,
                65537,
                100_000,
                size / 2,
                size.saturating_sub(1),
                size,
                size + 1,
            ] {
                let blob = repo.read_blob(oid, max, None).unwrap_or_else(|e| panic!("{name} {id} max {max}: {e}"));
                let want = &whole[..max.min(size)];
                assert!(blob.data == want, "{name} {id}, first {max} of {size} bytes differ from git's");
                assert_eq!(blob.size, size as u64, "{name} {id}");
                assert_eq!(blob.truncated, max < size, "{name} {id} max {max}");
                // git's buffer_is_binary: a NUL in the first 8000 bytes.
                assert_eq!(blob.looks_binary, whole[..size.min(8000)].contains(&0), "{name} {id} max {max}");
            }
        }
    }
}

#[test]
fn blobs_read_whole_are_what_git_reads_whichever_part_of_their_chains_was_decoded_before() {
    let dir = tempfile::tempdir().expect("temp dir");
    run_fixture("blobs.sh", &[dir.path().to_str().expect("utf-8")]);
    for name in ["ofs.git", "ref.git"] {
        let repo_dir = dir.path().join(name);
        let (ids, _) = blobs(&repo_dir);
        let contents: Vec<Vec<u8>> = ids.iter().map(|id| git(&repo_dir, &["cat-file", "blob", id])).collect();
        let open = || Repo::open(&repo_dir, &[repo_dir.join("objects")], git::When::Before, &[]).expect("open");
        // Smallest first, largest first (git deltifies the smaller version
        // of a file against the larger) and by id; each in a repository
        // opened afresh (a push of its own), the last twice.
        let mut by_size: Vec<usize> = (0..ids.len()).collect();
        by_size.sort_by_key(|&i| contents[i].len());
        let newest_first: Vec<usize> = by_size.iter().rev().copied().collect();
        let by_id: Vec<usize> = (0..ids.len()).collect();
        let by_id_again = [by_id.clone(), by_id.clone()].concat();
        for (order, indexes) in
            [("oldest first", by_size), ("newest first", newest_first), ("by id, twice", by_id_again)]
        {
            let repo = open();
            for i in indexes {
                let oid = gix::ObjectId::from_hex(ids[i].as_bytes()).expect("an id");
                let blob = repo
                    .read_blob(oid, usize::MAX, None)
                    .unwrap_or_else(|e| panic!("{name} {} ({order}): {e}", ids[i]));
                assert!(blob.data == contents[i], "{name} {} ({order}): the bytes differ from git's", ids[i]);
            }
        }
    }
}
