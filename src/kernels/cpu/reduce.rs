//! Reduction kernels over the rows of a row-major buffer.

use crate::dtype::{Float, Num};

// Summation in PyTorch's order (ATen's `SumKernel.cpp` with one thread; its sum kernel runs with
// 256-bit vectors even on AVX-512 CPUs, as measured against PyTorch 2.15), so that sums and means give PyTorch's float32 results bit for bit: `multi_row_sum`
// cascades partial sums over four levels, `row_sum` interleaves four accumulators, and contiguous
// rows of at least one vector are summed lane-wise first.

/// Lanes of the `Vectorized<T>` ATen's sum kernel uses (256-bit vectors).
pub(crate) trait SumLanes: Num {
    const LANES: usize;
}
impl SumLanes for f32 {
    const LANES: usize = 8;
}
impl SumLanes for f64 {
    const LANES: usize = 4;
}
impl SumLanes for i64 {
    const LANES: usize = 4;
}

/// `utils::CeilLog2`.
fn ceil_log2(x: usize) -> usize {
    if x <= 1 {
        0
    } else {
        (usize::BITS - (x - 1).leading_zeros()) as usize
    }
}

/// ATen's `multi_row_sum` for one column: `size` values read by `get(i)`, summed into four
/// cascading levels so that the error grows slowly.
#[inline]
fn multi_row_sum<T: Num>(size: usize, get: impl Fn(usize) -> T) -> T {
    const LEVELS: usize = 4;
    let level_power = 4.max(ceil_log2(size) / LEVELS);
    let level_step = 1usize << level_power;
    let level_mask = level_step - 1;
    let mut acc = [T::zero(); LEVELS];
    let mut i = 0;
    while i + level_step <= size {
        for _ in 0..level_step {
            acc[0] += get(i);
            i += 1;
        }
        for j in 1..LEVELS {
            acc[j] += acc[j - 1];
            acc[j - 1] = T::zero();
            if i & (level_mask << (j * level_power)) != 0 {
                break;
            }
        }
    }
    while i < size {
        acc[0] += get(i);
        i += 1;
    }
    let mut total = acc[0];
    for a in &acc[1..] {
        total += *a;
    }
    total
}

/// ATen's `row_sum`: four interleaved `multi_row_sum`s, then the tail, then the four partials.
#[inline]
fn row_sum<T: Num>(size: usize, get: impl Fn(usize) -> T) -> T {
    const ILP: usize = 4;
    let size_ilp = size / ILP;
    let mut partial = [T::zero(); ILP];
    for (k, p) in partial.iter_mut().enumerate() {
        *p = multi_row_sum(size_ilp, |r| get(r * ILP + k));
    }
    for i in size_ilp * ILP..size {
        partial[0] += get(i);
    }
    let mut total = partial[0];
    for p in &partial[1..] {
        total += *p;
    }
    total
}

/// The sum of a contiguous run, as ATen's `vectorized_inner_sum` / `scalar_inner_sum`.
pub(crate) fn sum<T: SumLanes>(s: &[T]) -> T {
    let n = s.len();
    let lanes = T::LANES;
    if n < lanes {
        return row_sum(n, |i| s[i]);
    }
    let vecs = n / lanes;
    let mut acc = T::zero();
    for &x in &s[vecs * lanes..] {
        acc += x;
    }
    for lane in 0..lanes {
        acc += row_sum(vecs, |v| s[v * lanes + lane]);
    }
    acc
}

/// Sums every row of a `rows x len` row-major buffer.
pub(crate) fn sum_rows<T: SumLanes>(data: &[T], len: usize) -> Vec<T> {
    data.chunks_exact(len).map(sum).collect()
}

/// Column sums of a `rows x cols` row-major buffer (a reduction over leading dims), in the order
/// of ATen's `vectorized_outer_sum` / `scalar_outer_sum`.
pub(crate) fn sum_cols<T: SumLanes>(data: &[T], rows: usize, cols: usize) -> Vec<T> {
    let lanes = T::LANES;
    // Columns taken four vectors (or, below one vector, four columns) at a time use
    // `multi_row_sum`; the rest use `row_sum`.
    let grouped = if cols >= lanes {
        cols / (4 * lanes) * (4 * lanes)
    } else {
        cols / 4 * 4
    };
    (0..cols)
        .map(|j| {
            let get = |i: usize| data[i * cols + j];
            if j < grouped {
                multi_row_sum(rows, get)
            } else {
                row_sum(rows, get)
            }
        })
        .collect()
}

/// Mean and variance (divided by `len - correction`) of a slice, with Welford-free two passes
/// (mean first, then centred squares), which is as accurate as PyTorch's for these sizes.
pub(crate) fn mean_var<T: Float + SumLanes>(s: &[T], correction: f64) -> (T, T) {
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
