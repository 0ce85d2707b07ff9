//! Activations and their gradients, written as PyTorch writes them: each activation's backward
//! is a named backward op of derivatives.yaml (`threshold_backward`, `sigmoid_backward`,
//! `tanh_backward`, `gelu_backward`, `softplus_backward`, `silu_backward`,
//! `leaky_relu_backward`, `elu_backward`), computed by one fused kernel and itself
//! differentiable (its node is `...BackwardBackward0`), so gradients can be differentiated again.

use crate::autograd::{SavedTensor, backward_fn, is_grad_enabled, record};
use crate::backend::ops;
use crate::tensor::Tensor;

backward_fn! {
    /// `relu`: `threshold_backward(grad, result, 0)`.
    struct ReluBackward0 { result: SavedTensor }
    saved [result]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(Tensor::threshold_backward(grad, &self.result.get(), 0.0))]
    }
}

backward_fn! {
    struct LeakyReluBackward0 { x: SavedTensor, slope: f64 }
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(Tensor::leaky_relu_backward(grad, &self.x.get(), self.slope))]
    }
}

backward_fn! {
    /// `elu`, `selu` and `celu` (the latter under its own name): `elu_backward` with the
    /// forward's coefficients.
    struct EluBackward0 { x: SavedTensor, alpha: f64, scale: f64, input_scale: f64 }
    names [CeluBackward0]
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(Tensor::elu_backward_scaled(grad, &self.x.get(), self.alpha, self.scale, self.input_scale))]
    }
}

backward_fn! {
    struct GeluBackward0 { x: SavedTensor, tanh: bool }
    saved [x]
    fn backward(&mut self, grad, needs) {
        let approximate = if self.tanh { "tanh" } else { "none" };
        smallvec::smallvec![Some(Tensor::gelu_backward(grad, &self.x.get(), approximate))]
    }
}

backward_fn! {
    /// `silu`: the fused `silu_backward` kernel, or, when the backward pass is itself recorded
    /// (`create_graph`), PyTorch's `infinitely_differentiable_silu_backward` composite.
    struct SiluBackward0 { x: SavedTensor }
    saved [x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        let g = if is_grad_enabled() {
            let s = x.sigmoid();
            grad.mul(&s).mul(x.mul(s.rsub(1.0)).add(1.0))
        } else {
            Tensor::silu_backward(grad, &x)
        };
        smallvec::smallvec![Some(g)]
    }
}

backward_fn! {
    struct SoftplusBackward0 { x: SavedTensor, beta: f64, threshold: f64 }
    saved [x]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(Tensor::softplus_backward(grad, &self.x.get(), self.beta, self.threshold))]
    }
}

// The named backward ops' own derivatives (derivatives.yaml); input 0 is the incoming gradient.

backward_fn! {
    struct ThresholdBackwardBackward0 { x: SavedTensor, threshold: f64 }
    saved [x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        let gg = needs[0].then(|| Tensor::threshold_backward(grad, &x, self.threshold));
        smallvec::smallvec![gg, needs[1].then(|| Tensor::zeros_like(grad))]
    }
}

backward_fn! {
    struct SigmoidBackwardBackward0 { grad_output: SavedTensor, output: SavedTensor }
    saved [grad_output, output]
    fn backward(&mut self, grad, needs) {
        let y = self.output.get();
        let gg = needs[0].then(|| Tensor::sigmoid_backward(grad, &y));
        // grad * grad_output * (-2 * output + 1)
        let gy = needs[1].then(|| grad.mul(self.grad_output.get()).mul(y.mul(-2.0).add(1.0)));
        smallvec::smallvec![gg, gy]
    }
}

backward_fn! {
    struct TanhBackwardBackward0 { grad_output: SavedTensor, output: SavedTensor }
    saved [grad_output, output]
    fn backward(&mut self, grad, needs) {
        let y = self.output.get();
        let gg = needs[0].then(|| Tensor::tanh_backward(grad, &y));
        // -2 * output * grad * grad_output
        let gy = needs[1].then(|| y.mul(-2.0).mul(grad).mul(self.grad_output.get()));
        smallvec::smallvec![gg, gy]
    }
}

backward_fn! {
    struct GeluBackwardBackward0 { grad_output: SavedTensor, x: SavedTensor, tanh: bool }
    saved [grad_output, x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        let approximate = if self.tanh { "tanh" } else { "none" };
        let gg = needs[0].then(|| Tensor::gelu_backward(grad, &x, approximate));
        let gx = needs[1].then(|| gelu_double_backward(grad, &self.grad_output.get(), &x, self.tanh));
        smallvec::smallvec![gg, gx]
    }
}

backward_fn! {
    struct SoftplusBackwardBackward0 { grad_output: SavedTensor, x: SavedTensor, beta: f64, threshold: f64 }
    saved [grad_output, x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        let gg = needs[0].then(|| Tensor::softplus_backward(grad, &x, self.beta, self.threshold));
        // softplus_double_backward(grad * grad_output, self, beta, threshold)
        let gx = needs[1].then(|| {
            let xb = x.mul(self.beta);
            let g = grad.mul(self.grad_output.get());
            let below = xb.lt(self.threshold).to_dtype(g.dtype());
            Tensor::sigmoid_backward(&g, &xb.sigmoid()).mul(below).mul(self.beta)
        });
        smallvec::smallvec![gg, gx]
    }
}

backward_fn! {
    struct LeakyReluBackwardBackward0 { x: SavedTensor, slope: f64 }
    saved [x]
    fn backward(&mut self, grad, needs) {
        let gg = needs[0].then(|| Tensor::leaky_relu_backward(grad, &self.x.get(), self.slope));
        smallvec::smallvec![gg, needs[1].then(|| Tensor::zeros_like(grad))]
    }
}

backward_fn! {
    struct EluBackwardBackward0 { grad_output: SavedTensor, x: SavedTensor, alpha: f64, scale: f64, input_scale: f64 }
    saved [grad_output, x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        let (alpha, scale, input_scale) = (self.alpha, self.scale, self.input_scale);
        let gg = needs[0].then(|| Tensor::elu_backward_scaled(grad, &x, alpha, scale, input_scale));
        // elu_double_backward: grad * grad_output * input_scale^2 * alpha * scale *
        // exp(x * input_scale) where x < 0, i.e. elu_backward(grad * grad_output, x) *
        // input_scale there.
        let gx = needs[1].then(|| {
            let g = grad.mul(self.grad_output.get());
            let neg = x.lt(0.0).to_dtype(g.dtype());
            let d = Tensor::elu_backward_scaled(&g, &x, alpha, scale, input_scale).mul(neg);
            if input_scale == 1.0 { d } else { d.mul(input_scale) }
        });
        smallvec::smallvec![gg, gx]
    }
}

/// ATen's `gelu_double_backward`: the derivative of `gelu_backward` with respect to its input.
#[track_caller]
fn gelu_double_backward(ggi: &Tensor, go: &Tensor, x: &Tensor, tanh: bool) -> Tensor {
    if tanh {
        let k_beta = ops::GELU_BETA;
        let k_kappa = ops::GELU_KAPPA;
        let inner = x.add(x.pow(3).mul(k_kappa)).mul(k_beta);
        let tanh_inner = inner.tanh();
        let sech_inner = inner.cosh().reciprocal();
        let f = x.mul(0.5);
        let g = tanh_inner.mul(&tanh_inner).rsub(1.0);
        let h = x.mul(3.0 * k_kappa).mul(x).add(1.0).mul(k_beta);
        let f_prime_gh = g.mul(0.5).mul(&h);
        let g_prime = sech_inner
            .mul(2.0)
            .mul(sech_inner.neg().mul(&tanh_inner))
            .mul(&h);
        let g_prime_fh = f.mul(&h).mul(&g_prime);
        let h_prime = x.mul(6.0 * k_kappa).mul(k_beta);
        let h_prime_fg = f.mul(&g).mul(&h_prime);
        ggi.mul(go)
            .mul(f_prime_gh.mul(2.0).add(&g_prime_fh).add(&h_prime_fg))
    } else {
        let k_beta = std::f64::consts::FRAC_2_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2 * 0.5;
        let x_sq = x.mul(x);
        let pdf = x_sq.mul(-0.5).exp().mul(k_beta);
        let d = pdf.mul(2.0).sub(x_sq.mul(&pdf));
        ggi.mul(go).mul(d)
    }
}

impl Tensor {
    /// `max(x, 0)` (`torch.relu`).
    #[track_caller]
    pub fn relu(&self) -> Tensor {
        if !self.dtype().is_float() {
            return self.map_raw(ops::Relu {});
        }
        let out = self.map_raw(ops::Relu {});
        record(out, &[self], |o| ReluBackward0 {
            result: SavedTensor::output(o),
        })
    }

    /// `x` where positive, `negative_slope * x` elsewhere (`F.leaky_relu`; PyTorch's default slope
    /// is 0.01).
    #[track_caller]
    pub fn leaky_relu(&self, negative_slope: f64) -> Tensor {
        let out = self.map_float_raw(ops::LeakyRelu {
            slope: negative_slope,
        });
        record(out, &[self], |_| LeakyReluBackward0 {
            x: SavedTensor::input(self),
            slope: negative_slope,
        })
    }

    /// `x` where positive, `alpha * (e^x - 1)` elsewhere (`F.elu`).
    #[track_caller]
    pub fn elu(&self, alpha: f64) -> Tensor {
        self.elu_scaled(alpha, 1.0, 1.0)
    }

    /// ATen's `elu(self, alpha, scale, input_scale)`, which `elu`, `selu` and `celu` call.
    #[track_caller]
    pub(crate) fn elu_scaled(&self, alpha: f64, scale: f64, input_scale: f64) -> Tensor {
        let out = self.map_float_raw(ops::Elu {
            alpha,
            scale,
            input_scale,
        });
        record(out, &[self], |_| EluBackward0 {
            x: SavedTensor::input(self),
            alpha,
            scale,
            input_scale,
        })
    }

    /// The Gaussian error linear unit (`F.gelu(x, approximate=...)`): `approximate` is `"none"`
    /// (the exact erf form) or `"tanh"`.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let y = tensor!([1.0]).gelu("none");
    /// assert!((y.item::<f32>() - 0.8413).abs() < 1e-4);
    /// ```
    #[track_caller]
    pub fn gelu(&self, approximate: &str) -> Tensor {
        let tanh = parse_approximate(approximate);
        let out = if tanh {
            self.map_float_raw(ops::GeluTanh {})
        } else {
            self.map_float_raw(ops::Gelu {})
        };
        record(out, &[self], |_| GeluBackward0 {
            x: SavedTensor::input(self),
            tanh,
        })
    }

    /// `x * sigmoid(x)` (`F.silu`).
    #[track_caller]
    pub fn silu(&self) -> Tensor {
        let out = self.map_float_raw(ops::Silu {});
        record(out, &[self], |_| SiluBackward0 {
            x: SavedTensor::input(self),
        })
    }

    /// `log(1 + e^(beta x)) / beta`, linear above `threshold` (`F.softplus`; defaults 1 and 20).
    #[track_caller]
    pub fn softplus(&self, beta: f64, threshold: f64) -> Tensor {
        let out = self.map_float_raw(ops::Softplus { beta, threshold });
        record(out, &[self], |_| SoftplusBackward0 {
            x: SavedTensor::input(self),
            beta,
            threshold,
        })
    }

    /// `threshold_backward(grad, input, threshold)`: `grad` where `input > threshold`, else 0
    /// (the gradient of `relu`, given its output).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let g = tensor!([1.0, 2.0, 3.0]);
    /// let y = tensor!([0.0, 0.5, 2.0]);
    /// assert_eq!(flambeau::Tensor::threshold_backward(&g, &y, 0.0).to_vec::<f32>(), vec![0.0, 2.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn threshold_backward(grad: &Tensor, input: &Tensor, threshold: f64) -> Tensor {
        let out = grad.zip_float_raw(input, ops::ThresholdBackward { threshold });
        record(out, &[grad, input], |_| ThresholdBackwardBackward0 {
            x: SavedTensor::input(input),
            threshold,
        })
    }

    /// `sigmoid_backward(grad, output)`: `grad * (1 - y) * y`.
    #[track_caller]
    pub fn sigmoid_backward(grad: &Tensor, output: &Tensor) -> Tensor {
        let out = grad.zip_float_raw(output, ops::SigmoidBackward {});
        record(out, &[grad, output], |_| SigmoidBackwardBackward0 {
            grad_output: SavedTensor::input(grad),
            output: SavedTensor::input(output),
        })
    }

    /// `tanh_backward(grad, output)`: `grad * (1 - y²)`.
    #[track_caller]
    pub fn tanh_backward(grad: &Tensor, output: &Tensor) -> Tensor {
        let out = grad.zip_float_raw(output, ops::TanhBackward {});
        record(out, &[grad, output], |_| TanhBackwardBackward0 {
            grad_output: SavedTensor::input(grad),
            output: SavedTensor::input(output),
        })
    }

    /// `gelu_backward(grad, input, approximate)`.
    #[track_caller]
    pub fn gelu_backward(grad: &Tensor, input: &Tensor, approximate: &str) -> Tensor {
        let tanh = parse_approximate(approximate);
        let out = if tanh {
            grad.zip_float_raw(input, ops::GeluTanhBackward {})
        } else {
            grad.zip_float_raw(input, ops::GeluBackward {})
        };
        record(out, &[grad, input], |_| GeluBackwardBackward0 {
            grad_output: SavedTensor::input(grad),
            x: SavedTensor::input(input),
            tanh,
        })
    }

    /// `softplus_backward(grad, input, beta, threshold)`.
    #[track_caller]
    pub fn softplus_backward(grad: &Tensor, input: &Tensor, beta: f64, threshold: f64) -> Tensor {
        let out = grad.zip_float_raw(input, ops::SoftplusBackward { beta, threshold });
        record(out, &[grad, input], |_| SoftplusBackwardBackward0 {
            grad_output: SavedTensor::input(grad),
            x: SavedTensor::input(input),
            beta,
            threshold,
        })
    }

    /// `silu_backward(grad, input)`: `grad * s * (1 + x (1 - s))` with `s = sigmoid(x)`, fused
    /// (not recorded: PyTorch differentiates silu through its composite form instead).
    #[track_caller]
    pub fn silu_backward(grad: &Tensor, input: &Tensor) -> Tensor {
        grad.zip_float_raw(input, ops::SiluBackward {})
    }

    /// `leaky_relu_backward(grad, input, negative_slope)`.
    #[track_caller]
    pub fn leaky_relu_backward(grad: &Tensor, input: &Tensor, negative_slope: f64) -> Tensor {
        let out = grad.zip_float_raw(
            input,
            ops::LeakyReluBackward {
                slope: negative_slope,
            },
        );
        record(out, &[grad, input], |_| LeakyReluBackwardBackward0 {
            x: SavedTensor::input(input),
            slope: negative_slope,
        })
    }

    /// `elu_backward(grad, alpha, scale=1, input_scale=1, is_result=False, input)`.
    #[track_caller]
    pub fn elu_backward(grad: &Tensor, input: &Tensor, alpha: f64) -> Tensor {
        Tensor::elu_backward_scaled(grad, input, alpha, 1.0, 1.0)
    }

    /// `elu_backward(grad, alpha, scale, input_scale, is_result=False, input)`.
    #[track_caller]
    pub(crate) fn elu_backward_scaled(
        grad: &Tensor,
        input: &Tensor,
        alpha: f64,
        scale: f64,
        input_scale: f64,
    ) -> Tensor {
        let op = ops::EluBackward {
            alpha,
            scale,
            input_scale,
        };
        let out = grad.zip_float_raw(input, op);
        record(out, &[grad, input], |_| EluBackwardBackward0 {
            grad_output: SavedTensor::input(grad),
            x: SavedTensor::input(input),
            alpha,
            scale,
            input_scale,
        })
    }
}

#[track_caller]
fn parse_approximate(approximate: &str) -> bool {
    match approximate {
        "none" => false,
        "tanh" => true,
        other => panic!("approximate argument must be either none or tanh. (got {other})"),
    }
}
