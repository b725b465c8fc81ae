//! Configuration with real pushes: the server-wide scope and the
//! repository's, overrides and the mandatory flag, modes, ref filters, the
//! shared budget, bypass, settings and their validator, broken files, and
//! the audit log that records every decision.
//!
//! The `configurable` test guest does what its settings say: it prints
//! `configurable: label=<label> refs=<refs it was handed>`, vetoes every
//! ref with `veto` as the summary, spins forever with `spin = true`, and
//! accepts `limit` only from 1 to 100.

use crate::support::{Server, example_policy, guests, text};

/// A server with the `configurable` guest in the repository's policies.
fn configurable_server() -> Server {
    let server = Server::new();
    server.add_policy("configurable", guests::CONFIGURABLE);
    server
}

/// `hookrt check` on the server's repository, with its server-wide scope.
fn check(server: &Server) -> std::process::Output {
    server.hookrt(&["check", server.bare.to_str().expect("utf-8")])
}

/// The policy records of the last audit record.
fn last_policies(server: &Server) -> Vec<serde_json::Value> {
    let records = server.audit_records();
    let last = records.last().expect("an audit record");
    last["policies"].as_array().expect("policies").clone()
}

#[test]
fn a_server_wide_policy_runs_for_a_repository_without_one() {
    let server = Server::new();
    server.add_global_policy("configurable", guests::CONFIGURABLE);
    server
        .write_global_config("[policy.configurable.settings]\nlabel = \"server\"\nveto = \"frozen for the release\"\n");
    let before = server.server_refs();
    server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    let lines = pushed.remote_lines();
    assert!(lines.contains(&"[configurable] configurable: label=server refs=refs/heads/main"), "{}", pushed.stderr);
    assert!(lines.contains(&"hookrt: policy configurable vetoed refs/heads/main"), "{}", pushed.stderr);
    assert!(lines.contains(&"  frozen for the release"), "{}", pushed.stderr);
    assert_eq!(server.server_refs(), before);

    let policy = &last_policies(&server)[0];
    assert_eq!(policy["name"], "configurable");
    assert_eq!(policy["scope"], "global");
    assert_eq!(policy["verdict"], "reject");
}

#[test]
fn a_repository_entry_overrides_the_server_entry_key_by_key() {
    let server = Server::new();
    server.add_global_policy("configurable", guests::CONFIGURABLE);
    server.write_global_config("[policy.configurable.settings]\nlabel = \"server\"\nveto = \"server says no\"\n");
    server.write_config("[policy.configurable.settings]\nveto = \"repository says no\"\n");
    server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    let lines = pushed.remote_lines();
    // `label` comes from the server, `veto` from the repository.
    assert!(lines.contains(&"[configurable] configurable: label=server refs=refs/heads/main"), "{}", pushed.stderr);
    assert!(lines.contains(&"  repository says no"), "{}", pushed.stderr);
    assert!(!pushed.stderr.contains("server says no"), "{}", pushed.stderr);
    assert_eq!(last_policies(&server)[0]["scope"], "repository");

    // A policy that is not mandatory can be switched off by the repository.
    server.write_config("[policy.configurable]\nmode = \"disabled\"\n");
    let pushed = server.push(&["origin", "main"]).assert_ok();
    assert!(!pushed.stderr.contains("configurable:"), "{}", pushed.stderr);
    assert_eq!(last_policies(&server)[0]["skipped"], "disabled");
}

#[test]
fn a_mandatory_policy_stays_on_when_a_repository_disables_it() {
    let server = Server::new();
    server.add_global_policy("configurable", guests::CONFIGURABLE);
    server.write_global_config(
        "[policy.configurable]\nmandatory = true\n\n[policy.configurable.settings]\nveto = \"signed-off commits only\"\n",
    );
    server.write_config(
        "[policy.configurable]\nmode = \"disabled\"\n\n[policy.configurable.settings]\nlabel = \"repo\"\n",
    );
    let before = server.server_refs();
    server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    let lines = pushed.remote_lines();
    let notice = lines
        .iter()
        .find(|l| l.starts_with("hookrt: warning: ") && l.contains("policy `configurable` is mandatory"))
        .unwrap_or_else(|| panic!("no notice in:\n{}", pushed.stderr));
    assert!(notice.contains("hookrt/policies/hookrt.toml:1"), "{notice}");
    assert!(notice.contains("global/hookrt.toml:1"), "{notice}");
    assert!(notice.contains("cannot change `mode`"), "{notice}");
    // The repository's settings still apply; its `mode` does not.
    assert!(lines.contains(&"[configurable] configurable: label=repo refs=refs/heads/main"), "{}", pushed.stderr);
    assert!(lines.contains(&"  signed-off commits only"), "{}", pushed.stderr);
    assert_eq!(server.server_refs(), before);
    let records = server.audit_records();
    assert!(records.last().expect("a record")["notices"][0].as_str().is_some_and(|n| n.contains("mandatory")));

    let out = check(&server);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("is mandatory"), "{}", text(&out));
}

#[test]
fn evaluate_mode_shows_the_would_be_veto_logs_it_and_lets_the_push_land() {
    let server = configurable_server();
    server.write_config(
        "[policy.configurable]\nmode = \"evaluate\"\n\n[policy.configurable.settings]\nveto = \"no tickets named\"\n",
    );
    let commit = server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_ok();
    let lines = pushed.remote_lines();
    assert!(
        lines.contains(&"hookrt: evaluate: policy configurable would have vetoed refs/heads/main"),
        "{}",
        pushed.stderr
    );
    assert!(lines.contains(&"  no tickets named"), "{}", pushed.stderr);
    assert!(
        lines.contains(&"hookrt: evaluate mode: 1 finding above not enforced; nothing was rejected because of it"),
        "{}",
        pushed.stderr
    );
    assert!(server.server_refs().contains(&commit));

    let records = server.audit_records();
    let record = records.last().expect("a record");
    assert_eq!(record["decision"], "accepted");
    let policy = &record["policies"][0];
    assert_eq!(policy["mode"], "evaluate");
    assert_eq!(policy["verdict"], "reject");
    assert_eq!(policy["blocking"], false);
    assert_eq!(policy["vetoes"][0]["summary"], "no tickets named");
}

#[test]
fn ref_filters_choose_the_refs_a_policy_is_handed() {
    let server = configurable_server();
    server.write_config(
        "[policy.configurable]\nrefs = [\"refs/heads/*\"]\nexclude_refs = [\"refs/heads/wip-*\"]\n\n\
         [policy.configurable.settings]\nveto = \"not on this branch\"\n",
    );
    server.commit("anything");
    server.git(&["branch", "wip-parser"]);
    server.git(&["tag", "v1.0"]);
    let pushed = server.push(&["origin", "main", "wip-parser", "v1.0"]).assert_rejected();
    let lines = pushed.remote_lines();
    assert!(lines.contains(&"[configurable] configurable: label=unset refs=refs/heads/main"), "{}", pushed.stderr);
    assert_eq!(pushed.stderr.matches("vetoed").count(), 1, "{}", pushed.stderr);

    // A push of only refs the policy does not apply to never runs it.
    let pushed = server.push(&["origin", "wip-parser", "v1.0"]).assert_ok();
    assert!(!pushed.stderr.contains("configurable:"), "{}", pushed.stderr);
    assert_eq!(last_policies(&server)[0]["skipped"], "no-matching-refs");
}

#[test]
fn the_shared_budget_running_out_rejects_and_names_the_budget() {
    let server = Server::new();
    // a-spins has fuel for far longer than the budget: the default fuel
    // runs out in about 0.2 s on a fast machine.
    std::fs::create_dir_all(server.policy_dir().join("modules")).expect("modules dir");
    std::fs::copy(guests::CONFIGURABLE, server.policy_dir().join("modules/configurable.wasm")).expect("copy");
    server.write_config(
        "[push]\nbudget_ms = 300\n\n\
         [policy.a-spins]\nmodule = \"modules/configurable.wasm\"\nfuel = 1_000_000_000_000\nsettings = { spin = true }\n\n\
         [policy.b-waits]\nmodule = \"modules/configurable.wasm\"\nsettings = { label = \"late\" }\n",
    );
    let before = server.server_refs();
    server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    let lines = pushed.remote_lines();
    let budget = "did not finish within the push's time budget (300 ms, shared by all policies)";
    assert!(lines.contains(&format!("hookrt: policy a-spins: {budget}").as_str()), "{}", pushed.stderr);
    assert!(lines.contains(&format!("hookrt: policy b-waits: {budget}").as_str()), "{}", pushed.stderr);
    assert!(!pushed.stderr.contains("label=late"), "b-waits must not have started: {}", pushed.stderr);
    assert!(pushed.stderr.contains("Raise `budget_ms`"), "{}", pushed.stderr);
    assert_eq!(server.server_refs(), before);
    let policies = last_policies(&server);
    assert_eq!(policies[0]["cause"], "budget");
    assert_eq!(policies[1]["cause"], "budget");
    assert_eq!(server.audit_records().last().expect("a record")["budget_ms"], 300);
}

#[test]
fn a_bypassed_service_account_skips_the_policy_and_is_recorded() {
    let server = configurable_server();
    server.write_config(
        "[policy.configurable]\nbypass = [\"deploy-bot\"]\n\n[policy.configurable.settings]\nveto = \"humans need a ticket\"\n",
    );
    let commit = server.commit("release 1.2");
    let pushed =
        server.push_with_env(&["origin", "main"], &[("GL_USERNAME", "deploy-bot"), ("GL_ID", "user-9")]).assert_ok();
    assert!(
        pushed.remote_lines().contains(&"hookrt: policy configurable skipped: pusher deploy-bot is exempt (bypass)"),
        "{}",
        pushed.stderr
    );
    assert!(server.server_refs().contains(&commit));
    let records = server.audit_records();
    let record = records.last().expect("a record");
    assert_eq!(record["pusher"]["name"], "deploy-bot");
    assert_eq!(record["policies"][0]["skipped"], "bypass");
    assert_eq!(record["policies"][0]["bypassed"], "deploy-bot");

    // Anyone else is checked.
    server.commit("by hand");
    server.push_with_env(&["origin", "main"], &[("GL_USERNAME", "ann")]).assert_rejected();
}

#[test]
fn a_bad_setting_is_caught_by_the_validator_at_check_and_at_push() {
    let server = configurable_server();
    server.write_config("[policy.configurable]\nmode = \"enforce\"\n\n[policy.configurable.settings]\nlabel = \"x\"\nlimit = 500\nlabl = \"typo\"\n");
    let config = server.policy_dir().join("hookrt.toml");
    let config = config.display();

    let out = check(&server);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown
            .contains(&format!("error  configurable: {config}:6: setting `limit`: must be between 1 and 100, not 500")),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("error  configurable: {config}:7: setting `labl`: this policy has no setting `labl`")),
        "{shown}"
    );

    let before = server.server_refs();
    server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    let lines = pushed.remote_lines();
    assert!(lines.contains(&"hookrt: policy configurable: has invalid settings"), "{}", pushed.stderr);
    assert!(
        lines.contains(&format!("  {config}:6: setting `limit`: must be between 1 and 100, not 500").as_str()),
        "{}",
        pushed.stderr
    );
    assert!(!pushed.stderr.contains("configurable: label="), "check must not run: {}", pushed.stderr);
    assert_eq!(server.server_refs(), before);
    assert_eq!(last_policies(&server)[0]["cause"], "settings");

    server.write_config("[policy.configurable.settings]\nlimit = 50\n");
    let out = check(&server);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("settings valid"), "{}", text(&out));
    server.push(&["origin", "main"]).assert_ok();
}

#[test]
fn a_malformed_file_fails_closed_naming_file_line_and_fix() {
    let server = configurable_server();
    let global = server.global_dir().join("hookrt.toml");
    let cases = [
        ("[policy.configurable\nfuel = 1\n", ":1:21: ", "unclosed table, expected `]`"),
        ("[policy.configurable]\nmemory_mib = 99999\n", ":1: ", "write at most 4096"),
        ("[policy.ghost]\nhook = \"update\"\n", ":1: ", "there is no ghost.wasm beside the file"),
        ("[policy.configurable]\nrefs = [\"heads/main\"]\n", ":1: ", "write e.g. \"refs/heads/main\""),
        ("[policy.configurable.settings]\nwhen = 2026-01-01\n", ":2: ", "setting `when` is a date"),
    ];
    let before = server.server_refs();
    server.commit("anything");
    for (toml, place, fix) in cases {
        server.write_global_config(toml);
        let pushed = server.push(&["origin", "main"]).assert_rejected();
        let expected = format!("{}{place}", global.display());
        assert!(pushed.stderr.contains(&expected), "{toml:?}: want {expected}\n{}", pushed.stderr);
        assert!(pushed.stderr.contains(fix), "{toml:?}: want {fix}\n{}", pushed.stderr);
        assert!(pushed.stderr.contains("the push is rejected because hookrt cannot check it"), "{}", pushed.stderr);
        assert_eq!(server.server_refs(), before);
        let record = server.audit_records().pop().expect("a record even for a broken configuration");
        assert_eq!(record["decision"], "rejected");
        assert!(record["error"].as_str().is_some_and(|e| e.contains(fix)), "{record}");

        let out = check(&server);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).contains(fix), "{}", text(&out));
    }
}

#[test]
fn an_audit_log_that_cannot_be_written_never_stops_a_push() {
    let server = configurable_server();
    // A directory where the log file should be.
    let blocked = server.root().join("blocked");
    std::fs::create_dir_all(&blocked).expect("dir");
    server.write_config(&format!("[audit]\npath = \"{}\"\n", blocked.display()));
    let commit = server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_ok();
    let notes: Vec<_> = pushed.remote_lines().into_iter().filter(|l| l.contains("audit log")).collect();
    assert_eq!(
        notes,
        [format!("hookrt: note: the audit log {} could not be written: it is not a regular file", blocked.display())]
    );
    assert!(server.server_refs().contains(&commit));
}

#[test]
fn every_push_leaves_one_audit_record() {
    let server = configurable_server();
    let start = server.audit_records().len();
    for n in 0..3 {
        server.commit(&format!("change {n}"));
        server.push(&["origin", "main"]).assert_ok();
    }
    let records = server.audit_records();
    assert_eq!(records.len(), start + 3);
    let last = records.last().expect("a record");
    assert_eq!(last["hook"], "pre-receive");
    assert_eq!(last["decision"], "accepted");
    assert!(last["repository"].as_str().is_some_and(|r| r.ends_with("server.git")), "{last}");
    assert_eq!(last["ref_updates"][0]["ref"], "refs/heads/main");
    assert!(last["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{last}");
    let policy = &last["policies"][0];
    assert_eq!(policy["verdict"], "accept");
    assert!(policy["fuel"].as_u64().is_some_and(|f| f > 0), "{policy}");
    assert!(policy["duration_ms"].as_f64().is_some_and(|d| d > 0.0), "{policy}");
}

/// The guides show what `hookrt check` prints for a bad setting; the
/// policies must print exactly that.
#[test]
fn the_guides_show_what_check_prints() {
    for (guide, policy, config) in [
        ("docs/policies.md", "jira-keys", "[policy.jira-keys.settings]\nprojects = [\"hook\"]\n"),
        ("docs/admin.md", "protect-branches", "[policy.protect-branches.settings]\nprotected-branches = []\n"),
    ] {
        let text_of_guide = std::fs::read_to_string(crate::support::in_repo(guide)).expect("read the guide");
        let prefix = format!("error  {policy}: ");
        let shown = text_of_guide.lines().find(|l| l.starts_with(&prefix)).expect("the example line");
        let server = Server::with_example(policy);
        server.write_config(config);
        let out = check(&server);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let expected = shown.replace("/srv/git/project.git", server.bare.to_str().expect("utf-8"));
        assert!(text(&out).lines().any(|l| l == expected), "{guide}: want {expected}\n{}", text(&out));
    }
}

#[test]
fn on_failure_allow_lets_the_push_through_with_a_warning() {
    let server = configurable_server();
    server
        .write_config("[policy.configurable]\ntimeout_ms = 100\non_failure = \"allow\"\nsettings = { spin = true }\n");
    let commit = server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_ok();
    let lines = pushed.remote_lines();
    assert!(
        lines.contains(&"hookrt: warning: policy configurable: ran past its deadline (100 ms)"),
        "{}",
        pushed.stderr
    );
    assert!(
        lines.contains(&"  The push goes on: this policy is set to `on_failure = \"allow\"`."),
        "{}",
        pushed.stderr
    );
    assert!(server.server_refs().contains(&commit));
    let policy = &last_policies(&server)[0];
    assert_eq!((policy["verdict"].as_str(), policy["cause"].as_str()), (Some("failed"), Some("deadline")));
    assert_eq!(policy["blocking"], false);
}

/// Settings given to a policy without a validator (line-length, a C policy
/// of the plain `policy` world) are checked by nothing: `hookrt check`
/// warns of each, with its line, as docs/admin.md shows, and exits 0, as
/// warnings do.
#[test]
fn check_warns_of_settings_no_validator_checks() {
    let server = Server::new();
    server.add_policy("line-length", example_policy("line-length"));
    let out = check(&server);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("warn"), "no settings, no warning: {}", text(&out));

    server.write_config(
        "[policy.line-length]\nrefs = [\"refs/heads/**\"]\n\n[policy.line-length.settings]\nmax-subjet = 50\n",
    );
    let out = check(&server);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("ok     line-length (repository, pre-receive, enforce"), "{shown}");
    assert!(shown.contains("settings unchecked"), "{shown}");
    let guide = std::fs::read_to_string(crate::support::in_repo("docs/admin.md")).expect("read the guide");
    let documented = guide.lines().find(|l| l.starts_with("warn   line-length: ")).expect("the example line");
    let expected = documented.replace("/srv/git/project.git", server.bare.to_str().expect("utf-8"));
    assert!(shown.lines().any(|l| l == expected), "want {expected}\n{shown}");
    assert!(shown.lines().any(|l| l.ends_with(", 0 problem(s), 1 warning(s)")), "{shown}");

    // A policy with a validator checks its keys itself: no warning.
    server.add_policy("configurable", guests::CONFIGURABLE);
    server.write_config("[policy.configurable.settings]\nlimit = 50\n");
    let out = check(&server);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("warn"), "{}", text(&out));
}
