//! Cumulative sums and products along the last dim, as ATen's `cpu_cum_base_kernel`
//! (`ReduceOpsKernel.cpp`): each row is scanned left to right in `acc_type` (float64 for float32
//! and float64 on the CPU, int64 for int64) and every partial result is rounded to the element
//! type.

use super::{alloc, strided};
use crate::dtype::Float;
use crate::shape::Layout;

/// Every last-dim row of a view scanned left to right: `acc = step(acc, x)` from `init`, each
/// partial result written through `out` (the one loop of the scan kernels).
fn scan_rows<T: Copy, A: Copy>(
    v: &[T],
    l: &Layout,
    init: A,
    step: impl Fn(A, T) -> A,
    out: impl Fn(A) -> T,
) -> Vec<T> {
    let n = l.dims().last().copied().unwrap_or(1);
    let x = strided::contiguous_cow(v, l);
    let mut res = alloc::buffer(x.len());
    if n == 0 {
        return res;
    }
    for row in x.chunks(n) {
        let mut acc = init;
        for &e in row {
            acc = step(acc, e);
            res.push(out(acc));
        }
    }
    res
}

/// The scan of every last-dim row of a float view, row-major.
pub(crate) fn scan_float<T: Float>(v: &[T], l: &Layout, prod: bool) -> Vec<T> {
    if prod {
        scan_rows(v, l, 1.0f64, |a, e| a * e.to_f64(), T::from_f64)
    } else {
        scan_rows(v, l, 0.0f64, |a, e| a + e.to_f64(), T::from_f64)
    }
}

/// The scan of every last-dim row of an int64 view (wrapping, as C++'s signed overflow on the
/// CPU in practice).
pub(crate) fn scan_int(v: &[i64], l: &Layout, prod: bool) -> Vec<i64> {
    if prod {
        scan_rows(v, l, 1i64, i64::wrapping_mul, |a| a)
    } else {
        scan_rows(v, l, 0i64, i64::wrapping_add, |a| a)
    }
}

/// ATen's `_log_add_exp_helper`: `log(exp(x) + exp(y))` from the larger one, NaN in `y`
/// propagated, and `x` itself when both are the same infinity.
fn log_add_exp(x: f64, y: f64) -> f64 {
    // std::min / std::max return their first argument when the comparison fails (NaN).
    let (min, max) = if y.is_nan() {
        (y, y)
    } else {
        (if y < x { y } else { x }, if x < y { y } else { x })
    };
    if min != max || min.is_finite() {
        (min - max).exp().ln_1p() + max
    } else {
        x
    }
}

/// The running `logsumexp` of every last-dim row of a float view (ATen's
/// `logcumsumexp_cpu_kernel`): accumulated in float64 from `-inf`, each partial result rounded
/// to the element type.
pub(crate) fn logcumsumexp<T: Float>(v: &[T], l: &Layout) -> Vec<T> {
    scan_rows(
        v,
        l,
        f64::NEG_INFINITY,
        |acc, e| log_add_exp(e.to_f64(), acc),
        T::from_f64,
    )
}
