//! What commits changed and what blobs hold (`hookrt:policy/files`), read
//! by the probe guest inside pre-receive's quarantine, held against git.

use crate::support::{Server, example_policy};

/// The size git gives the blob at `path` in the clone's HEAD.
fn git_size(server: &Server, path: &str) -> String {
    server.git(&["cat-file", "-s", &format!("HEAD:{path}")])
}

#[test]
fn changes_list_each_path_a_commit_touched_against_its_first_parent() {
    let server = Server::with_probe();
    server.write_file("a.txt", "one\n");
    server.write_file("dir/b.txt", "bee\n");
    server.write_file("old-name.txt", "moving\n");
    server.commit("start");
    server.push(&["origin", "main"]).assert_ok();
    // A path another branch already has is not new to the repository.
    server.git(&["checkout", "--quiet", "-b", "other"]);
    server.write_file("shared.txt", "on other\n");
    server.commit("on other");
    server.push(&["origin", "other"]).assert_ok();
    server.git(&["checkout", "--quiet", "main"]);

    server.write_file("a.txt", "one, changed\n");
    server.remove_file("dir/b.txt");
    std::fs::rename(server.work.join("old-name.txt"), server.work.join("new-name.txt")).expect("rename");
    server.write_file("script.sh", "#!/bin/sh\n");
    let executable = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(server.work.join("script.sh"), executable).expect("chmod");
    server.write_file("shared.txt", "on main too\n");
    std::os::unix::fs::symlink("a.txt", server.work.join("link")).expect("symlink");
    server.commit("change things");
    let pushed = server.push(&["-o", "changes", "origin", "main"]).assert_ok();

    let size = |path| git_size(&server, path);
    pushed.assert_line(&format!(
        "[probe] change change things Modified a.txt 100644>100644 size={} new=false from=-",
        size("a.txt")
    ));
    pushed.assert_line("[probe] change change things Deleted dir/b.txt 100644>0 size=4 new=false from=-");
    pushed.assert_line(&format!(
        "[probe] change change things Renamed new-name.txt 100644>100644 size={} new=true from=old-name.txt",
        size("new-name.txt")
    ));
    pushed.assert_line(&format!(
        "[probe] change change things Added script.sh 0>100755 size={} new=true from=-",
        size("script.sh")
    ));
    pushed.assert_line(&format!(
        "[probe] change change things Added shared.txt 0>100644 size={} new=false from=-",
        size("shared.txt")
    ));
    pushed.assert_line("[probe] change change things Added link 0>120000 size=5 new=true from=-");
    // One change per path git lists, in git's order.
    let listed: Vec<&str> = pushed
        .remote_lines()
        .into_iter()
        .filter_map(|l| l.strip_prefix("[probe] change change things "))
        .map(|l| l.split(' ').nth(1).unwrap_or(""))
        .collect();
    let by_git = server.git(&["diff-tree", "-r", "-M100%", "--name-only", "--no-commit-id", "HEAD"]);
    assert_eq!(listed, by_git.lines().collect::<Vec<_>>(), "{}", pushed.stderr);
}

#[test]
fn a_root_commit_is_compared_with_the_empty_tree() {
    let server = Server::with_probe();
    server.git(&["checkout", "--quiet", "--orphan", "fresh"]);
    server.git(&["rm", "--quiet", "-r", "--cached", "--ignore-unmatch", "."]);
    server.write_file("README", "hello\n");
    server.commit("a new root");
    let pushed = server.push(&["-o", "changes", "origin", "fresh"]).assert_ok();
    pushed.assert_line("[probe] change a new root Added README 0>100644 size=6 new=true from=-");
}

#[test]
fn blob_reads_stop_at_what_the_policy_asks_and_at_the_admins_cap() {
    let server = Server::with_probe();
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    server.write_file("data/big.bin", &data);
    server.write_file("notes.txt", "plain text\n");
    server.commit("add data");

    let pushed = server.push(&["-o", "read=data/big.bin", "-o", "max=100", "origin", "main"]).assert_ok();
    pushed.assert_line("[probe] file data/big.bin size=3000000 read=100 truncated=true binary=true");
    pushed.assert_line("[probe] blob data/big.bin size=3000000 read=100 truncated=true binary=true");

    // The policy asks for everything; the default cap (1 MiB) still holds.
    server.commit("again");
    let pushed = server.push(&["-o", "read=data/big.bin", "origin", "main"]).assert_ok();
    pushed.assert_line("[probe] file data/big.bin size=3000000 read=1048576 truncated=true binary=true");

    // An admin's smaller cap holds too.
    server.write_config("[policy.probe]\nblob_read_kib = 16\n");
    server.commit("once more");
    let pushed = server.push(&["-o", "read=data/big.bin", "origin", "main"]).assert_ok();
    pushed.assert_line("[probe] file data/big.bin size=3000000 read=16384 truncated=true binary=true");

    server.commit("text");
    let pushed = server.push(&["-o", "read=notes.txt", "origin", "main"]).assert_ok();
    pushed.assert_line("[probe] file notes.txt size=11 read=11 truncated=false binary=false");
    let pushed = {
        server.commit("missing");
        server.push(&["-o", "read=no/such/file", "origin", "main"]).assert_ok()
    };
    assert!(
        pushed.stderr.contains("[probe] file no/such/file error LookupError::NotFound(\"no/such/file in"),
        "{}",
        pushed.stderr
    );
}

#[test]
fn a_100_mb_blob_and_a_path_that_is_not_utf8_arrive_whole() {
    use std::os::unix::ffi::OsStrExt;
    let server = Server::with_probe();
    server.write_file("huge.txt", vec![b'x'; 100 << 20]);
    // "café.txt" in Latin-1: not valid UTF-8.
    std::fs::write(server.work.join(std::ffi::OsStr::from_bytes(b"caf\xe9.txt")), "latin-1 name\n").expect("write");
    server.commit("big and odd");
    let pushed = server.push(&["-o", "changes", "-o", "read=huge.txt", "origin", "main"]).assert_ok();
    pushed.assert_line("[probe] change big and odd Added huge.txt 0>100644 size=104857600 new=true from=-");
    pushed.assert_line("[probe] change big and odd Added raw:636166e92e747874 0>100644 size=13 new=true from=-");
    pushed.assert_line("[probe] file huge.txt size=104857600 read=1048576 truncated=true binary=false");
    assert_eq!(server.server_ref("refs/heads/main"), Some(server.git(&["rev-parse", "HEAD"])));
}

#[test]
fn a_policy_that_never_asks_for_files_pays_nothing_for_them() {
    let server = Server::new();
    server.add_policy("no-wip", example_policy("no-wip"));
    let fuel_and_work = |pushed: &crate::support::Pushed| {
        let line = pushed
            .stderr
            .lines()
            .find(|l| l.contains("policy finished") && l.contains("policy=no-wip"))
            .unwrap_or_else(|| panic!("no host log line in:\n{}", pushed.stderr))
            .to_owned();
        let field =
            |name: &str| line.split_whitespace().find_map(|w| w.strip_prefix(&format!("{name}="))).map(str::to_owned);
        (field("fuel"), field("changes"), field("blob_bytes"), field("ancestry"))
    };
    server.commit("commit number 1");
    let plain = server.push_with_env(&["origin", "main"], &[("HOOKRT_LOG", "debug")]).assert_ok();
    for n in 0..200 {
        server.write_file(&format!("files/{n}.txt"), format!("file {n}\n").repeat(100));
    }
    server.commit("commit number 2");
    let heavy = server.push_with_env(&["origin", "main"], &[("HOOKRT_LOG", "debug")]).assert_ok();
    let (plain, heavy) = (fuel_and_work(&plain), fuel_and_work(&heavy));
    let zero = Some("0".to_owned());
    assert_eq!((&plain.1, &plain.2, &plain.3), (&zero, &zero, &zero), "host work without files");
    assert_eq!((&heavy.1, &heavy.2, &heavy.3), (&zero, &zero, &zero), "host work with 200 files");
    assert_eq!(plain.0, heavy.0, "the same fuel whatever the commit holds");
}

/// A commit that changes more paths than `changes_max` is an error the
/// policy sees, never a shorter list: `prohibited-files` (a GitLab push
/// rule) vetoes it rather than pass files it was not shown, and the veto
/// names the cap. One path fewer is listed whole.
#[test]
fn a_commit_with_more_paths_than_changes_max_is_refused_not_cut_short() {
    let server = Server::with_example("prohibited-files");
    server.write_config("[policy.prohibited-files]\nchanges_max = 1000\n");
    for i in 0..1000 {
        server.write_file(&format!("vendor/lib{i:04}.c"), format!("int f{i};\n"));
    }
    server.commit("vendor 1000 files");
    server.push(&["origin", "main"]).assert_ok();

    // 999 more, a secret among them, and one rename (a deletion and an
    // addition, listed as one change): 1000 changes, still listed.
    for i in 1000..1999 {
        server.write_file(&format!("vendor/lib{i:04}.c"), format!("int f{i};\n"));
    }
    std::fs::rename(server.work.join("vendor/lib0000.c"), server.work.join("vendor/id_rsa")).expect("rename");
    server.commit("vendor 999 more and a key");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert!(pushed.stderr.contains("vendor/id_rsa may hold a secret"), "{}", pushed.stderr);

    // One more file: the policy is told, and says so.
    server.git(&["reset", "--quiet", "--hard", "HEAD~1"]);
    for i in 1000..2001 {
        server.write_file(&format!("vendor/lib{i:04}.c"), format!("int f{i};\n"));
    }
    server.commit("vendor 1001 more");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    pushed.assert_line("hookrt: policy prohibited-files vetoed refs/heads/main");
    assert!(
        pushed.stderr.contains("the repository could not be read to check the commit's files"),
        "{}",
        pushed.stderr
    );
    assert!(
        pushed.stderr.contains(
            "changes more than 1000 paths, the most hookrt lists for one commit (`changes_max` in hookrt.toml)"
        ),
        "{}",
        pushed.stderr
    );
}
