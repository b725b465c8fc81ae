//! Policies that cannot finish are stopped, named with a typed cause, and
//! reject the push (fail closed); the other policies still report.

use crate::support::{Server, example_policy, guests};

// Fuel, the memory cap, traps and files that are not WebAssembly are in
// hostile.rs, beside the other attacks.

#[test]
fn endless_loop_with_ample_fuel_is_stopped_by_the_deadline() {
    let server = Server::new();
    server.add_policy("spin", guests::SPIN);
    server.write_config("[policy.spin]\nfuel = 1_000_000_000_000\ntimeout_ms = 300\n");
    let before = server.server_refs();
    server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    pushed.assert_line("hookrt: policy spin: ran past its deadline (300 ms)");
    // As docs/admin.md shows it.
    pushed.assert_line(
        "hookrt: push rejected: 1 failed policy (a policy that cannot finish rejects: hookrt fails closed)",
    );
    assert_eq!(server.server_refs(), before);
}

#[test]
fn malformed_config_rejects_naming_the_file_and_key() {
    let server = Server::new();
    server.add_policy("no-wip", example_policy("no-wip"));
    server.write_config("[policy.no-wip]\nfule = 5\n");
    server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    // The file, the line and column, the key, and what may be written.
    assert!(
        pushed.stderr.contains("hookrt/policies/hookrt.toml:2:1: unknown field `fule`, expected one of"),
        "{}",
        pushed.stderr
    );
    assert!(pushed.stderr.contains("`fuel`"), "{}", pushed.stderr);
}

/// Pushes with the module `wasm` as the only policy and returns the line
/// that names its load failure.
fn load_failure(wasm: &[u8]) -> String {
    let server = Server::new();
    std::fs::write(server.policy_dir().join("odd.wasm"), wasm).expect("write module");
    let before = server.server_refs();
    server.commit("anything");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert_eq!(server.server_refs(), before);
    let line = pushed.remote_lines().into_iter().find(|l| l.starts_with("hookrt: policy odd: could not be loaded: "));
    line.unwrap_or_else(|| panic!("no load failure in:\n{}", pushed.stderr)).to_owned()
}

#[test]
fn core_module_is_told_to_become_a_component() {
    let line = load_failure(&wat::parse_str("(module)").expect("valid wat"));
    assert!(line.contains("it is a core WebAssembly module, not a component"), "{line}");
}

#[test]
fn component_of_another_world_names_the_contract() {
    let line = load_failure(&wat::parse_str("(component)").expect("valid wat"));
    assert!(
        line.contains("it does not fit the `policy` world of hookrt:policy@0.1.0 (nor the `observer` world)"),
        "{line}"
    );
}

#[test]
fn component_for_a_future_major_version_names_both_versions() {
    let wasm = wat::parse_str(
        r#"(component
             (import "hookrt:policy/output@1.0.0" (instance
               (export "write-line" (func (param "line" string))))))"#,
    )
    .expect("valid wat");
    let line = load_failure(&wasm);
    assert!(
        line.contains("it was built for hookrt:policy@1.0.0, but this hookrt implements hookrt:policy@0.1.0"),
        "{line}"
    );
}

#[test]
fn truncated_component_is_invalid() {
    let wasm = std::fs::read(example_policy("no-wip")).expect("read");
    let line = load_failure(&wasm[..wasm.len() / 2]);
    assert!(line.contains("it is not a valid component"), "{line}");
}
