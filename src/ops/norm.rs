//! `native_layer_norm` and its backward (ATen's `layer_norm` → `native_layer_norm`,
//! derivatives.yaml's `native_layer_norm_backward`), one kernel pass each way instead of the
//! composed formula's dozen passes. A backward run with `create_graph` computes the same
//! gradients from differentiable operations (recomputing the statistics from the input, the role
//! of ATen's `layer_norm_double_backward`), so every order of derivative exists.

use crate::autograd::{SavedTensor, backward_fn, is_grad_enabled, record};
use crate::backend::LayerNormBackwardArgs;
use crate::shape::Shape;
use crate::tensor::Tensor;

backward_fn! {
    /// derivatives.yaml: `input, weight, bias: native_layer_norm_backward(grad, input,
    /// normalized_shape, result1, result2, weight, bias, grad_input_mask)`. `k` is the number of
    /// normalised (trailing) dims; the inputs are (input, weight?, bias?) in that order.
    struct NativeLayerNormBackward0 {
        input: SavedTensor,
        weight: Option<SavedTensor>,
        mean: Tensor,
        rstd: Tensor,
        k: usize,
        eps: f64,
        has_bias: bool
    }
    saved [input, weight]
    fn backward(&mut self, grad, needs) {
        let x = self.input.get();
        let w = self.weight.as_ref().map(|w| w.get());
        // needs[] follows the recorded inputs: the input, then the weight and bias if present.
        let mut it = needs.iter().copied();
        let need_x = it.next().unwrap_or(false);
        let need_w = w.is_some() && it.next().unwrap_or(false);
        let need_b = self.has_bias && it.next().unwrap_or(false);
        let [gx, gw, gb] = if is_grad_enabled() {
            composed_grads(grad, &x, w.as_ref(), self.k, self.eps, [need_x, need_w, need_b])
        } else {
            kernel_grads(grad, &x, w.as_ref(), &self.mean, &self.rstd, self.k, [need_x, need_w, need_b])
        };
        let mut out = smallvec::smallvec![gx];
        if w.is_some() {
            out.push(gw);
        }
        if self.has_bias {
            out.push(gb);
        }
        out
    }
}

/// The normalised shape's element count (the trailing `k` dims of `x`).
fn row_len(x: &Tensor, k: usize) -> usize {
    x.dims()[x.ndim() - k..].iter().product()
}

/// The gradients from the backend's kernel (no autograd recorded).
fn kernel_grads(
    grad: &Tensor,
    x: &Tensor,
    w: Option<&Tensor>,
    mean: &Tensor,
    rstd: &Tensor,
    k: usize,
    needs: [bool; 3],
) -> [Option<Tensor>; 3] {
    let n = row_len(x, k);
    let grad = grad.cast_raw(x.dtype());
    let mut cells = vec![x.cell(), mean.cell(), rstd.cell()];
    if let Some(w) = w {
        cells.push(w.cell());
    }
    let grads = {
        let mut locked = crate::storage::lock(&[], &[&[grad.cell()], cells.as_slice()].concat());
        let r = locked.reads();
        r[0].layer_norm_backward(
            grad.layout(),
            LayerNormBackwardArgs {
                input: (r[1], x.layout()),
                mean: (r[2], mean.layout()),
                rstd: (r[3], rstd.layout()),
                weight: w.map(|w| (r[4], w.layout())),
                n,
                needs,
            },
        )
    };
    let [gx, gw, gb] = grads;
    let param_shape = || Shape::new(&x.dims()[x.ndim() - k..]);
    [
        gx.map(|s| Tensor::from_storage(s, x.shape().clone())),
        gw.map(|s| Tensor::from_storage(s, param_shape())),
        gb.map(|s| Tensor::from_storage(s, param_shape())),
    ]
}

/// The gradients from differentiable operations (recorded in grad mode, for `create_graph`):
/// with `x̂ = (x - mean)·rstd` and `g = grad·weight`, `dx = rstd·(g - mean(g) - x̂·mean(g·x̂))`,
/// `dweight = Σ grad·x̂`, `dbias = Σ grad` over the leading dims.
fn composed_grads(
    grad: &Tensor,
    x: &Tensor,
    w: Option<&Tensor>,
    k: usize,
    eps: f64,
    needs: [bool; 3],
) -> [Option<Tensor>; 3] {
    let nd = x.ndim();
    let dims: Vec<i64> = ((nd - k) as i64..nd as i64).collect();
    let param_shape: Vec<usize> = x.dims()[nd - k..].to_vec();
    let mean = x.mean_dim(dims.clone(), true);
    let rstd = (x.var_correction(dims.clone(), 0.0, true) + eps).rsqrt();
    let xhat = (x - &mean) * &rstd;
    let gx = needs[0].then(|| {
        let g = match w {
            Some(w) => grad * w,
            None => grad.clone(),
        };
        let mg = g.mean_dim(dims.clone(), true);
        let mgx = (&g * &xhat).mean_dim(dims.clone(), true);
        rstd * (g - mg - &xhat * mgx)
    });
    let gw = needs[1].then(|| (grad * &xhat).sum_to_size(&param_shape));
    let gb = needs[2].then(|| grad.sum_to_size(&param_shape));
    [gx, gw, gb]
}

/// `native_layer_norm(x, normalized_shape, weight, bias, eps)[0]` over the trailing `k` dims of
/// a float tensor with at least one element (shapes and dtypes checked by the caller), recorded
/// as `NativeLayerNormBackward0`.
#[track_caller]
pub(crate) fn native_layer_norm(
    x: &Tensor,
    k: usize,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Tensor {
    let n = row_len(x, k);
    let mut cells = vec![x.cell()];
    cells.extend(weight.map(|w| w.cell()));
    cells.extend(bias.map(|b| b.cell()));
    let (y, mean, rstd) = {
        let mut locked = crate::storage::lock(&[], &cells);
        let r = locked.reads();
        let w = weight.map(|w| (r[1], w.layout()));
        let b = bias.map(|b| (r[cells.len() - 1], b.layout()));
        r[0].layer_norm(x.layout(), w, b, n, eps)
    };
    let rows = Shape::new(&[x.numel() / n]);
    let out = Tensor::from_storage(y, x.shape().clone());
    let (mean, rstd) = (
        Tensor::from_storage(mean, rows.clone()),
        Tensor::from_storage(rstd, rows),
    );
    let mut inputs = vec![x];
    inputs.extend(weight);
    inputs.extend(bias);
    record(out, &inputs, |_| NativeLayerNormBackward0 {
        input: SavedTensor::input(x),
        weight: weight.map(SavedTensor::input),
        mean,
        rstd,
        k,
        eps,
        has_bias: bias.is_some(),
    })
}
