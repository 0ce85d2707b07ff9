//! In-place operations (`add_`, `mul_`, `fill_`, `copy_`, ...). Each bumps the version counter
//! shared by the tensor and its views, which is how a later backward detects that a saved tensor
//! changed. Under autograd, the tensor's `grad_fn` is rebased onto the in-place operation, as in
//! PyTorch.

use super::binary::{BinOp, TensorOrScalar, binary_raw, scalar_raw};
use super::{cast_raw, result_type};
use crate::autograd::{backward_fn, is_grad_enabled, record};
use crate::dtype::DType;
use crate::kernels::cpu::{self, fused};
use crate::scalar::{Scalar, result_type_with_scalar};
use crate::shape::{Layout, broadcast_strides};
use crate::storage::CpuStorage;
use crate::tensor::Tensor;
use std::sync::atomic::Ordering;

/// Refuses in-place changes PyTorch refuses: on a leaf that requires grad while grad mode is on.
pub(crate) fn check_inplace(t: &Tensor) {
    if is_grad_enabled() && t.requires_grad() && t.is_leaf() {
        panic!("a leaf Variable that requires grad is being used in an in-place operation.");
    }
}

/// Whether an in-place operation on `t` with `others` must be recorded in the graph.
fn tracked(t: &Tensor, others: &[&Tensor]) -> bool {
    is_grad_enabled() && (t.requires_grad() || others.iter().any(|o| o.requires_grad()))
}

fn check_cast(result: DType, out: DType) {
    if result.category() > out.category() {
        panic!(
            "result type {} can't be cast to the desired output type {}",
            result.scalar_name(),
            out.scalar_name()
        );
    }
}

backward_fn! {
    struct ZeroGradBackward {}
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.mul(0.0))]
    }
}

backward_fn! {
    struct CopyBackward { src: super::binary::InputMeta }
    saved []
    fn backward(&mut self, grad, needs) {
        let gs = needs[0].then(|| grad.mul(0.0));
        let gsrc = needs[1].then(|| self.src.reduce(grad));
        smallvec::smallvec![gs, gsrc]
    }
}

impl Tensor {
    /// A private copy of the current values that keeps this tensor's place in the graph; in-place
    /// operations compute from it so that what they save is never overwritten.
    fn snapshot(&self) -> Tensor {
        let copy = self.clone_tensor_raw();
        if let Some(f) = self.grad_fn() {
            copy.meta().grad_fn = Some(f);
        }
        copy.0
            .requires_grad
            .store(self.requires_grad(), Ordering::Relaxed);
        copy
    }

    /// Makes `result` (computed from a snapshot) the new value and graph position of `self`.
    fn rebase(&self, result: &Tensor) {
        if self.0.is_view {
            // PyTorch rebases the view's base onto a CopySlices node; until Flambeau does, an
            // in-place change of a view under autograd is refused rather than lose gradients.
            panic!(
                "in-place operations on views are not supported yet in Flambeau when autograd records them (an operand requires grad); use the out-of-place operation, or no_grad if no gradient is wanted"
            );
        }
        self.copy_raw(result);
        if let Some(f) = result.grad_fn() {
            self.0.storage.bump_rebases();
            self.meta().grad_fn = Some(f);
            self.0.requires_grad.store(true, Ordering::Relaxed);
        }
    }

    /// Writes `src` (broadcast to this shape, cast to this dtype) into this tensor's elements,
    /// without autograd; bumps the version.
    pub(crate) fn copy_raw(&self, src: &Tensor) {
        let src = cast_raw(src, self.dtype());
        let dims = self.dims().to_vec();
        // Read the source into a row-major buffer first: it may share storage with `self`.
        check_broadcast_to(src.dims(), &dims);
        let values = src.with_cpu(|s, l| {
            let expanded = Layout {
                shape: self.shape().clone(),
                strides: broadcast_strides(l.dims(), &l.strides, &dims),
                offset: l.offset,
            };
            crate::tensor::cast_storage(s, &expanded, s.dtype())
        });
        self.with_cpu_mut(|d, l| match (d, &values) {
            (CpuStorage::F32(d), CpuStorage::F32(v)) => cpu::write_strided(d, l, v),
            (CpuStorage::F64(d), CpuStorage::F64(v)) => cpu::write_strided(d, l, v),
            (CpuStorage::I64(d), CpuStorage::I64(v)) => cpu::write_strided(d, l, v),
            (CpuStorage::Bool(d), CpuStorage::Bool(v)) => cpu::write_strided(d, l, v),
            _ => unreachable!("cast to the destination dtype"),
        });
    }

    /// `self += other` in place, without autograd (gradient accumulation).
    pub(crate) fn add_assign_raw(&self, other: &Tensor) {
        self.inplace_binary_raw(&TensorOrScalar::Tensor(other.clone()), BinOp::Add);
    }

    /// Updates elements in place with a kernel, without autograd.
    fn inplace_binary_raw(&self, other: &TensorOrScalar, op: BinOp) {
        // Fast path: float tensor and scalar or same-dtype tensor without shared storage.
        let same_dtype_tensor = matches!(other, TensorOrScalar::Tensor(o) if o.dtype() == self.dtype() && !o.shares_storage(self));
        if self.dtype().is_float()
            && (same_dtype_tensor || matches!(other, TensorOrScalar::Scalar(_)))
            && op != BinOp::Pow
        {
            match other {
                TensorOrScalar::Scalar(s) => {
                    let v = s.to_f64();
                    self.with_cpu_mut(|d, l| match d {
                        CpuStorage::F32(d) => apply_scalar(d, l, v as f32, op),
                        CpuStorage::F64(d) => apply_scalar(d, l, v, op),
                        _ => unreachable!(),
                    });
                }
                TensorOrScalar::Tensor(o) => {
                    let dims = self.dims().to_vec();
                    check_broadcast_to(o.dims(), &dims);
                    o.with_cpu(|s, ls| {
                        let src = Layout {
                            shape: self.shape().clone(),
                            strides: broadcast_strides(ls.dims(), &ls.strides, &dims),
                            offset: ls.offset,
                        };
                        self.with_cpu_mut(|d, l| match (d, s) {
                            (CpuStorage::F32(d), CpuStorage::F32(s)) => {
                                apply_tensor(d, l, s, &src, op)
                            }
                            (CpuStorage::F64(d), CpuStorage::F64(s)) => {
                                apply_tensor(d, l, s, &src, op)
                            }
                            _ => unreachable!(),
                        })
                    });
                }
            }
            return;
        }
        let result = match other {
            TensorOrScalar::Tensor(o) => binary_raw(self, o, op),
            TensorOrScalar::Scalar(s) => scalar_raw(self, *s, op, false),
        };
        self.copy_raw(&result);
    }

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
        if !tracked(self, &others) {
            self.inplace_binary_raw(&other, op);
            return self.clone();
        }
        check_inplace(self);
        let snap = self.snapshot();
        let result = match (op, other) {
            (BinOp::Add, o) => snap.add(o),
            (BinOp::Sub, o) => snap.sub(o),
            (BinOp::Mul, o) => snap.mul(o),
            (BinOp::Div, o) => snap.div(o),
            (BinOp::Pow, o) => snap.pow(o),
            (BinOp::Maximum, o) => snap.maximum(o),
            (BinOp::Minimum, o) => snap.minimum(o),
        };
        self.rebase(&result);
        self.clone()
    }

    /// `self += other` in place (`tensor.add_(other)`); returns the tensor for chaining.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([1.0, 2.0]);
    /// t.add_(1.0).mul_(2.0);
    /// assert_eq!(t.to_vec::<f32>(), vec![4.0, 6.0]);
    /// ```
    pub fn add_(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.inplace_binary(other.into(), BinOp::Add)
    }

    /// `self += alpha * other` in place (`tensor.add_(other, alpha=alpha)`), the SGD update,
    /// rounded as PyTorch's kernel (one fused multiply-add).
    pub fn add_alpha_(&self, other: &Tensor, alpha: f64) -> Tensor {
        if alpha == 1.0 {
            return self.add_(other);
        }
        if !tracked(self, &[other])
            && self.fused_update(&[other], |d, s| match d {
                FusedDst::F32(y) => fused::axpy(y, s[0].f32(), alpha as f32),
                FusedDst::F64(y) => fused::axpy(y, s[0].f64(), alpha),
            })
        {
            return self.clone();
        }
        self.add_(&other.mul(alpha))
    }

    /// `self += value * t1 * t2` in place (`tensor.addcmul_(t1, t2, value=value)`).
    pub fn addcmul_(&self, t1: &Tensor, t2: &Tensor, value: f64) -> Tensor {
        if !tracked(self, &[t1, t2])
            && self.fused_update(&[t1, t2], |d, s| match d {
                FusedDst::F32(y) => fused::addcmul(y, s[0].f32(), s[1].f32(), value as f32),
                FusedDst::F64(y) => fused::addcmul(y, s[0].f64(), s[1].f64(), value),
            })
        {
            return self.clone();
        }
        self.add_(&t1.mul(value).mul(t2))
    }

    /// `self += value * t1 / t2` in place (`tensor.addcdiv_(t1, t2, value=value)`).
    pub fn addcdiv_(&self, t1: &Tensor, t2: &Tensor, value: f64) -> Tensor {
        if !tracked(self, &[t1, t2])
            && self.fused_update(&[t1, t2], |d, s| match d {
                FusedDst::F32(y) => fused::addcdiv(y, s[0].f32(), s[1].f32(), value as f32),
                FusedDst::F64(y) => fused::addcdiv(y, s[0].f64(), s[1].f64(), value),
            })
        {
            return self.clone();
        }
        self.add_(&t1.mul(value).div(t2))
    }

    /// `self += weight * (end - self)` in place (`tensor.lerp_(end, weight)`).
    pub fn lerp_(&self, end: &Tensor, weight: f64) -> Tensor {
        if !tracked(self, &[end])
            && self.fused_update(&[end], |d, s| match d {
                FusedDst::F32(y) => fused::lerp(y, s[0].f32(), weight as f32),
                FusedDst::F64(y) => fused::lerp(y, s[0].f64(), weight),
            })
        {
            return self.clone();
        }
        self.add_(&end.sub(self).mul(weight))
    }

    /// Runs a fused kernel on a contiguous float tensor with operands of its dtype broadcast to
    /// its shape; returns false (doing nothing) when the fast path does not apply.
    fn fused_update(
        &self,
        operands: &[&Tensor],
        kernel: impl FnOnce(FusedDst<'_>, &[FusedSrc<'_>]),
    ) -> bool {
        let dtype = self.dtype();
        if !dtype.is_float() || !self.is_contiguous() || operands.iter().any(|o| o.dtype() != dtype)
        {
            return false;
        }
        let dims = self.dims().to_vec();
        // Operands are read in place when they already have this shape and layout; otherwise
        // (broadcast, strided, or aliasing the destination) through a row-major copy.
        let prepared: Vec<Tensor> = operands
            .iter()
            .map(|o| {
                check_broadcast_to(o.dims(), &dims);
                if o.dims() == dims.as_slice() && o.is_contiguous() && !o.shares_storage(self) {
                    (*o).clone()
                } else {
                    o.expand(dims.as_slice()).clone_tensor_raw()
                }
            })
            .collect();
        // One read guard per distinct storage.
        let mut guards = Vec::new();
        let mut guard_of = Vec::new();
        for (i, t) in prepared.iter().enumerate() {
            match prepared[..i].iter().position(|u| u.shares_storage(t)) {
                Some(j) => guard_of.push(guard_of[j]),
                None => {
                    guard_of.push(guards.len());
                    guards.push(t.0.storage.read());
                }
            }
        }
        let srcs: Vec<FusedSrc<'_>> = prepared
            .iter()
            .zip(&guard_of)
            .map(|(t, &g)| {
                let r = t.layout().contiguous_range().expect("contiguous");
                match guards[g].cpu() {
                    CpuStorage::F32(v) => FusedSrc::F32(&v[r]),
                    CpuStorage::F64(v) => FusedSrc::F64(&v[r]),
                    _ => unreachable!("float"),
                }
            })
            .collect();
        self.with_cpu_mut(|d, l| {
            let r = l.contiguous_range().expect("contiguous");
            match d {
                CpuStorage::F32(v) => kernel(FusedDst::F32(&mut v[r]), &srcs),
                CpuStorage::F64(v) => kernel(FusedDst::F64(&mut v[r]), &srcs),
                _ => unreachable!("float"),
            }
        });
        true
    }

    /// `self -= other` in place (`tensor.sub_(other)`).
    pub fn sub_(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.inplace_binary(other.into(), BinOp::Sub)
    }

    /// `self *= other` in place (`tensor.mul_(other)`).
    pub fn mul_(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.inplace_binary(other.into(), BinOp::Mul)
    }

    /// `self /= other` in place (`tensor.div_(other)`).
    pub fn div_(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.inplace_binary(other.into(), BinOp::Div)
    }

    /// `self **= exponent` in place (`tensor.pow_(exponent)`).
    pub fn pow_(&self, exponent: impl Into<TensorOrScalar>) -> Tensor {
        self.inplace_binary(exponent.into(), BinOp::Pow)
    }

    /// Limits values to `[min, max]` in place (`tensor.clamp_(min, max)`).
    pub fn clamp_(&self, min: Option<f64>, max: Option<f64>) -> Tensor {
        if !tracked(self, &[]) {
            let r = no_record(|| self.clamp(min, max));
            self.copy_raw(&r);
            return self.clone();
        }
        check_inplace(self);
        let r = self.snapshot().clamp(min, max);
        self.rebase(&r);
        self.clone()
    }

    /// Sets every element to zero (`tensor.zero_()`).
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
    pub fn fill_(&self, value: impl Into<Scalar>) -> Tensor {
        let value = value.into();
        check_cast(value.default_dtype(), self.dtype());
        let filled = Tensor::full_dtype((), value, self.dtype());
        if !tracked(self, &[]) {
            self.copy_raw(&filled);
            return self.clone();
        }
        check_inplace(self);
        let snap = self.snapshot();
        let r = record(
            filled.expand(self.dims()).clone_tensor_raw(),
            "FillBackward0",
            &[&snap],
            |_| ZeroGradBackward {},
        );
        self.rebase(&r);
        self.clone()
    }

    /// Copies `src` (broadcast, converted) into this tensor's elements (`tensor.copy_(src)`).
    ///
    /// ```
    /// use flambeau::{tensor, Tensor};
    /// let t = Tensor::zeros([2, 2]);
    /// t.copy_(&tensor!([1.0, 2.0]));
    /// assert_eq!(t.to_vec::<f32>(), vec![1.0, 2.0, 1.0, 2.0]);
    /// ```
    pub fn copy_(&self, src: &Tensor) -> Tensor {
        if !tracked(self, &[src]) {
            self.copy_raw(src);
            return self.clone();
        }
        check_inplace(self);
        let snap = self.snapshot();
        let value = cast_raw(&src.detach(), self.dtype())
            .expand(self.dims())
            .clone_tensor_raw();
        let meta = super::binary::InputMeta::of(src);
        let r = record(value, "CopyBackwards", &[&snap, src], |_| CopyBackward {
            src: meta,
        });
        self.rebase(&r);
        self.clone()
    }

    /// Fills positions where `mask` is true with `value`, in place (`tensor.masked_fill_`).
    pub fn masked_fill_(&self, mask: &Tensor, value: impl Into<Scalar>) -> Tensor {
        let value = value.into();
        if !tracked(self, &[]) {
            let r = no_record(|| self.masked_fill(mask, value));
            self.copy_raw(&r);
            return self.clone();
        }
        check_inplace(self);
        let r = self.snapshot().masked_fill(mask, value);
        self.rebase(&r);
        self.clone()
    }
}

/// Panics unless `src` broadcasts to exactly `dims`, with PyTorch's messages.
fn check_broadcast_to(src: &[usize], dims: &[usize]) {
    let b = crate::shape::broadcast_shapes(dims, src);
    if b.dims() != dims {
        panic!(
            "output with shape {:?} doesn't match the broadcast shape {:?}",
            dims,
            b.dims()
        );
    }
}

fn no_record<R>(f: impl FnOnce() -> R) -> R {
    crate::autograd::no_grad(f)
}

macro_rules! inplace_closure {
    ($op:expr, $call:ident) => {
        match $op {
            BinOp::Add => $call!(|a, b| a + b),
            BinOp::Sub => $call!(|a, b| a - b),
            BinOp::Mul => $call!(|a, b| a * b),
            BinOp::Div => $call!(|a, b| a / b),
            BinOp::Maximum => $call!(|a: T, b| a.max_nan(b)),
            BinOp::Minimum => $call!(|a: T, b| a.min_nan(b)),
            BinOp::Pow => unreachable!("pow takes the general path"),
        }
    };
}

fn apply_scalar<T: crate::dtype::Float>(d: &mut [T], l: &Layout, s: T, op: BinOp) {
    macro_rules! go {
        ($f:expr) => {{
            let f = $f;
            cpu::update_strided(d, l, |x, _| f(x, s))
        }};
    }
    inplace_closure!(op, go)
}

fn apply_tensor<T: crate::dtype::Float>(d: &mut [T], l: &Layout, s: &[T], src: &Layout, op: BinOp) {
    macro_rules! go {
        ($f:expr) => {{
            let f = $f;
            if let (Some(rd), Some(rs)) = (l.contiguous_range(), src.contiguous_range()) {
                for (x, &y) in d[rd].iter_mut().zip(&s[rs]) {
                    *x = f(*x, y);
                }
            } else {
                let vals = cpu::to_contiguous(s, src);
                cpu::update_strided(d, l, |x, i| f(x, vals[i]))
            }
        }};
    }
    inplace_closure!(op, go)
}

/// The destination of a fused kernel.
enum FusedDst<'a> {
    F32(&'a mut [f32]),
    F64(&'a mut [f64]),
}

/// An operand of a fused kernel, row-major with the destination's shape.
enum FusedSrc<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
}

impl FusedSrc<'_> {
    fn f32(&self) -> &[f32] {
        match self {
            FusedSrc::F32(v) => v,
            FusedSrc::F64(_) => unreachable!("same dtype as the destination"),
        }
    }
    fn f64(&self) -> &[f64] {
        match self {
            FusedSrc::F64(v) => v,
            FusedSrc::F32(_) => unreachable!("same dtype as the destination"),
        }
    }
}
