//! Objects as they lie on disk, for the reads gix's object store makes
//! dear: the start of a large blob (`git::prefix`) and small blobs decoded
//! whole with every delta base on the way kept, as git keeps them.
//!
//! gix keeps only the object asked for in its delta-base cache. The blobs
//! of a push sit in delta chains some twenty deep (pack-objects chains
//! versions of a file, and of similar files, up to 50), and a content
//! policy reads most versions once: each read then decodes its whole chain
//! again, about twenty inflations where git, which keeps every base it
//! decodes (`delta_base_cache`), needs one. Here a chain is walked down to
//! the first object already decoded, then applied upwards, keeping each
//! result. One `Locator` serves a push: the packs are listed and their
//! indexes opened once, and the decoded objects are shared by its policies.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use clru::{CLruCache, CLruCacheConfig, WeightScale};
use gix::odb::pack;

/// Git never writes deeper delta chains (`pack.depth` is at most 4095);
/// deeper is a loop or an attack.
pub(super) const MAX_DEPTH: usize = 10_000;

/// The most the decoded objects of a push take, in bytes (git's
/// `core.deltaBaseCacheLimit` is 96 MiB).
const CACHE_BYTES: usize = 64 << 20;

/// An object as it is stored.
pub(super) enum Stored {
    Loose(PathBuf),
    Packed { pack: Arc<pack::data::File>, entry: pack::data::Entry },
}

/// An object decoded from a pack: by pack and offset.
type Key = (u32, u64);

/// Weighs a decoded object by its size.
struct Bytes;

impl WeightScale<Key, Arc<Vec<u8>>> for Bytes {
    fn weight(&self, _: &Key, data: &Arc<Vec<u8>>) -> usize {
        data.len()
    }
}

/// Finds objects on disk in a list of object directories (and their
/// `info/alternates`), in order.
pub(super) struct Locator {
    /// The object directories with their alternates, in lookup order.
    dirs: Vec<PathBuf>,
    hash: gix::hash::Kind,
    /// The packs, with their indexes, opened on the first lookup.
    packs: OnceLock<Vec<(pack::index::File, Arc<pack::data::File>)>>,
    /// Objects decoded from the packs, least recently used first out.
    decoded: Mutex<CLruCache<Key, Arc<Vec<u8>>, std::hash::RandomState, Bytes>>,
}

impl Locator {
    pub(super) fn new(dirs: &[PathBuf], hash: gix::hash::Kind) -> Self {
        let capacity = NonZeroUsize::new(CACHE_BYTES).expect("the capacity is not zero");
        Locator {
            dirs: with_alternates(dirs),
            hash,
            packs: OnceLock::new(),
            decoded: Mutex::new(CLruCache::with_config(CLruCacheConfig::new(capacity).with_scale(Bytes))),
        }
    }

    /// Where `id` is stored, if it is found in a pack or as a loose
    /// object, in git's order (packs first: an object in both is the same).
    pub(super) fn locate(&self, id: &gix::oid) -> Option<Stored> {
        if let Some(packed) = self.packed(id) {
            return Some(packed);
        }
        let hex = id.to_hex().to_string();
        self.dirs.iter().map(|dir| dir.join(&hex[..2]).join(&hex[2..])).find(|loose| loose.is_file()).map(Stored::Loose)
    }

    fn packed(&self, id: &gix::oid) -> Option<Stored> {
        let packs = self.packs.get_or_init(|| {
            let mut packs = Vec::new();
            for dir in &self.dirs {
                let Ok(list) = std::fs::read_dir(dir.join("pack")) else { continue };
                for item in list.flatten() {
                    let idx = item.path();
                    if idx.extension().is_some_and(|e| e == "idx")
                        && let Ok(index) = pack::index::File::at(&idx, self.hash)
                        && let Ok(data) = pack::data::File::at(idx.with_extension("pack"), self.hash)
                    {
                        packs.push((index, Arc::new(data)));
                    }
                }
            }
            packs
        });
        packs.iter().find_map(|(index, data)| {
            let offset = index.pack_offset_at_index(index.lookup(id)?);
            let entry = data.entry(offset).ok()?;
            Some(Stored::Packed { pack: Arc::clone(data), entry })
        })
    }

    /// The base of a packed delta; `None` for an object stored whole.
    pub(super) fn base(
        &self,
        pack: &Arc<pack::data::File>,
        entry: &pack::data::Entry,
    ) -> Result<Option<Stored>, String> {
        Ok(match entry.header {
            pack::data::entry::Header::OfsDelta { base_distance } => {
                let offset = pack::data::entry::Header::verified_base_pack_offset(entry.pack_offset(), base_distance)
                    .ok_or("a delta's base lies outside its pack")?;
                let base = pack.entry(offset).map_err(|e| e.to_string())?;
                Some(Stored::Packed { pack: Arc::clone(pack), entry: base })
            }
            pack::data::entry::Header::RefDelta { base_id } => {
                Some(self.locate(&base_id).ok_or_else(|| format!("the base {base_id} of a delta is missing"))?)
            }
            _ => None,
        })
    }

    /// The object `id` decoded whole, or `None` when it is not in a pack
    /// (or its chain leads to a loose object): gix reads those. Every
    /// object of its delta chain is kept for the next read.
    pub(super) fn read_whole(&self, id: &gix::oid, deadline: Option<Instant>) -> Result<Option<Arc<Vec<u8>>>, String> {
        let Some(Stored::Packed { pack, entry }) = self.locate(id) else { return Ok(None) };
        // Down the chain to the first object decoded before or stored whole.
        let mut chain = vec![(pack, entry)];
        let mut base = loop {
            let (pack, entry) = chain.last().expect("the chain starts with the object");
            if let Some(done) = self.cached(pack, entry) {
                chain.pop();
                break done;
            }
            if !entry.header.is_delta() {
                let mut data = vec![0; usize::try_from(entry.decompressed_size).map_err(|e| e.to_string())?];
                pack.decompress_entry(entry, &mut gix::zlib::Inflate::default(), &mut data)
                    .map_err(|e| e.to_string())?;
                let data = self.keep(pack, entry, data);
                chain.pop();
                break data;
            }
            if chain.len() > MAX_DEPTH {
                return Err(format!("its delta chain is deeper than {MAX_DEPTH}"));
            }
            match self.base(pack, entry)? {
                Some(Stored::Packed { pack, entry }) => chain.push((pack, entry)),
                _ => return Ok(None),
            }
        };
        // Then up, each delta applied to the object below it.
        let mut inflate = gix::zlib::Inflate::default();
        let mut delta = Vec::new();
        while let Some((pack, entry)) = chain.pop() {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err("the deadline passed while reading it".into());
            }
            delta.resize(usize::try_from(entry.decompressed_size).map_err(|e| e.to_string())?, 0);
            pack.decompress_entry(&entry, &mut inflate, &mut delta).map_err(|e| e.to_string())?;
            base = self.keep(&pack, &entry, apply(&base, &delta)?);
        }
        Ok(Some(base))
    }

    /// The object `id` if a read decoded it before: without a look at its
    /// header, since only blobs are read whole and a delta has its base's
    /// kind, so everything kept is a blob.
    pub(super) fn decoded(&self, id: &gix::oid) -> Option<Arc<Vec<u8>>> {
        match self.packed(id)? {
            Stored::Packed { pack, entry } => self.cached(&pack, &entry),
            Stored::Loose(_) => None,
        }
    }

    fn cached(&self, pack: &pack::data::File, entry: &pack::data::Entry) -> Option<Arc<Vec<u8>>> {
        self.decoded.lock().ok()?.get(&(pack.id, entry.data_offset)).cloned()
    }

    fn keep(&self, pack: &pack::data::File, entry: &pack::data::Entry, data: Vec<u8>) -> Arc<Vec<u8>> {
        let data = Arc::new(data);
        if let Ok(mut decoded) = self.decoded.lock() {
            // One too big to keep is not kept.
            let _ = decoded.put_with_weight((pack.id, entry.data_offset), Arc::clone(&data));
        }
        data
    }
}

/// Applies git's delta `delta` to `base` (gitformat-pack(5), "Deltified
/// representation"): copies from the base and literal bytes.
fn apply(base: &[u8], delta: &[u8]) -> Result<Vec<u8>, String> {
    let mut delta = Cursor { data: delta, at: 0 };
    if delta.varint()? != base.len() as u64 {
        return Err("a delta's base has another size than the delta says".into());
    }
    let size = usize::try_from(delta.varint()?).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(size);
    while delta.at < delta.data.len() {
        let command = delta.byte()?;
        if command & 0x80 != 0 {
            // Offset and size, each byte present if its bit is set.
            let (mut offset, mut len) = (0usize, 0usize);
            for i in 0..4 {
                if command & (1 << i) != 0 {
                    offset |= usize::from(delta.byte()?) << (8 * i);
                }
            }
            for i in 0..3 {
                if command & (0x10 << i) != 0 {
                    len |= usize::from(delta.byte()?) << (8 * i);
                }
            }
            let len = if len == 0 { 0x10000 } else { len };
            let stretch = offset.checked_add(len).and_then(|end| base.get(offset..end));
            out.extend_from_slice(stretch.ok_or("a delta copies from beyond its base")?);
        } else if command != 0 {
            out.extend_from_slice(delta.take(usize::from(command))?);
        } else {
            return Err("a delta has a reserved instruction".into());
        }
        if out.len() > size {
            return Err("a delta makes more than it says".into());
        }
    }
    if out.len() != size {
        return Err("a delta makes less than it says".into());
    }
    Ok(out)
}

/// Reads a delta's bytes in order.
struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let bytes = self.data.get(self.at..self.at + n).ok_or("a delta ends early")?;
        self.at += n;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn varint(&mut self) -> Result<u64, String> {
        varint(|| self.byte())
    }
}

/// Git's variable-length size in a delta (little-endian groups of 7 bits),
/// from its bytes in order.
pub(super) fn varint(mut byte: impl FnMut() -> Result<u8, String>) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = byte()?;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("a size in a delta is too long".into())
}

/// `dirs` and the directories their `info/alternates` name, recursively
/// (as git does, up to a depth of 5), each once.
fn with_alternates(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = Vec::new();
    let mut next: Vec<PathBuf> = dirs.to_vec();
    for _ in 0..6 {
        let mut found = Vec::new();
        for dir in next {
            if all.contains(&dir) {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(dir.join("info").join("alternates")) {
                for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
                    let alternate = Path::new(line);
                    found.push(if alternate.is_relative() { dir.join(alternate) } else { alternate.to_owned() });
                }
            }
            all.push(dir);
        }
        next = found;
    }
    all
}

#[cfg(test)]
mod tests {
    use super::apply;

    /// A delta over `base_len` bytes making `size` bytes with `commands`.
    fn delta(base_len: u8, size: u8, commands: &[u8]) -> Vec<u8> {
        [&[base_len, size][..], commands].concat()
    }

    #[test]
    fn a_delta_copies_from_its_base_and_inserts_literal_bytes() {
        // Copy 3 bytes at offset 1 (0x91: offset byte 0, size byte 0), insert "xy".
        let made = apply(b"abcdef", &delta(6, 5, &[0x91, 1, 3, 2, b'x', b'y'])).expect("a valid delta");
        assert_eq!(made, b"bcdxy");
        // A copy with no size bytes copies 0x10000 bytes.
        let base = vec![7u8; 0x10000];
        let whole = [&[0x80, 0x80, 0x04, 0x80, 0x80, 0x04][..], &[0x80]].concat();
        assert_eq!(apply(&base, &whole).expect("a valid delta"), base);
    }

    #[test]
    fn a_damaged_delta_is_an_error_naming_what_is_wrong() {
        for (delta, base, says) in [
            (delta(6, 3, &[0x91, 4, 3]), &b"abcdef"[..], "beyond its base"),
            (delta(5, 3, &[0x91, 0, 3]), b"abcdef", "another size"),
            (delta(6, 3, &[0x00]), b"abcdef", "reserved instruction"),
            (delta(6, 4, &[0x91, 0, 3]), b"abcdef", "less than it says"),
            (delta(6, 2, &[0x91, 0, 3]), b"abcdef", "more than it says"),
            (delta(6, 3, &[3, b'a']), b"abcdef", "ends early"),
        ] {
            let err = apply(base, &delta).expect_err(says);
            assert!(err.contains(says), "{err:?} should say {says:?}");
        }
    }
}
