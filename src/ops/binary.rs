//! Elementwise arithmetic between tensors and with scalars, with PyTorch's broadcasting and type
//! promotion: `add`, `sub`, `mul`, `div`, `pow`, `maximum`, `minimum`. The bodies are declared
//! once in `backend/ops.rs`; this file decides dtypes and records the gradients.

use super::{float_type, result_type};
use crate::autograd::{SavedOpt, SavedScalar, SavedTensor, backward_fn, record};
use crate::backend::ops;
use crate::dtype::DType;
use crate::scalar::{Scalar, result_type_with_scalar};
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
    #[track_caller]
    fn from(t: &Tensor) -> Self {
        TensorOrScalar::Tensor(t.clone())
    }
}
impl From<Tensor> for TensorOrScalar {
    #[track_caller]
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
    #[track_caller]
    fn from(s: Scalar) -> Self {
        TensorOrScalar::Scalar(s)
    }
}

/// The arithmetic binary operations, for code that picks one at run time.
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

/// Runs `$body` with `$o` bound to the declared op of a [`BinOp`] (one monomorphised kernel per
/// op, so each loop is vectorised).
macro_rules! with_binop {
    ($op:expr, $o:ident => $body:expr) => {
        match $op {
            BinOp::Add => {
                let $o = ops::Add {};
                $body
            }
            BinOp::Sub => {
                let $o = ops::Sub {};
                $body
            }
            BinOp::Mul => {
                let $o = ops::Mul {};
                $body
            }
            BinOp::Div => {
                let $o = ops::Div {};
                $body
            }
            BinOp::Pow => {
                let $o = ops::Pow {};
                $body
            }
            BinOp::Maximum => {
                let $o = ops::Maximum {};
                $body
            }
            BinOp::Minimum => {
                let $o = ops::Minimum {};
                $body
            }
        }
    };
}
pub(crate) use with_binop;

/// The dtype an operation computes in, given the promoted dtype of its operands.
#[track_caller]
pub(crate) fn compute_type(op: BinOp, promoted: DType) -> DType {
    match (op, promoted) {
        (BinOp::Div, d) => float_type(d),
        (BinOp::Sub, DType::Bool) => panic!(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead."
        ),
        (_, DType::Bool) => DType::I64,
        (_, d) => d,
    }
}

/// Forward of `a op b` with broadcasting, no autograd. The output dtype is the promoted type
/// (float for division; bool for bool inputs of add/mul/max/min).
#[track_caller]
pub(crate) fn binary_raw(a: &Tensor, b: &Tensor, op: BinOp) -> Tensor {
    let promoted = result_type(a, b);
    let ct = compute_type(op, promoted);
    let (a, b) = (a.cast_raw(ct), b.cast_raw(ct));
    let out = with_binop!(op, o => a.zip_raw(&b, o));
    if promoted == DType::Bool && op != BinOp::Div {
        out.cast_raw(DType::Bool)
    } else {
        out
    }
}

/// Forward of `t op s` (or `s op t` when `reverse`), no autograd.
#[track_caller]
pub(crate) fn scalar_raw(t: &Tensor, s: Scalar, op: BinOp, reverse: bool) -> Tensor {
    let promoted = result_type_with_scalar(t.dtype(), s);
    let ct = compute_type(op, promoted);
    let t = t.cast_raw(ct);
    let storage = with_binop!(op, o => t.storage().binary_scalar(o, t.layout(), s, reverse));
    let out = Tensor::from_storage(storage, t.shape().clone());
    if promoted == DType::Bool && op != BinOp::Div {
        out.cast_raw(DType::Bool)
    } else {
        out
    }
}

backward_fn! {
    /// `self + alpha * other` (other a tensor or a number).
    struct AddBackward0 { alpha: f64 }
    saved []
    fn backward(&mut self, grad, needs) {
        let mut g = smallvec::smallvec![needs[0].then(|| grad.clone())];
        if needs.len() > 1 {
            g.push(needs[1].then(|| if self.alpha == 1.0 { grad.clone() } else { grad.mul(self.alpha) }));
        }
        g
    }
}

backward_fn! {
    /// `self - alpha * other` (other a tensor or a number).
    struct SubBackward0 { alpha: f64 }
    saved []
    fn backward(&mut self, grad, needs) {
        let mut g = smallvec::smallvec![needs[0].then(|| grad.clone())];
        if needs.len() > 1 {
            g.push(needs[1].then(|| if self.alpha == 1.0 { grad.neg() } else { grad.mul(-self.alpha) }));
        }
        g
    }
}

backward_fn! {
    /// `other - self` for a number `other`.
    struct RsubBackward1 {}
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.neg())]
    }
}

backward_fn! {
    /// `self * other`; with a number, PyTorch saves it as a (wrapped) tensor, so it is freed
    /// with the graph like the tensors.
    struct MulBackward0 { a: Option<SavedTensor>, b: Option<SavedTensor>, s: Option<SavedScalar> }
    saved [a, b, s]
    fn backward(&mut self, grad, needs) {
        if let Some(s) = &self.s {
            return smallvec::smallvec![Some(grad.mul(s.get()))];
        }
        let ga = needs[0].then(|| grad.mul(self.b.get()));
        let gb = needs[1].then(|| grad.mul(self.a.get()));
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    /// `self / other` (other a tensor or a saved number).
    struct DivBackward0 { a: Option<SavedTensor>, b: Option<SavedTensor>, s: Option<SavedScalar> }
    saved [a, b, s]
    fn backward(&mut self, grad, needs) {
        if let Some(s) = &self.s {
            return smallvec::smallvec![Some(grad.div(s.get()))];
        }
        let other = self.b.get();
        let ga = needs[0].then(|| grad.div(&other));
        // PyTorch: -grad * ((self / other) / other)
        let gb = needs[1].then(|| grad.neg().mul(self.a.get().div(&other).div(&other)));
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    /// `self ** exponent` for a tensor exponent.
    struct PowBackward1 { base: SavedTensor, exponent: SavedTensor, result: Option<SavedTensor> }
    saved [base, exponent, result]
    fn backward(&mut self, grad, needs) {
        let (base, exp) = (self.base.get(), self.exponent.get());
        let ga = needs[0].then(|| {
            // grad * exp * base^(exp - 1), zero where exp == 0
            let g = grad.mul(exp.mul(base.pow(exp.sub(1.0))));
            g.masked_fill(&exp.eq(0.0), 0.0)
        });
        let gb = needs[1].then(|| {
            // grad * result * log(base), zero where base == 0 and exp >= 0
            let g = grad.mul(self.result.get().mul(base.log()));
            let mask = base.eq(0.0).logical_and(&exp.ge(0.0));
            g.masked_fill(&mask, 0.0)
        });
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    /// `self ** exponent` for a number exponent (ATen's `pow_backward`).
    struct PowBackward0 { exponent: f64, base: SavedTensor }
    saved [base]
    fn backward(&mut self, grad, needs) {
        let base = self.base.get();
        if self.exponent == 0.0 {
            return smallvec::smallvec![Some(Tensor::zeros_like(&base))];
        }
        let g = if self.exponent == 2.0 {
            grad.mul(base.mul(2.0))
        } else {
            grad.mul(base.pow(self.exponent - 1.0).mul(self.exponent))
        };
        smallvec::smallvec![Some(g)]
    }
}

backward_fn! {
    /// `base ** self` for a number base: `grad * base^x * ln(base)` (zero when base == 0 and
    /// x >= 0).
    struct PowBackward2 { s: f64, result: SavedTensor, x: SavedTensor }
    saved [result, x]
    fn backward(&mut self, grad, needs) {
        let g = grad.mul(self.result.get().mul(self.s.ln()));
        let g = if self.s == 0.0 { g.masked_fill(&self.x.get().ge(0.0), 0.0) } else { g };
        smallvec::smallvec![Some(g)]
    }
}

backward_fn! {
    /// `maximum(a, b)` / `minimum(a, b)`: the gradient goes to the selected operand, halved on ties.
    struct MaximumBackward0 { a: SavedTensor, b: SavedTensor, is_max: bool }
    names [MinimumBackward0]
    saved [a, b]
    fn backward(&mut self, grad, needs) {
        let (x, y) = (self.a.get(), self.b.get());
        let half = grad.div(2.0);
        let tie = x.eq(&y);
        let (a_wins, b_wins) = if self.is_max { (x.gt(&y), y.gt(&x)) } else { (x.lt(&y), y.lt(&x)) };
        let ga = needs[0].then(|| Tensor::where_(&tie, &half, grad.masked_fill(&b_wins, 0.0)));
        let gb = needs[1].then(|| Tensor::where_(&tie, &half, grad.masked_fill(&a_wins, 0.0)));
        smallvec::smallvec![ga, gb]
    }
}

impl Tensor {
    #[track_caller]
    fn binary(&self, other: TensorOrScalar, op: BinOp) -> Tensor {
        match other {
            TensorOrScalar::Tensor(o) => self.binary_tensor(&o, op, 1.0),
            TensorOrScalar::Scalar(s) => self.binary_scalar(s, op, false),
        }
    }

    #[track_caller]
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
        let (ra, rb) = (a.requires_grad(), b.requires_grad());
        match op {
            BinOp::Add => record(out, &[a, b], |_| AddBackward0 { alpha }),
            BinOp::Sub => record(out, &[a, b], |_| SubBackward0 { alpha }),
            BinOp::Mul => record(out, &[a, b], |_| MulBackward0 {
                a: SavedTensor::input_if(a, rb),
                b: SavedTensor::input_if(b, ra),
                s: None,
            }),
            BinOp::Div => record(out, &[a, b], |_| DivBackward0 {
                a: SavedTensor::input_if(a, rb),
                b: Some(SavedTensor::input(b)),
                s: None,
            }),
            BinOp::Pow => record(out, &[a, b], |o| PowBackward1 {
                base: SavedTensor::input(a),
                exponent: SavedTensor::input(b),
                result: rb.then(|| SavedTensor::output(o)),
            }),
            BinOp::Maximum => record(out, &[a, b], |_| MaximumBackward0 {
                a: SavedTensor::input(a),
                b: SavedTensor::input(b),
                is_max: true,
            }),
            BinOp::Minimum => record(out, &[a, b], |_| MinimumBackward0 {
                a: SavedTensor::input(a),
                b: SavedTensor::input(b),
                is_max: false,
            }),
        }
    }

    #[track_caller]
    fn binary_scalar(&self, s: Scalar, op: BinOp, reverse: bool) -> Tensor {
        if op == BinOp::Div && reverse {
            // PyTorch's `s / t` is `reciprocal(t) * s`.
            return self.reciprocal().mul(s);
        }
        if matches!(op, BinOp::Maximum | BinOp::Minimum) {
            let other = Tensor::full_dtype((), s, self.dtype());
            return self.binary_tensor(&other, op, 1.0);
        }
        let out = scalar_raw(self, s, op, reverse);
        if !out.dtype().is_float() {
            return out;
        }
        let v = s.to_f64();
        match (op, reverse) {
            (BinOp::Add, _) => record(out, &[self], |_| AddBackward0 { alpha: 1.0 }),
            (BinOp::Sub, false) => record(out, &[self], |_| SubBackward0 { alpha: 1.0 }),
            (BinOp::Sub, true) => record(out, &[self], |_| RsubBackward1 {}),
            (BinOp::Mul, _) => record(out, &[self], |_| MulBackward0 {
                a: None,
                b: None,
                s: Some(SavedScalar::new(v)),
            }),
            (BinOp::Div, _) => record(out, &[self], |_| DivBackward0 {
                a: None,
                b: None,
                s: Some(SavedScalar::new(v)),
            }),
            (BinOp::Pow, false) => record(out, &[self], |_| PowBackward0 {
                exponent: v,
                base: SavedTensor::input(self),
            }),
            (BinOp::Pow, true) => record(out, &[self], |o| PowBackward2 {
                s: v,
                result: SavedTensor::output(o),
                x: SavedTensor::input(self),
            }),
            (BinOp::Maximum | BinOp::Minimum, _) => unreachable!("handled above"),
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
    #[track_caller]
    pub fn add(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.binary(other.into(), BinOp::Add)
    }

    /// `self + alpha * other` (`torch.add(self, other, alpha=alpha)`).
    #[track_caller]
    pub fn add_alpha(&self, other: &Tensor, alpha: f64) -> Tensor {
        self.binary_tensor(other, BinOp::Add, alpha)
    }

    /// `self - other` with broadcasting (`torch.sub`).
    #[track_caller]
    pub fn sub(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.binary(other.into(), BinOp::Sub)
    }

    /// `self - alpha * other` (`torch.sub(self, other, alpha=alpha)`).
    #[track_caller]
    pub fn sub_alpha(&self, other: &Tensor, alpha: f64) -> Tensor {
        self.binary_tensor(other, BinOp::Sub, alpha)
    }

    /// `other - self` for a number (`torch.rsub`, what `3.0 - t` computes).
    #[track_caller]
    pub fn rsub(&self, other: impl Into<Scalar>) -> Tensor {
        self.binary_scalar(other.into(), BinOp::Sub, true)
    }

    /// `self * other` with broadcasting (`torch.mul`).
    #[track_caller]
    pub fn mul(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.binary(other.into(), BinOp::Mul)
    }

    /// `self / other` with broadcasting; true division, so integers give float32 (`torch.div`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([1, 2]).div(2).to_vec::<f32>(), vec![0.5, 1.0]);
    /// ```
    #[track_caller]
    pub fn div(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.binary(other.into(), BinOp::Div)
    }

    /// `other / self` for a number (what `2.0 / t` computes: `reciprocal(t) * other`, as PyTorch).
    #[track_caller]
    pub fn rdiv(&self, other: impl Into<Scalar>) -> Tensor {
        self.binary_scalar(other.into(), BinOp::Div, true)
    }

    /// `self ** exponent` with a number or a tensor exponent (`torch.pow`).
    #[track_caller]
    pub fn pow(&self, exponent: impl Into<TensorOrScalar>) -> Tensor {
        self.binary(exponent.into(), BinOp::Pow)
    }

    /// `base ** self` for a number base (`torch.pow(base, self)`, what `2.0 ** t` computes).
    #[track_caller]
    pub fn rpow(&self, base: impl Into<Scalar>) -> Tensor {
        self.binary_scalar(base.into(), BinOp::Pow, true)
    }

    /// `self * self` (`torch.square`).
    #[track_caller]
    pub fn square(&self) -> Tensor {
        self.pow(2)
    }

    /// The elementwise maximum; NaN propagates (`torch.maximum`).
    #[track_caller]
    pub fn maximum(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.binary(other.into(), BinOp::Maximum)
    }

    /// The elementwise minimum; NaN propagates (`torch.minimum`).
    #[track_caller]
    pub fn minimum(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        self.binary(other.into(), BinOp::Minimum)
    }

    /// Out-of-place addition without autograd (gradient buffers in the engine).
    #[track_caller]
    pub(crate) fn add_tensor_raw(&self, other: &Tensor) -> Tensor {
        binary_raw(self, other, BinOp::Add)
    }
}
