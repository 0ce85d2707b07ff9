//! Shape and resampling: `F.pad`, `F.interpolate`, `F.pixel_shuffle`, `F.pixel_unshuffle`,
//! `F.normalize`, `F.one_hot`, `F.dropout1d/2d`, `F.embedding` (with `padding_idx`) and
//! `F.embedding_bag`.

mod embedding;
mod interpolate;
mod pad;

pub use embedding::*;
pub use interpolate::*;
pub use pad::*;

use crate::DType;
use crate::autograd::no_grad;
use crate::tensor::Tensor;

/// Rearranges `(*, C·r², H, W)` into `(*, C, H·r, W·r)` (`F.pixel_shuffle(input,
/// upscale_factor)`): channel `c·r² + i·r + j` becomes the sub-pixel `(i, j)` of channel `c`.
///
/// ```
/// use flambeau::{nn::functional as F, Tensor};
/// let x = Tensor::arange(0.0, 8.0, 1.0).reshape([1, 4, 1, 2]);
/// let y = F::pixel_shuffle(&x, 2);
/// assert_eq!(y.dims(), &[1, 1, 2, 4]);
/// assert_eq!(y.to_vec::<f32>(), vec![0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0]);
/// ```
#[track_caller]
pub fn pixel_shuffle(input: &Tensor, upscale_factor: i64) -> Tensor {
    let nd = input.ndim();
    if nd < 3 {
        panic!(
            "pixel_shuffle expects input to have at least 3 dimensions, but got input with {nd} dimension(s)"
        );
    }
    if upscale_factor <= 0 {
        panic!("pixel_shuffle expects a positive upscale_factor, but got {upscale_factor}");
    }
    let r = upscale_factor as usize;
    let d = input.dims();
    let (c, h, w) = (d[nd - 3], d[nd - 2], d[nd - 1]);
    if !c.is_multiple_of(r * r) {
        panic!(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, but input.size(-3)={c} is not divisible by {}",
            r * r
        );
    }
    // ATen's math_pixel_shuffle: view (*, C, r, r, H, W), permute to (*, C, H, r, W, r), reshape.
    let batch = &d[..nd - 3];
    let mut v: Vec<usize> = batch.to_vec();
    v.extend([c / (r * r), r, r, h, w]);
    let b = batch.len();
    let mut perm: Vec<usize> = (0..b).collect();
    perm.extend([b, b + 3, b + 1, b + 4, b + 2]);
    let mut out: Vec<usize> = batch.to_vec();
    out.extend([c / (r * r), h * r, w * r]);
    input.reshape(v).permute(perm).reshape(out)
}

/// The inverse of [`pixel_shuffle`]: `(*, C, H·r, W·r)` into `(*, C·r², H, W)`
/// (`F.pixel_unshuffle(input, downscale_factor)`).
///
/// ```
/// use flambeau::{nn::functional as F, Tensor};
/// let x = Tensor::randn([2, 3, 4, 6]);
/// let y = F::pixel_unshuffle(&x, 2);
/// assert_eq!(y.dims(), &[2, 12, 2, 3]);
/// assert!(F::pixel_shuffle(&y, 2).equal(&x));
/// ```
#[track_caller]
pub fn pixel_unshuffle(input: &Tensor, downscale_factor: i64) -> Tensor {
    let nd = input.ndim();
    if nd < 3 {
        panic!(
            "pixel_unshuffle expects input to have at least 3 dimensions, but got input with {nd} dimension(s)"
        );
    }
    if downscale_factor <= 0 {
        panic!("pixel_unshuffle expects a positive downscale_factor, but got {downscale_factor}");
    }
    let r = downscale_factor as usize;
    let d = input.dims();
    let (c, h, w) = (d[nd - 3], d[nd - 2], d[nd - 1]);
    if !h.is_multiple_of(r) {
        panic!(
            "pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)={h} is not divisible by {r}"
        );
    }
    if !w.is_multiple_of(r) {
        panic!(
            "pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)={w} is not divisible by {r}"
        );
    }
    // view (*, C, H/r, r, W/r, r), permute to (*, C, r, r, H/r, W/r), reshape.
    let batch = &d[..nd - 3];
    let mut v: Vec<usize> = batch.to_vec();
    v.extend([c, h / r, r, w / r, r]);
    let b = batch.len();
    let mut perm: Vec<usize> = (0..b).collect();
    perm.extend([b, b + 2, b + 4, b + 1, b + 3]);
    let mut out: Vec<usize> = batch.to_vec();
    out.extend([c * r * r, h / r, w / r]);
    input.reshape(v).permute(perm).reshape(out)
}

/// Divides by the `p`-norm over `dim`, clamped below by `eps` (`F.normalize(input, p=2.0, dim=1,
/// eps=1e-12)`): `input / norm(input, p, dim, keepdim=True).clamp_min(eps)`.
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// let y = F::normalize(&tensor!([[3.0, 4.0], [0.0, 0.0]]), 2.0, 1, 1e-12);
/// assert_eq!(y.to_vec::<f32>(), vec![0.6, 0.8, 0.0, 0.0]);
/// ```
#[track_caller]
pub fn normalize(input: &Tensor, p: f64, dim: i64, eps: f64) -> Tensor {
    let denom = input.norm(p, dim, true).clamp_min(eps).expand_as(input);
    input / denom
}

/// One-hot encodes int64 class indices (`F.one_hot(tensor, num_classes=-1)`): the output is int64
/// with one more dim of size `num_classes`; `-1` takes the largest index plus one.
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// let y = F::one_hot(&tensor!([0, 2]), -1);
/// assert_eq!(y.to_vec2::<i64>(), vec![vec![1, 0, 0], vec![0, 0, 1]]);
/// ```
#[track_caller]
pub fn one_hot(tensor: &Tensor, num_classes: i64) -> Tensor {
    if tensor.dtype() != DType::I64 {
        panic!("one_hot is only applicable to index tensor of type LongTensor.");
    }
    let values = tensor.to_vec::<i64>();
    if values.is_empty() && num_classes == -1 {
        panic!("Can not infer total number of classes from empty tensor.");
    }
    if values.iter().any(|&v| v < 0) {
        panic!("Class values must be non-negative.");
    }
    let classes = if num_classes == -1 {
        values.iter().copied().max().unwrap_or(0) + 1
    } else {
        if let Some(&m) = values.iter().max()
            && m >= num_classes
        {
            panic!("Class values must be smaller than num_classes.");
        }
        num_classes
    };
    if classes < 0 {
        panic!("num_classes should be -1 or a non-negative number, but got {classes}");
    }
    let c = classes as usize;
    let mut out = vec![0i64; values.len() * c];
    for (i, &v) in values.iter().enumerate() {
        out[i * c + v as usize] = 1;
    }
    let mut shape = tensor.dims().to_vec();
    shape.push(c);
    Tensor::from_vec(out, shape)
}

/// ATen's `_dropout_impl<feature_dropout=true>`: one Bernoulli draw per `(N, C)` channel,
/// `noise = empty((N, C, 1, ...)).bernoulli_(1 - p).div_(1 - p)`, then `input * noise`.
#[track_caller]
fn feature_dropout(input: &Tensor, p: f64, training: bool) -> Tensor {
    if p == 0.0 || !training || input.numel() == 0 {
        return input.clone();
    }
    if p == 1.0 {
        return input.mul(&Tensor::zeros_dtype([] as [usize; 0], input.dtype()));
    }
    if input.ndim() < 2 {
        panic!("Feature dropout requires at least 2 dimensions in the input");
    }
    let mut shape = vec![1usize; input.ndim()];
    shape[0] = input.dims()[0];
    shape[1] = input.dims()[1];
    let noise = no_grad(|| {
        let noise = Tensor::zeros_dtype(shape, input.dtype());
        noise.bernoulli_scalar_(1.0 - p);
        noise.div_(1.0 - p)
    });
    input.mul(&noise)
}

#[track_caller]
fn check_p(p: f64) {
    if !(0.0..=1.0).contains(&p) {
        panic!("dropout probability has to be between 0 and 1, but got {p}");
    }
}

/// Zeroes whole channels of an `(N, C, L)` or `(C, L)` input with probability `p` in training,
/// scaling the rest by `1/(1-p)` (`F.dropout1d(input, p, training)`). The channel mask is
/// PyTorch's for the same seed.
///
/// ```
/// use flambeau::{manual_seed, nn::functional as F, Tensor};
/// manual_seed(0);
/// let y = F::dropout1d(&Tensor::ones([1, 4, 2]), 0.5, true);
/// assert_eq!(y.to_vec::<f32>(), vec![0.0, 0.0, 0.0, 0.0, 2.0, 2.0, 0.0, 0.0]);
/// ```
#[track_caller]
pub fn dropout1d(input: &Tensor, p: f64, training: bool) -> Tensor {
    check_p(p);
    let nd = input.ndim();
    if nd != 2 && nd != 3 {
        panic!(
            "dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs)."
        );
    }
    if nd == 2 {
        return feature_dropout(&input.unsqueeze(0), p, training).squeeze_dim(0);
    }
    feature_dropout(input, p, training)
}

/// Zeroes whole channels of an `(N, C, H, W)` input with probability `p` in training, scaling the
/// rest by `1/(1-p)` (`F.dropout2d(input, p, training)`). As in PyTorch, a 3-D input is taken as
/// `(N, C, L)` (with PyTorch's warning), other ranks are deprecated (warned) and still dropped per
/// `(dim 0, dim 1)` channel.
///
/// ```
/// use flambeau::{manual_seed, nn::functional as F, Tensor};
/// manual_seed(0);
/// let y = F::dropout2d(&Tensor::ones([1, 3, 1, 1]), 0.5, true);
/// assert_eq!(y.to_vec::<f32>(), vec![0.0, 0.0, 2.0]);
/// ```
#[track_caller]
pub fn dropout2d(input: &Tensor, p: f64, training: bool) -> Tensor {
    check_p(p);
    let nd = input.ndim();
    if nd != 3 && nd != 4 {
        crate::warn_once(
            "dropout2d_rank",
            &format!(
                "UserWarning: dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will result in an error in a future release. To retain the behavior and silence this warning, please use dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs)."
            ),
        );
    }
    if nd == 3 {
        crate::warn_once(
            "dropout2d_3d",
            "UserWarning: dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will change in a future release to interpret the input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
        );
    }
    feature_dropout(input, p, training)
}
