//! Policies as OCI artifacts (docs/distribution.md), against a real
//! registry: Debian's `docker-registry` on loopback. Published once, pulled
//! by digest on other "nodes" (servers with their own server-wide
//! directory), run in real pushes there; what is unsigned, signed by
//! someone else, changed in the registry or not pulled is refused.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::support::servers::Registry;
use crate::support::{self, Server, example_policy, stdout};

/// docs/distribution.md shows `text`.
fn documented(text: &str) {
    support::documented("docs/distribution.md", text);
}

/// A signing key pair made as docs/distribution.md makes it: `dir/NAME.key`
/// and `dir/NAME.pub`.
fn keypair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    documented("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out release.key");
    documented("openssl pkey -in release.key -pubout -out release.pub");
    let (key, public) = (dir.join(format!("{name}.key")), dir.join(format!("{name}.pub")));
    for args in [
        vec![
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            key.to_str().expect("utf-8"),
        ],
        vec!["pkey", "-in", key.to_str().expect("utf-8"), "-pubout", "-out", public.to_str().expect("utf-8")],
    ] {
        let out = Command::new("openssl").args(&args).output().expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    (key, public)
}

/// `hookrt push MODULE REFERENCE [--sign KEY]` from `server`'s account;
/// the pinned reference it prints.
fn publish(server: &Server, module: &Path, reference: &str, key: Option<&Path>) -> String {
    let mut args = vec!["push", module.to_str().expect("utf-8"), reference];
    if let Some(key) = key {
        args.extend(["--sign", key.to_str().expect("utf-8")]);
    }
    let out = server.hookrt(&args);
    let text = stdout(&out);
    assert!(out.status.success(), "hookrt push failed:\n{text}{}", String::from_utf8_lossy(&out.stderr));
    let pinned = text.lines().find_map(|l| l.strip_prefix("pushed ")).expect("hookrt push prints the pinned reference");
    assert!(pinned.starts_with(&format!("{reference}@sha256:")), "{pinned}");
    assert!(text.contains(&format!("module = \"{pinned}\"")), "{text}");
    pinned.to_owned()
}

/// A node whose server-wide hookrt.toml pins `pinned` as no-wip, trusting
/// `keys`.
fn node(pinned: &str, keys: &[&Path]) -> Server {
    let server = Server::new();
    let keys: Vec<String> = keys.iter().map(|k| format!("{:?}", k.display().to_string())).collect();
    let trust = if keys.is_empty() { String::new() } else { format!("[trust]\nkeys = [{}]\n\n", keys.join(", ")) };
    server.write_global_config(&format!("{trust}[policy.no-wip]\nmodule = \"{pinned}\"\n"));
    server
}

fn pull(server: &Server, args: &[&str]) -> (bool, String) {
    let out = server.hookrt(&[&["pull"], args].concat());
    (out.status.success(), format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr)))
}

/// A WIP commit is refused and a plain one accepted: no-wip runs.
fn assert_no_wip_runs(server: &Server) {
    server.commit("WIP: half done");
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert!(pushed.stderr.contains("no-wip"), "{}", pushed.stderr);
    server.git(&["commit", "--quiet", "--amend", "--allow-empty", "-m", "done"]);
    server.push(&["origin", "main"]).assert_ok();
}

fn store_is_empty(server: &Server) -> bool {
    std::fs::read_dir(server.global_dir().join(".store/sha256")).map_or(true, |mut d| d.next().is_none())
}

#[test]
fn a_signed_policy_pulled_by_digest_runs_in_pushes_on_two_other_nodes() {
    let publisher = Server::new();
    let registry = Registry::start(&publisher.root().join("registry"));
    let (key, public) = keypair(publisher.root(), "release");
    documented(
        "hookrt push target/policies/no-wip.wasm oci://registry.example.com/hookrt/no-wip:1.0 --sign release.key",
    );
    let pinned = publish(&publisher, &example_policy("no-wip"), &registry.reference("hookrt/no-wip:1.0"), Some(&key));

    documented("keys = [\"release.pub\"]");
    for node in [node(&pinned, &[&public]), node(&pinned, &[&public])] {
        // Not pulled yet: the push fails closed and says what to run.
        node.commit("fine");
        let pushed = node.push(&["origin", "main"]).assert_rejected();
        assert!(pushed.stderr.contains("is not pulled") && pushed.stderr.contains("hookrt pull"), "{}", pushed.stderr);
        node.git(&["reset", "--quiet", "--hard", "HEAD~1"]);

        documented("hookrt pull --global-dir /etc/hookrt");
        let global = node.global_dir();
        let (ok, text) = pull(&node, &["--global-dir", global.to_str().expect("utf-8")]);
        assert!(ok, "{text}");
        assert!(text.contains(&format!("pulled no-wip: {pinned}, signed by {}", public.display())), "{text}");
        assert_no_wip_runs(&node);

        // `hookrt check` names the artifact and its signer.
        let out = node.hookrt(&["check", node.bare.to_str().expect("utf-8")]);
        let text = stdout(&out);
        assert!(out.status.success(), "{text}");
        assert!(text.contains(&format!("{pinned}, signed by {}", public.display())), "{text}");
        // A second pull has nothing to do.
        let (ok, text) = pull(&node, &[]);
        assert!(ok && text.contains("(pulled already)"), "{text}");
    }

    documented("hookrt verify oci://registry.example.com/hookrt/no-wip:1.0 --key release.pub");
    let out = publisher.hookrt(&[
        "verify",
        &registry.reference("hookrt/no-wip:1.0"),
        "--key",
        public.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success() && stdout(&out).contains(&format!("verified {pinned}, signed by")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_pinned_digest_wins_over_a_moved_tag() {
    let publisher = Server::new();
    let registry = Registry::start(&publisher.root().join("registry"));
    let tag = registry.reference("hookrt/no-wip:1.0");
    let first = publish(&publisher, &example_policy("no-wip"), &tag, None);
    // Someone moves the tag to another policy.
    let moved = publish(&publisher, &example_policy("jira-keys"), &tag, None);
    assert_ne!(first, moved);

    let node = node(&first, &[]);
    let (ok, text) = pull(&node, &[]);
    assert!(ok && text.contains(&format!("pulled no-wip: {first}, no signature asked for")), "{text}");
    assert_no_wip_runs(&node);
    // Pulled by its tag, the artifact is the one the tag names now.
    documented("hookrt pull oci://registry.example.com/hookrt/no-wip:1.0");
    let (ok, text) = pull(&node, &[&tag]);
    assert!(ok && text.contains(&format!("module = \"{moved}\"")), "{text}");
}

#[test]
fn with_the_registry_down_pulls_fail_and_pushes_run_what_was_pulled() {
    let publisher = Server::new();
    let mut registry = Registry::start(&publisher.root().join("registry"));
    let pinned = publish(&publisher, &example_policy("no-wip"), &registry.reference("hookrt/no-wip:1.0"), None);
    let pulled = node(&pinned, &[]);
    assert!(pull(&pulled, &[]).0);
    let fresh = node(&pinned, &[]);
    registry.stop();

    let (ok, text) = pull(&fresh, &[]);
    assert!(!ok && text.contains("cannot be reached"), "{text}");
    assert!(store_is_empty(&fresh));
    fresh.commit("fine");
    let pushed = fresh.push(&["origin", "main"]).assert_rejected();
    assert!(pushed.stderr.contains("hookrt pull"), "{}", pushed.stderr);
    // The node that pulled before goes on as if nothing happened.
    assert_no_wip_runs(&pulled);
}

/// `node`'s stored copy of `pinned`, changed on disk.
fn damage_stored(node: &Server, pinned: &str) {
    let digest = pinned.rsplit_once("@sha256:").expect("pinned").1;
    let module = node.global_dir().join(format!(".store/sha256/{digest}.wasm"));
    let mut bytes = std::fs::read(&module).expect("read the stored component");
    bytes.push(0);
    std::fs::write(&module, bytes).expect("change the stored component");
}

#[test]
fn a_stored_component_changed_on_disk_is_named_and_pulled_again() {
    let publisher = Server::new();
    let mut registry = Registry::start(&publisher.root().join("registry"));
    let pinned = publish(&publisher, &example_policy("no-wip"), &registry.reference("hookrt/no-wip:1.0"), None);
    let node = node(&pinned, &[]);
    assert!(pull(&node, &[]).0);

    damage_stored(&node, &pinned);
    let (ok, text) = pull(&node, &[]);
    assert!(ok && text.contains("is damaged") && text.contains("pulling it again"), "{text}");
    assert!(text.contains(&format!("pulled no-wip: {pinned}")), "{text}");
    assert_no_wip_runs(&node);

    // With the registry down, `hookrt check` names the damage and fails,
    // and the push fails closed rather than run what was changed.
    damage_stored(&node, &pinned);
    registry.stop();
    let out = node.hookrt(&["check", node.bare.to_str().expect("utf-8")]);
    let text = stdout(&out);
    assert!(!out.status.success() && text.contains("was pulled") && text.contains("cannot be reached"), "{text}");
    node.commit("fine");
    node.push(&["origin", "main"]).assert_rejected();
}

#[test]
fn unsigned_wrongly_signed_and_tampered_artifacts_are_refused_at_pull() {
    let publisher = Server::new();
    let registry = Registry::start(&publisher.root().join("registry"));
    let (_, trusted) = keypair(publisher.root(), "release");
    let (other_key, _) = keypair(publisher.root(), "other");
    let unsigned = publish(&publisher, &example_policy("no-wip"), &registry.reference("hookrt/unsigned:1"), None);
    let by_other =
        publish(&publisher, &example_policy("no-wip"), &registry.reference("hookrt/other:1"), Some(&other_key));
    for (pinned, says) in [(unsigned, "it is not signed"), (by_other, "but by none of the keys [trust] names")] {
        let node = node(&pinned, &[&trusted]);
        let (ok, text) = pull(&node, &[]);
        assert!(!ok && text.contains("refused") && text.contains(says), "{text}");
        assert!(store_is_empty(&node), "nothing refused is stored");
    }

    // The component changed in the registry's storage after it was pushed.
    let module = example_policy("no-wip");
    let pinned = publish(&publisher, &module, &registry.reference("hookrt/tampered:1"), None);
    let layer = format!("sha256:{:x}", Sha256::digest(std::fs::read(&module).expect("read the module")));
    let blob = registry.blob(&layer);
    let mut bytes = std::fs::read(&blob).expect("read the blob");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, bytes).expect("tamper with the blob");
    let node = node(&pinned, &[]);
    let (ok, text) = pull(&node, &[]);
    assert!(!ok && text.contains("does not match its digest"), "{text}");
    assert!(store_is_empty(&node));
}
