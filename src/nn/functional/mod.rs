//! `torch.nn.functional`: the operations behind the modules, as functions.
//!
//! ```
//! use flambeau::{nn::functional as F, tensor};
//! let logits = tensor!([[2.0, 0.5, -1.0]]);
//! let target = tensor!([0]);
//! let loss = F::cross_entropy(&logits, &target, &F::CrossEntropyOptions::default());
//! assert!((loss.item::<f32>() - 0.2413).abs() < 1e-4);
//! ```

mod activation_more;
mod attention;
mod conv;
mod normalization;
mod pooling;
mod shape;

pub use activation_more::*;
pub use attention::*;
pub use conv::*;
pub use normalization::*;
pub use pooling::*;
pub use shape::*;

use crate::DType;
use crate::autograd::no_grad;
use crate::tensor::Tensor;

pub use crate::ops::loss::Reduction;

/// `x · wᵀ + b` (`F.linear`).
#[track_caller]
pub fn linear(input: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Tensor {
    input.linear(weight, bias)
}

/// `max(x, 0)` (`F.relu`).
#[track_caller]
pub fn relu(x: &Tensor) -> Tensor {
    x.relu()
}

/// `F.leaky_relu(x, negative_slope)`; PyTorch's default slope is 0.01.
#[track_caller]
pub fn leaky_relu(x: &Tensor, negative_slope: f64) -> Tensor {
    x.leaky_relu(negative_slope)
}

/// `F.gelu(x, approximate)`, `approximate` being `"none"` or `"tanh"`.
#[track_caller]
pub fn gelu(x: &Tensor, approximate: &str) -> Tensor {
    x.gelu(approximate)
}

/// `F.silu(x)`.
#[track_caller]
pub fn silu(x: &Tensor) -> Tensor {
    x.silu()
}

/// `F.sigmoid(x)`.
#[track_caller]
pub fn sigmoid(x: &Tensor) -> Tensor {
    x.sigmoid()
}

/// `F.tanh(x)`.
#[track_caller]
pub fn tanh(x: &Tensor) -> Tensor {
    x.tanh()
}

/// `F.softplus(x, beta, threshold)`; PyTorch's defaults are 1 and 20.
#[track_caller]
pub fn softplus(x: &Tensor, beta: f64, threshold: f64) -> Tensor {
    x.softplus(beta, threshold)
}

/// `F.softmax(x, dim)`.
#[track_caller]
pub fn softmax(x: &Tensor, dim: i64) -> Tensor {
    x.softmax(dim)
}

/// `F.log_softmax(x, dim)`.
#[track_caller]
pub fn log_softmax(x: &Tensor, dim: i64) -> Tensor {
    x.log_softmax(dim)
}

/// `log(sigmoid(x))`, computed stably (`F.logsigmoid`).
#[track_caller]
pub fn logsigmoid(x: &Tensor) -> Tensor {
    // min(x, 0) - log1p(exp(-|x|))
    x.clamp_max(0.0) - x.abs().neg().exp().log1p()
}

/// Zeroes elements with probability `p` during training and scales the rest by `1/(1-p)`
/// (`F.dropout`); the mask is drawn as PyTorch draws it (`bernoulli_(1 - p)`), so the same seed
/// gives the same mask. Outside training, or with `p = 0`, returns the input.
///
/// ```
/// use flambeau::{manual_seed, nn::functional as F, Tensor};
/// manual_seed(0);
/// let y = F::dropout(&Tensor::ones([4]), 0.3, true);
/// assert_eq!(format!("{y}"), "tensor([0.0000, 0.0000, 1.4286, 0.0000])");
/// ```
#[track_caller]
pub fn dropout(x: &Tensor, p: f64, training: bool) -> Tensor {
    if !(0.0..=1.0).contains(&p) {
        panic!("dropout probability has to be between 0 and 1, but got {p}");
    }
    if p == 0.0 || !training || x.numel() == 0 {
        return x.clone();
    }
    if p == 1.0 {
        return x.mul(0.0);
    }
    let noise = no_grad(|| {
        let noise = Tensor::zeros_dtype(x.shape(), x.dtype());
        noise.bernoulli_scalar_(1.0 - p);
        noise.div_(1.0 - p)
    });
    x.mul(&noise)
}

/// `F.cosine_similarity(x1, x2, dim, eps)`: the inputs broadcast, each norm is clamped below by
/// `eps` (PyTorch's default 1e-8) without affecting the gradient, as in PyTorch.
#[track_caller]
pub fn cosine_similarity(x1: &Tensor, x2: &Tensor, dim: i64, eps: f64) -> Tensor {
    let shape = crate::shape::broadcast_shapes(x1.dims(), x2.dims());
    let (a, b) = (x1.expand(shape.dims()), x2.expand(shape.dims()));
    let norm = |t: &Tensor| {
        let n = t.pow(2).sum_dim(dim, true).sqrt();
        // clamp_min_ under no_grad in PyTorch: the value is clamped, the gradient is that of the norm
        let clamped = no_grad(|| n.clamp_min(eps));
        &n + (clamped - n.detach())
    };
    ((&a / norm(&a)) * (&b / norm(&b))).sum_dim(dim, false)
}

#[track_caller]
fn check_same_size(input: &Tensor, target: &Tensor, loss: &str) {
    if input.dims() != target.dims() {
        crate::warn_once(
            "loss_broadcast",
            &format!(
                "UserWarning: Using a target size ({:?}) that is different to the input size ({:?}). This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size. ({loss})",
                target.shape(),
                input.shape()
            ),
        );
    }
}

/// Mean squared error `(x - y)²` with a reduction (`F.mse_loss`), with PyTorch's backward formula.
///
/// ```
/// use flambeau::{nn::functional::{mse_loss, Reduction}, tensor};
/// let l = mse_loss(&tensor!([1.0, 2.0]), &tensor!([0.0, 0.0]), Reduction::Mean);
/// assert_eq!(l.item::<f32>(), 2.5);
/// ```
#[track_caller]
pub fn mse_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Tensor {
    check_same_size(input, target, "mse_loss");
    if input.dims() == target.dims() {
        return input.mse_loss_raw(target, reduction);
    }
    let shape = crate::shape::broadcast_shapes(input.dims(), target.dims());
    let (x, y) = (input.expand(shape.dims()), target.expand(shape.dims()));
    x.mse_loss_raw(&y, reduction)
}

/// Mean absolute error `|x - y|` (`F.l1_loss`).
#[track_caller]
pub fn l1_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Tensor {
    check_same_size(input, target, "l1_loss");
    reduction.apply((input - target).abs())
}

/// Squared error below `beta`, absolute error above (`F.smooth_l1_loss(x, y, reduction, beta)`;
/// PyTorch's default `beta` is 1).
#[track_caller]
pub fn smooth_l1_loss(input: &Tensor, target: &Tensor, reduction: Reduction, beta: f64) -> Tensor {
    check_same_size(input, target, "smooth_l1_loss");
    if beta == 0.0 {
        return l1_loss(input, target, reduction);
    }
    let d = input - target;
    let ad = d.abs();
    let quadratic = d.pow(2).mul(0.5 / beta);
    let linear = ad.sub(0.5 * beta);
    reduction.apply(Tensor::where_(&ad.lt(beta), quadratic, linear))
}

/// Squared error below `delta`, linear above (`F.huber_loss(x, y, reduction, delta)`; default 1).
#[track_caller]
pub fn huber_loss(input: &Tensor, target: &Tensor, reduction: Reduction, delta: f64) -> Tensor {
    check_same_size(input, target, "huber_loss");
    let d = input - target;
    let ad = d.abs();
    let quadratic = d.pow(2).mul(0.5);
    let linear = ad.sub(0.5 * delta).mul(delta);
    reduction.apply(Tensor::where_(&ad.lt(delta), quadratic, linear))
}

/// Options of [`nll_loss`] and [`cross_entropy`] (PyTorch's keyword arguments and defaults).
#[derive(Clone, Debug)]
pub struct CrossEntropyOptions {
    /// A weight per class (`weight=`).
    pub weight: Option<Tensor>,
    /// A target value that contributes nothing (`ignore_index=-100`).
    pub ignore_index: i64,
    /// How to reduce (`reduction='mean'`).
    pub reduction: Reduction,
    /// Mixes the target with the uniform distribution (`label_smoothing=0.0`); cross entropy only.
    pub label_smoothing: f64,
}

impl Default for CrossEntropyOptions {
    #[track_caller]
    fn default() -> Self {
        CrossEntropyOptions {
            weight: None,
            ignore_index: -100,
            reduction: Reduction::Mean,
            label_smoothing: 0.0,
        }
    }
}

/// The class dim of a loss input: 0 for a single sample `(C)`, else 1 (`(N, C, d1, ...)`).
#[track_caller]
fn class_dim(input: &Tensor) -> usize {
    if input.ndim() == 1 { 0 } else { 1 }
}

/// Negative log-likelihood of class-index targets, given log-probabilities (`F.nll_loss`).
/// Shapes: input `(C)`, `(N, C)` or `(N, C, d1, ...)`; target `()`, `(N)` or `(N, d1, ...)`.
#[track_caller]
pub fn nll_loss(input: &Tensor, target: &Tensor, opts: &CrossEntropyOptions) -> Tensor {
    if target.dtype() != DType::I64 {
        panic!(
            "expected target dtype to be Long or Byte, but got {}",
            target.dtype().scalar_name()
        );
    }
    let cd = class_dim(input);
    let c = input.dims()[cd];
    // Move the classes last and flatten everything else: (M, C) against (M).
    let x = if input.ndim() == 1 {
        input.unsqueeze(0)
    } else {
        input.movedim(cd as i64, -1).reshape([-1, c as i64])
    };
    let expected_target: Vec<usize> = if input.ndim() == 1 {
        vec![]
    } else {
        let mut d = input.dims().to_vec();
        d.remove(cd);
        d
    };
    if target.dims() != expected_target.as_slice() {
        if input.ndim() == 2 && target.ndim() == 1 {
            panic!(
                "Expected input batch_size ({}) to match target batch_size ({}).",
                input.dims()[0],
                target.dims()[0]
            );
        }
        panic!(
            "expected target size {:?}, got {:?}",
            expected_target,
            target.dims()
        );
    }
    let t: Vec<i64> = target.to_vec::<i64>();
    let keep: Vec<bool> = t.iter().map(|&v| v != opts.ignore_index).collect();
    for (&v, &k) in t.iter().zip(&keep) {
        if k && (v < 0 || v as usize >= c) {
            panic!("Target {v} is out of bounds.");
        }
    }
    let safe: Vec<i64> = t
        .iter()
        .zip(&keep)
        .map(|(&v, &k)| if k { v } else { 0 })
        .collect();
    let n = safe.len();
    if opts.reduction != Reduction::None {
        let t = Tensor::from_vec(t, [n]);
        let mean = opts.reduction == Reduction::Mean;
        return x
            .contiguous()
            .nll_loss_reduced(&t, opts.weight.as_ref(), opts.ignore_index, mean);
    }
    let safe = Tensor::from_vec(safe, [n]);
    let mask = Tensor::from_vec(keep, [n]).to_dtype(input.dtype());
    let w = match &opts.weight {
        Some(w) => w.index_select(0, &safe).mul(&mask),
        None => mask,
    };
    let picked = x.gather(1, &safe.unsqueeze(1)).squeeze_dim(1);
    picked.neg().mul(&w).reshape(target.dims())
}

/// Cross entropy between logits and class indices or class probabilities (`F.cross_entropy`),
/// with class weights, `ignore_index` and label smoothing, following PyTorch's formulas.
#[track_caller]
pub fn cross_entropy(input: &Tensor, target: &Tensor, opts: &CrossEntropyOptions) -> Tensor {
    let cd = class_dim(input) as i64;
    let n_classes = input.dims()[cd as usize] as f64;
    let logp = input.log_softmax(cd);
    let weight_view = |w: &Tensor| {
        let mut shape = vec![1usize; input.ndim()];
        shape[cd as usize] = w.numel();
        w.reshape(shape)
    };
    // Float targets of the input's shape are probabilities; anything else is class indices
    // (whose dtype `nll_loss` checks), as in PyTorch.
    if target.dtype().is_float() && target.dims() == input.dims() {
        let t = if opts.label_smoothing > 0.0 {
            target
                .mul(1.0 - opts.label_smoothing)
                .add(opts.label_smoothing / n_classes)
        } else {
            target.clone()
        };
        let mut prod = &logp * &t;
        if let Some(w) = &opts.weight {
            prod = prod * weight_view(w);
        }
        return match opts.reduction {
            Reduction::Mean => prod.sum().neg().div(input.numel() as f64 / n_classes),
            Reduction::Sum => prod.sum().neg(),
            Reduction::None => prod.sum_dim(cd, false).neg(),
        };
    }
    let nll = nll_loss(&logp, target, opts);
    if opts.label_smoothing <= 0.0 {
        return nll;
    }
    let ignore = target.eq(opts.ignore_index);
    let smooth = match &opts.weight {
        Some(w) => (&logp * weight_view(w)).sum_dim(cd, false).neg(),
        None => logp.sum_dim(cd, false).neg(),
    }
    .masked_fill(&ignore, 0.0);
    let ret = match opts.reduction {
        Reduction::Mean => match &opts.weight {
            Some(w) => {
                let safe = target.masked_fill(&ignore, 0);
                let tw = w
                    .index_select(0, &safe.reshape([-1]))
                    .reshape(target.dims())
                    .masked_fill(&ignore, 0.0);
                smooth.sum().div(&tw.sum())
            }
            None => smooth
                .sum()
                .div(&ignore.logical_not().to_dtype(input.dtype()).sum()),
        },
        Reduction::Sum => smooth.sum(),
        Reduction::None => smooth,
    };
    nll.mul(1.0 - opts.label_smoothing) + ret.mul(opts.label_smoothing / n_classes)
}

/// Binary cross entropy of probabilities (`F.binary_cross_entropy(p, y, weight, reduction)`),
/// with PyTorch's clamp of the logarithms at -100.
#[track_caller]
pub fn binary_cross_entropy(
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: Reduction,
) -> Tensor {
    if input.dims() != target.dims() {
        panic!(
            "Using a target size ({:?}) that is different to the input size ({:?}) is deprecated. Please ensure they have the same size.",
            target.shape(),
            input.shape()
        );
    }
    let log_p = input.log().clamp_min(-100.0);
    let log_1mp = input.rsub(1.0).log().clamp_min(-100.0);
    let mut loss = (target * log_p + target.rsub(1.0) * log_1mp).neg();
    if let Some(w) = weight {
        loss = loss * w;
    }
    reduction.apply(loss)
}

/// Binary cross entropy of logits, computed stably (`F.binary_cross_entropy_with_logits(x, y,
/// weight, pos_weight, reduction)`), with PyTorch's formula
/// `(1 - y)·x - (1 + (pos_weight - 1)·y)·logsigmoid(x)`.
#[track_caller]
pub fn binary_cross_entropy_with_logits(
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    pos_weight: Option<&Tensor>,
    reduction: Reduction,
) -> Tensor {
    if input.dims() != target.dims() {
        panic!(
            "Target size ({:?}) must be the same as input size ({:?})",
            target.shape(),
            input.shape()
        );
    }
    let mut log_sig = logsigmoid(input);
    if let Some(pw) = pos_weight {
        let log_weight = pw.sub(1.0).mul(target).add(1.0);
        log_sig = log_sig * log_weight;
    }
    let mut loss = target.rsub(1.0).mul(input) - log_sig;
    if let Some(w) = weight {
        loss = loss * w;
    }
    reduction.apply(loss)
}

/// How [`kl_div`] reduces: PyTorch's four choices, `batchmean` being the mathematically correct one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KlReduction {
    /// Every element (`'none'`).
    None,
    /// Mean over all elements (`'mean'`, PyTorch's default, with a warning).
    #[default]
    Mean,
    /// Sum (`'sum'`).
    Sum,
    /// Sum divided by the batch size (`'batchmean'`).
    BatchMean,
}

/// Kullback–Leibler divergence with the input given as log-probabilities (`F.kl_div(input,
/// target, reduction, log_target)`).
#[track_caller]
pub fn kl_div(input: &Tensor, target: &Tensor, reduction: KlReduction, log_target: bool) -> Tensor {
    let pointwise = if log_target {
        target.exp() * (target - input)
    } else {
        // xlogy(t, t) - t * input, with 0·log 0 = 0
        let zero = target.eq(0.0);
        let safe = target.masked_fill(&zero, 1.0);
        let xlogy = (target * safe.log()).masked_fill(&zero, 0.0);
        xlogy - target * input
    };
    match reduction {
        KlReduction::None => pointwise,
        KlReduction::Sum => pointwise.sum(),
        KlReduction::Mean => {
            crate::warn_once(
                "kl_div_mean",
                "UserWarning: reduction: 'mean' divides the total loss by both the batch size and the support size.'batchmean' divides only by the batch size, and aligns with the KL div math definition.'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            );
            pointwise.mean()
        }
        KlReduction::BatchMean => {
            let batch = if input.ndim() == 0 {
                1
            } else {
                input.dims()[0]
            };
            pointwise.sum().div(batch as f64)
        }
    }
}
