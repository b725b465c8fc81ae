//! A message's trailers, found exactly as `git interpret-trailers --parse`
//! finds them (trailer.c): the message ends at a `---` line or at trailing
//! comments; the trailer block is its last paragraph (never the title) when
//! every line of it is a trailer, or when it holds a git-generated one
//! (`Signed-off-by: `, `(cherry picked from commit `) and at least a
//! quarter of its lines are trailers; a line starting with whitespace
//! continues the trailer above it, and values are unfolded and trimmed.
//! Only `:` separates a key from its value (git's default `separators`).

/// git's `isspace`: space, tab, newline and carriage return only.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii() && is_space(c as u8))
}

const GIT_GENERATED: [&str; 2] = ["Signed-off-by: ", "(cherry picked from commit "];
const COMMENT: &str = "#";

/// `(key, value)` for each trailer of `message`, in order.
pub fn parse(message: &str) -> Vec<(String, String)> {
    // git reads the message as a C string: a NUL ends it. And it completes
    // the last line (`strbuf_complete_line`), which decides whether a final
    // `Conflicts:` starts an old conflicts block.
    let message = message.split('\0').next().unwrap_or_default();
    let completed;
    let message = if message.is_empty() || message.ends_with('\n') {
        message
    } else {
        completed = format!("{message}\n");
        &completed
    };
    let end = end_of_log_message(message);
    let start = trailer_block_start(message, end);
    let mut trailers: Vec<String> = Vec::new();
    let mut last_is_trailer = false;
    for line in lines(&message[start..end]) {
        if last_is_trailer && line.bytes().next().is_some_and(is_space) {
            trailers.last_mut().expect("a trailer before it").push_str(line);
            continue;
        }
        last_is_trailer = separator(line).is_some_and(|at| at >= 1);
        trailers.push(line.to_owned());
    }
    trailers
        .iter()
        .filter(|t| !t.starts_with(COMMENT))
        .filter_map(|t| {
            let at = separator(t).filter(|&at| at >= 1)?;
            Some((trim(&t[..at]).to_owned(), unfold(&t[at + 1..])))
        })
        .collect()
}

/// The lines of `text`, each with its `\n` (as `strbuf_split_buf` keeps it).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive('\n')
}

/// Where `<token><optional whitespace>:` puts its `:` in `line`, if it is
/// shaped so (git's `find_separator`; 0 when the line starts with `:`).
fn separator(line: &str) -> Option<usize> {
    let mut whitespace = false;
    for (i, b) in line.bytes().enumerate() {
        if b == b':' {
            return Some(i);
        }
        if !whitespace && (b.is_ascii_alphanumeric() || b == b'-') {
            continue;
        }
        if i != 0 && (b == b' ' || b == b'\t') {
            whitespace = true;
            continue;
        }
        break;
    }
    None
}

fn is_blank(line: &str) -> bool {
    line.bytes().all(is_space)
}

/// The start of the last line of `text[..len]` (git's `last_line`): a
/// final `\n` belongs to the last line.
fn last_line(text: &str, len: usize) -> Option<usize> {
    match len {
        0 => None,
        1 => Some(0),
        _ => Some(text.as_bytes()[..len - 1].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)),
    }
}

/// git's `find_end_of_log_message`: before a `---` divider line, then
/// without trailing comments, blank lines, a scissors cut and an old
/// `Conflicts:` block.
fn end_of_log_message(message: &str) -> usize {
    let mut end = message.len();
    let mut at = 0;
    for line in lines(message) {
        if line.strip_prefix("---").is_some_and(|v| v.bytes().next().is_some_and(is_space)) {
            end = at;
            break;
        }
        at += line.len();
    }
    end - ignored_bytes(&message[..end])
}

/// git's `ignored_log_message_bytes`.
fn ignored_bytes(text: &str) -> usize {
    let cutoff = scissors(text).unwrap_or(text.len());
    let (mut start_of_comments, mut in_conflicts, mut at) = (None, false, 0);
    for line in lines(&text[..cutoff]) {
        if line.starts_with(COMMENT) || line.starts_with('\n') {
            start_of_comments.get_or_insert(at);
        } else if line.starts_with("Conflicts:\n") {
            in_conflicts = true;
            start_of_comments.get_or_insert(at);
        } else if in_conflicts && line.starts_with('\t') {
            // a path of the old conflicts block
        } else {
            start_of_comments = None;
            in_conflicts = false;
        }
        at += line.len();
    }
    text.len() - start_of_comments.unwrap_or(cutoff)
}

/// Where `git commit -v`'s cut line starts (`wt_status_locate_end`).
fn scissors(text: &str) -> Option<usize> {
    const CUT: &str = "# ------------------------ >8 ------------------------\n";
    if text.starts_with(CUT) {
        return Some(0);
    }
    text.find(&format!("\n{CUT}")).map(|i| i + 1)
}

/// git's `find_trailer_block_start`: `len` when there is no trailer block.
fn trailer_block_start(text: &str, len: usize) -> usize {
    // The first paragraph is the title and cannot be trailers.
    let mut end_of_title = 0;
    for line in lines(&text[..len]) {
        if !line.starts_with(COMMENT) && is_blank(line) {
            break;
        }
        end_of_title += line.len();
    }
    let (mut only_spaces, mut recognized) = (true, false);
    let (mut trailer_lines, mut non_trailer_lines, mut continuations) = (0usize, 0usize, 0usize);
    let mut cursor = last_line(text, len);
    while let Some(bol) = cursor.filter(|&l| l >= end_of_title) {
        cursor = last_line(text, bol);
        let line = text[bol..len].split_inclusive('\n').next().unwrap_or_default();
        if line.starts_with(COMMENT) {
            non_trailer_lines += continuations;
            continuations = 0;
            continue;
        }
        if is_blank(line) {
            if only_spaces {
                continue;
            }
            non_trailer_lines += continuations;
            if (recognized && trailer_lines * 3 >= non_trailer_lines) || (trailer_lines > 0 && non_trailer_lines == 0) {
                return bol + line.len();
            }
            return len;
        }
        only_spaces = false;
        if GIT_GENERATED.iter().any(|p| line.starts_with(p)) {
            trailer_lines += 1;
            continuations = 0;
            recognized = true;
        } else if separator(line).is_some_and(|at| at >= 1) && !line.bytes().next().is_some_and(is_space) {
            trailer_lines += 1;
            continuations = 0;
        } else if line.bytes().next().is_some_and(is_space) {
            continuations += 1;
        } else {
            non_trailer_lines += 1 + continuations;
            continuations = 0;
        }
    }
    len
}

/// git's `unfold_value`: each line break and the whitespace after it
/// become one space, then the value is trimmed.
fn unfold(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            while chars.peek().is_some_and(|&c| c.is_ascii() && is_space(c as u8)) {
                chars.next();
            }
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    trim(&out).to_owned()
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn keys(message: &str) -> Vec<(String, String)> {
        parse(message)
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn the_last_paragraph_is_the_block_and_the_title_never_is() {
        assert_eq!(keys("Fix: it\n"), []);
        assert_eq!(keys("Fix\n\nSigned-off-by: A <a@x>\n"), [pair("Signed-off-by", "A <a@x>")]);
        assert_eq!(keys("Fix\n\nSigned-off-by: A\n\nmore text\n"), []);
    }

    #[test]
    fn a_divider_ends_the_message() {
        let m = "Fix\n\nSigned-off-by: A <a@x>\n---\nnotes: here\n\nmore\n";
        assert_eq!(keys(m), [pair("Signed-off-by", "A <a@x>")]);
    }

    #[test]
    fn a_git_generated_trailer_lets_a_quarter_suffice() {
        let m = "Fix\n\nsome words\nmore words\n(cherry picked from commit abc)\nSigned-off-by: A\n";
        assert_eq!(keys(m), [pair("Signed-off-by", "A")]);
        let m = "Fix\n\nsome words\nmore words\nKey: v\n";
        assert_eq!(keys(m), []);
    }

    #[test]
    fn continuations_unfold_and_keys_are_trimmed() {
        let m = "Fix\n\nReviewed-by : A\n  and B\nCo-authored-by: C\r\n";
        assert_eq!(keys(m), [pair("Reviewed-by", "A and B"), pair("Co-authored-by", "C")]);
    }

    #[test]
    fn trailing_comments_and_a_scissors_cut_are_ignored() {
        let m =
            "Fix\n\nSigned-off-by: A\n# a comment\n# ------------------------ >8 ------------------------\nKey: x\n";
        assert_eq!(keys(m), [pair("Signed-off-by", "A")]);
    }
}
