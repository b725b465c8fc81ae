//! Unusual but legal ref names, pushed for real: each lands, a veto names
//! it exactly, and no shell ever runs a piece of one.

use std::path::Path;

use super::update_refs;
use crate::support::Server;

/// Branch names git accepts (`git check-ref-format`) that a careless hook
/// would mangle: unicode, shell syntax (git forbids spaces, so `${IFS}`
/// stands in), a leading dash, `#`, `%`, braces, and a name of about 1000
/// bytes (in components under the 255 bytes a file name may have).
fn names() -> Vec<String> {
    let long = (0..10).map(|i| format!("{i:02}{}", "x".repeat(98))).collect::<Vec<_>>().join("/");
    let names = [
        "ünïcødé/日本",
        "$(touch${IFS}pwned)",
        "`touch${IFS}pwned`",
        "a;b|c&d",
        "'quote\"",
        "-rf",
        "a#b",
        "100%{x}",
        "%s%n%00",
        "}{",
        &long,
    ];
    names.iter().map(|n| format!("refs/heads/{n}")).collect()
}

/// One `<name>:<name>` refspec per name.
fn refspecs(names: &[String]) -> Vec<String> {
    names.iter().map(|n| format!("{n}:{n}")).collect()
}

fn push_names(server: &Server, names: &[String]) -> crate::support::Pushed {
    let specs = refspecs(names);
    let mut args = vec!["origin"];
    args.extend(specs.iter().map(String::as_str));
    server.push(&args)
}

/// Fails if a file named `pwned` exists anywhere under `dir`.
fn assert_no_pwned(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("list dir").flatten() {
        let path = entry.path();
        assert_ne!(path.file_name().and_then(|n| n.to_str()), Some("pwned"), "a shell ran part of a ref name");
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            assert_no_pwned(&path);
        }
    }
}

#[test]
fn unusual_ref_names_land() {
    let server = Server::with_example("no-wip");
    let tip = server.commit("feat: unusual names");
    let names = names();
    update_refs(&server, names.iter().map(|n| (n.as_str(), tip.as_str())));

    push_names(&server, &names).assert_ok();
    for name in &names {
        assert_eq!(server.server_ref(name).as_deref(), Some(tip.as_str()), "{name}");
    }
    // The decision log names every ref as git spelled it.
    let record = server.audit_records().into_iter().find(|r| r["hook"] == "pre-receive").expect("a pre-receive record");
    let logged: Vec<&str> =
        record["ref_updates"].as_array().expect("ref_updates").iter().filter_map(|u| u["ref"].as_str()).collect();
    for name in &names {
        assert!(logged.contains(&name.as_str()), "{name} not in {logged:?}");
    }
    assert_no_pwned(server.root());
    assert_no_pwned(&std::env::current_dir().expect("cwd"));
}

#[test]
fn vetoes_name_unusual_refs_exactly() {
    let server = Server::with_example("no-wip");
    let wip = server.commit("WIP: unusual names");
    let names = names();
    update_refs(&server, names.iter().map(|n| (n.as_str(), wip.as_str())));
    let before = server.server_refs();

    let pushed = push_names(&server, &names).assert_rejected();
    for name in &names {
        pushed.assert_line(&format!("hookrt: policy no-wip vetoed {name}"));
    }
    assert_eq!(server.server_refs(), before);
    assert_no_pwned(server.root());
}
