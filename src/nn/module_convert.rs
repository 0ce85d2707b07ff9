//! Whole-module conversions behind [`Module`]'s methods: `module.to(dtype)`, `module.to(device)`
//! and `copy.deepcopy(module)`. Each walks the tensors with `map_tensors` and keeps tensors the
//! module shares (tied weights) shared in the result, as PyTorch's do.

use super::Module;
use crate::autograd::no_grad;
use crate::tensor::Tensor;
use crate::{DType, Device};

/// Applies `convert` to each distinct tensor of `m` once; a tensor met again (a tied weight)
/// gets the first result, so sharing survives the conversion.
fn map_distinct<M: Module + ?Sized>(m: &mut M, mut convert: impl FnMut(&Tensor) -> Tensor) {
    let mut converted: Vec<(usize, Tensor)> = Vec::new();
    m.map_tensors(&mut |t: &Tensor| {
        let key = std::sync::Arc::as_ptr(&t.0) as usize;
        if let Some((_, n)) = converted.iter().find(|(k, _)| *k == key) {
            return n.clone();
        }
        let n = convert(t);
        converted.push((key, n.clone()));
        n
    });
}

/// `module.to(dtype)`: see [`Module::to_dtype`].
pub(super) fn to_dtype<M: Module + ?Sized>(m: &mut M, dtype: DType) {
    map_distinct(m, |t| {
        if !t.dtype().is_float() || t.dtype() == dtype {
            return t.clone();
        }
        let data = t.detach().to_dtype(dtype);
        if t.try_set_data(&data) {
            if let Some(g) = t.grad() {
                t.meta().grad = Some(g.detach().to_dtype(dtype));
            }
            t.clone()
        } else if t.requires_grad() {
            data.requires_grad_(true)
        } else {
            data
        }
    });
}

/// `module.to(device)`: see [`Module::to_device`]. The CPU is the only device, where every
/// tensor already is.
pub(super) fn to_device<M: Module + ?Sized>(m: &mut M, device: Device) {
    map_distinct(m, |t| t.to_device(device));
}

/// `copy.deepcopy(module)`: see [`Module::deep_clone`].
pub(super) fn deep_clone<M: Module + Clone>(m: &M) -> M {
    let mut c = m.clone();
    map_distinct(&mut c, |t| {
        let copy = no_grad(|| t.detach().clone_tensor()).requires_grad_(t.requires_grad());
        if let Some(g) = t.grad() {
            copy.meta().grad = Some(no_grad(|| g.detach().clone_tensor()));
        }
        copy
    });
    c
}
