//! The admin's settings for this policy (the `settings` table of its entry
//! in `hookrt.toml`), read with types.
//!
//! ```ignore
//! use hookrt_guest::settings::{self, FromSettings, Reader};
//! use hookrt_guest::SettingError;
//!
//! struct Settings { projects: Vec<String>, max_bytes: u64 }
//!
//! impl FromSettings for Settings {
//!     fn from_settings() -> Result<Self, Vec<SettingError>> {
//!         let mut s = Reader::new();
//!         let projects: Vec<String> = s.required("projects");
//!         let max_bytes = s.or("max-bytes", 1 << 20);
//!         if projects.is_empty() {
//!             s.error("projects", "list at least one project key, e.g. [\"PROJ\"]");
//!         }
//!         s.finish(Settings { projects, max_bytes })
//!     }
//! }
//! ```

use crate::bindings::hookrt::policy::settings as host;
pub use crate::bindings::hookrt::policy::types::{SettingError, SettingValue};

/// A Rust type a setting can be read as.
pub trait FromSetting: Sized {
    /// What the admin should write, for error messages: "a string".
    const EXPECTED: &'static str;
    fn from_setting(value: SettingValue) -> Option<Self>;
}

impl FromSetting for String {
    const EXPECTED: &'static str = "a string";
    fn from_setting(value: SettingValue) -> Option<Self> {
        match value {
            SettingValue::String(s) => Some(s),
            _ => None,
        }
    }
}

impl FromSetting for bool {
    const EXPECTED: &'static str = "true or false";
    fn from_setting(value: SettingValue) -> Option<Self> {
        match value {
            SettingValue::Boolean(b) => Some(b),
            _ => None,
        }
    }
}

impl FromSetting for i64 {
    const EXPECTED: &'static str = "a whole number";
    fn from_setting(value: SettingValue) -> Option<Self> {
        match value {
            SettingValue::Integer(n) => Some(n),
            _ => None,
        }
    }
}

impl FromSetting for u64 {
    const EXPECTED: &'static str = "a whole number, 0 or more";
    fn from_setting(value: SettingValue) -> Option<Self> {
        match value {
            SettingValue::Integer(n) => u64::try_from(n).ok(),
            _ => None,
        }
    }
}

impl FromSetting for f64 {
    const EXPECTED: &'static str = "a number";
    fn from_setting(value: SettingValue) -> Option<Self> {
        match value {
            SettingValue::Integer(n) => Some(n as f64),
            SettingValue::Float(x) => Some(x),
            _ => None,
        }
    }
}

impl FromSetting for Vec<String> {
    const EXPECTED: &'static str = "a list of strings, e.g. [\"a\", \"b\"]";
    fn from_setting(value: SettingValue) -> Option<Self> {
        match value {
            SettingValue::Strings(list) => Some(list),
            _ => None,
        }
    }
}

impl SettingError {
    /// An error about `key`.
    pub fn new(key: &str, message: impl Into<String>) -> Self {
        SettingError { key: Some(key.to_owned()), message: message.into() }
    }
}

/// The value of `key`, or an error saying it is missing or of the wrong
/// type. For a required setting.
pub fn required<T: FromSetting>(key: &str) -> Result<T, SettingError> {
    optional(key)?.ok_or_else(|| SettingError::new(key, format!("missing: set `{key}` to {}", T::EXPECTED)))
}

/// The value of `key`, none if it is not set, an error if it is of the
/// wrong type.
pub fn optional<T: FromSetting>(key: &str) -> Result<Option<T>, SettingError> {
    match host::get(key) {
        None => Ok(None),
        Some(value) => {
            let found = kind(&value);
            T::from_setting(value)
                .map(Some)
                .ok_or_else(|| SettingError::new(key, format!("must be {}, not {found}", T::EXPECTED)))
        }
    }
}

/// The value of `key`, `default` if it is not set.
pub fn or<T: FromSetting>(key: &str, default: T) -> Result<T, SettingError> {
    Ok(optional(key)?.unwrap_or(default))
}

/// Every key the admin set.
pub fn keys() -> Vec<String> {
    host::keys()
}

fn kind(value: &SettingValue) -> &'static str {
    match value {
        SettingValue::String(_) => "a string",
        SettingValue::Integer(n) if *n < 0 => "a negative number",
        SettingValue::Integer(_) => "a whole number",
        SettingValue::Float(_) => "a fractional number",
        SettingValue::Boolean(_) => "a boolean",
        SettingValue::Strings(_) => "a list of strings",
    }
}

/// Reads several settings and gathers every problem, so the admin sees them
/// all at once. [`Reader::finish`] also reports keys the policy never read:
/// a typo in `hookrt.toml` does not go unnoticed.
#[derive(Debug, Default)]
pub struct Reader {
    read: Vec<String>,
    errors: Vec<SettingError>,
}

impl Reader {
    pub fn new() -> Self {
        Self::default()
    }

    /// A required setting; on error, records it and returns `T::default()`.
    pub fn required<T: FromSetting + Default>(&mut self, key: &str) -> T {
        self.read.push(key.to_owned());
        required(key).unwrap_or_else(|e| {
            self.errors.push(e);
            T::default()
        })
    }

    /// An optional setting; a wrong type is recorded and gives none.
    pub fn optional<T: FromSetting>(&mut self, key: &str) -> Option<T> {
        self.read.push(key.to_owned());
        optional(key).unwrap_or_else(|e| {
            self.errors.push(e);
            None
        })
    }

    /// A setting with a default; a wrong type is recorded and gives the
    /// default.
    pub fn or<T: FromSetting>(&mut self, key: &str, default: T) -> T {
        self.optional(key).unwrap_or(default)
    }

    /// Records a problem found by the policy's own checks.
    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        self.errors.push(SettingError::new(key, message));
    }

    /// `value` if nothing was wrong and every key set was read; otherwise
    /// every problem.
    pub fn finish<T>(mut self, value: T) -> Result<T, Vec<SettingError>> {
        for key in keys() {
            if !self.read.contains(&key) {
                let known = if self.read.is_empty() { "none".to_owned() } else { self.read.join(", ") };
                self.errors.push(SettingError::new(
                    &key,
                    format!("this policy has no setting `{key}` (it reads: {known}); remove it or fix its name"),
                ));
            }
        }
        if self.errors.is_empty() { Ok(value) } else { Err(self.errors) }
    }
}

/// A policy's settings as one typed value: read and checked by
/// `validate-settings` when the admin runs `hookrt check`, and again before
/// each `check`.
pub trait FromSettings: Sized {
    fn from_settings() -> Result<Self, Vec<SettingError>>;
}

/// A policy that takes no settings: any key set is an error.
impl FromSettings for () {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        Reader::new().finish(())
    }
}
