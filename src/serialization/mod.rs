//! Checkpoints in PyTorch's formats, without Python: `torch.save`/`torch.load` files (`.pt`,
//! `.pth`: a zip of a pickle and raw storages, and the pre-1.6 legacy format when reading) and
//! safetensors files. Loading never runs code (as `torch.load(weights_only=True)`) and, whatever
//! the bytes, returns an [`Error`](crate::Error) naming the problem instead of panicking.

mod legacy;
mod pickle;
mod pt;
pub mod safetensors;
pub mod value;
mod zip;

pub use value::Value;

use crate::nn::StateDict;
use crate::{Error, Result};
use std::path::Path;

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

/// Writes a state dict as a safetensors file, the bytes `safetensors.torch.save_file(sd, path,
/// metadata={"format": "pt"})` writes (the metadata Hugging Face's loaders look for), so that
/// `safetensors.torch.load_file(path)` and then `model.load_state_dict(..)` read it in Python.
///
/// ```
/// use flambeau::nn::{Linear, Module};
/// use flambeau::serialization::{load_safetensors, save_safetensors};
/// let m = Linear::new(3, 2);
/// let path = std::env::temp_dir().join(format!("flambeau-doc-{}.safetensors", std::process::id()));
/// save_safetensors(&m.state_dict(), &path).unwrap();
/// let back = Linear::new(3, 2);
/// back.load_state_dict(&load_safetensors(&path).unwrap(), true).unwrap();
/// assert!(back.weight.equal(&m.weight));
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn save_safetensors(sd: &StateDict, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = safetensors_to_bytes(sd)?;
    std::fs::write(path, bytes).map_err(|e| io_error_naming(e, path))?;
    Ok(())
}

/// The bytes [`save_safetensors`] writes.
///
/// ```
/// use flambeau::nn::StateDict;
/// use flambeau::Tensor;
/// let mut sd = StateDict::new();
/// sd.insert("w", Tensor::from_vec(vec![1.5f32], [1]));
/// let bytes = flambeau::serialization::safetensors_to_bytes(&sd).unwrap();
/// let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
/// assert_eq!(
///     std::str::from_utf8(&bytes[8..8 + header_len]).unwrap().trim_end(),
///     r#"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
/// );
/// assert_eq!(&bytes[8 + header_len..], &1.5f32.to_le_bytes());
/// ```
pub fn safetensors_to_bytes(sd: &StateDict) -> Result<Vec<u8>> {
    safetensors::write(sd, Some(&[("format", "pt")]))
}

/// Reads a safetensors file into a state dict, in the order `safetensors.torch.load_file`
/// returns (the order of the tensors' data, which is the header's order in files the reference
/// writer made). A malformed file is an [`Error::Format`] that names the file and the problem.
///
/// ```
/// use flambeau::serialization::load_safetensors;
/// let path = std::env::temp_dir().join(format!("flambeau-doc-bad-{}.safetensors", std::process::id()));
/// std::fs::write(&path, b"\x02\0\0\0\0\0\0\0{]").unwrap();
/// let err = load_safetensors(&path).unwrap_err().to_string();
/// assert!(err.ends_with("invalid safetensors file: the header is not valid JSON: expected a string key at byte 1 of the header"), "{err}");
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn load_safetensors(path: impl AsRef<Path>) -> Result<StateDict> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| io_error_naming(e, path))?;
    safetensors_from_bytes(&bytes).map_err(|e| match e {
        Error::Format(msg) => Error::Format(format!("{}: {msg}", path.display())),
        other => other,
    })
}

/// [`load_safetensors`] on bytes in memory.
///
/// ```
/// let bytes = b"\x08\0\0\0\0\0\0\0{}      ";
/// assert!(flambeau::serialization::safetensors_from_bytes(bytes).unwrap().is_empty());
/// ```
pub fn safetensors_from_bytes(bytes: &[u8]) -> Result<StateDict> {
    Ok(safetensors::read(bytes)?.tensors)
}

/// An I/O error whose message names the file (`std::fs` errors do not).
fn io_error_naming(e: std::io::Error, path: &Path) -> Error {
    Error::Io(std::io::Error::new(
        e.kind(),
        format!("{}: {e}", path.display()),
    ))
}
