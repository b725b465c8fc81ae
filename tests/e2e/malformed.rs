//! Commits git accepts but would never write, pushed for real (receive-pack
//! does not fsck by default, and imported histories carry them), reach the
//! example policies: each gets a verdict, none traps, and a veto about a
//! damaged commit names the damage.

use serde_json::Value;

use crate::support::{Server, assert_no_panic, example_policy, guests, in_repo, short};

const AUTHOR: &str = "A U Thor <author@example.com> 1700000000 +0000";
const MESSAGE: &str = "Fix the parser (#12)\n\nSigned-off-by: A U Thor <author@example.com>\n";

/// A server with the example policies that read commits (who wrote them,
/// their messages, trailers, files) and the list-commits guest, which walks
/// every filter.
fn server() -> Server {
    let server = Server::new();
    for name in
        ["no-wip", "commit-message", "author-email", "dco-signoff", "internal-authors", "max-file-size", "no-secrets"]
    {
        server.add_policy(name, example_policy(name));
    }
    server.add_policy("list-commits", guests::LIST_COMMITS);
    server.write_config(
        "[policy.author-email.settings]\nemail-regex = '(?i)@example\\.com$'\n\
         [policy.internal-authors.settings]\ndomains = [\"example.com\"]\n",
    );
    server
}

/// Writes `text` as a commit object, whatever git thinks of it.
fn raw_commit(server: &Server, text: &[u8]) -> String {
    server.write_object(&server.work, "commit", text)
}

/// `tree <main's tree>\nparent <main>\n` followed by `rest`.
fn on_main(server: &Server, rest: &[u8]) -> Vec<u8> {
    let tree = server.git(&["rev-parse", "main^{tree}"]);
    let parent = server.git(&["rev-parse", "main"]);
    let mut text = format!("tree {}\nparent {}\n", tree.trim(), parent.trim()).into_bytes();
    text.extend_from_slice(rest);
    text
}

/// Pushes `id` to main and checks what every malformed commit must get:
/// git shows it, every policy decided (accepted or vetoed, no failure), and
/// the walk reached it. Returns the push's output and audit record.
fn push(server: &Server, id: &str) -> (String, Value) {
    server.git(&["log", "-1", "--format=%H", id]);
    let pushed = server.push(&["origin", &format!("{id}:refs/heads/main")]);
    assert_no_panic(&pushed.stderr);
    assert!(!pushed.stderr.contains("trapped"), "a policy trapped:\n{}", pushed.stderr);
    let record = server.audit_records().pop().expect("an audit record");
    for policy in record["policies"].as_array().expect("policies") {
        let verdict = policy["verdict"].as_str();
        assert!(matches!(verdict, Some("accept" | "reject")), "{} did not decide: {policy}", policy["name"]);
    }
    assert!(
        pushed.stderr.contains(&format!("[list-commits] walk added-to-repository refs/heads/main {id}")),
        "the walk did not reach {id}:\n{}",
        pushed.stderr
    );
    (pushed.stderr, record)
}

fn decision(record: &Value) -> &str {
    record["decision"].as_str().expect("a decision")
}

#[test]
fn a_bad_timezone_reaches_every_policy_and_is_accepted() {
    for zone in ["+99999", "-0a00"] {
        let server = server();
        let text = format!("author {AUTHOR}\ncommitter A U Thor <author@example.com> 1700000000 {zone}\n\n{MESSAGE}");
        let id = raw_commit(&server, &on_main(&server, text.as_bytes()));
        let (out, record) = push(&server, &id);
        assert_eq!(decision(&record), "accepted", "zone {zone}:\n{out}");
    }
}

#[test]
fn an_author_without_an_email_is_vetoed_naming_the_commit_and_the_damage() {
    let server = server();
    let text = format!("author A U Thor 1700000000 +0000\ncommitter {AUTHOR}\n\n{MESSAGE}");
    let id = raw_commit(&server, &on_main(&server, text.as_bytes()));
    let (out, record) = push(&server, &id);
    assert_eq!(decision(&record), "rejected", "{out}");
    for policy in ["author-email", "internal-authors"] {
        let entry = record["policies"].as_array().expect("policies").iter().find(|p| p["name"] == policy).expect("ran");
        assert_eq!(entry["vetoes"][0]["commit"], id.as_str(), "{entry}");
    }
    assert!(out.contains("author: missingEmail (`A U Thor 1700000000 +0000`)"), "{out}");
    // docs/policies.md shows this very veto.
    let doc = std::fs::read_to_string(in_repo("docs/policies.md")).expect("read docs/policies.md");
    let shown = doc.split("```text\n").find(|block| block.contains("author: missingEmail")).expect("the example");
    let any_id = regex::Regex::new("[0-9a-f]{12}").expect("a regex");
    for line in shown.lines().take_while(|l| !l.starts_with("```")) {
        let line = any_id.replace_all(line.strip_prefix("remote: ").expect("a remote line"), short(&id));
        assert!(out.contains(&*line), "docs/policies.md shows {line:?}, the pusher sees:\n{out}");
    }
}

#[test]
fn a_commit_without_an_author_is_read_as_its_committer() {
    let server = server();
    let text = format!("committer {AUTHOR}\n\n{MESSAGE}");
    let id = raw_commit(&server, &on_main(&server, text.as_bytes()));
    let (out, record) = push(&server, &id);
    assert_eq!(decision(&record), "accepted", "{out}");
}

#[test]
fn a_commit_of_headers_only_has_an_empty_message() {
    let server = server();
    let text = format!("author {AUTHOR}\ncommitter {AUTHOR}\n");
    let id = raw_commit(&server, &on_main(&server, text.as_bytes()));
    let (out, record) = push(&server, &id);
    assert_eq!(decision(&record), "rejected", "{out}");
    // Vetoed for what its (empty) message lacks, not for being unreadable.
    out.lines().filter(|l| l.contains("dco-signoff") || l.contains("commit-message")).for_each(|l| {
        assert!(!l.contains("cannot be read"), "{l}");
    });
    let vetoed: Vec<&str> = record["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .filter(|p| p["verdict"] == "reject")
        .map(|p| p["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(vetoed, ["commit-message", "dco-signoff"]);
}

#[test]
fn odd_but_well_formed_commits_are_accepted() {
    let server = server();
    let tree = server.git(&["rev-parse", "main^{tree}"]).trim().to_owned();
    // A tree git would write as `40000`, zero-padded.
    let mut entries = b"040000 sub\0".to_vec();
    entries.extend(hex(&tree));
    let padded = server.write_object(&server.work, "tree", &entries);
    let kinds: Vec<(&str, Vec<u8>)> = vec![
        (
            "nul in the message",
            [format!("author {AUTHOR}\ncommitter {AUTHOR}\n\n{MESSAGE}").as_bytes(), b"\0after\n"].concat(),
        ),
        (
            "latin-1",
            [
                format!("author {AUTHOR}\ncommitter {AUTHOR}\nencoding ISO-8859-1\n\nCaf").as_bytes(),
                b"\xe9 (#12)\n\nSigned-off-by: A U Thor <author@example.com>\n",
            ]
            .concat(),
        ),
        (
            "extra headers",
            format!("author {AUTHOR}\ncommitter {AUTHOR}\nchange-id zyxw\nx-custom one\n two\n\n{MESSAGE}")
                .into_bytes(),
        ),
        (
            "date overflow",
            format!(
                "author A U Thor <author@example.com> 99999999999999999999999 +0000\ncommitter {AUTHOR}\n\n{MESSAGE}"
            )
            .into_bytes(),
        ),
    ];
    for (kind, rest) in kinds {
        let id = raw_commit(&server, &on_main(&server, &rest));
        let (out, record) = push(&server, &id);
        assert_eq!(decision(&record), "accepted", "{kind}:\n{out}");
        server.git(&["fetch", "--quiet", "origin"]);
        server.git(&["reset", "--quiet", "--hard", "origin/main"]);
    }
    let text = format!(
        "tree {padded}\nparent {}\nauthor {AUTHOR}\ncommitter {AUTHOR}\n\n{MESSAGE}",
        server.git(&["rev-parse", "main"]).trim()
    );
    let id = raw_commit(&server, text.as_bytes());
    let (out, record) = push(&server, &id);
    assert_eq!(decision(&record), "accepted", "zero-padded tree mode:\n{out}");
}

#[test]
fn a_two_hundred_parent_octopus_is_walked_whole() {
    let server = server();
    let tree = server.git(&["rev-parse", "main^{tree}"]).trim().to_owned();
    let main = server.git(&["rev-parse", "main"]).trim().to_owned();
    let mut parents = vec![main.clone()];
    for n in 0..199 {
        let text = format!(
            "tree {tree}\nparent {main}\nauthor {AUTHOR}\ncommitter {AUTHOR}\n\nSide {n} (#12)\n\nSigned-off-by: A U Thor <author@example.com>\n"
        );
        parents.push(raw_commit(&server, text.as_bytes()));
    }
    let mut text = format!("tree {tree}\n");
    for parent in &parents {
        text.push_str(&format!("parent {parent}\n"));
    }
    text.push_str(&format!(
        "author {AUTHOR}\ncommitter {AUTHOR}\n\nMerge 199 sides (#12)\n\nSigned-off-by: A U Thor <author@example.com>\n"
    ));
    let id = raw_commit(&server, text.as_bytes());
    let (out, record) = push(&server, &id);
    assert_eq!(decision(&record), "accepted", "{out}");
    let walked = out.lines().filter(|l| l.contains("[list-commits] walk added-to-repository refs/heads/main")).count();
    assert_eq!(walked, 200, "the merge and its 199 new parents");
}

fn hex(id: &str) -> Vec<u8> {
    (0..id.len()).step_by(2).map(|i| u8::from_str_radix(&id[i..i + 2], 16).expect("hex")).collect()
}

/// A commit git cannot read either stops the walk, and the SDK turns that
/// into a veto naming it (docs/policies.md shows it): here deleting a
/// branch of imported history whose commit names a blob as its parent (the
/// only such history a push can meet: git refuses to send it).
#[test]
fn a_commit_git_cannot_read_is_a_veto_naming_it() {
    let server = Server::new();
    server.add_policy("list-commits", guests::LIST_COMMITS);
    let blob = server.write_object(&server.bare, "blob", b"not a commit\n");
    let tree = server.server_git(&["rev-parse", "main^{tree}"]);
    let text =
        format!("tree {}\nparent {blob}\nauthor {AUTHOR}\ncommitter {AUTHOR}\n\nImported long ago\n", tree.trim());
    let imported = server.write_object(&server.bare, "commit", text.as_bytes());
    server.server_git(&["update-ref", "refs/heads/imported", &imported]);
    server.git(&["fetch", "--quiet", "origin", "main"]);

    let pushed = server.push(&["origin", ":refs/heads/imported"]).assert_rejected();
    assert_no_panic(&pushed.stderr);
    assert_eq!(server.server_ref("refs/heads/imported").as_deref(), Some(imported.as_str()), "the ref moved");
    let doc = std::fs::read_to_string(in_repo("docs/policies.md")).expect("read docs/policies.md");
    let shown = doc.split("```text\n").find(|block| block.contains("cannot be read: its parent")).expect("the example");
    let (full_id, short_id) = (regex::Regex::new("[0-9a-f]{40}"), regex::Regex::new(r"\b[0-9a-f]{12}\b"));
    let (full_id, short_id) = (full_id.expect("a regex"), short_id.expect("a regex"));
    for line in shown.lines().take_while(|l| !l.starts_with("```")) {
        let line = line.strip_prefix("remote: ").expect("a remote line");
        // The blob is named whole, the commit by its short id.
        let line = full_id.replace_all(line, blob.as_str());
        let line = short_id.replace_all(&line, short(&imported));
        assert!(pushed.stderr.contains(&*line), "docs/policies.md shows {line:?}, the pusher sees:\n{}", pushed.stderr);
    }
}
