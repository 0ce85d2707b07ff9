//! Numerically stable `softmax` and `log_softmax` along one dim.

use super::{cast_raw, float_type};
use crate::autograd::{SavedTensor, backward_fn, record};
use crate::dtype::Float;
use crate::shape::wrap_dim;
use crate::storage::CpuStorage;
use crate::tensor::Tensor;

fn softmax_row<T: Float>(x: &[T], out: &mut [T], log: bool) {
    let mut max = T::lowest();
    for &v in x {
        max = max.max_nan(v);
    }
    if log {
        let mut sum = T::zero();
        for &v in x {
            sum += (v - max).exp();
        }
        let lse = sum.ln();
        for (o, &v) in out.iter_mut().zip(x) {
            *o = v - max - lse;
        }
    } else {
        let mut sum = T::zero();
        for (o, &v) in out.iter_mut().zip(x) {
            let e = (v - max).exp();
            *o = e;
            sum += e;
        }
        let inv = T::one() / sum;
        for o in out.iter_mut() {
            *o = *o * inv;
        }
    }
}

/// Applies the row kernel along `dim` (moved last for the computation, then moved back).
fn softmax_raw(t: &Tensor, dim: usize, log: bool) -> Tensor {
    let t = cast_raw(t, float_type(t.dtype()));
    let last = t.ndim().saturating_sub(1);
    let moved = if dim == last {
        t.clone()
    } else {
        t.transpose(dim as i64, last as i64)
    };
    let n = if t.ndim() == 0 { 1 } else { t.dims()[dim] };
    let storage = moved.with_cpu(|s, l| {
        fn go<T: Float>(v: &[T], l: &crate::shape::Layout, n: usize, log: bool) -> Vec<T> {
            let x = crate::kernels::cpu::contiguous_cow(v, l);
            let mut out = vec![T::zero(); x.len()];
            if n > 0 {
                for (xr, or) in x.chunks(n).zip(out.chunks_mut(n)) {
                    softmax_row(xr, or, log);
                }
            }
            out
        }
        match s {
            CpuStorage::F32(v) => CpuStorage::F32(go(v, l, n, log)),
            CpuStorage::F64(v) => CpuStorage::F64(go(v, l, n, log)),
            _ => unreachable!("float"),
        }
    });
    let out = Tensor::from_cpu(storage, moved.shape().clone());
    if dim == last {
        out
    } else {
        out.transpose(dim as i64, last as i64).clone_tensor_raw()
    }
}

backward_fn! {
    struct SoftmaxBackward { y: SavedTensor, dim: i64, log: bool }
    saved [y]
    fn backward(&mut self, grad, needs) {
        let y = self.y.get();
        let g = if self.log {
            grad.sub(y.exp().mul(grad.sum_dim(self.dim, true)))
        } else {
            y.mul(grad.sub(grad.mul(y).sum_dim(self.dim, true)))
        };
        smallvec::smallvec![Some(g)]
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
    pub fn softmax(&self, dim: i64) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let out = softmax_raw(self, d, false);
        record(out, "SoftmaxBackward0", &[self], |o| SoftmaxBackward {
            y: SavedTensor::output(o, "SoftmaxBackward0"),
            dim: d as i64,
            log: false,
        })
    }

    /// `x - logsumexp(x)` along `dim` (`F.log_softmax`).
    pub fn log_softmax(&self, dim: i64) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let out = softmax_raw(self, d, true);
        record(out, "LogSoftmaxBackward0", &[self], |o| SoftmaxBackward {
            y: SavedTensor::output(o, "LogSoftmaxBackward0"),
            dim: d as i64,
            log: true,
        })
    }
}
