//! Elementwise functions of one tensor and their derivatives: `exp`, `log`, `sqrt`, `abs`,
//! trigonometric and hyperbolic functions, and the activations (`sigmoid`, `relu`, `gelu`, ...).

use super::{cast_raw, float_type};
use crate::autograd::{SavedTensor, backward_fn, record};
use crate::dtype::Float;
use crate::kernels::cpu;
use crate::storage::CpuStorage;
use crate::tensor::Tensor;

/// Applies a float function elementwise (integers are promoted to float32 first, as PyTorch's
/// `exp`, `log`, ... do). The body is written once and compiled for f32 and f64.
macro_rules! float_map {
    ($t:expr, |$x:ident| $body:expr) => {{
        let t = cast_raw($t, float_type($t.dtype()));
        let storage = t.with_cpu(|s, l| match s {
            CpuStorage::F32(v) => CpuStorage::F32(cpu::map(v, l, |$x: f32| $body)),
            CpuStorage::F64(v) => CpuStorage::F64(cpu::map(v, l, |$x: f64| $body)),
            _ => unreachable!("cast to a float type"),
        });
        Tensor::from_cpu(storage, t.shape().clone())
    }};
}

/// Applies a float function of two same-shaped tensors elementwise (used by fused backward kernels).
macro_rules! float_zip {
    ($a:expr, $b:expr, |$x:ident, $y:ident| $body:expr) => {{
        let (a, b) = ($a, $b);
        let dtype = crate::ops::float_type(crate::dtype::DType::promote(a.dtype(), b.dtype()));
        let (a, b) = (
            crate::ops::cast_raw(a, dtype),
            crate::ops::cast_raw(b, dtype),
        );
        let shape = crate::shape::broadcast_shapes(a.dims(), b.dims());
        let storage = crate::ops::with_two_cpu(&a, &b, |sa, la, sb, lb| match (sa, sb) {
            (CpuStorage::F32(u), CpuStorage::F32(v)) => CpuStorage::F32(cpu::zip_map(
                u,
                la,
                v,
                lb,
                shape.dims(),
                |$x: f32, $y: f32| $body,
            )),
            (CpuStorage::F64(u), CpuStorage::F64(v)) => CpuStorage::F64(cpu::zip_map(
                u,
                la,
                v,
                lb,
                shape.dims(),
                |$x: f64, $y: f64| $body,
            )),
            _ => unreachable!("cast to a float type"),
        });
        Tensor::from_cpu(storage, shape)
    }};
}

#[inline(always)]
fn sigmoid<T: Float>(x: T) -> T {
    T::one() / (T::one() + (-x).exp())
}

const SQRT1_2: f64 = std::f64::consts::FRAC_1_SQRT_2;

#[inline(always)]
fn gelu_exact<T: Float>(x: T) -> T {
    x * T::from_f64(0.5) * (T::one() + (x * T::from_f64(SQRT1_2)).erf())
}

/// `sqrt(2/pi)`, PyTorch's `kBeta` (`M_SQRT2 * M_2_SQRTPI * 0.5`).
const GELU_BETA: f64 = std::f64::consts::SQRT_2 * std::f64::consts::FRAC_2_SQRT_PI * 0.5;
const GELU_KAPPA: f64 = 0.044715;

#[inline(always)]
fn gelu_tanh<T: Float>(x: T) -> T {
    let inner = T::from_f64(GELU_BETA) * (x + T::from_f64(GELU_KAPPA) * x * x * x);
    T::from_f64(0.5) * x * (T::one() + inner.tanh())
}

#[inline(always)]
fn gelu_exact_grad<T: Float>(x: T) -> T {
    let cdf = T::from_f64(0.5) * (T::one() + (x * T::from_f64(SQRT1_2)).erf());
    let pdf = (T::from_f64(-0.5) * x * x).exp()
        * T::from_f64(0.5 * std::f64::consts::FRAC_2_SQRT_PI * SQRT1_2);
    cdf + x * pdf
}

#[inline(always)]
fn gelu_tanh_grad<T: Float>(x: T) -> T {
    let (beta, kappa) = (T::from_f64(GELU_BETA), T::from_f64(GELU_KAPPA));
    let x_sq = x * x;
    let inner = beta * (x + kappa * x_sq * x);
    let t = inner.tanh();
    let left = T::from_f64(0.5) * x;
    let right = T::one() + t;
    let left_derivative = T::from_f64(0.5) * right;
    let right_derivative = (T::one() - t * t) * beta * (T::one() + T::from_f64(3.0) * kappa * x_sq);
    left_derivative + left * right_derivative
}

/// Converts a parameter to the element type of `_like` (lets one closure body serve f32 and f64).
#[inline(always)]
fn cast<T: Float>(v: f64, _like: T) -> T {
    T::from_f64(v)
}

#[inline(always)]
fn leaky_relu<T: Float>(x: T, slope: f64) -> T {
    if x > T::zero() {
        x
    } else {
        x * T::from_f64(slope)
    }
}

#[inline(always)]
fn elu<T: Float>(x: T, alpha: f64) -> T {
    if x > T::zero() {
        x
    } else {
        T::from_f64(alpha) * x.exp_m1()
    }
}

#[inline(always)]
fn softplus_grad<T: Float>(g: T, x: T, beta: f64, threshold: f64) -> T {
    let (beta, threshold) = (T::from_f64(beta), T::from_f64(threshold));
    if x * beta > threshold {
        g
    } else {
        let z = (x * beta).exp();
        g * z / (z + T::one())
    }
}

/// The inverse error function, ATen's `calc_erfinv`: a rational first guess (Pavlis' erfinv),
/// refined by two Newton steps.
fn erfinv<T: Float>(y: T) -> T {
    let c = |v: f64| T::from_f64(v);
    let a = [
        c(0.886226899),
        c(-1.645349621),
        c(0.914624893),
        c(-0.140543331),
    ];
    let b = [
        c(-2.118377725),
        c(1.442710462),
        c(-0.329097515),
        c(0.012229801),
    ];
    let cc = [
        c(-1.970840454),
        c(-1.624906493),
        c(3.429567803),
        c(1.641345311),
    ];
    let d = [c(3.543889200), c(1.637067800)];
    let y_abs = y.abs();
    if y_abs > T::one() {
        return T::NAN;
    }
    if y_abs == T::one() {
        return if y > T::zero() {
            T::INFINITY
        } else {
            -T::INFINITY
        };
    }
    let mut x = if y_abs <= c(0.7) {
        let z = y * y;
        let num = ((a[3] * z + a[2]) * z + a[1]) * z + a[0];
        let dem = (((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + T::one();
        y * num / dem
    } else {
        let z = (-((T::one() - y_abs) / c(2.0)).ln()).sqrt();
        let num = ((cc[3] * z + cc[2]) * z + cc[1]) * z + cc[0];
        let dem = (d[1] * z + d[0]) * z + T::one();
        let num = if y < T::zero() { -num } else { num };
        num / dem
    };
    let two_over_sqrt_pi = c(std::f64::consts::FRAC_2_SQRT_PI);
    for _ in 0..2 {
        x = x - (x.erf() - y) / (two_over_sqrt_pi * (-x * x).exp());
    }
    x
}

#[inline(always)]
fn softplus<T: Float>(x: T, beta: T, threshold: T) -> T {
    if x * beta > threshold {
        x
    } else {
        (x * beta).exp().ln_1p() / beta
    }
}

backward_fn! {
    struct NegBackward {}
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.neg())]
    }
}

backward_fn! {
    /// Backward of functions whose derivative is computed from the saved input by a fused kernel.
    struct InputGradBackward { x: SavedTensor, kind: InputGrad }
    saved [x]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        let g = match self.kind {
            InputGrad::Log => grad.div(x),
            InputGrad::Log1p => grad.div(x.add(1.0)),
            InputGrad::Abs => grad.mul(x.sign()),
            InputGrad::Sin => grad.mul(x.cos()),
            InputGrad::Cos => grad.mul(x.sin().neg()),
            InputGrad::LeakyRelu(slope) => float_zip!(grad, x, |g, v| if v > 0.0 { g } else { g * cast(slope, v) }),
            InputGrad::Elu(alpha) => float_zip!(grad, x, |g, v| if v > 0.0 { g } else { g * cast(alpha, v) * v.exp() }),
            InputGrad::GeluNone => float_zip!(grad, x, |g, v| g * gelu_exact_grad(v)),
            InputGrad::GeluTanh => float_zip!(grad, x, |g, v| g * gelu_tanh_grad(v)),
            InputGrad::Silu => float_zip!(grad, x, |g, v| {
                let s = sigmoid(v);
                g * (s * (1.0 + v * (1.0 - s)))
            }),
            InputGrad::Softplus(beta, threshold) => float_zip!(grad, x, |g, v| {
                softplus_grad(g, v, beta, threshold)
            }),
            InputGrad::Clamp(min, max) => {
                let lo = min.unwrap_or(f64::NEG_INFINITY);
                let hi = max.unwrap_or(f64::INFINITY);
                float_zip!(grad, x, |g, v| if v >= cast(lo, v) && v <= cast(hi, v) { g } else { 0.0 })
            }
            InputGrad::Reciprocal => grad.div(x.mul(x)).neg(),
        };
        smallvec::smallvec![Some(g)]
    }
}

/// Which derivative [`InputGradBackward`] computes.
#[derive(Clone, Copy)]
pub(crate) enum InputGrad {
    Log,
    Log1p,
    Abs,
    Sin,
    Cos,
    LeakyRelu(f64),
    Elu(f64),
    GeluNone,
    GeluTanh,
    Silu,
    Softplus(f64, f64),
    Clamp(Option<f64>, Option<f64>),
    Reciprocal,
}

backward_fn! {
    /// Backward of functions whose derivative is computed from the saved output.
    struct OutputGradBackward { y: SavedTensor, kind: OutputGrad }
    saved [y]
    fn backward(&mut self, grad, needs) {
        let y = self.y.get();
        let g = match self.kind {
            OutputGrad::Exp => grad.mul(y),
            OutputGrad::Sqrt => grad.div(y.mul(2.0)),
            OutputGrad::Rsqrt => float_zip!(grad, y, |g, r| -0.5 * g * r * r * r),
            OutputGrad::Tanh => float_zip!(grad, y, |g, t| g * (1.0 - t * t)),
            OutputGrad::Sigmoid => float_zip!(grad, y, |g, s| g * (1.0 - s) * s),
            OutputGrad::Relu => float_zip!(grad, y, |g, r| if r > 0.0 { g } else { 0.0 }),
            // d erfinv(x) = sqrt(pi)/2 * exp(erfinv(x)^2)
            OutputGrad::Erfinv => float_zip!(grad, y, |g, r| g * cast(0.5 * std::f64::consts::PI.sqrt(), r) * (r * r).exp()),
        };
        smallvec::smallvec![Some(g)]
    }
}

/// Which derivative [`OutputGradBackward`] computes.
#[derive(Clone, Copy)]
pub(crate) enum OutputGrad {
    Exp,
    Sqrt,
    Rsqrt,
    Tanh,
    Sigmoid,
    Relu,
    Erfinv,
}

impl Tensor {
    fn with_input_grad(&self, out: Tensor, name: &'static str, kind: InputGrad) -> Tensor {
        record(out, name, &[self], |_| InputGradBackward {
            x: SavedTensor::input(self),
            kind,
        })
    }

    fn with_output_grad(&self, out: Tensor, name: &'static str, kind: OutputGrad) -> Tensor {
        record(out, name, &[self], |o| OutputGradBackward {
            y: SavedTensor::output(o, name),
            kind,
        })
    }

    /// `-self` (`torch.neg`).
    pub fn neg(&self) -> Tensor {
        let out = self.with_cpu(|s, l| match s {
            CpuStorage::F32(v) => CpuStorage::F32(cpu::map(v, l, |x| -x)),
            CpuStorage::F64(v) => CpuStorage::F64(cpu::map(v, l, |x| -x)),
            CpuStorage::I64(v) => CpuStorage::I64(cpu::map(v, l, |x: i64| x.wrapping_neg())),
            CpuStorage::Bool(_) => panic!("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."),
        });
        let out = Tensor::from_cpu(out, self.shape().clone());
        record(out, "NegBackward0", &[self], |_| NegBackward {})
    }

    /// `e^x` elementwise (`torch.exp`).
    pub fn exp(&self) -> Tensor {
        let out = float_map!(self, |x| x.exp());
        self.with_output_grad(out, "ExpBackward0", OutputGrad::Exp)
    }

    /// Natural logarithm (`torch.log`).
    pub fn log(&self) -> Tensor {
        let out = float_map!(self, |x| x.ln());
        self.with_input_grad(out, "LogBackward0", InputGrad::Log)
    }

    /// `log(1 + x)`, accurate near zero (`torch.log1p`).
    pub fn log1p(&self) -> Tensor {
        let out = float_map!(self, |x| x.ln_1p());
        self.with_input_grad(out, "Log1PBackward0", InputGrad::Log1p)
    }

    /// Square root (`torch.sqrt`).
    pub fn sqrt(&self) -> Tensor {
        let out = float_map!(self, |x| x.sqrt());
        self.with_output_grad(out, "SqrtBackward0", OutputGrad::Sqrt)
    }

    /// `1 / sqrt(x)` (`torch.rsqrt`).
    pub fn rsqrt(&self) -> Tensor {
        let out = float_map!(self, |x| 1.0 / x.sqrt());
        self.with_output_grad(out, "RsqrtBackward0", OutputGrad::Rsqrt)
    }

    /// `1 / x` (`torch.reciprocal`).
    pub fn reciprocal(&self) -> Tensor {
        let out = float_map!(self, |x| 1.0 / x);
        self.with_input_grad(out, "ReciprocalBackward0", InputGrad::Reciprocal)
    }

    /// Absolute value (`torch.abs`).
    pub fn abs(&self) -> Tensor {
        let out = self.with_cpu(|s, l| match s {
            CpuStorage::F32(v) => CpuStorage::F32(cpu::map(v, l, |x| x.abs())),
            CpuStorage::F64(v) => CpuStorage::F64(cpu::map(v, l, |x| x.abs())),
            CpuStorage::I64(v) => CpuStorage::I64(cpu::map(v, l, |x: i64| x.wrapping_abs())),
            CpuStorage::Bool(v) => CpuStorage::Bool(cpu::map(v, l, |x| x)),
        });
        let out = Tensor::from_cpu(out, self.shape().clone());
        self.with_input_grad(out, "AbsBackward0", InputGrad::Abs)
    }

    /// -1, 0 or 1 by sign (`torch.sign`); not differentiable (its gradient is zero).
    pub fn sign(&self) -> Tensor {
        match self.dtype() {
            crate::DType::I64 => {
                let v: Vec<i64> = self.to_vec::<i64>().iter().map(|x| x.signum()).collect();
                Tensor::from_vec(v, self.shape())
            }
            _ => float_map!(self, |x| if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                x * 0.0
            }),
        }
    }

    /// Sine (`torch.sin`).
    pub fn sin(&self) -> Tensor {
        let out = float_map!(self, |x| x.sin());
        self.with_input_grad(out, "SinBackward0", InputGrad::Sin)
    }

    /// Cosine (`torch.cos`).
    pub fn cos(&self) -> Tensor {
        let out = float_map!(self, |x| x.cos());
        self.with_input_grad(out, "CosBackward0", InputGrad::Cos)
    }

    /// Hyperbolic tangent (`torch.tanh`).
    pub fn tanh(&self) -> Tensor {
        let out = float_map!(self, |x| x.tanh());
        self.with_output_grad(out, "TanhBackward0", OutputGrad::Tanh)
    }

    /// The logistic function `1 / (1 + e^-x)` (`torch.sigmoid`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([0.0]).sigmoid().to_vec::<f32>(), vec![0.5]);
    /// ```
    pub fn sigmoid(&self) -> Tensor {
        let out = float_map!(self, |x| sigmoid(x));
        self.with_output_grad(out, "SigmoidBackward0", OutputGrad::Sigmoid)
    }

    /// `max(x, 0)` (`torch.relu`).
    pub fn relu(&self) -> Tensor {
        let out = match self.dtype() {
            crate::DType::I64 => {
                let v: Vec<i64> = self.to_vec::<i64>().iter().map(|x| (*x).max(0)).collect();
                return Tensor::from_vec(v, self.shape());
            }
            _ => float_map!(self, |x| if x > 0.0 || x.is_nan() { x } else { 0.0 }),
        };
        self.with_output_grad(out, "ReluBackward0", OutputGrad::Relu)
    }

    /// `x` where positive, `negative_slope * x` elsewhere (`F.leaky_relu`; PyTorch's default slope
    /// is 0.01).
    pub fn leaky_relu(&self, negative_slope: f64) -> Tensor {
        let out = float_map!(self, |x| leaky_relu(x, negative_slope));
        self.with_input_grad(
            out,
            "LeakyReluBackward0",
            InputGrad::LeakyRelu(negative_slope),
        )
    }

    /// `x` where positive, `alpha * (e^x - 1)` elsewhere (`F.elu`).
    pub fn elu(&self, alpha: f64) -> Tensor {
        let out = float_map!(self, |x| elu(x, alpha));
        self.with_input_grad(out, "EluBackward0", InputGrad::Elu(alpha))
    }

    /// The Gaussian error linear unit (`F.gelu(x, approximate=...)`): `approximate` is `"none"`
    /// (the exact erf form) or `"tanh"`.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let y = tensor!([1.0]).gelu("none");
    /// assert!((y.item::<f32>() - 0.8413).abs() < 1e-4);
    /// ```
    pub fn gelu(&self, approximate: &str) -> Tensor {
        match approximate {
            "none" => {
                let out = float_map!(self, |x| gelu_exact(x));
                self.with_input_grad(out, "GeluBackward0", InputGrad::GeluNone)
            }
            "tanh" => {
                let out = float_map!(self, |x| gelu_tanh(x));
                self.with_input_grad(out, "GeluBackward0", InputGrad::GeluTanh)
            }
            other => panic!("approximate argument must be either none or tanh. (got {other})"),
        }
    }

    /// `x * sigmoid(x)` (`F.silu`).
    pub fn silu(&self) -> Tensor {
        let out = float_map!(self, |x| x * sigmoid(x));
        self.with_input_grad(out, "SiluBackward0", InputGrad::Silu)
    }

    /// `log(1 + e^(beta x)) / beta`, linear above `threshold` (`F.softplus`; defaults 1 and 20).
    pub fn softplus(&self, beta: f64, threshold: f64) -> Tensor {
        let out = float_map!(self, |x| softplus(x, cast(beta, x), cast(threshold, x)));
        self.with_input_grad(
            out,
            "SoftplusBackward0",
            InputGrad::Softplus(beta, threshold),
        )
    }

    /// Limits values to `[min, max]`; either bound may be `None` (`torch.clamp`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([-2.0, 0.0, 2.0]);
    /// assert_eq!(t.clamp(Some(-1.0), Some(1.0)).to_vec::<f32>(), vec![-1.0, 0.0, 1.0]);
    /// assert_eq!(t.clamp(None, Some(1.0)).to_vec::<f32>(), vec![-2.0, 0.0, 1.0]);
    /// ```
    pub fn clamp(&self, min: Option<f64>, max: Option<f64>) -> Tensor {
        if min.is_none() && max.is_none() {
            panic!("torch.clamp: At least one of 'min' or 'max' must not be None");
        }
        if self.dtype() == crate::DType::I64 {
            let lo = min.map_or(i64::MIN, |m| m as i64);
            let hi = max.map_or(i64::MAX, |m| m as i64);
            let v: Vec<i64> = self
                .to_vec::<i64>()
                .iter()
                .map(|&x| x.max(lo).min(hi))
                .collect();
            return Tensor::from_vec(v, self.shape());
        }
        let lo = min.unwrap_or(f64::NEG_INFINITY);
        let hi = max.unwrap_or(f64::INFINITY);
        // PyTorch: min(max(x, lo), hi), NaN propagates.
        let out = float_map!(self, |x| if x.is_nan() {
            x
        } else {
            x.max(cast(lo, x)).min(cast(hi, x))
        });
        self.with_input_grad(out, "ClampBackward1", InputGrad::Clamp(min, max))
    }

    /// `clamp(min=min)` (`torch.clamp_min`).
    pub fn clamp_min(&self, min: f64) -> Tensor {
        let out = crate::autograd::no_grad(|| self.clamp(Some(min), None));
        self.with_input_grad(out, "ClampMinBackward0", InputGrad::Clamp(Some(min), None))
    }

    /// `clamp(max=max)` (`torch.clamp_max`).
    pub fn clamp_max(&self, max: f64) -> Tensor {
        let out = crate::autograd::no_grad(|| self.clamp(None, Some(max)));
        self.with_input_grad(out, "ClampMaxBackward0", InputGrad::Clamp(None, Some(max)))
    }

    /// The inverse error function (`torch.erfinv`).
    pub fn erfinv(&self) -> Tensor {
        let out = float_map!(self, |x| erfinv(x));
        self.with_output_grad(out, "ErfinvBackward0", OutputGrad::Erfinv)
    }

    /// Rounds down (`torch.floor`); not differentiable.
    pub fn floor(&self) -> Tensor {
        if !self.dtype().is_float() {
            return self.clone_tensor_raw();
        }
        float_map!(self, |x| x.floor())
    }

    /// Rounds up (`torch.ceil`); not differentiable.
    pub fn ceil(&self) -> Tensor {
        if !self.dtype().is_float() {
            return self.clone_tensor_raw();
        }
        float_map!(self, |x| x.ceil())
    }

    /// Rounds half to even (`torch.round`); not differentiable.
    pub fn round(&self) -> Tensor {
        if !self.dtype().is_float() {
            return self.clone_tensor_raw();
        }
        float_map!(self, |x| x.round_ties_even())
    }
}
