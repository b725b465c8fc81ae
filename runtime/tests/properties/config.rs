//! `hookrt.toml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hookrt::HookKind;
use hookrt::policy::{
    AuditSection, ConfigError, ConfigFile, Mode, ModuleSource, OnFailure, PolicyConfig, PushSection, SettingValue,
};
use proptest::option::of;
use proptest::prelude::*;
use toml::{Table, Value};

use super::{apply, edits, holds, text, token_soup};

const DIR: &str = "/srv/git/project.git/hookrt/policies";

/// A TOML integer hookrt reads as a positive count.
fn positive() -> impl Strategy<Value = u64> {
    prop_oneof![1..100_000u64, 1..=i64::MAX as u64]
}

fn path() -> impl Strategy<Value = PathBuf> {
    prop_oneof![
        4 => "[a-z0-9_-]{1,8}(/[a-z0-9_.-]{1,8}){0,2}\\.wasm",
        1 => "/opt/[a-z]{1,8}\\.wasm",
    ]
    .prop_map(PathBuf::from)
}

pub(super) fn setting() -> impl Strategy<Value = SettingValue> {
    prop_oneof![
        text().prop_map(SettingValue::String),
        any::<i64>().prop_map(SettingValue::Integer),
        // TOML has no NaN that compares equal, and infinities aside any
        // float prints and reads back exactly.
        (-1e300f64..1e300).prop_map(SettingValue::Float),
        any::<bool>().prop_map(SettingValue::Boolean),
        proptest::collection::vec(text(), 0..4).prop_map(SettingValue::Strings),
    ]
}

fn policy() -> impl Strategy<Value = (PolicyConfig, BTreeMap<String, SettingValue>)> {
    let hook = proptest::sample::select(HookKind::SERVER.to_vec());
    let mode = proptest::sample::select(vec![Mode::Enforce, Mode::Evaluate, Mode::Disabled]);
    let on_failure = proptest::sample::select(vec![OnFailure::Reject, OnFailure::Allow]);
    let strings = || of(proptest::collection::vec(text(), 0..3));
    let keys = (of(path()), of(hook), of(mode), of(on_failure), of(any::<bool>()), strings(), strings(), strings());
    let limits = (of(positive()), of(1..=4096u32), of(positive()), of(0..=4u64 << 20), of(1..=u32::MAX));
    let settings = proptest::collection::btree_map(text(), setting(), 0..4);
    let hook_keys = (of(any::<bool>()), of(any::<bool>()));
    (keys, limits, settings, hook_keys).prop_map(
        |((module, hook, mode, on_failure, mandatory, refs, exclude_refs, bypass), limits, settings, hook_keys)| {
            let (fuel, memory_mib, timeout_ms, blob_read_kib, changes_max) = limits;
            // Only the hooks they apply to take these (others are refused).
            let pushes = hook_keys.0.filter(|_| hook == Some(HookKind::ReferenceTransaction));
            let commit_msg =
                hook_keys.1.filter(|_| matches!(hook, None | Some(HookKind::PreReceive | HookKind::Update)));
            let config = PolicyConfig {
                module: module.map(ModuleSource::File),
                hook,
                mode,
                on_failure,
                mandatory,
                refs,
                exclude_refs,
                bypass,
                fuel,
                memory_mib,
                timeout_ms,
                blob_read_kib,
                changes_max,
                pushes,
                commit_msg,
                settings: None,
            };
            (config, settings)
        },
    )
}

/// What a generated `hookrt.toml` says.
#[derive(Debug, Clone)]
struct Model {
    push: PushSection,
    audit: AuditSection,
    policies: BTreeMap<String, (PolicyConfig, BTreeMap<String, SettingValue>)>,
}

fn model() -> impl Strategy<Value = Model> {
    let push = of(positive()).prop_map(|budget_ms| PushSection { budget_ms });
    let audit = (of(any::<bool>()), of(path()), of(positive()), of(any::<u32>()))
        .prop_map(|(enabled, path, max_mib, keep)| AuditSection { enabled, path, max_mib, keep });
    (push, audit, proptest::collection::btree_map(text(), policy(), 0..4)).prop_map(|(push, audit, policies)| Model {
        push,
        audit,
        policies,
    })
}

fn int(n: impl Into<u64>) -> Value {
    Value::Integer(i64::try_from(n.into()).expect("generated within TOML's range"))
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::String).collect())
}

fn path_value(path: &Path) -> Value {
    Value::String(path.to_str().expect("generated paths are UTF-8").to_owned())
}

pub(super) fn setting_value(value: &SettingValue) -> Value {
    match value {
        SettingValue::String(s) => Value::String(s.clone()),
        SettingValue::Integer(n) => Value::Integer(*n),
        SettingValue::Float(x) => Value::Float(*x),
        SettingValue::Boolean(b) => Value::Boolean(*b),
        SettingValue::Strings(items) => strings(items),
    }
}

impl Model {
    /// The file as TOML's own writer spells it.
    fn render(&self) -> String {
        let mut file = Table::new();
        let mut push = Table::new();
        push.extend(self.push.budget_ms.map(|ms| ("budget_ms".to_owned(), int(ms))));
        file.insert("push".into(), Value::Table(push));
        let audit = &self.audit;
        let audit = [
            ("enabled", audit.enabled.map(Value::Boolean)),
            ("path", audit.path.as_deref().map(path_value)),
            ("max_mib", audit.max_mib.map(int)),
            ("keep", audit.keep.map(int)),
        ];
        file.insert("audit".into(), Value::Table(set_keys(audit)));
        let mut policies = Table::new();
        for (name, (config, settings)) in &self.policies {
            let keys = [
                ("module", config.module.as_ref().map(|m| path_value(m.path()))),
                ("hook", config.hook.map(|h| Value::String(h.as_str().into()))),
                ("mode", config.mode.map(|m| Value::String(m.as_str().into()))),
                ("on_failure", config.on_failure.map(|f| Value::String(on_failure_name(f).into()))),
                ("mandatory", config.mandatory.map(Value::Boolean)),
                ("refs", config.refs.as_deref().map(strings)),
                ("exclude_refs", config.exclude_refs.as_deref().map(strings)),
                ("bypass", config.bypass.as_deref().map(strings)),
                ("fuel", config.fuel.map(int)),
                ("memory_mib", config.memory_mib.map(int)),
                ("timeout_ms", config.timeout_ms.map(int)),
                ("blob_read_kib", config.blob_read_kib.map(int)),
                ("changes_max", config.changes_max.map(int)),
                ("pushes", config.pushes.map(Value::Boolean)),
                ("commit_msg", config.commit_msg.map(Value::Boolean)),
            ];
            let mut entry = set_keys(keys);
            if !settings.is_empty() {
                let settings = settings.iter().map(|(k, v)| (k.clone(), setting_value(v))).collect();
                entry.insert("settings".into(), Value::Table(settings));
            }
            policies.insert(name.clone(), Value::Table(entry));
        }
        file.insert("policy".into(), Value::Table(policies));
        toml::to_string(&file).expect("a table renders")
    }
}

fn set_keys<const N: usize>(keys: [(&str, Option<Value>); N]) -> Table {
    keys.into_iter().filter_map(|(key, value)| Some((key.to_owned(), value?))).collect()
}

fn on_failure_name(on_failure: OnFailure) -> &'static str {
    match on_failure {
        OnFailure::Reject => "reject",
        OnFailure::Allow => "allow",
    }
}

/// Words of `hookrt.toml`, right and wrong.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "\n", "\n", " ", "=", " = ", "[", "]", "[[", "]]", "{", "}", ",", ".", "\"", "'", "#", "[push]\n", "[audit]\n",
    "[policy.a]\n", "[policy.\"b c\"]\n", "[policy.a.settings]\n", "policy", "settings", "budget_ms", "fuel",
    "memory_mib", "timeout_ms", "blob_read_kib", "changes_max", "mode", "hook", "on_failure", "refs", "bypass", "module",
    "mandatory", "enabled", "path", "keep", "max_mib", "0", "1", "4097", "-1", "99999999999999999999", "1.5",
    "true", "\"enforce\"", "\"update\"", "\"x.wasm\"", "[\"refs/heads/*\"]", "1979-05-27", "{ a = 1 }", "é",
];

/// Whole lines of `hookrt.toml`, right and wrong: a soup of these parses as
/// TOML often enough to reach hookrt's own checks.
#[rustfmt::skip]
const LINES: &[&str] = &[
    "\n", "# comment\n", "[push]\n", "[audit]\n", "[policy.a]\n", "[policy.\"b c\"]\n", "[policy.a.settings]\n",
    "[policy.b]\n", "fuel = 0\n", "fuel = 7\n", "memory_mib = 4097\n", "memory_mib = 64\n", "timeout_ms = 0\n",
    "blob_read_kib = 4194305\n", "changes_max = 0\n", "budget_ms = 0\n", "budget_ms = 5\n", "settings = { k = [1] }\n",
    "settings.k = { a = 1 }\n", "settings.d = 1979-05-27\n", "settings.s = \"x\"\n", "k = [\"a\", 1]\n",
    "mode = \"evaluate\"\n", "hook = \"post-receive\"\n", "hook = \"pre-push\"\n", "path = \"audit.log\"\n",
    "module = \"x.wasm\"\n", "enabled = true\n", "refs = [\"refs/heads/*\"]\n", "fule = 1\n",
    "[push]\nbudget_ms = 0\n",
];

proptest! {
    #[test]
    fn arbitrary_text_never_panics_and_errors_are_placed(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        holds(hookrt::fuzzing::config(&data))?;
    }

    #[test]
    fn config_like_text_never_panics_and_errors_are_placed(text in prop_oneof![token_soup(TOKENS, 40), token_soup(LINES, 8)]) {
        holds(hookrt::fuzzing::config(text.as_bytes()))?;
    }

    #[test]
    fn edited_configs_never_panic_and_errors_are_placed(model in model(), edits in edits()) {
        holds(hookrt::fuzzing::config(&apply(model.render().into_bytes(), &edits)))?;
    }

    /// A valid file reads back as exactly what it says, paths made relative
    /// to its directory.
    #[test]
    fn valid_configs_round_trip(model in model()) {
        let text = model.render();
        let path = Path::new(DIR).join("hookrt.toml");
        let file = ConfigFile::parse(&path, &text).map_err(|err| TestCaseError::fail(format!("{err}\n{text}")))?;
        prop_assert_eq!(&file.push, &model.push);
        let audit = AuditSection { path: model.audit.path.as_ref().map(|p| Path::new(DIR).join(p)), ..model.audit.clone() };
        prop_assert_eq!(&file.audit, &audit);
        prop_assert_eq!(file.policies.keys().collect::<Vec<_>>(), model.policies.keys().collect::<Vec<_>>());
        let line_count = text.lines().count();
        for (name, entry) in &file.policies {
            let (config, settings) = &model.policies[name];
            let config = PolicyConfig { module: config.module.clone().map(|m| m.resolved(Path::new(DIR))), ..config.clone() };
            prop_assert_eq!(&entry.config, &config, "policy {:?} of\n{}", name, text);
            let values: BTreeMap<_, _> = entry.settings.iter().map(|(k, s)| (k.clone(), s.value.clone())).collect();
            prop_assert_eq!(&values, settings, "policy {:?} of\n{}", name, text);
            prop_assert!(entry.origin.file == path && (1..=line_count).contains(&entry.origin.line), "{:?}", entry.origin);
            for setting in entry.settings.values() {
                let line = setting.origin.line;
                prop_assert!(setting.origin.file == path && (entry.origin.line..=line_count).contains(&line), "{:?}", setting.origin);
            }
        }
    }

    /// A value no policy can run under is refused at its line.
    #[test]
    fn an_impossible_limit_is_an_error_at_its_policy(model in model(), which in 0..6usize) {
        prop_assume!(!model.policies.is_empty());
        let mut model = model;
        let (name, (config, _)) = model.policies.iter_mut().next().expect("a policy");
        match which {
            0 => config.fuel = Some(0),
            1 => config.memory_mib = Some(0),
            2 => config.memory_mib = Some(4097),
            3 => config.timeout_ms = Some(0),
            4 => config.changes_max = Some(0),
            _ => config.blob_read_kib = Some((4 << 20) + 1),
        }
        let name = name.clone();
        let text = model.render();
        let err = ConfigFile::parse(&Path::new(DIR).join("hookrt.toml"), &text).expect_err("refused");
        let ConfigError::Invalid { origin, message } = &err else {
            return Err(TestCaseError::fail(format!("not a refused value: {err}")));
        };
        prop_assert!(message.starts_with(&format!("policy `{name}`: ")), "{}", err);
        let header = text.lines().nth(origin.line - 1).unwrap_or_default();
        prop_assert!(header.starts_with("[policy."), "line {} of\n{}\nis not the entry's header", origin.line, text);
    }
}

proptest! {
    /// A setting TOML can hold but a policy cannot read (a table, a date, a
    /// list of other than strings) is refused at its line.
    #[test]
    fn a_setting_of_another_kind_is_an_error_at_its_line(model in model(), key in text(), bad in 0..3usize) {
        prop_assume!(!model.policies.is_empty());
        let (value, kind) = match bad {
            0 => (Value::Table(Table::from_iter([("a".to_owned(), Value::Integer(1))])), "a table"),
            1 => (Value::Datetime("1979-05-27".parse().expect("a date")), "a date"),
            _ => (Value::Array(vec![Value::Integer(1)]), "a list holding something other than strings"),
        };
        let mut file: Table = toml::from_str(&model.render()).expect("the model renders valid TOML");
        let policies = file.get_mut("policy").and_then(Value::as_table_mut).expect("a policy table");
        let (name, entry) = policies.iter_mut().next().expect("a policy");
        let name = name.clone();
        let entry = entry.as_table_mut().expect("an entry");
        let settings = entry.entry("settings").or_insert_with(|| Value::Table(Table::new()));
        settings.as_table_mut().expect("a settings table").insert(key.clone(), value);
        let text = toml::to_string(&file).expect("renders");
        let err = ConfigFile::parse(&Path::new(DIR).join("hookrt.toml"), &text).expect_err("refused");
        let expected = format!("policy `{name}`: setting `{key}` is {kind}; ");
        prop_assert!(matches!(&err, ConfigError::Invalid { message, .. } if message.starts_with(&expected)), "{}", err);
        holds(hookrt::fuzzing::config(text.as_bytes()))?;
    }
}

#[test]
fn a_zero_budget_is_an_error_at_its_line() {
    let err = ConfigFile::parse(Path::new("hookrt.toml"), "# budget\n[push]\n\nbudget_ms = 0\n").expect_err("refused");
    assert!(err.to_string().starts_with("hookrt.toml:4: [push] `budget_ms` must be more than 0"), "{err}");
}

/// TOML nested deeper than any stack: refused, not a crash.
#[test]
fn deep_nesting_is_an_error() {
    let deep = 100_000;
    let texts = [
        format!("a = {}", "[".repeat(deep)),
        format!("a = {}", "{b=".repeat(deep)),
        format!("a{} = 1", ".a".repeat(deep)),
    ];
    for text in texts {
        holds(hookrt::fuzzing::config(text.as_bytes())).expect("placed");
        assert!(ConfigFile::parse(Path::new("hookrt.toml"), &text).is_err());
    }
}
