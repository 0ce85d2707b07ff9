//! Tensor operations, each forward beside its backward.

pub(crate) mod binary;
pub(crate) mod compare;
pub(crate) mod index;
pub(crate) mod inplace;
pub(crate) mod join;
pub(crate) mod matmul;
pub(crate) mod operators;
pub(crate) mod reduce;
pub(crate) mod softmax;
pub(crate) mod unary;
pub(crate) mod view;

pub use binary::TensorOrScalar;

use crate::dtype::DType;
use crate::storage::CpuStorage;
use crate::tensor::Tensor;

/// Reads two tensors' buffers at once; a buffer shared by both is locked only once.
pub(crate) fn with_two_cpu<R>(
    a: &Tensor,
    b: &Tensor,
    f: impl FnOnce(&CpuStorage, &crate::shape::Layout, &CpuStorage, &crate::shape::Layout) -> R,
) -> R {
    if a.shares_storage(b) {
        a.with_cpu(|s, la| f(s, la, s, b.layout()))
    } else {
        a.with_cpu(|sa, la| b.with_cpu(|sb, lb| f(sa, la, sb, lb)))
    }
}

/// The tensor converted to `dtype` without recording autograd (a no-op when it already has it).
pub(crate) fn cast_raw(t: &Tensor, dtype: DType) -> Tensor {
    if t.dtype() == dtype {
        t.clone()
    } else {
        Tensor::from_cpu(
            t.with_cpu(|s, l| crate::tensor::cast_storage(s, l, dtype)),
            t.shape().clone(),
        )
    }
}

/// PyTorch's `result_type` for two tensors: dimensioned tensors decide within a category, a 0-dim
/// tensor only when it belongs to a higher category.
pub(crate) fn result_type(a: &Tensor, b: &Tensor) -> DType {
    let (da, db) = (a.dtype(), b.dtype());
    let (za, zb) = (a.ndim() == 0, b.ndim() == 0);
    if za == zb {
        return DType::promote(da, db);
    }
    let (dimmed, zero) = if za { (db, da) } else { (da, db) };
    if zero.category() > dimmed.category() {
        zero
    } else {
        dimmed
    }
}

/// The float type an operation on `dtype` computes in (integers and bools become float32).
pub(crate) fn float_type(dtype: DType) -> DType {
    if dtype.is_float() { dtype } else { DType::F32 }
}
