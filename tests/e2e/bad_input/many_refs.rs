//! 10,000 refs in one real push: pre-receive reads them all and decides for
//! all of them at once.

use std::collections::BTreeMap;

use crate::support::{Server, heavy};

const REFS: usize = 10_000;

/// A server with no-wip, minus the update hook script.
///
/// Git runs the update hook once per ref: 10,000 process starts, which take
/// over a minute on a small CI machine whatever the hook does (a script that
/// only exits costs the same). What is tested here is pre-receive, which
/// sees the whole push; the update hook's handling of a ref is tested
/// elsewhere.
///
/// No-wip walks each of the 10,000 refs: about 3 s in a debug build on an
/// idle machine, more on a busy one, so it gets the whole push budget
/// rather than the default 5 s.
fn server() -> Server {
    let server = Server::with_example("no-wip");
    server.write_config("[policy.no-wip]\ntimeout_ms = 30000\n");
    std::fs::remove_file(server.bare.join("hookrt").join("hooks").join("update")).expect("remove the update hook");
    server
}

fn name(i: usize) -> String {
    format!("refs/heads/many/{i:05}")
}

/// Gives the clone `refs` (name → id) in one write of its `packed-refs`,
/// the file git itself packs refs into: creating 10,000 loose refs costs
/// 20,000 file creations (ref and reflog), seconds on a slow disk.
fn pack_refs(server: &Server, refs: &BTreeMap<String, String>) {
    let mut text = String::from("# pack-refs with: peeled fully-peeled sorted \n");
    for (name, id) in refs {
        text.push_str(&format!("{id} {name}\n"));
    }
    std::fs::write(server.work.join(".git").join("packed-refs"), text).expect("write packed-refs");
}

/// The refs on the server under refs/heads/many/, with their ids.
fn many_on_server(server: &Server) -> BTreeMap<String, String> {
    let listed = server.server_git(&["for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/many/"]);
    listed.lines().filter_map(|l| l.split_once(' ')).map(|(n, id)| (n.to_owned(), id.to_owned())).collect()
}

#[test]
fn ten_thousand_refs_land_together_or_not_at_all() {
    let _heavy = heavy();
    let server = server();
    // Every ref shares one commit but one: the push is about refs, not
    // history.
    let tip = server.commit("feat: one commit for every ref");
    let wip = server.commit("WIP: only on one ref");
    server.git(&["reset", "--quiet", "--hard", &tip]);
    let bad = name(7_777);
    let mut refs: BTreeMap<String, String> = (0..REFS).map(|i| (name(i), tip.clone())).collect();
    refs.insert(bad.clone(), wip);
    pack_refs(&server, &refs);
    let before = server.server_refs();

    let pushed = server.push(&["origin", "refs/heads/*:refs/heads/*"]).assert_rejected();
    pushed.assert_line(&format!("hookrt: policy no-wip vetoed {bad}"));
    pushed.assert_line("hookrt: push rejected: 1 veto");
    // Pre-receive is atomic: not one of the 10,000 landed.
    assert_eq!(server.server_refs(), before);
    assert!(many_on_server(&server).is_empty());

    server.git(&["update-ref", &bad, &tip]);
    refs.insert(bad, tip.clone());
    server.push(&["origin", "refs/heads/*:refs/heads/*"]).assert_ok();
    assert_eq!(many_on_server(&server), refs);
    let record =
        server.audit_records().into_iter().rfind(|r| r["hook"] == "pre-receive").expect("a pre-receive record");
    assert_eq!(record["decision"], "accepted");
    assert_eq!(record["ref_updates"].as_array().map(Vec::len), Some(REFS + 1), "the refs and main");
}
