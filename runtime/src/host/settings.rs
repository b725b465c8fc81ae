//! `hookrt:policy/settings`: the policy's settings table, read-only.

use super::HostState;
use super::bindings::settings;
use super::bindings::types::SettingValue;
use crate::policy;

impl settings::Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<SettingValue>> {
        Ok(self.settings.get(&key).map(|value| match value.clone() {
            policy::SettingValue::String(s) => SettingValue::String(s),
            policy::SettingValue::Integer(n) => SettingValue::Integer(n),
            policy::SettingValue::Float(x) => SettingValue::Float(x),
            policy::SettingValue::Boolean(b) => SettingValue::Boolean(b),
            policy::SettingValue::Strings(list) => SettingValue::Strings(list),
        }))
    }

    fn keys(&mut self) -> wasmtime::Result<Vec<String>> {
        Ok(self.settings.values.keys().cloned().collect())
    }
}
