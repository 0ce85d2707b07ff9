//! Elementwise math functions of one tensor and their derivatives: `neg`, `exp`, `log`, `sqrt`,
//! `abs`, trigonometric and hyperbolic functions, `sigmoid`, `clamp`, rounding. Integer inputs of
//! float functions are promoted to float32, as in PyTorch. The activations are in
//! `activation.rs`.

use crate::autograd::{SavedTensor, backward_fn, record};
use crate::backend::ops;
use crate::dtype::DType;
use crate::tensor::Tensor;

backward_fn! {
    struct NegBackward0 {}
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.neg())]
    }
}

backward_fn! {
    struct ExpBackward0 { result: SavedTensor }
    saved [result]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.mul(self.result.get()))]
    }
}

backward_fn! {
    struct LogBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.div(self.x.get()))]
    }
}

backward_fn! {
    struct Log1PBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.div(self.x.get().add(1.0)))]
    }
}

backward_fn! {
    struct SqrtBackward0 { result: SavedTensor }
    saved [result]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.div(self.result.get().mul(2.0)))]
    }
}

backward_fn! {
    /// PyTorch: `-0.5 * grad * result.pow(3)`.
    struct RsqrtBackward0 { result: SavedTensor }
    saved [result]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.mul(-0.5).mul(self.result.get().pow(3)))]
    }
}

backward_fn! {
    struct ReciprocalBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        smallvec::smallvec![Some(grad.div(x.mul(&x)).neg())]
    }
}

backward_fn! {
    struct AbsBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.mul(self.x.get().sign()))]
    }
}

backward_fn! {
    struct SinBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.mul(self.x.get().cos()))]
    }
}

backward_fn! {
    struct CosBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.mul(self.x.get().sin().neg()))]
    }
}

backward_fn! {
    struct SinhBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.mul(self.x.get().cosh()))]
    }
}

backward_fn! {
    struct CoshBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.mul(self.x.get().sinh()))]
    }
}

backward_fn! {
    struct TanhBackward0 { result: SavedTensor }
    saved [result]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(Tensor::tanh_backward(grad, &self.result.get()))]
    }
}

backward_fn! {
    struct SigmoidBackward0 { result: SavedTensor }
    saved [result]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(Tensor::sigmoid_backward(grad, &self.result.get()))]
    }
}

backward_fn! {
    /// PyTorch: `0.5 * sqrt(pi) * exp(self.erfinv().pow(2)) * grad`.
    struct ErfinvBackward0 { result: SavedTensor }
    saved [result]
    fn backward(&mut self, grad, needs) {
        let c = 0.5 * std::f64::consts::PI.sqrt();
        smallvec::smallvec![Some(self.result.get().pow(2).exp().mul(c).mul(grad))]
    }
}

backward_fn! {
    /// `clamp(x, min, max)`: the gradient passes where `min <= x <= max` (ATen's `clamp_backward`).
    struct ClampBackward1 { x: SavedTensor, lo: f64, hi: f64 }
    names [ClampMinBackward0, ClampMaxBackward0]
    saved [x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        let inside = x.ge(self.lo).logical_and(&x.le(self.hi));
        smallvec::smallvec![Some(Tensor::where_(&inside, grad, 0.0))]
    }
}

backward_fn! {
    /// Piecewise-constant functions: the gradient is zero.
    struct SignBackward0 {}
    names [FloorBackward0, CeilBackward0, RoundBackward0]
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(Tensor::zeros_like(grad))]
    }
}

impl Tensor {
    /// `-self` (`torch.neg`).
    #[track_caller]
    pub fn neg(&self) -> Tensor {
        if self.dtype() == DType::Bool {
            panic!(
                "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
            );
        }
        let out = self.map_raw(ops::Neg {});
        record(out, &[self], |_| NegBackward0 {})
    }

    /// `e^x` elementwise (`torch.exp`).
    #[track_caller]
    pub fn exp(&self) -> Tensor {
        let out = self.map_float_raw(ops::Exp {});
        record(out, &[self], |o| ExpBackward0 {
            result: SavedTensor::output(o),
        })
    }

    /// Natural logarithm (`torch.log`).
    #[track_caller]
    pub fn log(&self) -> Tensor {
        let out = self.map_float_raw(ops::Log {});
        record(out, &[self], |_| LogBackward0 {
            x: SavedTensor::input(self),
        })
    }

    /// `log(1 + x)`, accurate near zero (`torch.log1p`).
    #[track_caller]
    pub fn log1p(&self) -> Tensor {
        let out = self.map_float_raw(ops::Log1p {});
        record(out, &[self], |_| Log1PBackward0 {
            x: SavedTensor::input(self),
        })
    }

    /// Square root (`torch.sqrt`).
    #[track_caller]
    pub fn sqrt(&self) -> Tensor {
        let out = self.map_float_raw(ops::Sqrt {});
        record(out, &[self], |o| SqrtBackward0 {
            result: SavedTensor::output(o),
        })
    }

    /// `1 / sqrt(x)` (`torch.rsqrt`).
    #[track_caller]
    pub fn rsqrt(&self) -> Tensor {
        let out = self.map_float_raw(ops::Rsqrt {});
        record(out, &[self], |o| RsqrtBackward0 {
            result: SavedTensor::output(o),
        })
    }

    /// `1 / x` (`torch.reciprocal`).
    #[track_caller]
    pub fn reciprocal(&self) -> Tensor {
        let out = self.map_float_raw(ops::Reciprocal {});
        record(out, &[self], |_| ReciprocalBackward0 {
            x: SavedTensor::input(self),
        })
    }

    /// Absolute value (`torch.abs`).
    #[track_caller]
    pub fn abs(&self) -> Tensor {
        let out = self.map_raw(ops::Abs {});
        record(out, &[self], |_| AbsBackward0 {
            x: SavedTensor::input(self),
        })
    }

    /// -1, 0 or 1 by sign (`torch.sign`); its gradient is zero.
    #[track_caller]
    pub fn sign(&self) -> Tensor {
        let out = match self.dtype() {
            DType::I64 => self.map_raw(ops::Sign {}),
            _ => self.map_float_raw(ops::Sign {}),
        };
        record(out, &[self], |_| SignBackward0 {})
    }

    /// Sine (`torch.sin`).
    #[track_caller]
    pub fn sin(&self) -> Tensor {
        let out = self.map_float_raw(ops::Sin {});
        record(out, &[self], |_| SinBackward0 {
            x: SavedTensor::input(self),
        })
    }

    /// Cosine (`torch.cos`).
    #[track_caller]
    pub fn cos(&self) -> Tensor {
        let out = self.map_float_raw(ops::Cos {});
        record(out, &[self], |_| CosBackward0 {
            x: SavedTensor::input(self),
        })
    }

    /// Hyperbolic sine (`torch.sinh`).
    #[track_caller]
    pub fn sinh(&self) -> Tensor {
        let out = self.map_float_raw(ops::Sinh {});
        record(out, &[self], |_| SinhBackward0 {
            x: SavedTensor::input(self),
        })
    }

    /// Hyperbolic cosine (`torch.cosh`).
    #[track_caller]
    pub fn cosh(&self) -> Tensor {
        let out = self.map_float_raw(ops::Cosh {});
        record(out, &[self], |_| CoshBackward0 {
            x: SavedTensor::input(self),
        })
    }

    /// Hyperbolic tangent (`torch.tanh`); its gradient is the named op `tanh_backward`.
    #[track_caller]
    pub fn tanh(&self) -> Tensor {
        let out = self.map_float_raw(ops::Tanh {});
        record(out, &[self], |o| TanhBackward0 {
            result: SavedTensor::output(o),
        })
    }

    /// The logistic function `1 / (1 + e^-x)` (`torch.sigmoid`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([0.0]).sigmoid().to_vec::<f32>(), vec![0.5]);
    /// ```
    #[track_caller]
    pub fn sigmoid(&self) -> Tensor {
        let out = self.map_float_raw(ops::Sigmoid {});
        record(out, &[self], |o| SigmoidBackward0 {
            result: SavedTensor::output(o),
        })
    }

    /// Limits values to `[min, max]`; either bound may be `None` (`torch.clamp`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([-2.0, 0.0, 2.0]);
    /// assert_eq!(t.clamp(Some(-1.0), Some(1.0)).to_vec::<f32>(), vec![-1.0, 0.0, 1.0]);
    /// assert_eq!(t.clamp(None, Some(1.0)).to_vec::<f32>(), vec![-2.0, 0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn clamp(&self, min: Option<f64>, max: Option<f64>) -> Tensor {
        if min.is_none() && max.is_none() {
            panic!("torch.clamp: At least one of 'min' or 'max' must not be None");
        }
        let (lo, hi) = (
            min.unwrap_or(f64::NEG_INFINITY),
            max.unwrap_or(f64::INFINITY),
        );
        let out = self.clamp_raw(lo, hi);
        record(out, &[self], |_| ClampBackward1 {
            x: SavedTensor::input(self),
            lo,
            hi,
        })
    }

    /// `clamp(min=min)` (`torch.clamp_min`).
    #[track_caller]
    pub fn clamp_min(&self, min: f64) -> Tensor {
        let out = self.clamp_raw(min, f64::INFINITY);
        record(out, &[self], |_| ClampMinBackward0 {
            x: SavedTensor::input(self),
            lo: min,
            hi: f64::INFINITY,
        })
    }

    /// `clamp(max=max)` (`torch.clamp_max`).
    #[track_caller]
    pub fn clamp_max(&self, max: f64) -> Tensor {
        let out = self.clamp_raw(f64::NEG_INFINITY, max);
        record(out, &[self], |_| ClampMaxBackward0 {
            x: SavedTensor::input(self),
            lo: f64::NEG_INFINITY,
            hi: max,
        })
    }

    /// `min(max(x, lo), hi)` in this tensor's dtype (int64 stays int64), without autograd.
    #[track_caller]
    fn clamp_raw(&self, lo: f64, hi: f64) -> Tensor {
        let op = ops::Clamp { lo, hi };
        match self.dtype() {
            DType::I64 => self.map_raw(op),
            _ => self.map_float_raw(op),
        }
    }

    /// The inverse error function (`torch.erfinv`).
    #[track_caller]
    pub fn erfinv(&self) -> Tensor {
        let out = self.map_float_raw(ops::Erfinv {});
        record(out, &[self], |o| ErfinvBackward0 {
            result: SavedTensor::output(o),
        })
    }

    /// Rounds down (`torch.floor`); its gradient is zero.
    #[track_caller]
    pub fn floor(&self) -> Tensor {
        self.rounding(ops::Floor {}, |o| record(o, &[self], |_| FloorBackward0 {}))
    }

    /// Rounds up (`torch.ceil`); its gradient is zero.
    #[track_caller]
    pub fn ceil(&self) -> Tensor {
        self.rounding(ops::Ceil {}, |o| record(o, &[self], |_| CeilBackward0 {}))
    }

    /// Rounds half to even (`torch.round`); its gradient is zero.
    #[track_caller]
    pub fn round(&self) -> Tensor {
        self.rounding(ops::Round {}, |o| record(o, &[self], |_| RoundBackward0 {}))
    }

    /// A rounding function: integers are returned as copies.
    #[track_caller]
    fn rounding<O: ops::UnaryOp>(&self, op: O, rec: impl FnOnce(Tensor) -> Tensor) -> Tensor {
        if !self.dtype().is_float() {
            return self.clone_tensor_raw();
        }
        rec(self.map_raw(op))
    }
}
