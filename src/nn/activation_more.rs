//! More activation modules, with PyTorch's constructors, defaults and reprs: `nn.Hardtanh`,
//! `ReLU6`, `ELU`, `SELU`, `CELU`, `Mish`, `Hardswish`, `Hardsigmoid`, `LogSigmoid`,
//! `Softsign`, `GLU`, `PReLU`.
//!
//! ```
//! use flambeau::nn::{self, Module};
//! assert_eq!(nn::Hardtanh::new().repr(), "Hardtanh(min_val=-1.0, max_val=1.0)");
//! assert_eq!(nn::PReLU::new().repr(), "PReLU(num_parameters=1)");
//! ```

use super::{Forward, Parameter, functional as F};
use crate::nn::Module;
use crate::pyfmt;
use crate::tensor::Tensor;

macro_rules! plain_activation {
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
            #[track_caller]
            fn forward(&self, input: &Tensor) -> Tensor {
                input.$method()
            }
        }
    };
}

plain_activation!(
    /// `min(max(x, 0), 6)` (`nn.ReLU6`).
    ReLU6,
    relu6
);
plain_activation!(
    /// The scaled ELU (`nn.SELU`).
    SELU,
    selu
);
plain_activation!(
    /// `x * tanh(softplus(x))` (`nn.Mish`).
    Mish,
    mish
);
plain_activation!(
    /// `x * relu6(x + 3) / 6` (`nn.Hardswish`).
    Hardswish,
    hardswish
);
plain_activation!(
    /// `relu6(x + 3) / 6` (`nn.Hardsigmoid`).
    Hardsigmoid,
    hardsigmoid
);
plain_activation!(
    /// `x / (1 + |x|)` (`nn.Softsign`).
    Softsign,
    softsign
);

/// `log(sigmoid(x))` (`nn.LogSigmoid`).
#[derive(Module, Clone, Default)]
pub struct LogSigmoid;

impl LogSigmoid {
    /// `nn.LogSigmoid()`.
    pub fn new() -> LogSigmoid {
        LogSigmoid
    }
}

impl Forward for LogSigmoid {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        F::logsigmoid(input)
    }
}

/// `nn.Hardtanh(min_val=-1.0, max_val=1.0)`.
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct Hardtanh {
    /// The lower bound.
    pub min_val: f64,
    /// The upper bound.
    pub max_val: f64,
}

impl Hardtanh {
    /// `nn.Hardtanh()` with PyTorch's bounds -1 and 1.
    pub fn new() -> Hardtanh {
        Hardtanh::with_bounds(-1.0, 1.0)
    }
    /// `nn.Hardtanh(min_val, max_val)`; panics when `min_val > max_val`, as PyTorch does.
    #[track_caller]
    pub fn with_bounds(min_val: f64, max_val: f64) -> Hardtanh {
        if min_val > max_val {
            panic!("min_val cannot be greater than max_val");
        }
        Hardtanh { min_val, max_val }
    }
    fn describe(&self) -> String {
        format!(
            "min_val={}, max_val={}",
            pyfmt::float(self.min_val),
            pyfmt::float(self.max_val)
        )
    }
}

impl Default for Hardtanh {
    fn default() -> Self {
        Hardtanh::new()
    }
}

impl Forward for Hardtanh {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        input.hardtanh(self.min_val, self.max_val)
    }
}

/// `nn.ELU(alpha=1.0)`.
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct ELU {
    /// The scale of the negative part.
    pub alpha: f64,
}

impl ELU {
    /// `nn.ELU()` with PyTorch's `alpha = 1.0`.
    pub fn new() -> ELU {
        ELU { alpha: 1.0 }
    }
    /// `nn.ELU(alpha)`.
    pub fn with_alpha(alpha: f64) -> ELU {
        ELU { alpha }
    }
    fn describe(&self) -> String {
        format!("alpha={}", pyfmt::float(self.alpha))
    }
}

impl Default for ELU {
    fn default() -> Self {
        ELU::new()
    }
}

impl Forward for ELU {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        input.elu(self.alpha)
    }
}

/// `nn.CELU(alpha=1.0)`.
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct CELU {
    /// The scale of the negative part.
    pub alpha: f64,
}

impl CELU {
    /// `nn.CELU()` with PyTorch's `alpha = 1.0`.
    pub fn new() -> CELU {
        CELU { alpha: 1.0 }
    }
    /// `nn.CELU(alpha)`.
    pub fn with_alpha(alpha: f64) -> CELU {
        CELU { alpha }
    }
    fn describe(&self) -> String {
        format!("alpha={}", pyfmt::float(self.alpha))
    }
}

impl Default for CELU {
    fn default() -> Self {
        CELU::new()
    }
}

impl Forward for CELU {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        input.celu(self.alpha)
    }
}

/// `nn.GLU(dim=-1)`.
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct GLU {
    /// The dim that is halved.
    pub dim: i64,
}

impl GLU {
    /// `nn.GLU()` over the last dim.
    pub fn new() -> GLU {
        GLU { dim: -1 }
    }
    /// `nn.GLU(dim)`.
    pub fn with_dim(dim: i64) -> GLU {
        GLU { dim }
    }
    fn describe(&self) -> String {
        format!("dim={}", self.dim)
    }
}

impl Default for GLU {
    fn default() -> Self {
        GLU::new()
    }
}

impl Forward for GLU {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        input.glu(self.dim)
    }
}

/// `nn.PReLU(num_parameters=1, init=0.25)`: a learned slope for negative inputs, one or one
/// per channel.
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct PReLU {
    /// The slopes (`num_parameters` values).
    pub weight: Parameter,
    /// How many slopes: 1 or the number of channels.
    pub num_parameters: usize,
}

impl PReLU {
    /// `nn.PReLU()`: one slope, 0.25.
    #[track_caller]
    pub fn new() -> PReLU {
        PReLU::with_options(1, 0.25)
    }
    /// `nn.PReLU(num_parameters, init)`.
    #[track_caller]
    pub fn with_options(num_parameters: usize, init: f64) -> PReLU {
        PReLU {
            weight: Parameter::new(Tensor::full([num_parameters], init)),
            num_parameters,
        }
    }
    fn describe(&self) -> String {
        format!("num_parameters={}", self.num_parameters)
    }
}

impl Default for PReLU {
    #[track_caller]
    fn default() -> Self {
        PReLU::new()
    }
}

impl Forward for PReLU {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        input.prelu(&self.weight)
    }
}
