//! More elementwise math of `torch.*`: `erf exp2 expm1 log2 log10 tan asin acos atan trunc frac`,
//! the binary `atan2 fmod remainder floor_divide`, and the out-of-place `lerp addcmul addcdiv`,
//! `clamp` with tensor bounds and `nan_to_num`. The bodies are declared in `backend/ops.rs`;
//! each backward is derivatives.yaml's formula under PyTorch's node name.

use super::binary::TensorOrScalar;
use super::{float_type, result_type};
use crate::autograd::{SavedTensor, backward_fn, no_grad, record};
use crate::backend::ops::{self, BinaryOp};
use crate::dtype::DType;
use crate::scalar::result_type_with_scalar;
use crate::shape::broadcast_shapes;
use crate::tensor::Tensor;

const LN_2: f64 = std::f64::consts::LN_2;
const LN_10: f64 = std::f64::consts::LN_10;

backward_fn! {
    /// `2 / sqrt(pi) * exp(-self^2) * grad`.
    struct ErfBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        let c = std::f64::consts::FRAC_2_SQRT_PI;
        smallvec::smallvec![Some(x.pow(2).neg().exp().mul(c).mul(grad))]
    }
}

backward_fn! {
    /// `grad * result * ln 2`.
    struct Exp2Backward0 { result: SavedTensor }
    saved [result]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.mul(self.result.get()).mul(LN_2))]
    }
}

backward_fn! {
    /// `grad * (result + 1)`.
    struct Expm1Backward0 { result: SavedTensor }
    saved [result]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.mul(self.result.get().add(1.0)))]
    }
}

backward_fn! {
    /// `grad / (self * ln 2)`.
    struct Log2Backward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.div(self.x.get().mul(LN_2)))]
    }
}

backward_fn! {
    /// `grad / (self * ln 10)`.
    struct Log10Backward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.div(self.x.get().mul(LN_10)))]
    }
}

backward_fn! {
    /// `grad * (1 + result^2)`.
    struct TanBackward0 { result: SavedTensor }
    saved [result]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.mul(self.result.get().pow(2).add(1.0)))]
    }
}

backward_fn! {
    /// `grad * (-self * self + 1).rsqrt()`.
    struct AsinBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        smallvec::smallvec![Some(grad.mul(x.neg().mul(&x).add(1.0).rsqrt()))]
    }
}

backward_fn! {
    /// `grad * -((-self * self + 1).rsqrt())`.
    struct AcosBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        smallvec::smallvec![Some(grad.mul(x.neg().mul(&x).add(1.0).rsqrt().neg()))]
    }
}

backward_fn! {
    /// `grad / (self * self + 1)`.
    struct AtanBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        smallvec::smallvec![Some(grad.div(x.mul(&x).add(1.0)))]
    }
}

backward_fn! {
    /// `trunc`: the gradient is zero.
    struct TruncBackward0 {}
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(Tensor::zeros_like(grad))]
    }
}

backward_fn! {
    /// The gradient passes unchanged: `frac`, and `fmod` / `remainder` by a number.
    struct FracBackward0 {}
    names [FmodBackward0, RemainderBackward0]
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.clone())]
    }
}

backward_fn! {
    /// ATen's `atan2_backward`: `grad * other / (self² + other²)`, `grad * -self / (...)`.
    struct Atan2Backward0 { a: SavedTensor, b: SavedTensor }
    saved [a, b]
    fn backward(&mut self, grad, needs) {
        let (a, b) = (self.a.get(), self.b.get());
        let recip = a.mul(&a).add(&b.mul(&b)).reciprocal();
        let ga = needs[0].then(|| grad.mul(&b).mul(&recip));
        let gb = needs[1].then(|| grad.mul(&a.neg()).mul(&recip));
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    /// `fmod(self, other)`: `grad`, and `-grad * self.div(other, rounding_mode="trunc")`.
    struct FmodBackward1 { a: SavedTensor, b: SavedTensor }
    saved [a, b]
    fn backward(&mut self, grad, needs) {
        let ga = needs[0].then(|| grad.clone());
        let gb = needs[1].then(|| grad.neg().mul(self.a.get().div(self.b.get()).trunc()));
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    /// `remainder(self, other)`: `grad`, and `-grad * self.div(other, rounding_mode="floor")`.
    struct RemainderBackward1 { a: SavedTensor, b: SavedTensor }
    saved [a, b]
    fn backward(&mut self, grad, needs) {
        let (a, b) = (self.a.get(), self.b.get());
        let ga = needs[0].then(|| grad.clone());
        let gb = needs[1].then(|| grad.neg().mul(a.floor_divide(&b)));
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    /// `lerp(self, end, weight)` with a number weight: `grad * (1 - weight)`, `grad * weight`.
    struct LerpBackward0 { weight: f64 }
    saved []
    fn backward(&mut self, grad, needs) {
        let ga = needs[0].then(|| grad.mul(1.0 - self.weight));
        let gb = needs[1].then(|| grad.mul(self.weight));
        smallvec::smallvec![ga, gb]
    }
}

backward_fn! {
    /// `addcmul(self, t1, t2, value)`: `grad`, `grad * t2 * value`, `grad * t1 * value`.
    struct AddcmulBackward0 { t1: SavedTensor, t2: SavedTensor, value: f64 }
    saved [t1, t2]
    fn backward(&mut self, grad, needs) {
        let g1 = needs[1].then(|| grad.mul(self.t2.get()).mul(self.value));
        let g2 = needs[2].then(|| grad.mul(self.t1.get()).mul(self.value));
        smallvec::smallvec![needs[0].then(|| grad.clone()), g1, g2]
    }
}

backward_fn! {
    /// `addcdiv(self, t1, t2, value)`: `grad`, `grad * (value / t2)`,
    /// `-grad * (value * t1 / (t2 * t2))`.
    struct AddcdivBackward0 { t1: SavedTensor, t2: SavedTensor, value: f64 }
    saved [t1, t2]
    fn backward(&mut self, grad, needs) {
        let (t1, t2) = (self.t1.get(), self.t2.get());
        let g1 = needs[1].then(|| grad.mul(t2.rdiv(self.value)));
        let g2 = needs[2].then(|| grad.neg().mul(t1.mul(self.value).div(t2.mul(&t2))));
        smallvec::smallvec![needs[0].then(|| grad.clone()), g1, g2]
    }
}

backward_fn! {
    /// ATen's `clamp_backward_min_max`: the gradient goes to `self` where `min <= self <= max`,
    /// to `min` where `self < min` (and `min < max`), to `max` where `self > max` or
    /// `max < min`.
    struct ClampBackward0 { x: SavedTensor, min: Option<SavedTensor>, max: Option<SavedTensor> }
    saved [x, min, max]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        let lo = self.min.as_ref().map(|m| m.get());
        let hi = self.max.as_ref().map(|m| m.get());
        let zero = 0.0;
        let mut out = smallvec::smallvec![];
        let keep = match (&lo, &hi) {
            (Some(l), Some(h)) => x.ge(l).logical_and(&x.le(h)),
            (Some(l), None) => x.ge(l),
            (None, Some(h)) => x.le(h),
            (None, None) => unreachable!("clamp needs a bound"),
        };
        out.push(needs[0].then(|| Tensor::where_(&keep, grad, zero)));
        let mut k = 1;
        if let Some(l) = &lo {
            let pred = match &hi {
                Some(h) => x.lt(l).logical_and(&l.lt(h)),
                None => x.lt(l),
            };
            out.push(needs[k].then(|| Tensor::where_(&pred, grad, zero)));
            k += 1;
        }
        if let Some(h) = &hi {
            let pred = match &lo {
                Some(l) => x.gt(h).logical_or(&h.lt(l)),
                None => x.gt(h),
            };
            out.push(needs[k].then(|| Tensor::where_(&pred, grad, zero)));
        }
        out
    }
}

backward_fn! {
    /// `grad * isfinite(self)`.
    struct NanToNumBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.mul(self.x.get().isfinite()))]
    }
}

/// `a op b` in the promoted dtype of both (a number is a "wrapped number"), broadcast, without
/// autograd; `float_op` ops compute integers as float32.
#[track_caller]
pub(super) fn binary_op_raw<O: BinaryOp>(
    a: &Tensor,
    b: &TensorOrScalar,
    op: O,
    float_op: bool,
) -> Tensor {
    let promoted = match b {
        TensorOrScalar::Tensor(t) => result_type(a, t),
        TensorOrScalar::Scalar(s) => result_type_with_scalar(a.dtype(), *s),
    };
    let ct = if float_op {
        float_type(promoted)
    } else {
        promoted
    };
    let b = match b {
        TensorOrScalar::Tensor(t) => t.cast_raw(ct),
        TensorOrScalar::Scalar(s) => Tensor::full_dtype((), *s, ct),
    };
    a.cast_raw(ct).zip_raw(&b, op)
}

impl Tensor {
    /// A float function of one tensor (integers computed as float32) with its backward node.
    #[track_caller]
    fn unary_float<O: ops::UnaryOp>(&self, op: O, rec: impl FnOnce(Tensor) -> Tensor) -> Tensor {
        rec(self.map_float_raw(op))
    }

    /// The error function (`torch.erf`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([0.0]).erf().to_vec::<f32>(), vec![0.0]);
    /// ```
    #[track_caller]
    pub fn erf(&self) -> Tensor {
        self.unary_float(ops::Erf {}, |o| {
            record(o, &[self], |_| ErfBackward0 {
                x: SavedTensor::input(self),
            })
        })
    }

    /// `2^x` (`torch.exp2`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([3.0]).exp2().to_vec::<f32>(), vec![8.0]);
    /// ```
    #[track_caller]
    pub fn exp2(&self) -> Tensor {
        self.unary_float(ops::Exp2 {}, |o| {
            record(o, &[self], |o| Exp2Backward0 {
                result: SavedTensor::output(o),
            })
        })
    }

    /// `e^x - 1`, accurate near zero (`torch.expm1`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([0.0]).expm1().to_vec::<f32>(), vec![0.0]);
    /// ```
    #[track_caller]
    pub fn expm1(&self) -> Tensor {
        self.unary_float(ops::Expm1 {}, |o| {
            record(o, &[self], |o| Expm1Backward0 {
                result: SavedTensor::output(o),
            })
        })
    }

    /// Base-2 logarithm (`torch.log2`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([8.0]).log2().to_vec::<f32>(), vec![3.0]);
    /// ```
    #[track_caller]
    pub fn log2(&self) -> Tensor {
        self.unary_float(ops::Log2 {}, |o| {
            record(o, &[self], |_| Log2Backward0 {
                x: SavedTensor::input(self),
            })
        })
    }

    /// Base-10 logarithm (`torch.log10`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([100.0]).log10().to_vec::<f32>(), vec![2.0]);
    /// ```
    #[track_caller]
    pub fn log10(&self) -> Tensor {
        self.unary_float(ops::Log10 {}, |o| {
            record(o, &[self], |_| Log10Backward0 {
                x: SavedTensor::input(self),
            })
        })
    }

    /// Tangent (`torch.tan`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([0.0]).tan().to_vec::<f32>(), vec![0.0]);
    /// ```
    #[track_caller]
    pub fn tan(&self) -> Tensor {
        self.unary_float(ops::Tan {}, |o| {
            record(o, &[self], |o| TanBackward0 {
                result: SavedTensor::output(o),
            })
        })
    }

    /// Arcsine (`torch.asin`); NaN outside `[-1, 1]`.
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([0.0]).asin().to_vec::<f32>(), vec![0.0]);
    /// ```
    #[track_caller]
    pub fn asin(&self) -> Tensor {
        self.unary_float(ops::Asin {}, |o| {
            record(o, &[self], |_| AsinBackward0 {
                x: SavedTensor::input(self),
            })
        })
    }

    /// Arccosine (`torch.acos`); NaN outside `[-1, 1]`.
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([1.0]).acos().to_vec::<f32>(), vec![0.0]);
    /// ```
    #[track_caller]
    pub fn acos(&self) -> Tensor {
        self.unary_float(ops::Acos {}, |o| {
            record(o, &[self], |_| AcosBackward0 {
                x: SavedTensor::input(self),
            })
        })
    }

    /// Arctangent (`torch.atan`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([0.0]).atan().to_vec::<f32>(), vec![0.0]);
    /// ```
    #[track_caller]
    pub fn atan(&self) -> Tensor {
        self.unary_float(ops::Atan {}, |o| {
            record(o, &[self], |_| AtanBackward0 {
                x: SavedTensor::input(self),
            })
        })
    }

    /// Rounds toward zero (`torch.trunc`); integers are returned as copies, the gradient is zero.
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([-1.5, 1.5]).trunc().to_vec::<f32>(), vec![-1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn trunc(&self) -> Tensor {
        if !self.dtype().is_float() {
            return self.clone_tensor_raw();
        }
        let out = self.map_raw(ops::Trunc {});
        record(out, &[self], |_| TruncBackward0 {})
    }

    /// The fractional part `x - trunc(x)` (`torch.frac`; float tensors only).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([-1.5, 2.25]).frac().to_vec::<f32>(), vec![-0.5, 0.25]);
    /// ```
    #[track_caller]
    pub fn frac(&self) -> Tensor {
        let out = self.map_raw(ops::Frac {});
        record(out, &[self], |_| FracBackward0 {})
    }

    /// The angle of the point `(other, self)`, elementwise with broadcasting (`torch.atan2`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let y = tensor!([1.0]).atan2(&tensor!([1.0]));
    /// assert!((y.item::<f32>() - std::f32::consts::FRAC_PI_4).abs() < 1e-6);
    /// ```
    #[track_caller]
    pub fn atan2(&self, other: &Tensor) -> Tensor {
        let out = binary_op_raw(self, &other.into(), ops::Atan2 {}, true);
        record(out, &[self, other], |_| Atan2Backward0 {
            a: SavedTensor::input(self),
            b: SavedTensor::input(other),
        })
    }

    /// C's `fmod`: the remainder of `self / other` with the sign of `self` (`torch.fmod`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([-3.0, 3.0]).fmod(2.0).to_vec::<f32>(), vec![-1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn fmod(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        let other = other.into();
        let out = binary_op_raw(self, &other, ops::Fmod {}, false);
        self.record_mod(
            out,
            other,
            |a, b| FmodBackward1 { a, b },
            || FmodBackward0 {},
        )
    }

    /// Python's `%`: the remainder of `self / other` with the sign of `other`
    /// (`torch.remainder`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([-3.0, 3.0]).remainder(2.0).to_vec::<f32>(), vec![1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn remainder(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        let other = other.into();
        let out = binary_op_raw(self, &other, ops::Remainder {}, false);
        self.record_mod(
            out,
            other,
            |a, b| RemainderBackward1 { a, b },
            || RemainderBackward0 {},
        )
    }

    /// Records `fmod`/`remainder`: by a tensor (node `T`), or by a number (node `S`).
    #[track_caller]
    fn record_mod<T, S>(
        &self,
        out: Tensor,
        other: TensorOrScalar,
        by_tensor: impl FnOnce(SavedTensor, SavedTensor) -> T,
        by_scalar: impl FnOnce() -> S,
    ) -> Tensor
    where
        T: crate::autograd::Backward + crate::autograd::NamedBackward + 'static,
        S: crate::autograd::Backward + crate::autograd::NamedBackward + 'static,
    {
        if !out.dtype().is_float() {
            return out;
        }
        match other {
            TensorOrScalar::Tensor(o) => record(out, &[self, &o], |_| {
                by_tensor(SavedTensor::input(self), SavedTensor::input(&o))
            }),
            TensorOrScalar::Scalar(_) => record(out, &[self], |_| by_scalar()),
        }
    }

    /// Python's `//`: `self / other` rounded down (`torch.floor_divide`). PyTorch defines no
    /// derivative for it, so the result is not tracked.
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([-3.0, 3.0]).floor_divide(2.0).to_vec::<f32>(), vec![-2.0, 1.0]);
    /// assert_eq!(tensor!([-7, 7]).floor_divide(2).to_vec::<i64>(), vec![-4, 3]);
    /// ```
    #[track_caller]
    pub fn floor_divide(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        binary_op_raw(self, &other.into(), ops::FloorDivide {}, false)
    }

    /// `self + weight * (end - self)` with broadcasting (`torch.lerp` with a number weight),
    /// computed by the fused kernel of `lerp_` (ATen's `lerp_kernel`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let y = tensor!([0.0, 10.0]).lerp(&tensor!([10.0, 20.0]), 0.5);
    /// assert_eq!(y.to_vec::<f32>(), vec![5.0, 15.0]);
    /// ```
    #[track_caller]
    pub fn lerp(&self, end: &Tensor, weight: f64) -> Tensor {
        let dtype = result_type(self, end);
        if !dtype.is_float() {
            panic!(
                "\"lerp_kernel_scalar\" not implemented for '{}'",
                dtype.scalar_name()
            );
        }
        let out = fused_out(self, &[end], dtype, |o, ops| o.lerp_(&ops[0], weight));
        record(out, &[self, end], |_| LerpBackward0 { weight })
    }

    /// `self + value * t1 * t2` with broadcasting (`torch.addcmul`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let y = tensor!([1.0]).addcmul(&tensor!([2.0]), &tensor!([3.0]), 0.5);
    /// assert_eq!(y.to_vec::<f32>(), vec![4.0]);
    /// ```
    #[track_caller]
    pub fn addcmul(&self, t1: &Tensor, t2: &Tensor, value: f64) -> Tensor {
        let dtype = DType::promote(result_type(self, t1), t2.dtype());
        let out = fused_out(self, &[t1, t2], dtype, |o, ops| {
            o.addcmul_(&ops[0], &ops[1], value)
        });
        record(out, &[self, t1, t2], |_| AddcmulBackward0 {
            t1: SavedTensor::input(t1),
            t2: SavedTensor::input(t2),
            value,
        })
    }

    /// `self + value * t1 / t2` with broadcasting (`torch.addcdiv`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let y = tensor!([1.0]).addcdiv(&tensor!([3.0]), &tensor!([2.0]), 2.0);
    /// assert_eq!(y.to_vec::<f32>(), vec![4.0]);
    /// ```
    #[track_caller]
    pub fn addcdiv(&self, t1: &Tensor, t2: &Tensor, value: f64) -> Tensor {
        if !t1.dtype().is_float() && !t2.dtype().is_float() {
            panic!(
                "Integer division with addcdiv is no longer supported, and in a future release addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), for all dtypes."
            );
        }
        let dtype = DType::promote(result_type(self, t1), t2.dtype());
        let out = fused_out(self, &[t1, t2], dtype, |o, ops| {
            o.addcdiv_(&ops[0], &ops[1], value)
        });
        record(out, &[self, t1, t2], |_| AddcdivBackward0 {
            t1: SavedTensor::input(t1),
            t2: SavedTensor::input(t2),
            value,
        })
    }

    /// Limits values to `[min, max]` given as tensors (broadcast); either may be `None`
    /// (`torch.clamp(input, min=Tensor, max=Tensor)`). A NaN bound gives NaN.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let y = tensor!([-2.0, 0.0, 2.0]).clamp_tensor(Some(&tensor!([-1.0, 0.5, -1.0])), Some(&tensor!(1.0)));
    /// assert_eq!(y.to_vec::<f32>(), vec![-1.0, 0.5, 1.0]);
    /// ```
    #[track_caller]
    pub fn clamp_tensor(&self, min: Option<&Tensor>, max: Option<&Tensor>) -> Tensor {
        if min.is_none() && max.is_none() {
            panic!("torch.clamp: At least one of 'min' or 'max' must not be None");
        }
        let mut dtype = self.dtype();
        for b in min.iter().chain(max.iter()) {
            dtype = DType::promote(dtype, result_type(self, b));
        }
        let mut out = self.cast_raw(dtype);
        if let Some(lo) = min {
            out = out.zip_raw(&lo.cast_raw(dtype), ops::Maximum {});
        }
        if let Some(hi) = max {
            out = out.zip_raw(&hi.cast_raw(dtype), ops::Minimum {});
        }
        let mut inputs = vec![self];
        inputs.extend(min);
        inputs.extend(max);
        record(out, &inputs, |_| ClampBackward0 {
            x: SavedTensor::input(self),
            min: min.map(SavedTensor::input),
            max: max.map(SavedTensor::input),
        })
    }

    /// Replaces NaN by `nan`, and +inf / -inf by `posinf` / `neginf`, which default to the
    /// dtype's largest and lowest finite values (`torch.nan_to_num`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let y = tensor!([f32::NAN, f32::NEG_INFINITY, 1.0]).nan_to_num(0.0, None, Some(-7.0));
    /// assert_eq!(y.to_vec::<f32>(), vec![0.0, -7.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn nan_to_num(&self, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> Tensor {
        let out = self.map_raw(ops::NanToNum {
            nan,
            posinf,
            neginf,
        });
        if !out.dtype().is_float() {
            return out;
        }
        record(out, &[self], |_| NanToNumBackward0 {
            x: SavedTensor::input(self),
        })
    }
}

/// The out-of-place form of a fused in-place update: `self`, cast to `dtype` and broadcast with
/// the operands, copied, then updated in place by `update` (no autograd).
#[track_caller]
fn fused_out(
    this: &Tensor,
    operands: &[&Tensor],
    dtype: DType,
    update: impl FnOnce(&Tensor, &[Tensor]) -> Tensor,
) -> Tensor {
    no_grad(|| {
        let mut shape = this.dims().to_vec();
        for o in operands {
            shape = broadcast_shapes(&shape, o.dims()).dims().to_vec();
        }
        let out = this
            .cast_raw(dtype)
            .expand(shape.clone())
            .clone_tensor_raw();
        let ops: Vec<Tensor> = operands
            .iter()
            .map(|o| o.cast_raw(dtype).expand(shape.clone()))
            .collect();
        let _ = update(&out, &ops);
        out
    })
}
