//! The text of a `raw` commit: a commit object written byte for byte, so a
//! case can hold what git accepts but never writes itself (a bad time zone,
//! an author without an email, a NUL in the message, Latin-1 bytes, extra
//! headers). Placeholders stand for what the text cannot know in advance:
//! the ids of the case's tree and commits, and bytes a TOML string cannot
//! hold.

/// One piece of a raw commit's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Bytes written as they are.
    Bytes(Vec<u8>),
    Placeholder(Placeholder),
}

/// What a placeholder stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placeholder {
    /// `{tree}`: the tree the commit would have (the previous commit's
    /// tree plus the commit's `files`).
    Tree,
    /// `{parent}`: the id of the commit before it.
    Parent,
    /// `{rev:REVISION}`: the id of the commit a revision of the repository
    /// built so far names.
    Rev(String),
}

/// A raw commit's text, split at its placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(pub Vec<Piece>);

/// What the error for a placeholder that is not one says.
const KNOWN: &str = "the placeholders are {tree}, {parent}, {rev:REVISION} and {hex:BYTES}; write {{ for a literal {";

impl Template {
    /// Splits `text` at its placeholders. Only `{` is special (`{{` writes
    /// one), so a `}` needs no escaping; anything else in braces is an
    /// error, since a misspelled `{tre}` written as is would make a commit
    /// the author never meant.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut bytes = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            bytes.extend_from_slice(&rest.as_bytes()[..open]);
            rest = &rest[open + 1..];
            if let Some(after) = rest.strip_prefix('{') {
                bytes.push(b'{');
                rest = after;
                continue;
            }
            let Some(close) = rest.find('}') else {
                return Err(format!("`raw` has a `{{` that no `}}` closes; {KNOWN}"));
            };
            let (name, after) = (&rest[..close], &rest[close + 1..]);
            rest = after;
            let placeholder = match name {
                "tree" => Placeholder::Tree,
                "parent" => Placeholder::Parent,
                _ if name.starts_with("rev:") && name.len() > 4 => Placeholder::Rev(name[4..].to_owned()),
                _ if name.starts_with("hex:") => {
                    bytes.extend(hex(&name[4..]).ok_or_else(|| {
                        format!("`raw`: `{{{name}}}` is not bytes in hex (two digits each, as in {{hex:e9}})")
                    })?);
                    continue;
                }
                _ => return Err(format!("`raw` has an unknown placeholder `{{{name}}}`: {KNOWN}")),
            };
            pieces.push(Piece::Bytes(std::mem::take(&mut bytes)));
            pieces.push(Piece::Placeholder(placeholder));
        }
        bytes.extend_from_slice(rest.as_bytes());
        pieces.push(Piece::Bytes(bytes));
        pieces.retain(|p| p != &Piece::Bytes(Vec::new()));
        Ok(Template(pieces))
    }

    /// Whether the text needs the commit's tree (which takes building).
    pub fn uses_tree(&self) -> bool {
        self.0.contains(&Piece::Placeholder(Placeholder::Tree))
    }

    /// The commit's bytes, each placeholder replaced by what `value` says.
    pub fn expand<E>(&self, mut value: impl FnMut(&Placeholder) -> Result<String, E>) -> Result<Vec<u8>, E> {
        let mut out = Vec::new();
        for piece in &self.0 {
            match piece {
                Piece::Bytes(bytes) => out.extend_from_slice(bytes),
                Piece::Placeholder(placeholder) => out.extend_from_slice(value(placeholder)?.as_bytes()),
            }
        }
        Ok(out)
    }
}

/// The bytes `digits` spell in hex, two digits each.
fn hex(digits: &str) -> Option<Vec<u8>> {
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return None;
    }
    (0..digits.len()).step_by(2).map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_escapes_and_bytes() {
        let t = Template::parse("tree {tree}\nparent {parent}\nparent {rev:main~1}\n\n{{x} caf{hex:e9}\u{0}")
            .expect("parses");
        let out = t
            .expand(|p| {
                Ok::<_, ()>(match p {
                    Placeholder::Tree => "T".into(),
                    Placeholder::Parent => "P".into(),
                    Placeholder::Rev(r) => format!("<{r}>"),
                })
            })
            .expect("expands");
        assert_eq!(out, b"tree T\nparent P\nparent <main~1>\n\n{x} caf\xe9\0");
        assert!(t.uses_tree());
        assert!(!Template::parse("no tree").expect("parses").uses_tree());
    }

    #[test]
    fn what_is_not_a_placeholder_is_refused() {
        for (text, says) in [
            ("tree {tre}", "unknown placeholder `{tre}`"),
            ("tree {rev:}", "unknown placeholder `{rev:}`"),
            ("{hex:e}", "not bytes in hex"),
            ("{hex:zz}", "not bytes in hex"),
            ("tree {tree", "no `}` closes"),
        ] {
            let err = Template::parse(text).expect_err("refused");
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }
}
