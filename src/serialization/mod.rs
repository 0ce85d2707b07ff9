//! Checkpoints in PyTorch's formats, without Python: `torch.save`/`torch.load` files (`.pt`,
//! `.pth`: a zip of a pickle and raw storages, and the pre-1.6 legacy format when reading) and
//! safetensors files. Loading never runs code (as `torch.load(weights_only=True)`) and, whatever
//! the bytes, returns an [`Error`](crate::Error) naming the problem instead of panicking.

mod legacy;
mod pickle;
mod pt;
pub mod value;
mod zip;

pub use value::Value;

use crate::nn::StateDict;
use crate::{Error, Result};
use std::path::Path;

fn not_yet(what: &str) -> Error {
    Error::Format(format!("{what}: not implemented yet"))
}

/// Writes `obj` as `torch.save` does (a zip of `data.pkl` and the raw storages), so that
/// `torch.load(path, weights_only=True)` reads it in Python. As in PyTorch, the archive's
/// folder is the file's name without its extension.
///
/// Tensors that share a storage (views) are written with it once and keep their offsets and
/// strides; a leaf that requires grad is written as an `nn.Parameter`; a non-empty dict of
/// string keys and tensors (a state dict) as an `OrderedDict`, any other dict as a `dict`.
///
/// ```
/// use flambeau::nn::{Linear, Module};
/// use flambeau::serialization::{load, save, Value};
/// let model = Linear::new(3, 2);
/// let path = std::env::temp_dir().join("flambeau_doc_save.pt");
/// save(Value::dict([("model", Value::from(&model.state_dict())), ("epoch", Value::Int(3))]), &path)?;
/// let ckpt = load(&path)?;
/// assert_eq!(ckpt.get("epoch").and_then(Value::as_int), Some(3));
/// model.load_state_dict(&ckpt.get("model").unwrap().to_state_dict()?, true)?;
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), flambeau::Error>(())
/// ```
pub fn save(obj: impl Into<Value>, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let archive = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("archive");
    let bytes = pt::save(&obj.into(), archive)?;
    std::fs::write(path, bytes)?;
    Ok(())
}

/// The bytes [`save`] writes, with records under `archive/` (what `torch.save` writes to a
/// buffer).
///
/// ```
/// use flambeau::{tensor, serialization::{load_from_bytes, save_to_bytes, Value}};
/// let bytes = save_to_bytes(&Value::from(tensor!([1.0, 2.0])))?;
/// assert_eq!(&bytes[..4], b"PK\x03\x04");
/// let t = load_from_bytes(&bytes)?;
/// assert_eq!(t.as_tensor().unwrap().to_vec::<f32>(), vec![1.0, 2.0]);
/// # Ok::<(), flambeau::Error>(())
/// ```
pub fn save_to_bytes(obj: &Value) -> Result<Vec<u8>> {
    pt::save(obj, "archive")
}

/// Reads a `torch.save` file (zip format, or the pre-1.6 legacy format) as
/// `torch.load(path, weights_only=True)` does: only data is built (dicts, lists, tuples,
/// numbers, strings, tensors), never code; anything else is an [`Error::Format`] naming it.
/// Tensors saved from one storage share one storage again, as views of it.
///
/// ```no_run
/// use flambeau::serialization::load;
/// let sd = load("model.pt")?.to_state_dict()?;
/// # Ok::<(), flambeau::Error>(())
/// ```
pub fn load(path: impl AsRef<Path>) -> Result<Value> {
    let path = path.as_ref();
    let bytes = std::fs::read(path)?;
    load_from_bytes(&bytes).map_err(|e| match e {
        Error::Format(msg) => Error::Format(format!("{}: {msg}", path.display())),
        other => other,
    })
}

/// [`load`] on bytes in memory. Whatever the bytes, this returns an error rather than
/// panicking, and allocates no more than the input's size warrants.
///
/// ```
/// use flambeau::serialization::load_from_bytes;
/// let err = load_from_bytes(b"not a checkpoint").unwrap_err();
/// assert!(err.to_string().contains("not a torch.save file"));
/// ```
pub fn load_from_bytes(bytes: &[u8]) -> Result<Value> {
    if zip::is_zip(bytes) {
        pt::load(bytes)
    } else if bytes.starts_with(legacy::MAGIC_PICKLE) {
        legacy::load(bytes)
    } else if legacy::is_tar(bytes) {
        Err(Error::Format(
            "a legacy .tar torch.save file (torch < 0.4): Flambeau reads the zip format and the pre-1.6 pickle format".into(),
        ))
    } else {
        Err(Error::Format(
            "not a torch.save file: neither a zip archive nor a legacy pickle with torch's magic number".into(),
        ))
    }
}

/// Writes a state dict as a safetensors file (what `safetensors.torch.save_file` writes).
pub fn save_safetensors(sd: &StateDict, path: impl AsRef<Path>) -> Result<()> {
    let bytes = safetensors_to_bytes(sd)?;
    std::fs::write(path, bytes)?;
    Ok(())
}

/// The bytes [`save_safetensors`] writes.
pub fn safetensors_to_bytes(_sd: &StateDict) -> Result<Vec<u8>> {
    Err(not_yet("save_safetensors"))
}

/// Reads a safetensors file into a state dict, in the file's order.
pub fn load_safetensors(path: impl AsRef<Path>) -> Result<StateDict> {
    let bytes = std::fs::read(path)?;
    safetensors_from_bytes(&bytes)
}

/// [`load_safetensors`] on bytes in memory.
pub fn safetensors_from_bytes(_bytes: &[u8]) -> Result<StateDict> {
    Err(not_yet("load_safetensors"))
}
