//! What git never sends: malformed standard input, ids of the wrong length
//! or hash, ids of objects the repository lacks, and the update hook called
//! with the wrong arguments.

use super::{UNKNOWN40, Z40, assert_fails_closed, assert_warns, pre_receive, run_hook};
use crate::support::{Server, short};

/// The first line of the hook's standard input that is not what git sends.
fn bad_line(line: usize) -> String {
    format!("line {line} of the hook's standard input")
}

#[test]
fn malformed_lines_fail_closed_naming_the_line() {
    let server = Server::with_example("no-wip");
    let a = server.server_ref("refs/heads/main").expect("main exists");
    let fields = "`<old-id> <new-id> <ref>`";
    let cases: Vec<(Vec<u8>, String, &str)> = vec![
        // A field missing, one too many, two spaces between fields.
        (format!("{Z40} {a}\n").into(), bad_line(1), fields),
        (format!("{Z40} {a} refs/heads/x extra\n").into(), bad_line(1), fields),
        (format!("{Z40}  {a} refs/heads/x\n").into(), bad_line(1), fields),
        // Not hex, where an id belongs.
        (format!("{Z40} {} refs/heads/x\n", "g".repeat(40)).into(), bad_line(1), "is not a full hex object id"),
        // Binary garbage.
        (b"\xff\xfe\x00\x01garbage\n".to_vec(), bad_line(1), "UTF-8"),
        // A good line does not excuse a bad one, and blank lines count.
        (format!("{Z40} {a} refs/heads/x\n\ngarbage\n").into(), bad_line(3), fields),
        // Not a full ref name.
        (format!("{Z40} {a} main\n").into(), "\"main\" is not a full ref name".into(), "refs/"),
    ];
    for (input, line, key) in cases {
        let run = pre_receive(&server, &input);
        assert_fails_closed(&run, &line);
        assert!(run.1.contains(key), "no {key:?} for {:?} in:\n{}", String::from_utf8_lossy(&input), run.1);
    }
}

/// Git ends every line with a newline, but a last line without one says
/// just as clearly which ref moves where: it is read, not dropped (the
/// veto proves it was checked), and blank lines around it are skipped.
#[test]
fn a_last_line_without_newline_is_read_and_blank_lines_are_skipped() {
    let server = Server::with_example("no-wip");
    let wip = server.commit("WIP: not yet");
    plant(&server);
    let (code, stderr) = pre_receive(&server, format!("\n\n{Z40} {wip} refs/heads/x"));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("hookrt: policy no-wip vetoed refs/heads/x"), "{stderr}");

    let fine = server.server_ref("refs/heads/main").expect("main exists");
    let (code, stderr) = pre_receive(&server, format!("\n{Z40} {fine} refs/heads/y"));
    assert_eq!(code, 0, "{stderr}");
}

/// Git only sends ids of objects the repository has (it checks what a push
/// brings before any hook runs). hookrt checks every new id before any
/// policy runs, so an unknown one fails closed even for a policy that never
/// looks at commits, instead of surfacing as that policy's crash (or not
/// at all). Old ids are not required to exist: a ref pointing at a lost
/// object must stay deletable.
#[test]
fn unknown_new_ids_fail_closed_naming_the_id() {
    let missing = format!("object {UNKNOWN40} is missing from the repository");
    for policy in ["no-wip", "deny-tag-deletion"] {
        let server = Server::with_example(policy);
        let run = pre_receive(&server, format!("{Z40} {UNKNOWN40} refs/heads/x\n"));
        assert_fails_closed(&run, &format!("the new id of refs/heads/x does not fit {}", server.bare.display()));
        assert!(run.1.contains(&missing), "{policy}: {}", run.1);
        assert!(run.1.contains("`git fsck`"), "{policy}: {}", run.1);
        // The rejection is recorded, like any other.
        let records = server.audit_records();
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(records[0]["decision"], "rejected");
        assert!(records[0]["error"].as_str().is_some_and(|e| e.contains(&missing)), "{}", records[0]);
    }

    let server = Server::with_example("no-wip");
    let main = server.server_ref("refs/heads/main").expect("main exists");
    let (code, stderr) = pre_receive(&server, format!("{UNKNOWN40} {main} refs/heads/main\n"));
    assert_eq!(code, 0, "an unknown old id is not checked: {stderr}");
    let (code, stderr) = pre_receive(&server, format!("{UNKNOWN40} {Z40} refs/heads/gone\n"));
    assert_eq!(code, 0, "deleting a ref that points at a lost object: {stderr}");
}

#[test]
fn ids_of_the_wrong_length_fail_closed() {
    let server = Server::with_example("no-wip");
    let a = server.server_ref("refs/heads/main").expect("main exists");
    for (old, new) in [
        (Z40.to_owned(), a[..39].to_owned()),
        (Z40.to_owned(), format!("{a}0")),
        (Z40.to_owned(), format!("{a}{}", &a[..23])),
        (Z40[..39].to_owned(), a.clone()),
    ] {
        let run = pre_receive(&server, format!("{old} {new} refs/heads/x\n"));
        assert_fails_closed(&run, "of refs/heads/x is not a full hex object id");
    }
    // Well-formed SHA-256 ids, in a SHA-1 repository.
    let (z64, a64) = ("0".repeat(64), format!("{a}{}", &a[..24]));
    let run = pre_receive(&server, format!("{z64} {a64} refs/heads/x\n"));
    assert_fails_closed(&run, &format!("id of refs/heads/x does not fit {}", server.bare.display()));
    assert!(run.1.contains("is a sha256 object id, but the repository names its objects with sha1"), "{}", run.1);
}

#[test]
fn sha1_ids_in_a_sha256_repository_fail_closed() {
    let server = Server::with_object_format("sha256");
    server.add_policy("no-wip", crate::support::example_policy("no-wip"));
    let fine = server.commit("feat: a SHA-256 commit");
    server.push(&["origin", "main"]).assert_ok();

    let run = pre_receive(&server, format!("{Z40} {UNKNOWN40} refs/heads/x\n"));
    assert_fails_closed(&run, &format!("{Z40} is a sha1 object id, but the repository names its objects with sha256"));
    // The SHA-1 id that is a prefix of a real commit's SHA-256 id.
    let run = pre_receive(&server, format!("{Z40} {} refs/heads/x\n", &fine[..40]));
    assert_fails_closed(&run, "is a sha1 object id, but the repository names its objects with sha256");
    // What git sends there is read.
    let (code, stderr) = pre_receive(&server, format!("{} {fine} refs/heads/x\n", "0".repeat(64)));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn update_hook_with_wrong_arguments_fails_closed() {
    let server = Server::with_example("no-wip");
    server.write_config("[policy.no-wip]\nhook = \"update\"\n");
    let a = server.server_ref("refs/heads/main").expect("main exists");
    let update = |args: &[&str]| run_hook(&server, "update", args, "");
    for (args, count) in [(vec![], 0), (vec!["refs/heads/x"], 1), (vec!["refs/heads/x", Z40], 2)] {
        let run = update(&args);
        assert_fails_closed(
            &run,
            &format!("the update hook takes <REF> <OLD> <NEW>, as git passes them, but got {count} argument(s)"),
        );
    }
    let run = update(&["refs/heads/x", Z40, &a, "extra"]);
    assert_fails_closed(&run, "but got 4 argument(s)");
    assert_fails_closed(
        &update(&["refs/heads/x", Z40, "nothex"]),
        "the new id of refs/heads/x is not a full hex object id",
    );
    assert_fails_closed(&update(&["refs/heads/x", Z40, &a[..39]]), "is not a full hex object id");
    assert_fails_closed(&update(&["main", Z40, &a]), "\"main\" is not a full ref name");
    assert_fails_closed(&update(&["refs/heads/x", Z40, Z40]), "both ids all zeros");
    assert_fails_closed(&update(&["refs/heads/x", Z40, UNKNOWN40]), &format!("object {UNKNOWN40} is missing"));
    // And what git passes is checked.
    let wip = server.commit("WIP: update hook");
    plant(&server);
    let (code, stderr) = update(&["refs/heads/x", Z40, &wip]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&format!("commit {}  WIP: update hook", short(&wip))), "{stderr}");
}

/// Post-receive runs after the refs moved; git ignores its status. What
/// hookrt cannot read is a warning, and the hook chained after hookrt (the
/// one that was there before `hookrt install`) still runs.
#[test]
fn post_receive_with_garbage_warns_exits_0_and_runs_the_chained_hook() {
    let server = Server::with_example("no-wip");
    server.write_config("[policy.no-wip]\nhook = \"post-receive\"\n");
    let hooks = server.bare.join("hooks");
    let chained = hooks.join("post-receive");
    std::fs::write(&chained, "#!/bin/sh\necho \"chained post-receive read $(wc -l) line(s)\" >&2\n")
        .expect("write hook");
    set_executable(&chained);
    let chain = ["--chain", hooks.to_str().expect("utf-8 path")];

    let run = run_hook(&server, "post-receive", &chain, "garbage\nmore garbage\n");
    assert_warns(&run, &bad_line(1));
    assert!(run.1.contains("chained post-receive read 2 line(s)"), "{}", run.1);

    let run = run_hook(&server, "post-receive", &chain, format!("{Z40} {UNKNOWN40} refs/heads/x\n"));
    assert_warns(&run, &format!("object {UNKNOWN40} is missing from the repository"));
    assert!(run.1.contains("chained post-receive read 1 line(s)"), "{}", run.1);
}

/// Copies the clone's commits into the server's object store, with no ref
/// and no hook run, so that hand-written hook input can name them.
fn plant(server: &Server) {
    let work = server.work.to_str().expect("utf-8 path");
    server.server_git(&["fetch", "--quiet", work, "HEAD:refs/planted"]);
    server.server_git(&["update-ref", "-d", "refs/planted"]);
}

fn set_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
