//! Test-case files (`hookrt test`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hookrt::push::HookKind;
use hookrt::pusher::{PullRequest, PushCertificate};
use hookrt::testing::case::{
    Case, CaseLimits, CommitSpec, Expect, ExpectEvent, ExpectVeto, FileSpec, FullCommit, Generated, PushRef, SetupRef,
};
use hookrt::testing::{CaseError, CaseFile};
use hookrt::{PushContext, Pusher};
use proptest::collection::{btree_map, vec};
use proptest::option::of;
use proptest::prelude::*;
use toml::{Table, Value};

use super::config::{setting, setting_value};
use super::{apply, edits, holds, text, token_soup};

const PATH: &str = "/work/policy/tests/cases.toml";

fn settings() -> impl Strategy<Value = BTreeMap<String, Value>> {
    btree_map(text(), setting().prop_map(|s| setting_value(&s)), 0..3)
}

fn texts() -> impl Strategy<Value = Vec<String>> {
    vec(text(), 0..3)
}

fn file_spec() -> impl Strategy<Value = FileSpec> {
    let repeat = (text(), of(0..1000usize)).prop_map(|(text, times)| Generated {
        repeat: Some(text),
        times,
        random_bytes: None,
        seed: 0,
    });
    let random = (0..=1usize << 30, 0..=i64::MAX as u64).prop_map(|(len, seed)| Generated {
        repeat: None,
        times: None,
        random_bytes: Some(len),
        seed,
    });
    prop_oneof![
        text().prop_map(FileSpec::Text),
        Just(FileSpec::Delete(false)),
        repeat.prop_map(FileSpec::Generated),
        random.prop_map(FileSpec::Generated),
    ]
}

fn commit() -> impl Strategy<Value = CommitSpec> {
    let full =
        (text(), of(text()), of(text()), of(0..=253_402_300_799i64), btree_map(text(), file_spec(), 0..3), texts())
            .prop_map(|(message, author, committer, date, files, merge)| {
                CommitSpec::Full(FullCommit {
                    message: Some(message),
                    raw: None,
                    author,
                    committer,
                    date,
                    files,
                    merge,
                })
            });
    // A raw commit's text: `{` only in placeholders, which are checked.
    let plain = || proptest::string::string_regex("(?s)[^{]{0,12}").expect("a valid regex");
    let placeholder = proptest::sample::select(vec!["", "{tree}", "{parent}", "{rev:main~1}", "{hex:e9}", "{{"]);
    let raw = (plain(), placeholder, plain(), btree_map(text(), file_spec(), 0..3)).prop_map(|(a, p, b, files)| {
        let raw = Some(format!("{a}{p}{b}"));
        CommitSpec::Full(FullCommit {
            message: None,
            raw,
            author: None,
            committer: None,
            date: None,
            files,
            merge: vec![],
        })
    });
    prop_oneof![text().prop_map(CommitSpec::Message), full, raw]
}

fn setup_ref() -> impl Strategy<Value = SetupRef> {
    (text(), of(text()), vec(commit(), 0..3), of(text())).prop_map(|(name, from, commits, annotated)| SetupRef {
        name,
        from,
        commits,
        annotated,
    })
}

fn push_ref() -> impl Strategy<Value = PushRef> {
    (text(), of(text()), vec(commit(), 0..3), any::<bool>(), of(text()))
        .prop_map(|(name, from, commits, delete, annotated)| PushRef { name, from, commits, delete, annotated })
}

fn pusher() -> impl Strategy<Value = Pusher> {
    (text(), of(text()), of(text()), text()).prop_map(|(name, email, id, source)| Pusher { name, email, id, source })
}

fn context() -> impl Strategy<Value = PushContext> {
    let pull_request =
        (of(text()), of(text()), of(text())).prop_map(|(author, head, base)| PullRequest { author, head, base });
    let certificate = (text(), of(text()), of(text()), text(), of(text()), of(text())).prop_map(
        |(id, signer, key, status, nonce, nonce_status)| PushCertificate {
            id,
            signer,
            key,
            status,
            nonce,
            nonce_status,
        },
    );
    (of(text()), of(text()), of(text()), of(pull_request), of(certificate), vec((text(), text()), 0..3)).prop_map(
        |(project, protocol, remote_address, pull_request, certificate, variables)| PushContext {
            project,
            protocol,
            remote_address,
            pull_request,
            certificate,
            variables,
        },
    )
}

fn limits() -> impl Strategy<Value = CaseLimits> {
    let count = || 0..=i64::MAX as u64;
    (of(count()), of(any::<u32>()), of(count()), of(count()), of(any::<u32>())).prop_map(
        |(fuel, memory_mib, timeout_ms, blob_read_kib, changes_max)| CaseLimits {
            fuel,
            memory_mib,
            timeout_ms,
            blob_read_kib,
            changes_max,
        },
    )
}

fn expect() -> impl Strategy<Value = Expect> {
    let veto = (of(text()), of(text().prop_map(|t| regex::escape(&t))), of(text()), of(text()))
        .prop_map(|(summary, summary_regex, ref_name, commit)| ExpectVeto { summary, summary_regex, ref_name, commit });
    // Exactly one of accepting, vetoes and a failure.
    let verdict = prop_oneof![
        Just((true, Vec::<ExpectVeto>::new(), None::<String>)),
        vec(veto, 1..3).prop_map(|vetoes| (false, vetoes, None)),
        text().prop_map(|failure| (false, Vec::new(), Some(failure))),
    ];
    // `events = []` ("emits nothing") differs from no `events` at all.
    let event = (text(), of(text()), of(btree_map(text(), text().prop_map(Value::String), 0..3))).prop_map(
        |(name, ref_name, payload)| ExpectEvent {
            name,
            ref_name,
            payload: payload.map(|p| Value::Table(p.into_iter().collect())),
        },
    );
    (verdict, texts(), texts(), of(vec(event, 0..3)), of(0..=i64::MAX as u64)).prop_map(
        |((accept, vetoes, failure), output, warnings, events, max_fuel)| Expect {
            accept,
            vetoes,
            failure,
            output,
            warnings,
            events,
            max_fuel,
        },
    )
}

fn case() -> impl Strategy<Value = Case> {
    let who = (
        text(),
        proptest::sample::select([&HookKind::SERVER[..], &HookKind::CLIENT].concat()),
        texts(),
        of(pusher()),
        context(),
        limits(),
    );
    let what = (settings(), vec(setup_ref(), 0..3), vec(push_ref(), 1..3), expect());
    (who, what).prop_map(|((name, hook, push_options, pusher, context, limits), (settings, setup, push, expect))| {
        Case { name, hook, push_options, pusher, context, limits, settings, setup, push, expect }
    })
}

fn case_file() -> impl Strategy<Value = CaseFile> {
    (of("[a-z/]{1,12}\\.wasm".prop_map(PathBuf::from)), settings(), vec(case(), 1..3))
        .prop_map(|(policy, settings, cases)| CaseFile { policy, settings, cases, path: PathBuf::from(PATH) })
}

/// Sets `key` when there is a value, as a writer leaving defaults out would.
fn put(table: &mut Table, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        table.insert(key.to_owned(), value);
    }
}

fn string(s: &str) -> Value {
    Value::String(s.to_owned())
}

fn strings(items: &[String]) -> Option<Value> {
    (!items.is_empty()).then(|| Value::Array(items.iter().map(|s| string(s)).collect()))
}

fn int(n: impl TryInto<i64>) -> Value {
    Value::Integer(n.try_into().unwrap_or_else(|_| panic!("generated within TOML's range")))
}

fn table(table: Table) -> Option<Value> {
    (!table.is_empty()).then_some(Value::Table(table))
}

fn tables<T>(items: &[T], render: impl Fn(&T) -> Table) -> Option<Value> {
    (!items.is_empty()).then(|| Value::Array(items.iter().map(|item| Value::Table(render(item))).collect()))
}

fn render_file(file: &CaseFile) -> String {
    let mut out = Table::new();
    put(&mut out, "policy", file.policy.as_ref().map(|p| string(&p.to_string_lossy())));
    put(&mut out, "settings", table(file.settings.clone().into_iter().collect()));
    put(&mut out, "case", tables(&file.cases, render_case));
    toml::to_string(&out).expect("a table renders")
}

fn render_case(case: &Case) -> Table {
    let mut out = Table::new();
    put(&mut out, "name", Some(string(&case.name)));
    put(&mut out, "hook", (case.hook != HookKind::PreReceive).then(|| string(case.hook.as_str())));
    put(&mut out, "push_options", strings(&case.push_options));
    put(&mut out, "pusher", case.pusher.as_ref().map(render_pusher));
    put(&mut out, "context", table(render_context(&case.context)));
    let limits = &case.limits;
    let mut limit_table = Table::new();
    put(&mut limit_table, "fuel", limits.fuel.map(int));
    put(&mut limit_table, "memory_mib", limits.memory_mib.map(int));
    put(&mut limit_table, "timeout_ms", limits.timeout_ms.map(int));
    put(&mut limit_table, "blob_read_kib", limits.blob_read_kib.map(int));
    put(&mut limit_table, "changes_max", limits.changes_max.map(int));
    put(&mut out, "limits", table(limit_table));
    put(&mut out, "settings", table(case.settings.clone().into_iter().collect()));
    put(&mut out, "setup", tables(&case.setup, |r| render_ref(&r.name, &r.from, &r.commits, false, &r.annotated)));
    put(&mut out, "push", tables(&case.push, |r| render_ref(&r.name, &r.from, &r.commits, r.delete, &r.annotated)));
    out.insert("expect".into(), Value::Table(render_expect(&case.expect)));
    out
}

fn render_pusher(pusher: &Pusher) -> Value {
    let mut out = Table::new();
    put(&mut out, "name", Some(string(&pusher.name)));
    put(&mut out, "email", pusher.email.as_deref().map(string));
    put(&mut out, "id", pusher.id.as_deref().map(string));
    put(&mut out, "source", Some(string(&pusher.source)));
    Value::Table(out)
}

fn render_context(context: &PushContext) -> Table {
    let mut out = Table::new();
    put(&mut out, "project", context.project.as_deref().map(string));
    put(&mut out, "protocol", context.protocol.as_deref().map(string));
    put(&mut out, "remote_address", context.remote_address.as_deref().map(string));
    if let Some(pr) = &context.pull_request {
        let mut t = Table::new();
        put(&mut t, "author", pr.author.as_deref().map(string));
        put(&mut t, "head", pr.head.as_deref().map(string));
        put(&mut t, "base", pr.base.as_deref().map(string));
        out.insert("pull_request".into(), Value::Table(t));
    }
    if let Some(cert) = &context.certificate {
        let mut t = Table::new();
        put(&mut t, "id", Some(string(&cert.id)));
        put(&mut t, "signer", cert.signer.as_deref().map(string));
        put(&mut t, "key", cert.key.as_deref().map(string));
        put(&mut t, "status", Some(string(&cert.status)));
        put(&mut t, "nonce", cert.nonce.as_deref().map(string));
        put(&mut t, "nonce_status", cert.nonce_status.as_deref().map(string));
        out.insert("certificate".into(), Value::Table(t));
    }
    let variables = context.variables.iter().map(|(k, v)| Value::Array(vec![string(k), string(v)]));
    put(&mut out, "variables", (!context.variables.is_empty()).then(|| Value::Array(variables.collect())));
    out
}

fn render_ref(name: &str, from: &Option<String>, commits: &[CommitSpec], delete: bool, tag: &Option<String>) -> Table {
    let mut out = Table::new();
    put(&mut out, "ref", Some(string(name)));
    put(&mut out, "from", from.as_deref().map(string));
    let commits = commits.iter().map(render_commit).collect::<Vec<_>>();
    put(&mut out, "commits", (!commits.is_empty()).then_some(Value::Array(commits)));
    put(&mut out, "delete", delete.then_some(Value::Boolean(true)));
    put(&mut out, "annotated", tag.as_deref().map(string));
    out
}

fn render_commit(commit: &CommitSpec) -> Value {
    let commit = match commit {
        CommitSpec::Message(message) => return string(message),
        CommitSpec::Full(commit) => commit,
    };
    let mut out = Table::new();
    put(&mut out, "message", commit.message.as_deref().map(string));
    put(&mut out, "raw", commit.raw.as_deref().map(string));
    put(&mut out, "author", commit.author.as_deref().map(string));
    put(&mut out, "committer", commit.committer.as_deref().map(string));
    put(&mut out, "date", commit.date.map(int));
    let files = commit.files.iter().map(|(path, spec)| (path.clone(), render_file_spec(spec))).collect();
    put(&mut out, "files", table(files));
    put(&mut out, "merge", strings(&commit.merge));
    Value::Table(out)
}

fn render_file_spec(spec: &FileSpec) -> Value {
    match spec {
        FileSpec::Text(text) => string(text),
        FileSpec::Delete(delete) => Value::Boolean(*delete),
        FileSpec::Generated(generated) => {
            let mut out = Table::new();
            put(&mut out, "repeat", generated.repeat.as_deref().map(string));
            put(&mut out, "times", generated.times.map(int));
            put(&mut out, "random_bytes", generated.random_bytes.map(int));
            put(&mut out, "seed", (generated.seed != 0).then(|| int(generated.seed)));
            Value::Table(out)
        }
    }
}

fn render_expect(expect: &Expect) -> Table {
    let mut out = Table::new();
    put(&mut out, "accept", expect.accept.then_some(Value::Boolean(true)));
    let vetoes = tables(&expect.vetoes, |veto| {
        let mut out = Table::new();
        put(&mut out, "summary", veto.summary.as_deref().map(string));
        put(&mut out, "summary_regex", veto.summary_regex.as_deref().map(string));
        put(&mut out, "ref", veto.ref_name.as_deref().map(string));
        put(&mut out, "commit", veto.commit.as_deref().map(string));
        out
    });
    put(&mut out, "vetoes", vetoes);
    put(&mut out, "failure", expect.failure.as_deref().map(string));
    put(&mut out, "output", strings(&expect.output));
    put(&mut out, "warnings", strings(&expect.warnings));
    let events = expect.events.as_ref().map(|events| {
        let rendered = events.iter().map(|event| {
            let mut out = Table::new();
            out.insert("name".into(), string(&event.name));
            put(&mut out, "ref", event.ref_name.as_deref().map(string));
            put(&mut out, "payload", event.payload.clone());
            Value::Table(out)
        });
        Value::Array(rendered.collect())
    });
    put(&mut out, "events", events);
    put(&mut out, "max_fuel", expect.max_fuel.map(int));
    out
}

/// Words of case files, right and wrong.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "\n", "\n", " ", "=", " = ", "[", "]", "{", "}", ",", ".", "\"", "#", "[[case]]\n", "[[case.push]]\n",
    "[[case.setup]]\n", "[case.expect]\n", "[case.limits]\n", "[settings]\n", "name = \"c\"\n", "ref = \"main\"\n",
    "commits = [\"wip\"]\n", "accept = true\n", "vetoes = [{ summary = \"x\" }]\n", "failure = \"fuel\"\n",
    "summary_regex = \"(\"\n", "push", "expect", "hook", "\"update\"", "date", "-1", "9223372036854775807",
    "files", "{ repeat = \"ab\", times = 9223372036854775807 }", "random_bytes", "true", "false", "1.5", "é",
    "commits = [{ message = \"m\", date = -1 }]\n", "settings = { k = { a = 1 } }\n", "pusher = { name = \"ann\" }\n",
    "commits = [{ raw = \"tree {tree}\\n\" }]\n", "raw", "{tre}", "{hex:", "merge = [\"main\"]",
];

proptest! {
    #[test]
    fn arbitrary_text_never_panics_and_errors_name_the_file(data in vec(any::<u8>(), 0..512)) {
        holds(hookrt::fuzzing::case(&data))?;
    }

    #[test]
    fn case_like_text_never_panics_and_errors_name_the_file(text in token_soup(TOKENS, 40)) {
        holds(hookrt::fuzzing::case(text.as_bytes()))?;
    }

    #[test]
    fn edited_case_files_never_panic_and_errors_name_the_file(file in case_file(), edits in edits()) {
        holds(hookrt::fuzzing::case(&apply(render_file(&file).into_bytes(), &edits)))?;
    }

    /// A valid case file reads back as exactly what it says.
    #[test]
    fn valid_case_files_round_trip(file in case_file()) {
        let text = render_file(&file);
        let parsed = CaseFile::parse(Path::new(PATH), &text).map_err(|err| TestCaseError::fail(format!("{err}\n{text}")))?;
        prop_assert_eq!(parsed, file, "{}", text);
    }
}

/// Content the scratch repository could not build is refused when the file
/// is read, not by a crash when the case runs.
#[test]
fn unbuildable_commits_are_refused_naming_the_file() {
    let files = [
        "date = 9223372036854775807",
        "date = -1",
        "files = { big = { repeat = \"ab\", times = 9223372036854775807 } }",
        "files = { big = { random_bytes = 2000000000 } }",
        // `raw` is the whole commit: the message is in it.
        "raw = \"x\"",
    ];
    for commit in files {
        let text = format!(
            "[[case]]\nname = \"c\"\nexpect = {{ accept = true }}\n[[case.push]]\nref = \"main\"\ncommits = [{{ message = \"m\", {commit} }}]\n"
        );
        let err = CaseFile::parse(Path::new("cases.toml"), &text).expect_err("refused");
        assert!(matches!(err, CaseError::Parse { .. }), "{err}");
        assert!(
            err.to_string().starts_with("cases.toml is not a valid case file: case \"c\": commit \"m\": "),
            "{err}"
        );
    }
}
