//! Checkpoints in PyTorch's formats, without Python: `torch.save`/`torch.load` files (`.pt`,
//! `.pth`: a zip of a pickle and raw storages, and the pre-1.6 legacy format when reading) and
//! safetensors files. Loading never runs code (as `torch.load(weights_only=True)`) and, whatever
//! the bytes, returns an [`Error`](crate::Error) naming the problem instead of panicking.

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
