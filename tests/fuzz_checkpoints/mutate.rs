//! The mutations: byte-level ones (bit flips, random and interesting values, truncation,
//! insertion, deletion and duplication of chunks, splicing two inputs) and format-aware ones
//! (the safetensors header length and JSON numbers, zip size and offset fields, pickle opcodes
//! inside a re-joined archive, storage records cut or grown).

use super::zip;

/// xorshift64* (Vigna): small, fast, and the same stream on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, so nearby seeds give unrelated streams (and never 0).
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const INTERESTING_8: &[u8] = &[0, 1, 0x7f, 0x80, 0xff, 0x10, 0x40];
const INTERESTING_32: &[u32] = &[
    0,
    1,
    2,
    8,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
];
const INTERESTING_64: &[u64] = &[
    0,
    1,
    8,
    0x7fff_ffff,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX,
];

/// Decimal numbers for JSON headers: sizes at and past every integer width, and non-integers.
const INTERESTING_NUMBERS: &[&str] = &[
    "0",
    "1",
    "3",
    "4",
    "255",
    "65536",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    "-1",
    "-0",
    "1.5",
    "1e3",
    "00",
];

/// Pickle opcodes (protocol 0-5) and a few byte strings that make them work harder.
const OPCODES: &[&[u8]] = &[
    b"(",
    b".",
    b"0",
    b"1",
    b"2",
    b"K\x05",
    b"M\xff\xff",
    b"J\xff\xff\xff\x7f",
    b"X\x05\0\0\0hello",
    b"X\xff\xff\xff\x7f",
    b"q\x00",
    b"q\xff",
    b"h\x00",
    b"h\xff",
    b"r\0\0\0\0",
    b"j\0\0\0\0",
    b"j\xff\xff\xff\xff",
    b"}",
    b"]",
    b")",
    b"t",
    b"\x85",
    b"\x86",
    b"\x87",
    b"e",
    b"a",
    b"u",
    b"s",
    b"R",
    b"b",
    b"\x81",
    b"\x92",
    b"Q",
    b"N",
    b"\x88",
    b"\x89",
    b"\x8a\x08",
    b"\x8b\xff\xff\xff\x7f",
    b"G\x7f\xf0\0\0\0\0\0\0",
    b"\x80\x02",
    b"\x80\x05",
    b"\x94",
    b"\x95\xff\xff\xff\xff\xff\xff\xff\x7f",
    b"\x8c\x05hello",
    b"C\x03abc",
    b"B\xff\xff\xff\x7f",
    b"ctorch._utils\n_rebuild_tensor_v2\n",
    b"ctorch\nFloatStorage\n",
    b"ccollections\nOrderedDict\n",
    b"cos\nsystem\n",
    b"\x93",
    b"V\\u1234\n",
    b"I99999999999999999999999\n",
    b"L-5L\n",
    b"F1e309\n",
    b"S'abc'\n",
    b"22222222222222222222",
    b"((((((((((((((((((((((((((((((((",
    b"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
];

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    if let Some(s) = b.get_mut(at..at + 2) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// One byte-level mutation (`other` is a second corpus input, for splicing).
pub fn bytes(rng: &mut Rng, b: &mut Vec<u8>, other: &[u8]) {
    let len = b.len();
    match rng.below(10) {
        0 if len > 0 => {
            let i = rng.below(len);
            b[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            b[i] = rng.next() as u8;
        }
        2 if len > 0 => {
            let i = rng.below(len);
            b[i] = *rng.pick(INTERESTING_8);
        }
        3 if len >= 4 => {
            let i = rng.below(len - 3);
            let v = *rng.pick(INTERESTING_32);
            let v = if rng.chance(2) {
                v
            } else {
                v.wrapping_add(len as u32)
            };
            put_u32(b, i, v);
        }
        4 if len >= 8 => {
            let i = rng.below(len - 7);
            b[i..i + 8].copy_from_slice(&rng.pick(INTERESTING_64).to_le_bytes());
        }
        5 => {
            let n = rng.below(len + 1);
            b.truncate(n);
        }
        6 => {
            // Insert random bytes or a copy of a chunk (duplication).
            let at = rng.below(len + 1);
            let chunk: Vec<u8> = if len > 0 && rng.chance(2) {
                let s = rng.below(len);
                let e = s + 1 + rng.below((len - s).min(256));
                b[s..e].to_vec()
            } else {
                (0..1 + rng.below(64)).map(|_| rng.next() as u8).collect()
            };
            b.splice(at..at, chunk);
        }
        7 if len > 0 => {
            let s = rng.below(len);
            let e = s + 1 + rng.below((len - s).min(256));
            b.drain(s..e);
        }
        8 if !other.is_empty() => {
            // Splice: a prefix of this input and a suffix of the other.
            let cut = rng.below(len + 1);
            let from = rng.below(other.len());
            b.truncate(cut);
            b.extend_from_slice(&other[from..]);
        }
        _ => {
            // Overwrite a chunk with bytes from elsewhere in the input.
            if len >= 2 {
                let n = 1 + rng.below((len / 2).min(64));
                let (s, d) = (rng.below(len - n + 1), rng.below(len - n + 1));
                b.copy_within(s..s + n, d);
            }
        }
    }
}

/// A safetensors-aware mutation: the header length, or a number or string in the JSON.
pub fn safetensors(rng: &mut Rng, b: &mut Vec<u8>) {
    if b.len() < 8 {
        return;
    }
    let n = u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
    if rng.chance(3) || n > b.len() - 8 {
        let v = match rng.below(4) {
            0 => *rng.pick(INTERESTING_64),
            1 => (n as u64)
                .wrapping_add(rng.below(17) as u64)
                .wrapping_sub(8),
            2 => (b.len() - 8) as u64,
            _ => rng.below(b.len() + 1) as u64,
        };
        b[..8].copy_from_slice(&v.to_le_bytes());
        return;
    }
    let header = &b[8..8 + n];
    // Digit runs and quoted strings of the header.
    let mut spans = Vec::new();
    let mut i = 0;
    while i < header.len() {
        let start = i;
        if header[i].is_ascii_digit() {
            while i < header.len() && header[i].is_ascii_digit() {
                i += 1;
            }
            spans.push((start, i, true));
        } else if header[i] == b'"' {
            i += 1;
            while i < header.len() && header[i] != b'"' {
                i += 1;
            }
            spans.push((start + 1, i, false));
            i += 1;
        } else {
            i += 1;
        }
    }
    if spans.is_empty() {
        return;
    }
    let (s, e, number) = *rng.pick(&spans);
    let replacement: Vec<u8> = if number {
        rng.pick(INTERESTING_NUMBERS).as_bytes().to_vec()
    } else {
        let words: &[&str] = &[
            "F16",
            "BF16",
            "I32",
            "U8",
            "BOOL",
            "F64",
            "I64",
            "F32",
            "__metadata__",
            "shape",
            "dtype",
            "data_offsets",
            "",
            "\\u0000",
            "\\ud800",
            "é",
        ];
        rng.pick(words).as_bytes().to_vec()
    };
    let (s, e) = (8 + s, 8 + e);
    let grow = replacement.len() as isize - (e - s) as isize;
    b.splice(s..e, replacement);
    // Usually keep the header length right, so the change reaches the JSON reader.
    if rng.below(4) != 0 {
        let n = (n as isize + grow) as u64;
        b[..8].copy_from_slice(&n.to_le_bytes());
    }
}

/// A zip-aware mutation: a size, offset, count or method field of a local header, central
/// directory entry or end record.
pub fn zip_fields(rng: &mut Rng, b: &mut [u8]) {
    let (sig, fields): (&[u8; 4], &[(usize, bool)]) = match rng.below(3) {
        // (offset, is 32-bit)
        0 => (
            zip::LOCAL,
            &[
                (6, false),
                (8, false),
                (14, true),
                (18, true),
                (22, true),
                (26, false),
                (28, false),
            ],
        ),
        1 => (
            zip::CENTRAL,
            &[
                (10, false),
                (16, true),
                (20, true),
                (24, true),
                (28, false),
                (30, false),
                (32, false),
                (42, true),
            ],
        ),
        _ => (
            zip::EOCD,
            &[(8, false), (10, false), (12, true), (16, true), (20, false)],
        ),
    };
    let at = zip::find_all(b, sig);
    if at.is_empty() {
        return;
    }
    let base = *rng.pick(&at);
    let (off, wide) = *rng.pick(fields);
    let v = match rng.below(3) {
        0 => *rng.pick(INTERESTING_32),
        1 => (b.len() as u32).wrapping_sub(rng.below(64) as u32),
        _ => rng.next() as u32,
    };
    if wide {
        put_u32(b, base + off, v);
    } else {
        put_u16(b, base + off, v as u16);
    }
}

/// A structure-aware mutation of a `torch.save` archive: one record's bytes (the pickle with
/// opcodes, a storage cut or grown, any record with byte mutations), a record dropped, renamed
/// or duplicated; then the archive is joined again with valid sizes and CRCs.
pub fn archive(rng: &mut Rng, b: &mut Vec<u8>, other: &[u8]) -> bool {
    let Some(mut records) = zip::split(b) else {
        return false;
    };
    if records.is_empty() {
        return false;
    }
    let i = rng.below(records.len());
    match rng.below(8) {
        0..=2 => {
            let pkl = records
                .iter()
                .position(|(n, _)| n.ends_with(b"data.pkl"))
                .unwrap_or(i);
            let rounds = 1 + rng.below(3);
            for _ in 0..rounds {
                pickle(rng, &mut records[pkl].1);
            }
        }
        3 => {
            let data = &mut records[i].1;
            let n = if rng.chance(2) {
                rng.below(data.len() + 1)
            } else {
                data.len() + 1 + rng.below(64)
            };
            data.resize(n, 0x41);
        }
        4 => bytes(rng, &mut records[i].1, other),
        5 => {
            records.remove(i);
        }
        6 => {
            let name = &mut records[i].0;
            if !name.is_empty() {
                let j = rng.below(name.len());
                name[j] = *rng.pick(b"/0.a\0Z9");
            }
        }
        _ => {
            let r = records[i].clone();
            records.push(r);
        }
    }
    *b = zip::join(&records);
    true
}

/// A pickle-aware mutation: an opcode (with its argument bytes) written over, inserted at, or
/// removed from a random position.
pub fn pickle(rng: &mut Rng, p: &mut Vec<u8>) {
    let op = rng.pick(OPCODES).to_vec();
    let at = rng.below(p.len() + 1);
    match rng.below(3) {
        0 => {
            let end = (at + op.len()).min(p.len());
            p.splice(at..end, op);
        }
        1 => {
            p.splice(at..at, op);
        }
        _ => {
            if at < p.len() {
                let end = (at + 1 + rng.below(8)).min(p.len());
                p.drain(at..end);
            }
        }
    }
}
