//! Checkpoints in PyTorch's formats, without Python: `torch.save`/`torch.load` files (`.pt`,
//! `.pth`: a zip of a pickle and raw storages, and the pre-1.6 legacy format when reading) and
//! safetensors files. Loading never runs code (as `torch.load(weights_only=True)`) and, whatever
//! the bytes, returns an [`Error`](crate::Error) naming the problem instead of panicking.

pub mod safetensors;
pub mod value;

pub use value::Value;

use crate::nn::StateDict;
use crate::{Error, Result};
use std::path::Path;

fn not_yet(what: &str) -> Error {
    Error::Format(format!("{what}: not implemented yet"))
}

/// Writes `obj` as `torch.save` does (a zip of `data.pkl` and the raw storages), so that
/// `torch.load(path, weights_only=True)` reads it in Python.
pub fn save(obj: impl Into<Value>, path: impl AsRef<Path>) -> Result<()> {
    let bytes = save_to_bytes(&obj.into())?;
    std::fs::write(path, bytes)?;
    Ok(())
}

/// The bytes [`save`] writes.
pub fn save_to_bytes(_obj: &Value) -> Result<Vec<u8>> {
    Err(not_yet("save"))
}

/// Reads a `torch.save` file (zip format, or the pre-1.6 legacy format) as
/// `torch.load(path, weights_only=True)` does.
pub fn load(path: impl AsRef<Path>) -> Result<Value> {
    let bytes = std::fs::read(path)?;
    load_from_bytes(&bytes)
}

/// [`load`] on bytes in memory.
pub fn load_from_bytes(_bytes: &[u8]) -> Result<Value> {
    Err(not_yet("load"))
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
