//! Webhooks: after a real push, hookrt posts the push's events to a real
//! HTTP receiver on loopback, from the background, signed, retried and
//! recorded in the audit log.

use std::time::Duration;

use crate::support::receiver::{Receiver, free_port, signature, wait_for};
use crate::support::{Server, repo_root};

const SECRET: &str = "s3cret-for-tests";
/// Generous: the deliverer is a separate process on a loaded CI machine.
const WAIT: Duration = Duration::from_secs(60);

fn webhook_config(url: &str, extra: &str) -> String {
    format!("[webhook.deploy]\nurl = \"{url}\"\nsecret_file = \"deploy.secret\"\n{extra}\n")
}

/// The audit records of webhook deliveries with `outcome`.
fn deliveries(server: &Server, outcome: &str) -> Vec<serde_json::Value> {
    server.audit_records().into_iter().filter(|r| r["webhook"].is_string() && r["outcome"] == outcome).collect()
}

fn wait_for_outcome(server: &Server, outcome: &str, count: usize) -> Vec<serde_json::Value> {
    wait_for(WAIT, &format!("{count} `{outcome}` audit record(s)"), || {
        let found = deliveries(server, outcome);
        (found.len() >= count).then_some(found)
    })
}

#[test]
fn the_push_event_reaches_the_receiver_signed_and_shaped_like_gitlabs() {
    let server = Server::new();
    let receiver = Receiver::start();
    std::fs::write(server.policy_dir().join("deploy.secret"), format!("{SECRET}\n")).expect("secret file");
    server.write_config(&webhook_config(&receiver.url(), ""));
    let before = server.server_ref("refs/heads/main").expect("main exists");
    server.write_file("a.txt", "a\n");
    server.write_file("b.txt", "b\n");
    let first = server.commit("Add a and b");
    server.write_file("a.txt", "a, changed\n");
    server.remove_file("b.txt");
    server.write_file("docs/c.txt", "c\n");
    let second = server.commit("Change a, drop b, add c\n\nWith a body.");
    let env = [("GL_USERNAME", "alice"), ("GL_ID", "user-42"), ("GL_PROJECT_PATH", "group/app")];
    server.push_with_env(&["origin", "main"], &env).assert_ok();

    let request = receiver.next(WAIT);
    assert_eq!(request.path, "/hooks/git");
    assert_eq!(request.header("Content-Type"), Some("application/json"));
    assert_eq!(request.header("X-Gitlab-Event"), Some("Push Hook"));
    assert_eq!(request.header("X-Hookrt-Event"), Some("push"));
    assert_eq!(request.header("X-Hookrt-Signature-256"), Some(signature(SECRET, &request.body).as_str()));
    let body = request.json();
    assert_eq!(body["object_kind"], "push");
    assert_eq!(body["ref"], "refs/heads/main");
    assert_eq!(body["before"], before.as_str());
    assert_eq!(body["after"], second.as_str());
    assert_eq!(body["checkout_sha"], second.as_str());
    assert_eq!(body["user_name"], "alice");
    assert_eq!(body["project"]["path_with_namespace"], "group/app");
    assert_eq!(body["project"]["name"], "app");
    assert_eq!(body["project"]["default_branch"], "main");
    assert_eq!(body["total_commits_count"], 2);
    let commits = body["commits"].as_array().expect("commits");
    // Oldest first, as GitLab lists them.
    assert_eq!(commits[0]["id"], first.as_str());
    assert_eq!(commits[0]["added"], serde_json::json!(["a.txt", "b.txt"]));
    let last = &commits[1];
    assert_eq!(last["id"], second.as_str());
    assert_eq!(last["message"], "Change a, drop b, add c\n\nWith a body.\n");
    assert_eq!(last["title"], "Change a, drop b, add c");
    assert_eq!(last["author"]["name"], "Test Pusher");
    assert_eq!(last["author"]["email"], "pusher@example.com");
    assert_eq!(last["added"], serde_json::json!(["docs/c.txt"]));
    assert_eq!(last["modified"], serde_json::json!(["a.txt"]));
    assert_eq!(last["removed"], serde_json::json!(["b.txt"]));
    let timestamp = last["timestamp"].as_str().expect("a timestamp");
    assert!(jiff::Timestamp::strptime("%Y-%m-%dT%H:%M:%S%:z", timestamp).is_ok(), "{timestamp}");

    let delivered = wait_for_outcome(&server, "delivered", 1);
    assert_eq!(delivered[0]["status"], 200);
    assert_eq!(delivered[0]["event"], "push");
    assert_eq!(delivered[0]["delivery"], request.header("X-Hookrt-Delivery").expect("a delivery id"));
    assert_eq!(deliveries(&server, "queued").len(), 1);
    assert!(receiver.all(Duration::from_millis(300)).is_empty(), "one event, sent once");
}

#[test]
fn a_receiver_that_is_down_gets_the_event_once_it_is_back() {
    let server = Server::new();
    let port = free_port();
    std::fs::write(server.policy_dir().join("deploy.secret"), SECRET).expect("secret file");
    let url = format!("http://127.0.0.1:{port}/hooks/git");
    server.write_config(&webhook_config(&url, "retries = 50\nbackoff_ms = 200\n"));
    let pushed = server.commit("Deploy me");
    let push = server.push(&["origin", "main"]).assert_ok();
    assert!(!push.stderr.contains("webhook"), "delivery happens after the push, silently:\n{}", push.stderr);

    let retrying = wait_for_outcome(&server, "retrying", 1);
    assert!(retrying[0]["error"].as_str().is_some_and(|e| !e.is_empty()), "{:?}", retrying[0]);
    assert!(retrying[0]["next_attempt_in_ms"].as_u64().is_some_and(|ms| ms >= 200));
    let receiver = Receiver::on(port);
    let request = receiver.next(WAIT);
    assert_eq!(request.json()["after"], pushed.as_str());
    let delivered = wait_for_outcome(&server, "delivered", 1);
    assert!(delivered[0]["attempt"].as_u64().is_some_and(|n| n >= 2), "{:?}", delivered[0]);
    assert!(server.outbox_files().is_empty(), "nothing left queued");
}

#[test]
fn a_full_queue_drops_the_oldest_event_loudly() {
    let server = Server::new();
    let url = format!("http://127.0.0.1:{}/", free_port());
    server.write_config(&format!(
        "[webhooks]\nqueue_max = 2\n\n[webhook.deploy]\nurl = \"{url}\"\nretries = 100\nbackoff_ms = 600000\n"
    ));
    for n in 1..=3 {
        server.commit(&format!("Change {n}"));
        let push = server.push(&["origin", "main"]).assert_ok();
        if n == 3 {
            push.assert_line(
                "hookrt: warning: the webhook queue is full (2 undelivered); the 1 oldest were dropped (see the audit log)",
            );
        }
    }
    let queued = deliveries(&server, "queued");
    assert_eq!(queued.len(), 3);
    let dropped = deliveries(&server, "dropped");
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0]["delivery"], queued[0]["delivery"], "the oldest goes");
    assert!(dropped[0]["error"].as_str().is_some_and(|e| e.contains("queue_max")));
    assert_eq!(server.outbox_files().len(), 2);
}

#[test]
fn hookrt_deliver_sends_what_a_crashed_deliverer_left_queued() {
    let server = Server::new();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    server
        .write_config(&webhook_config(&url, "backoff_ms = 600000\n").replace("secret_file = \"deploy.secret\"\n", ""));
    let pushed = server.commit("Survive a crash");
    server.push(&["origin", "main"]).assert_ok();
    wait_for_outcome(&server, "retrying", 1);
    // The deliverer waits ten minutes for its next attempt: kill it, as a
    // crash or a reboot would.
    kill_deliverers(&server);
    assert_eq!(server.outbox_files().len(), 1, "the event is still on disk");

    let receiver = Receiver::on(port);
    let bare = server.bare.display().to_string();
    let out = server.hookrt(&["deliver", "--now", "--git-dir", &bare]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1 delivered, 0 given up (see the audit log)");
    assert_eq!(receiver.next(WAIT).json()["after"], pushed.as_str());
    assert!(server.outbox_files().is_empty());
}

#[test]
fn a_bad_webhook_entry_is_named_by_hookrt_check() {
    let server = Server::new();
    server.write_config("[webhook.deploy]\nurl = \"ftp://example.com/\"\n");
    let bare = server.bare.display().to_string();
    let out = server.hookrt(&["check", &bare]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains(
            "hookrt.toml:1: webhook `deploy`: `url = \"ftp://example.com/\"` is not an http:// or https:// URL"
        ),
        "{stdout}"
    );

    server.write_config("[webhook.deploy]\nurl = \"http://127.0.0.1:9/\"\nsecret_file = \"missing.secret\"\n");
    let out = server.hookrt(&["check", &bare]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(stdout.contains("error  webhook deploy: cannot read the secret file"), "{stdout}");
}

/// The receiver docs/webhooks.md shows: seed 003's Flask deploy service,
/// which reads `ref` and updates a checkout to that branch, run for real
/// against what hookrt delivers.
#[test]
fn the_seed_003_receiver_deploys_the_pushed_branch() {
    let script = repo_root().join("docs").join("examples").join("deploy_receiver.py");
    let guide = std::fs::read_to_string(repo_root().join("docs").join("webhooks.md")).expect("docs/webhooks.md");
    let quoted = guide.split("```python\n").nth(1).and_then(|rest| rest.split("```").next()).expect("a python block");
    assert_eq!(quoted, std::fs::read_to_string(&script).expect("the receiver"), "the guide quotes the file as is");
    let python = repo_root().join(".venv").join("bin").join("python");
    assert!(python.is_file(), "{} is missing: run `just setup-receiver` (or `just test`)", python.display());

    let server = Server::new();
    let url = format!("file://{}", server.bare.display());
    let deploy = server.root().join("deploy");
    let cloned = server.command("git", server.root()).args(["clone", "--quiet", &url, "deploy"]).status();
    assert!(cloned.is_ok_and(|s| s.success()), "clone the deploy checkout");
    std::fs::write(server.policy_dir().join("deploy.secret"), format!("{SECRET}\n")).expect("secret file");
    let port = free_port();
    server.write_config(&webhook_config(&format!("http://127.0.0.1:{port}/"), ""));
    let log = std::fs::File::create(server.root().join("receiver.log")).expect("receiver log");
    let child = server
        .command(python.to_str().expect("utf-8 path"), server.root())
        .arg(&script)
        .env("WEBHOOK_SECRET", SECRET)
        .env("DEPLOY_PATH", &deploy)
        .env("PORT", port.to_string())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start the receiver");
    let _receiver = KillOnDrop(child);
    wait_for(WAIT, "the receiver to listen", || std::net::TcpStream::connect(("127.0.0.1", port)).ok());

    let pushed = server.commit("Deploy this");
    server.push(&["origin", "main"]).assert_ok();
    let head = || server.command("git", &deploy).args(["rev-parse", "HEAD"]).output().ok();
    wait_for(WAIT, "the checkout to be deployed", || {
        head().filter(|out| String::from_utf8_lossy(&out.stdout).trim() == pushed).map(drop)
    });
    assert_eq!(wait_for_outcome(&server, "delivered", 1)[0]["status"], 200);

    // What did not come from hookrt is refused.
    let forged = ureq::post(format!("http://127.0.0.1:{port}/"))
        .header("X-Hookrt-Signature-256", "sha256=00")
        .send(r#"{"ref":"refs/heads/main"}"#);
    assert!(matches!(forged, Err(ureq::Error::StatusCode(401))), "{forged:?}");
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Kills the `hookrt deliver` processes working on this server's repository.
fn kill_deliverers(server: &Server) {
    let needle = server.bare.display().to_string();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        if args.iter().any(|a| a == "deliver") && args.contains(&needle) {
            // SAFETY: a plain kill(2) of a process this test started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
    wait_for(WAIT, "the deliverer to die", || {
        let outbox = server.bare.join("hookrt").join("outbox").join(".deliverer");
        let file = std::fs::OpenOptions::new().write(true).open(outbox).ok()?;
        file.try_lock().is_ok().then_some(())
    });
}
