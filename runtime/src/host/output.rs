//! `hookrt:policy/output`: lines and warnings for the pusher.

use super::HostState;
use super::bindings::{output, types};
use crate::verdict::{Veto, cut_copy};

/// The most of one line that is kept, in bytes; the rest is cut with a note.
const LINE_MAX: usize = 4 << 10;

/// The lines and warnings one policy wrote, within one byte budget so a
/// policy cannot make hookrt (or the pusher's terminal) hold unbounded text.
/// (A single string the guest passes is copied out of its memory whole
/// first; wasmtime caps that at its hostcall fuel, 128 MiB.)
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

    /// Adds `text`, one entry per line, as far as the budget allows. A line
    /// longer than [`LINE_MAX`] is cut, with a note.
    pub fn push(&mut self, text: &str) {
        for line in text.split('\n') {
            let line = line.trim_end_matches('\r');
            // Each line costs its newline too, so a flood of empty lines
            // runs out of budget like any other.
            let cost = line.len().min(LINE_MAX) + 1;
            if self.truncated || cost > self.budget {
                self.truncated = true;
                return;
            }
            self.budget -= cost;
            self.lines.push(cut_copy(line, LINE_MAX));
        }
    }

    /// Keeps `warning` if the budget allows, counts it otherwise.
    pub fn warn(&mut self, warning: Veto) {
        let size = warning.summary.len() + warning.detail.len() + warning.ref_name.len() + 1;
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
