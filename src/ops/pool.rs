//! Pooling over windows: max (with indices) and average, plain and adaptive, forward and backward,
//! over the last two dims of a 3-D or 4-D tensor (1-D poolings are these on `unsqueeze(-2)`, as in
//! ATen). Arguments arrive checked (`nn/functional/pooling.rs` has PyTorch's checks and output
//! sizes); this file records autograd under PyTorch's node names. Each backward op is itself
//! differentiable as derivatives.yaml says: the max poolings' backward gathers the gradient
//! through the same indices (`max_pool_double_backward`), the average poolings' backward is the
//! average pooling again.

use crate::autograd::{SavedTensor, backward_fn, record};
use crate::backend::{AvgDivisor, PoolWindows};
use crate::shape::Shape;
use crate::storage::ReadPair;
use crate::tensor::Tensor;

/// The shape of a pooling's result: the input's leading dims, then `hw`.
fn out_shape(x: &Tensor, hw: [usize; 2]) -> Shape {
    let nd = x.ndim();
    let mut dims: Vec<usize> = x.dims()[..nd - 2].to_vec();
    dims.extend_from_slice(&hw);
    Shape::new(&dims)
}

/// The (height, width) of a tensor's last two dims.
fn hw(t: &Tensor) -> [usize; 2] {
    let nd = t.ndim();
    [t.dims()[nd - 2], t.dims()[nd - 1]]
}

/// FunctionsManual.cpp's `max_pool_double_backward(grad, indices, 2)`: the gradient gathered at
/// the indices of each plane, shaped like the indices (recorded: `gather` is differentiable).
#[track_caller]
fn max_pool_double_backward(grad: &Tensor, indices: &Tensor) -> Tensor {
    if indices.numel() == 0 {
        return Tensor::zeros_dtype(indices.shape(), grad.dtype());
    }
    let nd = indices.ndim();
    let mut size: Vec<i64> = indices.dims()[..nd - 2].iter().map(|&d| d as i64).collect();
    size.push(-1);
    let idx = indices.view(size.as_slice());
    let dims: Vec<i64> = indices.dims().iter().map(|&d| d as i64).collect();
    grad.contiguous()
        .view(size.as_slice())
        .gather(-1, &idx)
        .view(dims.as_slice())
}

backward_fn! {
    /// derivatives.yaml: `self: max_pool2d_with_indices_backward(grad, self, ..., result1)`.
    struct MaxPool2DWithIndicesBackward0 { input: SavedTensor, indices: SavedTensor }
    saved [input, indices]
    fn backward(&mut self, grad, needs) {
        let g = max_pool2d_with_indices_backward(grad, &self.input.get(), &self.indices.get());
        smallvec::smallvec![Some(g)]
    }
}

backward_fn! {
    /// derivatives.yaml: `grad_output: max_pool_double_backward(grad, indices, 2)`,
    /// `self: zeros_like(self)`.
    struct MaxPool2DWithIndicesBackwardBackward0 { input: SavedTensor, indices: SavedTensor }
    names [AdaptiveMaxPool2DBackwardBackward0]
    saved [input, indices]
    fn backward(&mut self, grad, needs) {
        let ggo = needs[0].then(|| max_pool_double_backward(grad, &self.indices.get()));
        let gself = needs[1].then(|| Tensor::zeros_like(&self.input.get()));
        smallvec::smallvec![ggo, gself]
    }
}

backward_fn! {
    /// derivatives.yaml: `self: adaptive_max_pool2d_backward(grad, self, result1)`.
    struct AdaptiveMaxPool2DBackward0 { input: SavedTensor, indices: SavedTensor }
    saved [input, indices]
    fn backward(&mut self, grad, needs) {
        let g = adaptive_max_pool2d_backward(grad, &self.input.get(), &self.indices.get());
        smallvec::smallvec![Some(g)]
    }
}

backward_fn! {
    /// derivatives.yaml: `self: avg_pool2d_backward(grad, self, kernel_size, ...)`.
    struct AvgPool2DBackward0 { input: SavedTensor, windows: PoolWindows, divisor: AvgDivisor }
    saved [input]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(avg_pool2d_backward(grad, &self.input.get(), &self.windows, self.divisor))]
    }
}

backward_fn! {
    /// derivatives.yaml: `grad_output: avg_pool2d(grad, kernel_size, ...)`, `self: zeros_like(self)`.
    struct AvgPool2DBackwardBackward0 { input: SavedTensor, windows: PoolWindows, divisor: AvgDivisor }
    saved [input]
    fn backward(&mut self, grad, needs) {
        let ggo = needs[0].then(|| avg_pool2d(grad, &self.windows, self.divisor));
        let gself = needs[1].then(|| Tensor::zeros_like(&self.input.get()));
        smallvec::smallvec![ggo, gself]
    }
}

backward_fn! {
    /// derivatives.yaml: `self: _adaptive_avg_pool2d_backward(grad, self)`.
    struct AdaptiveAvgPool2DBackward0 { input: SavedTensor }
    saved [input]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(adaptive_avg_pool2d_backward(grad, &self.input.get()))]
    }
}

backward_fn! {
    /// derivatives.yaml: `grad_output: _adaptive_avg_pool2d(grad, grad_output's (h, w))`,
    /// `self: zeros_like(self)`.
    struct AdaptiveAvgPool2DBackwardBackward0 { input: SavedTensor, output: [usize; 2] }
    saved [input]
    fn backward(&mut self, grad, needs) {
        let ggo = needs[0].then(|| adaptive_avg_pool2d(grad, self.output));
        let gself = needs[1].then(|| Tensor::zeros_like(&self.input.get()));
        smallvec::smallvec![ggo, gself]
    }
}

/// `max_pool2d_with_indices` on checked windows: the maxima and their positions flattened over
/// each plane (int64, not differentiable).
#[track_caller]
pub(crate) fn max_pool2d_with_indices(x: &Tensor, windows: &PoolWindows) -> (Tensor, Tensor) {
    let shape = out_shape(x, windows.output);
    let (v, i) = x.storage().max_pool2d(x.layout(), windows);
    let (out, idx) = (
        Tensor::from_storage(v, shape.clone()),
        Tensor::from_storage(i, shape),
    );
    let out = record(out, &[x], |_| MaxPool2DWithIndicesBackward0 {
        input: SavedTensor::input(x),
        indices: SavedTensor::input(&idx),
    });
    (out, idx)
}

/// The gradient `grad` (shaped like `indices`) added into zeros shaped like `x` at `indices`,
/// without autograd.
#[track_caller]
fn scatter_backward(grad: &Tensor, x: &Tensor, indices: &Tensor) -> Tensor {
    let [h, w] = hw(x);
    let storage = {
        let pair = ReadPair::new(grad.cell(), indices.cell());
        let (g, i) = pair.get();
        g.max_pool2d_backward(grad.layout(), (i, indices.layout()), h * w)
    };
    Tensor::from_storage(storage, x.shape().clone())
}

/// `max_pool2d_with_indices_backward(grad, self, ..., indices)`: the gradient scattered into
/// the input's shape through the indices; differentiable in `grad`.
#[track_caller]
pub(crate) fn max_pool2d_with_indices_backward(
    grad: &Tensor,
    x: &Tensor,
    indices: &Tensor,
) -> Tensor {
    let out = scatter_backward(grad, x, indices);
    record(out, &[grad, x], |_| MaxPool2DWithIndicesBackwardBackward0 {
        input: SavedTensor::input(x),
        indices: SavedTensor::input(indices),
    })
}

/// `adaptive_max_pool2d` to `output` (height, width): maxima and positions as
/// [`max_pool2d_with_indices`]'s.
#[track_caller]
pub(crate) fn adaptive_max_pool2d(x: &Tensor, output: [usize; 2]) -> (Tensor, Tensor) {
    let shape = out_shape(x, output);
    let (v, i) = x.storage().adaptive_max_pool2d(x.layout(), output);
    let (out, idx) = (
        Tensor::from_storage(v, shape.clone()),
        Tensor::from_storage(i, shape),
    );
    let out = record(out, &[x], |_| AdaptiveMaxPool2DBackward0 {
        input: SavedTensor::input(x),
        indices: SavedTensor::input(&idx),
    });
    (out, idx)
}

/// `adaptive_max_pool2d_backward(grad, self, indices)`: as the max pooling's backward, under
/// its own node name.
#[track_caller]
pub(crate) fn adaptive_max_pool2d_backward(grad: &Tensor, x: &Tensor, indices: &Tensor) -> Tensor {
    let out = scatter_backward(grad, x, indices);
    record(out, &[grad, x], |_| AdaptiveMaxPool2DBackwardBackward0 {
        input: SavedTensor::input(x),
        indices: SavedTensor::input(indices),
    })
}

/// `avg_pool2d` on checked windows.
#[track_caller]
pub(crate) fn avg_pool2d(x: &Tensor, windows: &PoolWindows, divisor: AvgDivisor) -> Tensor {
    let storage = x.storage().avg_pool2d(x.layout(), windows, divisor);
    let out = Tensor::from_storage(storage, out_shape(x, windows.output));
    record(out, &[x], |_| AvgPool2DBackward0 {
        input: SavedTensor::input(x),
        windows: *windows,
        divisor,
    })
}

/// `avg_pool2d_backward(grad, self, ...)`: the gradient spread over the windows, shaped like
/// `x`; differentiable in `grad` (its derivative is `avg_pool2d` again).
#[track_caller]
pub(crate) fn avg_pool2d_backward(
    grad: &Tensor,
    x: &Tensor,
    windows: &PoolWindows,
    divisor: AvgDivisor,
) -> Tensor {
    let storage = grad
        .storage()
        .avg_pool2d_backward(grad.layout(), windows, divisor);
    let out = Tensor::from_storage(storage, x.shape().clone());
    record(out, &[grad, x], |_| AvgPool2DBackwardBackward0 {
        input: SavedTensor::input(x),
        windows: *windows,
        divisor,
    })
}

/// `_adaptive_avg_pool2d` to `output` (height, width).
#[track_caller]
pub(crate) fn adaptive_avg_pool2d(x: &Tensor, output: [usize; 2]) -> Tensor {
    let storage = x.storage().adaptive_avg_pool2d(x.layout(), output);
    let out = Tensor::from_storage(storage, out_shape(x, output));
    record(out, &[x], |_| AdaptiveAvgPool2DBackward0 {
        input: SavedTensor::input(x),
    })
}

/// `_adaptive_avg_pool2d_backward(grad, self)`: the gradient spread over the adaptive windows,
/// shaped like `x`; differentiable in `grad`.
#[track_caller]
pub(crate) fn adaptive_avg_pool2d_backward(grad: &Tensor, x: &Tensor) -> Tensor {
    let storage = grad
        .storage()
        .adaptive_avg_pool2d_backward(grad.layout(), hw(x));
    let out = Tensor::from_storage(storage, x.shape().clone());
    record(out, &[grad, x], |_| AdaptiveAvgPool2DBackwardBackward0 {
        input: SavedTensor::input(x),
        output: hw(grad),
    })
}
