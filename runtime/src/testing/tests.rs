//! What the scratch repository builds for merges and raw commits, read back
//! with git.

use std::path::Path;

use super::case::CaseFile;
use super::scratch::{Scratch, run_git};

/// The scratch repository of the first case of `toml` (its setup and its
/// push written), and the push's new tips.
fn build(toml: &str) -> Result<(Scratch, Vec<String>), String> {
    let file = CaseFile::parse(Path::new("cases.toml"), toml).map_err(|e| e.to_string())?;
    let case = &file.cases[0];
    let mut scratch = Scratch::new().map_err(|e| e.to_string())?;
    scratch.setup(&case.setup).map_err(|e| e.to_string())?;
    let updates = scratch.prepare_push(&case.push).map_err(|e| e.to_string())?;
    Ok((scratch, updates.iter().map(|u| u.new.to_string()).collect()))
}

fn git(scratch: &Scratch, args: &[&str]) -> String {
    run_git(Some(scratch.git_dir()), args, None).unwrap_or_else(|e| panic!("git {args:?}: {e}"))
}

/// `path` and its content at `rev`, one `path=content` a line.
fn files(scratch: &Scratch, rev: &str) -> Vec<String> {
    let paths = git(scratch, &["ls-tree", "-r", "--name-only", rev]);
    paths.lines().map(|p| format!("{p}={}", git(scratch, &["show", &format!("{rev}:{p}")]).trim_end())).collect()
}

const SIDE_BRANCHES: &str = r#"
setup = [
    { ref = "main", commits = [{ message = "base", files = { "a" = "1\n", "shared" = "base\n" } }] },
    { ref = "topic", from = "main", commits = [{ message = "topic", files = { "t" = "topic\n" } }] },
    { ref = "other", from = "main", commits = [{ message = "other", files = { "o" = "other\n" } }] },
    { ref = "clash", from = "main", commits = [{ message = "clash", files = { "shared" = "clash\n" } }] },
]
"#;

fn case(push: &str) -> String {
    format!("[[case]]\nname = \"c\"\n{SIDE_BRANCHES}push = [{push}]\nexpect = {{ accept = true }}\n")
}

#[test]
fn a_merge_has_the_tree_git_merge_makes_with_files_on_top() {
    let toml = case(
        r#"{ ref = "main", commits = [
            { message = "on main", files = { "shared" = "main\n" } },
            { message = "merge", merge = ["topic"], files = { "m" = "by the merge\n" } },
        ] }"#,
    );
    let (scratch, tips) = build(&toml).expect("builds");
    let tip = &tips[0];
    assert_eq!(files(&scratch, tip), ["a=1", "m=by the merge", "shared=main", "t=topic"]);
    let parents = git(&scratch, &["rev-parse", &format!("{tip}^1"), &format!("{tip}^2"), "topic"]);
    let parents: Vec<&str> = parents.lines().collect();
    assert_eq!(parents[1], parents[2], "the second parent is topic");
    assert_eq!(git(&scratch, &["log", "--format=%s", "-1", parents[0]]).trim(), "on main");
}

#[test]
fn an_octopus_merges_each_branch() {
    let toml = case(r#"{ ref = "main", commits = [{ message = "octopus", merge = ["topic", "other"] }] }"#);
    let (scratch, tips) = build(&toml).expect("builds");
    assert_eq!(files(&scratch, &tips[0]), ["a=1", "o=other", "shared=base", "t=topic"]);
    assert_eq!(git(&scratch, &["rev-list", "--parents", "-1", &tips[0]]).split_whitespace().count(), 4);
}

#[test]
fn a_conflict_is_refused_unless_files_resolves_it() {
    let conflicting = r#"{ ref = "topic", commits = [
        { message = "on topic", files = { "shared" = "topic\n" } },
        { message = "merge clash", merge = ["clash"] },
    ] }"#;
    let err = build(&case(conflicting)).err().expect("a conflict is an error");
    assert!(err.contains("\"merge clash\": merging `clash` into the commit before it conflicts in shared"), "{err}");
    assert!(err.contains("give the resolved content of each in the merge commit's `files`"), "{err}");

    let resolved =
        conflicting.replace("merge = [\"clash\"]", "merge = [\"clash\"], files = { \"shared\" = \"both\\n\" }");
    let (scratch, tips) = build(&case(&resolved)).expect("files resolves the conflict");
    assert_eq!(files(&scratch, &tips[0]), ["a=1", "shared=both", "t=topic"]);

    let octopus = r#"{ ref = "main", commits = [
        { message = "on main", files = { "shared" = "main\n" } },
        { message = "octopus", merge = ["topic", "clash"], files = { "shared" = "both\n" } },
    ] }"#;
    let err = build(&case(octopus)).err().expect("an octopus with a conflict is an error");
    assert!(err.contains("merging `clash` conflicts in shared; git merges several branches at once only"), "{err}");
}

#[test]
fn a_merge_needs_a_commit_to_merge_into() {
    let orphan = r#"
[[case]]
name = "c"
setup = [
    { ref = "main", commits = ["base"] },
    { ref = "orphan", commits = [{ message = "merge", merge = ["main"] }] },
]
push = [{ ref = "main", commits = ["x"] }]
expect = { accept = true }
"#;
    let err = build(orphan).err().expect("a merge starting a history is an error");
    assert!(err.contains("\"merge\": a merge needs a commit before it to merge into"), "{err}");
}

/// The bytes of the commit object `rev` names.
fn commit_bytes(scratch: &Scratch, rev: &str) -> Vec<u8> {
    let out = super::scratch::git_output(Some(scratch.git_dir()), &["cat-file", "commit", rev], None).expect("git");
    assert!(out.status.success(), "cat-file {rev}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

const RAW: &str = r#"
[[case]]
name = "raw"
setup = [
    { ref = "main", commits = [{ message = "base", files = { "a" = "1\n" } }] },
    { ref = "topic", from = "main", commits = ["topic"] },
]
[[case.push]]
ref = "main"
commits = [
    { raw = "tree {tree}\nparent {parent}\nparent {rev:topic}\nauthor No Email 1700000000 +99999\ncommitter C <c@x> 1700000000 +0000\nencoding ISO-8859-1\nx-extra {{header}\n\ncaf{hex:e9}\u0000!\n", files = { "b" = "2\n" } },
    "after the raw commit",
]
[case.expect]
accept = true
"#;

#[test]
fn a_raw_commit_is_written_byte_for_byte() {
    let (scratch, tips) = build(RAW).expect("builds");
    let raw = format!("{}^", tips[0]);
    let ids = git(&scratch, &["rev-parse", "main", "topic", &format!("{raw}^{{tree}}")]);
    let [main, topic, tree] = ids.lines().collect::<Vec<_>>()[..] else { panic!("three ids: {ids}") };
    let mut want = format!(
        "tree {tree}\nparent {main}\nparent {topic}\nauthor No Email 1700000000 +99999\n\
         committer C <c@x> 1700000000 +0000\nencoding ISO-8859-1\nx-extra {{header}}\n\ncaf"
    )
    .into_bytes();
    want.extend_from_slice(b"\xe9\0!\n");
    assert_eq!(String::from_utf8_lossy(&commit_bytes(&scratch, &raw)), String::from_utf8_lossy(&want));
    assert_eq!(commit_bytes(&scratch, &raw), want);
    // `{tree}` is the tree before it plus its files; the commit after it
    // builds on it.
    assert_eq!(files(&scratch, &raw), ["a=1", "b=2"]);
    assert_eq!(files(&scratch, &tips[0]), ["a=1", "b=2"]);
    assert_eq!(git(&scratch, &["log", "--format=%s", "-1", &tips[0]]).trim(), "after the raw commit");
}

#[test]
fn a_raw_commit_with_what_is_not_a_placeholder_or_keys_beside_it_is_refused() {
    for (change, says) in [
        (
            ("{tree}\\nparent", "{tre}\\nparent"),
            "case \"raw\": commit \"caf{hex:e9}\\0!\\n\": `raw` has an unknown placeholder `{tre}`",
        ),
        (("files = { \"b\"", "author = \"A <a@x>\", files = { \"b\""), "`author` cannot go with `raw`"),
        (("files = { \"b\"", "message = \"m\", files = { \"b\""), "`raw` is the whole commit, message included"),
    ] {
        let err = CaseFile::parse(Path::new("cases.toml"), &RAW.replace(change.0, change.1)).expect_err("refused");
        assert!(err.to_string().contains(says), "{err}");
    }

    // What only building can tell is an error too.
    let orphan = RAW.replace("ref = \"main\"\ncommits", "ref = \"refs/heads/orphan\"\nfrom = \"topic\"\ncommits");
    assert!(build(&orphan).is_ok());
    let err = build(&RAW.replace("{rev:topic}", "{rev:nowhere}")).err().expect("no such revision");
    assert!(err.contains("`nowhere` names no commit of the starting repository"), "{err}");
    let first = "[[case]]\nname = \"r\"\nsetup = [{ ref = \"main\", commits = [{ raw = \"tree {tree}\\nparent {parent}\\n\\nm\\n\" }] }]\npush = [{ ref = \"main\", commits = [\"x\"] }]\nexpect = { accept = true }\n";
    let err = build(first).err().expect("no parent");
    assert!(err.contains("`{parent}`: there is no commit before it"), "{err}");
}
