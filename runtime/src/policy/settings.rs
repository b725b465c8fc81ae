//! A policy's settings: the `settings` table of its entry, each value with
//! the file and line it came from, so a validator's complaint about a key
//! can point the admin at the line to change.

use std::collections::BTreeMap;

pub use crate::verdict::{Origin, SettingProblem};

/// One setting's value; TOML's other kinds are refused when the file loads.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Strings(Vec<String>),
}

impl SettingValue {
    /// The value for a TOML value, or what kind it is when there is none.
    pub(crate) fn from_toml(value: toml::Value) -> Result<Self, &'static str> {
        Ok(match value {
            toml::Value::String(s) => SettingValue::String(s),
            toml::Value::Integer(n) => SettingValue::Integer(n),
            toml::Value::Float(x) => SettingValue::Float(x),
            toml::Value::Boolean(b) => SettingValue::Boolean(b),
            toml::Value::Array(items) => SettingValue::Strings(
                items
                    .into_iter()
                    .map(|item| match item {
                        toml::Value::String(s) => Ok(s),
                        _ => Err("a list holding something other than strings"),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Table(_) => return Err("a table"),
            toml::Value::Datetime(_) => return Err("a date"),
        })
    }
}

/// One key's value and where it was set.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub value: SettingValue,
    pub origin: Origin,
}

/// Every setting of one policy, with where its entry is (for problems that
/// belong to no single key, such as a missing one).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub values: BTreeMap<String, Setting>,
    pub origin: Origin,
}

impl Settings {
    /// No settings, for a policy defined at `origin`.
    pub fn empty(origin: Origin) -> Self {
        Settings { values: BTreeMap::new(), origin }
    }

    pub fn get(&self, key: &str) -> Option<&SettingValue> {
        self.values.get(key).map(|s| &s.value)
    }

    /// A validator's complaint about `key`, placed at the key's line (or the
    /// entry's, for a key that is not set).
    pub fn problem(&self, key: Option<String>, message: String) -> SettingProblem {
        let origin = key.as_deref().and_then(|k| self.values.get(k)).map_or(&self.origin, |s| &s.origin).clone();
        SettingProblem { origin, key, message }
    }
}
