//! The hook's standard input (`<old> <new> <ref>` lines) and the update
//! hook's arguments.

use gix::ObjectId;
use hookrt::RefUpdate;
use hookrt::push::{LineProblem, ParseError, parse_ref_updates};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use super::{apply, edits, holds};

/// A hex id of `len` digits; now and then all zeros (a create or delete).
fn id(len: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("0".repeat(len)),
        6 => proptest::collection::vec(0..16u32, len)
            .prop_map(|digits| digits.into_iter().filter_map(|d| char::from_digit(d, 16)).collect()),
    ]
}

/// A ref name component git's check-ref-format accepts: no control
/// characters, none of ` ~^:?*[\`, not starting with `.`, no `..` or `@{`,
/// not ending in `.lock`. Non-ASCII is allowed.
fn component() -> impl Strategy<Value = String> {
    r#"[A-Za-z0-9_+=,;!#$%&'()<>|"{}@é€-][A-Za-z0-9_+=,;!#$%&'()<>|"{}@é€.-]{0,12}"#
        .prop_filter("a component check-ref-format refuses", |c| {
            !c.contains("..") && !c.contains("@{") && !c.ends_with(".lock")
        })
}

/// A full ref name git's check-ref-format accepts (besides the components'
/// rules: not ending in `.`).
fn ref_name() -> impl Strategy<Value = String> {
    let namespace = prop_oneof![Just("heads".to_owned()), Just("tags".to_owned()), "[a-z]{1,8}", "pull/[0-9]{1,4}"];
    (namespace, proptest::collection::vec(component(), 1..4))
        .prop_map(|(namespace, parts)| format!("refs/{namespace}/{}", parts.join("/")))
        .prop_filter("a name ending in a dot", |name| !name.ends_with('.'))
}

/// One update's three values as git writes them, ids of `len` digits.
fn update_fields(len: usize) -> impl Strategy<Value = (String, String, String)> {
    (id(len), id(len), ref_name()).prop_filter("two null ids", |(old, new, _)| {
        !(old.bytes().all(|b| b == b'0') && new.bytes().all(|b| b == b'0'))
    })
}

/// What git would send for one push: its updates, all SHA-1 or all
/// SHA-256.
fn push_fields() -> impl Strategy<Value = Vec<(String, String, String)>> {
    prop_oneof![Just(40), Just(64)].prop_flat_map(push_fields_of)
}

fn push_fields_of(len: usize) -> impl Strategy<Value = Vec<(String, String, String)>> {
    proptest::collection::vec(update_fields(len), 1..8)
}

fn lines(fields: &[(String, String, String)]) -> Vec<String> {
    fields.iter().map(|(old, new, name)| format!("{old} {new} {name}")).collect()
}

fn expected(fields: &[(String, String, String)]) -> Vec<RefUpdate> {
    let id = |hex: &str| ObjectId::from_hex(hex.as_bytes()).expect("a generated id is valid");
    fields.iter().map(|(old, new, name)| RefUpdate { name: name.clone(), old: id(old), new: id(new) }).collect()
}

/// What can go wrong with one line, and a check of the problem reported.
#[derive(Debug, Clone)]
enum Corruption {
    /// An id of a length that is neither SHA-1's nor SHA-256's.
    IdLength(usize),
    /// A character that is not a hex digit inside an id.
    NotHex(Index, char),
    MissingField(Index),
    ExtraField(String),
    CarriageReturn,
    /// A tab or two spaces where git writes one space.
    Separator(&'static str),
    /// The other hash's length for one of the line's ids.
    OtherHash(bool),
}

fn corruption() -> impl Strategy<Value = Corruption> {
    prop_oneof![
        (0..100usize).prop_filter("a hash's length", |n| *n != 40 && *n != 64).prop_map(Corruption::IdLength),
        (any::<Index>(), "[g-zG-Z!@/\\x00-\\x09\\x0b\\x0c\\x0e-\\x1f\u{e9}]")
            .prop_map(|(at, c)| { Corruption::NotHex(at, c.chars().next().expect("one character")) }),
        any::<Index>().prop_map(Corruption::MissingField),
        "[a-z0-9/]{1,10}".prop_map(Corruption::ExtraField),
        Just(Corruption::CarriageReturn),
        proptest::sample::select(vec!["\t", "  "]).prop_map(Corruption::Separator),
        any::<bool>().prop_map(Corruption::OtherHash),
    ]
}

impl Corruption {
    fn apply(&self, (old, new, name): &(String, String, String)) -> String {
        match self {
            Corruption::IdLength(len) => format!("{} {new} {name}", "a".repeat(*len)),
            Corruption::NotHex(at, c) => {
                let mut chars: Vec<char> = new.chars().collect();
                let at = at.index(chars.len());
                chars[at] = *c;
                format!("{old} {} {name}", chars.into_iter().collect::<String>())
            }
            Corruption::MissingField(at) => {
                let mut fields = vec![old.as_str(), new.as_str(), name.as_str()];
                fields.remove(at.index(3));
                fields.join(" ")
            }
            Corruption::ExtraField(extra) => format!("{old} {new} {name} {extra}"),
            Corruption::CarriageReturn => format!("{old} {new} {name}\r"),
            Corruption::Separator(sep) => format!("{old}{sep}{new} {name}"),
            Corruption::OtherHash(in_old) => {
                let other = if old.len() == 40 { "b".repeat(64) } else { "b".repeat(40) };
                if *in_old { format!("{other} {new} {name}") } else { format!("{old} {other} {name}") }
            }
        }
    }

    /// Whether `problem` is the one this corruption should cause.
    fn explains(&self, problem: &LineProblem) -> bool {
        matches!(
            (self, problem),
            (Corruption::CarriageReturn, LineProblem::CarriageReturn { .. })
                | (
                    Corruption::MissingField(_) | Corruption::ExtraField(_) | Corruption::Separator(_),
                    LineProblem::Fields { .. }
                )
                | (
                    Corruption::IdLength(_) | Corruption::NotHex(..),
                    LineProblem::Update(ParseError::BadObjectId { .. })
                )
                | (Corruption::OtherHash(_), LineProblem::Update(ParseError::MixedHashes(_)))
        )
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_errors_name_a_line(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        holds(hookrt::fuzzing::push_lines(&data))?;
    }

    #[test]
    fn edited_git_input_never_panics_and_errors_name_a_line(fields in push_fields(), edits in edits()) {
        let input = lines(&fields).join("\n") + "\n";
        holds(hookrt::fuzzing::push_lines(&apply(input.into_bytes(), &edits)))?;
    }

    /// Git's input reads back as exactly its updates, in order, with or
    /// without a newline after the last line and around empty lines.
    #[test]
    fn git_input_round_trips(fields in push_fields(), final_newline in any::<bool>(), blank in any::<Index>()) {
        for (_, _, name) in &fields {
            // The generator's names are legal to git's rules as gitoxide
            // implements them, or this test proves nothing about real pushes.
            prop_assert!(gix::refs::FullName::try_from(name.as_str()).is_ok(), "{name:?} is not a legal ref name");
        }
        let mut lines = lines(&fields);
        lines.insert(blank.index(lines.len() + 1), String::new());
        let input = lines.join("\n") + if final_newline { "\n" } else { "" };
        let parsed = parse_ref_updates(input.as_bytes()).map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(parsed, expected(&fields));
    }

    /// One bad line in git's input is an error that names that line (an
    /// empty line before it counts), for the reason it is bad.
    #[test]
    fn a_bad_line_is_an_error_naming_it(fields in push_fields(), bad in any::<Index>(), how in corruption()) {
        let mut lines = lines(&fields);
        let k = bad.index(lines.len());
        lines[k] = how.apply(&fields[k]);
        lines.insert(0, String::new());
        let input = lines.join("\n") + "\n";
        let err = parse_ref_updates(input.as_bytes()).expect_err("a bad line is an error");
        prop_assert_eq!(err.line, k + 2, "{}", err);
        prop_assert!(err.to_string().starts_with(&format!("line {} of the hook's standard input: ", k + 2)), "{}", err);
        prop_assert!(how.explains(&err.problem), "{:?} reported as {:?}", how, err.problem);
    }

    /// A SHA-256 line after SHA-1 ones (or the other way round) is an
    /// error naming the first line that differs.
    #[test]
    fn mixing_hashes_across_lines_is_an_error_naming_the_line(
        (first, second) in prop_oneof![Just((40, 64)), Just((64, 40))]
            .prop_flat_map(|(a, b)| (push_fields_of(a), push_fields_of(b))),
    ) {
        let input = lines(&first).join("\n") + "\n" + &lines(&second).join("\n");
        let err = parse_ref_updates(input.as_bytes()).expect_err("mixed hashes are an error");
        prop_assert_eq!(err.line, first.len() + 1, "{}", err);
        let is_mixed = matches!(
            err.problem,
            LineProblem::MixedHashes { first_line: 1, expected, found } if expected == first[0].0.len() && found == second[0].0.len()
        );
        prop_assert!(is_mixed, "{}", err);
    }

    /// The update hook's arguments are the same three values.
    #[test]
    fn update_hook_arguments_round_trip(fields in push_fields()) {
        let (old, new, name) = &fields[0];
        let update = RefUpdate::parse(name, old, new).map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(&update, &expected(&fields[..1])[0]);
        let other = if old.len() == 40 { "c".repeat(64) } else { "c".repeat(40) };
        let err = RefUpdate::parse(name, old, &other).expect_err("mixed hashes are an error");
        prop_assert!(matches!(err, ParseError::MixedHashes(ref n) if n == name), "{}", err);
    }
}

/// The ref name generator agrees with git itself, not only with gitoxide.
#[test]
fn generated_ref_names_pass_git_check_ref_format() {
    let mut runner = TestRunner::deterministic();
    for _ in 0..48 {
        let name = ref_name().new_tree(&mut runner).expect("a name").current();
        let status = std::process::Command::new("git")
            .args(["check-ref-format", &name])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .status()
            .expect("git runs");
        assert!(status.success(), "git check-ref-format refuses {name:?}");
    }
}
