//! `torch.nn.utils`: gradient clipping, and in [`rnn`] padding of sequences.

pub mod rnn;

use crate::Tensor as T;
use crate::autograd::no_grad;
use crate::tensor::Tensor;

/// Scales all gradients together so that their total `norm_type` norm is at most `max_norm`
/// (`clip_grad_norm_(parameters, max_norm, norm_type=2.0)`); returns the total norm before
/// clipping, as a 0-dim tensor. Parameters without a gradient are skipped.
///
/// ```
/// use flambeau::{nn::utils::clip_grad_norm_, tensor};
/// let p = tensor!([3.0, 4.0]).requires_grad_(true);
/// p.set_grad(Some(tensor!([3.0, 4.0])));
/// let norm = clip_grad_norm_(&[p.clone()], 1.0, 2.0);
/// assert_eq!(norm.item::<f32>(), 5.0);
/// assert!((p.grad().unwrap().pow(2).sum().sqrt().item::<f32>() - 1.0).abs() < 1e-5);
/// ```
#[track_caller]
pub fn clip_grad_norm_<P: AsRef<T>>(parameters: &[P], max_norm: f64, norm_type: f64) -> Tensor {
    let grads: Vec<Tensor> = parameters
        .iter()
        .filter_map(|p| p.as_ref().grad())
        .collect();
    if grads.is_empty() {
        return Tensor::scalar(0.0f32);
    }
    no_grad(|| {
        let norms: Vec<Tensor> = grads
            .iter()
            .map(|g| {
                if norm_type.is_infinite() {
                    g.abs().max()
                } else {
                    g.abs().pow(norm_type).sum().pow(1.0 / norm_type)
                }
            })
            .collect();
        let stacked = Tensor::stack(&norms.iter().collect::<Vec<_>>(), 0);
        let total = if norm_type.is_infinite() {
            stacked.max()
        } else {
            stacked.pow(norm_type).sum().pow(1.0 / norm_type)
        };
        // PyTorch: clip_coef = max_norm / (total_norm + 1e-6), clamped to 1, multiplied always.
        let coef = total.add(1e-6).rdiv(max_norm).clamp_max(1.0);
        for g in &grads {
            g.mul_(&coef.to_dtype(g.dtype()));
        }
        total
    })
}

/// Clamps every gradient elementwise to `[-clip_value, clip_value]`
/// (`clip_grad_value_(parameters, clip_value)`).
#[track_caller]
pub fn clip_grad_value_<P: AsRef<T>>(parameters: &[P], clip_value: f64) {
    no_grad(|| {
        for p in parameters {
            if let Some(g) = p.as_ref().grad() {
                g.clamp_(Some(-clip_value), Some(clip_value));
            }
        }
    });
}
