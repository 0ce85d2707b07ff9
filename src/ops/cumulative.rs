//! Cumulative sums, products and log-sum-exps, and the product reduction: `cumsum cumprod
//! logcumsumexp prod`, with derivatives.yaml's backward formulas (`cumsum_backward`,
//! `cumprod_backward`, `logcumsumexp_backward`, `prod_backward`, `prod_safe_zeros_backward`).

use crate::autograd::{SavedTensor, backward_fn, no_grad, record};
use crate::dtype::DType;
use crate::shape::wrap_dim;
use crate::tensor::Tensor;

/// `w.flip(dim).cumsum(dim).flip(dim)`: sums from the end (ATen's `reversed_cumsum`).
#[track_caller]
fn reversed_cumsum(w: &Tensor, dim: i64) -> Tensor {
    w.flip(&[dim]).cumsum(dim).flip(&[dim])
}

/// ATen's `prod_safe_zeros_backward`: the gradient of a product along `dim` from the exclusive
/// products before and after each element, correct with zeros.
#[track_caller]
fn prod_safe_zeros_backward(grad: &Tensor, input: &Tensor, dim: i64) -> Tensor {
    let d = wrap_dim(dim, input.ndim());
    let n = input.dims()[d];
    if n == 1 {
        return grad.expand(input.dims().to_vec());
    }
    let mut ones_size = input.dims().to_vec();
    ones_size[d] = 1;
    let ones = Tensor::ones_dtype(ones_size, grad.dtype());
    let before = Tensor::cat(&[&ones, &input.narrow(dim, 0, n - 1)], dim).cumprod(dim);
    let after = Tensor::cat(&[&ones, &input.narrow(dim, 1, n - 1).flip(&[dim])], dim)
        .cumprod(dim)
        .flip(&[dim]);
    grad.mul(before.mul(&after))
}

backward_fn! {
    /// `cumsum_backward(grad, dim)`: the sums of the gradient from the end.
    struct CumsumBackward0 { dim: i64 }
    saved []
    fn backward(&mut self, grad, needs) {
        let d = wrap_dim(self.dim, grad.ndim().max(1));
        if grad.numel() <= 1 || grad.ndim() == 0 || grad.dims()[d] == 1 {
            return smallvec::smallvec![Some(grad.clone())];
        }
        smallvec::smallvec![Some(reversed_cumsum(grad, self.dim))]
    }
}

backward_fn! {
    /// `cumprod_backward(grad, self, dim, result)`: without zeros in the input,
    /// `reversed_cumsum(result * grad) / self`; with zeros, each element's gradient from the
    /// products that leave it out.
    struct CumprodBackward0 { x: SavedTensor, result: SavedTensor, dim: i64 }
    saved [x, result]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        if x.numel() <= 1 || x.ndim() == 0 {
            return smallvec::smallvec![Some(grad.clone())];
        }
        if !x.eq(0.0).any_true() {
            let w = self.result.get().mul(grad);
            return smallvec::smallvec![Some(reversed_cumsum(&w, self.dim).div(&x))];
        }
        // d out_j / d x_k = prod_{i <= j, i != k} x_i for j >= k.
        let d = wrap_dim(self.dim, x.ndim());
        let n = x.dims()[d];
        let mut one_size = x.dims().to_vec();
        one_size[d] = 1;
        let one = Tensor::ones_dtype(one_size, x.dtype());
        let parts: Vec<Tensor> = (0..n)
            .map(|k| {
                let mut pieces = Vec::new();
                if k > 0 {
                    pieces.push(x.narrow(self.dim, 0, k));
                }
                pieces.push(one.clone());
                if k + 1 < n {
                    pieces.push(x.narrow(self.dim, k as i64 + 1, n - k - 1));
                }
                let refs: Vec<&Tensor> = pieces.iter().collect();
                let without_k = Tensor::cat(&refs, self.dim).cumprod(self.dim);
                without_k
                    .mul(grad)
                    .narrow(self.dim, k as i64, n - k)
                    .sum_dim([self.dim], true)
            })
            .collect();
        let refs: Vec<&Tensor> = parts.iter().collect();
        smallvec::smallvec![Some(Tensor::cat(&refs, self.dim))]
    }
}

backward_fn! {
    /// `prod_backward(grad, self, result)` of the product of all elements.
    struct ProdBackward0 { x: SavedTensor, result: SavedTensor }
    saved [x, result]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        if x.ndim() == 0 {
            return smallvec::smallvec![Some(grad.clone())];
        }
        if !x.eq(0.0).any_true() {
            return smallvec::smallvec![Some(grad.mul(self.result.get().div(&x)))];
        }
        let flat = x.contiguous().view([-1]);
        let g = prod_safe_zeros_backward(&grad.expand([1]), &flat, 0);
        smallvec::smallvec![Some(g.view_as(&x))]
    }
}

backward_fn! {
    /// `prod_backward(grad, self, result, dim, keepdim)`.
    struct ProdBackward1 { x: SavedTensor, result: SavedTensor, dim: i64, keepdim: bool }
    saved [x, result]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        if x.ndim() == 0 {
            return smallvec::smallvec![Some(grad.clone())];
        }
        let (mut g, mut r) = (grad.clone(), self.result.get());
        if !self.keepdim {
            g = g.unsqueeze(self.dim);
            r = r.unsqueeze(self.dim);
        }
        if !x.eq(0.0).any_true() {
            return smallvec::smallvec![Some(g.mul(r.div(&x)))];
        }
        smallvec::smallvec![Some(prod_safe_zeros_backward(&g, &x, self.dim))]
    }
}

backward_fn! {
    /// `logcumsumexp_backward(grad, self, result, dim)` (FunctionsManual.cpp, after
    /// TensorFlow's): the positive and negative parts of the gradient, each through a reversed
    /// `logcumsumexp` in log space so nothing overflows.
    struct LogcumsumexpBackward0 { x: SavedTensor, result: SavedTensor, dim: i64 }
    saved [x, result]
    fn backward(&mut self, grad, needs) {
        let (x, result) = (self.x.get(), self.result.get());
        if grad.numel() == 0 || x.ndim() == 0 {
            return smallvec::smallvec![Some(grad.clone())];
        }
        let dim = self.dim;
        let reverse_logcumsumexp = |t: &Tensor| t.flip(&[dim]).logcumsumexp(dim).flip(&[dim]);
        let lowest = if grad.dtype() == DType::F32 { f32::MIN as f64 } else { f64::MIN };
        let log_abs_grad = grad.abs().log();
        let log_grad_positive = Tensor::where_(&grad.gt(0.0), &log_abs_grad, lowest);
        let log_grad_negative = Tensor::where_(&grad.lt(0.0), &log_abs_grad, lowest);
        let output_pos = reverse_logcumsumexp(&log_grad_positive.sub(&result)).add(&x).exp();
        let output_neg = reverse_logcumsumexp(&log_grad_negative.sub(&result)).add(&x).exp();
        smallvec::smallvec![Some(output_pos.sub(&output_neg))]
    }
}

/// The dtype a cumulative op or product computes in: integers and bools accumulate as int64.
fn accumulate_type(dtype: DType) -> DType {
    if dtype.is_float() { dtype } else { DType::I64 }
}

impl Tensor {
    /// The running scan along `dim`, without autograd.
    #[track_caller]
    fn cumulative_raw(&self, dim: i64, prod: bool) -> Tensor {
        let x = self.cast_raw(accumulate_type(self.dtype()));
        if x.ndim() == 0 {
            return x.clone_tensor_raw();
        }
        let d = wrap_dim(dim, x.ndim());
        let moved = x.movedim(d as i64, -1);
        let storage = moved.storage().cumulative_last(moved.layout(), prod);
        let out = Tensor::from_storage(storage, moved.shape().clone());
        if d + 1 == x.ndim() {
            return out;
        }
        // Not a view of the scan's buffer: a fresh row-major tensor.
        out.movedim(-1, d as i64).clone_tensor_raw()
    }

    /// `log(cumsum(exp(x)))` along `dim`, computed stably (`torch.logcumsumexp`); running
    /// values in float64 as ATen's CPU kernel keeps them.
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let y = Tensor::from_vec(vec![0.0f64, 0.0], [2]).logcumsumexp(0);
    /// assert_eq!(y.to_vec::<f64>(), vec![0.0, 2f64.ln()]);
    /// ```
    #[track_caller]
    pub fn logcumsumexp(&self, dim: i64) -> Tensor {
        if !self.dtype().is_float() {
            panic!(
                "\"logcumsumexp_out_cpu\" not implemented for '{}'",
                self.dtype().scalar_name()
            );
        }
        let out = no_grad(|| {
            if self.ndim() == 0 {
                wrap_dim(dim, 1);
                return self.clone_tensor_raw();
            }
            let d = wrap_dim(dim, self.ndim());
            let moved = self.movedim(d as i64, -1);
            let storage = moved.storage().logcumsumexp_last(moved.layout());
            let out = Tensor::from_storage(storage, moved.shape().clone());
            if d + 1 == self.ndim() {
                out
            } else {
                out.movedim(-1, d as i64).clone_tensor_raw()
            }
        });
        record(out, &[self], |o| LogcumsumexpBackward0 {
            x: SavedTensor::input(self),
            result: SavedTensor::output(o),
            dim,
        })
    }

    /// Running sums along `dim` (`torch.cumsum`); integers and bools sum as int64, floats in
    /// float64 as ATen's CPU kernel does.
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([1.0, 2.0, 3.0]).cumsum(0).to_vec::<f32>(), vec![1.0, 3.0, 6.0]);
    /// ```
    #[track_caller]
    pub fn cumsum(&self, dim: i64) -> Tensor {
        let out = no_grad(|| self.cumulative_raw(dim, false));
        record(out, &[self], |_| CumsumBackward0 { dim })
    }

    /// Running products along `dim` (`torch.cumprod`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([1.0, 2.0, 3.0]).cumprod(0).to_vec::<f32>(), vec![1.0, 2.0, 6.0]);
    /// ```
    #[track_caller]
    pub fn cumprod(&self, dim: i64) -> Tensor {
        let out = no_grad(|| self.cumulative_raw(dim, true));
        record(out, &[self], |o| CumprodBackward0 {
            x: SavedTensor::input(self),
            result: SavedTensor::output(o),
            dim,
        })
    }

    /// The product of all elements, a 0-dim tensor (`torch.prod`); integers give int64. The
    /// product is taken left to right in float64 (ATen's reduction order differs by rounding
    /// only).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([2.0, 3.0, 4.0]).prod().item::<f32>(), 24.0);
    /// ```
    #[track_caller]
    pub fn prod(&self) -> Tensor {
        let out = no_grad(|| {
            let flat = self.reshape([-1]);
            let n = flat.numel();
            if n == 0 {
                return Tensor::ones_dtype(Vec::<usize>::new(), accumulate_type(self.dtype()));
            }
            flat.cumulative_raw(0, true)
                .narrow(0, n as i64 - 1, 1)
                .reshape(Vec::<i64>::new())
                .clone_tensor_raw()
        });
        record(out, &[self], |o| ProdBackward0 {
            x: SavedTensor::input(self),
            result: SavedTensor::output(o),
        })
    }

    /// The product along `dim` (`torch.prod(input, dim, keepdim)`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(t.prod_dim(1, false).to_vec::<f32>(), vec![2.0, 12.0]);
    /// ```
    #[track_caller]
    pub fn prod_dim(&self, dim: i64, keepdim: bool) -> Tensor {
        let out = no_grad(|| {
            if self.ndim() == 0 {
                return self
                    .cast_raw(accumulate_type(self.dtype()))
                    .clone_tensor_raw();
            }
            let d = wrap_dim(dim, self.ndim());
            let n = self.dims()[d];
            let r = if n == 0 {
                let mut shape = self.dims().to_vec();
                shape[d] = 1;
                Tensor::ones_dtype(shape, accumulate_type(self.dtype()))
            } else {
                self.cumulative_raw(dim, true)
                    .narrow(d as i64, n as i64 - 1, 1)
            };
            let r = if keepdim { r } else { r.squeeze_dim(d as i64) };
            r.clone_tensor_raw()
        });
        record(out, &[self], |o| ProdBackward1 {
            x: SavedTensor::input(self),
            result: SavedTensor::output(o),
            dim,
            keepdim,
        })
    }
}
