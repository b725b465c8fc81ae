//! `hookrt:policy/output`: lines for the pusher.

use super::HostState;
use super::bindings::output;

/// The lines one policy wrote, within a byte budget so a policy cannot make
/// hookrt (or the pusher's terminal) hold unbounded text.
#[derive(Debug, Default)]
pub struct Output {
    pub lines: Vec<String>,
    /// Bytes still allowed.
    budget: usize,
    /// Whether anything was dropped.
    pub truncated: bool,
}

impl Output {
    pub fn new(budget: usize) -> Self {
        Output { lines: Vec::new(), budget, truncated: false }
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
}

impl output::Host for HostState {
    fn write_line(&mut self, line: String) -> wasmtime::Result<()> {
        self.output.push(&line);
        Ok(())
    }
}
