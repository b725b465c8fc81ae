//! Author and committer lines, split as git's `split_ident_line` splits
//! them, with what cannot be decoded replaced rather than refused.

use super::{Problem, Signature};

/// `Name <email> <seconds> <+hhmm>`, decoded with `decode` (the commit's
/// encoding). Returns what was wrong with it, if anything: the first
/// problem, as `git fsck` would name it.
pub fn parse(value: &[u8], decode: impl Fn(&[u8]) -> String) -> (Signature, Option<Problem>) {
    let name_of = |bytes: &[u8]| decode(bytes.trim_ascii());
    let Some(lt) = value.iter().position(|&b| b == b'<') else {
        // No e-mail: whatever looks like a date at the end is still one.
        let (person, date) = split_trailing_date(value);
        let (time, tz_offset_minutes, _) = date_and_zone(date);
        return (
            Signature { name: name_of(person), email: String::new(), time, tz_offset_minutes },
            Some(Problem::MissingEmail),
        );
    };
    let name = name_of(&value[..lt]);
    let Some(gt) = value[lt..].iter().position(|&b| b == b'>').map(|i| lt + i) else {
        let email = decode(value[lt + 1..].trim_ascii());
        return (Signature { name, email, time: 0, tz_offset_minutes: 0 }, Some(Problem::BadEmail));
    };
    let email = decode(&value[lt + 1..gt]);
    // git looks for the date after the *last* `>`, which forgives a stray
    // `>` inside the address.
    let last_gt = value.iter().rposition(|&b| b == b'>').unwrap_or(gt);
    let (time, tz_offset_minutes, problem) = date_and_zone(&value[last_gt + 1..]);
    (Signature { name, email, time, tz_offset_minutes }, problem)
}

/// Seconds and zone from ` <seconds> <+hhmm>`: an unreadable date is 0 and
/// an unreadable zone is UTC, each with its problem.
fn date_and_zone(text: &[u8]) -> (i64, i32, Option<Problem>) {
    let text = text.trim_ascii_start();
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return (0, 0, Some(Problem::BadDate));
    }
    let Some(time) = ascii(&text[..digits]).parse::<u64>().ok().and_then(|t| i64::try_from(t).ok()) else {
        return (0, 0, Some(Problem::BadDateOverflow));
    };
    let zone = text[digits..].trim_ascii();
    match zone {
        [sign @ (b'+' | b'-'), h1, h2, m1, m2] if [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()) => {
            let minutes = i32::from((h1 - b'0') * 10 + (h2 - b'0')) * 60 + i32::from((m1 - b'0') * 10 + (m2 - b'0'));
            (time, if *sign == b'-' { -minutes } else { minutes }, None)
        }
        _ => (time, 0, Some(Problem::BadTimezone)),
    }
}

/// `person 1700000000 +0000` → (`person`, ` 1700000000 +0000`), when the
/// line ends in a date and zone; otherwise all of it is the person.
fn split_trailing_date(value: &[u8]) -> (&[u8], &[u8]) {
    let words: Vec<usize> = value
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b' ' && value.get(i + 1).is_some_and(|&n| n != b' '))
        .map(|(i, _)| i)
        .collect();
    if let [.., date, zone] = words[..] {
        let is_date = value[date + 1..zone].iter().all(u8::is_ascii_digit);
        let is_zone = matches!(value.get(zone + 1), Some(b'+' | b'-'));
        if is_date && is_zone && date + 1 < zone {
            return (&value[..date], &value[date..]);
        }
    }
    (value, &[])
}

fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(line: &str) -> (Signature, Option<Problem>) {
        parse(line.as_bytes(), |b| String::from_utf8_lossy(b).into_owned())
    }

    #[test]
    fn a_well_formed_line_has_no_problem() {
        let (s, problem) = sig("A U Thor <a@example.com> 1700000000 -0130");
        assert_eq!(
            (s.name.as_str(), s.email.as_str(), s.time, s.tz_offset_minutes),
            ("A U Thor", "a@example.com", 1700000000, -90)
        );
        assert_eq!(problem, None);
    }

    #[test]
    fn each_kind_of_damage_is_replaced_and_named() {
        let (s, p) = sig("A <a@x> 1700000000 +99999");
        assert_eq!((s.time, s.tz_offset_minutes, p), (1700000000, 0, Some(Problem::BadTimezone)));
        let (s, p) = sig("A <a@x> 1700000000 -0a00");
        assert_eq!((s.time, s.tz_offset_minutes, p), (1700000000, 0, Some(Problem::BadTimezone)));
        let (s, p) = sig("Someone 1700000000 +0100");
        assert_eq!((s.name.as_str(), s.email.as_str(), s.time, s.tz_offset_minutes), ("Someone", "", 1700000000, 60));
        assert_eq!(p, Some(Problem::MissingEmail));
        let (s, p) = sig("Just A Name");
        assert_eq!((s.name.as_str(), s.time, p), ("Just A Name", 0, Some(Problem::MissingEmail)));
        let (s, p) = sig("A <a@x 1700000000 +0000");
        assert_eq!((s.email.as_str(), s.time, p), ("a@x 1700000000 +0000", 0, Some(Problem::BadEmail)));
        let (s, p) = sig("A <a@x> 99999999999999999999999 +0000");
        assert_eq!((s.time, p), (0, Some(Problem::BadDateOverflow)));
        let (s, p) = sig("A <a@x> yesterday");
        assert_eq!((s.name.as_str(), s.time, p), ("A", 0, Some(Problem::BadDate)));
        let (s, p) = sig("A <a@x> 5 +0000 >trailing");
        assert_eq!((s.email.as_str(), p), ("a@x", Some(Problem::BadDate)));
    }
}
