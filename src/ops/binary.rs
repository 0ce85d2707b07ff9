//! Elementwise arithmetic between tensors and with scalars, with PyTorch's broadcasting and type
//! promotion: `add`, `sub`, `mul`, `div`, `pow`, `maximum`, `minimum`.

use super::{cast_raw, float_type, result_type, with_two_cpu};
use crate::autograd::{SavedOpt, SavedTensor, backward_fn, record};
use crate::dtype::{DType, Float};
use crate::kernels::cpu;
use crate::scalar::{Scalar, result_type_with_scalar};
use crate::shape::{Layout, Shape, broadcast_shapes};
use crate::storage::CpuStorage;
use crate::tensor::Tensor;

/// The right-hand side of an elementwise operation: a tensor or a plain number.
///
/// ```
/// use flambeau::tensor;
/// let a = tensor!([1.0, 4.0]);
/// assert_eq!(a.pow(2).to_vec::<f32>(), vec![1.0, 16.0]);
/// assert_eq!(a.pow(&tensor!([0.5, 0.5])).to_vec::<f32>(), vec![1.0, 2.0]);
/// ```
#[derive(Clone, Debug)]
pub enum TensorOrScalar {
    /// A tensor operand, broadcast against the other.
    Tensor(Tensor),
    /// A number, which takes part in type promotion as a "wrapped number".
    Scalar(Scalar),
}

impl From<&Tensor> for TensorOrScalar {
    fn from(t: &Tensor) -> Self {
        TensorOrScalar::Tensor(t.clone())
    }
}
impl From<Tensor> for TensorOrScalar {
    fn from(t: Tensor) -> Self {
        TensorOrScalar::Tensor(t)
    }
}
macro_rules! tos_from_scalar {
    ($($t:ty),*) => {$(
        impl From<$t> for TensorOrScalar {
            fn from(v: $t) -> Self {
                TensorOrScalar::Scalar(Scalar::from(v))
            }
        }
    )*};
}
tos_from_scalar!(f64, f32, i64, i32, usize, bool);
impl From<Scalar> for TensorOrScalar {
    fn from(s: Scalar) -> Self {
        TensorOrScalar::Scalar(s)
    }
}

/// The elementwise binary operations with a kernel.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Maximum,
    Minimum,
}

/// Dispatches `op` to a closure at compile time, so each arm's loop is monomorphised and can be
/// vectorised (a function pointer per element would block that).
macro_rules! float_op_closure {
    ($op:expr, $call:ident) => {
        match $op {
            BinOp::Add => $call!(|a, b| a + b),
            BinOp::Sub => $call!(|a, b| a - b),
            BinOp::Mul => $call!(|a, b| a * b),
            BinOp::Div => $call!(|a, b| a / b),
            BinOp::Pow => $call!(pow_float),
            BinOp::Maximum => $call!(|a: T, b| a.max_nan(b)),
            BinOp::Minimum => $call!(|a: T, b| a.min_nan(b)),
        }
    };
}

fn zip_float<T: Float>(
    x: &[T],
    la: &Layout,
    y: &[T],
    lb: &Layout,
    dims: &[usize],
    op: BinOp,
) -> Vec<T> {
    macro_rules! go {
        ($f:expr) => {
            cpu::zip_map(x, la, y, lb, dims, $f)
        };
    }
    float_op_closure!(op, go)
}

fn scalar_float<T: Float>(x: &[T], l: &Layout, s: T, op: BinOp, reverse: bool) -> Vec<T> {
    if reverse {
        macro_rules! go {
            ($f:expr) => {{
                let f = $f;
                cpu::map(x, l, |v| f(s, v))
            }};
        }
        return float_op_closure!(op, go);
    }
    if op == BinOp::Pow {
        if s == T::from_f64(2.0) {
            return cpu::map(x, l, |v| v * v);
        }
        if s == T::from_f64(0.5) {
            return cpu::map(x, l, |v| v.sqrt());
        }
    }
    macro_rules! go {
        ($f:expr) => {{
            let f = $f;
            cpu::map(x, l, |v| f(v, s))
        }};
    }
    float_op_closure!(op, go)
}

/// `a^b` with the shortcuts PyTorch's kernel takes for common exponents (exact squares and roots).
#[inline(always)]
fn pow_float<T: Float>(a: T, b: T) -> T {
    let two = T::from_f64(2.0);
    if b == two {
        a * a
    } else if b == T::from_f64(0.5) {
        a.sqrt()
    } else if b == T::one() {
        a
    } else if b == T::from_f64(3.0) {
        a * a * a
    } else if b == T::from_f64(-1.0) {
        T::one() / a
    } else if b == -two {
        T::one() / (a * a)
    } else {
        a.powf(b)
    }
}

fn pow_int(a: i64, b: i64) -> i64 {
    if b < 0 {
        panic!("Integers to negative integer powers are not allowed.");
    }
    a.wrapping_pow(b as u32)
}

#[inline(always)]
fn apply_int(op: BinOp) -> fn(i64, i64) -> i64 {
    match op {
        BinOp::Add => |a, b| a.wrapping_add(b),
        BinOp::Sub => |a, b| a.wrapping_sub(b),
        BinOp::Mul => |a, b| a.wrapping_mul(b),
        BinOp::Div => unreachable!("integer division is computed in float"),
        BinOp::Pow => pow_int,
        BinOp::Maximum => |a: i64, b| a.max(b),
        BinOp::Minimum => |a: i64, b| a.min(b),
    }
}

/// The dtype an operation computes in, given the promoted dtype of its operands.
fn compute_type(op: BinOp, promoted: DType) -> DType {
    match (op, promoted) {
        (BinOp::Div, d) => float_type(d),
        (BinOp::Sub, DType::Bool) => panic!(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead."
        ),
        (_, DType::Bool) => DType::I64,
        (_, d) => d,
    }
}

/// Forward kernel of `a op b` with broadcasting, no autograd. Output dtype is the promoted type
/// (float for division; bool for bool inputs of add/mul/max/min).
pub(crate) fn binary_raw(a: &Tensor, b: &Tensor, op: BinOp) -> Tensor {
    let promoted = result_type(a, b);
    let ct = compute_type(op, promoted);
    let shape = broadcast_shapes(a.dims(), b.dims());
    let (a, b) = (cast_raw(a, ct), cast_raw(b, ct));
    let dims = shape.dims();
    let storage = with_two_cpu(&a, &b, |sa, la, sb, lb| match (sa, sb) {
        (CpuStorage::F32(x), CpuStorage::F32(y)) => {
            CpuStorage::F32(zip_float(x, la, y, lb, dims, op))
        }
        (CpuStorage::F64(x), CpuStorage::F64(y)) => {
            CpuStorage::F64(zip_float(x, la, y, lb, dims, op))
        }
        (CpuStorage::I64(x), CpuStorage::I64(y)) => {
            CpuStorage::I64(cpu::zip_map(x, la, y, lb, dims, apply_int(op)))
        }
        _ => unreachable!("operands were cast to one dtype"),
    });
    let out = Tensor::from_cpu(storage, shape);
    if promoted == DType::Bool && op != BinOp::Div {
        cast_raw(&out, DType::Bool)
    } else {
        out
    }
}

/// Forward kernel of `t op s` (or `s op t` when `reverse`), no autograd.
pub(crate) fn scalar_raw(t: &Tensor, s: Scalar, op: BinOp, reverse: bool) -> Tensor {
    let promoted = result_type_with_scalar(t.dtype(), s);
    let ct = compute_type(op, promoted);
    let t = cast_raw(t, ct);
    let storage = t.with_cpu(|st, l| match st {
        CpuStorage::F32(x) => CpuStorage::F32(scalar_float(x, l, s.to_f64() as f32, op, reverse)),
        CpuStorage::F64(x) => CpuStorage::F64(scalar_float(x, l, s.to_f64(), op, reverse)),
        CpuStorage::I64(x) => {
            let f = apply_int(op);
            let s = s.to_i64();
            CpuStorage::I64(if reverse {
                cpu::map(x, l, |v| f(s, v))
            } else {
                cpu::map(x, l, |v| f(v, s))
            })
        }
        CpuStorage::Bool(_) => unreachable!("bool operands compute in int64"),
    });
    let out = Tensor::from_cpu(storage, t.shape().clone());
    if promoted == DType::Bool && op != BinOp::Div {
        cast_raw(&out, DType::Bool)
    } else {
        out
    }
}

/// Sums a broadcast gradient back to an input's shape and dtype (micrograd's "unbroadcast").
pub(crate) fn reduce_grad(grad: &Tensor, shape: &Shape, dtype: DType) -> Tensor {
    let g = if grad.dims() != shape.dims() {
        grad.sum_to_size(shape.dims())
    } else {
        grad.clone()
    };
    if g.dtype() != dtype {
        g.to_dtype(dtype)
    } else {
        g
    }
}

/// What a backward needs to know about an input: its shape and dtype.
#[derive(Clone)]
pub(crate) struct InputMeta {
    shape: Shape,
    dtype: DType,
}

impl InputMeta {
    pub fn of(t: &Tensor) -> InputMeta {
        InputMeta {
            shape: t.shape().clone(),
            dtype: t.dtype(),
        }
    }
    pub fn reduce(&self, grad: &Tensor) -> Tensor {
        reduce_grad(grad, &self.shape, self.dtype)
    }
}

backward_fn! {
    struct AddBackward { a: InputMeta, b: InputMeta, alpha: f64 }
    saved []
    fn backward(&mut self, grad, needs) {
        let ga = needs[0].then(|| self.a.reduce(grad));
        let gb = needs[1].then(|| {
            if self.alpha == 1.0 { self.b.reduce(grad) } else { self.b.reduce(&grad.mul(self.alpha)) }
        });
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    struct SubBackward { a: InputMeta, b: InputMeta, alpha: f64 }
    saved []
    fn backward(&mut self, grad, needs) {
        let ga = needs[0].then(|| self.a.reduce(grad));
        let gb = needs[1].then(|| {
            if self.alpha == 1.0 { self.b.reduce(&grad.neg()) } else { self.b.reduce(&grad.mul(-self.alpha)) }
        });
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    struct MulBackward { a: InputMeta, b: InputMeta, sa: Option<SavedTensor>, sb: Option<SavedTensor> }
    saved [sa, sb]
    fn backward(&mut self, grad, needs) {
        let ga = needs[0].then(|| self.a.reduce(&grad.mul(self.sb.get())));
        let gb = needs[1].then(|| self.b.reduce(&grad.mul(self.sa.get())));
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    struct DivBackward { a: InputMeta, b: InputMeta, sa: Option<SavedTensor>, sb: Option<SavedTensor> }
    saved [sa, sb]
    fn backward(&mut self, grad, needs) {
        let other = self.sb.get();
        let ga = needs[0].then(|| self.a.reduce(&grad.div(other)));
        // PyTorch: -grad * ((self / other) / other)
        let gb = needs[1].then(|| {
            self.b.reduce(&grad.neg().mul(self.sa.get().div(other).div(other)))
        });
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    struct PowTensorBackward { a: InputMeta, b: InputMeta, base: SavedTensor, exponent: SavedTensor, result: Option<SavedTensor> }
    saved [base, exponent, result]
    fn backward(&mut self, grad, needs) {
        let (base, exp) = (self.base.get(), self.exponent.get());
        let ga = needs[0].then(|| {
            // grad * exp * base^(exp - 1), zero where exp == 0
            let g = grad.mul(exp.mul(base.pow(exp.sub(1.0))));
            self.a.reduce(&g.masked_fill(&exp.eq(0.0), 0.0))
        });
        let gb = needs[1].then(|| {
            // grad * result * log(base), zero where base == 0 and exp >= 0
            let g = grad.mul(self.result.get().mul(base.log()));
            let mask = base.eq(0.0).logical_and(&exp.ge(0.0));
            self.b.reduce(&g.masked_fill(&mask, 0.0))
        });
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    struct MaxMinBackward { a: InputMeta, b: InputMeta, sa: SavedTensor, sb: SavedTensor, is_max: bool }
    saved [sa, sb]
    fn backward(&mut self, grad, needs) {
        let (x, y) = (self.sa.get(), self.sb.get());
        let half = grad.div(2.0);
        let tie = x.eq(y);
        let (a_wins, b_wins) = if self.is_max { (x.gt(y), y.gt(x)) } else { (x.lt(y), y.lt(x)) };
        let ga = needs[0].then(|| {
            self.a.reduce(&Tensor::where_(&tie, &half, grad.masked_fill(&b_wins, 0.0)))
        });
        let gb = needs[1].then(|| {
            self.b.reduce(&Tensor::where_(&tie, &half, grad.masked_fill(&a_wins, 0.0)))
        });
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    struct ScalarMulBackward { s: f64 }
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.mul(self.s))]
    }
}

backward_fn! {
    struct ScalarDivBackward { s: f64 }
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.div(self.s))]
    }
}

backward_fn! {
    struct IdentityBackward { neg: bool }
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(if self.neg { grad.neg() } else { grad.clone() })]
    }
}

backward_fn! {
    /// `s / x`: PyTorch computes it as `reciprocal(x) * s`; the gradient is `-grad * s / x^2`.
    struct RdivBackward { s: f64, x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        smallvec::smallvec![Some(grad.mul(-self.s).div(x.mul(x)))]
    }
}

backward_fn! {
    struct PowScalarBackward { exponent: f64, base: SavedTensor }
    saved [base]
    fn backward(&mut self, grad, needs) {
        if self.exponent == 0.0 {
            return smallvec::smallvec![Some(grad.zeros_like_raw())];
        }
        let base = self.base.get();
        let g = if self.exponent == 2.0 {
            grad.mul(base.mul(2.0))
        } else {
            grad.mul(base.pow(self.exponent - 1.0).mul(self.exponent))
        };
        smallvec::smallvec![Some(g)]
    }
}

backward_fn! {
    /// `s ** x`: gradient `grad * s^x * ln(s)` (zero when s == 0 and x >= 0).
    struct RpowBackward { s: f64, result: SavedTensor, x: SavedTensor }
    saved [result, x]
    fn backward(&mut self, grad, needs) {
        let g = grad.mul(self.result.get().mul(self.s.ln()));
        let g = if self.s == 0.0 { g.masked_fill(&self.x.get().ge(0.0), 0.0) } else { g };
        smallvec::smallvec![Some(g)]
    }
}

impl Tensor {
    fn binary(&self, other: TensorOrScalar, op: BinOp) -> Tensor {
        match other {
            TensorOrScalar::Tensor(o) => self.binary_tensor(&o, op, 1.0),
            TensorOrScalar::Scalar(s) => self.binary_scalar(s, op, false),
        }
    }

    fn binary_tensor(&self, other: &Tensor, op: BinOp, alpha: f64) -> Tensor {
        let (a, b) = (self, other);
        let out = if alpha == 1.0 {
            binary_raw(a, b, op)
        } else {
            binary_raw(
                a,
                &scalar_raw(b, Scalar::Float(alpha), BinOp::Mul, false),
                op,
            )
        };
        let (ma, mb) = (InputMeta::of(a), InputMeta::of(b));
        let (ra, rb) = (a.requires_grad(), b.requires_grad());
        match op {
            BinOp::Add => record(out, "AddBackward0", &[a, b], |_| AddBackward {
                a: ma,
                b: mb,
                alpha,
            }),
            BinOp::Sub => record(out, "SubBackward0", &[a, b], |_| SubBackward {
                a: ma,
                b: mb,
                alpha,
            }),
            BinOp::Mul => record(out, "MulBackward0", &[a, b], |_| MulBackward {
                a: ma,
                b: mb,
                sa: SavedTensor::input_if(a, rb),
                sb: SavedTensor::input_if(b, ra),
            }),
            BinOp::Div => record(out, "DivBackward0", &[a, b], |_| DivBackward {
                a: ma,
                b: mb,
                sa: SavedTensor::input_if(a, rb),
                sb: Some(SavedTensor::input(b)),
            }),
            BinOp::Pow => record(out, "PowBackward1", &[a, b], |o| PowTensorBackward {
                a: ma,
                b: mb,
                base: SavedTensor::input(a),
                exponent: SavedTensor::input(b),
                result: rb.then(|| SavedTensor::output(o, "PowBackward1")),
            }),
            BinOp::Maximum | BinOp::Minimum => {
                let is_max = op == BinOp::Maximum;
                let name = if is_max {
                    "MaximumBackward0"
                } else {
                    "MinimumBackward0"
                };
                record(out, name, &[a, b], |_| MaxMinBackward {
                    a: ma,
                    b: mb,
                    sa: SavedTensor::input(a),
                    sb: SavedTensor::input(b),
                    is_max,
                })
            }
        }
    }

    fn binary_scalar(&self, s: Scalar, op: BinOp, reverse: bool) -> Tensor {
        let out = scalar_raw(self, s, op, reverse);
        if !out.dtype().is_float() {
            return out;
        }
        let v = s.to_f64();
        match (op, reverse) {
            (BinOp::Add, _) => record(out, "AddBackward0", &[self], |_| IdentityBackward {
                neg: false,
            }),
            (BinOp::Sub, false) => record(out, "SubBackward0", &[self], |_| IdentityBackward {
                neg: false,
            }),
            (BinOp::Sub, true) => record(out, "RsubBackward1", &[self], |_| IdentityBackward {
                neg: true,
            }),
            (BinOp::Mul, _) => record(out, "MulBackward0", &[self], |_| ScalarMulBackward { s: v }),
            (BinOp::Div, false) => {
                record(out, "DivBackward0", &[self], |_| ScalarDivBackward { s: v })
            }
            (BinOp::Div, true) => record(out, "MulBackward0", &[self], |_| RdivBackward {
                s: v,
                x: SavedTensor::input(self),
            }),
            (BinOp::Pow, false) => record(out, "PowBackward0", &[self], |_| PowScalarBackward {
                exponent: v,
                base: SavedTensor::input(self),
            }),
            (BinOp::Pow, true) => record(out, "PowBackward2", &[self], |o| RpowBackward {
                s: v,
                result: SavedTensor::output(o, "PowBackward2"),
                x: SavedTensor::input(self),
            }),
            (BinOp::Maximum | BinOp::Minimum, _) => {
                let other = Tensor::full_dtype((), s, self.dtype());
                self.binary_tensor(&other, op, 1.0)
            }
        }
    }

    /// `self + other` with broadcasting (`torch.add`). `other` may be a tensor or a number.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let a = tensor!([[1.0], [2.0]]);
    /// let b = tensor!([10.0, 20.0, 30.0]);
    /// assert_eq!(a.add(&b).dims(), &[2, 3]);
    /// assert_eq!(a.add(1).to_vec::<f32>(), vec![2.0, 3.0]);
    /// ```
    pub fn add(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.binary(other.into(), BinOp::Add)
    }

    /// `self + alpha * other` (`torch.add(self, other, alpha=alpha)`).
    pub fn add_alpha(&self, other: &Tensor, alpha: f64) -> Tensor {
        self.binary_tensor(other, BinOp::Add, alpha)
    }

    /// `self - other` with broadcasting (`torch.sub`).
    pub fn sub(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.binary(other.into(), BinOp::Sub)
    }

    /// `self - alpha * other` (`torch.sub(self, other, alpha=alpha)`).
    pub fn sub_alpha(&self, other: &Tensor, alpha: f64) -> Tensor {
        self.binary_tensor(other, BinOp::Sub, alpha)
    }

    /// `other - self` for a number (`torch.rsub`, what `3.0 - t` computes).
    pub fn rsub(&self, other: impl Into<Scalar>) -> Tensor {
        self.binary_scalar(other.into(), BinOp::Sub, true)
    }

    /// `self * other` with broadcasting (`torch.mul`).
    pub fn mul(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.binary(other.into(), BinOp::Mul)
    }

    /// `self / other` with broadcasting; true division, so integers give float32 (`torch.div`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([1, 2]).div(2).to_vec::<f32>(), vec![0.5, 1.0]);
    /// ```
    pub fn div(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.binary(other.into(), BinOp::Div)
    }

    /// `other / self` for a number (what `2.0 / t` computes).
    pub fn rdiv(&self, other: impl Into<Scalar>) -> Tensor {
        self.binary_scalar(other.into(), BinOp::Div, true)
    }

    /// `self ** exponent` with a number or a tensor exponent (`torch.pow`).
    pub fn pow(&self, exponent: impl Into<TensorOrScalar>) -> Tensor {
        self.binary(exponent.into(), BinOp::Pow)
    }

    /// `base ** self` for a number base (`torch.pow(base, self)`, what `2.0 ** t` computes).
    pub fn rpow(&self, base: impl Into<Scalar>) -> Tensor {
        self.binary_scalar(base.into(), BinOp::Pow, true)
    }

    /// `self * self` (`torch.square`).
    pub fn square(&self) -> Tensor {
        self.pow(2)
    }

    /// The elementwise maximum; NaN propagates (`torch.maximum`).
    pub fn maximum(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.binary(other.into(), BinOp::Maximum)
    }

    /// The elementwise minimum; NaN propagates (`torch.minimum`).
    pub fn minimum(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.binary(other.into(), BinOp::Minimum)
    }

    /// Out-of-place addition without autograd (gradient buffers in the engine).
    pub(crate) fn add_tensor_raw(&self, other: &Tensor) -> Tensor {
        binary_raw(self, other, BinOp::Add)
    }

    /// Zeros shaped like this tensor, without autograd.
    pub(crate) fn zeros_like_raw(&self) -> Tensor {
        Tensor::zeros_like(self)
    }
}
