//! Policies that cannot finish are stopped, named with a typed cause, and
//! reject the push (fail closed); the other policies still report.

use crate::support::{Server, example_policy, test_guest};

#[test]
fn endless_loop_is_stopped_by_fuel() {
    let server = Server::new();
    server.add_policy("spin", &test_guest("spin"));
    server.write_config("[policy.spin]\nfuel = 50_000_000\n");
    let before = server.server_refs();
    server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    pushed.assert_line("hookrt: policy spin: ran out of fuel (limit 50000000)");
    // As docs/admin.md shows it.
    pushed.assert_line(
        "hookrt: push rejected: 1 failed policy (a policy that cannot finish rejects: hookrt fails closed)",
    );
    assert_eq!(server.server_refs(), before);
}

#[test]
fn endless_loop_with_ample_fuel_is_stopped_by_the_deadline() {
    let server = Server::new();
    server.add_policy("spin", &test_guest("spin"));
    server.write_config("[policy.spin]\nfuel = 1_000_000_000_000\ntimeout_ms = 300\n");
    server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    pushed.assert_line("hookrt: policy spin: ran past its deadline (300 ms)");
}

#[test]
fn allocation_past_the_cap_is_reported_as_memory() {
    let server = Server::new();
    server.add_policy("memory-hog", &test_guest("memory-hog"));
    server.add_policy("no-wip", &example_policy("no-wip"));
    server.write_config("[policy.memory-hog]\nmemory_mib = 32\n");
    let before = server.server_refs();
    server.commit("WIP: also vetoed");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    pushed.assert_line("hookrt: policy memory-hog: exceeded its memory limit (32 MiB)");
    // The other policy of the same push still ran and reported.
    pushed.assert_line("hookrt: policy no-wip vetoed refs/heads/main");
    pushed.assert_line(
        "hookrt: push rejected: 1 veto, 1 failed policy (a policy that cannot finish rejects: hookrt fails closed)",
    );
    assert_eq!(server.server_refs(), before);
}

#[test]
fn panic_message_reaches_the_pusher_without_a_backtrace() {
    let server = Server::new();
    server.add_policy("panicker", &test_guest("panicker"));
    server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert!(pushed.stderr.contains("hookrt: policy panicker: trapped:"), "{}", pushed.stderr);
    assert!(pushed.stderr.contains("policy bug: cannot handle 1 ref updates"), "{}", pushed.stderr);
    assert!(!pushed.stderr.contains("wasm backtrace"), "{}", pushed.stderr);
}

#[test]
fn unreadable_module_rejects_with_a_load_error() {
    let server = Server::new();
    std::fs::write(server.policy_dir().join("broken.wasm"), b"#!/bin/sh\necho not wasm\n").expect("write");
    let before = server.server_refs();
    server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert!(
        pushed.stderr.contains("hookrt: policy broken: could not be loaded: it is not a WebAssembly file"),
        "{}",
        pushed.stderr
    );
    assert_eq!(server.server_refs(), before);
}

#[test]
fn malformed_config_rejects_naming_the_file_and_key() {
    let server = Server::new();
    server.add_policy("no-wip", &example_policy("no-wip"));
    server.write_config("[policy.no-wip]\nfule = 5\n");
    server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert!(pushed.stderr.contains("hookrt.toml is not a valid hookrt configuration"), "{}", pushed.stderr);
    assert!(pushed.stderr.contains("fule"), "{}", pushed.stderr);
}
