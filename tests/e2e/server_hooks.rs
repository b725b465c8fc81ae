//! The server hooks beyond pre-receive, update and post-receive, each run by
//! real git: reference-transaction (a `git update-ref` or `git branch` on
//! the server), push-to-checkout (a push into a non-bare repository's
//! checked-out branch), proc-receive (a push to `refs/for/<branch>`) and
//! post-update. The configurations are the ones docs/admin.md and
//! docs/hosting.md show.

use std::path::Path;
use std::process::Output;

use crate::support::{Server, documented_config, example_policy, guests, stderr};

/// Runs git in `dir` with the server's environment, whatever its outcome.
fn git_at(server: &Server, dir: &Path, args: &[&str]) -> Output {
    server.command("git", dir).args(args).output().expect("run git")
}

const PROTECT_EVERYWHERE: &str = r#"[policy.protect-branches]
hook = "reference-transaction"
"#;

#[test]
fn a_reference_transaction_policy_vetoes_a_git_update_ref_and_the_ref_stays() {
    let server = Server::with_example("protect-branches");
    server.write_config(&documented_config("docs/admin.md", PROTECT_EVERYWHERE));
    let first = server.server_ref("refs/heads/main").expect("main");
    server.commit("second");
    server.push(&["origin", "main"]).assert_ok();
    let main = server.server_ref("refs/heads/main").expect("main");

    // Deleting and rewinding main on the server, with git's own commands.
    for args in [&["update-ref", "-d", "refs/heads/main"][..], &["branch", "--force", "main", &first]] {
        let out = git_at(&server, &server.bare, args);
        assert!(!out.status.success(), "git {args:?} was let through");
        let said = stderr(&out);
        assert!(said.contains("hookrt: policy protect-branches vetoed refs/heads/main"), "{said}");
        assert!(said.contains("hookrt: ref change rejected: 1 veto"), "{said}");
        assert!(said.contains("ref updates aborted by hook"), "git aborted the transaction: {said}");
        assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(main.as_str()), "main moved");
    }
    // A branch that is not protected is anybody's.
    server.server_git(&["branch", "scratch", &first]);
    server.server_git(&["update-ref", "-d", "refs/heads/scratch"]);
    assert_eq!(server.server_ref("refs/heads/scratch"), None);

    let records = server.audit_records();
    let rejected: Vec<_> = records.iter().filter(|r| r["decision"] == "rejected").collect();
    assert_eq!(rejected.len(), 2, "{records:?}");
    assert!(rejected.iter().all(|r| r["hook"] == "reference-transaction"), "{rejected:?}");
}

const PROTECT_PUSHES_TOO: &str = r#"[policy.protect-branches]
hook = "reference-transaction"
pushes = true
"#;

#[test]
fn a_pushs_own_transaction_is_left_to_pre_receive_unless_the_policy_asks() {
    let server = Server::with_example("protect-branches");
    server.write_config(PROTECT_EVERYWHERE);
    let first = server.server_ref("refs/heads/main").expect("main");
    server.commit("second");
    server.push(&["origin", "main"]).assert_ok();

    // Configured for reference-transaction only, the policy does not see
    // the force push: pre-receive's policies are the ones for pushes.
    server.push(&["--force", "origin", &format!("{first}:refs/heads/main")]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(first.as_str()));

    server.write_config(&documented_config("docs/admin.md", PROTECT_PUSHES_TOO));
    let pushed = server.push(&["--force", "origin", "main"]);
    assert!(pushed.ok, "a fast-forward goes through: {}", pushed.stderr);
    let second = server.server_ref("refs/heads/main").expect("main");
    let pushed = server.push(&["--force", "origin", &format!("{first}:refs/heads/main")]);
    assert!(!pushed.ok, "the push's transaction was not checked: {}", pushed.stderr);
    assert!(pushed.stderr.contains("main is protected"), "{}", pushed.stderr);
    assert_eq!(server.server_ref("refs/heads/main"), Some(second));
}

#[test]
fn reference_transaction_observers_run_once_it_is_committed() {
    let server = Server::with_example("protect-branches");
    server.add_policy("observer", guests::OBSERVER);
    server.write_config(&format!("{PROTECT_EVERYWHERE}\n[policy.observer]\nhook = \"reference-transaction\"\n"));
    let main = server.server_ref("refs/heads/main").expect("main");

    let out = git_at(&server, &server.bare, &["branch", "topic", &main]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stderr(&out);
    assert_eq!(said.matches("[observer] observer emitted 0 events").count(), 1, "{said}");
    let records = server.audit_records();
    let policies = |r: &serde_json::Value| r["policies"].as_array().map(|p| p.len()).unwrap_or(0);
    assert_eq!(records.len(), 2, "one record for prepared, one for committed: {records:?}");
    assert!(records.iter().all(|r| policies(r) == 1), "each state ran its one policy: {records:?}");
}

#[test]
fn push_to_checkout_updates_the_work_tree_or_refuses_with_the_reason() {
    let server = Server::new();
    let dest = server.root().join("deployed");
    let git = |dir: &Path, args: &[&str]| {
        let out = git_at(&server, dir, args);
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    };
    git(server.root(), &["init", "--quiet", "deployed"]);
    std::fs::write(dest.join("site.txt"), "one\n").expect("write");
    git(&dest, &["add", "site.txt"]);
    git(&dest, &["commit", "--quiet", "-m", "one"]);
    git(&dest, &["config", "receive.denyCurrentBranch", "updateInstead"]);
    let installed = server.hookrt(&["install", dest.join(".git").to_str().expect("utf-8")]);
    assert!(installed.status.success());
    let policies = dest.join(".git/hookrt/policies");
    std::fs::copy(example_policy("no-wip"), policies.join("no-wip.wasm")).expect("copy");
    let config = documented_config("docs/admin.md", "[policy.no-wip]\nhook = \"push-to-checkout\"\n");
    std::fs::write(policies.join("hookrt.toml"), config).expect("config");

    let dev = server.root().join("dev");
    git(server.root(), &["clone", "--quiet", dest.to_str().expect("utf-8"), "dev"]);
    let commit = |text: &str, message: &str| {
        std::fs::write(dev.join("site.txt"), text).expect("write");
        git(&dev, &["commit", "--quiet", "-am", message]);
    };
    let site = || std::fs::read_to_string(dest.join("site.txt")).expect("read");
    let head = || server.command("git", &dest).args(["rev-parse", "HEAD"]).output().expect("git").stdout;

    // Accepted: the work tree follows, as git's own updateInstead does.
    commit("two\n", "Add two");
    let out = git_at(&server, &dev, &["push", "origin", "main"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(site(), "two\n");
    let status = git_at(&server, &dest, &["status", "--porcelain"]);
    assert!(status.stdout.is_empty(), "the work tree is clean: {}", String::from_utf8_lossy(&status.stdout));

    // Vetoed: the branch and the work tree stay.
    let before = head();
    commit("three\n", "WIP three");
    let out = git_at(&server, &dev, &["push", "origin", "main"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("hookrt: policy no-wip vetoed refs/heads/main"), "{}", stderr(&out));
    assert_eq!((site(), head()), ("two\n".to_owned(), before.clone()));

    // Accepted by the policies, but the work tree has changes of its own:
    // refused as git refuses, and nothing of them is lost.
    git(&dev, &["reset", "--quiet", "--hard", "HEAD~1"]);
    commit("four\n", "Add four");
    std::fs::write(dest.join("site.txt"), "edited on the server\n").expect("write");
    let out = git_at(&server, &dev, &["push", "origin", "main"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Working directory has unstaged changes"), "{}", stderr(&out));
    assert_eq!((site(), head()), ("edited on the server\n".to_owned(), before));
}

const REVIEWS: &str = r#"[policy.no-wip]
hook = "proc-receive"
refs = ["refs/heads/main"]

[proc_receive]
target = "refs/reviews/{branch}/{topic}"
"#;

#[test]
fn a_push_to_refs_for_main_gets_a_verdict_per_ref_through_proc_receive() {
    let server = Server::with_example("no-wip");
    server.write_config(&documented_config("docs/hosting.md", REVIEWS));
    server.server_git(&["config", "receive.procReceiveRefs", "refs/for"]);
    server.server_git(&["config", "receive.advertisePushOptions", "true"]);
    let main = server.server_ref("refs/heads/main");

    let good = server.commit("Fix the parser");
    let pushed = server.push(&["-o", "topic=parser", "origin", "HEAD:refs/for/main"]);
    assert!(pushed.ok, "{}", pushed.stderr);
    assert!(pushed.stderr.contains("HEAD -> refs/reviews/main/parser"), "{}", pushed.stderr);
    assert_eq!(server.server_ref("refs/reviews/main/parser"), Some(good));
    assert_eq!(server.server_ref("refs/heads/main"), main, "a review leaves the branch alone");
    assert_eq!(server.server_ref("refs/for/main"), None);

    // One push, two review refs: the policy is for main only, so only the
    // ref for main is rejected, with the veto's summary as git's reason.
    let wip = server.commit("WIP: more parser");
    let pushed = server.push(&["-o", "topic=more", "origin", "HEAD:refs/for/main", "HEAD:refs/for/release"]);
    assert!(!pushed.ok);
    assert!(
        pushed
            .stderr
            .contains("! [remote rejected] HEAD -> refs/for/main (no-wip: work-in-progress commits can't be pushed)"),
        "{}",
        pushed.stderr
    );
    assert!(pushed.remote_lines().contains(&"hookrt: policy no-wip vetoed refs/heads/main"), "{}", pushed.stderr);
    assert_eq!(server.server_ref("refs/reviews/main/more"), None);
    assert_eq!(server.server_ref("refs/reviews/release/more"), Some(wip));
}

#[test]
fn nobody_pushes_hookrts_own_refs() {
    let server = Server::new();
    let pushed = server.push(&["--force", "origin", "HEAD:refs/hookrt/policies"]);
    assert!(!pushed.ok);
    assert!(pushed.stderr.contains("refs/hookrt/policies is hookrt's own ref"), "{}", pushed.stderr);
}

#[test]
fn post_update_and_the_hooks_hookrt_does_not_run_keep_running_after_install() {
    let server = Server::without_hookrt();
    let marker = server.root().join("post-update-ran");
    let hooks = server.bare.join("hooks");
    for hook in ["post-update", "pre-auto-gc"] {
        let script = format!("#!/bin/sh\necho {hook} \"$@\" >> '{}'\n", marker.display());
        crate::support::servers::install_script(&hooks.join(hook), &script);
    }
    let out = server.hookrt(&["install", server.bare.to_str().expect("utf-8")]);
    assert!(out.status.success());
    std::fs::copy(guests::LIST_COMMITS, server.policy_dir().join("list.wasm")).expect("copy");
    server.write_config("[policy.list]\nhook = \"post-update\"\n");

    server.commit("second");
    let pushed = server.push(&["origin", "main"]);
    assert!(pushed.ok, "{}", pushed.stderr);
    // The policy sees the names and nothing new; the old hook still runs.
    let lines = pushed.remote_lines();
    assert!(lines.contains(&"[list] push post-update 1 options="), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("walk ")), "{lines:?}");
    let ran = std::fs::read_to_string(&marker).expect("the old post-update ran");
    assert_eq!(ran, "post-update refs/heads/main\n");
    let handed = std::fs::read_to_string(server.bare.join("hookrt/hooks/pre-auto-gc")).expect("handover script");
    assert!(handed.contains(&hooks.join("pre-auto-gc").display().to_string()), "{handed}");
}
