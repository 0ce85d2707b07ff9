//! The harness's shape and resampling: F.pad, F.interpolate, F.pixel_shuffle, F.normalize, F.one_hot, dropout variants, embeddings with padding_idx, EmbeddingBag.

use crate::parity::eval::{Args, EvalResult};
use crate::parity::modules::CaseModule;

/// `F.*` calls of this family; `None` when `name` is not one.
pub fn functional(name: &str, a: &Args) -> Option<EvalResult> {
    let _ = (name, a);
    None
}

/// `nn.*` constructors of this family; `None` when `name` is not one.
pub fn module(name: &str, a: &Args) -> Option<Result<Box<dyn CaseModule>, String>> {
    let _ = (name, a);
    None
}
