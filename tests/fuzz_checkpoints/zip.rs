//! Just enough zip for structure-aware mutations of `torch.save` files: split a valid archive
//! into its (name, bytes) records through the central directory, and join records back into a
//! valid stored archive (CRC-32 and sizes right, data 64-byte aligned as PyTorch writes it), so
//! that a mutated pickle or storage reaches the loader past the container checks.

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize)
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

/// The offsets of every occurrence of a 4-byte signature.
pub fn find_all(b: &[u8], sig: &[u8; 4]) -> Vec<usize> {
    b.windows(4)
        .enumerate()
        .filter(|(_, w)| *w == sig)
        .map(|(i, _)| i)
        .collect()
}

pub const LOCAL: &[u8; 4] = b"PK\x03\x04";
pub const CENTRAL: &[u8; 4] = b"PK\x01\x02";
pub const EOCD: &[u8; 4] = b"PK\x05\x06";

/// The records of a stored (uncompressed) archive, in central-directory order.
pub fn split(b: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let eocd = *find_all(b, EOCD).last()?;
    let count = u16_at(b, eocd + 10)?;
    let mut at = u32_at(b, eocd + 16)?;
    let mut out = Vec::new();
    for _ in 0..count {
        if b.get(at..at + 4)? != CENTRAL || u16_at(b, at + 10)? != 0 {
            return None;
        }
        let size = u32_at(b, at + 20)?;
        let (n, e, c) = (
            u16_at(b, at + 28)?,
            u16_at(b, at + 30)?,
            u16_at(b, at + 32)?,
        );
        let local = u32_at(b, at + 42)?;
        let name = b.get(at + 46..at + 46 + n)?.to_vec();
        let data_at = local + 30 + u16_at(b, local + 26)? + u16_at(b, local + 28)?;
        out.push((name, b.get(data_at..data_at + size)?.to_vec()));
        at += 46 + n + e + c;
    }
    Some(out)
}

pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// A stored archive of `records`.
pub fn join(records: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in records {
        let offset = out.len();
        let crc = crc32(data);
        // PyTorch pads each record's start to 64 bytes with an extra field ("FB", then 'Z's).
        let pad = (64 - (offset + 30 + name.len() + 4) % 64) % 64;
        let mut fixed = Vec::new();
        fixed.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method, time, date
        fixed.extend_from_slice(&crc.to_le_bytes());
        fixed.extend_from_slice(&(data.len() as u32).to_le_bytes());
        fixed.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(LOCAL);
        out.extend_from_slice(&fixed);
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&((pad + 4) as u16).to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(b"FB");
        out.extend_from_slice(&(pad as u16).to_le_bytes());
        out.extend(std::iter::repeat_n(b'Z', pad));
        out.extend_from_slice(data);
        central.extend_from_slice(CENTRAL);
        central.extend_from_slice(&[20, 0]); // version made by
        central.extend_from_slice(&fixed);
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
        central.extend_from_slice(&(offset as u32).to_le_bytes());
        central.extend_from_slice(name);
    }
    let cd_offset = out.len();
    out.extend_from_slice(&central);
    out.extend_from_slice(EOCD);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(records.len() as u16).to_le_bytes());
    out.extend_from_slice(&(records.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&(cd_offset as u32).to_le_bytes());
    out.extend_from_slice(&[0; 2]);
    out
}
