//! Reduction kernels over the rows of a row-major buffer.

use crate::dtype::{Float, Num};

/// Pairwise (cascade) summation, as PyTorch does for floating-point sums: blocks of eight
/// independent accumulators, halved recursively above a threshold, so that the rounding error grows
/// with log(n) rather than n.
#[inline]
pub(crate) fn sum<T: Num>(s: &[T]) -> T {
    const BLOCK: usize = 128;
    if s.len() <= BLOCK {
        let mut acc = [T::zero(); 8];
        let chunks = s.chunks_exact(8);
        let rem = chunks.remainder();
        for c in chunks {
            for j in 0..8 {
                acc[j] += c[j];
            }
        }
        let mut total =
            ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for &x in rem {
            total += x;
        }
        total
    } else {
        let mid = (s.len() / 2).div_ceil(8) * 8;
        sum(&s[..mid]) + sum(&s[mid..])
    }
}

/// Sums every row of a `rows x len` row-major buffer.
pub(crate) fn sum_rows<T: Num>(data: &[T], len: usize) -> Vec<T> {
    if len == 0 {
        let rows = if data.is_empty() { 0 } else { data.len() };
        return vec![T::zero(); rows];
    }
    data.chunks_exact(len).map(sum).collect()
}

/// Mean and variance (divided by `len - correction`) of a slice, with Welford-free two passes
/// (mean first, then centred squares), which is as accurate as PyTorch's for these sizes.
pub(crate) fn mean_var<T: Float>(s: &[T], correction: f64) -> (T, T) {
    let n = s.len();
    let mean = sum(s) / T::from_f64(n as f64);
    let mut acc = [T::zero(); 4];
    let chunks = s.chunks_exact(4);
    let rem = chunks.remainder();
    for c in chunks {
        for j in 0..4 {
            let d = c[j] - mean;
            acc[j] += d * d;
        }
    }
    let mut ss = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for &x in rem {
        let d = x - mean;
        ss += d * d;
    }
    let denom = n as f64 - correction;
    let var = if denom <= 0.0 {
        // PyTorch returns nan (0/0) or inf; follow its division.
        ss / T::from_f64(denom.max(0.0))
    } else {
        ss / T::from_f64(denom)
    };
    (mean, var)
}

/// Index and value of the maximum (or minimum) of a slice; NaN wins, ties keep the first index,
/// as in PyTorch.
pub(crate) fn arg_extreme<T: Num>(s: &[T], max: bool) -> (usize, T) {
    let mut best = s[0];
    let mut idx = 0;
    if best.is_nan() {
        return (0, best);
    }
    for (i, &x) in s.iter().enumerate().skip(1) {
        if x.is_nan() {
            return (i, x);
        }
        if (max && x > best) || (!max && x < best) {
            best = x;
            idx = i;
        }
    }
    (idx, best)
}

/// `log(sum(exp(x)))` of a slice, shifted by its maximum for stability.
pub(crate) fn logsumexp<T: Float>(s: &[T]) -> T {
    let (_, m) = arg_extreme(s, true);
    if !m.is_finite() {
        if m.is_nan() || m > T::zero() {
            return m;
        }
        // all -inf
        return m;
    }
    let mut acc = T::zero();
    for &x in s {
        acc += (x - m).exp();
    }
    acc.ln() + m
}
