//! The pre-1.6 `torch.save` format (torch/serialization.py `_legacy_load`): five sections back
//! to back: a pickled magic number, the protocol version (1001), `sys_info`, the object pickle
//! (storages as persistent ids `('storage', type, root_key, location, numel, view_metadata)`),
//! a pickled list of storage keys, then each storage as an int64 element count and raw bytes.

use super::Value;
use super::pickle::read::StorageLoader;
use super::pickle::{StorageId, Unpickler};
use super::pt::{storage_from_bytes, storage_nbytes};
use crate::dtype::DType;
use crate::storage::StorageCell;
use crate::{Error, Result};
use std::collections::HashMap;
use std::sync::Arc;

/// `pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)`: how every legacy file starts.
pub(crate) const MAGIC_PICKLE: &[u8] =
    b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e";
const PROTOCOL_VERSION: i64 = 1001;

fn bad(msg: impl std::fmt::Display) -> Error {
    Error::Format(format!("legacy torch.save file: {msg}"))
}

/// Whether the bytes are a tar archive (`ustar` at offset 257): torch's oldest format.
pub(crate) fn is_tar(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

/// Unpickles one section that holds no storages.
fn plain_pickle(bytes: &[u8]) -> Result<(Value, usize)> {
    let mut no_storages = |_: &StorageId| -> Result<(Arc<StorageCell>, usize)> {
        Err(bad("a storage outside the object section"))
    };
    let loader: &mut StorageLoader<'_> = &mut no_storages;
    let mut u = Unpickler::new(bytes, loader);
    let v = u.load()?;
    Ok((v, u.position()))
}

struct Declared {
    cell: Arc<StorageCell>,
    dtype: DType,
    numel: usize,
    filled: bool,
}

/// Reads a legacy checkpoint (the caller checked that it starts with [`MAGIC_PICKLE`]).
pub(crate) fn load(bytes: &[u8]) -> Result<Value> {
    let mut pos = MAGIC_PICKLE.len();
    let (version, n) = plain_pickle(&bytes[pos..])?;
    pos += n;
    if version.as_int() != Some(PROTOCOL_VERSION) || matches!(version, Value::Bool(_)) {
        return Err(bad(format!("Invalid protocol version: {version:?}")));
    }
    let (sys_info, n) = plain_pickle(&bytes[pos..])?;
    pos += n;
    if let Some(Value::Bool(false)) = sys_info.get("little_endian") {
        return Err(bad(
            "written on a big-endian machine; Flambeau reads little-endian ones",
        ));
    }

    // Storages come after the object: each is created (zeroed) when first named and filled in
    // below. What they declare must fit in the bytes that follow, so no size is trusted blindly.
    let mut declared: HashMap<String, Declared> = HashMap::new();
    let mut budget = bytes.len() - pos;
    let (obj, n) = {
        let mut loader = |id: &StorageId| -> Result<(Arc<StorageCell>, usize)> {
            let offset = match &id.view {
                None => 0,
                Some((_, offset, size)) => {
                    if offset.checked_add(*size).is_none_or(|end| end > id.numel) {
                        return Err(bad(format!(
                            "a view of storage '{}' lies outside its {} elements",
                            id.key, id.numel
                        )));
                    }
                    *offset
                }
            };
            if let Some(d) = declared.get(&id.key) {
                if d.dtype != id.dtype || d.numel != id.numel {
                    return Err(bad(format!(
                        "storage '{}' is named twice with different types or sizes",
                        id.key
                    )));
                }
                return Ok((d.cell.clone(), offset));
            }
            let nbytes = storage_nbytes(id)?;
            if nbytes > budget {
                return Err(bad(format!(
                    "storage '{}' declares {} elements, more than the file holds",
                    id.key, id.numel
                )));
            }
            budget -= nbytes;
            let cell = StorageCell::new(crate::storage::Storage::zeros(id.dtype, id.numel));
            declared.insert(
                id.key.clone(),
                Declared {
                    cell: cell.clone(),
                    dtype: id.dtype,
                    numel: id.numel,
                    filled: false,
                },
            );
            Ok((cell, offset))
        };
        let loader: &mut StorageLoader<'_> = &mut loader;
        let mut u = Unpickler::new(&bytes[pos..], loader);
        let v = u.load()?;
        (v, u.position())
    };
    pos += n;
    let (keys, n) = plain_pickle(&bytes[pos..])?;
    pos += n;
    let keys = keys
        .as_seq()
        .ok_or_else(|| bad("the storage key section is not a list"))?;
    for key in keys {
        let key = key
            .as_str()
            .ok_or_else(|| bad("a storage key is not a str"))?;
        let d = declared
            .get_mut(key)
            .ok_or_else(|| bad(format!("storage '{key}' is listed but no tensor uses it")))?;
        if d.filled {
            return Err(bad(format!("storage '{key}' is listed twice")));
        }
        let count = bytes
            .get(pos..pos + 8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
            .ok_or_else(|| bad(format!("storage '{key}' is cut short (truncated file?)")))?;
        pos += 8;
        if count != d.numel as i64 {
            return Err(bad(format!(
                "storage '{key}' holds {count} elements, but its tensors expect {}",
                d.numel
            )));
        }
        let nbytes = d.numel * d.dtype.size_in_bytes();
        let data = bytes
            .get(pos..pos + nbytes)
            .ok_or_else(|| bad(format!("storage '{key}' is cut short (truncated file?)")))?;
        pos += nbytes;
        *d.cell.write() = storage_from_bytes(d.dtype, data, false);
        d.filled = true;
    }
    if let Some((key, _)) = declared.iter().find(|(_, d)| !d.filled) {
        return Err(bad(format!("the data of storage '{key}' is missing")));
    }
    Ok(obj)
}
