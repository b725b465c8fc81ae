//! `hookrt test` and `hookrt check`: cases, their outputs for people, scripts
//! and CI, dry runs over real history.

use crate::support::{
    Server, assert_example_passes_its_cases, example_policy, guests, hookrt, in_repo, run_fixture, text,
};

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn example_policies_pass_their_cases() {
    for name in ["no-wip", "jira-keys", "protect-branches", "deploy-notify"] {
        assert_example_passes_its_cases(name);
    }
}

const BROKEN: &str = r#"
[[case]]
name = "right"
setup = [{ ref = "main", commits = ["initial commit"] }]
push = [{ ref = "main", commits = ["WIP: half a lexer"] }]
expect = { vetoes = [{ ref = "main", commit = "WIP: half a lexer" }] }

[[case]]
name = "wrongly expects acceptance"
setup = [{ ref = "main", commits = ["initial commit"] }]
push = [{ ref = "main", commits = ["WIP: half a lexer"] }]
expect = { accept = true }

[[case]]
name = "over its fuel budget"
setup = [{ ref = "main", commits = ["initial commit"] }]
push = [{ ref = "main", commits = ["fine"] }]
expect = { accept = true, max_fuel = 10 }
"#;

#[test]
fn a_broken_case_shows_expected_beside_actual_and_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("broken.toml");
    std::fs::write(&file, BROKEN).expect("write cases");
    let out = hookrt(&["test", path(&file), "--policy", path(&example_policy("no-wip"))]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("PASS  broken.toml › right"), "{shown}");
    assert!(shown.contains("FAIL  broken.toml › wrongly expects acceptance"), "{shown}");
    let diff_row = shown.lines().find(|l| l.contains("✗ accept")).unwrap_or_else(|| panic!("no diff in:\n{shown}"));
    assert!(diff_row.ends_with("│ reject: 1 veto"), "{diff_row}");
    assert!(shown.contains("✗ fuel at most 10"), "{shown}");
    assert_eq!(shown.lines().last(), Some("1 passed, 2 failed"), "{shown}");

    // --filter runs only the cases it names.
    let out = hookrt(&["test", path(&file), "--policy", path(&example_policy("no-wip")), "--filter", "^right$"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(text(&out).lines().last(), Some("1 passed, 0 failed"));
}

#[test]
fn a_trapping_policy_shows_what_it_printed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("trap.toml");
    let case = "[[case]]\nname = \"panics\"\npush = [{ ref = \"main\", commits = [\"x\"] }]\nexpect = { failure = \"trap\" }\n";
    std::fs::write(&file, case).expect("write");
    let out = hookrt(&["test", path(&file), "--policy", guests::PANICKER]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    std::fs::write(&file, case.replace("failure = \"trap\"", "accept = true")).expect("write");
    let out = hookrt(&["test", path(&file), "--policy", guests::PANICKER]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("| policy bug: cannot handle 1 ref updates"), "{}", text(&out));
}

#[test]
fn json_and_junit_reports_parse() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("broken.toml");
    std::fs::write(&file, BROKEN).expect("write cases");
    let junit = dir.path().join("junit.xml");
    let out = hookrt(&[
        "test",
        path(&file),
        "--policy",
        path(&example_policy("no-wip")),
        "--format",
        "json",
        "--junit",
        path(&junit),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    let objects: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect();
    assert_eq!(objects.len(), 4, "three cases and a summary");
    assert_eq!(objects[0]["name"], "right");
    assert_eq!(objects[0]["passed"], true);
    assert!(objects[0]["fuel"].as_u64().is_some_and(|f| f > 0));
    assert_eq!(objects[1]["passed"], false);
    assert_eq!(objects[1]["rows"][0]["expected"], "accept");
    assert_eq!(objects[3]["summary"]["passed"], 1);
    assert_eq!(objects[3]["summary"]["failed"], 2);

    let xml = std::fs::read_to_string(&junit).expect("junit written");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("3"));
    assert_eq!(root.attribute("failures"), Some("2"));
    let cases: Vec<_> = root.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), 3);
    let failed: Vec<_> = cases.iter().filter(|c| c.children().any(|n| n.has_tag_name("failure"))).collect();
    assert_eq!(failed.len(), 2);
    let message = failed[0].children().find(|n| n.has_tag_name("failure")).and_then(|f| f.attribute("message"));
    assert_eq!(message, Some("expected accept, got reject: 1 veto"));
}

#[test]
fn load_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[case]]\nname = \"x\"\npush = []\nexpect = { acept = true }\n").expect("write");
    let out = hookrt(&["test", path(&bad), "--policy", path(&example_policy("no-wip"))]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("bad.toml is not a valid case file"), "{}", text(&out));
    assert!(text(&out).contains("acept"), "{}", text(&out));

    let out = hookrt(&["test", path(dir.path()), "--policy", path(&example_policy("no-wip"))]);
    assert_eq!(out.status.code(), Some(2), "a directory with a bad file: {}", text(&out));

    let good = in_repo("example-policies/no-wip");
    let not_wasm = dir.path().join("not.wasm");
    std::fs::write(&not_wasm, "nope").expect("write");
    let out = hookrt(&["test", path(&good), "--policy", path(&not_wasm)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not a WebAssembly file"), "{}", text(&out));

    let out = hookrt(&["test", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn dry_run_reports_what_a_range_of_real_history_would_get() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path().join("history");
    run_fixture("history.sh", &[path(&repo)]);
    let refs_before = std::fs::read_to_string(repo.join(".git/packed-refs")).unwrap_or_default();
    let objects = || std::fs::read_dir(repo.join(".git/objects")).expect("objects").count();
    let objects_before = objects();
    let no_wip = example_policy("no-wip");

    let out = hookrt(&["test", "--policy", path(&no_wip), "--repo", path(&repo), "--range", "start..clean"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("no-wip would accept start..clean pushed to refs/heads/main"), "{}", text(&out));

    let out =
        hookrt(&["test", "--policy", path(&no_wip), "--repo", path(&repo), "--range", "start..wip", "--ref", "main"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    assert!(shown.contains("hookrt: policy no-wip vetoed refs/heads/main"), "{shown}");
    assert!(shown.contains("WIP: risky refactor"), "{shown}");

    // Nothing was written: no ref, no object.
    assert_eq!(std::fs::read_to_string(repo.join(".git/packed-refs")).unwrap_or_default(), refs_before);
    assert_eq!(objects(), objects_before);

    let out = hookrt(&["test", "--policy", path(&no_wip), "--repo", path(&repo), "--range", "start..nowhere"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("`nowhere` names no commit"), "{}", text(&out));
}

#[test]
fn check_reports_each_installed_policy() {
    let server = Server::new();
    server.add_policy("no-wip", example_policy("no-wip"));
    let bare = path(&server.bare);
    let out = hookrt(&["check", bare]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("ok     no-wip (repository, pre-receive, enforce, fuel 5000000000, 256 MiB, 5000 ms"),
        "{}",
        text(&out)
    );
    // Under it, the bytes it runs (docs/admin.md): the file's digest, as
    // sha256sum computes it.
    let sum = std::process::Command::new("sha256sum").arg(example_policy("no-wip")).output().expect("run sha256sum");
    let sum = String::from_utf8_lossy(&sum.stdout).split_whitespace().next().expect("a digest").to_owned();
    assert!(text(&out).contains(&format!("\n       file sha256:{sum}, unsigned\n")), "{}", text(&out));

    server.add_policy("spin", guests::SPIN);
    std::fs::write(server.policy_dir().join("broken.wasm"), b"\0asm\x0d\0\x01\0garbage").expect("write");
    let out = hookrt(&["check", bare]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("broken.wasm: it is not a valid component"), "{}", text(&out));
    assert!(text(&out).contains("3 policies for"), "{}", text(&out));

    server.write_config("[policy.no-wip]\nfuel = 0\n");
    let out = hookrt(&["check", bare]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("policy `no-wip`: `fuel` must be more than 0"), "{}", text(&out));
}

/// The case files in docs/testing.md are what authors copy: they must pass.
#[test]
fn the_documented_case_files_pass() {
    let guide = std::fs::read_to_string(in_repo("docs/testing.md")).expect("read the guide");
    let blocks: Vec<&str> = guide.split("```toml\n").skip(1).filter_map(|rest| rest.split("```").next()).collect();
    let raw = blocks.iter().find(|b| b.contains("raw = \"\"\"")).expect("the raw commit's example");
    for (example, cases) in [(blocks[0], 3), (raw, 1)] {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("readme.toml");
        std::fs::write(&file, example).expect("write");
        let out = hookrt(&["test", path(&file), "--policy", path(&example_policy("no-wip"))]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(text(&out).lines().last(), Some(format!("{cases} passed, 0 failed").as_str()));
    }
}

#[test]
fn a_case_can_say_where_the_push_came_from_and_expect_warnings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("context.toml");
    let case = r#"
[[case]]
name = "from gitlab"
push_options = ["warn"]
pusher = { name = "ann", id = "user-7", source = "gitlab" }
context = { project = "group/app", protocol = "ssh", variables = [["GL_REPOSITORY", "project-12"]] }
push = [{ ref = "main", commits = ["x"] }]
[case.expect]
accept = true
output = ["pusher ann email=- id=user-7 source=gitlab", "project=group/app protocol=ssh", "var GL_REPOSITORY=project-12"]
warnings = ["this is only a warning"]
"#;
    std::fs::write(&file, case).expect("write");
    let out = hookrt(&["test", path(&file), "--policy", guests::PROBE]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A warning the policy does not give fails the case.
    std::fs::write(&file, case.replace("only a warning", "a warning it never gives")).expect("write");
    let out = hookrt(&["test", path(&file), "--policy", guests::PROBE]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("(no such warning)"), "{}", text(&out));
}

/// Issue 21: a merge in a case is a real merge. Its tree is what `git
/// merge` makes, so its changes against the first parent list what the
/// merged branch brought (not new to the repository), beside what the merge
/// itself adds; a conflict stops the case unless `files` resolves it.
#[test]
fn a_case_merge_brings_in_what_the_merged_branch_changed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("merge.toml");
    let case = r#"
[[case]]
name = "merge topic"
push_options = ["changes"]
setup = [
    { ref = "main", commits = [{ message = "base", files = { "shared" = "base\n" } }] },
    { ref = "topic", from = "main", commits = [{ message = "topic", files = { "topic.txt" = "t\n", "shared" = "topic\n" } }] },
]
push = [{ ref = "main", commits = [
    { message = "main", files = { "shared" = "main\n" } },
    { message = "Merge branch 'topic'", merge = ["topic"], files = { "merge.txt" = "m\n" } },
] }]
[case.expect]
accept = true
output = [
    "change Merge branch 'topic' Added topic.txt 0>100644 size=2 new=false",
    "change Merge branch 'topic' Added merge.txt 0>100644 size=2 new=true",
]
"#;
    std::fs::write(&file, case).expect("write");
    let out = hookrt(&["test", path(&file), "--policy", guests::PROBE]);
    // `shared` differs on both sides: the case cannot be built as it is.
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let shown = text(&out);
    assert!(shown.contains("merge.toml: case \"merge topic\" could not be set up"), "{shown}");
    assert!(
        shown.contains(
            "commit \"Merge branch 'topic'\": merging `topic` into the commit before it conflicts in shared: \
             give the resolved content of each in the merge commit's `files`"
        ),
        "{shown}"
    );

    std::fs::write(
        &file,
        case.replace("\"merge.txt\" = \"m\\n\"", "\"merge.txt\" = \"m\\n\", \"shared\" = \"both\\n\""),
    )
    .expect("write");
    let out = hookrt(&["test", path(&file), "--policy", guests::PROBE]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// Commits git accepts but would not write, as `raw` cases: the text is
/// written as given, `{tree}`, `{parent}`, `{rev:…}` and `{hex:…}` replaced.
fn raw_cases() -> Vec<(&'static str, String)> {
    const WHO: &str = "A U Thor <author@example.com> 1700000000 +0000";
    const MESSAGE: &str = "fix: the parser (#12)\n\nSigned-off-by: A U Thor <author@example.com>\n";
    let head = "tree {tree}\nparent {parent}\n";
    let parents: String = (0..200).map(|n| format!("parent {{rev:main~{n}}}\n")).collect();
    vec![
        (
            "bad time zone",
            format!("{head}author A U Thor <author@example.com> 1700000000 +99999\ncommitter {WHO}\n\n{MESSAGE}"),
        ),
        ("author without email", format!("{head}author No Email 1700000000 +0000\ncommitter {WHO}\n\n{MESSAGE}")),
        ("no author line", format!("{head}committer {WHO}\n\n{MESSAGE}")),
        ("headers only", format!("{head}author {WHO}\ncommitter {WHO}\n")),
        ("a NUL in the message", format!("{head}author {WHO}\ncommitter {WHO}\n\nfix: the\0parser (#12)\n")),
        (
            "Latin-1 with an encoding header",
            format!(
                "{head}author Ren{{hex:e9}} <rene@example.com> 1700000000 +0000\ncommitter {WHO}\nencoding ISO-8859-1\n\nfix: caf{{hex:e9}}\n"
            ),
        ),
        (
            "extra headers",
            format!("{head}author {WHO}\ncommitter {WHO}\nx-custom {{{{value}}\nx-folded one\n two\n\n{MESSAGE}"),
        ),
        ("200 parents", format!("tree {{tree}}\n{parents}author {WHO}\ncommitter {WHO}\n\n{MESSAGE}")),
    ]
}

/// A case file of [`raw_cases`], each pushing its raw commit onto a main of
/// 200 commits and expecting `output` of it.
fn raw_case_file(output: impl Fn(&str) -> String) -> String {
    let setup = (0..200).map(|n| format!("\"c{n}\"")).collect::<Vec<_>>().join(", ");
    raw_cases()
        .iter()
        .map(|(name, raw)| {
            let raw = toml::Value::String(raw.clone());
            format!(
                "[[case]]\nname = {name:?}\nsetup = [{{ ref = \"main\", commits = [{setup}] }}]\n\
                 push = [{{ ref = \"main\", commits = [{{ raw = {raw} }}] }}]\n\
                 expect = {{ accept = true, output = [{:?}] }}\n",
                output(name)
            )
        })
        .collect()
}

/// The bytes a raw case's text stands for in `git_dir`, where main is the
/// commit before it.
fn expected_raw(git_dir: &std::path::Path, raw: &str) -> Vec<u8> {
    let rev = |rev: &str| {
        let out = std::process::Command::new("git").arg("--git-dir").arg(git_dir).args(["rev-parse", rev]).output();
        String::from_utf8(out.expect("git rev-parse").stdout).expect("an id").trim().to_owned()
    };
    let mut text = raw.replace("{tree}", &rev("main^{tree}")).replace("{parent}", &rev("main")).replace("{{", "{");
    for n in 0..200 {
        text = text.replace(&format!("{{rev:main~{n}}}"), &rev(&format!("main~{n}")));
    }
    text.split("{hex:e9}").map(str::as_bytes).collect::<Vec<_>>().join(&b'\xe9')
}

#[test]
fn raw_case_commits_are_the_objects_written_and_reach_the_policy() {
    // The objects, built as `hookrt test` builds them; their ids are their
    // content, so the policy walking the same ids saw the same bytes.
    let mut ids = std::collections::HashMap::new();
    let cases = hookrt::testing::CaseFile::parse(std::path::Path::new("raw.toml"), &raw_case_file(|_| String::new()))
        .expect("the case file parses");
    for (case, (name, raw)) in cases.cases.iter().zip(raw_cases()) {
        let mut scratch = hookrt::testing::scratch::Scratch::new().expect("a scratch repository");
        scratch.setup(&case.setup).expect("setup");
        let tip = scratch.prepare_push(&case.push).expect("push")[0].new.to_string();
        let out = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(scratch.git_dir())
            .args(["cat-file", "commit", &tip])
            .output()
            .expect("git cat-file");
        let want = expected_raw(scratch.git_dir(), &raw);
        assert_eq!(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&want), "{name}");
        assert_eq!(out.stdout, want, "{name}");
        ids.insert(name, tip);
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("raw.toml");
    std::fs::write(&file, raw_case_file(|name| format!("walk added-to-repository refs/heads/main {}", ids[name])))
        .expect("write");
    let out = hookrt(&["test", path(&file), "--policy", guests::LIST_COMMITS]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(text(&out).lines().last(), Some("8 passed, 0 failed"), "{}", text(&out));
}
