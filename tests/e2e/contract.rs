//! What the contract hands a policy besides commits: the hook, push options,
//! the pusher, and messages that are not UTF-8.

use crate::support::{Server, guests};

#[test]
fn hook_and_push_options_reach_the_policy() {
    let server = Server::new();
    server.add_policy("list-commits", guests::LIST_COMMITS);
    server.server_git(&["config", "receive.advertisePushOptions", "true"]);
    server.commit("one");
    let pushed = server.push(&["-o", "ci.skip", "-o", "reviewer=ann", "origin", "main"]).assert_ok();
    pushed.assert_line("[list-commits] push pre-receive 1 options=ci.skip,reviewer=ann");
}

#[test]
fn the_pusher_comes_from_the_hosting_layer_or_else_the_account() {
    let server = Server::new();
    server.add_policy("list-commits", guests::LIST_COMMITS);
    server.commit("one");
    // A file:// push runs the hook as the pushing account, as ssh does.
    server
        .push_with_env(&["origin", "main"], &[("USER", "git-user")])
        .assert_ok()
        .assert_line("[list-commits] pusher git-user - os");
    server.commit("two");
    let gitea = [("USER", "git"), ("GITEA_PUSHER_NAME", "dee"), ("GITEA_PUSHER_EMAIL", "dee@example.com")];
    server
        .push_with_env(&["origin", "main"], &gitea)
        .assert_ok()
        .assert_line("[list-commits] pusher dee dee@example.com gitea");
}

#[test]
fn a_message_that_is_not_utf8_arrives_with_its_bytes() {
    let server = Server::new();
    server.add_policy("list-commits", guests::LIST_COMMITS);
    // "café" in Latin-1: the 0xE9 byte is not valid UTF-8.
    let message = server.root().join("message");
    std::fs::write(&message, b"caf\xe9\n").expect("write message");
    server.git(&[
        "-c",
        "i18n.commitEncoding=ISO-8859-1",
        "commit",
        "--quiet",
        "--allow-empty",
        "-F",
        message.to_str().expect("utf-8"),
    ]);
    let id = server.git(&["rev-parse", "HEAD"]);
    let pushed = server.push(&["origin", "main"]).assert_ok();
    // The raw message is exactly what git stored: "caf\xe9\n".
    pushed.assert_line(&format!("[list-commits] raw {id} 5"));
}

#[test]
fn gitlab_and_github_context_reaches_the_policy_as_data() {
    let server = Server::with_probe();
    server.commit("one");
    let gitlab = [
        ("USER", "git"),
        ("GL_ID", "user-7"),
        ("GL_USERNAME", "ann"),
        ("GL_PROJECT_PATH", "group/app"),
        ("GL_PROTOCOL", "ssh"),
        ("GL_REPOSITORY", "project-12"),
        ("SSH_CONNECTION", "198.51.100.7 52014 10.0.0.2 22"),
        // Not a hosting variable: never passed on.
        ("DATABASE_PASSWORD", "hunter2"),
    ];
    let pushed = server.push_with_env(&["origin", "main"], &gitlab).assert_ok();
    pushed.assert_line("[probe] pusher ann email=- id=user-7 source=gitlab");
    pushed.assert_line(
        "[probe] context default-branch=refs/heads/main format=sha1 project=group/app protocol=ssh address=198.51.100.7",
    );
    pushed.assert_line("[probe] var GL_REPOSITORY=project-12");
    assert!(!pushed.stderr.contains("hunter2"), "{}", pushed.stderr);

    server.commit("two");
    let github = [
        ("GITHUB_USER_LOGIN", "bob"),
        ("GITHUB_REPO_NAME", "org/app"),
        ("GITHUB_VIA", "pull request merge button"),
        ("GITHUB_USER_IP", "192.0.2.4"),
        ("GITHUB_PULL_REQUEST_AUTHOR_LOGIN", "cy"),
        ("GITHUB_PULL_REQUEST_HEAD", "cy:topic"),
        ("GITHUB_PULL_REQUEST_BASE", "org:main"),
    ];
    let pushed = server.push_with_env(&["origin", "main"], &github).assert_ok();
    pushed.assert_line("[probe] pusher bob email=- id=- source=github");
    pushed.assert_line(
        "[probe] context default-branch=refs/heads/main format=sha1 project=org/app protocol=pull request merge button address=192.0.2.4",
    );
    pushed.assert_line("[probe] pull-request author=cy head=cy:topic base=org:main");
}

#[test]
fn force_pushes_ancestry_and_refs_before_the_push() {
    let server = Server::with_probe();
    let first = server.commit("first");
    server.push(&["origin", "main"]).assert_ok();
    let second = server.commit("second");
    let pushed = server.push(&["origin", "main", "main:refs/heads/topic"]).assert_ok();
    pushed.assert_line(&format!("[probe] update refs/heads/main forced=false target={first}"));
    pushed.assert_line("[probe] update refs/heads/topic forced=false target=-");

    server.git(&["reset", "--quiet", "--hard", "HEAD~1"]);
    let rewritten = server.commit("second, rewritten");
    let ancestry = format!("ancestor={first}:{rewritten}");
    let pushed = server.push(&["--force", "-o", &ancestry, "origin", "main"]).assert_ok();
    pushed.assert_line(&format!("[probe] update refs/heads/main forced=true target={second}"));
    pushed.assert_line(&format!("[probe] is-ancestor {first} {rewritten} Ok(true)"));
    let backwards = format!("ancestor={rewritten}:{first}");
    server.commit("third");
    let pushed = server.push(&["-o", &backwards, "origin", "main"]).assert_ok();
    pushed.assert_line(&format!("[probe] is-ancestor {rewritten} {first} Ok(false)"));
    pushed.assert_line(&format!("[probe] update refs/heads/main forced=false target={rewritten}"));
}

#[test]
fn trailers_signatures_and_merges_are_marked() {
    let server = Server::with_probe();
    server
        .commit("plain\n\nSome text.\n\nSigned-off-by: Ann <ann@example.com>\nChange-Id: I0123abcd\nskip-checks: true");
    // A signature block, stored as git stores one (hookrt reports it, it
    // does not verify it), added to a commit on top.
    server.commit("signed");
    let raw = server.git(&["cat-file", "commit", "HEAD"]);
    let (head, message) = raw.split_once("\n\n").expect("a commit has headers and a message");
    let signed = format!(
        "{head}\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\n{message}\n"
    );
    let id = {
        let path = server.root().join("signed-commit");
        std::fs::write(&path, signed).expect("write commit");
        server.git(&["hash-object", "-t", "commit", "-w", path.to_str().expect("utf-8")])
    };
    server.git(&["reset", "--quiet", "--hard", &id]);
    server.git(&["checkout", "--quiet", "-b", "side", "HEAD~1"]);
    server.commit("on the side");
    server.git(&["checkout", "--quiet", "main"]);
    server.git(&["merge", "--quiet", "--no-ff", "-m", "merge side", "side"]);
    let pushed = server.push(&["origin", "main"]).assert_ok();
    pushed.assert_line("[probe] commit plain merge=false signed=false");
    pushed.assert_line("[probe] trailer plain: Signed-off-by=Ann <ann@example.com>");
    pushed.assert_line("[probe] trailer plain: Change-Id=I0123abcd");
    pushed.assert_line("[probe] trailer plain: skip-checks=true");
    pushed.assert_line("[probe] commit signed merge=false signed=true");
    pushed.assert_line("[probe] commit merge side merge=true signed=false");
}

#[test]
fn warnings_are_shown_and_reject_nothing() {
    let server = Server::with_probe();
    let id = server.commit("one");
    let pushed = server.push(&["-o", "warn", "origin", "main"]).assert_ok();
    pushed.assert_line("hookrt: warning: policy probe warns about refs/heads/main");
    pushed.assert_line("  this is only a warning");
    assert_eq!(server.server_ref("refs/heads/main"), Some(id));
}

#[test]
fn a_signed_push_certificate_reaches_the_policy() {
    let server = Server::with_probe();
    let gnupg = server.root().join("gnupg");
    std::fs::create_dir_all(&gnupg).expect("gnupg dir");
    std::fs::set_permissions(&gnupg, std::os::unix::fs::PermissionsExt::from_mode(0o700)).expect("chmod");
    let home = gnupg.to_str().expect("utf-8").to_owned();
    let out = server
        .command("gpg", server.root())
        .args(["--batch", "--passphrase", "", "--quick-gen-key", "Test Pusher <pusher@example.com>", "ed25519", "sign"])
        .env("GNUPGHOME", &home)
        .output()
        .expect("run gpg");
    assert!(out.status.success(), "gpg: {}", String::from_utf8_lossy(&out.stderr));
    server.server_git(&["config", "receive.certNonceSeed", "a secret seed"]);
    server.git(&["config", "user.signingkey", "pusher@example.com"]);
    server.commit("signed push");
    let pushed = server.push_with_env(&["--signed", "-o", "cert-text", "origin", "main"], &[("GNUPGHOME", &home)]);
    let pushed = pushed.assert_ok();
    pushed.assert_line("[probe] cert status=G signer=Test Pusher <pusher@example.com> nonce-status=OK");
    pushed.assert_line("[probe] cert-text certificate version 0.1");
}

#[test]
fn a_sha256_repository_works_like_a_sha1_one() {
    let server = Server::with_object_format("sha256");
    server.add_policy("probe", guests::PROBE);
    server.add_policy("no-wip", crate::support::example_policy("no-wip"));
    server.server_git(&["config", "receive.advertisePushOptions", "true"]);
    server.write_file("f.txt", "hello\n");
    let id = server.commit("add f");
    assert_eq!(id.len(), 64, "a SHA-256 id");
    let pushed = server.push(&["-o", "changes", "origin", "main"]).assert_ok();
    pushed.assert_line("[probe] context default-branch=refs/heads/main format=sha256 project=- protocol=- address=-");
    pushed.assert_line("[probe] change add f Added f.txt 0>100644 size=6 new=true from=-");
    let wip = server.commit("WIP: not yet");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    pushed.assert_line(&format!("  commit {}  WIP: not yet", &wip[..12]));
    assert_eq!(server.server_ref("refs/heads/main"), Some(id));
}
