//! Commits decoded from git objects into hookrt's model.

use gix::ObjectId;
use gix::bstr::ByteSlice;

use super::odb::ReadError;

/// An author or committer line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub name: String,
    pub email: String,
    /// Seconds since the Unix epoch.
    pub time: i64,
    /// Offset from UTC in minutes.
    pub tz_offset_minutes: i32,
}

/// A commit as policies see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub id: ObjectId,
    pub tree: ObjectId,
    pub parents: Vec<ObjectId>,
    pub author: Signature,
    pub committer: Signature,
    /// The message as text; bytes that are not UTF-8 are replaced.
    pub message: String,
    /// The message's bytes, kept only when they are not valid UTF-8.
    pub message_raw: Option<Vec<u8>>,
    /// `Key: value` lines of the message's last paragraph, in order.
    pub trailers: Vec<(String, String)>,
    /// The `gpgsig` header as stored (not verified).
    pub gpgsig: Option<String>,
}

impl Commit {
    /// Decodes the raw commit object `data` with id `id`.
    pub fn decode(id: ObjectId, data: &[u8], hash: gix::hash::Kind) -> Result<Self, ReadError> {
        let corrupt = |e: &dyn std::fmt::Display| ReadError::Corrupt { id, message: e.to_string() };
        let commit = gix::objs::CommitRef::from_bytes(data, hash).map_err(|e| corrupt(&e))?;
        let signature = |s: gix::actor::SignatureRef<'_>| {
            // Git accepts commits with malformed dates; so do we, as time 0.
            let time = s.time().unwrap_or_default();
            Signature {
                name: s.name.to_str_lossy().into_owned(),
                email: s.email.to_str_lossy().into_owned(),
                time: time.seconds,
                tz_offset_minutes: time.offset / 60,
            }
        };
        let raw_message: &[u8] = commit.message.as_ref();
        let (message, message_raw) = match std::str::from_utf8(raw_message) {
            Ok(text) => (text.to_owned(), None),
            Err(_) => (raw_message.to_str_lossy().into_owned(), Some(raw_message.to_vec())),
        };
        let trailers = commit
            .message()
            .body()
            .map(|body| {
                body.trailers()
                    .map(|t| (t.token.to_str_lossy().into_owned(), t.value.to_str_lossy().into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Commit {
            id,
            tree: commit.tree(),
            parents: commit.parents().collect(),
            trailers,
            gpgsig: commit.extra_headers().pgp_signature().map(|s| s.to_str_lossy().into_owned()),
            author: signature(commit.author().map_err(|e| corrupt(&e))?),
            committer: signature(commit.committer().map_err(|e| corrupt(&e))?),
            message,
            message_raw,
        })
    }

    /// The first line of the message.
    pub fn subject(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }
}
