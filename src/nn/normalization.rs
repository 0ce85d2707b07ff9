//! `nn.LayerNorm`.

use super::{Forward, Parameter, functional as F};
use crate::nn::Module;
use crate::pyfmt;
use crate::tensor::Tensor;

/// Normalises over the trailing `normalized_shape` dims, with a learnable elementwise affine
/// initialised to ones and zeros (`nn.LayerNorm(normalized_shape, eps=1e-5)`).
///
/// ```
/// use flambeau::nn::{Forward, LayerNorm};
/// use flambeau::Tensor;
/// let ln = LayerNorm::new(&[6]);
/// assert_eq!(format!("{ln}"), "LayerNorm((6,), eps=1e-05, elementwise_affine=True, bias=True)");
/// let y = ln.forward(&Tensor::arange(0.0, 12.0, 1.0).reshape([2, 6]));
/// assert!(y.mean_dim(-1, false).abs().max().item::<f32>() < 1e-6);
/// ```
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct LayerNorm {
    /// Scale, shaped `normalized_shape`.
    pub weight: Option<Parameter>,
    /// Shift, shaped `normalized_shape`.
    pub bias: Option<Parameter>,
    /// The trailing dims normalised over.
    pub normalized_shape: Vec<usize>,
    /// Added to the variance.
    pub eps: f64,
}

impl LayerNorm {
    /// `nn.LayerNorm(normalized_shape)` with an affine transform.
    #[track_caller]
    pub fn new(normalized_shape: &[usize]) -> LayerNorm {
        LayerNorm::with_options(normalized_shape, 1e-5, true)
    }

    /// `nn.LayerNorm(normalized_shape, eps, elementwise_affine)`.
    #[track_caller]
    pub fn with_options(
        normalized_shape: &[usize],
        eps: f64,
        elementwise_affine: bool,
    ) -> LayerNorm {
        let affine =
            |v: f64| elementwise_affine.then(|| Parameter::new(Tensor::full(normalized_shape, v)));
        LayerNorm {
            weight: affine(1.0),
            bias: affine(0.0),
            normalized_shape: normalized_shape.to_vec(),
            eps,
        }
    }

    #[track_caller]
    fn describe(&self) -> String {
        let dims: Vec<String> = self
            .normalized_shape
            .iter()
            .map(|d| d.to_string())
            .collect();
        let tuple = if dims.len() == 1 {
            format!("({},)", dims[0])
        } else {
            format!("({})", dims.join(", "))
        };
        format!(
            "{tuple}, eps={}, elementwise_affine={}, bias={}",
            pyfmt::float(self.eps),
            if self.weight.is_some() {
                "True"
            } else {
                "False"
            },
            if self.bias.is_some() { "True" } else { "False" }
        )
    }
}

impl Forward for LayerNorm {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        F::layer_norm(
            input,
            &self.normalized_shape,
            self.weight.as_deref(),
            self.bias.as_deref(),
            self.eps,
        )
    }
}
