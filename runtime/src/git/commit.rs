//! Commits decoded from git objects into hookrt's model, leniently, as git
//! itself reads them: a commit `git log` shows is a commit a policy sees.
//!
//! What cannot be decoded is replaced (an unreadable date is 0, a missing
//! e-mail empty, a missing author the committer) and listed in
//! [`Commit::damage`] with the line as stored, named as `git fsck` names it.
//! Only a commit git cannot walk either (a damaged `tree` or `parent` line)
//! is an error.

use gix::ObjectId;

use super::odb::ReadError;

pub(super) mod header;
mod ident;
mod trailers;

/// An author or committer line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Signature {
    pub name: String,
    pub email: String,
    /// Seconds since the Unix epoch.
    pub time: i64,
    /// Offset from UTC in minutes.
    pub tz_offset_minutes: i32,
}

/// What is wrong with a commit's header, by `git fsck`'s message id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// No `author` line: the committer stands in.
    MissingAuthor,
    /// No `committer` line: the author stands in.
    MissingCommitter,
    /// No `<email>`: the e-mail is empty, a date at the end is still read.
    MissingEmail,
    /// A `<` without its `>`: the e-mail is what follows `<`, the date 0.
    BadEmail,
    /// No date after the e-mail, or not digits: the date is 0.
    BadDate,
    /// A date too large for 64 signed bits: the date is 0.
    BadDateOverflow,
    /// A zone that is not `+hhmm` or `-hhmm`: the zone is UTC.
    BadTimezone,
}

impl Problem {
    /// git fsck's id for it (`fsck.<id>` in git's config).
    pub fn fsck_id(self) -> &'static str {
        match self {
            Problem::MissingAuthor => "missingAuthor",
            Problem::MissingCommitter => "missingCommitter",
            Problem::MissingEmail => "missingEmail",
            Problem::BadEmail => "badEmail",
            Problem::BadDate => "badDate",
            Problem::BadDateOverflow => "badDateOverflow",
            Problem::BadTimezone => "badTimezone",
        }
    }
}

/// One header hookrt had to repair to decode a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// `author` or `committer`.
    pub header: &'static str,
    pub problem: Problem,
    /// The header's value as stored; empty when the header is missing.
    pub raw: Vec<u8>,
}

/// A commit as policies see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub id: ObjectId,
    pub tree: ObjectId,
    pub parents: Vec<ObjectId>,
    pub author: Signature,
    pub committer: Signature,
    /// The message as text, decoded from the commit's `encoding` (UTF-8
    /// when it names none); bytes that do not decode are replaced.
    pub message: String,
    /// The message's bytes as stored, kept only when they are not the
    /// UTF-8 of `message`.
    pub message_raw: Option<Vec<u8>>,
    /// The message's trailers, as `git interpret-trailers --parse` finds them.
    pub trailers: Vec<(String, String)>,
    /// The signature header (`gpgsig`, `gpgsig-sha256`) as stored; not verified.
    pub gpgsig: Option<String>,
    /// The headers not decoded into a field above, in order, name and value.
    pub headers: Vec<(String, String)>,
    /// What could not be decoded and was replaced; empty for a sound commit.
    pub damage: Vec<Damage>,
}

impl Commit {
    /// Decodes the raw commit object `data` with id `id`.
    pub fn decode(id: ObjectId, data: &[u8], hash: gix::hash::Kind) -> Result<Self, ReadError> {
        let head = header::head(data, hash).map_err(|problem| ReadError::MalformedCommit { id, problem })?;
        let (fields, raw_message) = header::fields(data, head.rest);
        // git re-encodes the whole commit, names too, from its `encoding`
        // header; a label it does not know leaves the bytes as UTF-8.
        let encoding = fields
            .iter()
            .find(|f| f.name == b"encoding")
            .and_then(|f| encoding_rs::Encoding::for_label(f.value.trim_ascii()))
            .unwrap_or(encoding_rs::UTF_8);
        let decode = |bytes: &[u8]| encoding.decode_without_bom_handling(bytes).0.into_owned();
        let lossy = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();

        let signature_header = if hash == gix::hash::Kind::Sha1 { &b"gpgsig"[..] } else { b"gpgsig-sha256" };
        let (mut author, mut committer, mut gpgsig) = (None, None, None);
        let mut headers = Vec::new();
        let mut damage = Vec::new();
        for field in &fields {
            let slot = match field.name {
                b"author" if author.is_none() => &mut author,
                b"committer" if committer.is_none() => &mut committer,
                name if name == signature_header && gpgsig.is_none() => {
                    gpgsig = Some(lossy(&field.value));
                    continue;
                }
                name => {
                    headers.push((lossy(name), lossy(&field.value)));
                    continue;
                }
            };
            let (signature, problem) = ident::parse(&field.value, decode);
            let header = if field.name == b"author" { "author" } else { "committer" };
            damage.extend(problem.map(|problem| Damage { header, problem, raw: field.value.to_vec() }));
            *slot = Some(signature);
        }
        let missing = |header, problem| Damage { header, problem, raw: Vec::new() };
        let (author, committer) = match (author, committer) {
            (Some(a), Some(c)) => (a, c),
            (None, Some(c)) => {
                damage.push(missing("author", Problem::MissingAuthor));
                (c.clone(), c)
            }
            (Some(a), None) => {
                damage.push(missing("committer", Problem::MissingCommitter));
                (a.clone(), a)
            }
            (None, None) => {
                damage.push(missing("author", Problem::MissingAuthor));
                damage.push(missing("committer", Problem::MissingCommitter));
                Default::default()
            }
        };

        let message = decode(raw_message);
        let message_raw = (message.as_bytes() != raw_message).then(|| raw_message.to_vec());
        Ok(Commit {
            id,
            tree: head.tree,
            parents: head.parents,
            author,
            committer,
            trailers: trailers::parse(&message),
            message,
            message_raw,
            gpgsig,
            headers,
            damage,
        })
    }

    /// The first line of the message.
    pub fn subject(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

    fn decode(text: &[u8]) -> Commit {
        Commit::decode(ObjectId::null(gix::hash::Kind::Sha1), text, gix::hash::Kind::Sha1).expect("decodes")
    }

    #[test]
    fn a_missing_author_is_the_committer_and_named() {
        let c = decode(format!("tree {TREE}\ncommitter C <c@x> 5 +0000\n\nmsg\n").as_bytes());
        assert_eq!(c.author, c.committer);
        assert_eq!(c.damage, [Damage { header: "author", problem: Problem::MissingAuthor, raw: vec![] }]);
    }

    #[test]
    fn the_encoding_header_decodes_message_and_names() {
        let mut text = format!("tree {TREE}\nauthor Ren\u{e9} <r@x> 5 +0000\ncommitter C <c@x> 5 +0000\n").into_bytes();
        text = String::from_utf8(text).expect("utf-8").replace('\u{e9}', "\u{1}").into_bytes();
        let at = text.iter().position(|&b| b == 1).expect("marker");
        text[at] = 0xe9;
        text.extend_from_slice(b"encoding ISO-8859-1\n\nCaf\xe9\n");
        let c = decode(&text);
        assert_eq!((c.author.name.as_str(), c.message.as_str()), ("Ren\u{e9}", "Caf\u{e9}\n"));
        assert_eq!(c.message_raw.as_deref(), Some(&b"Caf\xe9\n"[..]));
        assert_eq!(c.headers, [("encoding".to_owned(), "ISO-8859-1".to_owned())]);
        assert!(c.damage.is_empty());
    }

    #[test]
    fn a_commit_git_cannot_walk_is_an_error_naming_it() {
        let err = Commit::decode(ObjectId::null(gix::hash::Kind::Sha1), b"author x\n\n", gix::hash::Kind::Sha1)
            .expect_err("no tree");
        assert!(err.to_string().contains("is malformed: it does not start with a tree line"), "{err}");
    }
}
