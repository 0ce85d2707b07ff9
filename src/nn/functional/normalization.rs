//! Normalization: `F.batch_norm`, `F.instance_norm`, `F.group_norm`, `F.layer_norm`,
//! `F.rms_norm`.
//!
//! Each is composed of differentiable tensor operations (mean, biased variance, `rsqrt`,
//! products), so its gradient is the autograd of that composition and a double backward
//! (`create_graph`) works through it. The running statistics of batch and instance norm are
//! updated in place without autograd, as ATen's kernels do.

use crate::DType;
use crate::autograd::no_grad;
use crate::tensor::Tensor;

/// PyTorch's "<kernel> not implemented for 'Long'" for a non-float input.
#[track_caller]
fn check_float(input: &Tensor, kernel: &str) {
    if !input.dtype().is_float() {
        panic!(
            "\"{kernel}\" not implemented for '{}'",
            input.dtype().scalar_name()
        );
    }
}

/// ATen's mixed-dtype check (`check_mixed_data_type`): on the CPU the parameters have the
/// input's dtype (a float32 input is the "mixed" case, whose parameters must be float32 too).
#[track_caller]
fn check_same_dtype(input: &Tensor, others: &[Option<&Tensor>]) {
    if others.iter().flatten().any(|t| t.dtype() != input.dtype()) {
        if input.dtype() == DType::F32 {
            panic!("mixed dtype (CPU): expect parameter to have scalar type of Float");
        }
        panic!("mixed dtype (CPU): all inputs must share same datatype.");
    }
}

/// `t` (one value per channel) shaped `[1, C, 1, ...]` to broadcast against an `ndim`-dim input.
fn per_channel(t: &Tensor, ndim: usize) -> Tensor {
    let mut shape = vec![1i64; ndim];
    shape[1] = -1;
    t.reshape(shape)
}

/// `x · w + b` with the optional per-channel (or elementwise) affine parameters, already shaped.
fn affine(x: Tensor, weight: Option<Tensor>, bias: Option<Tensor>) -> Tensor {
    let x = match weight {
        Some(w) => x * w,
        None => x,
    };
    match bias {
        Some(b) => x + b,
        None => x,
    }
}

/// Python's `_verify_batch_size`: training needs more than one value per channel. `shown` is the
/// size as PyTorch prints it (`torch.Size([1, 4])` for batch norm, a list for group norm).
#[track_caller]
fn verify_batch_size(dims: &[usize], shown: &str) {
    let values = dims[0] * dims[2..].iter().product::<usize>();
    if values == 1 {
        panic!("Expected more than 1 value per channel when training, got input size {shown}");
    }
}

/// Batch normalization (`F.batch_norm(input, running_mean, running_var, weight, bias,
/// training, momentum, eps)`; PyTorch's defaults are `training=false`, `momentum=0.1`,
/// `eps=1e-5`).
///
/// The statistics are over every dim but dim 1 (the channels). In training, or when there are
/// no running statistics, the batch mean and biased variance normalise the input, and given
/// running statistics are updated in place, without autograd, with the unbiased variance:
/// `running = momentum * batch + (1 - momentum) * running` (ATen's
/// `batch_norm_cpu_update_stats_template`). Otherwise the running statistics are used.
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// let x = tensor!([[1.0, 10.0], [3.0, 20.0]]);
/// let (rm, rv) = (tensor!([0.0, 0.0]), tensor!([1.0, 1.0]));
/// let y = F::batch_norm(&x, Some(&rm), Some(&rv), None, None, true, 0.1, 1e-5);
/// assert!((y.to_vec::<f32>()[0] + 1.0).abs() < 1e-4);
/// assert_eq!(rm.to_vec::<f32>(), vec![0.2, 1.5]); // 0.1 * [2, 15]
/// assert!((rv.to_vec::<f32>()[1] - 5.9).abs() < 1e-5); // 0.9 + 0.1 * 50
/// ```
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn batch_norm(
    input: &Tensor,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Tensor {
    if training && input.ndim() >= 2 {
        verify_batch_size(input.dims(), &format!("{:?}", input.shape()));
    }
    if training && eps <= 0.0 {
        panic!(
            "batch_norm eps must be positive during training, but got {}",
            crate::pyfmt::float(eps)
        );
    } else if eps < 0.0 {
        panic!(
            "batch_norm eps must be non-negative, but got {}",
            crate::pyfmt::float(eps)
        );
    }
    batch_norm_impl(
        input,
        running_mean,
        running_var,
        weight,
        bias,
        training,
        momentum,
        eps,
    )
}

/// ATen's `batch_norm` below Python's checks (`F.instance_norm` calls it directly).
#[allow(clippy::too_many_arguments)]
#[track_caller]
fn batch_norm_impl(
    input: &Tensor,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Tensor {
    let ndim = input.ndim();
    // `input.sym_size(1)`, with its dim-range message for a 0-d or 1-d input.
    let channels = input.dims()[crate::shape::wrap_dim(1, ndim)];
    if input.numel() == 0 {
        // ATen's `_batch_norm_impl_index`: an empty input is returned as a copy (not a view,
        // which would break the gradient chain) times `weight[0]` plus `bias[0]`, before any
        // check, and the running statistics are left alone.
        let first = |t: Option<&Tensor>| t.filter(|t| t.numel() > 0).map(|t| t.select(0, 0));
        return affine(input.clone_tensor(), first(weight), first(bias));
    }
    // `_batch_norm_impl_index`'s checks, in its order.
    for (name, t) in [
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ] {
        if let Some(t) = t
            && t.numel() != channels
        {
            panic!(
                "{name} should contain {channels} elements not {}",
                t.numel()
            );
        }
    }
    if training && running_mean.is_some() != running_var.is_some() {
        panic!("running_mean and running_var must either both be None or neither be None");
    }
    check_float(input, "batch_norm");
    check_same_dtype(input, &[running_mean, running_var, weight, bias]);
    let reduce: Vec<i64> = (0..ndim as i64).filter(|&d| d != 1).collect();
    let (mean, invstd) = if training {
        let mean = input.mean_dim(reduce.clone(), true);
        let var = input.var_correction(reduce.clone(), 0.0, true);
        if let (Some(rm), Some(rv)) = (running_mean, running_var) {
            no_grad(|| {
                let n = input.numel() / channels.max(1);
                let batch_mean = mean.detach().reshape([-1]);
                // The unbiased variance: var_sum / (n - 1).
                let unbiased = var.detach().reshape([-1]) * (n as f64 / (n as f64 - 1.0));
                rm.copy_(&(batch_mean * momentum + rm * (1.0 - momentum)));
                rv.copy_(&(unbiased * momentum + rv * (1.0 - momentum)));
            });
        }
        (mean, (var + eps).rsqrt())
    } else {
        // `let ... else` rather than a closure, so that the panic is reported at the caller.
        let Some(rm) = running_mean else {
            panic!("running_mean must be defined in evaluation mode");
        };
        let Some(rv) = running_var else {
            panic!("running_var must be defined in evaluation mode");
        };
        // The running statistics are not differentiated (ATen's `native_batch_norm`).
        (
            per_channel(&rm.detach(), ndim),
            (per_channel(&rv.detach(), ndim) + eps).rsqrt(),
        )
    };
    affine(
        (input - &mean) * invstd,
        weight.map(|w| per_channel(w, ndim)),
        bias.map(|b| per_channel(b, ndim)),
    )
}

/// Instance normalization (`F.instance_norm(input, running_mean, running_var, weight, bias,
/// use_input_stats, momentum, eps)`; PyTorch's defaults are `use_input_stats=true`,
/// `momentum=0.1`, `eps=1e-5`): each sample's channels are normalised over their own spatial
/// dims.
///
/// As ATen's `instance_norm`, this is batch norm of the input viewed as `[1, N*C, ...]` with the
/// running statistics and affine parameters repeated `N` times; the running statistics are then
/// the mean over the batch of the updated copies.
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// let x = tensor!([[[1.0, 3.0], [0.0, 10.0]]]);
/// let y = F::instance_norm(&x, None, None, None, None, true, 0.1, 1e-5);
/// assert!((y.to_vec::<f32>()[3] - 1.0).abs() < 1e-4);
/// ```
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn instance_norm(
    input: &Tensor,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    use_input_stats: bool,
    momentum: f64,
    eps: f64,
) -> Tensor {
    if use_input_stats {
        // Python's `_verify_spatial_size`.
        if input.dims().iter().skip(2).product::<usize>() == 1 {
            panic!(
                "Expected more than 1 spatial element when training, got input size {:?}",
                input.shape()
            );
        }
    } else if running_mean.is_none() || running_var.is_none() {
        panic!("Expected running_mean and running_var to be defined when use_input_stats is false");
    }
    let dims = input.dims();
    let (b, c) = (dims[0], dims[1]);
    let repeat = |t: &Tensor| t.unsqueeze(0).expand([b as i64, -1]).reshape([-1]);
    let stats_copy = |t: Option<&Tensor>| t.map(|t| no_grad(|| repeat(t).contiguous()));
    let (rm, rv) = (stats_copy(running_mean), stats_copy(running_var));
    let (w, bi) = (weight.map(repeat), bias.map(repeat));
    let mut shape: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
    shape[1] = (b * c) as i64;
    shape[0] = 1;
    let out = batch_norm_impl(
        &input.contiguous().view(shape),
        rm.as_ref(),
        rv.as_ref(),
        w.as_ref(),
        bi.as_ref(),
        use_input_stats,
        momentum,
        eps,
    );
    no_grad(|| {
        for (stat, copies) in [(running_mean, &rm), (running_var, &rv)] {
            if let (Some(stat), Some(copies)) = (stat, copies) {
                stat.copy_(&copies.view([b as i64, c as i64]).mean_dim([0], false));
            }
        }
    });
    out.view(input.dims())
}

/// Group normalization (`F.group_norm(input, num_groups, weight, bias, eps)`, PyTorch's `eps`
/// is 1e-5): the channels of each sample are split into `num_groups` groups, each normalised
/// over its channels and spatial dims; `weight` and `bias` are per channel.
///
/// ```
/// use flambeau::{nn::functional as F, Tensor};
/// let x = Tensor::arange(0.0, 8.0, 1.0).reshape([1, 4, 2]);
/// let y = F::group_norm(&x, 2, None, None, 1e-5);
/// assert!(y.narrow(1, 0, 2).sum().item::<f32>().abs() < 1e-5);
/// ```
#[track_caller]
pub fn group_norm(
    input: &Tensor,
    num_groups: usize,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Tensor {
    let ndim = input.ndim();
    if ndim < 2 {
        panic!("Expected at least 2 dimensions for input tensor but received {ndim}");
    }
    let dims = input.dims();
    let (n, c) = (dims[0], dims[1]);
    if num_groups == 0 {
        panic!("integer division or modulo by zero");
    }
    let mut verified = vec![n * c / num_groups, num_groups];
    verified.extend_from_slice(&dims[2..]);
    verify_batch_size(&verified, &format!("{verified:?}"));
    if !c.is_multiple_of(num_groups) {
        panic!(
            "Expected number of channels in input to be divisible by num_groups, but got input of shape {dims:?} and num_groups={num_groups}"
        );
    }
    for (name, t) in [("weight", weight), ("bias", bias)] {
        if let Some(t) = t
            && (t.ndim() != 1 || t.numel() != c)
        {
            panic!(
                "Expected {name} to be a vector of size equal to the number of channels in input, but got {name} of shape {:?} and input of shape {dims:?}",
                t.dims()
            );
        }
    }
    check_float(input, "group_norm");
    check_same_dtype(input, &[weight, bias]);
    let grouped = input.reshape([n as i64, num_groups as i64, -1]);
    let mean = grouped.mean_dim([2], true);
    let var = grouped.var_correction([2], 0.0, true);
    let normed = ((&grouped - &mean) * (var + eps).rsqrt()).reshape(dims);
    affine(
        normed,
        weight.map(|w| per_channel(w, ndim)),
        bias.map(|b| per_channel(b, ndim)),
    )
}

/// ATen's `_check_layer_norm_inputs` (shared by layer and RMS norm). `star` is how the expected
/// shape is printed: `[*, 6]` for layer norm, `[*6]` for RMS norm (PyTorch's own texts).
#[track_caller]
fn check_normalized_shape(
    input: &Tensor,
    normalized_shape: &[usize],
    params: &[(&str, Option<&Tensor>)],
    comma: bool,
) {
    if normalized_shape.is_empty() {
        panic!(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got normalized_shape = []"
        );
    }
    for (name, t) in params {
        if let Some(t) = t
            && t.dims() != normalized_shape
        {
            panic!(
                "Expected {name} to be of same shape as normalized_shape, but got {name} of shape {:?} and normalized_shape = {normalized_shape:?}",
                t.dims()
            );
        }
    }
    let (nd, k) = (input.ndim(), normalized_shape.len());
    if k > nd || input.dims()[nd - k..] != *normalized_shape {
        let dims: Vec<String> = normalized_shape.iter().map(|d| d.to_string()).collect();
        panic!(
            "Given normalized_shape={normalized_shape:?}, expected input with shape [*{}{}], but got input of size{:?}",
            if comma { ", " } else { "" },
            dims.join(", "),
            input.dims()
        );
    }
}

/// Normalises over the last `normalized_shape.len()` dims with the biased variance, then applies
/// the optional elementwise affine (`F.layer_norm(input, normalized_shape, weight, bias, eps)`;
/// PyTorch's `eps` is 1e-5).
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// let y = F::layer_norm(&tensor!([[1.0, 3.0]]), &[2], None, None, 1e-5);
/// assert!((y.to_vec::<f32>()[1] - 1.0).abs() < 1e-4);
/// ```
#[track_caller]
pub fn layer_norm(
    x: &Tensor,
    normalized_shape: &[usize],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Tensor {
    check_normalized_shape(
        x,
        normalized_shape,
        &[("weight", weight), ("bias", bias)],
        true,
    );
    check_float(x, "LayerNormKernelImpl");
    check_same_dtype(x, &[weight, bias]);
    if x.numel() > 0 {
        // One kernel pass each way (ATen's `native_layer_norm`), recorded as
        // `NativeLayerNormBackward0`.
        return crate::ops::norm::native_layer_norm(x, normalized_shape.len(), weight, bias, eps);
    }
    let nd = x.ndim();
    let dims: Vec<i64> = ((nd - normalized_shape.len()) as i64..nd as i64).collect();
    let mean = x.mean_dim(dims.clone(), true);
    let var = x.var_correction(dims, 0.0, true);
    let rstd = (var + eps).rsqrt();
    affine((x - &mean) * rstd, weight.cloned(), bias.cloned())
}

/// `torch.finfo(dtype).eps`, RMS norm's default `eps`.
fn finfo_eps(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => f32::EPSILON as f64,
        _ => f64::EPSILON,
    }
}

/// Root-mean-square normalization over the last `normalized_shape.len()` dims
/// (`F.rms_norm(input, normalized_shape, weight, eps)`): `x / sqrt(mean(x²) + eps) · weight`.
/// `eps: None` is `torch.finfo(input.dtype).eps`, as in PyTorch.
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// let y = F::rms_norm(&tensor!([[3.0, 4.0]]), &[2], None, None);
/// // sqrt((9 + 16) / 2) = 3.5355...
/// assert!((y.to_vec::<f32>()[0] - 3.0 / 12.5f32.sqrt()).abs() < 1e-6);
/// ```
#[track_caller]
pub fn rms_norm(
    input: &Tensor,
    normalized_shape: &[usize],
    weight: Option<&Tensor>,
    eps: Option<f64>,
) -> Tensor {
    check_normalized_shape(input, normalized_shape, &[("weight", weight)], false);
    check_float(input, "rms_norm");
    let eps = eps.unwrap_or_else(|| finfo_eps(input.dtype()));
    let nd = input.ndim();
    let dims: Vec<i64> = ((nd - normalized_shape.len()) as i64..nd as i64).collect();
    // ATen's composite `rms_norm_symint`: x * rsqrt(mean(x²) + eps), then the weight.
    let rrms = (input.pow(2).mean_dim(dims, true) + eps).rsqrt();
    affine(input * rrms, weight.cloned(), None)
}
