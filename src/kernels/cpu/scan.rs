//! Cumulative sums and products along the last dim, as ATen's `cpu_cum_base_kernel`
//! (`ReduceOpsKernel.cpp`): each row is scanned left to right in `acc_type` (float64 for float32
//! and float64 on the CPU, int64 for int64) and every partial result is rounded to the element
//! type.

use super::{alloc, strided};
use crate::dtype::Float;
use crate::shape::Layout;

/// The scan of every last-dim row of a float view, row-major.
pub(crate) fn scan_float<T: Float>(v: &[T], l: &Layout, prod: bool) -> Vec<T> {
    let n = l.dims().last().copied().unwrap_or(1);
    let x = strided::contiguous_cow(v, l);
    let mut out = alloc::buffer(x.len());
    if n == 0 {
        return out;
    }
    for row in x.chunks(n) {
        let mut acc = if prod { 1.0f64 } else { 0.0f64 };
        for &e in row {
            acc = if prod {
                acc * e.to_f64()
            } else {
                acc + e.to_f64()
            };
            out.push(T::from_f64(acc));
        }
    }
    out
}

/// The scan of every last-dim row of an int64 view (wrapping, as C++'s signed overflow on the
/// CPU in practice).
pub(crate) fn scan_int(v: &[i64], l: &Layout, prod: bool) -> Vec<i64> {
    let n = l.dims().last().copied().unwrap_or(1);
    let x = strided::contiguous_cow(v, l);
    let mut out = alloc::buffer(x.len());
    if n == 0 {
        return out;
    }
    for row in x.chunks(n) {
        let mut acc: i64 = if prod { 1 } else { 0 };
        for &e in row {
            acc = if prod {
                acc.wrapping_mul(e)
            } else {
                acc.wrapping_add(e)
            };
            out.push(acc);
        }
    }
    out
}
