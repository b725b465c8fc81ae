//! Observers: policies of the `observer` world run in post-receive, after
//! the refs moved. They write to the pusher and emit events for the admin's
//! webhooks; nothing they do, or fail to do, changes the push.

use std::time::Duration;

use crate::support::receiver::{Receiver, wait_for};
use crate::support::{Server, example_policy, guests};

const WAIT: Duration = Duration::from_secs(60);

/// The events queued for webhooks, by name, in order.
fn queued_events(server: &Server) -> Vec<String> {
    server
        .audit_records()
        .iter()
        .filter(|r| r["outcome"] == "queued")
        .map(|r| r["event"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn an_observers_event_reaches_the_webhooks_that_want_it() {
    let server = Server::new();
    let receiver = Receiver::start();
    server.add_policy("deploy-notify", example_policy("deploy-notify"));
    server.write_config(&format!(
        r#"[policy.deploy-notify]
hook = "post-receive"

[policy.deploy-notify.settings]
environment = "staging"

[webhook.deployer]
url = "{}"
events = ["deploy-notify/*"]
refs = ["refs/heads/main"]
"#,
        receiver.url()
    ));
    let before = server.server_ref("refs/heads/main").expect("main");
    server.commit("One");
    let after = server.commit("Two");
    let push = server.push_with_env(&["origin", "main"], &[("GL_USERNAME", "ann")]).assert_ok();
    push.assert_line("[deploy-notify] deploy of main to staging requested");

    let request = receiver.next(WAIT);
    assert_eq!(request.header("X-Hookrt-Event"), Some("deploy-notify/deploy"));
    assert_eq!(request.header("X-Gitlab-Event"), None);
    let body = request.json();
    assert_eq!(body["object_kind"], "hookrt_event");
    assert_eq!(body["event_name"], "deploy-notify/deploy");
    assert_eq!(body["policy"], "deploy-notify");
    assert_eq!(body["ref"], "refs/heads/main");
    assert_eq!(body["user_name"], "ann");
    let payload = &body["payload"];
    assert_eq!(payload["branch"], "main");
    assert_eq!(payload["environment"], "staging");
    assert_eq!(payload["before"], before.as_str());
    assert_eq!(payload["after"], after.as_str());
    assert_eq!(payload["pusher"], "ann");
    assert_eq!(payload["commits"], 2);

    // A deploy branch the webhook does not want: the observer still emits,
    // nothing is queued.
    server.git(&["checkout", "--quiet", "-b", "topic"]);
    server.commit("Topic work");
    let push = server.push(&["origin", "topic"]).assert_ok();
    assert!(push.remote_lines().iter().all(|l| !l.contains("deploy of")), "topic is no deploy branch");
    assert_eq!(queued_events(&server), vec!["deploy-notify/deploy"]);
    assert!(receiver.all(Duration::from_millis(300)).is_empty());
}

#[test]
fn observers_that_trap_or_loop_change_nothing_and_are_reported() {
    let server = Server::new();
    let receiver = Receiver::start();
    server.add_policy("trapper", guests::OBSERVER);
    server.add_policy("looper", guests::OBSERVER);
    server.write_config(&format!(
        r#"[policy.trapper]
hook = "post-receive"
settings = {{ behave = "trap" }}

[policy.looper]
hook = "post-receive"
timeout_ms = 300
settings = {{ behave = "loop" }}

[webhook.everything]
url = "{}"
events = ["*"]
"#,
        receiver.url()
    ));
    let pushed = server.commit("Pushed whatever the observers do");
    let push = server.push(&["origin", "main"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(pushed.as_str()), "the ref moved");
    let text = push.stderr.clone();
    assert!(text.contains("hookrt: warning: policy trapper: trapped"), "{text}");
    assert!(text.contains("observer trapped on purpose"), "what the observer printed is shown: {text}");
    assert!(text.contains("hookrt: warning: policy looper: "), "{text}");
    push.assert_line("hookrt: warning: the push stands (post-receive cannot reject): 2 failed policies");

    let decision = server.audit_records().into_iter().rfind(|r| r["hook"] == "post-receive").expect("a decision");
    let verdicts: Vec<_> = decision["policies"].as_array().expect("policies").iter().map(|p| &p["verdict"]).collect();
    assert_eq!(verdicts, ["failed", "failed"]);
    assert_eq!(decision["decision"], "accepted");
    // Events emitted before the failure are not delivered; the push's own is.
    assert_eq!(queued_events(&server), vec!["push"]);
    assert_eq!(receiver.next(WAIT).header("X-Hookrt-Event"), Some("push"));
}

#[test]
fn emit_refuses_bad_events_and_floods_as_data() {
    let server = Server::new();
    server.add_policy("bad", guests::OBSERVER);
    server.add_policy("flood", guests::OBSERVER);
    server.write_config(
        "[policy.bad]\nhook = \"post-receive\"\nsettings = { behave = \"bad\" }\n\n\
         [policy.flood]\nhook = \"post-receive\"\nsettings = { behave = \"flood\" }\n",
    );
    server.commit("Watched");
    let push = server.push(&["origin", "main"]).assert_ok();
    let lines = push.remote_lines();
    let has = |start: &str| lines.iter().any(|l| l.contains(start));
    assert!(has("emit error: EmitError::InvalidName(\"\\\"Bad Name!\\\" must start with a-z or 0-9\")"), "{lines:#?}");
    assert!(has("emit error: EmitError::InvalidPayload(\"key must be a string at line 1 column 2\")"), "{lines:#?}");
    assert!(has("emit error: EmitError::UnknownRef(\"refs/heads/nope is not one of this push's ref updates\")"));
    assert!(has(
        "flood: 100 of 150 accepted, first error: EmitError::TooMany(\"a policy may emit 100 events per push\")"
    ));
    assert!(server.outbox_files().is_empty(), "no webhook, nothing queued");
}

#[test]
fn an_observer_set_for_pre_receive_is_refused_with_what_to_write() {
    let server = Server::new();
    server.add_policy("deploy-notify", example_policy("deploy-notify"));
    server.commit("Blocked: the configuration is wrong");
    let push = server.push(&["origin", "main"]).assert_rejected();
    assert!(
        push.stderr.contains("it is an observer (the `observer` world), which runs after the refs moved; set `hook = \"post-receive\"` (or post-update, reference-transaction) in its [policy.deploy-notify] entry"),
        "{}",
        push.stderr
    );
    let bare = server.bare.display().to_string();
    let out = server.hookrt(&["check", &bare]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("error  deploy-notify: it is an observer"));

    server.write_config("[policy.deploy-notify]\nhook = \"post-receive\"\n");
    let out = server.hookrt(&["check", &bare]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("ok     deploy-notify (observer, repository, post-receive"), "{stdout}");
    server.push(&["origin", "main"]).assert_ok().assert_line("[deploy-notify] deploy of main to production requested");
    wait_for(WAIT, "nothing queued without a webhook", || server.outbox_files().is_empty().then_some(()));
}
