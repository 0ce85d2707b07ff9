//! `torch.save`'s zip format (torch >= 1.6): `<archive>/data.pkl` (the object, protocol 2),
//! `<archive>/data/<key>` (each storage's raw bytes), `byteorder`, `version` and friends, as
//! torch/serialization.py's `_save` and `_load` read and write them.

use super::Value;
use super::pickle::read::StorageLoader;
use super::pickle::write::{Pickler, StorageRef};
use super::pickle::{StorageId, Unpickler};
use super::zip::{ZipReader, ZipWriter};
use crate::dtype::DType;
use crate::shape::{Layout, Shape};
use crate::storage::{Storage, StorageCell};
use crate::tensor::Tensor;
use crate::{Error, Result};
use std::collections::HashMap;
use std::sync::Arc;

/// A storage's elements from its raw bytes (`big_endian`: as a `byteorder` of "big" says).
pub(crate) fn storage_from_bytes(dtype: DType, bytes: &[u8], big_endian: bool) -> Storage {
    macro_rules! decode {
        ($t:ty, $n:literal) => {
            Storage::from_vec(
                bytes
                    .chunks_exact($n)
                    .map(|c| {
                        let a: [u8; $n] = c.try_into().unwrap();
                        if big_endian {
                            <$t>::from_be_bytes(a)
                        } else {
                            <$t>::from_le_bytes(a)
                        }
                    })
                    .collect::<Vec<$t>>(),
            )
        };
    }
    match dtype {
        DType::F32 => decode!(f32, 4),
        DType::F64 => decode!(f64, 8),
        DType::I64 => decode!(i64, 8),
        DType::Bool => Storage::from_vec(bytes.iter().map(|&b| b != 0).collect::<Vec<bool>>()),
    }
}

/// A storage's raw little-endian bytes, as `torch.save` writes them.
fn storage_to_bytes(s: &Storage) -> Vec<u8> {
    let all = Layout::contiguous(Shape::new(&[s.len()]));
    match s.dtype() {
        DType::F32 => s
            .to_vec::<f32>(&all)
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::F64 => s
            .to_vec::<f64>(&all)
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::I64 => s
            .to_vec::<i64>(&all)
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::Bool => s.to_vec::<bool>(&all).iter().map(|&b| b as u8).collect(),
    }
}

fn storage_class(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "torch.FloatStorage",
        DType::F64 => "torch.DoubleStorage",
        DType::I64 => "torch.LongStorage",
        DType::Bool => "torch.BoolStorage",
    }
}

/// The byte count of `numel` elements of `dtype`, if it is representable.
pub(crate) fn storage_nbytes(id: &StorageId) -> Result<usize> {
    id.numel
        .checked_mul(id.dtype.size_in_bytes())
        .ok_or_else(|| {
            Error::Format(format!(
                "storage '{}' declares an impossible size of {} elements",
                id.key, id.numel
            ))
        })
}

/// Reads a zip-format checkpoint.
pub(crate) fn load(bytes: &[u8]) -> Result<Value> {
    let zip = ZipReader::new(bytes)?;
    // The archive's folder is whatever the first record's is (`archive/`, or the file's stem).
    let first = zip
        .entries()
        .first()
        .ok_or_else(|| Error::Format("the zip archive is empty: not a torch.save file".into()))?;
    let prefix = match first.name.find('/') {
        Some(i) => &first.name[..=i],
        None => {
            return Err(Error::Format(format!(
                "not a torch.save archive: its first record '{}' is not in a folder",
                first.name
            )));
        }
    };
    let record = |name: &str| zip.find(&format!("{prefix}{name}"));
    let pkl = record("data.pkl").ok_or_else(|| {
        Error::Format(format!(
            "not a torch.save archive: no {prefix}data.pkl record"
        ))
    })?;
    let big_endian = match record("byteorder") {
        None => false,
        Some(e) => match zip.read(e)? {
            b"little" => false,
            b"big" => true,
            other => {
                return Err(Error::Format(format!(
                    "unknown byteorder '{}' in {prefix}byteorder",
                    String::from_utf8_lossy(other)
                )));
            }
        },
    };
    let mut storages: HashMap<String, (Arc<StorageCell>, DType)> = HashMap::new();
    let mut loader = |id: &StorageId| -> Result<(Arc<StorageCell>, usize)> {
        if let Some((cell, dtype)) = storages.get(&id.key) {
            if *dtype != id.dtype || cell.read().len() != id.numel {
                return Err(Error::Format(format!(
                    "storage '{}' is named twice with different types or sizes",
                    id.key
                )));
            }
            return Ok((cell.clone(), 0));
        }
        let name = format!("data/{}", id.key);
        let entry = record(&name).ok_or_else(|| {
            Error::Format(format!(
                "the archive has no record {prefix}{name} for a tensor's storage"
            ))
        })?;
        let data = zip.read(entry)?;
        let nbytes = storage_nbytes(id)?;
        if data.len() != nbytes {
            return Err(Error::Format(format!(
                "record {prefix}{name} holds {} bytes, but its {} of {} elements needs {nbytes}",
                data.len(),
                id.class,
                id.numel
            )));
        }
        let cell = StorageCell::new(storage_from_bytes(id.dtype, data, big_endian));
        storages.insert(id.key.clone(), (cell.clone(), id.dtype));
        Ok((cell, 0))
    };
    let loader: &mut StorageLoader<'_> = &mut loader;
    Unpickler::new(zip.read(pkl)?, loader).load()
}

/// Writes `v` as `torch.save` does, the records under the folder `archive`.
pub(crate) fn save(v: &Value, archive: &str) -> Result<Vec<u8>> {
    let mut cells: Vec<Arc<StorageCell>> = Vec::new();
    let mut keys: HashMap<*const StorageCell, usize> = HashMap::new();
    // Each distinct storage is written once, keyed by its first appearance, as torch does.
    let mut storage_of = |t: &Tensor| {
        let cell = t.storage_cell();
        let n = cells.len();
        let key = *keys.entry(Arc::as_ptr(cell)).or_insert(n);
        if key == n {
            cells.push(cell.clone());
        }
        let s = cell.read();
        StorageRef {
            key: key.to_string(),
            class: storage_class(s.dtype()),
            numel: s.len(),
        }
    };
    let pkl = Pickler::new(&mut storage_of).dump(v)?;
    let mut zip = ZipWriter::new();
    let mut hash = Fnv::default();
    hash.feed(&pkl);
    zip.add(&format!("{archive}/data.pkl"), &pkl);
    zip.add(&format!("{archive}/.format_version"), b"1");
    zip.add(&format!("{archive}/.storage_alignment"), b"64");
    zip.add(&format!("{archive}/byteorder"), b"little");
    for (i, cell) in cells.iter().enumerate() {
        let bytes = storage_to_bytes(&cell.read());
        hash.feed(&bytes);
        zip.add(&format!("{archive}/data/{i}"), &bytes);
    }
    zip.add(&format!("{archive}/version"), b"3\n");
    // PyTorch writes two 20-digit numbers; derived from the content here, so that saving the
    // same object twice gives the same bytes.
    let id = format!(
        "{:020}{:020}",
        hash.0,
        hash.0.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15
    );
    zip.add(&format!("{archive}/.data/serialization_id"), id.as_bytes());
    Ok(zip.finish())
}

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
}
