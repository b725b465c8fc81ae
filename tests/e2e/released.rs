//! The released contract: its files never change (wit/CHANGELOG.md), and a
//! component built against them, without the SDK, keeps loading and
//! behaving the same.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::support::{Server, guests, repo_root, short};

/// What the test says when a released file changed.
const FROZEN: &str = "hookrt:policy@0.1.0 is released (wit/CHANGELOG.md): put the change in a new version beside it, e.g. wit/policy@0.2.0/";

/// The sha256 of every file under `dir`, by its path from `base`.
fn checksums(base: &Path, dir: &Path, sums: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).expect("read the version's directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            checksums(base, &path, sums);
            continue;
        }
        let name = path.strip_prefix(base).expect("under base").to_str().expect("a UTF-8 name").to_owned();
        let bytes = std::fs::read(&path).expect("read a WIT file");
        sums.insert(name, format!("{:x}", Sha256::digest(&bytes)));
    }
}

#[test]
fn the_released_contract_0_1_0_never_changes() {
    let wit = repo_root().join("wit");
    let record = std::fs::read_to_string(wit.join("policy@0.1.0.sha256")).expect("read wit/policy@0.1.0.sha256");
    // `sha256sum` writes `<hex>  <path>`, the path from wit/.
    let recorded: BTreeMap<String, String> = record
        .lines()
        .map(|line| {
            let (sum, name) = line.split_once("  ").expect("a `sha256sum` line");
            (name.to_owned(), sum.to_owned())
        })
        .collect();
    let mut actual = BTreeMap::new();
    checksums(&wit, &wit.join("policy@0.1.0"), &mut actual);

    let mut problems = Vec::new();
    for (name, sum) in &recorded {
        match actual.get(name) {
            None => problems.push(format!("wit/{name} was removed")),
            Some(now) if now != sum => problems.push(format!("wit/{name} changed")),
            Some(_) => {}
        }
    }
    problems
        .extend(actual.keys().filter(|name| !recorded.contains_key(*name)).map(|name| format!("wit/{name} was added")));
    assert!(problems.is_empty(), "{}: {FROZEN}", problems.join(", "));
}

/// A server with the `contract-0-1-0` guest installed as `contract`.
fn contract_server() -> Server {
    let server = Server::new();
    server.add_policy("contract", guests::CONTRACT_0_1_0);
    server
}

#[test]
fn a_guest_built_against_0_1_0_without_the_sdk_accepts_and_vetoes() {
    let server = contract_server();
    let id = server.commit("add the parser");
    server.push(&["origin", "main"]).assert_ok();
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(id.as_str()));

    // The walk goes through the host's iterator: the marked commit is the
    // older of the two, so the policy reads past the newest to find it.
    server.write_config("[policy.contract.settings]\nword = \"DRAFT\"\n");
    let draft = server.commit("DRAFT: half a lexer");
    server.commit("more lexer");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    pushed.assert_line("hookrt: policy contract vetoed refs/heads/main");
    pushed.assert_line(&format!("  commit {}  DRAFT: half a lexer", short(&draft)));
    pushed.assert_line(&format!("  commit {} has \"DRAFT\" in its subject", &draft[..12]));
    assert_eq!(server.server_ref("refs/heads/main").as_deref(), Some(id.as_str()));
}

#[test]
fn hookrt_check_loads_a_guest_built_against_0_1_0_and_runs_its_validator() {
    let server = contract_server();
    let bare = server.bare.to_str().expect("utf-8").to_owned();
    let out = server.hookrt(&["check", &bare]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("ok     contract (repository, pre-receive, enforce"), "{stdout}");
    assert!(stdout.contains("settings valid"), "{stdout}");

    server.write_config("[policy.contract.settings]\nword = \"\"\n");
    let out = server.hookrt(&["check", &bare]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("hookrt.toml:2: setting `word`: an empty word is in every subject"), "{stdout}");
}
