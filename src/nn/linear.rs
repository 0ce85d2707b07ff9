//! `nn.Linear`, `nn.Identity`, `nn.Flatten`.

use super::{Forward, Parameter, init};
use crate::nn::Module;
use crate::tensor::Tensor;

/// The affine map `y = x·Wᵀ + b` (`nn.Linear`). `weight` has shape (out_features, in_features);
/// both are initialised exactly as PyTorch does after the same `manual_seed`
/// (kaiming-uniform with `a = √5`, then `U(-1/√in, 1/√in)` for the bias).
///
/// ```
/// use flambeau::{manual_seed, nn::{Forward, Linear}, Tensor};
/// manual_seed(0);
/// let m = Linear::new(1, 1);
/// assert_eq!(format!("{}", m.weight), "Parameter containing:\ntensor([[-0.0075]], requires_grad=True)");
/// assert_eq!(m.forward(&Tensor::ones([11, 1])).dims(), &[11, 1]);
/// ```
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct Linear {
    /// The weight, (out_features, in_features).
    pub weight: Parameter,
    /// The bias, (out_features), if any.
    pub bias: Option<Parameter>,
    /// Size of each input sample.
    pub in_features: usize,
    /// Size of each output sample.
    pub out_features: usize,
}

impl Linear {
    /// A layer with a bias (`nn.Linear(in_features, out_features)`).
    #[track_caller]
    pub fn new(in_features: usize, out_features: usize) -> Linear {
        Linear::with_bias(in_features, out_features, true)
    }

    /// `nn.Linear(in_features, out_features, bias=bias)`.
    #[track_caller]
    pub fn with_bias(in_features: usize, out_features: usize, bias: bool) -> Linear {
        let weight = Tensor::empty([out_features, in_features]);
        init::kaiming_uniform_(&weight, 5f64.sqrt(), "fan_in", "leaky_relu");
        let bias = bias.then(|| {
            let b = Tensor::empty([out_features]);
            let bound = if in_features > 0 {
                1.0 / (in_features as f64).sqrt()
            } else {
                0.0
            };
            init::uniform_(&b, -bound, bound);
            Parameter::new(b)
        });
        Linear {
            weight: Parameter::new(weight),
            bias,
            in_features,
            out_features,
        }
    }

    #[track_caller]
    fn describe(&self) -> String {
        format!(
            "in_features={}, out_features={}, bias={}",
            self.in_features,
            self.out_features,
            if self.bias.is_some() { "True" } else { "False" }
        )
    }
}

impl Forward for Linear {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        input.linear(&self.weight, self.bias.as_deref())
    }
}

/// Returns its input (`nn.Identity`).
#[derive(Module, Clone, Default)]
pub struct Identity;

impl Identity {
    /// `nn.Identity()`.
    #[track_caller]
    pub fn new() -> Identity {
        Identity
    }
}

impl Forward for Identity {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        input.clone()
    }
}

/// Flattens dims `start_dim..=end_dim` (`nn.Flatten`, default `start_dim=1, end_dim=-1`).
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct Flatten {
    /// First dim to flatten.
    pub start_dim: i64,
    /// Last dim to flatten.
    pub end_dim: i64,
}

impl Flatten {
    /// `nn.Flatten()`: keeps the batch dim.
    #[track_caller]
    pub fn new() -> Flatten {
        Flatten {
            start_dim: 1,
            end_dim: -1,
        }
    }

    /// `nn.Flatten(start_dim, end_dim)`.
    #[track_caller]
    pub fn with_dims(start_dim: i64, end_dim: i64) -> Flatten {
        Flatten { start_dim, end_dim }
    }

    #[track_caller]
    fn describe(&self) -> String {
        format!("start_dim={}, end_dim={}", self.start_dim, self.end_dim)
    }
}

impl Default for Flatten {
    #[track_caller]
    fn default() -> Self {
        Flatten::new()
    }
}

impl Forward for Flatten {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        input.flatten(self.start_dim, self.end_dim)
    }
}
