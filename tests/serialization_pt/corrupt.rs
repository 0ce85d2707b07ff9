//! Corrupt inputs give errors, never panics (each load runs under `catch_unwind`), and never
//! allocate what the input's size does not warrant.

use super::*;

/// Loads `bytes`, which must fail without panicking; returns the message.
fn fails(bytes: &[u8], what: &str) -> String {
    match no_panic(|| load_from_bytes(bytes)) {
        Ok(Err(e)) => e.to_string(),
        Ok(Ok(v)) => panic!("{what}: loaded {v:?}"),
        Err(_) => panic!("{what}: panicked"),
    }
}

#[test]
fn truncation_at_every_byte_is_an_error() {
    for file in ["mlp.pt", "legacy.pt", "views.pt"] {
        let bytes = std::fs::read(interop_path(file)).unwrap();
        assert!(load_from_bytes(&bytes).is_ok());
        for n in 0..bytes.len() {
            fails(&bytes[..n], &format!("{file} cut to {n} bytes"));
        }
    }
}

#[test]
fn bit_flips_never_panic_and_flips_in_records_are_errors() {
    for file in ["mlp.pt", "views.pt"] {
        let bytes = std::fs::read(interop_path(file)).unwrap();
        // Where the records' data lie: every flip there breaks its CRC-32.
        let pkl_at = bytes.windows(2).position(|w| w == b"\x80\x02").unwrap();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                let r = no_panic(|| load_from_bytes(&b))
                    .unwrap_or_else(|_| panic!("{file}: flipping bit {bit} of byte {i} panicked"));
                if (pkl_at..pkl_at + 100).contains(&i) {
                    assert!(r.is_err(), "{file}: a flip in data.pkl at {i} loaded");
                }
            }
        }
    }
    // The legacy format has no checksums: flips must not panic, and flips in the magic number fail.
    let bytes = std::fs::read(interop_path("legacy.pt")).unwrap();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            let r = no_panic(|| load_from_bytes(&b))
                .unwrap_or_else(|_| panic!("legacy.pt: flipping bit {bit} of byte {i} panicked"));
            if i < 15 {
                assert!(
                    r.is_err(),
                    "legacy.pt: a flip in the magic number at {i} loaded"
                );
            }
        }
    }
}

#[test]
fn wrong_magic_and_other_formats_are_named() {
    let mut legacy = std::fs::read(interop_path("legacy.pt")).unwrap();
    legacy[5] ^= 0xff;
    assert!(fails(&legacy, "magic").contains("not a torch.save file"));
    assert!(fails(b"", "empty").contains("not a torch.save file"));
    assert!(fails(b"PK\x03\x04", "bare zip signature").contains("zip"));
    let mut tar = vec![0u8; 1024];
    tar[257..262].copy_from_slice(b"ustar");
    assert!(fails(&tar, "tar").contains(".tar"));
    let msg = load(data_path("deflated.pt")).unwrap_err().to_string();
    assert!(msg.contains("deflate-compressed"), "{msg}");
}

#[test]
fn well_formed_archives_with_wrong_contents_are_errors() {
    // What PyTorch says of each (recorded by the generator): it refuses every one of them too.
    let fx = data_json();
    for (name, gist) in [
        ("offset_past_end", "lies outside its storage"),
        ("stride_past_end", "lies outside its storage"),
        ("huge_numel", "needs"),
        ("negative_offset", "negative"),
        ("missing_storage", "no record views/data/0"),
        ("short_storage", "holds 92 bytes"),
    ] {
        assert!(
            fx["corrupt"][name].is_string(),
            "torch loaded corrupt_{name}.pt"
        );
        let bytes = std::fs::read(data_path(&format!("corrupt_{name}.pt"))).unwrap();
        let msg = fails(&bytes, name);
        assert!(msg.contains(gist), "{name}: {msg}");
    }
}

#[test]
fn big_endian_storages_are_swapped() {
    let v = load(data_path("bigendian.pt")).unwrap();
    let base = v.get("base").and_then(Value::as_tensor).unwrap();
    assert_eq!(values(base), (0..24).map(|i| i as f64).collect::<Vec<_>>());
}

/// The legacy file with its object pickle's bytes `from` replaced by `to` (no checksums there).
fn legacy_patched(from: &[u8], to: &[u8]) -> Vec<u8> {
    let bytes = std::fs::read(interop_path("legacy.pt")).unwrap();
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern");
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

#[test]
fn legacy_files_with_wrong_contents_are_errors() {
    // w's storage declares 2**31 - 1 elements: more than the file holds, refused before allocating.
    let huge = legacy_patched(b"K\x04N", b"J\xff\xff\xff\x7fN");
    assert!(fails(&huge, "huge numel").contains("more than the file holds"));
    // Its storage key differs from the one listed after the object.
    let renamed = legacy_patched(b"94804884380800q\x05", b"94804884380801q\x05");
    assert!(fails(&renamed, "renamed key").contains("no tensor uses it"));
    // A tensor past the end of its storage.
    let offset = legacy_patched(b"QK\x00K\x02K\x02", b"QK\x03K\x02K\x02");
    assert!(fails(&offset, "offset").contains("lies outside its storage"));
    // The protocol version is not 1001.
    let version = legacy_patched(b"M\xe9\x03.", b"M\xea\x03.");
    assert!(fails(&version, "version").contains("Invalid protocol version"));
    // A storage's element count disagrees with its tensors.
    let bytes = std::fs::read(interop_path("legacy.pt")).unwrap();
    let count_at = bytes.len() - 8 - 8 - 8 - 16;
    let mut b = bytes.clone();
    b[count_at] = 5;
    assert!(fails(&b, "count").contains("holds 5 elements"));
}

#[test]
fn hostile_pickles_are_bounded() {
    let head = &std::fs::read(interop_path("legacy.pt")).unwrap()[..137];
    let wrap = |p: Vec<u8>| [head, &p[..], b"\x80\x02]q\x00."].concat();
    // A billion laughs: each list holds its predecessor ten times, through the memo.
    let mut p = b"\x80\x02]q\x00".to_vec();
    for i in 0..40u8 {
        p.push(b'(');
        for _ in 0..10 {
            p.extend_from_slice(&[b'h', i]);
        }
        p.extend_from_slice(&[b't', b'q', i + 1]);
    }
    p.push(b'.');
    assert!(fails(&wrap(p), "laughs").contains("memo"));
    // Nesting 100,000 lists deep.
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat_n(b']', 100_000));
    p.extend(std::iter::repeat_n(b'a', 99_999));
    p.push(b'.');
    assert!(fails(&wrap(p), "deep lists").contains("nests"));
    // A million MARKs.
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat_n(b'(', 1_000_000));
    assert!(fails(&wrap(p), "marks").contains("MARK"));
    // A string claiming 4 GiB.
    let p = b"\x80\x02X\xff\xff\xff\xffabc.".to_vec();
    assert!(fails(&wrap(p), "long string").contains("exceeds"));
    let p = b"\x80\x02\x8d\xff\xff\xff\xff\xff\xff\xff\xffabc.".to_vec();
    assert!(fails(&wrap(p), "long string 8").contains("exceeds"));
    // A memo index never stored, an empty stack, a MARK never closed.
    assert!(fails(&wrap(b"\x80\x02j\xff\xff\xff\xff.".to_vec()), "get").contains("never stored"));
    assert!(fails(&wrap(b"\x80\x02.".to_vec()), "stop").contains("underflow"));
    assert!(fails(&wrap(b"\x80\x02t.".to_vec()), "tuple").contains("MARK"));
    assert!(fails(&wrap(b"\x80\x02\x87.".to_vec()), "tuple3").contains("underflow"));
}

#[test]
fn hostile_zip_directories_are_errors() {
    let bytes = std::fs::read(interop_path("views.pt")).unwrap();
    let eocd = bytes.len() - 22;
    assert_eq!(&bytes[eocd..eocd + 4], b"PK\x05\x06");
    // The zip64 record's entry count, directory size and offset, each made absurd.
    let z64 = u64::from_le_bytes(bytes[eocd - 12..eocd - 4].try_into().unwrap()) as usize;
    for (field, value) in [
        (32usize, u64::MAX),
        (40, u64::MAX),
        (48, u64::MAX),
        (32, 1 << 40),
        (48, 3),
    ] {
        let mut b = bytes.clone();
        b[z64 + field..z64 + field + 8].copy_from_slice(&value.to_le_bytes());
        fails(&b, &format!("zip64 field {field} = {value}"));
    }
    // The locator pointing past the end.
    let mut b = bytes.clone();
    b[eocd - 12..eocd - 4].copy_from_slice(&u64::MAX.to_le_bytes());
    fails(&b, "locator");
}

/// The CRC-32 zip stores.
fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

#[test]
fn bit_flips_in_data_pkl_with_a_valid_crc_never_panic() {
    // The CRC check stops flips in records before the unpickler sees them; here the CRC is
    // patched to match, so every flip reaches the unpickler (and the tensor rebuilding).
    for file in ["mlp.pt", "views.pt", "cnn.pt"] {
        let bytes = std::fs::read(interop_path(file)).unwrap();
        let start = bytes.windows(2).position(|w| w == b"\x80\x02").unwrap();
        let end = start
            + bytes[start..]
                .windows(4)
                .position(|w| w == b"PK\x07\x08")
                .unwrap();
        let name = format!("{}/data.pkl", file.trim_end_matches(".pt"));
        let central = (0..bytes.len() - 46 - name.len())
            .find(|&i| {
                bytes[i..].starts_with(b"PK\x01\x02")
                    && bytes[i + 46..].starts_with(name.as_bytes())
            })
            .expect("central header of data.pkl");
        let mut errors = 0;
        for i in start..end {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                let crc = crc32(&b[start..end]);
                b[central + 16..central + 20].copy_from_slice(&crc.to_le_bytes());
                let r = no_panic(|| load_from_bytes(&b))
                    .unwrap_or_else(|_| panic!("{file}: flipping bit {bit} of byte {i} panicked"));
                errors += r.is_err() as usize;
            }
        }
        // Most flips break the pickle (some only change a value, or a memo index to an equal one).
        assert!(errors > (end - start) * 4, "{file}: only {errors} errors");
        // ... but not all: the patched CRC is right, so harmless flips (in a key's letters) load.
        assert!(errors < (end - start) * 8, "{file}: every flip failed");
    }
}
