//! Tensor operations, each forward beside its backward. Operations speak of tensors and call the
//! backend families of `Storage` (they never see a device's buffers); a function or method with
//! `_raw` in its name records no autograd.

pub(crate) mod activation;
pub(crate) mod activation_more;
pub(crate) mod binary;
pub(crate) mod compare;
pub(crate) mod conv;
pub(crate) mod counting;
pub(crate) mod cumulative;
pub(crate) mod einsum;
pub(crate) mod fused;
pub(crate) mod index;
pub(crate) mod index_advanced;
pub(crate) mod index_more;
pub(crate) mod inplace;
pub(crate) mod join;
pub(crate) mod loss;
pub(crate) mod math_more;
pub(crate) mod matmul;
pub(crate) mod norm;
pub(crate) mod operators;
pub(crate) mod pool;
pub(crate) mod reduce;
pub(crate) mod reduce_more;
pub(crate) mod shape_more;
pub(crate) mod slice;
pub(crate) mod softmax;
pub(crate) mod sort;
pub(crate) mod unary;
pub(crate) mod view;

pub use binary::TensorOrScalar;

use crate::backend::ops::{BinaryOp, UnaryOp};
use crate::dtype::DType;
use crate::shape::{Layout, Shape, broadcast_shapes, broadcast_strides};
use crate::storage::ReadPair;
use crate::tensor::Tensor;

/// PyTorch's `result_type` for two tensors: dimensioned tensors decide within a category, a 0-dim
/// tensor only when it belongs to a higher category.
#[track_caller]
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
#[track_caller]
pub(crate) fn float_type(dtype: DType) -> DType {
    if dtype.is_float() { dtype } else { DType::F32 }
}

/// A layout reading `t` as if expanded to `dims` (stride 0 on broadcast dims).
#[track_caller]
pub(crate) fn broadcast_layout(t: &Tensor, dims: &[usize]) -> Layout {
    let l = t.layout();
    Layout {
        shape: Shape::new(dims),
        strides: broadcast_strides(l.dims(), &l.strides, dims),
        offset: l.offset,
    }
}

impl Tensor {
    /// `op(x)` for every element, without autograd; the result has this tensor's dtype.
    #[track_caller]
    pub(crate) fn map_raw<O: UnaryOp>(&self, op: O) -> Tensor {
        let storage = self.storage().unary(op, self.layout());
        Tensor::from_storage(storage, self.shape().clone())
    }

    /// `op(x)` computed in float (integers are promoted to float32 first, as PyTorch's `exp`,
    /// `log`, ... do), without autograd.
    #[track_caller]
    pub(crate) fn map_float_raw<O: UnaryOp>(&self, op: O) -> Tensor {
        self.cast_raw(float_type(self.dtype())).map_raw(op)
    }

    /// `op(self, other)` with both broadcast, without autograd; both have one dtype already.
    #[track_caller]
    pub(crate) fn zip_raw<O: BinaryOp>(&self, other: &Tensor, op: O) -> Tensor {
        let shape = broadcast_shapes(self.dims(), other.dims());
        let storage = {
            let pair = ReadPair::new(self.cell(), other.cell());
            let (a, b) = pair.get();
            a.binary(op, self.layout(), b, other.layout(), &shape)
        };
        Tensor::from_storage(storage, shape)
    }

    /// `op(self, other)` computed in the promoted float type of both, without autograd (the
    /// fused kernels of the named backward ops).
    #[track_caller]
    pub(crate) fn zip_float_raw<O: BinaryOp>(&self, other: &Tensor, op: O) -> Tensor {
        let dtype = float_type(DType::promote(self.dtype(), other.dtype()));
        self.cast_raw(dtype).zip_raw(&other.cast_raw(dtype), op)
    }
}
