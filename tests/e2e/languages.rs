//! The example policies written in Python, JavaScript and C: each passes its
//! own `hookrt test` cases, lands a push it accepts, stops one it vetoes
//! with the refs untouched, and (where it reads commits) walks a
//! 10,000-commit push within the default limits.
//!
//! Each language is one test that runs the cases first: they compile the
//! policy (seconds for Python and JavaScript), and the pushes after them
//! find it in the shared cache.

use crate::support::{Server, assert_example_passes_its_cases, commits_produced, heavy, in_repo};

/// Pushes `main`, expecting a rejection that shows `shown`, and checks that
/// no ref on the server moved.
fn push_is_vetoed(server: &Server, shown: &str) {
    let before = server.server_refs();
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    assert!(pushed.stderr.contains(shown), "no {shown:?} in:\n{}", pushed.stderr);
    assert_eq!(server.server_refs(), before);
}

/// Drops the commits the server refused, adds 10,000 good ones and pushes
/// them: the policy must read every one within the default limits.
fn walks_ten_thousand_commits(server: &Server, name: &str, refused: usize) {
    let _heavy = heavy();
    server.git(&["reset", "--quiet", "--hard", &format!("HEAD~{refused}")]);
    server.fixture("many-commits.sh", &["10000"]);
    let pushed = server.push_with_env(&["origin", "main"], &[("HOOKRT_LOG", "debug")]).assert_ok();
    assert_eq!(commits_produced(&pushed.stderr, name), 10_000);
}

#[test]
fn python_conventional_commits() {
    let name = "conventional-commits";
    assert_example_passes_its_cases(name);
    let server = Server::with_example(name);
    server.commit("feat(parser): accept empty input");
    server.push(&["origin", "main"]).assert_ok();
    server.commit("fix: handle a missing newline");
    server.commit("Added the lexer");
    push_is_vetoed(&server, "the subject does not start with `type: ` or `type(scope): `");
    walks_ten_thousand_commits(&server, name, 2);
}

#[test]
fn javascript_ref_names() {
    let name = "ref-names";
    assert_example_passes_its_cases(name);
    let server = Server::with_example(name);
    server.commit("add the parser");
    server.push(&["origin", "HEAD:refs/heads/feature/add-parser"]).assert_ok();
    let before = server.server_refs();
    let pushed = server.push(&["origin", "HEAD:refs/heads/Feature/Add_Parser"]).assert_rejected();
    assert!(pushed.stderr.contains(r#"branch name "Feature/Add_Parser" is not allowed"#), "{}", pushed.stderr);
    assert_eq!(server.server_refs(), before);
    // The pusher's own branch is fine, someone else's is not.
    let as_ann = [("USER", "git"), ("GL_USERNAME", "ann")];
    server.push_with_env(&["origin", "HEAD:refs/heads/users/ann/spike"], &as_ann).assert_ok();
    let pushed = server.push_with_env(&["origin", "HEAD:refs/heads/users/bob/spike"], &as_ann).assert_rejected();
    assert!(pushed.stderr.contains("users/bob/spike"), "{}", pushed.stderr);
    // A new release branch has its new commits read: all 10,000.
    server.git(&["checkout", "--quiet", "-b", "release/1.0"]);
    server.fixture("many-commits.sh", &["10000"]);
    let _heavy = heavy();
    let pushed = server.push_with_env(&["origin", "release/1.0"], &[("HOOKRT_LOG", "debug")]).assert_ok();
    assert_eq!(commits_produced(&pushed.stderr, name), 10_000);
}

#[test]
fn c_line_length() {
    let name = "line-length";
    assert_example_passes_its_cases(name);
    let server = Server::with_example(name);
    server.commit("Fix the build on Windows");
    server.push(&["origin", "main"]).assert_ok();
    server.commit("Add a README that explains how to build, test and install the project on Linux");
    push_is_vetoed(&server, "commit subject (line 1) is 78 characters long, over the limit of 72");
    walks_ten_thousand_commits(&server, name, 1);
}

/// The code on each language's guide is cut from the example policy (or,
/// for C, from the bindings the build generates), so what a reader copies
/// is what the tests above build and push against.
#[test]
fn the_guides_show_the_examples_code() {
    let guides = [
        ("docs/python.md", "example-policies/conventional-commits", &["python", "toml"][..], None),
        ("docs/javascript.md", "example-policies/ref-names", &["js", "json", "toml"][..], None),
        ("docs/c.md", "example-policies/line-length", &["c", "toml"][..], Some("target/c/bindings/policy.h")),
    ];
    for (guide, example, languages, generated) in guides {
        let mut sources = Vec::new();
        let mut dirs = vec![in_repo(example)];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("read example dir").map(|e| e.expect("dir entry").path()) {
                if entry.is_dir() && !entry.ends_with("node_modules") {
                    dirs.push(entry);
                } else if entry.is_file() {
                    sources.push(std::fs::read_to_string(&entry).unwrap_or_default());
                }
            }
        }
        if let Some(file) = generated {
            sources.push(std::fs::read_to_string(in_repo(file)).expect("generated bindings: run `just policies`"));
        }
        let text = std::fs::read_to_string(in_repo(guide)).expect("read guide");
        let mut checked = 0;
        for block in text.split("\n```").skip(1).step_by(2) {
            let (language, code) = block.split_once('\n').expect("a fenced block");
            if languages.contains(&language) {
                assert!(
                    sources.iter().any(|s| s.contains(code)),
                    "{guide}: this {language} block is not in {example}:\n{code}"
                );
                checked += 1;
            }
        }
        assert!(checked >= 3, "{guide}: only {checked} code blocks found");
    }
}

/// A Rust block in docs/policies.md that starts with `// <path>` is cut
/// from that file, verbatim, so the guide cannot drift from the examples
/// the suite pushes against.
#[test]
fn the_policy_guide_quotes_the_examples_verbatim() {
    let text = std::fs::read_to_string(in_repo("docs/policies.md")).expect("read guide");
    let mut checked = 0;
    for block in text.split("\n```").skip(1).step_by(2) {
        let Some(code) = block.strip_prefix("rust\n// ") else { continue };
        let (path, excerpt) = code.split_once('\n').expect("a path line and code");
        let source = std::fs::read_to_string(in_repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            source.contains(excerpt.trim_end_matches('\n')),
            "docs/policies.md quotes {path}, which has no:\n{excerpt}"
        );
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} quoted blocks found");
}
