//! The configuration's rules on files written to scratch directories.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::push::HookKind;
use crate::verdict::Limits;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

/// A server-wide and a repository directory.
fn scopes() -> (tempfile::TempDir, Scopes) {
    let root = tempfile::tempdir().expect("temp dir");
    let (global, repository) = (root.path().join("global"), root.path().join("repo"));
    std::fs::create_dir_all(&global).expect("global");
    std::fs::create_dir_all(&repository).expect("repo");
    (root, Scopes { global: Some(global), global_required: true, repository, repository_required: true })
}

fn global(scopes: &Scopes) -> &Path {
    scopes.global.as_deref().expect("a global dir")
}

/// A guide's first TOML block that holds `marker`: pages show single keys
/// here and there, and the test is of the full example.
fn toml_block<'a>(guide: &'a str, marker: &str) -> &'a str {
    guide
        .split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .find(|block| block.contains(marker))
        .expect("the guide's full hookrt.toml example")
}

/// The example in docs/admin.md is what admins copy: it must load and mean
/// what the text says.
#[test]
fn the_admin_guide_example_loads() {
    let guide = include_str!("../../../docs/admin.md");
    // The full example is the block that sets [audit]; others show one key.
    let block = toml_block(guide, "[audit]");
    let (_root, scopes) = scopes();
    write(global(&scopes), CONFIG_FILE, block);
    write(global(&scopes), "jira-keys.wasm", "");
    write(global(&scopes), "protect-branches.wasm", "");
    let set = PolicySet::load(&scopes).expect("the documented example loads");

    assert_eq!(set.budget, Duration::from_secs(5));
    assert_eq!(set.audit.path.as_deref(), Some(Path::new("/var/log/hookrt/audit.log")));
    assert_eq!((set.audit.max_bytes, set.audit.keep, set.audit.enabled), (16 << 20, 3, true));
    let [jira, protect] = &set.policies[..] else { panic!("two policies: {:?}", set.policies) };
    assert_eq!(jira.name, "jira-keys");
    assert!(jira.commit_msg && !protect.commit_msg, "commit_msg is jira-keys' alone");
    assert_eq!(set.proc_receive_target, "refs/reviews/{branch}/{topic}");
    assert_eq!(
        jira.limits,
        Limits {
            fuel: 50_000_000,
            memory_bytes: 64 << 20,
            timeout: Duration::from_secs(2),
            blob_read_bytes: 256 << 10,
            changes_max: 20_000,
        }
    );
    assert!(jira.mandatory);
    assert_eq!(jira.bypass, ["deploy-bot"]);
    assert!(jira.refs.matches("refs/heads/feature/x"));
    assert!(!jira.refs.matches("refs/heads/scratch/ann/try"));
    assert!(!jira.refs.matches("refs/tags/v1"));
    assert_eq!(jira.settings.get("projects"), Some(&SettingValue::Strings(vec!["HOOK".into(), "OPS".into()])));
    assert_eq!((jira.mode, jira.on_failure, jira.scope), (Mode::Enforce, OnFailure::Reject, Scope::Global));
    assert_eq!((protect.hook, protect.mode), (HookKind::Update, Mode::Evaluate));
}

#[test]
fn a_repository_overrides_key_by_key_but_not_a_mandatory_entry() {
    let (_root, scopes) = scopes();
    write(global(&scopes), "a.wasm", "");
    write(global(&scopes), "b.wasm", "");
    write(
        global(&scopes),
        CONFIG_FILE,
        "[policy.a]\nfuel = 7\nsettings = { x = \"server\", y = \"server\" }\n\n[policy.b]\nmandatory = true\n",
    );
    write(&scopes.repository, "c.wasm", "");
    write(
        &scopes.repository,
        CONFIG_FILE,
        "[policy.a]\nmode = \"evaluate\"\nsettings = { y = \"repo\" }\n\n[policy.b]\nmode = \"disabled\"\n",
    );
    let set = PolicySet::load(&scopes).expect("loads");
    let names: Vec<_> = set.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"], "server's first, then the repository's own");
    let a = &set.policies[0];
    assert_eq!((a.limits.fuel, a.mode, a.scope), (7, Mode::Evaluate, Scope::Repository));
    assert_eq!(a.settings.get("x"), Some(&SettingValue::String("server".into())));
    assert_eq!(a.settings.get("y"), Some(&SettingValue::String("repo".into())));
    // The setting keeps the line it came from.
    assert_eq!(a.settings.values["y"].origin.file, scopes.repository.join(CONFIG_FILE));
    assert_eq!(set.policies[1].mode, Mode::Enforce, "mandatory: the repository's mode is ignored");
    assert_eq!(set.notices.len(), 1);
    assert!(set.notices[0].contains("cannot change `mode`"), "{}", set.notices[0]);
}

#[test]
fn errors_name_file_line_and_what_to_write() {
    let (_root, scopes) = scopes();
    write(&scopes.repository, CONFIG_FILE, "\n[policy.x]\nfule = 1\n");
    let err = PolicySet::load(&scopes).expect_err("unknown key").to_string();
    assert!(err.contains("hookrt.toml:3:1: unknown field `fule`, expected one of"), "{err}");

    write(&scopes.repository, CONFIG_FILE, "[policy.x]\nmandatory = true\n");
    let err = PolicySet::load(&scopes).expect_err("mandatory in a repository").to_string();
    assert!(err.contains("hookrt.toml:1: `mandatory` belongs in the server-wide hookrt.toml only"), "{err}");

    write(&scopes.repository, CONFIG_FILE, "[push]\nbudget_ms = 0\n");
    let err = PolicySet::load(&scopes).expect_err("zero budget").to_string();
    assert!(err.contains("`budget_ms` must be more than 0"), "{err}");

    std::fs::remove_dir(global(&scopes)).expect("remove");
    write(&scopes.repository, CONFIG_FILE, "");
    let err = PolicySet::load(&scopes).expect_err("named global dir missing").to_string();
    assert!(err.contains("does not exist; create it or point --global-dir"), "{err}");
}

/// A drop-in hook (docs/hosting.md) names no directory: a repository
/// without one of its own runs the server's policies, but a server with
/// neither runs nothing and must say so rather than accept every push.
#[test]
fn an_unnamed_repository_directory_may_be_missing_but_not_both() {
    let (_root, mut scopes) = scopes();
    write(global(&scopes), "server-rule.wasm", "");
    std::fs::remove_dir(&scopes.repository).expect("remove");
    let err = PolicySet::load(&scopes).expect_err("named repository dir missing").to_string();
    assert!(err.contains("does not exist; create it (an empty one accepts every push)"), "{err}");

    scopes.repository_required = false;
    let set = PolicySet::load(&scopes).expect("the server's policies alone");
    assert_eq!(set.policies.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["server-rule"]);

    scopes.global_required = false;
    std::fs::remove_dir_all(global(&scopes)).expect("remove");
    let err = PolicySet::load(&scopes).expect_err("no directory at all").to_string();
    let expected = format!("no policies to run: neither the server-wide directory {}", global(&scopes).display());
    assert!(err.contains(&expected) && err.contains("nor the repository's"), "{err}");
}

#[test]
fn a_module_named_by_an_entry_is_not_a_policy_of_its_own() {
    let (_root, scopes) = scopes();
    write(&scopes.repository, "shared.wasm", "");
    write(
        &scopes.repository,
        CONFIG_FILE,
        "[policy.pre]\nmodule = \"shared.wasm\"\n\n[policy.post]\nmodule = \"shared.wasm\"\nhook = \"post-receive\"\n",
    );
    let set = PolicySet::load(&scopes).expect("loads");
    let names: Vec<_> = set.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["post", "pre"]);
}

/// The README's snippet parses and means what it says.
#[test]
fn the_readme_snippet_parses() {
    let readme = include_str!("../../../README.md");
    let block = readme
        .split("```toml\n")
        .filter_map(|rest| rest.split("```").next())
        .find(|block| block.contains("[policy.jira-keys]"))
        .expect("the README's hookrt.toml snippet");
    let file = ConfigFile::parse(Path::new("hookrt.toml"), block).expect("parses");
    let entry = &file.policies["jira-keys"];
    assert_eq!(entry.config.mode, Some(Mode::Evaluate));
    assert_eq!(entry.settings["projects"].value, SettingValue::Strings(vec!["HOOK".into(), "OPS".into()]));
    assert_eq!(entry.settings["projects"].origin.line, 5);
}

/// The example in docs/webhooks.md loads and means what the page says.
#[test]
fn the_webhooks_guide_example_loads() {
    let guide = include_str!("../../../docs/webhooks.md");
    let block = toml_block(guide, "queue_max");
    let (_root, scopes) = scopes();
    write(&scopes.repository, CONFIG_FILE, block);
    write(&scopes.repository, "deploy-notify.wasm", "");
    let set = PolicySet::load(&scopes).expect("the documented example loads");

    assert_eq!(set.webhooks.queue_max, 1000);
    let [deploy] = &set.webhooks.hooks[..] else { panic!("one webhook: {:?}", set.webhooks) };
    assert_eq!(deploy.url, "https://deploy.example.com/hooks/git");
    assert!(deploy.wants("push", Some("refs/heads/release/2.0")));
    assert!(!deploy.wants("push", Some("refs/heads/release/old-1")));
    assert!(!deploy.wants("tag_push", Some("refs/heads/main")));
    assert!(deploy.wants("deploy-notify/deploy", Some("refs/heads/main")));
    assert_eq!(deploy.secret, Some(crate::policy::Secret::File(scopes.repository.join("deploy.secret"))));
    assert_eq!((deploy.timeout, deploy.retries, deploy.backoff), (Duration::from_secs(10), 8, Duration::from_secs(2)));
    assert_eq!(set.policies[0].hook, HookKind::PostReceive);
}

#[test]
fn a_repository_cannot_replace_a_server_webhook() {
    let (_root, scopes) = scopes();
    write(global(&scopes), CONFIG_FILE, "[webhook.deploy]\nurl = \"https://a.example/\"\n");
    write(&scopes.repository, CONFIG_FILE, "[webhook.deploy]\nurl = \"https://b.example/\"\n");
    let err = PolicySet::load(&scopes).expect_err("a clash").to_string();
    assert!(err.contains("webhook `deploy` is already set in"), "{err}");
}
