//! Softmax along the last dim and its backward, row by row in the order of ATen's
//! `_vec_softmax_lastdim` and `_vec_softmax_backward` (aten/src/ATen/native/cpu/SoftMaxKernel.cpp):
//! the row maximum, `exp(x - max)`, the sum by `vec::reduce_all` (lane-wise over 256-bit
//! vectors, then halved lane by lane), and the product with `1 / sum`; the backward is
//! `(grad - Σ grad·y) · y` with the sum reduced the same way. The float32 `exp` is the
//! vectorised one of `vmath.rs` (libm's bits but in a few cases per million), where PyTorch
//! runs its own vectorised `exp_u20`. Log-softmax keeps its own kernel (`reduce.rs`).

use super::norm::{Body, dispatch, row_chunk};
use super::reduce::SumLanes;
use super::strided::contiguous_cow;
use crate::backend::vmath;
use crate::dtype::Float;
use crate::shape::Layout;
use crate::storage::CpuStorage;
use rayon::prelude::*;

/// An element type softmax runs on: its `exp`, vectorisable for float32.
pub(crate) trait SoftmaxElem: Float + SumLanes {
    /// `e^x`.
    fn exp_elem(self) -> Self;
}

impl SoftmaxElem for f32 {
    #[inline(always)]
    fn exp_elem(self) -> f32 {
        vmath::exp_f32(self)
    }
}

impl SoftmaxElem for f64 {
    #[inline(always)]
    fn exp_elem(self) -> f64 {
        self.exp()
    }
}

/// ATen's `vec::reduce_all` with `+` over `T::LANES`-wide vectors: below one vector, the values
/// left to right; else each lane sums its column (the tail added to the first lanes), then the
/// lanes are halved: lane `i` += lane `i + half`, for half = LANES/2 down to 1.
#[inline(always)]
fn reduce_all_sum<T: SumLanes>(len: usize, f: impl Fn(usize) -> T) -> T {
    const MAX_LANES: usize = 8;
    let lanes = T::LANES;
    debug_assert!(lanes <= MAX_LANES && lanes.is_power_of_two());
    if len < lanes {
        let mut acc = T::zero();
        for j in 0..len {
            acc += f(j);
        }
        return acc;
    }
    let mut acc = [T::zero(); MAX_LANES];
    for (l, a) in acc.iter_mut().enumerate().take(lanes) {
        *a = f(l);
    }
    let full = len / lanes * lanes;
    let mut d = lanes;
    while d < full {
        for (l, a) in acc.iter_mut().enumerate().take(lanes) {
            *a += f(d + l);
        }
        d += lanes;
    }
    for (l, a) in acc.iter_mut().enumerate().take(len - d) {
        *a += f(d + l);
    }
    let mut half = lanes / 2;
    while half > 0 {
        for i in 0..half {
            let upper = acc[i + half];
            acc[i] += upper;
        }
        half /= 2;
    }
    acc[0]
}

/// Softmax of each row of `n` values (`x.len()` a multiple of `n`). With `safe` (ATen's
/// `_safe_softmax`), a row whose maximum is `-inf` (every value `-inf`) gives zeros, not NaN.
pub(crate) fn softmax_rows<T: SoftmaxElem>(x: &[T], n: usize, safe: bool) -> Vec<T> {
    let mut out = super::alloc::filled(x.len(), T::zero());
    if n == 0 {
        return out;
    }
    match row_chunk(x.len(), n) {
        Some(r) => out
            .par_chunks_mut(r * n)
            .zip(x.par_chunks(r * n))
            .for_each(|(out, x)| dispatch(Forward { x, n, safe, out })),
        None => dispatch(Forward {
            x,
            n,
            safe,
            out: &mut out,
        }),
    }
    out
}

/// The forward's operands (`n > 0`).
struct Forward<'a, T> {
    x: &'a [T],
    n: usize,
    safe: bool,
    out: &'a mut [T],
}

impl<T: SoftmaxElem> Body for Forward<'_, T> {
    #[inline(always)]
    fn run(self) {
        let n = self.n;
        for (xr, or) in self.x.chunks_exact(n).zip(self.out.chunks_exact_mut(n)) {
            let mut max = T::lowest();
            for &v in xr {
                max = max.max_nan(v);
            }
            if self.safe && max == T::lowest() {
                // Every value is -inf: the row stays zero.
                continue;
            }
            for (o, &v) in or.iter_mut().zip(xr) {
                *o = (v - max).exp_elem();
            }
            let sum = reduce_all_sum(n, |j| or[j]);
            let inv = T::one() / sum;
            for o in or.iter_mut() {
                *o = *o * inv;
            }
        }
    }
}

/// `_softmax_backward_data` along the last dim: each row of `grad` and of the softmax output
/// `y`, `(grad - Σ grad·y) · y`.
pub(crate) fn softmax_backward_rows<T: SoftmaxElem>(grad: &[T], y: &[T], n: usize) -> Vec<T> {
    let mut out = super::alloc::filled(grad.len(), T::zero());
    if n == 0 {
        return out;
    }
    match row_chunk(grad.len(), n) {
        Some(r) => (
            grad.par_chunks(r * n),
            y.par_chunks(r * n),
            out.par_chunks_mut(r * n),
        )
            .into_par_iter()
            .for_each(|(grad, y, out)| dispatch(Backward { grad, y, n, out })),
        None => dispatch(Backward {
            grad,
            y,
            n,
            out: &mut out,
        }),
    }
    out
}

/// The backward's operands (`n > 0`).
struct Backward<'a, T> {
    grad: &'a [T],
    y: &'a [T],
    n: usize,
    out: &'a mut [T],
}

impl<T: SoftmaxElem> Body for Backward<'_, T> {
    #[inline(always)]
    fn run(self) {
        let n = self.n;
        let rows = self.grad.chunks_exact(n).zip(self.y.chunks_exact(n));
        for ((gr, yr), or) in rows.zip(self.out.chunks_exact_mut(n)) {
            let dot = reduce_all_sum(n, |j| gr[j] * yr[j]);
            for ((o, &g), &v) in or.iter_mut().zip(gr).zip(yr) {
                *o = (g - dot) * v;
            }
        }
    }
}

/// [`softmax_rows`] on a storage (the backend's `softmax_last` without `log`).
pub(crate) fn softmax_storage(x: &CpuStorage, layout: &Layout, safe: bool) -> CpuStorage {
    let n = layout.dims().last().copied().unwrap_or(1);
    match x {
        CpuStorage::F32(v) => CpuStorage::F32(softmax_rows(&contiguous_cow(v, layout), n, safe)),
        CpuStorage::F64(v) => CpuStorage::F64(softmax_rows(&contiguous_cow(v, layout), n, safe)),
        other => panic!(
            "\"softmax_lastdim_kernel_impl\" not implemented for '{}'",
            other.dtype().scalar_name()
        ),
    }
}

/// [`softmax_backward_rows`] on storages (the backend's `softmax_backward_last`).
pub(crate) fn softmax_backward_storage(
    grad: &CpuStorage,
    layout: &Layout,
    y: &CpuStorage,
    y_layout: &Layout,
) -> CpuStorage {
    let n = layout.dims().last().copied().unwrap_or(1);
    match (grad, y) {
        (CpuStorage::F32(g), CpuStorage::F32(y)) => CpuStorage::F32(softmax_backward_rows(
            &contiguous_cow(g, layout),
            &contiguous_cow(y, y_layout),
            n,
        )),
        (CpuStorage::F64(g), CpuStorage::F64(y)) => CpuStorage::F64(softmax_backward_rows(
            &contiguous_cow(g, layout),
            &contiguous_cow(y, y_layout),
            n,
        )),
        (other, _) => panic!(
            "\"softmax_backward_lastdim_kernel_impl\" not implemented for '{}'",
            other.dtype().scalar_name()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduce_all_adds_lanes_then_halves_them() {
        let v: Vec<f32> = (0..19).map(|i| 1.0 + i as f32 * 0.1).collect();
        // 19 = two vectors of 8 and a tail of 3: lane l sums v[l], v[8 + l] and (l < 3) v[16 + l].
        let lane = |l: usize| v[l] + v[8 + l] + if l < 3 { v[16 + l] } else { 0.0 };
        let a: Vec<f32> = (0..8).map(lane).collect();
        let want = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
        assert_eq!(reduce_all_sum(19, |j| v[j]).to_bits(), want.to_bits());
        assert_eq!(reduce_all_sum(3, |j| v[j]), (v[0] + v[1]) + v[2]);
        let d: Vec<f64> = v.iter().map(|&x| x as f64).collect();
        let lane =
            |l: usize| d[l] + d[4 + l] + d[8 + l] + d[12 + l] + if l < 3 { d[16 + l] } else { 0.0 };
        let a: Vec<f64> = (0..4).map(lane).collect();
        assert_eq!(reduce_all_sum(19, |j| d[j]), (a[0] + a[2]) + (a[1] + a[3]));
    }

    #[test]
    fn rows_match_the_formula_and_safe_rows_are_zero() {
        for n in [1usize, 3, 8, 9, 17, 64, 70] {
            let x: Vec<f64> = (0..3 * n)
                .map(|i| ((i * 7919) % 23) as f64 * 0.3 - 3.0)
                .collect();
            let y = softmax_rows(&x, n, false);
            for (xr, yr) in x.chunks(n).zip(y.chunks(n)) {
                let m = xr.iter().cloned().fold(f64::MIN, f64::max);
                let s: f64 = xr.iter().map(|v| (v - m).exp()).sum();
                for (a, b) in xr.iter().zip(yr) {
                    assert!(((a - m).exp() / s - b).abs() < 1e-15);
                }
            }
            let g: Vec<f64> = (0..3 * n).map(|i| (i % 5) as f64 - 2.0).collect();
            let gi = softmax_backward_rows(&g, &y, n);
            for ((gr, yr), ir) in g.chunks(n).zip(y.chunks(n)).zip(gi.chunks(n)) {
                let dot: f64 = gr.iter().zip(yr).map(|(a, b)| a * b).sum();
                for ((a, b), c) in gr.iter().zip(yr).zip(ir) {
                    assert!(((a - dot) * b - c).abs() < 1e-14);
                }
            }
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let y32 = softmax_rows(&x32, n, false);
            for (a, b) in y32.iter().zip(&y) {
                assert!((*a as f64 - b).abs() < 1e-6);
            }
        }
        let x = [f32::NEG_INFINITY, f32::NEG_INFINITY, 0.0, 1.0];
        assert_eq!(softmax_rows(&x, 2, true)[..2], [0.0, 0.0]);
        assert!(softmax_rows(&x, 2, false)[0].is_nan());
        let nan = [f32::NAN, f32::NEG_INFINITY];
        assert!(softmax_rows(&nan, 2, true)[0].is_nan());
    }
}
