//! Activation modules and `nn.Dropout`.

use super::{Forward, TrainingFlag, functional as F};
use crate::nn::Module;
use crate::pyfmt;
use crate::tensor::Tensor;

macro_rules! simple_activation {
    ($(#[$doc:meta])* $name:ident, $method:ident) => {
        $(#[$doc])*
        #[derive(Module, Clone, Default)]
        pub struct $name;

        impl $name {
            #[doc = concat!("`nn.", stringify!($name), "()`.")]
            pub fn new() -> $name {
                $name
            }
        }

        impl Forward for $name {
            fn forward(&self, input: &Tensor) -> Tensor {
                input.$method()
            }
        }
    };
}

simple_activation!(
    /// `max(x, 0)` (`nn.ReLU`).
    ReLU,
    relu
);
simple_activation!(
    /// `x·sigmoid(x)` (`nn.SiLU`).
    SiLU,
    silu
);
simple_activation!(
    /// The logistic function (`nn.Sigmoid`).
    Sigmoid,
    sigmoid
);
simple_activation!(
    /// Hyperbolic tangent (`nn.Tanh`).
    Tanh,
    tanh
);

/// `nn.LeakyReLU(negative_slope=0.01)`.
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct LeakyReLU {
    /// Slope for negative inputs.
    pub negative_slope: f64,
}

impl LeakyReLU {
    /// `nn.LeakyReLU()` with PyTorch's default slope 0.01.
    #[track_caller]
    pub fn new() -> LeakyReLU {
        LeakyReLU {
            negative_slope: 0.01,
        }
    }
    /// `nn.LeakyReLU(negative_slope)`.
    #[track_caller]
    pub fn with_slope(negative_slope: f64) -> LeakyReLU {
        LeakyReLU { negative_slope }
    }
    #[track_caller]
    fn describe(&self) -> String {
        format!("negative_slope={}", pyfmt::float(self.negative_slope))
    }
}

impl Default for LeakyReLU {
    #[track_caller]
    fn default() -> Self {
        LeakyReLU::new()
    }
}

impl Forward for LeakyReLU {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        input.leaky_relu(self.negative_slope)
    }
}

/// `nn.GELU(approximate='none')`; `"tanh"` selects the tanh approximation.
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct GELU {
    /// `"none"` or `"tanh"`.
    pub approximate: String,
}

impl GELU {
    /// The exact (erf) form.
    #[track_caller]
    pub fn new() -> GELU {
        GELU {
            approximate: "none".into(),
        }
    }
    /// `nn.GELU(approximate=...)`.
    #[track_caller]
    pub fn with_approximate(approximate: &str) -> GELU {
        if approximate != "none" && approximate != "tanh" {
            panic!("approximate argument must be either none or tanh. (got {approximate})");
        }
        GELU {
            approximate: approximate.into(),
        }
    }
    #[track_caller]
    fn describe(&self) -> String {
        format!("approximate='{}'", self.approximate)
    }
}

impl Default for GELU {
    #[track_caller]
    fn default() -> Self {
        GELU::new()
    }
}

impl Forward for GELU {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        input.gelu(&self.approximate)
    }
}

/// `nn.Softplus(beta=1.0, threshold=20.0)`.
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct Softplus {
    /// Sharpness.
    pub beta: f64,
    /// Above `beta·x > threshold` the function is linear.
    pub threshold: f64,
}

impl Softplus {
    /// PyTorch's defaults.
    #[track_caller]
    pub fn new() -> Softplus {
        Softplus {
            beta: 1.0,
            threshold: 20.0,
        }
    }
    /// `nn.Softplus(beta, threshold)`.
    #[track_caller]
    pub fn with(beta: f64, threshold: f64) -> Softplus {
        Softplus { beta, threshold }
    }
    #[track_caller]
    fn describe(&self) -> String {
        format!(
            "beta={}, threshold={}",
            pyfmt::float(self.beta),
            pyfmt::float(self.threshold)
        )
    }
}

impl Default for Softplus {
    #[track_caller]
    fn default() -> Self {
        Softplus::new()
    }
}

impl Forward for Softplus {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        input.softplus(self.beta, self.threshold)
    }
}

#[track_caller]
fn dim_repr(dim: Option<i64>) -> String {
    match dim {
        Some(d) => format!("dim={d}"),
        None => "dim=None".into(),
    }
}

/// PyTorch's legacy choice of softmax dim when none is given (`_get_softmax_dim`).
#[track_caller]
fn implicit_dim(ndim: usize) -> i64 {
    crate::warn_once(
        "implicit_softmax_dim",
        "UserWarning: Implicit dimension choice for softmax has been deprecated. Change the call to include dim=X as an argument.",
    );
    if ndim == 0 || ndim == 1 || ndim == 3 {
        0
    } else {
        1
    }
}

/// `nn.Softmax(dim)`.
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct Softmax {
    /// The dim that sums to one (None: PyTorch's legacy implicit choice).
    pub dim: Option<i64>,
}

impl Softmax {
    /// `nn.Softmax(dim=dim)`.
    #[track_caller]
    pub fn new(dim: i64) -> Softmax {
        Softmax { dim: Some(dim) }
    }
    #[track_caller]
    fn describe(&self) -> String {
        dim_repr(self.dim)
    }
}

impl Forward for Softmax {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        input.softmax(self.dim.unwrap_or_else(|| implicit_dim(input.ndim())))
    }
}

/// `nn.LogSoftmax(dim)`.
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct LogSoftmax {
    /// The dim normalised over.
    pub dim: Option<i64>,
}

impl LogSoftmax {
    /// `nn.LogSoftmax(dim=dim)`.
    #[track_caller]
    pub fn new(dim: i64) -> LogSoftmax {
        LogSoftmax { dim: Some(dim) }
    }
    #[track_caller]
    fn describe(&self) -> String {
        dim_repr(self.dim)
    }
}

impl Forward for LogSoftmax {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        input.log_softmax(self.dim.unwrap_or_else(|| implicit_dim(input.ndim())))
    }
}

/// Zeroes elements with probability `p` in training mode and scales the rest by `1/(1-p)`;
/// the identity in eval mode (`nn.Dropout(p=0.5)`). The mask is PyTorch's for the same seed.
///
/// ```
/// use flambeau::nn::{Dropout, Forward, Module};
/// use flambeau::Tensor;
/// let d = Dropout::new(0.5);
/// d.eval();
/// assert!(d.forward(&Tensor::ones([4])).equal(&Tensor::ones([4])));
/// ```
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct Dropout {
    /// Probability of zeroing an element.
    pub p: f64,
    /// Train/eval mode.
    pub training: TrainingFlag,
}

impl Dropout {
    /// `nn.Dropout(p)`; panics, as PyTorch does, unless `0 <= p <= 1`.
    #[track_caller]
    pub fn new(p: f64) -> Dropout {
        if !(0.0..=1.0).contains(&p) {
            panic!("dropout probability has to be between 0 and 1, but got {p}");
        }
        Dropout {
            p,
            training: TrainingFlag::new(),
        }
    }
    #[track_caller]
    fn describe(&self) -> String {
        format!("p={}, inplace=False", pyfmt::float(self.p))
    }
}

impl Default for Dropout {
    #[track_caller]
    fn default() -> Self {
        Dropout::new(0.5)
    }
}

impl Forward for Dropout {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        F::dropout(input, self.p, self.training.get())
    }
}
