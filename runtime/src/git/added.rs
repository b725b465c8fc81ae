//! The lines a change adds, as `git diff --histogram` shows them (its `+`
//! lines): a content policy reads what a commit changed, not whole files.

use std::time::Instant;

use gix::ObjectId;
use imara_diff::intern::InternedInput;
use imara_diff::{Algorithm, diff, sources};

use super::{LookupError, Repo};

/// What a change added to a blob: the shape the contract hands over, so
/// nothing is copied line by line twice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Added {
    /// The added lines as stored, each without its `\n`, joined with `\n`.
    pub text: Vec<u8>,
    /// Each added line's number in the new blob, from 1.
    pub numbers: Vec<u32>,
    /// Either blob was longer than what was read: the lines past the read
    /// part of the new blob are not listed, and a line the old blob has
    /// after its read part may be listed as added.
    pub truncated: bool,
    /// The new blob looks binary (a NUL in its first 8000 bytes, git's
    /// test): no lines are listed, as `git diff` lists none.
    pub binary: bool,
    /// How many bytes of the new blob were read.
    pub read: u64,
}

impl Repo {
    /// The lines `new` adds to `old` (to nothing, for an added file),
    /// reading at most `max` bytes of each, in the new blob's order.
    pub fn added_lines(
        &self,
        old: Option<ObjectId>,
        new: ObjectId,
        max: usize,
        deadline: Option<Instant>,
    ) -> Result<Added, LookupError> {
        let new = self.content(new, max, deadline)?;
        if new.looks_binary {
            return Ok(Added {
                truncated: new.truncated(),
                binary: true,
                read: new.data().len() as u64,
                ..Added::default()
            });
        }
        let old = old.map(|old| self.content(old, max, deadline)).transpose()?;
        let old_data = old.as_ref().map_or(&[][..], |old| old.data());
        let mut new_data = new.data();
        if new.truncated() {
            // A line cut off by the read is not a line the change adds.
            let whole = new_data.iter().rposition(|&b| b == b'\n').map_or(0, |end| end + 1);
            new_data = &new_data[..whole];
        }
        // Lines with their terminators, as git compares them: a last line
        // that gains its newline is a changed line.
        let input = InternedInput::new(
            sources::byte_lines_with_terminator(old_data),
            sources::byte_lines_with_terminator(new_data),
        );
        let mut ranges = Vec::new();
        diff(Algorithm::Histogram, &input, |_: std::ops::Range<u32>, after: std::ops::Range<u32>| ranges.push(after));
        let (mut text, mut numbers) = (Vec::new(), Vec::new());
        for index in ranges.into_iter().flatten() {
            let line = input.interner[input.after[index as usize]];
            if !numbers.is_empty() {
                text.push(b'\n');
            }
            text.extend_from_slice(line.strip_suffix(b"\n").unwrap_or(line));
            numbers.push(index + 1);
        }
        let truncated = new.truncated() || old.is_some_and(|old| old.truncated());
        Ok(Added { text, numbers, truncated, binary: false, read: new.data().len() as u64 })
    }
}
