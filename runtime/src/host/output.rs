//! `hookrt:policy/output`: lines and warnings for the pusher.

use super::HostState;
use super::bindings::{output, types};
use crate::verdict::Veto;

/// The lines and warnings one policy wrote, within one byte budget so a
/// policy cannot make hookrt (or the pusher's terminal) hold unbounded text.
#[derive(Debug, Default)]
pub struct Output {
    pub lines: Vec<String>,
    pub warnings: Vec<Veto>,
    /// Bytes still allowed.
    budget: usize,
    /// Whether lines were dropped.
    pub truncated: bool,
    /// Warnings past the budget: counted, not kept.
    pub warnings_dropped: usize,
}

impl Output {
    pub fn new(budget: usize) -> Self {
        Output { budget, ..Output::default() }
    }

    /// Adds `text`, one entry per line, as far as the budget allows.
    pub fn push(&mut self, text: &str) {
        for line in text.split('\n') {
            let line = line.trim_end_matches('\r');
            if self.truncated || line.len() > self.budget {
                self.truncated = true;
                return;
            }
            self.budget -= line.len();
            self.lines.push(line.to_owned());
        }
    }

    /// Keeps `warning` if the budget allows, counts it otherwise.
    pub fn warn(&mut self, warning: Veto) {
        let size = warning.summary.len() + warning.detail.len() + warning.ref_name.len();
        if size > self.budget {
            self.warnings_dropped += 1;
            return;
        }
        self.budget -= size;
        self.warnings.push(warning);
    }
}

impl output::Host for HostState {
    fn write_line(&mut self, line: String) -> wasmtime::Result<()> {
        self.output.push(&line);
        Ok(())
    }

    fn warn(&mut self, warning: types::Warning) -> wasmtime::Result<()> {
        self.output.warn(warning.into());
        Ok(())
    }
}
