//! `nn.LayerNorm`, `nn.GroupNorm`, `nn.RMSNorm` (batch and instance norm are in `batchnorm.rs`).

use super::{Forward, Parameter, functional as F};
use crate::nn::Module;
use crate::pyfmt;
use crate::tensor::Tensor;

/// A shape as Python prints a tuple: `(6,)`, `(3, 4)`.
fn py_tuple(dims: &[usize]) -> String {
    let dims: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    }
}

/// Normalises over the trailing `normalized_shape` dims, with a learnable elementwise affine
/// initialised to ones and zeros (`nn.LayerNorm(normalized_shape, eps=1e-5,
/// elementwise_affine=True, bias=True)`).
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
        LayerNorm::with_bias(normalized_shape, eps, elementwise_affine, true)
    }

    /// `nn.LayerNorm(normalized_shape, eps, elementwise_affine, bias)`: with `bias = false` the
    /// affine transform is a scale only.
    ///
    /// ```
    /// use flambeau::nn::{LayerNorm, Module};
    /// let ln = LayerNorm::with_bias(&[6], 1e-5, true, false);
    /// assert_eq!(ln.state_dict().keys(), vec!["weight"]);
    /// assert_eq!(format!("{ln}"), "LayerNorm((6,), eps=1e-05, elementwise_affine=True, bias=False)");
    /// ```
    #[track_caller]
    pub fn with_bias(
        normalized_shape: &[usize],
        eps: f64,
        elementwise_affine: bool,
        bias: bool,
    ) -> LayerNorm {
        let param = |v: f64| Parameter::new(Tensor::full(normalized_shape, v));
        LayerNorm {
            weight: elementwise_affine.then(|| param(1.0)),
            bias: (elementwise_affine && bias).then(|| param(0.0)),
            normalized_shape: normalized_shape.to_vec(),
            eps,
        }
    }

    fn describe(&self) -> String {
        format!(
            "{}, eps={}, elementwise_affine={}, bias={}",
            py_tuple(&self.normalized_shape),
            pyfmt::float(self.eps),
            crate::pyfmt::bool(self.weight.is_some()),
            crate::pyfmt::bool(self.bias.is_some())
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

/// Group normalization (`nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True,
/// bias=True)`): the channels are split into groups normalised over their channels and spatial
/// dims, then scaled and shifted per channel.
///
/// ```
/// use flambeau::nn::{Forward, GroupNorm};
/// use flambeau::Tensor;
/// let gn = GroupNorm::new(2, 4);
/// assert_eq!(format!("{gn}"), "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)");
/// assert_eq!(gn.forward(&Tensor::randn([2, 4, 3])).dims(), &[2, 4, 3]);
/// ```
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct GroupNorm {
    /// Per-channel scale (ones), when `affine`.
    pub weight: Option<Parameter>,
    /// Per-channel shift (zeros), when `affine` and `bias`.
    pub bias: Option<Parameter>,
    /// The number of groups the channels are split into.
    pub num_groups: usize,
    /// The channel count C.
    pub num_channels: usize,
    /// Added to the variance.
    pub eps: f64,
    /// Whether there are `weight` and `bias`.
    pub affine: bool,
}

impl GroupNorm {
    /// `nn.GroupNorm(num_groups, num_channels)`; panics, as PyTorch does, unless `num_groups`
    /// divides `num_channels`.
    #[track_caller]
    pub fn new(num_groups: usize, num_channels: usize) -> GroupNorm {
        GroupNorm::with_options(num_groups, num_channels, 1e-5, true)
    }

    /// `nn.GroupNorm(num_groups, num_channels, eps, affine)`.
    #[track_caller]
    pub fn with_options(
        num_groups: usize,
        num_channels: usize,
        eps: f64,
        affine: bool,
    ) -> GroupNorm {
        GroupNorm::with_bias(num_groups, num_channels, eps, affine, true)
    }

    /// `nn.GroupNorm(num_groups, num_channels, eps, affine, bias=bias)`.
    ///
    /// ```
    /// use flambeau::nn::{GroupNorm, Module};
    /// assert_eq!(GroupNorm::with_bias(2, 4, 1e-5, true, false).state_dict().keys(), vec!["weight"]);
    /// ```
    #[track_caller]
    pub fn with_bias(
        num_groups: usize,
        num_channels: usize,
        eps: f64,
        affine: bool,
        bias: bool,
    ) -> GroupNorm {
        if num_groups == 0 {
            panic!("integer division or modulo by zero");
        }
        if !num_channels.is_multiple_of(num_groups) {
            panic!("num_channels ({num_channels}) must be divisible by num_groups ({num_groups})");
        }
        let param = |v: f64| Parameter::new(Tensor::full([num_channels], v));
        GroupNorm {
            weight: affine.then(|| param(1.0)),
            bias: (affine && bias).then(|| param(0.0)),
            num_groups,
            num_channels,
            eps,
            affine,
        }
    }

    fn describe(&self) -> String {
        format!(
            "{}, {}, eps={}, affine={}, bias={}",
            self.num_groups,
            self.num_channels,
            pyfmt::float(self.eps),
            crate::pyfmt::bool(self.affine),
            crate::pyfmt::bool(self.bias.is_some())
        )
    }
}

impl Forward for GroupNorm {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        F::group_norm(
            input,
            self.num_groups,
            self.weight.as_deref(),
            self.bias.as_deref(),
            self.eps,
        )
    }
}

/// Root-mean-square normalization over the trailing `normalized_shape` dims with a learnable
/// elementwise scale (`nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True)`);
/// `eps: None` is `torch.finfo(input.dtype).eps`.
///
/// ```
/// use flambeau::nn::{Forward, RMSNorm};
/// use flambeau::Tensor;
/// let m = RMSNorm::new(&[6]);
/// assert_eq!(format!("{m}"), "RMSNorm((6,), eps=None, elementwise_affine=True)");
/// let y = m.forward(&Tensor::randn([2, 6]));
/// assert!((y.pow(2).mean().item::<f32>() - 1.0).abs() < 1e-4);
/// ```
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct RMSNorm {
    /// Scale (ones), shaped `normalized_shape`, when `elementwise_affine`.
    pub weight: Option<Parameter>,
    /// The trailing dims normalised over.
    pub normalized_shape: Vec<usize>,
    /// Added to the mean square; `None`: the input dtype's machine epsilon.
    pub eps: Option<f64>,
}

impl RMSNorm {
    /// `nn.RMSNorm(normalized_shape)`.
    #[track_caller]
    pub fn new(normalized_shape: &[usize]) -> RMSNorm {
        RMSNorm::with_options(normalized_shape, None, true)
    }

    /// `nn.RMSNorm(normalized_shape, eps, elementwise_affine)`.
    #[track_caller]
    pub fn with_options(
        normalized_shape: &[usize],
        eps: Option<f64>,
        elementwise_affine: bool,
    ) -> RMSNorm {
        RMSNorm {
            weight: elementwise_affine.then(|| Parameter::new(Tensor::full(normalized_shape, 1.0))),
            normalized_shape: normalized_shape.to_vec(),
            eps,
        }
    }

    fn describe(&self) -> String {
        format!(
            "{}, eps={}, elementwise_affine={}",
            py_tuple(&self.normalized_shape),
            self.eps.map_or("None".to_string(), pyfmt::float),
            crate::pyfmt::bool(self.weight.is_some())
        )
    }
}

impl Forward for RMSNorm {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        F::rms_norm(
            input,
            &self.normalized_shape,
            self.weight.as_deref(),
            self.eps,
        )
    }
}
