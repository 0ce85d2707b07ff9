//! In-place operations (`add_`, `mul_`, `clamp_`, `fill_`, `copy_`, ...). Each bumps the version
//! counter shared by the tensor and its views, which is how a later backward detects that a saved
//! tensor changed. Under autograd the operation is computed out of place from a snapshot of the
//! values that keeps the tensor's graph position, and the tensor's history is rebased onto it
//! (for a view, its base gets a `CopySlices` node), as in PyTorch.

use super::binary::{BinOp, TensorOrScalar, binary_raw, compute_type, scalar_raw, with_binop};
use super::{broadcast_layout, result_type};
use crate::autograd::{backward_fn, check_inplace, grad_fn_of, needs_grad, rebase_history, record};
use crate::backend::ops::{self, UnaryOp};
use crate::dtype::DType;
use crate::scalar::{Scalar, result_type_with_scalar};
use crate::storage::lock_write_read;
use crate::tensor::Tensor;
use std::sync::atomic::Ordering;

/// Whether an in-place operation on `t` with `others` must be recorded in the graph.
#[track_caller]
pub(crate) fn tracked(t: &Tensor, others: &[&Tensor]) -> bool {
    needs_grad(&[t]) || needs_grad(others)
}

#[track_caller]
fn check_cast(result: DType, out: DType) {
    if result.category() > out.category() {
        panic!(
            "result type {} can't be cast to the desired output type {}",
            result.scalar_name(),
            out.scalar_name()
        );
    }
}

/// PyTorch's memory-overlap checks before writing into `dst` while reading `srcs`
/// (`assert_no_internal_overlap`, `assert_no_partial_overlap`).
#[track_caller]
pub(crate) fn check_overlap(dst: &Tensor, srcs: &[&Tensor]) {
    if dst.layout().has_internal_overlap() {
        panic!(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation."
        );
    }
    if srcs.iter().any(|s| partial_overlap(dst, s)) {
        panic!(
            "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single memory location. Please clone() the tensor before performing the operation."
        );
    }
}

/// ATen's `get_overlap_status(a, b) == Partial`: two dense views of one storage whose spans
/// overlap without being the very same elements.
#[track_caller]
fn partial_overlap(a: &Tensor, b: &Tensor) -> bool {
    if a.is_same(b) || !a.shares_storage(b) || a.numel() == 0 || b.numel() == 0 {
        return false;
    }
    let (la, lb) = (a.layout(), b.layout());
    if !la.is_non_overlapping_and_dense() || !lb.is_non_overlapping_and_dense() {
        return false; // too hard to tell: PyTorch lets it through
    }
    let (ra, rb) = (
        la.offset..la.offset + la.numel(),
        lb.offset..lb.offset + lb.numel(),
    );
    if ra == rb {
        return la.strides != lb.strides;
    }
    ra.start < rb.end && rb.start < ra.end
}

/// Panics unless `src` broadcasts to exactly `dims`, with PyTorch's messages.
#[track_caller]
pub(crate) fn check_broadcast_to(src: &[usize], dims: &[usize]) {
    let b = crate::shape::broadcast_shapes(dims, src);
    if b.dims() != dims {
        panic!(
            "output with shape {:?} doesn't match the broadcast shape {:?}",
            dims,
            b.dims()
        );
    }
}

backward_fn! {
    struct FillBackward0 {}
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(Tensor::zeros_like(grad))]
    }
}

backward_fn! {
    /// `self.copy_(src)`: nothing flows to the overwritten values; `src` gets the gradient,
    /// summed to its shape and cast to its dtype by the engine.
    struct CopyBackwards {}
    saved []
    fn backward(&mut self, grad, needs) {
        let gs = needs[0].then(|| Tensor::zeros_like(grad));
        smallvec::smallvec![gs, needs[1].then(|| grad.clone())]
    }
}

impl Tensor {
    /// A private copy of the current values that keeps this tensor's place in the graph; in-place
    /// operations compute from it so that what they save is never overwritten.
    #[track_caller]
    fn snapshot(&self) -> Tensor {
        let copy = self.clone_tensor_raw();
        let grad_fn = grad_fn_of(self);
        let requires_grad = self.requires_grad();
        if let Some(f) = grad_fn {
            copy.meta().grad_fn = Some(f);
        }
        copy.0.requires_grad.store(requires_grad, Ordering::Relaxed);
        copy
    }

    /// Runs a tracked in-place operation: checks, computes `f(snapshot)` out of place, writes the
    /// values and rebases the history.
    #[track_caller]
    pub(crate) fn inplace_tracked(&self, f: impl FnOnce(&Tensor) -> Tensor) -> Tensor {
        check_inplace(self, true);
        let result = f(&self.snapshot());
        self.copy_raw(&result);
        rebase_history(self, &result);
        self.clone()
    }

    /// Writes `src` (broadcast to this shape, cast to this dtype) into this tensor's elements,
    /// without autograd; bumps the version. A source sharing this tensor's storage is copied
    /// first.
    #[track_caller]
    pub(crate) fn copy_raw(&self, src: &Tensor) {
        check_broadcast_to(src.dims(), self.dims());
        let src = src.cast_raw(self.dtype());
        let src = if src.shares_storage(self) {
            src.clone_tensor_raw()
        } else {
            src
        };
        let src_layout = broadcast_layout(&src, self.dims());
        {
            let (mut w, r) = lock_write_read(self.cell(), src.cell());
            w.copy_into(self.layout(), &r, &src_layout);
        }
        self.bump_version();
    }

    /// Applies an elementwise op in place, without autograd.
    #[track_caller]
    pub(crate) fn unary_inplace_raw<O: UnaryOp>(&self, op: O) {
        self.0.storage.write().unary_inplace(op, self.layout());
        self.bump_version();
    }

    /// `self += other` in place, without autograd (gradient accumulation).
    #[track_caller]
    pub(crate) fn add_assign_raw(&self, other: &Tensor) {
        self.inplace_binary_raw(&TensorOrScalar::Tensor(other.clone()), BinOp::Add);
    }

    /// Updates elements in place with a kernel, without autograd. When the operation computes in
    /// this tensor's dtype the kernel writes in place; otherwise (a wider or integer-to-float
    /// computation) the result is computed out of place and cast back.
    #[track_caller]
    fn inplace_binary_raw(&self, other: &TensorOrScalar, op: BinOp) {
        let promoted = match other {
            TensorOrScalar::Tensor(o) => result_type(self, o),
            TensorOrScalar::Scalar(s) => result_type_with_scalar(self.dtype(), *s),
        };
        if compute_type(op, promoted) != self.dtype() {
            let result = match other {
                TensorOrScalar::Tensor(o) => binary_raw(self, o, op),
                TensorOrScalar::Scalar(s) => scalar_raw(self, *s, op, false),
            };
            self.copy_raw(&result);
            return;
        }
        match other {
            TensorOrScalar::Scalar(s) => {
                let mut storage = self.0.storage.write();
                with_binop!(op, o => storage.binary_scalar_inplace(o, self.layout(), *s));
            }
            TensorOrScalar::Tensor(o) => {
                check_broadcast_to(o.dims(), self.dims());
                let o = o.cast_raw(self.dtype());
                let o = if o.shares_storage(self) {
                    o.clone_tensor_raw()
                } else {
                    o
                };
                let ol = broadcast_layout(&o, self.dims());
                let (mut w, r) = lock_write_read(self.cell(), o.cell());
                with_binop!(op, op => w.binary_inplace(op, self.layout(), &r, &ol));
            }
        }
        self.bump_version();
    }

    #[track_caller]
    fn inplace_binary(&self, other: TensorOrScalar, op: BinOp) -> Tensor {
        let result_dtype = match &other {
            TensorOrScalar::Tensor(o) => result_type(self, o),
            TensorOrScalar::Scalar(s) => result_type_with_scalar(self.dtype(), *s),
        };
        let result_dtype = if op == BinOp::Div {
            super::float_type(result_dtype)
        } else {
            result_dtype
        };
        check_cast(result_dtype, self.dtype());
        let others: Vec<&Tensor> = match &other {
            TensorOrScalar::Tensor(o) => vec![o],
            TensorOrScalar::Scalar(_) => vec![],
        };
        check_overlap(self, &others);
        if !tracked(self, &others) {
            self.inplace_binary_raw(&other, op);
            return self.clone();
        }
        self.inplace_tracked(|snap| match op {
            BinOp::Add => snap.add(other),
            BinOp::Sub => snap.sub(other),
            BinOp::Mul => snap.mul(other),
            BinOp::Div => snap.div(other),
            BinOp::Pow => snap.pow(other),
            BinOp::Maximum => snap.maximum(other),
            BinOp::Minimum => snap.minimum(other),
        })
    }

    /// `self += other` in place (`tensor.add_(other)`); returns the tensor for chaining.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([1.0, 2.0]);
    /// t.add_(1.0).mul_(2.0);
    /// assert_eq!(t.to_vec::<f32>(), vec![4.0, 6.0]);
    /// ```
    #[track_caller]
    pub fn add_(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.inplace_binary(other.into(), BinOp::Add)
    }

    /// `self -= other` in place (`tensor.sub_(other)`).
    #[track_caller]
    pub fn sub_(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.inplace_binary(other.into(), BinOp::Sub)
    }

    /// `self *= other` in place (`tensor.mul_(other)`).
    #[track_caller]
    pub fn mul_(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.inplace_binary(other.into(), BinOp::Mul)
    }

    /// `self /= other` in place (`tensor.div_(other)`).
    #[track_caller]
    pub fn div_(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.inplace_binary(other.into(), BinOp::Div)
    }

    /// `self **= exponent` in place (`tensor.pow_(exponent)`).
    #[track_caller]
    pub fn pow_(&self, exponent: impl Into<TensorOrScalar>) -> Tensor {
        self.inplace_binary(exponent.into(), BinOp::Pow)
    }

    /// Runs a unary op in place: `raw` when autograd does not record it, else the out-of-place
    /// `tracked` form on a snapshot.
    #[track_caller]
    fn inplace_unary<O: UnaryOp>(
        &self,
        op: O,
        tracked_op: impl FnOnce(&Tensor) -> Tensor,
    ) -> Tensor {
        check_overlap(self, &[]);
        if !tracked(self, &[]) {
            if self.dtype().is_float() || self.dtype() == DType::I64 {
                self.unary_inplace_raw(op);
            } else {
                let r = crate::autograd::no_grad(|| tracked_op(self));
                self.copy_raw(&r);
            }
            return self.clone();
        }
        self.inplace_tracked(tracked_op)
    }

    /// Limits values to `[min, max]` in place (`tensor.clamp_(min, max)`).
    #[track_caller]
    pub fn clamp_(&self, min: Option<f64>, max: Option<f64>) -> Tensor {
        if min.is_none() && max.is_none() {
            panic!("torch.clamp: At least one of 'min' or 'max' must not be None");
        }
        let op = ops::Clamp {
            lo: min.unwrap_or(f64::NEG_INFINITY),
            hi: max.unwrap_or(f64::INFINITY),
        };
        self.inplace_unary(op, |t| t.clamp(min, max))
    }

    /// `max(x, 0)` in place (`tensor.relu_()`).
    #[track_caller]
    pub fn relu_(&self) -> Tensor {
        self.inplace_unary(ops::Relu {}, |t| t.relu())
    }

    /// The logistic function in place (`tensor.sigmoid_()`).
    #[track_caller]
    pub fn sigmoid_(&self) -> Tensor {
        self.float_inplace(ops::Sigmoid {}, |t| t.sigmoid())
    }

    /// `tanh` in place (`tensor.tanh_()`).
    #[track_caller]
    pub fn tanh_(&self) -> Tensor {
        self.float_inplace(ops::Tanh {}, |t| t.tanh())
    }

    /// `e^x` in place (`tensor.exp_()`).
    #[track_caller]
    pub fn exp_(&self) -> Tensor {
        self.float_inplace(ops::Exp {}, |t| t.exp())
    }

    /// `-x` in place (`tensor.neg_()`).
    #[track_caller]
    pub fn neg_(&self) -> Tensor {
        self.inplace_unary(ops::Neg {}, |t| t.neg())
    }

    /// A float function in place: integer tensors cannot hold the result (PyTorch's message).
    #[track_caller]
    fn float_inplace<O: UnaryOp>(&self, op: O, f: impl FnOnce(&Tensor) -> Tensor) -> Tensor {
        check_cast(DType::F32, self.dtype());
        self.inplace_unary(op, f)
    }

    /// Sets every element to zero (`tensor.zero_()`).
    #[track_caller]
    pub fn zero_(&self) -> Tensor {
        self.fill_(0.0)
    }

    /// Sets every element to `value` (`tensor.fill_(value)`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let t = Tensor::zeros([2, 2]);
    /// t.t().fill_(3.0);
    /// assert_eq!(t.to_vec::<f32>(), vec![3.0; 4]);
    /// ```
    #[track_caller]
    pub fn fill_(&self, value: impl Into<Scalar>) -> Tensor {
        let value = value.into();
        check_cast(value.default_dtype(), self.dtype());
        if !tracked(self, &[]) {
            self.0.storage.write().fill(self.layout(), value);
            self.bump_version();
            return self.clone();
        }
        self.inplace_tracked(|snap| {
            let filled = Tensor::full_dtype(snap.shape(), value, snap.dtype());
            record(filled, &[snap], |_| FillBackward0 {})
        })
    }

    /// Copies `src` (broadcast, converted) into this tensor's elements (`tensor.copy_(src)`).
    ///
    /// ```
    /// use flambeau::{tensor, Tensor};
    /// let t = Tensor::zeros([2, 2]);
    /// t.copy_(&tensor!([1.0, 2.0]));
    /// assert_eq!(t.to_vec::<f32>(), vec![1.0, 2.0, 1.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn copy_(&self, src: &Tensor) -> Tensor {
        if self.is_same(src) {
            return self.clone();
        }
        check_overlap(self, &[src]);
        if !tracked(self, &[src]) {
            self.copy_raw(src);
            return self.clone();
        }
        self.inplace_tracked(|snap| {
            check_broadcast_to(src.dims(), snap.dims());
            let value = src
                .detach()
                .cast_raw(snap.dtype())
                .expand(snap.dims())
                .clone_tensor_raw();
            record(value, &[snap, src], |_| CopyBackwards {})
        })
    }

    /// Fills positions where `mask` is true with `value`, in place (`tensor.masked_fill_`).
    #[track_caller]
    pub fn masked_fill_(&self, mask: &Tensor, value: impl Into<Scalar>) -> Tensor {
        let value = value.into();
        if !tracked(self, &[]) {
            let r = crate::autograd::no_grad(|| self.masked_fill(mask, value));
            self.copy_raw(&r);
            return self.clone();
        }
        self.inplace_tracked(|snap| snap.masked_fill(mask, value))
    }
}
