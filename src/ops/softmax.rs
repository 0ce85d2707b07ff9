//! Numerically stable `softmax` and `log_softmax` along one dim, and their named backward ops
//! (`_softmax_backward_data`, `_log_softmax_backward_data`), which are differentiable again.

use crate::autograd::{SavedTensor, backward_fn, no_grad, record};
use crate::shape::wrap_dim;
use crate::tensor::Tensor;

/// Applies the row kernel along `dim` (moved last for the computation, then moved back). With
/// `safe` (softmax only), rows that are all `-inf` give zeros (ATen's `_safe_softmax`).
#[track_caller]
fn softmax_raw(t: &Tensor, dim: usize, log: bool, safe: bool) -> Tensor {
    let last = t.ndim().saturating_sub(1);
    if !t.dtype().is_float() {
        let kernel = match (log, dim == last) {
            (false, true) => "softmax_lastdim_kernel_impl",
            (true, true) => "log_softmax_lastdim_kernel_impl",
            (false, false) => "softmax_kernel_impl",
            (true, false) => "log_softmax_kernel_impl",
        };
        panic!(
            "\"{kernel}\" not implemented for '{}'",
            t.dtype().scalar_name()
        );
    }
    let moved = if dim == last {
        t.clone()
    } else {
        t.transpose(dim as i64, last as i64)
    };
    let storage = moved.storage().softmax_last(moved.layout(), log, safe);
    let out = Tensor::from_storage(storage, moved.shape().clone());
    if dim == last {
        out
    } else {
        out.transpose(dim as i64, last as i64).clone_tensor_raw()
    }
}

/// ATen's `_safe_softmax` without autograd: softmax along `dim` (already wrapped), 0 instead
/// of NaN on rows whose every value is `-inf`, in one pass of the row kernel.
#[track_caller]
pub(crate) fn safe_softmax_raw(t: &Tensor, dim: usize) -> Tensor {
    softmax_raw(t, dim, false, true)
}

/// `_softmax_backward_data` without autograd, by the backend's row kernel along `dim` (moved
/// last, then back): `(grad - Σ grad·y) · y`.
#[track_caller]
fn softmax_backward_raw(grad: &Tensor, output: &Tensor, dim: usize) -> Tensor {
    let last = output.ndim().saturating_sub(1);
    let grad = grad.cast_raw(output.dtype());
    let (g, y) = if dim == last {
        (grad, output.clone())
    } else {
        let (d, l) = (dim as i64, last as i64);
        (grad.transpose(d, l), output.transpose(d, l))
    };
    let storage = {
        let pair = crate::storage::ReadPair::new(g.cell(), y.cell());
        let (gs, ys) = pair.get();
        gs.softmax_backward_last(g.layout(), (ys, y.layout()))
    };
    let out = Tensor::from_storage(storage, y.shape().clone());
    if dim == last {
        out
    } else {
        out.transpose(dim as i64, last as i64).clone_tensor_raw()
    }
}

backward_fn! {
    struct SoftmaxBackward0 { result: SavedTensor, dim: i64 }
    saved [result]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(Tensor::softmax_backward_data(grad, &self.result.get(), self.dim))]
    }
}

backward_fn! {
    struct LogSoftmaxBackward0 { result: SavedTensor, dim: i64 }
    saved [result]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(Tensor::log_softmax_backward_data(grad, &self.result.get(), self.dim))]
    }
}

backward_fn! {
    /// derivatives.yaml: `grad_output: _softmax_backward_data(grad, output, dim)`,
    /// `output: softmax_double_backward(grad, grad_output, dim, output)`.
    struct SoftmaxBackwardDataBackward0 { grad_output: SavedTensor, output: SavedTensor, dim: i64 }
    saved [grad_output, output]
    fn backward(&mut self, grad, needs) {
        let (go, y, d) = (self.grad_output.get(), self.output.get(), self.dim);
        let ggo = needs[0].then(|| Tensor::softmax_backward_data(grad, &y, d));
        let gy = needs[1].then(|| {
            go.mul(grad)
                .sub(y.mul(&go).sum_dim(d, true).mul(grad))
                .sub(go.mul(y.mul(grad).sum_dim(d, true)))
        });
        smallvec::smallvec![ggo, gy]
    }
}

backward_fn! {
    /// derivatives.yaml: `grad_output: grad - (grad * output.exp()).sum(dim, true)`,
    /// `output: -grad_output.sum(dim, true) * output.exp() * grad`.
    struct LogSoftmaxBackwardDataBackward0 { grad_output: SavedTensor, output: SavedTensor, dim: i64 }
    saved [grad_output, output]
    fn backward(&mut self, grad, needs) {
        let (go, y, d) = (self.grad_output.get(), self.output.get(), self.dim);
        let ggo = needs[0].then(|| grad.sub(grad.mul(y.exp()).sum_dim(d, true)));
        let gy = needs[1].then(|| go.sum_dim(d, true).neg().mul(y.exp()).mul(grad));
        smallvec::smallvec![ggo, gy]
    }
}

impl Tensor {
    /// `exp(x) / sum(exp(x))` along `dim`, shifted by the maximum for stability (`F.softmax`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let p = tensor!([[1.0, 2.0, 3.0]]).softmax(-1);
    /// assert!((p.sum().item::<f32>() - 1.0).abs() < 1e-6);
    /// ```
    #[track_caller]
    pub fn softmax(&self, dim: i64) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let out = softmax_raw(self, d, false, false);
        record(out, &[self], |o| SoftmaxBackward0 {
            result: SavedTensor::output(o),
            dim: d as i64,
        })
    }

    /// `x - logsumexp(x)` along `dim` (`F.log_softmax`).
    #[track_caller]
    pub fn log_softmax(&self, dim: i64) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let out = softmax_raw(self, d, true, false);
        record(out, &[self], |o| LogSoftmaxBackward0 {
            result: SavedTensor::output(o),
            dim: d as i64,
        })
    }

    /// `_softmax_backward_data(grad, output, dim)`: `y * (grad - sum(grad * y, dim))`, the
    /// gradient of softmax given its output.
    #[track_caller]
    pub fn softmax_backward_data(grad: &Tensor, output: &Tensor, dim: i64) -> Tensor {
        let d = wrap_dim(dim, output.ndim());
        let out = if output.dtype().is_float() && grad.dims() == output.dims() && output.numel() > 0
        {
            softmax_backward_raw(grad, output, d)
        } else {
            no_grad(|| output.mul(grad.sub(grad.mul(output).sum_dim(dim, true))))
        };
        record(out, &[grad, output], |_| SoftmaxBackwardDataBackward0 {
            grad_output: SavedTensor::input(grad),
            output: SavedTensor::input(output),
            dim,
        })
    }

    /// `_log_softmax_backward_data(grad, output, dim)`: `grad - exp(y) * sum(grad, dim)`, the
    /// gradient of log-softmax given its output.
    #[track_caller]
    pub fn log_softmax_backward_data(grad: &Tensor, output: &Tensor, dim: i64) -> Tensor {
        let out = no_grad(|| grad.sub(output.exp().mul(grad.sum_dim(dim, true))));
        record(out, &[grad, output], |_| LogSoftmaxBackwardDataBackward0 {
            grad_output: SavedTensor::input(grad),
            output: SavedTensor::input(output),
            dim,
        })
    }
}
