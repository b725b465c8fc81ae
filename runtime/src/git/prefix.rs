//! The first bytes of a large blob, without decoding it whole.
//!
//! gix decodes an object whole: a 1 MiB read of a 100 MiB blob would cost
//! 100 MiB of hookrt's memory (twice that for a delta: base and result).
//! Here the object is found on disk and inflated as a stream, stopping once
//! the bytes asked for are there. A delta is resolved backwards: reading its
//! instructions (themselves streamed) says which stretches of its base make
//! up the bytes asked for, then those stretches are read from the base, and
//! so on down the chain to an object stored whole, which is streamed up to
//! the last byte needed. Memory stays proportional to what is read, not to
//! the blob; the time is at most one pass over each object of the chain.

use std::io::{BufRead, BufReader};
use std::time::Instant;

use gix::ObjectId;
use gix::zlib::Decompress;

use super::packs::{Locator, MAX_DEPTH, Stored};

/// How much is inflated at a time.
const CHUNK: usize = 64 << 10;

/// One stretch of the result: `len` bytes at `at` in the output, to be
/// taken from offset `from` of the object at the current level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Piece {
    from: u64,
    len: usize,
    at: usize,
}

impl Locator {
    /// The first `want` bytes of the object `id` (a blob whose size is more
    /// than `want`), or `None` when it is not found on disk this way (gix
    /// can still read it whole).
    pub(super) fn read_prefix(
        &self,
        id: ObjectId,
        want: usize,
        deadline: Option<Instant>,
    ) -> Result<Option<Vec<u8>>, String> {
        let Some(mut stored) = self.locate(&id) else { return Ok(None) };
        let mut out = vec![0; want];
        let mut pieces = vec![Piece { from: 0, len: want, at: 0 }];
        for _ in 0..MAX_DEPTH {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err("the deadline passed while reading it".into());
            }
            let (mut stream, base) = match &stored {
                Stored::Loose(path) => {
                    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
                    let mut stream = Inflated::new(Box::new(BufReader::with_capacity(CHUNK, file)));
                    skip_loose_header(&mut stream)?;
                    (stream, None)
                }
                Stored::Packed { pack, entry } => {
                    let end = pack.pack_end() as u64;
                    let data = pack.entry_slice(entry.data_offset..end).ok_or("the pack is truncated")?;
                    let base = self.base(pack, entry)?;
                    (Inflated::new(Box::new(data)), base)
                }
            };
            match base {
                None => {
                    copy_pieces(&mut stream, &mut pieces, &mut out)?;
                    return Ok(Some(out));
                }
                Some(base) => {
                    pieces = resolve_delta(&mut stream, &mut pieces, &mut out)?;
                    drop(stream);
                    if pieces.is_empty() {
                        return Ok(Some(out));
                    }
                    stored = base;
                }
            }
        }
        Err(format!("its delta chain is deeper than {MAX_DEPTH}"))
    }
}

/// A zlib stream, inflated a chunk at a time and read byte by byte or a
/// chunk at a time.
struct Inflated<'a> {
    input: Box<dyn BufRead + 'a>,
    state: Decompress,
    buf: Vec<u8>,
    /// The next byte of `buf` to read.
    pos: usize,
    /// Where `buf` starts in the inflated stream.
    offset: u64,
    /// Where the object's content starts in the stream (after a loose
    /// object's header).
    origin: u64,
}

impl<'a> Inflated<'a> {
    fn new(input: Box<dyn BufRead + 'a>) -> Self {
        Inflated { input, state: Decompress::new(), buf: Vec::new(), pos: 0, offset: 0, origin: 0 }
    }

    /// Inflates the next chunk once `buf` is read; false at the end.
    fn fill(&mut self) -> Result<bool, String> {
        if self.pos == self.buf.len() {
            self.offset += self.buf.len() as u64;
            self.buf.resize(CHUNK, 0);
            let n = gix::zlib::stream::inflate::read(&mut self.input, &mut self.state, &mut self.buf)
                .map_err(|e| e.to_string())?;
            self.buf.truncate(n);
            self.pos = 0;
        }
        Ok(self.pos < self.buf.len())
    }

    fn byte(&mut self) -> Result<u8, String> {
        if !self.fill()? {
            return Err("the object ends early".into());
        }
        self.pos += 1;
        Ok(self.buf[self.pos - 1])
    }

    /// What is left of the current chunk (the next one if it is read), and
    /// where it starts in the object's content.
    fn chunk(&mut self) -> Result<(u64, &[u8]), String> {
        if !self.fill()? {
            return Err("the object ends early".into());
        }
        let start = self.offset + self.pos as u64 - self.origin;
        let rest = &self.buf[self.pos..];
        self.pos = self.buf.len();
        Ok((start, rest))
    }

    fn varint(&mut self) -> Result<u64, String> {
        super::packs::varint(|| self.byte())
    }
}

/// Reads past a loose object's `<kind> <size>\0` header.
fn skip_loose_header(stream: &mut Inflated<'_>) -> Result<(), String> {
    for _ in 0..64 {
        if stream.byte()? == 0 {
            stream.origin = stream.offset + stream.pos as u64;
            return Ok(());
        }
    }
    Err("the loose object's header is malformed".into())
}

/// Streams the object to the end of the last piece, copying each piece's
/// bytes to its place in `out`.
fn copy_pieces(stream: &mut Inflated<'_>, pieces: &mut [Piece], out: &mut [u8]) -> Result<(), String> {
    pieces.sort_unstable();
    let end = pieces.iter().map(|p| p.from + p.len as u64).max().unwrap_or(0);
    let (mut next, mut active): (usize, Vec<Piece>) = (0, Vec::new());
    let mut read = 0;
    while read < end {
        let (start, chunk) = stream.chunk()?;
        let stop = start + chunk.len() as u64;
        while next < pieces.len() && pieces[next].from < stop {
            active.push(pieces[next]);
            next += 1;
        }
        for piece in &active {
            let (from, to) = (piece.from.max(start), (piece.from + piece.len as u64).min(stop));
            if from < to {
                let at = piece.at + (from - piece.from) as usize;
                out[at..at + (to - from) as usize]
                    .copy_from_slice(&chunk[(from - start) as usize..(to - start) as usize]);
            }
        }
        active.retain(|p| p.from + p.len as u64 > stop);
        read = stop;
    }
    Ok(())
}

/// Reads a delta's instructions up to the end of the last piece: literal
/// bytes go straight to `out`, copies become pieces of the base.
fn resolve_delta(stream: &mut Inflated<'_>, pieces: &mut [Piece], out: &mut [u8]) -> Result<Vec<Piece>, String> {
    let base_size = stream.varint()?;
    let _result_size = stream.varint()?;
    pieces.sort_unstable();
    let end = pieces.iter().map(|p| p.from + p.len as u64).max().unwrap_or(0);
    let (mut next, mut active, mut base): (usize, Vec<Piece>, Vec<Piece>) = (0, Vec::new(), Vec::new());
    let mut literal = [0u8; 0x7f];
    let mut at = 0u64;
    while at < end {
        let command = stream.byte()?;
        // A copy from the base: offset and size, each byte present if its bit is.
        let (copy, len) = if command & 0x80 != 0 {
            let mut offset = 0u64;
            for i in 0..4 {
                if command & (1 << i) != 0 {
                    offset |= u64::from(stream.byte()?) << (8 * i);
                }
            }
            let mut size = 0usize;
            for i in 0..3 {
                if command & (0x10 << i) != 0 {
                    size |= usize::from(stream.byte()?) << (8 * i);
                }
            }
            let size = if size == 0 { 0x10000 } else { size };
            if offset + size as u64 > base_size {
                return Err("a delta copies from beyond its base".into());
            }
            (Some(offset), size)
        } else if command != 0 {
            let len = usize::from(command);
            for byte in &mut literal[..len] {
                *byte = stream.byte()?;
            }
            (None, len)
        } else {
            return Err("a delta has a reserved instruction".into());
        };
        let stop = at + len as u64;
        while next < pieces.len() && pieces[next].from < stop {
            active.push(pieces[next]);
            next += 1;
        }
        for piece in &active {
            let (from, to) = (piece.from.max(at), (piece.from + piece.len as u64).min(stop));
            if from >= to {
                continue;
            }
            let target = piece.at + (from - piece.from) as usize;
            let n = (to - from) as usize;
            match copy {
                Some(offset) => base.push(Piece { from: offset + (from - at), len: n, at: target }),
                None => {
                    let skip = (from - at) as usize;
                    out[target..target + n].copy_from_slice(&literal[skip..skip + n]);
                }
            }
        }
        active.retain(|p| p.from + p.len as u64 > stop);
        at = stop;
    }
    Ok(merged(base))
}

/// `pieces` with runs that continue one another (in the base and in the
/// output alike) joined: a delta usually copies long stretches.
fn merged(mut pieces: Vec<Piece>) -> Vec<Piece> {
    pieces.sort_unstable_by_key(|p| p.at);
    let mut joined: Vec<Piece> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match joined.last_mut() {
            Some(last) if last.at + last.len == piece.at && last.from + last.len as u64 == piece.from => {
                last.len += piece.len;
            }
            _ => joined.push(piece),
        }
    }
    joined
}
