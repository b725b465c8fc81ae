//! The ports of GitHub Enterprise's pre-receive samples and Bitbucket's
//! built-in hooks (example-policies/push-rules/), each pushed against through
//! the real git client: one push it accepts, one it vetoes (no ref moves, and
//! the pusher reads why), and its own case files.

use crate::support::{Commit, Server, assert_push_rule_passes_its_cases, short};

// blocked-extensions

#[test]
fn blocked_extensions_passes_its_cases() {
    assert_push_rule_passes_its_cases("blocked-extensions");
}

#[test]
fn blocked_extensions_accepts_ordinary_files() {
    let server = Server::with_example("blocked-extensions");
    server.write_file("src/lib.rs", "pub fn zip() {}\n");
    server.write_file("docs/archive.gz.md", "how we package\n");
    let id = server.commit("add the library");
    server.push(&["origin", "main"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(id.as_str()));
}

#[test]
fn blocked_extensions_vetoes_an_archive_until_it_is_taken_out() {
    let server = Server::with_example("blocked-extensions");
    let before = server.server_refs();
    server.write_file("src/lib.rs", "pub fn run() {}\n");
    server.commit("add the library");
    server.write_file("CHANGELOG", "1.0: first release\n");
    server.write_file("dist/app.zip", b"PK\x03\x04 not really a zip");
    let bad = server.commit("add the release");

    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert_eq!(server.server_refs(), before, "no ref may move on a rejected push");
    pushed.assert_line("hookrt: policy blocked-extensions vetoed refs/heads/main");
    pushed.assert_line(&format!("  commit {}  add the release", short(&bad)));
    pushed.assert_line("  files of a blocked type can't be committed: dist/app.zip");
    pushed.assert_line("hookrt: push rejected: 1 veto");

    server.git(&["rm", "--quiet", "--cached", "dist/app.zip"]);
    server.git(&["commit", "--quiet", "--amend", "--no-edit"]);
    server.push(&["origin", "main"]).assert_ok();
}

// branch-owner

#[test]
fn branch_owner_passes_its_cases() {
    assert_push_rule_passes_its_cases("branch-owner");
}

#[test]
fn branch_owner_accepts_a_branch_under_the_github_login() {
    let server = Server::with_example("branch-owner");
    let id = server.commit("fix the parser");
    server.push_with_env(&["origin", "HEAD:refs/heads/ann/fix-parser"], &[("GITHUB_USER_LOGIN", "ann")]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/ann/fix-parser").as_deref(), Some(id.as_str()));
    // Updating main, which already exists, is not checked.
    server.push_with_env(&["origin", "main"], &[("GITHUB_USER_LOGIN", "ann")]).assert_ok();
}

#[test]
fn branch_owner_vetoes_a_branch_named_otherwise() {
    let server = Server::with_example("branch-owner");
    let before = server.server_refs();
    server.commit("fix the parser");
    let pushed = server
        .push_with_env(&["origin", "HEAD:refs/heads/fix-parser"], &[("GITHUB_USER_LOGIN", "ann")])
        .assert_rejected();
    assert_eq!(server.server_refs(), before);
    pushed.assert_line("hookrt: policy branch-owner vetoed refs/heads/fix-parser");
    pushed.assert_line("  new branch fix-parser must be named ann/<name>");
    pushed.assert_line("  git push origin fix-parser:ann/fix-parser");
}

#[test]
fn branch_owner_fails_closed_when_nobody_names_the_pusher() {
    let server = Server::with_example("branch-owner");
    let before = server.server_refs();
    server.commit("fix the parser");
    // No hosting layer's variable, and no account name to fall back on.
    let nobody = [("USER", ""), ("LOGNAME", "")];
    let pushed = server.push_with_env(&["origin", "HEAD:refs/heads/ann/fix"], &nobody).assert_rejected();
    assert_eq!(server.server_refs(), before);
    pushed.assert_line("  can't tell who creates ann/fix: the server does not name the pusher");
}

// internal-authors

/// The company domain of the test config's address (pusher@example.com).
const INTERNAL_AUTHORS_SETTINGS: &str = "[policy.internal-authors.settings]\ndomains = [\"example.com\"]\n";

#[test]
fn internal_authors_passes_its_cases() {
    assert_push_rule_passes_its_cases("internal-authors");
}

#[test]
fn internal_authors_accepts_company_and_bot_authors() {
    let server = Server::with_example("internal-authors");
    server.write_config(INTERNAL_AUTHORS_SETTINGS);
    server.commit("by the company address of the test config");
    let bot = [
        ("GIT_AUTHOR_NAME", "dependabot[bot]"),
        ("GIT_AUTHOR_EMAIL", "49699333+dependabot[bot]@users.noreply.github.com"),
    ];
    let id = server.commit_with("bump dependencies", Commit::with_env(&bot));
    server.push(&["origin", "main"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(id.as_str()));
}

#[test]
fn internal_authors_vetoes_an_outside_address() {
    let server = Server::with_example("internal-authors");
    server.write_config(INTERNAL_AUTHORS_SETTINGS);
    let before = server.server_refs();
    server.commit("from work");
    let bad = server.commit_with("from home", Commit::with_env(&[("GIT_AUTHOR_EMAIL", "ann@gmail.com")]));
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert_eq!(server.server_refs(), before);
    pushed.assert_line(&format!("  commit {}  from home", short(&bad)));
    pushed.assert_line("  author e-mail <ann@gmail.com> is outside example.com");
    pushed.assert_line("hookrt: push rejected: 1 veto");
}

// no-secrets

#[test]
fn no_secrets_passes_its_cases() {
    assert_push_rule_passes_its_cases("no-secrets");
}

#[test]
fn no_secrets_accepts_ordinary_text() {
    let server = Server::with_example("no-secrets");
    server.write_file("config/app.env", "region=eu-west-1\nkey_id=${AWS_ACCESS_KEY_ID}\n");
    server.write_file("keys/ci.pub", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----\n");
    let id = server.commit("configure the app");
    server.push(&["origin", "main"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(id.as_str()));
}

#[test]
fn no_secrets_vetoes_an_aws_key_without_showing_it() {
    let server = Server::with_example("no-secrets");
    let before = server.server_refs();
    server.write_file("config/aws.env", "region=eu-west-1\naws_access_key_id=AKIAIOSFODNN7EXAMPLE\n");
    let bad = server.commit("configure aws");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert_eq!(server.server_refs(), before);
    pushed.assert_line(&format!("  commit {}  configure aws", short(&bad)));
    pushed.assert_line("  secret in config/aws.env line 2: an AWS access key id (AKIA****************)");
    assert!(!pushed.stderr.contains("IOSFODNN7EXAMPLE"), "the key itself must not be shown:\n{}", pushed.stderr);

    // Deleting it in a later commit is not enough: it stays in the history.
    server.remove_file("config/aws.env");
    server.commit("remove the key");
    server.push(&["origin", "main"]).assert_rejected();
    assert_eq!(server.server_refs(), before);
}

#[test]
fn no_secrets_warns_about_the_part_of_a_big_file_it_did_not_scan() {
    let server = Server::with_example("no-secrets");
    // 1.5 MB of text: more than the 1 MiB a policy may read.
    server.write_file("logs/big.log", "nothing to see here\n".repeat(75_000));
    let id = server.commit("add the log");
    let pushed = server.push(&["origin", "main"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(id.as_str()));
    // As docs/policies.md shows it.
    pushed.assert_line("hookrt: warning: policy no-secrets warns about refs/heads/main");
    pushed.assert_line(&format!("  commit {}  add the log", &id[..12]));
    pushed.assert_line("  logs/big.log: only the first 1024 KiB of 1464 KiB were scanned for secrets");
    pushed.assert_line("  The rest of the file was not checked for private keys or AWS keys: make sure it holds none.");
}

// force-push-scratch

#[test]
fn force_push_scratch_passes_its_cases() {
    assert_push_rule_passes_its_cases("force-push-scratch");
}

#[test]
fn force_push_scratch_accepts_a_force_push_to_a_scratch_branch() {
    let server = Server::with_example("force-push-scratch");
    server.commit("draft");
    server.push(&["origin", "HEAD:refs/heads/scratch/ann"]).assert_ok();
    server.git(&["reset", "--quiet", "--hard", "HEAD~1"]);
    let id = server.commit("clean draft");
    server.push(&["--force", "origin", "HEAD:refs/heads/scratch/ann"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/scratch/ann").as_deref(), Some(id.as_str()));
}

#[test]
fn force_push_scratch_vetoes_a_force_push_to_main() {
    let server = Server::with_example("force-push-scratch");
    let old = server.commit("second");
    server.push(&["origin", "main"]).assert_ok();
    let before = server.server_refs();
    server.git(&["reset", "--quiet", "--hard", "HEAD~1"]);
    let new = server.commit("rewritten second");
    let pushed = server.push(&["--force", "origin", "main"]).assert_rejected();
    assert_eq!(server.server_refs(), before);
    pushed.assert_line("hookrt: policy force-push-scratch vetoed refs/heads/main");
    pushed.assert_line("  force pushes to main are not allowed (only to scratch/* and test/*)");
    pushed.assert_line(&format!(
        "  main is at {} on the server; the push would move it to {}, which does not contain it,",
        short(&old),
        short(&new)
    ));
}

// no-force-push

#[test]
fn no_force_push_passes_its_cases() {
    assert_push_rule_passes_its_cases("no-force-push");
}

#[test]
fn no_force_push_accepts_fast_forwards_and_deletions() {
    let server = Server::with_example("no-force-push");
    server.commit("second");
    server.push(&["origin", "main", "main:refs/heads/topic"]).assert_ok();
    let id = server.commit("third");
    server.push(&["origin", "main"]).assert_ok();
    server.push(&["origin", ":topic"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(id.as_str()));
    assert_eq!(server.server_ref("refs/heads/topic"), None);
}

#[test]
fn no_force_push_vetoes_rewinding_a_branch_or_moving_a_tag() {
    let server = Server::with_example("no-force-push");
    let old = server.commit("second");
    server.git(&["tag", "v1"]);
    server.push(&["origin", "main", "v1"]).assert_ok();
    let before = server.server_refs();

    server.git(&["reset", "--quiet", "--hard", "HEAD~1"]);
    let new = server.commit("rewritten second");
    let pushed = server.push(&["--force", "origin", "main"]).assert_rejected();
    assert_eq!(server.server_refs(), before);
    pushed.assert_line("hookrt: policy no-force-push vetoed refs/heads/main");
    pushed.assert_line(&format!(
        "  force push to main rejected: {} is not an ancestor of {}",
        short(&old),
        short(&new)
    ));

    server.git(&["tag", "--force", "v1", "HEAD"]);
    let pushed = server.push(&["--force", "origin", "v1"]).assert_rejected();
    assert_eq!(server.server_refs(), before);
    pushed.assert_line("hookrt: policy no-force-push vetoed refs/tags/v1");
    pushed.assert_line(&format!("  force push to v1 rejected: {} is not an ancestor of {}", short(&old), short(&new)));
}

// verify-committer

#[test]
fn verify_committer_passes_its_cases() {
    assert_push_rule_passes_its_cases("verify-committer");
}

/// A Gitea pusher whose e-mail is the test config's committer e-mail
/// (pusher@example.com) in other letter case.
const GITEA_PUSHER: [(&str, &str); 2] = [("GITEA_PUSHER_NAME", "pusher"), ("GITEA_PUSHER_EMAIL", "Pusher@Example.com")];

#[test]
fn verify_committer_accepts_the_pushers_own_commits() {
    let server = Server::with_example("verify-committer");
    server.commit("my work");
    let id =
        server.commit_with("bob's patch, applied by me", Commit::with_env(&[("GIT_AUTHOR_EMAIL", "bob@example.com")]));
    let pushed = server.push_with_env(&["origin", "main"], &GITEA_PUSHER).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(id.as_str()));
    assert!(!pushed.stderr.contains("not checked"), "{}", pushed.stderr);
}

#[test]
fn verify_committer_vetoes_someone_elses_commit() {
    let server = Server::with_example("verify-committer");
    let before = server.server_refs();
    let bad = server.commit_with("bob's work", Commit::with_env(&[("GIT_COMMITTER_EMAIL", "bob@example.com")]));
    let pushed = server.push_with_env(&["origin", "main"], &GITEA_PUSHER).assert_rejected();
    assert_eq!(server.server_refs(), before);
    pushed.assert_line(&format!("  commit {}  bob's work", short(&bad)));
    pushed.assert_line("  committed by <bob@example.com>, but <Pusher@Example.com> is pushing");
}

#[test]
fn verify_committer_without_the_pushers_email_accepts_and_says_so() {
    let server = Server::with_example("verify-committer");
    let id = server.commit_with("bob's work", Commit::with_env(&[("GIT_COMMITTER_EMAIL", "bob@example.com")]));
    let pushed = server.push_with_env(&["origin", "main"], &[("GITHUB_USER_LOGIN", "ann")]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(id.as_str()));
    pushed.assert_line("[verify-committer] the server gives no e-mail for the pusher, so committers were not checked");
}
