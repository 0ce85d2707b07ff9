//! Loss modules (`nn.MSELoss`, `nn.CrossEntropyLoss`, ...): each wraps the function of the same
//! name in [`functional`](super::functional) with its options; `forward(input, target)`.
//!
//! ```
//! use flambeau::{nn::{CrossEntropyLoss, MSELoss, Reduction}, tensor};
//! let mse = MSELoss::new();
//! assert_eq!(mse.forward(&tensor!([1.0, 3.0]), &tensor!([1.0, 1.0])).item::<f32>(), 2.0);
//! let ce = CrossEntropyLoss::new().label_smoothing(0.1).reduction(Reduction::Sum);
//! let loss = ce.forward(&tensor!([[2.0, 0.5, -1.0]]), &tensor!([0]));
//! assert!(loss.item::<f32>() > 0.0);
//! ```

use super::Buffer;
use super::functional::{self as F, CrossEntropyOptions, KlReduction, Reduction};
use crate::nn::Module;
use crate::tensor::Tensor;

macro_rules! reduction_builder {
    () => {
        /// Sets the reduction (`reduction=`).
        pub fn reduction(mut self, reduction: Reduction) -> Self {
            self.reduction = reduction;
            self
        }
    };
}

/// Mean squared error (`nn.MSELoss`).
#[derive(Module, Clone, Default)]
pub struct MSELoss {
    /// How to reduce.
    #[module(skip)]
    pub reduction: Reduction,
}

impl MSELoss {
    /// `nn.MSELoss()`.
    #[track_caller]
    pub fn new() -> Self {
        Self::default()
    }
    reduction_builder!();
    /// The loss of `input` against `target`.
    #[track_caller]
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Tensor {
        F::mse_loss(input, target, self.reduction)
    }
}

/// Mean absolute error (`nn.L1Loss`).
#[derive(Module, Clone, Default)]
pub struct L1Loss {
    /// How to reduce.
    #[module(skip)]
    pub reduction: Reduction,
}

impl L1Loss {
    /// `nn.L1Loss()`.
    #[track_caller]
    pub fn new() -> Self {
        Self::default()
    }
    reduction_builder!();
    /// The loss of `input` against `target`.
    #[track_caller]
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Tensor {
        F::l1_loss(input, target, self.reduction)
    }
}

/// Smooth L1 (`nn.SmoothL1Loss(beta=1.0)`).
#[derive(Module, Clone)]
pub struct SmoothL1Loss {
    /// How to reduce.
    #[module(skip)]
    pub reduction: Reduction,
    /// Where the loss turns from quadratic to linear.
    pub beta: f64,
}

impl SmoothL1Loss {
    /// `nn.SmoothL1Loss()`.
    #[track_caller]
    pub fn new() -> Self {
        SmoothL1Loss {
            reduction: Reduction::Mean,
            beta: 1.0,
        }
    }
    reduction_builder!();
    /// Sets `beta`.
    #[track_caller]
    pub fn beta(mut self, beta: f64) -> Self {
        self.beta = beta;
        self
    }
    /// The loss of `input` against `target`.
    #[track_caller]
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Tensor {
        F::smooth_l1_loss(input, target, self.reduction, self.beta)
    }
}

impl Default for SmoothL1Loss {
    #[track_caller]
    fn default() -> Self {
        Self::new()
    }
}

/// Huber loss (`nn.HuberLoss(delta=1.0)`).
#[derive(Module, Clone)]
pub struct HuberLoss {
    /// How to reduce.
    #[module(skip)]
    pub reduction: Reduction,
    /// Where the loss turns from quadratic to linear.
    pub delta: f64,
}

impl HuberLoss {
    /// `nn.HuberLoss()`.
    #[track_caller]
    pub fn new() -> Self {
        HuberLoss {
            reduction: Reduction::Mean,
            delta: 1.0,
        }
    }
    reduction_builder!();
    /// Sets `delta`.
    #[track_caller]
    pub fn delta(mut self, delta: f64) -> Self {
        self.delta = delta;
        self
    }
    /// The loss of `input` against `target`.
    #[track_caller]
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Tensor {
        F::huber_loss(input, target, self.reduction, self.delta)
    }
}

impl Default for HuberLoss {
    #[track_caller]
    fn default() -> Self {
        Self::new()
    }
}

/// Cross entropy of logits against class indices or probabilities (`nn.CrossEntropyLoss`), with
/// class weights (a buffer, as in PyTorch), `ignore_index` and `label_smoothing`.
#[derive(Module, Clone)]
pub struct CrossEntropyLoss {
    /// A weight per class.
    pub weight: Option<Buffer>,
    /// Target value to ignore.
    pub ignore_index: i64,
    /// How to reduce.
    #[module(skip)]
    pub reduction: Reduction,
    /// Label smoothing in `[0, 1]`.
    pub label_smoothing: f64,
}

impl CrossEntropyLoss {
    /// `nn.CrossEntropyLoss()`.
    #[track_caller]
    pub fn new() -> Self {
        CrossEntropyLoss {
            weight: None,
            ignore_index: -100,
            reduction: Reduction::Mean,
            label_smoothing: 0.0,
        }
    }
    reduction_builder!();
    /// Sets the class weights.
    #[track_caller]
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(Buffer::new(weight));
        self
    }
    /// Sets the ignored target value.
    #[track_caller]
    pub fn ignore_index(mut self, ignore_index: i64) -> Self {
        self.ignore_index = ignore_index;
        self
    }
    /// Sets the label smoothing.
    #[track_caller]
    pub fn label_smoothing(mut self, label_smoothing: f64) -> Self {
        if !(0.0..=1.0).contains(&label_smoothing) {
            panic!("label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}");
        }
        self.label_smoothing = label_smoothing;
        self
    }
    #[track_caller]
    fn options(&self) -> CrossEntropyOptions {
        CrossEntropyOptions {
            weight: self.weight.as_ref().map(|b| b.tensor().clone()),
            ignore_index: self.ignore_index,
            reduction: self.reduction,
            label_smoothing: self.label_smoothing,
        }
    }
    /// The loss of logits `input` against `target`.
    #[track_caller]
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Tensor {
        F::cross_entropy(input, target, &self.options())
    }
}

impl Default for CrossEntropyLoss {
    #[track_caller]
    fn default() -> Self {
        Self::new()
    }
}

/// Negative log-likelihood of log-probabilities against class indices (`nn.NLLLoss`).
#[derive(Module, Clone)]
pub struct NLLLoss {
    /// A weight per class.
    pub weight: Option<Buffer>,
    /// Target value to ignore.
    pub ignore_index: i64,
    /// How to reduce.
    #[module(skip)]
    pub reduction: Reduction,
}

impl NLLLoss {
    /// `nn.NLLLoss()`.
    #[track_caller]
    pub fn new() -> Self {
        NLLLoss {
            weight: None,
            ignore_index: -100,
            reduction: Reduction::Mean,
        }
    }
    reduction_builder!();
    /// Sets the class weights.
    #[track_caller]
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(Buffer::new(weight));
        self
    }
    /// Sets the ignored target value.
    #[track_caller]
    pub fn ignore_index(mut self, ignore_index: i64) -> Self {
        self.ignore_index = ignore_index;
        self
    }
    /// The loss of log-probabilities `input` against `target`.
    #[track_caller]
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Tensor {
        let opts = CrossEntropyOptions {
            weight: self.weight.as_ref().map(|b| b.tensor().clone()),
            ignore_index: self.ignore_index,
            reduction: self.reduction,
            label_smoothing: 0.0,
        };
        F::nll_loss(input, target, &opts)
    }
}

impl Default for NLLLoss {
    #[track_caller]
    fn default() -> Self {
        Self::new()
    }
}

/// Binary cross entropy of probabilities (`nn.BCELoss`).
#[derive(Module, Clone, Default)]
pub struct BCELoss {
    /// A weight per element (broadcast).
    pub weight: Option<Buffer>,
    /// How to reduce.
    #[module(skip)]
    pub reduction: Reduction,
}

impl BCELoss {
    /// `nn.BCELoss()`.
    #[track_caller]
    pub fn new() -> Self {
        Self::default()
    }
    reduction_builder!();
    /// Sets the weights.
    #[track_caller]
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(Buffer::new(weight));
        self
    }
    /// The loss of probabilities `input` against `target`.
    #[track_caller]
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Tensor {
        F::binary_cross_entropy(input, target, self.weight.as_deref(), self.reduction)
    }
}

/// Binary cross entropy of logits (`nn.BCEWithLogitsLoss`), with `pos_weight`.
#[derive(Module, Clone, Default)]
pub struct BCEWithLogitsLoss {
    /// A weight per element (broadcast).
    pub weight: Option<Buffer>,
    /// A weight for positive examples per class (broadcast).
    pub pos_weight: Option<Buffer>,
    /// How to reduce.
    #[module(skip)]
    pub reduction: Reduction,
}

impl BCEWithLogitsLoss {
    /// `nn.BCEWithLogitsLoss()`.
    #[track_caller]
    pub fn new() -> Self {
        Self::default()
    }
    reduction_builder!();
    /// Sets the weights.
    #[track_caller]
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(Buffer::new(weight));
        self
    }
    /// Sets the positive-class weights.
    #[track_caller]
    pub fn pos_weight(mut self, pos_weight: Tensor) -> Self {
        self.pos_weight = Some(Buffer::new(pos_weight));
        self
    }
    /// The loss of logits `input` against `target`.
    #[track_caller]
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Tensor {
        F::binary_cross_entropy_with_logits(
            input,
            target,
            self.weight.as_deref(),
            self.pos_weight.as_deref(),
            self.reduction,
        )
    }
}

/// Kullback–Leibler divergence of log-probabilities (`nn.KLDivLoss(reduction, log_target)`).
#[derive(Module, Clone, Default)]
pub struct KLDivLoss {
    /// How to reduce.
    #[module(skip)]
    pub reduction: KlReduction,
    /// Whether the target is given as log-probabilities.
    pub log_target: bool,
}

impl KLDivLoss {
    /// `nn.KLDivLoss()`.
    #[track_caller]
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the reduction.
    #[track_caller]
    pub fn reduction(mut self, reduction: KlReduction) -> Self {
        self.reduction = reduction;
        self
    }
    /// Sets `log_target`.
    #[track_caller]
    pub fn log_target(mut self, log_target: bool) -> Self {
        self.log_target = log_target;
        self
    }
    /// The divergence of `input` (log-probabilities) from `target`.
    #[track_caller]
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Tensor {
        F::kl_div(input, target, self.reduction, self.log_target)
    }
}
