//! A commit object's header, read the way git reads it rather than the way
//! git writes it: receive-pack does not fsck by default, so pushes carry
//! commits git's own tools would never make, and `git log` still shows them.
//!
//! Only the `tree` line and the `parent` lines right after it must be well
//! formed (git's `parse_commit_buffer` refuses the commit otherwise, and no
//! walk can go past it); every other header is taken as it comes.

use gix::ObjectId;

/// Why a commit cannot be read at all.
pub type Unreadable = String;

/// The part of a commit git needs to walk history: its tree, its parents,
/// and where the rest of the header starts.
#[derive(Debug)]
pub struct Head {
    pub tree: ObjectId,
    pub parents: Vec<ObjectId>,
    /// The offset of the first header after the `parent` lines.
    pub rest: usize,
}

/// Reads `tree <id>` and the `parent <id>` lines right after it, as
/// `parse_commit_buffer` in git's commit.c does: a `parent` line anywhere
/// else is just another header to git, and so it is here.
pub fn head(data: &[u8], hash: gix::hash::Kind) -> Result<Head, Unreadable> {
    let hex = hash.len_in_hex();
    let tree = id_line(data, b"tree ", hex).ok_or_else(|| {
        if data.starts_with(b"tree ") {
            format!("its tree line is not `tree <{hex} hex digits>`")
        } else {
            "it does not start with a tree line".to_owned()
        }
    })?;
    // git also wants more than the tree line: "tree <id>\n" alone is bogus.
    if data.len() <= 5 + hex + 1 {
        return Err("it has nothing but a tree line".to_owned());
    }
    let mut at = 5 + hex + 1;
    let mut parents = Vec::new();
    while data[at..].starts_with(b"parent ") {
        let parent = id_line(&data[at..], b"parent ", hex)
            .ok_or_else(|| format!("parent line {} is not `parent <{hex} hex digits>`", parents.len() + 1))?;
        parents.push(parent);
        at += 7 + hex + 1;
    }
    Ok(Head { tree, parents, rest: at })
}

/// `<prefix><hex id>\n` at the start of `line`.
fn id_line(line: &[u8], prefix: &[u8], hex: usize) -> Option<ObjectId> {
    let digits = line.strip_prefix(prefix)?.get(..hex + 1)?;
    if digits[hex] != b'\n' || !digits[..hex].iter().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    ObjectId::from_hex(&digits[..hex]).ok()
}

/// The committer date the walk orders commits by, read as git's
/// `parse_commit_date` reads it: from a `committer` line right after the
/// `author` line right after the parents, 0 when the header is not shaped
/// so. Ordering malformed commits exactly as `git rev-list` does keeps the
/// walk's order git's.
pub fn walk_date(data: &[u8], head: &Head) -> i64 {
    let rest = &data[head.rest..];
    if !rest.starts_with(b"author") {
        return 0;
    }
    let Some(end) = rest.iter().position(|&b| b == b'\n') else { return 0 };
    let line = &rest[end + 1..];
    if !line.starts_with(b"committer") {
        return 0;
    }
    let Some(eol) = line.iter().position(|&b| b == b'\n') else { return 0 };
    let line = &line[..eol];
    let Some(gt) = line.iter().rposition(|&b| b == b'>') else { return 0 };
    let digits = line[gt + 1..].trim_ascii_start();
    let digits = &digits[..digits.iter().take_while(|b| b.is_ascii_digit()).count()];
    // git's parse_timestamp saturates; a date past i64 sorts as the newest.
    std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse::<u64>().ok())
        .map_or(if digits.is_empty() { 0 } else { i64::MAX }, |d| i64::try_from(d).unwrap_or(i64::MAX))
}

/// One header: its name and value, a value continued on following lines
/// that start with a space (`gpgsig`, `mergetag`) joined with `\n`.
pub struct Field<'a> {
    pub name: &'a [u8],
    pub value: std::borrow::Cow<'a, [u8]>,
}

/// The headers from `at` on, and the message after the blank line (empty
/// when there is none: headers-only commits exist, and git shows them).
pub fn fields(data: &[u8], at: usize) -> (Vec<Field<'_>>, &[u8]) {
    let mut fields: Vec<Field<'_>> = Vec::new();
    let mut rest = &data[at..];
    loop {
        if rest.is_empty() {
            return (fields, rest);
        }
        let end = rest.iter().position(|&b| b == b'\n');
        let line = &rest[..end.unwrap_or(rest.len())];
        rest = end.map_or(&[][..], |end| &rest[end + 1..]);
        if line.is_empty() {
            return (fields, rest);
        }
        if let (Some(continued), Some(last)) = (line.strip_prefix(b" "), fields.last_mut()) {
            let value = last.value.to_mut();
            value.push(b'\n');
            value.extend_from_slice(continued);
            continue;
        }
        let (name, value) = match line.iter().position(|&b| b == b' ') {
            Some(space) => (&line[..space], &line[space + 1..]),
            None => (line, &[][..]),
        };
        fields.push(Field { name, value: value.into() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

    fn sha1(text: &str) -> Result<Head, Unreadable> {
        head(text.as_bytes(), gix::hash::Kind::Sha1)
    }

    #[test]
    fn only_the_tree_and_the_parents_after_it_must_be_well_formed() {
        let text = format!("tree {TREE}\nparent {TREE}\nauthor x\nparent nonsense\n\nmsg");
        let head = sha1(&text).expect("readable");
        assert_eq!(head.parents.len(), 1);
        let (fields, message) = fields(text.as_bytes(), head.rest);
        assert_eq!(fields.iter().map(|f| f.name).collect::<Vec<_>>(), [&b"author"[..], b"parent"]);
        assert_eq!(message, b"msg");
        assert!(
            sha1(&format!("tree {TREE}\nparent {}\n\n", &TREE[1..])).expect_err("unreadable").contains("parent line 1")
        );
        assert!(sha1("author x\n\n").expect_err("unreadable").contains("tree line"));
        assert!(sha1(&format!("tree {}\n\n", TREE.replace('4', "g"))).expect_err("unreadable").contains("hex"));
        assert!(sha1(&format!("tree {TREE}\n")).is_err());
    }

    #[test]
    fn continuation_lines_join_and_a_missing_blank_line_is_an_empty_message() {
        let text = format!("tree {TREE}\ngpgsig -----BEGIN\n line\n -----END\nx-extra\n");
        let head = sha1(&text).expect("readable");
        let (fields, message) = fields(text.as_bytes(), head.rest);
        assert_eq!(&*fields[0].value, b"-----BEGIN\nline\n-----END");
        assert_eq!((fields[1].name, &*fields[1].value), (&b"x-extra"[..], &b""[..]));
        assert!(message.is_empty());
    }

    #[test]
    fn the_walk_date_is_read_where_git_reads_it() {
        let date = |text: &str| walk_date(text.as_bytes(), &sha1(text).expect("readable"));
        assert_eq!(date(&format!("tree {TREE}\nauthor a <a> 5 +0000\ncommitter c <c> 7 +0000\n\n")), 7);
        assert_eq!(date(&format!("tree {TREE}\ncommitter c <c> 7 +0000\n\n")), 0);
        assert_eq!(date(&format!("tree {TREE}\nauthor a\ncommitter c <c> 99999999999999999999 +0000\n\n")), i64::MAX);
        assert_eq!(date(&format!("tree {TREE}\nauthor a\ncommitter c <c> x\n\n")), 0);
    }
}
