//! Checkpoints in PyTorch's formats, without Python: `torch.save`/`torch.load` files (`.pt`,
//! `.pth`: a zip of a pickle and raw storages, and the pre-1.6 legacy format when reading) and
//! safetensors files. Loading never runs code (as `torch.load(weights_only=True)`) and, whatever
//! the bytes, returns an [`Error`](crate::Error) naming the problem instead of panicking.

pub mod value;

pub use value::Value;
