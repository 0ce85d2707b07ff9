//! More activations, as PyTorch computes them: `hardtanh relu6 selu celu mish hardswish
//! hardsigmoid softsign glu prelu`. Where derivatives.yaml names a backward op
//! (`hardtanh_backward`, `hardswish_backward`, `hardsigmoid_backward`, `mish_backward`), it is one
//! fused kernel of `backend/ops.rs` and itself differentiable, so gradients can be
//! differentiated again.

use super::activation::CeluBackward0;
use crate::autograd::{SavedTensor, backward_fn, is_grad_enabled, no_grad, record};
use crate::backend::ops;
use crate::tensor::Tensor;

/// `nn.SELU`'s `alpha` (ATen's `SELU_ALPHA`).
const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
/// `nn.SELU`'s `scale` (ATen's `SELU_SCALE`).
const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

backward_fn! {
    /// `hardtanh_backward(grad, self, min_val, max_val)`.
    struct HardtanhBackward0 { x: SavedTensor, lo: f64, hi: f64 }
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(Tensor::hardtanh_backward(grad, &self.x.get(), self.lo, self.hi))]
    }
}

backward_fn! {
    /// `hardtanh_backward`'s derivative: `hardtanh_backward(grad, self, ...)` for the incoming
    /// gradient, zeros for `self`.
    struct HardtanhBackwardBackward0 { x: SavedTensor, lo: f64, hi: f64 }
    saved [x]
    fn backward(&mut self, grad, needs) {
        let gg = needs[0].then(|| Tensor::hardtanh_backward(grad, &self.x.get(), self.lo, self.hi));
        smallvec::smallvec![gg, needs[1].then(|| Tensor::zeros_like(grad))]
    }
}

backward_fn! {
    /// `mish`: the fused `mish_backward` kernel, or, when the backward pass is itself recorded,
    /// ATen's `infinitely_differentiable_mish_backward` composite.
    struct MishBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        let g = if is_grad_enabled() {
            let s = x.sigmoid();
            let t = x.exp().log1p().tanh();
            grad.mul(t.add(&x.mul(&s).mul(t.mul(&t).rsub(1.0))))
        } else {
            grad.zip_float_raw(&x, ops::MishBackward {})
        };
        smallvec::smallvec![Some(g)]
    }
}

backward_fn! {
    /// `hardswish_backward(grad, self)`.
    struct HardswishBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(Tensor::hardswish_backward(grad, &self.x.get()))]
    }
}

backward_fn! {
    /// `hardswish_backward`'s derivative: `hardswish_backward(grad, self)` for the incoming
    /// gradient, `where(-3 < self < 3, grad * grad_output / 3, 0)` for `self`.
    struct HardswishBackwardBackward0 { grad_output: SavedTensor, x: SavedTensor }
    saved [grad_output, x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        let gg = needs[0].then(|| Tensor::hardswish_backward(grad, &x));
        let gx = needs[1].then(|| {
            let inside = x.gt(-3.0).logical_and(&x.lt(3.0));
            Tensor::where_(&inside, grad.mul(self.grad_output.get()).div(3.0), 0.0)
        });
        smallvec::smallvec![gg, gx]
    }
}

backward_fn! {
    /// `hardsigmoid_backward(grad, self)`.
    struct HardsigmoidBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(Tensor::hardsigmoid_backward(grad, &self.x.get()))]
    }
}

backward_fn! {
    /// `hardsigmoid_backward`'s derivative: `hardsigmoid_backward(grad, self)`, zeros for `self`.
    struct HardsigmoidBackwardBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        let gg = needs[0].then(|| Tensor::hardsigmoid_backward(grad, &self.x.get()));
        smallvec::smallvec![gg, needs[1].then(|| Tensor::zeros_like(grad))]
    }
}

backward_fn! {
    /// ATen's `glu_backward`: `sigmoid(b) * grad` for the first half, `(1 - sigmoid(b)) *
    /// sigmoid(b) * a * grad` for the second, written with differentiable ops.
    struct GluBackward0 { x: SavedTensor, dim: i64 }
    saved [x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        let h = x.dims()[self.dim as usize] / 2;
        let (a, b) = (x.narrow(self.dim, 0, h), x.narrow(self.dim, h as i64, h));
        let s = b.sigmoid();
        let ga = s.mul(grad);
        let gb = s.rsub(1.0).mul(&s).mul(&a).mul(grad);
        smallvec::smallvec![Some(Tensor::cat(&[&ga, &gb], self.dim))]
    }
}

backward_fn! {
    /// ATen's `_prelu_kernel_backward`: `x > 0 ? grad : weight * grad` and
    /// `x > 0 ? 0 : x * grad` (reduced to the weight's shape by the engine).
    struct PreluKernelBackward0 { x: SavedTensor, w: SavedTensor }
    saved [x, w]
    fn backward(&mut self, grad, needs) {
        let (x, w) = (self.x.get(), self.w.get());
        let pos = x.gt(0.0);
        let gx = needs[0].then(|| Tensor::where_(&pos, grad, w.mul(grad)));
        let gw = needs[1].then(|| Tensor::where_(&pos, 0.0, x.mul(grad)));
        smallvec::smallvec![gx, gw]
    }
}

impl Tensor {
    /// `min(max(x, min_val), max_val)` (`F.hardtanh`; PyTorch's defaults are -1 and 1).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let y = tensor!([-2.0, 0.5, 2.0]).hardtanh(-1.0, 1.0);
    /// assert_eq!(y.to_vec::<f32>(), vec![-1.0, 0.5, 1.0]);
    /// ```
    #[track_caller]
    pub fn hardtanh(&self, min_val: f64, max_val: f64) -> Tensor {
        if min_val > max_val {
            panic!("min_val cannot be greater than max_val");
        }
        let out = self.map_float_raw(ops::Clamp {
            lo: min_val,
            hi: max_val,
        });
        record(out, &[self], |_| HardtanhBackward0 {
            x: SavedTensor::input(self),
            lo: min_val,
            hi: max_val,
        })
    }

    /// `min(max(x, 0), 6)` (`F.relu6`: ATen's `hardtanh(self, 0, 6)`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([-1.0, 7.0]).relu6().to_vec::<f32>(), vec![0.0, 6.0]);
    /// ```
    #[track_caller]
    pub fn relu6(&self) -> Tensor {
        self.hardtanh(0.0, 6.0)
    }

    /// The scaled ELU with PyTorch's fixed `alpha` and `scale` (`F.selu`; its node is
    /// `EluBackward0`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let y = tensor!([1.0]).selu();
    /// assert!((y.item::<f32>() - 1.050_701).abs() < 1e-6);
    /// ```
    #[track_caller]
    pub fn selu(&self) -> Tensor {
        self.elu_scaled(SELU_ALPHA, SELU_SCALE, 1.0)
    }

    /// `max(0, x) + min(0, alpha * (e^(x / alpha) - 1))` (`F.celu`; PyTorch's default alpha is
    /// 1.0).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([2.0]).celu(0.5).to_vec::<f32>(), vec![2.0]);
    /// ```
    #[track_caller]
    pub fn celu(&self, alpha: f64) -> Tensor {
        if alpha == 0.0 {
            panic!("ZeroDivisionError: alpha cannot be 0 for CELU");
        }
        let out = self.map_float_raw(ops::Elu {
            alpha,
            scale: 1.0,
            input_scale: 1.0 / alpha,
        });
        record(out, &[self], |_| CeluBackward0 {
            x: SavedTensor::input(self),
            alpha,
            scale: 1.0,
            // derivatives.yaml: `1.0 / alpha.toFloat()`, the float-rounded alpha.
            input_scale: 1.0 / (alpha as f32 as f64),
        })
    }

    /// `x * tanh(softplus(x))` (`F.mish`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([0.0]).mish().to_vec::<f32>(), vec![0.0]);
    /// ```
    #[track_caller]
    pub fn mish(&self) -> Tensor {
        let out = self.map_float_raw(ops::Mish {});
        record(out, &[self], |_| MishBackward0 {
            x: SavedTensor::input(self),
        })
    }

    /// `x * relu6(x + 3) / 6` (`F.hardswish`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([-4.0, 0.0, 4.0]).hardswish().to_vec::<f32>(), vec![0.0, 0.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn hardswish(&self) -> Tensor {
        let out = self.map_float_raw(ops::Hardswish {});
        record(out, &[self], |_| HardswishBackward0 {
            x: SavedTensor::input(self),
        })
    }

    /// `relu6(x + 3) / 6` (`F.hardsigmoid`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([-4.0, 0.0, 4.0]).hardsigmoid().to_vec::<f32>(), vec![0.0, 0.5, 1.0]);
    /// ```
    #[track_caller]
    pub fn hardsigmoid(&self) -> Tensor {
        let out = self.map_float_raw(ops::Hardsigmoid {});
        record(out, &[self], |_| HardsigmoidBackward0 {
            x: SavedTensor::input(self),
        })
    }

    /// `x / (|x| + 1)` (`F.softsign`, which PyTorch writes with these ops).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([1.0, -3.0]).softsign().to_vec::<f32>(), vec![0.5, -0.75]);
    /// ```
    #[track_caller]
    pub fn softsign(&self) -> Tensor {
        self.div(self.abs().add(1))
    }

    /// The gated linear unit `a * sigmoid(b)`, `a` and `b` the halves of `dim` (`F.glu`;
    /// PyTorch's default dim is -1).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let y = tensor!([[1.0, 0.0]]).glu(-1);
    /// assert_eq!(y.to_vec::<f32>(), vec![0.5]);
    /// ```
    #[track_caller]
    pub fn glu(&self, dim: i64) -> Tensor {
        if self.ndim() == 0 {
            panic!("glu does not support scalars because halving size must be even");
        }
        let d = crate::shape::wrap_dim(dim, self.ndim());
        let n = self.dims()[d];
        if !n.is_multiple_of(2) {
            panic!("Halving dimension must be even, but dimension {d} is size {n}");
        }
        let h = n / 2;
        let out = no_grad(|| {
            let a = self.narrow(d as i64, 0, h);
            let b = self.narrow(d as i64, h as i64, h);
            a.mul(b.sigmoid())
        });
        record(out, &[self], |_| GluBackward0 {
            x: SavedTensor::input(self),
            dim: d as i64,
        })
    }

    /// `x` where positive, `weight * x` elsewhere, `weight` one value or one per channel (dim 1)
    /// (`F.prelu`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let y = tensor!([[-2.0, 2.0]]).prelu(&tensor!([0.25]));
    /// assert_eq!(y.to_vec::<f32>(), vec![-0.5, 2.0]);
    /// ```
    #[track_caller]
    pub fn prelu(&self, weight: &Tensor) -> Tensor {
        if self.dtype() != weight.dtype() {
            panic!(
                "prelu: Type promoting not supported. Got {} and {}",
                self.dtype().scalar_name(),
                weight.dtype().scalar_name()
            );
        }
        let (nd, wn) = (self.ndim(), weight.numel());
        if wn != 1 {
            if nd == 0 {
                panic!("Not allow zero-dim input tensor.");
            }
            let channels = if nd > 1 { self.dims()[1] } else { 1 };
            if channels != wn {
                panic!(
                    "Mismatch of parameter numbers and input channel size. Found parameter numbers = {wn} and channel size = {channels}."
                );
            }
        }
        if weight.ndim() > 1 {
            panic!(
                "prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {}",
                weight.ndim()
            );
        }
        // ATen reshapes a per-channel weight to [1, C, 1, ...] (a recorded view).
        let w = if wn != 1 && nd > 1 {
            let mut shape = vec![1i64; nd];
            shape[1] = wn as i64;
            weight.reshape(shape)
        } else {
            weight.clone()
        };
        let out = no_grad(|| Tensor::where_(&self.gt(0.0), self, self.mul(&w)));
        record(out, &[self, &w], |_| PreluKernelBackward0 {
            x: SavedTensor::input(self),
            w: SavedTensor::input(&w),
        })
    }

    /// `hardtanh_backward(grad, input, min_val, max_val)`: the gradient where
    /// `min_val < input < max_val`, zero elsewhere.
    #[track_caller]
    pub fn hardtanh_backward(grad: &Tensor, input: &Tensor, min_val: f64, max_val: f64) -> Tensor {
        let op = ops::HardtanhBackward {
            lo: min_val,
            hi: max_val,
        };
        let out = grad.zip_float_raw(input, op);
        record(out, &[grad, input], |_| HardtanhBackwardBackward0 {
            x: SavedTensor::input(input),
            lo: min_val,
            hi: max_val,
        })
    }

    /// `hardswish_backward(grad, input)`.
    #[track_caller]
    pub fn hardswish_backward(grad: &Tensor, input: &Tensor) -> Tensor {
        let out = grad.zip_float_raw(input, ops::HardswishBackward {});
        record(out, &[grad, input], |_| HardswishBackwardBackward0 {
            grad_output: SavedTensor::input(grad),
            x: SavedTensor::input(input),
        })
    }

    /// `hardsigmoid_backward(grad, input)`.
    #[track_caller]
    pub fn hardsigmoid_backward(grad: &Tensor, input: &Tensor) -> Tensor {
        let out = grad.zip_float_raw(input, ops::HardsigmoidBackward {});
        record(out, &[grad, input], |_| HardsigmoidBackwardBackward0 {
            x: SavedTensor::input(input),
        })
    }
}
