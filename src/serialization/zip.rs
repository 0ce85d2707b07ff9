//! The zip container of `torch.save` files: a reader that bounds-checks every offset and size
//! it is given, and a writer laid out as PyTorch's `PyTorchStreamWriter`
//! (caffe2/serialize/inline_container.cc) writes: stored records whose data start on 64-byte
//! boundaries (an `FB` extra field of `Z` padding), a data descriptor after each record, and a
//! zip64 end-of-central-directory record before the classic one.

use crate::{Error, Result};

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD64_SIG: u32 = 0x0606_4b50;
const EOCD64_LOCATOR_SIG: u32 = 0x0706_4b50;
const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const LOCAL_HEADER_LEN: usize = 30;
const CENTRAL_HEADER_LEN: usize = 46;
const EOCD_LEN: usize = 22;
/// PyTorch's `kFieldAlignment`: record data start on this boundary, so they can be mapped.
const ALIGNMENT: usize = 64;

fn bad(msg: impl std::fmt::Display) -> Error {
    Error::Format(format!("not a valid torch.save zip archive: {msg}"))
}

fn u16_at(b: &[u8], at: usize) -> Result<u16> {
    b.get(at..at.wrapping_add(2))
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| bad("a header runs past the end of the file"))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32> {
    b.get(at..at.wrapping_add(4))
        .map(|s| u32::from_le_bytes(s.try_into().unwrap()))
        .ok_or_else(|| bad("a header runs past the end of the file"))
}

fn u64_at(b: &[u8], at: usize) -> Result<u64> {
    b.get(at..at.wrapping_add(8))
        .map(|s| u64::from_le_bytes(s.try_into().unwrap()))
        .ok_or_else(|| bad("a header runs past the end of the file"))
}

fn to_usize(v: u64, what: &str) -> Result<usize> {
    usize::try_from(v).map_err(|_| bad(format!("{what} {v} does not fit in memory")))
}

/// The CRC-32 (IEEE) of `data`, as zip stores it (`crc32fast`, already built for gzip, with its
/// carry-less-multiply kernel: a checkpoint's storages are checked at memory speed).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// One record of an archive: its name and where its bytes lie in the file.
#[derive(Debug)]
pub(crate) struct Entry {
    pub name: String,
    data: std::ops::Range<usize>,
    crc: u32,
}

/// A zip archive in memory, its central directory read and checked.
pub(crate) struct ZipReader<'a> {
    bytes: &'a [u8],
    entries: Vec<Entry>,
}

/// Whether `bytes` start like a zip archive (a local file header).
pub(crate) fn is_zip(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && u32::from_le_bytes(bytes[..4].try_into().unwrap()) == LOCAL_SIG
}

impl<'a> ZipReader<'a> {
    /// Reads the central directory and every entry's local header, checking that each lies
    /// inside the file.
    pub fn new(bytes: &'a [u8]) -> Result<ZipReader<'a>> {
        let eocd = find_eocd(bytes)?;
        let mut count = u16_at(bytes, eocd + 10)? as u64;
        let mut cd_size = u32_at(bytes, eocd + 12)? as u64;
        let mut cd_offset = u32_at(bytes, eocd + 16)? as u64;
        // A zip64 locator sits right before the classic record; PyTorch always writes one.
        if eocd >= 20 && u32_at(bytes, eocd - 20)? == EOCD64_LOCATOR_SIG {
            let at = to_usize(u64_at(bytes, eocd - 12)?, "zip64 record offset")?;
            if u32_at(bytes, at)? != EOCD64_SIG {
                return Err(bad("the zip64 end of central directory record is missing"));
            }
            count = u64_at(bytes, at + 32)?;
            cd_size = u64_at(bytes, at + 40)?;
            cd_offset = u64_at(bytes, at + 48)?;
        }
        let cd_start = to_usize(cd_offset, "central directory offset")?;
        let cd_end = cd_start
            .checked_add(to_usize(cd_size, "central directory size")?)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| bad("the central directory lies past the end of the file"))?;
        // Each central header takes at least 46 bytes, which bounds the count before allocating.
        if count > ((cd_end - cd_start) / CENTRAL_HEADER_LEN) as u64 {
            return Err(bad(format!(
                "{count} entries do not fit in a central directory of {} bytes",
                cd_end - cd_start
            )));
        }
        let mut entries = Vec::with_capacity(count as usize);
        let mut at = cd_start;
        for _ in 0..count {
            let (entry, next) = read_central(bytes, at, cd_end)?;
            entries.push(entry);
            at = next;
        }
        Ok(ZipReader { bytes, entries })
    }

    /// The records in the archive's order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The bytes of a record, checked against its CRC-32 (unless the writer stored none:
    /// `torch.serialization.set_crc32_options(False)` writes 0, which `torch.load` accepts).
    pub fn read(&self, entry: &Entry) -> Result<&'a [u8]> {
        let data = &self.bytes[entry.data.clone()];
        if (entry.crc != 0 || data.is_empty()) && crc32(data) != entry.crc {
            return Err(bad(format!(
                "record '{}' is corrupt (its CRC-32 does not match)",
                entry.name
            )));
        }
        Ok(data)
    }

    /// The record called `name`, if any.
    pub fn find(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }
}

fn find_eocd(bytes: &[u8]) -> Result<usize> {
    if bytes.len() < EOCD_LEN {
        return Err(bad("the file is too short"));
    }
    // The record is followed by a comment of at most 65535 bytes.
    let lowest = bytes.len().saturating_sub(EOCD_LEN + 0xffff);
    (lowest..=bytes.len() - EOCD_LEN)
        .rev()
        .find(|&i| {
            u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap()) == EOCD_SIG
                && i + EOCD_LEN + u16::from_le_bytes([bytes[i + 20], bytes[i + 21]]) as usize
                    == bytes.len()
        })
        .ok_or_else(|| bad("no end of central directory record (truncated file?)"))
}

/// Parses the central header at `at`, and the local header it points to.
fn read_central(bytes: &[u8], at: usize, cd_end: usize) -> Result<(Entry, usize)> {
    if at + CENTRAL_HEADER_LEN > cd_end || u32_at(bytes, at)? != CENTRAL_SIG {
        return Err(bad("a central directory header is missing or cut short"));
    }
    let flags = u16_at(bytes, at + 8)?;
    let method = u16_at(bytes, at + 10)?;
    let crc = u32_at(bytes, at + 16)?;
    let mut csize = u32_at(bytes, at + 20)? as u64;
    let mut usize_ = u32_at(bytes, at + 24)? as u64;
    let name_len = u16_at(bytes, at + 28)? as usize;
    let extra_len = u16_at(bytes, at + 30)? as usize;
    let comment_len = u16_at(bytes, at + 32)? as usize;
    let mut local = u32_at(bytes, at + 42)? as u64;
    let name_start = at + CENTRAL_HEADER_LEN;
    let next = name_start + name_len + extra_len + comment_len;
    if next > cd_end {
        return Err(bad("a central directory header runs past the directory"));
    }
    let name = std::str::from_utf8(&bytes[name_start..name_start + name_len])
        .map_err(|_| bad("a record name is not UTF-8"))?
        .to_string();
    // Sizes and offset saturated at 0xffffffff are in the zip64 extra field (id 1), in order.
    let mut extra = &bytes[name_start + name_len..name_start + name_len + extra_len];
    while extra.len() >= 4 {
        let id = u16::from_le_bytes([extra[0], extra[1]]);
        let len = u16::from_le_bytes([extra[2], extra[3]]) as usize;
        let body = extra
            .get(4..4 + len)
            .ok_or_else(|| bad(format!("record '{name}' has a truncated extra field")))?;
        if id == 1 {
            let mut fields = body
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap()));
            for v in [&mut usize_, &mut csize, &mut local] {
                if *v == 0xffff_ffff {
                    *v = fields
                        .next()
                        .ok_or_else(|| bad(format!("record '{name}' lacks its zip64 sizes")))?;
                }
            }
        }
        extra = &extra[4 + len..];
    }
    if flags & 1 != 0 {
        return Err(bad(format!("record '{name}' is encrypted")));
    }
    match method {
        0 => {}
        8 => {
            return Err(bad(format!(
                "record '{name}' is deflate-compressed; Flambeau reads stored records, which is \
                 what torch.save writes"
            )));
        }
        m => return Err(bad(format!("record '{name}' uses compression method {m}"))),
    }
    if csize != usize_ {
        return Err(bad(format!(
            "record '{name}' is stored with two different sizes"
        )));
    }
    let local = to_usize(local, "local header offset")?;
    if u32_at(bytes, local)? != LOCAL_SIG {
        return Err(bad(format!(
            "record '{name}' has no local header at offset {local}"
        )));
    }
    let data_start = local
        .checked_add(LOCAL_HEADER_LEN)
        .and_then(|s| s.checked_add(u16_at(bytes, local + 26).ok()? as usize))
        .and_then(|s| s.checked_add(u16_at(bytes, local + 28).ok()? as usize))
        .ok_or_else(|| bad(format!("record '{name}' has a truncated local header")))?;
    let data_end = to_usize(csize, "record size")?
        .checked_add(data_start)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| bad(format!("record '{name}' runs past the end of the file")))?;
    Ok((
        Entry {
            name,
            data: data_start..data_end,
            crc,
        },
        next,
    ))
}

/// Writes records as PyTorch's stream writer does.
pub(crate) struct ZipWriter {
    out: Vec<u8>,
    central: Vec<u8>,
    count: u64,
}

impl ZipWriter {
    pub fn new() -> ZipWriter {
        ZipWriter {
            out: Vec::new(),
            central: Vec::new(),
            count: 0,
        }
    }

    /// Appends a stored record whose data start on a 64-byte boundary.
    pub fn add(&mut self, name: &str, data: &[u8]) {
        let offset = self.out.len() as u64;
        let size = data.len() as u64;
        let crc = crc32(data);
        let big = size >= 0xffff_ffff || offset >= 0xffff_ffff;
        // The local header: version 0, flags 0x0808 (sizes in the data descriptor, UTF-8
        // names), stored, no date, CRC and sizes zero as in PyTorch's files.
        let mut header = Vec::with_capacity(LOCAL_HEADER_LEN + name.len() + ALIGNMENT + 24);
        header.extend_from_slice(&LOCAL_SIG.to_le_bytes());
        header.extend_from_slice(&[0, 0, 0x08, 0x08, 0, 0, 0, 0, 0, 0]);
        header.extend_from_slice(&[0; 12]);
        header.extend_from_slice(&(name.len() as u16).to_le_bytes());
        let extra_len_at = header.len();
        header.extend_from_slice(&[0, 0]);
        header.extend_from_slice(name.as_bytes());
        if big {
            // zip64 extra field with the (unknown here) sizes, as miniz writes it.
            header.extend_from_slice(&1u16.to_le_bytes());
            header.extend_from_slice(&16u16.to_le_bytes());
            header.extend_from_slice(&[0; 16]);
        }
        // PyTorch's getPadding: an "FB" field of 'Z's up to the next 64-byte boundary.
        let start = self.out.len() + header.len() + 4;
        let pad = (ALIGNMENT - start % ALIGNMENT) % ALIGNMENT;
        header.extend_from_slice(b"FB");
        header.extend_from_slice(&(pad as u16).to_le_bytes());
        header.resize(header.len() + pad, b'Z');
        let extra_len = (header.len() - LOCAL_HEADER_LEN - name.len()) as u16;
        header[extra_len_at..extra_len_at + 2].copy_from_slice(&extra_len.to_le_bytes());
        self.out.extend_from_slice(&header);
        self.out.extend_from_slice(data);
        self.out.extend_from_slice(&DESCRIPTOR_SIG.to_le_bytes());
        self.out.extend_from_slice(&crc.to_le_bytes());
        if big {
            self.out.extend_from_slice(&size.to_le_bytes());
            self.out.extend_from_slice(&size.to_le_bytes());
        } else {
            self.out.extend_from_slice(&(size as u32).to_le_bytes());
            self.out.extend_from_slice(&(size as u32).to_le_bytes());
        }
        // The central header, with zip64 values where the classic fields saturate.
        let c = &mut self.central;
        c.extend_from_slice(&CENTRAL_SIG.to_le_bytes());
        c.extend_from_slice(&[0, 0, 0, 0, 0x08, 0x08, 0, 0, 0, 0, 0, 0]);
        c.extend_from_slice(&crc.to_le_bytes());
        let mut zip64 = Vec::new();
        let size32 = if size >= 0xffff_ffff {
            zip64.extend_from_slice(&size.to_le_bytes());
            zip64.extend_from_slice(&size.to_le_bytes());
            0xffff_ffff
        } else {
            size as u32
        };
        let offset32 = if offset >= 0xffff_ffff {
            zip64.extend_from_slice(&offset.to_le_bytes());
            0xffff_ffff
        } else {
            offset as u32
        };
        c.extend_from_slice(&size32.to_le_bytes());
        c.extend_from_slice(&size32.to_le_bytes());
        c.extend_from_slice(&(name.len() as u16).to_le_bytes());
        let extra_len = if zip64.is_empty() { 0 } else { zip64.len() + 4 };
        c.extend_from_slice(&(extra_len as u16).to_le_bytes());
        c.extend_from_slice(&[0; 10]); // comment length, disk, internal and external attributes
        c.extend_from_slice(&offset32.to_le_bytes());
        c.extend_from_slice(name.as_bytes());
        if !zip64.is_empty() {
            c.extend_from_slice(&1u16.to_le_bytes());
            c.extend_from_slice(&(zip64.len() as u16).to_le_bytes());
            c.extend_from_slice(&zip64);
        }
        self.count += 1;
    }

    /// The archive: the records, the central directory and the end records.
    pub fn finish(mut self) -> Vec<u8> {
        let cd_offset = self.out.len() as u64;
        let cd_size = self.central.len() as u64;
        self.out.extend_from_slice(&self.central);
        let eocd64_at = self.out.len() as u64;
        let o = &mut self.out;
        o.extend_from_slice(&EOCD64_SIG.to_le_bytes());
        o.extend_from_slice(&44u64.to_le_bytes());
        o.extend_from_slice(&[0x1e, 0x03, 0x2d, 0x00]); // made by, needed (4.5: zip64)
        o.extend_from_slice(&[0; 8]); // this disk, the central directory's disk
        o.extend_from_slice(&self.count.to_le_bytes());
        o.extend_from_slice(&self.count.to_le_bytes());
        o.extend_from_slice(&cd_size.to_le_bytes());
        o.extend_from_slice(&cd_offset.to_le_bytes());
        o.extend_from_slice(&EOCD64_LOCATOR_SIG.to_le_bytes());
        o.extend_from_slice(&0u32.to_le_bytes());
        o.extend_from_slice(&eocd64_at.to_le_bytes());
        o.extend_from_slice(&1u32.to_le_bytes());
        o.extend_from_slice(&EOCD_SIG.to_le_bytes());
        o.extend_from_slice(&[0; 4]);
        let count16 = self.count.min(0xffff) as u16;
        o.extend_from_slice(&count16.to_le_bytes());
        o.extend_from_slice(&count16.to_le_bytes());
        o.extend_from_slice(&(cd_size.min(0xffff_ffff) as u32).to_le_bytes());
        o.extend_from_slice(&(cd_offset.min(0xffff_ffff) as u32).to_le_bytes());
        o.extend_from_slice(&[0, 0]);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn written_records_are_aligned_and_read_back() {
        let mut w = ZipWriter::new();
        w.add("archive/data.pkl", b"abc");
        w.add("archive/data/0", &[7u8; 100]);
        let bytes = w.finish();
        let r = ZipReader::new(&bytes).unwrap();
        assert_eq!(r.entries().len(), 2);
        for e in r.entries() {
            assert_eq!(e.data.start % ALIGNMENT, 0, "{}", e.name);
        }
        let e = r.find("archive/data/0").unwrap();
        assert_eq!(r.read(e).unwrap(), &[7u8; 100][..]);
    }
}
