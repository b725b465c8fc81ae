//! Where in the configuration a problem is: the file and line an admin
//! changes. Settings problems are part of a policy's outcome (a validator's
//! complaints fail it closed), so they live with the outcome model;
//! `policy` fills them in.

use std::fmt;
use std::path::PathBuf;

/// Where something in the configuration was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    /// 1-based; 0 when the thing has no line (a `.wasm` dropped in with no
    /// entry).
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}", self.file.display()),
            line => write!(f, "{}:{line}", self.file.display()),
        }
    }
}

/// A problem a policy's validator found, placed in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingProblem {
    pub origin: Origin,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for SettingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "{}: setting `{key}`: {}", self.origin, self.message),
            None => write!(f, "{}: settings: {}", self.origin, self.message),
        }
    }
}
