//! Properties of hookrt's parsers, on generated input (issue 7, "Bad input"):
//! the hook's standard input and arguments, `hookrt.toml` and test-case
//! files. For any input none panics and every error says where the input is
//! wrong; generated valid input reads back as exactly what was generated.
//!
//! Commit trailers are checked against git itself (`properties/trailers.rs`).
//!
//! The any-input checks are `hookrt::fuzzing`'s, the same the fuzz targets
//! in `fuzz/` run, so these tests keep those targets compiling and honest.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

#[path = "properties/case.rs"]
mod case;
#[path = "properties/config.rs"]
mod config;
#[path = "properties/push.rs"]
mod push;
#[path = "properties/trailers.rs"]
mod trailers;

/// A `hookrt::fuzzing` check as a property's outcome.
fn holds(check: Result<(), hookrt::fuzzing::Broken>) -> Result<(), TestCaseError> {
    check.map_err(|broken| TestCaseError::fail(broken.to_string()))
}

/// One small change to an input, as a fuzzer would make it.
#[derive(Debug, Clone)]
enum Edit {
    Insert(Index, u8),
    Replace(Index, u8),
    Delete(Index),
}

/// A byte, often one that means something to the parsers.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![any::<u8>(), proptest::sample::select(b" \t\n\r=[]{}\"'.,#-0fz\xff".to_vec()),]
}

/// A handful of edits, applied in order by [`apply`].
fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (any::<Index>(), interesting_byte()).prop_map(|(at, b)| Edit::Insert(at, b)),
        (any::<Index>(), interesting_byte()).prop_map(|(at, b)| Edit::Replace(at, b)),
        any::<Index>().prop_map(Edit::Delete),
    ];
    proptest::collection::vec(edit, 1..6)
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        match edit {
            Edit::Insert(at, byte) => {
                let at = at.index(bytes.len() + 1);
                bytes.insert(at, *byte);
            }
            Edit::Replace(at, byte) if !bytes.is_empty() => {
                let at = at.index(bytes.len());
                bytes[at] = *byte;
            }
            Edit::Delete(at) if !bytes.is_empty() => {
                bytes.remove(at.index(bytes.len()));
            }
            Edit::Replace(..) | Edit::Delete(_) => {}
        }
    }
    bytes
}

/// Text made of `tokens`, so arbitrary input still looks enough like the
/// format to reach past the first syntax error.
fn token_soup(tokens: &'static [&'static str], most: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(tokens), 0..=most).prop_map(|parts| parts.concat())
}

/// Any string, control characters and non-ASCII included: TOML must quote
/// and escape it, and hookrt must read back the same.
fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("(?s).{0,12}").expect("a valid regex")
}
