//! `nn.BatchNorm1d/2d/3d` and `nn.InstanceNorm1d/2d/3d` (PyTorch's `_NormBase` family).
//!
//! Their state is PyTorch's, in its order: the parameters `weight` (ones) and `bias` (zeros)
//! when `affine`, then the buffers `running_mean` (zeros), `running_var` (ones) and
//! `num_batches_tracked` (an int64 scalar) when `track_running_stats`; without them PyTorch
//! registers `None`, which is absent from the state dict, as an empty `Option` is here.

use super::{Buffer, Forward, Parameter, TrainingFlag, functional as F};
use crate::autograd::no_grad;
use crate::nn::Module;
use crate::pyfmt;
use crate::tensor::Tensor;

/// The options of `nn.BatchNorm*d` beside `num_features`, with PyTorch's defaults.
///
/// ```
/// use flambeau::nn::{BatchNorm2d, BatchNormOptions};
/// let bn = BatchNorm2d::with_options(3, BatchNormOptions { momentum: None, ..Default::default() });
/// assert_eq!(bn.momentum, None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormOptions {
    /// Added to the variance (1e-5).
    pub eps: f64,
    /// The running statistics' update factor (0.1); `None` is a cumulative moving average
    /// (factor `1 / num_batches_tracked`).
    pub momentum: Option<f64>,
    /// Learnable per-channel `weight` and `bias` (true).
    pub affine: bool,
    /// Keep running statistics for eval mode (true).
    pub track_running_stats: bool,
    /// With `affine`, whether there is a `bias` (true; PyTorch's keyword-only `bias`).
    pub bias: bool,
}

impl Default for BatchNormOptions {
    fn default() -> Self {
        BatchNormOptions {
            eps: 1e-5,
            momentum: Some(0.1),
            affine: true,
            track_running_stats: true,
            bias: true,
        }
    }
}

/// The options of `nn.InstanceNorm*d` beside `num_features`, with PyTorch's defaults (no affine,
/// no running statistics).
///
/// ```
/// use flambeau::nn::{InstanceNorm2d, InstanceNormOptions};
/// let m = InstanceNorm2d::with_options(3, InstanceNormOptions { affine: true, ..Default::default() });
/// assert!(m.weight.is_some());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InstanceNormOptions {
    /// Added to the variance (1e-5).
    pub eps: f64,
    /// The running statistics' update factor (0.1); `None` leaves them unchanged, as PyTorch
    /// passes 0 then.
    pub momentum: Option<f64>,
    /// Learnable per-channel `weight` and `bias` (false).
    pub affine: bool,
    /// Keep running statistics, used in eval mode (false).
    pub track_running_stats: bool,
    /// With `affine`, whether there is a `bias` (true).
    pub bias: bool,
}

impl Default for InstanceNormOptions {
    fn default() -> Self {
        InstanceNormOptions {
            eps: 1e-5,
            momentum: Some(0.1),
            affine: false,
            track_running_stats: false,
            bias: true,
        }
    }
}

/// `_NormBase.__init__`'s parameters and buffers.
type NormState = (
    Option<Parameter>,
    Option<Parameter>,
    Option<Buffer>,
    Option<Buffer>,
    Option<Buffer>,
);

fn norm_state(num_features: usize, affine: bool, bias: bool, track: bool) -> NormState {
    let param = |v: f64| Parameter::new(Tensor::full([num_features], v));
    let buffer = |v: f64| Buffer::new(Tensor::full([num_features], v));
    (
        affine.then(|| param(1.0)),
        (affine && bias).then(|| param(0.0)),
        track.then(|| buffer(0.0)),
        track.then(|| buffer(1.0)),
        track.then(|| Buffer::new(Tensor::scalar(0i64))),
    )
}

/// `_NormBase.extra_repr`.
fn norm_repr(
    num_features: usize,
    eps: f64,
    momentum: Option<f64>,
    affine: bool,
    bias: bool,
    track: bool,
) -> String {
    format!(
        "{num_features}, eps={}, momentum={}, affine={}, bias={}, track_running_stats={}",
        pyfmt::float(eps),
        momentum.map_or("None".to_string(), pyfmt::float),
        crate::pyfmt::bool(affine),
        crate::pyfmt::bool(bias),
        crate::pyfmt::bool(track),
    )
}

macro_rules! batch_norm_module {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Module, Clone)]
        #[module(extra_repr = "describe")]
        pub struct $name {
            /// Per-channel scale (ones), when `affine`.
            pub weight: Option<Parameter>,
            /// Per-channel shift (zeros), when `affine` and `bias`.
            pub bias: Option<Parameter>,
            /// Running mean (zeros), when `track_running_stats`.
            pub running_mean: Option<Buffer>,
            /// Running unbiased variance (ones), when `track_running_stats`.
            pub running_var: Option<Buffer>,
            /// Training forwards seen (an int64 scalar), when `track_running_stats`.
            pub num_batches_tracked: Option<Buffer>,
            /// The channel count C.
            pub num_features: usize,
            /// Added to the variance.
            pub eps: f64,
            /// The running statistics' update factor; `None`: cumulative moving average.
            pub momentum: Option<f64>,
            /// Whether there are `weight` and `bias`.
            pub affine: bool,
            /// Whether there are running statistics.
            pub track_running_stats: bool,
            /// Train/eval mode.
            pub training: TrainingFlag,
        }

        impl $name {
            #[doc = concat!("`nn.", stringify!($name), "(num_features)` with PyTorch's defaults.")]
            pub fn new(num_features: usize) -> $name {
                $name::with_options(num_features, BatchNormOptions::default())
            }

            #[doc = concat!("`nn.", stringify!($name), "(num_features, eps, momentum, affine, track_running_stats, bias=...)`.")]
            pub fn with_options(num_features: usize, o: BatchNormOptions) -> $name {
                let (weight, bias, running_mean, running_var, num_batches_tracked) =
                    norm_state(num_features, o.affine, o.bias, o.track_running_stats);
                $name {
                    weight,
                    bias,
                    running_mean,
                    running_var,
                    num_batches_tracked,
                    num_features,
                    eps: o.eps,
                    momentum: o.momentum,
                    affine: o.affine,
                    track_running_stats: o.track_running_stats,
                    training: TrainingFlag::new(),
                }
            }

            fn describe(&self) -> String {
                norm_repr(
                    self.num_features,
                    self.eps,
                    self.momentum,
                    self.affine,
                    self.bias.is_some(),
                    self.track_running_stats,
                )
            }
        }

        impl Forward for $name {
            /// `_BatchNorm.forward`.
            #[track_caller]
            fn forward(&self, input: &Tensor) -> Tensor {
                let check: fn(usize) -> Option<&'static str> = $check;
                if let Some(expected) = check(input.ndim()) {
                    panic!("expected {expected} input (got {}D input)", input.ndim());
                }
                let training = self.training.get();
                let mut factor = self.momentum.unwrap_or(0.0);
                if training && self.track_running_stats {
                    if let Some(n) = &self.num_batches_tracked {
                        no_grad(|| n.add_(1));
                        if self.momentum.is_none() {
                            factor = 1.0 / n.item::<i64>() as f64;
                        }
                    }
                }
                // Batch statistics in training, and in eval mode without running statistics.
                let bn_training = training || self.running_mean.is_none();
                let pass_stats = !training || self.track_running_stats;
                F::batch_norm(
                    input,
                    self.running_mean.as_deref().filter(|_| pass_stats),
                    self.running_var.as_deref().filter(|_| pass_stats),
                    self.weight.as_deref(),
                    self.bias.as_deref(),
                    bn_training,
                    factor,
                    self.eps,
                )
            }
        }
    };
}

batch_norm_module!(
    /// Batch normalization over a `(N, C)` or `(N, C, L)` input (`nn.BatchNorm1d`): in training,
    /// each channel is normalised with the batch's mean and biased variance and the running
    /// statistics are updated; in eval mode the running statistics are used.
    ///
    /// ```
    /// use flambeau::nn::{BatchNorm1d, Forward, Module};
    /// use flambeau::tensor;
    /// let bn = BatchNorm1d::new(2);
    /// assert_eq!(
    ///     format!("{bn}"),
    ///     "BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    /// );
    /// bn.forward(&tensor!([[1.0, 10.0], [3.0, 20.0]]));
    /// assert_eq!(bn.running_mean.as_ref().unwrap().to_vec::<f32>(), vec![0.2, 1.5]);
    /// assert_eq!(bn.num_batches_tracked.as_ref().unwrap().item::<i64>(), 1);
    /// ```
    BatchNorm1d,
    |d| (d != 2 && d != 3).then_some("2D or 3D")
);

batch_norm_module!(
    /// Batch normalization over a `(N, C, H, W)` input (`nn.BatchNorm2d`), per channel.
    ///
    /// ```
    /// use flambeau::nn::{BatchNorm2d, Forward, Module};
    /// use flambeau::Tensor;
    /// let mut bn = BatchNorm2d::new(3);
    /// assert_eq!(
    ///     bn.state_dict().keys(),
    ///     vec!["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    /// );
    /// bn.eval();
    /// // Fresh running statistics (0, 1): eval mode is almost the identity.
    /// let x = Tensor::randn([2, 3, 4, 4]);
    /// assert!(bn.forward(&x).sub(&x).abs().max().item::<f32>() < 1e-4);
    /// ```
    BatchNorm2d,
    |d| (d != 4).then_some("4D")
);

batch_norm_module!(
    /// Batch normalization over a `(N, C, D, H, W)` input (`nn.BatchNorm3d`), per channel.
    ///
    /// ```
    /// use flambeau::nn::{BatchNorm3d, Forward};
    /// use flambeau::Tensor;
    /// let bn = BatchNorm3d::new(2);
    /// assert_eq!(bn.forward(&Tensor::randn([2, 2, 2, 2, 2])).dims(), &[2, 2, 2, 2, 2]);
    /// ```
    BatchNorm3d,
    |d| (d != 5).then_some("5D")
);

macro_rules! instance_norm_module {
    ($(#[$doc:meta])* $name:ident, $no_batch_dim:expr, $expected:expr) => {
        $(#[$doc])*
        #[derive(Module, Clone)]
        #[module(extra_repr = "describe")]
        pub struct $name {
            /// Per-channel scale (ones), when `affine`.
            pub weight: Option<Parameter>,
            /// Per-channel shift (zeros), when `affine` and `bias`.
            pub bias: Option<Parameter>,
            /// Running mean (zeros), when `track_running_stats`.
            pub running_mean: Option<Buffer>,
            /// Running unbiased variance (ones), when `track_running_stats`.
            pub running_var: Option<Buffer>,
            /// An int64 scalar, when `track_running_stats` (instance norm never increments it,
            /// as in PyTorch).
            pub num_batches_tracked: Option<Buffer>,
            /// The channel count C.
            pub num_features: usize,
            /// Added to the variance.
            pub eps: f64,
            /// The running statistics' update factor (`None` is 0).
            pub momentum: Option<f64>,
            /// Whether there are `weight` and `bias`.
            pub affine: bool,
            /// Whether there are running statistics (used in eval mode).
            pub track_running_stats: bool,
            /// Train/eval mode.
            pub training: TrainingFlag,
        }

        impl $name {
            #[doc = concat!("`nn.", stringify!($name), "(num_features)` with PyTorch's defaults.")]
            pub fn new(num_features: usize) -> $name {
                $name::with_options(num_features, InstanceNormOptions::default())
            }

            #[doc = concat!("`nn.", stringify!($name), "(num_features, eps, momentum, affine, track_running_stats, bias=...)`.")]
            pub fn with_options(num_features: usize, o: InstanceNormOptions) -> $name {
                let (weight, bias, running_mean, running_var, num_batches_tracked) =
                    norm_state(num_features, o.affine, o.bias, o.track_running_stats);
                $name {
                    weight,
                    bias,
                    running_mean,
                    running_var,
                    num_batches_tracked,
                    num_features,
                    eps: o.eps,
                    momentum: o.momentum,
                    affine: o.affine,
                    track_running_stats: o.track_running_stats,
                    training: TrainingFlag::new(),
                }
            }

            fn describe(&self) -> String {
                norm_repr(
                    self.num_features,
                    self.eps,
                    self.momentum,
                    self.affine,
                    self.bias.is_some(),
                    self.track_running_stats,
                )
            }

            #[track_caller]
            fn apply(&self, input: &Tensor) -> Tensor {
                F::instance_norm(
                    input,
                    self.running_mean.as_deref(),
                    self.running_var.as_deref(),
                    self.weight.as_deref(),
                    self.bias.as_deref(),
                    self.training.get() || !self.track_running_stats,
                    self.momentum.unwrap_or(0.0),
                    self.eps,
                )
            }
        }

        impl Forward for $name {
            /// `_InstanceNorm.forward`: an unbatched input is normalised as a batch of one.
            #[track_caller]
            fn forward(&self, input: &Tensor) -> Tensor {
                let (nd, no_batch): (usize, usize) = (input.ndim(), $no_batch_dim);
                if nd != no_batch && nd != no_batch + 1 {
                    panic!("expected {} input (got {nd}D input)", $expected);
                }
                let feature_dim = nd - no_batch;
                let size = input.dims()[feature_dim];
                if size != self.num_features {
                    if self.affine {
                        panic!(
                            "expected input's size at dim={feature_dim} to match num_features ({}), but got: {size}.",
                            self.num_features
                        );
                    }
                    crate::warn_once(
                        "instance_norm_num_features",
                        &format!("UserWarning: input's size at dim={feature_dim} does not match num_features. You can silence this warning by not passing in num_features, which is not used because affine=False"),
                    );
                }
                if nd == no_batch {
                    return self.apply(&input.unsqueeze(0)).squeeze_dim(0);
                }
                self.apply(input)
            }
        }
    };
}

instance_norm_module!(
    /// Instance normalization over a `(N, C, L)` or unbatched `(C, L)` input
    /// (`nn.InstanceNorm1d`): each sample's channels are normalised over their own length.
    ///
    /// ```
    /// use flambeau::nn::{Forward, InstanceNorm1d};
    /// use flambeau::tensor;
    /// let m = InstanceNorm1d::new(2);
    /// assert_eq!(
    ///     format!("{m}"),
    ///     "InstanceNorm1d(2, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)"
    /// );
    /// let y = m.forward(&tensor!([[1.0, 3.0], [0.0, 10.0]]));
    /// assert!((y.to_vec::<f32>()[3] - 1.0).abs() < 1e-4);
    /// ```
    InstanceNorm1d,
    2,
    "2D or 3D"
);

instance_norm_module!(
    /// Instance normalization over a `(N, C, H, W)` or unbatched `(C, H, W)` input
    /// (`nn.InstanceNorm2d`).
    ///
    /// ```
    /// use flambeau::nn::{Forward, InstanceNorm2d, Module};
    /// use flambeau::Tensor;
    /// let m = InstanceNorm2d::new(3);
    /// assert!(m.state_dict().is_empty());
    /// assert_eq!(m.forward(&Tensor::randn([2, 3, 4, 4])).dims(), &[2, 3, 4, 4]);
    /// ```
    InstanceNorm2d,
    3,
    "3D or 4D"
);

instance_norm_module!(
    /// Instance normalization over a `(N, C, D, H, W)` or unbatched `(C, D, H, W)` input
    /// (`nn.InstanceNorm3d`).
    ///
    /// ```
    /// use flambeau::nn::{Forward, InstanceNorm3d};
    /// use flambeau::Tensor;
    /// let m = InstanceNorm3d::new(2);
    /// assert_eq!(m.forward(&Tensor::randn([2, 2, 2, 2])).dims(), &[2, 2, 2, 2]);
    /// ```
    InstanceNorm3d,
    4,
    "4D or 5D"
);
