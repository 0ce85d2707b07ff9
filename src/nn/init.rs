//! `torch.nn.init`: in-place initialisers with PyTorch's fan rules, gains and random streams. Each
//! runs under `no_grad` and returns the tensor, so parameters can be initialised directly.

use crate::autograd::no_grad;
use crate::tensor::Tensor;

/// The recommended gain for a nonlinearity (`nn.init.calculate_gain`): `"linear"`, `"conv1d"`,
/// `"conv2d"`, `"conv3d"`, `"sigmoid"` give 1; `"tanh"` 5/3; `"relu"` √2; `"leaky_relu"`
/// √(2/(1+slope²)) with `param` the slope (default 0.01); `"selu"` 3/4.
///
/// ```
/// use flambeau::nn::init::calculate_gain;
/// assert_eq!(calculate_gain("relu", None), 2f64.sqrt());
/// assert_eq!(calculate_gain("tanh", None), 5.0 / 3.0);
/// ```
pub fn calculate_gain(nonlinearity: &str, param: Option<f64>) -> f64 {
    match nonlinearity {
        "linear" | "conv1d" | "conv2d" | "conv3d" | "conv_transpose1d" | "conv_transpose2d"
        | "conv_transpose3d" | "sigmoid" => 1.0,
        "tanh" => 5.0 / 3.0,
        "relu" => 2.0f64.sqrt(),
        "leaky_relu" => {
            let slope = param.unwrap_or(0.01);
            (2.0 / (1.0 + slope.powi(2))).sqrt()
        }
        "selu" => 3.0 / 4.0,
        other => panic!("Unsupported nonlinearity {other}"),
    }
}

/// `(fan_in, fan_out)` of a weight: dim 1 and dim 0 times the receptive field (the product of the
/// remaining dims), as `_calculate_fan_in_and_fan_out`.
pub fn calculate_fan_in_and_fan_out(t: &Tensor) -> (usize, usize) {
    if t.ndim() < 2 {
        panic!("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions");
    }
    let receptive: usize = t.dims()[2..].iter().product();
    (t.dims()[1] * receptive, t.dims()[0] * receptive)
}

fn fan(t: &Tensor, mode: &str) -> usize {
    let (fan_in, fan_out) = calculate_fan_in_and_fan_out(t);
    match mode {
        "fan_in" => fan_in,
        "fan_out" => fan_out,
        other => panic!("Mode {other} not supported, please use one of fan_in, fan_out"),
    }
}

/// Fills with `U(a, b)` (`nn.init.uniform_`).
pub fn uniform_(t: &Tensor, a: f64, b: f64) -> Tensor {
    no_grad(|| t.uniform_(a, b))
}

/// Fills with `N(mean, std²)` (`nn.init.normal_`).
pub fn normal_(t: &Tensor, mean: f64, std: f64) -> Tensor {
    no_grad(|| t.normal_(mean, std))
}

/// Fills with a constant (`nn.init.constant_`).
pub fn constant_(t: &Tensor, value: f64) -> Tensor {
    no_grad(|| t.fill_(value))
}

/// Fills with zeros (`nn.init.zeros_`).
pub fn zeros_(t: &Tensor) -> Tensor {
    no_grad(|| t.zero_())
}

/// Fills with ones (`nn.init.ones_`).
pub fn ones_(t: &Tensor) -> Tensor {
    no_grad(|| t.fill_(1.0))
}

/// Glorot uniform: `U(-a, a)` with `a = gain·√(6/(fan_in+fan_out))` (`nn.init.xavier_uniform_`).
pub fn xavier_uniform_(t: &Tensor, gain: f64) -> Tensor {
    let (fan_in, fan_out) = calculate_fan_in_and_fan_out(t);
    let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
    let a = 3.0f64.sqrt() * std;
    uniform_(t, -a, a)
}

/// Glorot normal: `N(0, std²)` with `std = gain·√(2/(fan_in+fan_out))` (`nn.init.xavier_normal_`).
pub fn xavier_normal_(t: &Tensor, gain: f64) -> Tensor {
    let (fan_in, fan_out) = calculate_fan_in_and_fan_out(t);
    let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
    normal_(t, 0.0, std)
}

/// He uniform: `U(-b, b)` with `b = gain·√(3/fan)` (`nn.init.kaiming_uniform_(t, a, mode,
/// nonlinearity)`; PyTorch's defaults are `a = 0`, `"fan_in"`, `"leaky_relu"`). A tensor with no
/// elements is left as it is, as in PyTorch.
///
/// ```
/// use flambeau::{nn::init, Tensor};
/// let w = Tensor::zeros([8, 4]);
/// init::kaiming_uniform_(&w, 5f64.sqrt(), "fan_in", "leaky_relu");
/// assert!(w.abs().max().item::<f64>() <= 0.5);
/// ```
pub fn kaiming_uniform_(t: &Tensor, a: f64, mode: &str, nonlinearity: &str) -> Tensor {
    match kaiming_std(t, a, mode, nonlinearity) {
        Some(std) => {
            let bound = 3.0f64.sqrt() * std;
            uniform_(t, -bound, bound)
        }
        None => t.clone(),
    }
}

/// He's standard deviation `gain/√fan`, or None (with PyTorch's warning) for an empty tensor.
fn kaiming_std(t: &Tensor, a: f64, mode: &str, nonlinearity: &str) -> Option<f64> {
    if t.numel() == 0 {
        crate::warn_once(
            "init_zero_element",
            "UserWarning: Initializing zero-element tensors is a no-op",
        );
        return None;
    }
    let gain = calculate_gain(nonlinearity, Some(a));
    Some(gain / (fan(t, mode) as f64).sqrt())
}

/// He normal: `N(0, std²)` with `std = gain/√fan` (`nn.init.kaiming_normal_`).
pub fn kaiming_normal_(t: &Tensor, a: f64, mode: &str, nonlinearity: &str) -> Tensor {
    match kaiming_std(t, a, mode, nonlinearity) {
        Some(std) => normal_(t, 0.0, std),
        None => t.clone(),
    }
}

/// A normal distribution truncated to `[a, b]` (`nn.init.trunc_normal_(t, mean, std, a, b)`;
/// defaults 0, 1, -2, 2), drawn as PyTorch 2.15 draws it: when the interval holds more than 30%
/// of the mass, normal samples outside it are redrawn; otherwise uniform proposals on `[a, b]`
/// are accepted with the normal density's ratio to its peak. The same seed gives PyTorch's values.
pub fn trunc_normal_(t: &Tensor, mean: f64, std: f64, a: f64, b: f64) -> Tensor {
    let norm_cdf = |x: f64| (1.0 + libm::erf(x / 2.0f64.sqrt())) / 2.0;
    if mean < a - 2.0 * std || mean > b + 2.0 * std {
        crate::warn_once(
            "trunc_normal_far",
            "UserWarning: mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may be incorrect.",
        );
    }
    no_grad(|| {
        let p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std);
        if p > 0.3 {
            // Bounds in the tensor's precision, so the rejection test matches its values.
            let lo = Tensor::full_dtype((), a, t.dtype()).item::<f64>();
            let hi = Tensor::full_dtype((), b, t.dtype()).item::<f64>();
            let mut result = t.normal_(mean, std);
            loop {
                let mask = result.lt(lo).logical_or(&result.gt(hi));
                if !mask.any_true() {
                    break;
                }
                let fresh = Tensor::empty_like(&result).normal_(mean, std);
                result = Tensor::where_(&mask, &fresh, &result);
            }
            if !result.is_same(t) {
                t.copy_(&result);
            }
        } else {
            let mode = a.max(mean.min(b));
            let log_peak = -0.5 * ((mode - mean) / std).powi(2);
            let log_ratio = |c: &Tensor| c.sub(mean).div(std).pow(2).mul(-0.5).sub(log_peak);
            t.uniform_(a, b);
            let accept = Tensor::empty_like(t);
            let mut pending = accept.uniform_(0.0, 1.0).log().gt(&log_ratio(t));
            if pending.any_true() {
                let mut result = t.clone_tensor();
                let candidates = Tensor::empty_like(t);
                loop {
                    candidates.uniform_(a, b);
                    result = Tensor::where_(&pending, &candidates, &result);
                    let redraw = accept.uniform_(0.0, 1.0).log().gt(&log_ratio(&candidates));
                    pending = Tensor::where_(&pending, &redraw, &pending);
                    if !pending.any_true() {
                        break;
                    }
                }
                t.copy_(&result);
            }
        }
        t.clone()
    })
}

/// Orthogonal-free identity for 2-D weights (`nn.init.eye_`).
pub fn eye_(t: &Tensor) -> Tensor {
    if t.ndim() != 2 {
        panic!("Only tensors with 2 dimensions are supported");
    }
    no_grad(|| t.copy_(&Tensor::eye_dtype(t.dims()[0], t.dims()[1], t.dtype())))
}
