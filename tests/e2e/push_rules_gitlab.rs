//! GitLab's push rules as policies (example-policies/push-rules/): each one
//! accepts and vetoes a real push through the git client, and passes its own
//! case file.

use std::path::Path;
use std::process::Command;

use crate::support::{Commit, Server, assert_push_rule_passes_its_cases, example_policy, short};

#[test]
fn commit_message_requires_an_issue_and_rejects_fixups() {
    let server = Server::with_example("commit-message");
    let before = server.server_refs();
    let plain = server.commit("fix typo");
    let fixup = server.commit("fixup! Fix the parser (#1)");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert_eq!(server.server_refs(), before, "no ref may move on a rejected push");
    pushed.assert_line("hookrt: policy commit-message vetoed refs/heads/main");
    pushed.assert_line(&format!("  commit {}  fix typo", short(&plain)));
    pushed.assert_line(
        r"  commit message does not match the required expression (?:^|[\s(\[])(?:[\w.-]+/[\w./-]+)?#\d+\b",
    );
    pushed.assert_line(&format!("  commit {}  fixup! Fix the parser (#1)", short(&fixup)));
    pushed.assert_line(
        r#"  commit message contains "fixup!", rejected by the expression (?i)\A(?:fixup|squash|amend)!|\bdo not merge\b"#,
    );
    pushed.assert_line("hookrt: push rejected: 2 vetoes");

    server.git(&["reset", "--quiet", "--hard", "HEAD~2"]);
    let good = server.commit("Fix the typo\n\nCloses #1");
    server.push(&["origin", "main"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(good.as_str()));
}

#[test]
fn commit_message_passes_its_cases() {
    assert_push_rule_passes_its_cases("commit-message");
}

#[test]
fn branch_name_checks_only_new_branches() {
    let server = Server::new();
    // A branch from before the rule keeps working.
    server.push(&["origin", "main:refs/heads/legacy"]).assert_ok();
    server.add_policy("branch-name", example_policy("branch-name"));
    server.write_config(
        "[policy.branch-name.settings]\nbranch-name-regex = '^(?:feature|fix|hotfix|release|docs|chore)/[A-Za-z0-9._-]+$'\n",
    );
    server.commit("more work");

    let before = server.server_refs();
    let pushed = server.push(&["origin", "main:refs/heads/topic"]).assert_rejected();
    assert_eq!(server.server_refs(), before, "no ref may move on a rejected push");
    pushed.assert_line("hookrt: policy branch-name vetoed refs/heads/topic");
    pushed.assert_line(
        r#"  branch name "topic" does not match the required expression ^(?:feature|fix|hotfix|release|docs|chore)/[A-Za-z0-9._-]+$"#,
    );
    pushed.assert_line("  git branch -m topic feature/topic && git push origin feature/topic");

    server.git(&["tag", "any-name-at-all"]);
    server
        .push(&["origin", "main", "main:refs/heads/legacy", "main:refs/heads/feature/topic", "any-name-at-all"])
        .assert_ok();
    let head = server.git(&["rev-parse", "HEAD"]);
    for name in ["refs/heads/main", "refs/heads/legacy", "refs/heads/feature/topic", "refs/tags/any-name-at-all"] {
        assert_eq!(server.server_ref(name).as_deref(), Some(head.as_str()), "{name}");
    }
}

#[test]
fn branch_name_passes_its_cases() {
    assert_push_rule_passes_its_cases("branch-name");
}

#[test]
fn author_email_names_the_address_that_does_not_match() {
    let server = Server::with_example("author-email");
    server.write_config("[policy.author-email.settings]\nemail-regex = '(?i)@example\\.com$'\n");
    let before = server.server_refs();
    let outside =
        server.commit_with("work from home", Commit::with_env(&[("GIT_AUTHOR_EMAIL", "ann@home.example.org")]));
    let rebased = server.commit_with("rebased at home", Commit::with_env(&[("GIT_COMMITTER_EMAIL", "ann@home.net")]));
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert_eq!(server.server_refs(), before, "no ref may move on a rejected push");
    pushed.assert_line(&format!("  commit {}  work from home", short(&outside)));
    pushed.assert_line(
        r#"  author email "ann@home.example.org" does not match the required expression (?i)@example\.com$"#,
    );
    pushed.assert_line(&format!("  commit {}  rebased at home", short(&rebased)));
    pushed.assert_line(r#"  committer email "ann@home.net" does not match the required expression (?i)@example\.com$"#);
    pushed.assert_line("hookrt: push rejected: 2 vetoes");

    // Re-commit both with the configured address (pusher@example.com).
    server.git(&["reset", "--quiet", "--hard", "HEAD~2"]);
    let fixed = server.commit("work from the office");
    server.push(&["origin", "main"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(fixed.as_str()));
}

#[test]
fn author_email_passes_its_cases() {
    assert_push_rule_passes_its_cases("author-email");
}

#[test]
fn dco_signoff_requires_a_signed_off_by_trailer() {
    let server = Server::with_example("dco-signoff");
    let before = server.server_refs();
    let unsigned = server.commit("Add the parser");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert_eq!(server.server_refs(), before, "no ref may move on a rejected push");
    pushed.assert_line("hookrt: policy dco-signoff vetoed refs/heads/main");
    pushed.assert_line(&format!("  commit {}  Add the parser", short(&unsigned)));
    pushed.assert_line("  commit has no Signed-off-by: trailer (DCO sign-off)");

    // What the veto tells the pusher to do.
    server.git(&["commit", "--quiet", "--amend", "--allow-empty", "--no-edit", "--signoff"]);
    let signed_off = server.git(&["rev-parse", "HEAD"]);
    server.push(&["origin", "main"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(signed_off.as_str()));
}

#[test]
fn dco_signoff_passes_its_cases() {
    assert_push_rule_passes_its_cases("dco-signoff");
}

#[test]
fn deny_tag_deletion_keeps_tags_but_not_branches() {
    let server = Server::with_example("deny-tag-deletion");
    server.git(&["tag", "-a", "-m", "release 1.0", "v1.0"]);
    server.push(&["origin", "v1.0", "main:refs/heads/scratch"]).assert_ok();
    let tag = server.server_ref("refs/tags/v1.0");
    assert!(tag.is_some(), "creating a tag is allowed");

    let pushed = server.push(&["origin", ":refs/tags/v1.0"]).assert_rejected();
    assert_eq!(server.server_ref("refs/tags/v1.0"), tag, "the tag must survive");
    pushed.assert_line("hookrt: policy deny-tag-deletion vetoed refs/tags/v1.0");
    pushed.assert_line("  tag v1.0 can't be deleted: tags are permanent here");

    server.push(&["origin", ":refs/heads/scratch"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/scratch"), None, "branches may be deleted");
}

#[test]
fn deny_tag_deletion_passes_its_cases() {
    assert_push_rule_passes_its_cases("deny-tag-deletion");
}

#[test]
fn prohibited_files_blocks_new_secret_files_only() {
    let server = Server::new();
    // A certificate committed before the rule may still be changed.
    server.write_file("certs/legacy.pem", "old\n");
    server.commit("legacy certificate");
    server.push(&["origin", "main"]).assert_ok();
    server.add_policy("prohibited-files", example_policy("prohibited-files"));

    let before = server.server_refs();
    server.write_file("certs/legacy.pem", "renewed\n");
    server.write_file("home/.ssh/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    server.write_file("home/.ssh/id_rsa.pub", "ssh-ed25519 AAAA test\n");
    let leak = server.commit("add my ssh setup");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert_eq!(server.server_refs(), before, "no ref may move on a rejected push");
    pushed.assert_line("hookrt: policy prohibited-files vetoed refs/heads/main");
    pushed.assert_line(&format!("  commit {}  add my ssh setup", short(&leak)));
    pushed.assert_line("  home/.ssh/id_rsa may hold a secret (its name matches id_rsa$): it can't be pushed");
    pushed.assert_line("hookrt: push rejected: 1 veto");

    server.git(&["rm", "--quiet", "--cached", "home/.ssh/id_rsa"]);
    server.remove_file("home/.ssh/id_rsa");
    server.git(&["commit", "--quiet", "--amend", "--no-edit"]);
    server.push(&["origin", "main"]).assert_ok();
    assert_eq!(server.server_git(&["ls-tree", "-r", "--name-only", "main"]), "certs/legacy.pem\nhome/.ssh/id_rsa.pub");
}

#[test]
fn prohibited_files_passes_its_cases() {
    assert_push_rule_passes_its_cases("prohibited-files");
}

#[test]
fn max_file_size_names_the_big_file_and_its_size() {
    let server = Server::with_example("max-file-size");
    let before = server.server_refs();
    server.write_file("data/dump.bin", vec![b'x'; 6_000_000]);
    server.write_file("README", "small\n");
    let big = server.commit("add the dump");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert_eq!(server.server_refs(), before, "no ref may move on a rejected push");
    pushed.assert_line("hookrt: policy max-file-size vetoed refs/heads/main");
    pushed.assert_line(&format!("  commit {}  add the dump", short(&big)));
    pushed.assert_line("  data/dump.bin is 5.8 MiB (6000000 bytes), over the limit of 5 MiB");
    pushed.assert_line("hookrt: push rejected: 1 veto");

    server.write_file("data/dump.bin", vec![b'x'; 1_000_000]);
    server.git(&["add", "--all"]);
    server.git(&["commit", "--quiet", "--amend", "-m", "add a smaller dump"]);
    let fixed = server.git(&["rev-parse", "HEAD"]);
    server.push(&["origin", "main"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(fixed.as_str()));
}

#[test]
fn max_file_size_passes_its_cases() {
    assert_push_rule_passes_its_cases("max-file-size");
}

#[test]
fn signed_commits_rejects_unsigned_and_accepts_ssh_signed() {
    let server = Server::with_example("signed-commits");
    let before = server.server_refs();
    let unsigned = server.commit("unsigned work");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert_eq!(server.server_refs(), before, "no ref may move on a rejected push");
    pushed.assert_line("hookrt: policy signed-commits vetoed refs/heads/main");
    pushed.assert_line(&format!("  commit {}  unsigned work", short(&unsigned)));
    pushed.assert_line("  commit is not signed");

    let key = server.root().join("signing-key");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "signer@example.com", "-f"])
        .arg(&key)
        .output()
        .expect("run ssh-keygen (is OpenSSH installed?)");
    assert!(out.status.success(), "ssh-keygen failed: {}", String::from_utf8_lossy(&out.stderr));
    server.git(&["config", "gpg.format", "ssh"]);
    server.git(&["config", "user.signingkey", key.to_str().expect("utf-8 path")]);
    server.git(&["reset", "--quiet", "--hard", "HEAD~1"]);
    let signed = server.commit_with("signed work", Commit { signed: true, ..Commit::default() });
    assert!(server.git(&["cat-file", "commit", &signed]).contains("-----BEGIN SSH SIGNATURE-----"));
    server.push(&["origin", "main"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(signed.as_str()));
}

/// Stops the gpg-agent that gpg starts for a throwaway GnuPG home, even when
/// the test fails, so that no agent outlives its test.
struct GpgHome<'a>(&'a Path);

impl Drop for GpgHome<'_> {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf").args(["--kill", "gpg-agent"]).env("GNUPGHOME", self.0).output();
    }
}

#[test]
fn signed_commits_accepts_gpg_signed() {
    let server = Server::with_example("signed-commits");
    let home = server.root().join("gnupg");
    std::fs::create_dir(&home).expect("create GNUPGHOME");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).expect("chmod GNUPGHOME");
    }
    let _agent = GpgHome(&home);
    let out = Command::new("gpg")
        .args([
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Test Signer <signer@example.com>",
            "ed25519",
            "sign",
            "never",
        ])
        .env("GNUPGHOME", &home)
        .output()
        .expect("run gpg (is GnuPG installed?)");
    assert!(out.status.success(), "gpg --quick-gen-key failed: {}", String::from_utf8_lossy(&out.stderr));
    server.git(&["config", "user.signingkey", "signer@example.com"]);
    let home = home.to_str().expect("utf-8 path");
    let first = server.commit_with("signed work", Commit { env: &[("GNUPGHOME", home)], signed: true });
    let merged = {
        server.git(&["checkout", "--quiet", "-b", "topic", "HEAD~1"]);
        server.commit_with("signed topic work", Commit { env: &[("GNUPGHOME", home)], signed: true });
        server.git(&["checkout", "--quiet", "main"]);
        let out = server
            .command("git", &server.work)
            .args(["merge", "--quiet", "--no-edit", "-S", "topic"])
            .env("GNUPGHOME", home)
            .output()
            .expect("run git merge");
        assert!(out.status.success(), "git merge -S failed: {}", String::from_utf8_lossy(&out.stderr));
        server.git(&["rev-parse", "HEAD"])
    };
    assert_ne!(first, merged);
    assert!(server.git(&["cat-file", "commit", &merged]).contains("-----BEGIN PGP SIGNATURE-----"));
    server.push(&["origin", "main", "topic"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(merged.as_str()));
}

#[test]
fn signed_commits_passes_its_cases() {
    assert_push_rule_passes_its_cases("signed-commits");
}
