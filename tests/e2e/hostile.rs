//! The hostile-policy suite: policies that attack the sandbox, each pushed
//! for real beside `no-wip`. Each must be stopped with a typed cause that
//! the pusher sees and the audit log records, the push rejected with the
//! refs untouched, and `no-wip` still run and reported. Where an attack is
//! only an attempt (files, environment, clock, network), it must fail
//! inside the guest. docs/security.md has the table these tests prove.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::Path;

use serde_json::Value;

mod memory;
mod wat;

use crate::support::{Pushed, Server, documented, example_policy, guests};

/// The page whose table of attacks these tests prove, as they see them.
const TABLE: &str = "docs/security.md";

/// A server with the test guest `guest` (one of [`guests`]) installed as
/// `hostile` (with `config`, a hookrt.toml) beside `no-wip`, and a WIP
/// commit pushed to main. Checks what every attack must leave intact and
/// returns the push and the hostile policy's audit record.
fn attack(guest: &str, config: &str) -> (Pushed, Value) {
    let (pushed, record, _) = attack_module(Path::new(guest), config);
    (pushed, record)
}

/// Like [`attack`], with the component `wasm` (built here, see `wat`) as
/// `hostile`; also returns hookrt's peak RSS during the push, in KiB.
fn attack_with(name: &str, wasm: &[u8], config: &str) -> (Pushed, Value, u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(format!("{name}.wasm"));
    std::fs::write(&path, wasm).expect("write the component");
    attack_module(&path, config)
}

fn attack_module(module: &Path, config: &str) -> (Pushed, Value, u64) {
    let server = Server::new();
    server.add_policy("hostile", module);
    server.add_policy("no-wip", example_policy("no-wip"));
    server.write_config(config);
    let before = server.server_refs();
    server.commit("WIP: vetoed by no-wip whatever the hostile policy does");
    let peak = server.measure_pre_receive();
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert_eq!(server.server_refs(), before, "the refs moved");
    // The other policy of the same push still ran and reported.
    pushed.assert_line("hookrt: policy no-wip vetoed refs/heads/main");
    let records = server.audit_records();
    assert_eq!(records.len(), 1, "one record for the push: {records:?}");
    let record = &records[0];
    assert_eq!(record["decision"], "rejected");
    let policy = |name: &str| {
        let policies = record["policies"].as_array().expect("policies");
        policies.iter().find(|p| p["name"] == name).cloned().unwrap_or_else(|| panic!("no {name} in {record}"))
    };
    assert_eq!(policy("no-wip")["verdict"], "reject");
    (pushed, policy("hostile"), peak.kib())
}

/// An attack through the `hostile` guest's `attack` setting, with more
/// `[policy.hostile]` keys in `limits`.
fn hostile(name: &str, limits: &str) -> (Pushed, Value) {
    attack(guests::HOSTILE, &format!("[policy.hostile]\n{limits}\n[policy.hostile.settings]\nattack = \"{name}\"\n"))
}

/// Asserts that the hostile policy failed with `cause`, shown as `line`
/// (and so in the docs' table).
fn assert_failed(pushed: &Pushed, record: &Value, cause: &str, line: &str) {
    pushed.assert_line(line);
    documented(TABLE, &format!("`{}`", line.trim_start_matches("hookrt: policy hostile: ")));
    assert_eq!(record["verdict"], "failed", "{record}");
    assert_eq!(record["cause"], cause, "{record}");
    assert_eq!(record["blocking"], true, "{record}");
}

#[test]
fn endless_loop_runs_out_of_fuel() {
    let (pushed, record) = attack(guests::SPIN, "[policy.hostile]\nfuel = 50_000_000\n");
    assert_failed(&pushed, &record, "fuel", "hookrt: policy hostile: ran out of fuel (limit 50000000)");
}

#[test]
fn walking_a_huge_history_forever_meets_the_deadline() {
    let server = Server::new();
    server.add_policy("hostile", guests::HOSTILE);
    server.add_policy("no-wip", example_policy("no-wip"));
    server.write_config(
        "[policy.hostile]\nfuel = 1_000_000_000_000\ntimeout_ms = 500\n[policy.hostile.settings]\nattack = \"walk-forever\"\n",
    );
    let before = server.server_refs();
    server.fixture("many-commits.sh", &["10000", "WIP: the tip"]);
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert_eq!(server.server_refs(), before);
    pushed.assert_line("hookrt: policy hostile: ran past its deadline (500 ms)");
    pushed.assert_line("hookrt: policy no-wip vetoed refs/heads/main");
    let record = &server.audit_records()[0];
    assert_eq!(record["policies"][0]["cause"], "deadline", "{record}");
}

#[test]
fn memory_bomb_hits_the_memory_cap() {
    let (pushed, record, peak) = attack_module(Path::new(guests::MEMORY_HOG), "[policy.hostile]\nmemory_mib = 32\n");
    assert_peak_under(peak, 32);
    // How far the last grow reached depends on the guest's allocator.
    let prefix = "hookrt: policy hostile: exceeded its memory limit (32 MiB): a linear memory grew to ";
    let line = pushed.remote_lines().into_iter().find(|l| l.starts_with(prefix));
    let line = line.unwrap_or_else(|| panic!("no {prefix:?} in:\n{}", pushed.stderr));
    let total = line.split("would take ").nth(1).and_then(|t| t.strip_suffix(" MiB")).and_then(|t| t.parse().ok());
    assert!(total.is_some_and(|mib: f64| mib > 32.0), "{line}");
    documented(TABLE, "`exceeded its memory limit (32 MiB): a linear memory grew to ");
    assert_eq!((record["verdict"].as_str(), record["cause"].as_str()), (Some("failed"), Some("memory")), "{record}");
}

#[test]
fn deep_recursion_overflows_the_stack() {
    let (pushed, record) = hostile("recurse", "");
    assert_failed(&pushed, &record, "stack", "hookrt: policy hostile: overflowed its call stack");
}

#[test]
fn panic_traps_with_the_guests_message() {
    let (pushed, record) = attack(guests::PANICKER, "");
    assert_failed(&pushed, &record, "trap", "hookrt: policy hostile: trapped: wasm `unreachable` instruction executed");
    pushed.assert_line("  | policy bug: cannot handle 1 ref updates");
    assert!(!pushed.stderr.contains("wasm backtrace"), "{}", pushed.stderr);
    assert!(!pushed.stderr.contains("RUST_BACKTRACE"), "{}", pushed.stderr);
}

#[test]
fn flood_of_host_calls_is_ended_by_the_deadline() {
    let (pushed, record) = hostile("call-flood", "timeout_ms = 300");
    assert_failed(&pushed, &record, "deadline", "hookrt: policy hostile: ran past its deadline (300 ms)");
}

#[test]
fn walks_opened_and_never_closed_stop_at_the_resource_cap() {
    // Opening a walk takes a moment; give the policy the time to reach the
    // cap rather than the deadline.
    let (pushed, record) = hostile("walk-flood", "timeout_ms = 60_000");
    assert_failed(
        &pushed,
        &record,
        "trap",
        "hookrt: policy hostile: trapped: the policy holds 4096 host resources (open walks) at once, the most \
         hookrt allows; a walk must be dropped when done",
    );
}

/// The `huge-*` attack `attack`, with a text of `mib` MiB.
fn huge(attack: &str, mib: u32) -> (Pushed, Value, u64) {
    let config = format!("[policy.hostile.settings]\nattack = \"{attack}\"\nmib = {mib}\n");
    attack_module(Path::new(guests::HOSTILE), &config)
}

/// Asserts that hookrt's peak RSS, `peak_kib`, stayed under the policy's
/// cap of `cap_mib` plus the overhead docs/security.md states.
fn assert_peak_under(peak_kib: u64, cap_mib: u64) {
    let bound = cap_mib + memory::OVERHEAD_MIB;
    assert!(peak_kib >> 10 < bound, "hookrt's peak RSS was {} MiB, past {bound} MiB", peak_kib >> 10);
}

#[test]
fn an_8_mib_veto_is_cut_with_a_note() {
    let (pushed, record, _) = huge("huge-veto", 8);
    pushed.assert_line("hookrt: policy hostile vetoed refs/heads/main");
    let summary = pushed.remote_lines().into_iter().find(|l| l.starts_with("  xxx")).expect("the summary line");
    assert!(summary.ends_with("x … [cut by hookrt: 8388608 bytes in all]"), "{}", &summary[summary.len() - 80..]);
    assert!(summary.len() < 2 << 10, "{} bytes shown", summary.len());
    documented(TABLE, "… [cut by hookrt: 8388608 bytes in all]");
    let detail = pushed.remote_lines().into_iter().find(|l| l.starts_with("  yyy")).expect("the detail line");
    assert!(detail.ends_with("y … [cut by hookrt: 1048576 bytes in all]"), "{}", &detail[detail.len() - 80..]);
    assert!(pushed.stderr.len() < 64 << 10, "the pusher got {} bytes", pushed.stderr.len());
    assert_eq!(record["verdict"], "reject");
    let logged = record["vetoes"][0]["summary"].as_str().expect("summary");
    assert!(logged.len() < 2 << 10 && logged.ends_with("[cut by hookrt: 8388608 bytes in all]"));
}

#[test]
fn an_8_mib_line_is_cut_with_a_note() {
    let (pushed, record, _) = huge("huge-line", 8);
    let line = pushed.remote_lines().into_iter().find(|l| l.starts_with("[hostile] zzz")).expect("the line");
    assert!(line.ends_with("z … [cut by hookrt: 8388608 bytes in all]"), "{}", &line[line.len() - 80..]);
    assert!(pushed.stderr.len() < 64 << 10, "the pusher got {} bytes", pushed.stderr.len());
    assert_eq!(record["verdict"], "accept");
}

#[test]
fn a_100_mib_veto_or_line_is_refused_before_hookrt_copies_it() {
    for attack in ["huge-veto", "huge-line"] {
        let (pushed, record, peak) = huge(attack, 100);
        let line = "hookrt: policy hostile: exceeded its memory limit (256 MiB): it handed hookrt more than 16 MiB at \
                    once (its verdict, or what it passed to one host call)";
        assert_failed(&pushed, &record, "memory", line);
        assert!(pushed.stderr.len() < 64 << 10, "the pusher got {} bytes", pushed.stderr.len());
        assert_peak_under(peak, 256);
    }
}

#[test]
fn ten_thousand_vetoes_are_capped_and_counted() {
    let (pushed, record) = hostile("many-vetoes", "");
    pushed.assert_line("  veto number 99");
    assert!(!pushed.stderr.contains("veto number 100\n"), "only the first 100 are shown");
    pushed.assert_line("hookrt: policy hostile: 9900 more vetoes not shown (hookrt shows the first 100)");
    pushed.assert_line("hookrt: push rejected: 10001 vetoes");
    documented(TABLE, "`hookrt: policy hostile: 9900 more vetoes not shown (hookrt shows the first 100)`");
    documented(TABLE, "`hookrt: push rejected: 10001 vetoes`");
    assert_eq!(record["vetoes"].as_array().map(Vec::len), Some(100));
    assert_eq!(record["vetoes_not_shown"], 9900);
}

#[test]
fn a_string_that_is_not_utf8_is_refused_by_the_component_model() {
    let (pushed, record) = hostile("invalid-utf8", "");
    let line = "hookrt: policy hostile: trapped: invalid utf-8 sequence of 1 bytes from index 3";
    assert_failed(&pushed, &record, "trap", line);
}

#[test]
fn a_forged_resource_handle_is_refused() {
    let (pushed, record) = hostile("forged-handle", "");
    // 12648430 is the handle the guest made up (0xc0ffee).
    assert_failed(&pushed, &record, "trap", "hookrt: policy hostile: trapped: unknown handle index 12648430");
}

#[test]
fn a_file_that_is_not_wasm_fails_to_load() {
    let (pushed, record, _) = attack_with("hostile", b"MZ\x90\x00 not a policy", "");
    let line = "hookrt: policy hostile: could not be loaded: it is not a WebAssembly file";
    assert!(pushed.stderr.contains(line), "{}", pushed.stderr);
    assert_eq!((record["verdict"].as_str(), record["cause"].as_str()), (Some("failed"), Some("load")), "{record}");
}

#[test]
fn nothing_outside_the_sandbox_is_granted() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("address").port();
    let marker = std::path::Path::new("/tmp/hookrt-escape");
    let _ = std::fs::remove_file(marker);
    let (pushed, record) = attack(
        guests::HOSTILE,
        &format!(
            "[policy.hostile]\ntimeout_ms = 2000\n[policy.hostile.settings]\nattack = \"escape\"\nport = {port}\n"
        ),
    );
    let said = |what: &str| {
        let prefix = format!("[hostile] escape: {what}: ");
        let lines = pushed.remote_lines();
        let line = lines.iter().find_map(|l| l.strip_prefix(prefix.as_str()));
        line.unwrap_or_else(|| panic!("no {prefix:?} in:\n{}", pushed.stderr)).to_owned()
    };
    for attempt in ["read /etc/passwd", "list /", "write /tmp/hookrt-escape", "connect", "resolve"] {
        assert!(said(attempt).starts_with("denied ("), "{attempt}: {}", said(attempt));
    }
    assert_eq!(said("environment"), "empty");
    assert_eq!(said("arguments"), "0");
    assert_eq!(said("wall clock"), "0 s since 1970");
    // An hour's sleep returned before the 2 s deadline, and no time passed.
    assert_eq!(said("sleep an hour"), "returned, monotonic clock moved 0 ns");
    assert_eq!(record["verdict"], "accept");
    assert!(!marker.exists(), "the policy wrote a file on the host");
    assert!(matches!(listener.accept(), Err(e) if e.kind() == ErrorKind::WouldBlock), "the policy connected");
}
