//! Reduction kernels over the rows of a row-major buffer.

use crate::dtype::{Element, Float, Num};

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
    let mut add_lanes = |totals: &[T]| {
        for &t in totals {
            acc += t;
        }
    };
    match lanes {
        8 => add_lanes(&lane_sums::<T, 8, 32>(s, vecs)),
        4 => add_lanes(&lane_sums::<T, 4, 16>(s, vecs)),
        _ => unreachable!("vector width {lanes}"),
    }
    acc
}

/// Each lane's `row_sum` over the first `vecs` vectors of `L` values, as ATen computes them in
/// one `Vectorized` pass: `W = 4 * L` accumulators (4 interleaved vectors) walked together
/// through the cascade, so every lane adds its values in exactly the order of a lane-by-lane
/// `row_sum(vecs, |v| s[v * L + lane])`, but the data is read once, contiguously.
fn lane_sums<T: Num, const L: usize, const W: usize>(s: &[T], vecs: usize) -> [T; L] {
    const ILP: usize = 4;
    let size_ilp = vecs / ILP;
    // `multi_row_sum` on W-wide chunks: chunk r holds, for each of the 4 interleaved rows k and
    // lane l, the value s[(r * 4 + k) * L + l] = s[r * W + k * L + l].
    const LEVELS: usize = 4;
    let level_power = 4.max(ceil_log2(size_ilp) / LEVELS);
    let level_step = 1usize << level_power;
    let level_mask = level_step - 1;
    let mut acc = [[T::zero(); W]; LEVELS];
    let add = |a: &mut [T; W], b: &[T]| {
        for (x, &y) in a.iter_mut().zip(b) {
            *x += y;
        }
    };
    let mut i = 0;
    while i + level_step <= size_ilp {
        for chunk in s[i * W..(i + level_step) * W].chunks_exact(W) {
            add(&mut acc[0], chunk);
        }
        i += level_step;
        for j in 1..LEVELS {
            let lower = acc[j - 1];
            add(&mut acc[j], &lower);
            acc[j - 1] = [T::zero(); W];
            if i & (level_mask << (j * level_power)) != 0 {
                break;
            }
        }
    }
    for chunk in s[i * W..size_ilp * W].chunks_exact(W) {
        add(&mut acc[0], chunk);
    }
    let mut partial = acc[0];
    for a in &acc[1..] {
        add(&mut partial, a);
    }
    // The vectors after the interleaved ones go to the first partial, then the four partials
    // are added in order.
    for v in size_ilp * ILP..vecs {
        for l in 0..L {
            partial[l] += s[v * L + l];
        }
    }
    let mut totals = [T::zero(); L];
    for (l, t) in totals.iter_mut().enumerate() {
        let mut total = partial[l];
        for k in 1..ILP {
            total += partial[k * L + l];
        }
        *t = total;
    }
    totals
}

/// Sums every row of a `rows x len` row-major buffer.
pub(crate) fn sum_rows<T: SumLanes>(data: &[T], len: usize) -> Vec<T> {
    let mut out = super::alloc::buffer(data.len() / len);
    out.extend(data.chunks_exact(len).map(sum));
    out
}

/// Sums the rows of a strided view whose first `kept` dims index the outputs and whose other
/// dims make one row each (`ReducePlan::rows_layout`): the additions of `sum_rows` on a
/// row-major copy of the whole view, row by row through a scratch run that stays in cache, so the
/// input is read once and no full copy is written (a conv bias's gradient, summed over N, H and W
/// of an NCHW tensor, is 64 strided runs per channel). Threads take whole rows: the same bits.
pub(crate) fn sum_strided_rows<T: SumLanes + Send + Sync>(
    data: &[T],
    rows: &crate::shape::Layout,
    kept: usize,
) -> Vec<T> {
    use rayon::prelude::*;
    let dims = rows.dims();
    let (kept_dims, row_dims) = dims.split_at(kept);
    let (kept_strides, row_strides) = rows.strides.split_at(kept);
    let outer: usize = kept_dims.iter().product();
    let inner: usize = row_dims.iter().product();
    let row = |o: usize, scratch: &mut Vec<T>| {
        // The offset of output o's row: o unravelled over the kept dims.
        let (mut rest, mut offset) = (o, rows.offset);
        for (&d, &s) in kept_dims.iter().zip(kept_strides).rev() {
            offset += rest % d * s;
            rest /= d;
        }
        let layout = crate::shape::Layout {
            shape: crate::shape::Shape::new(row_dims),
            strides: row_strides.into(),
            offset,
        };
        super::strided::gather_into(data, &layout, scratch);
        sum(scratch)
    };
    if super::parallel::tasks(outer * inner) > 1 && outer > 1 {
        (0..outer)
            .into_par_iter()
            .map_init(Vec::new, |scratch, o| row(o, scratch))
            .collect()
    } else {
        let mut scratch = Vec::new();
        let mut out = super::alloc::buffer(outer);
        out.extend((0..outer).map(|o| row(o, &mut scratch)));
        out
    }
}

/// Column sums of a `rows x cols` row-major buffer (a reduction over leading dims), in the order
/// of ATen's `vectorized_outer_sum` / `scalar_outer_sum`.
///
/// Each column's additions are exactly those of `multi_row_sum` (or `row_sum` for the columns
/// after the last group of four vectors) on that column alone; all the columns' cascades run
/// together, row by row, so that the data is read once, contiguously, and the additions of
/// neighbouring columns (independent of each other) run side by side in vector registers.
pub(crate) fn sum_cols<T: SumLanes>(data: &[T], rows: usize, cols: usize) -> Vec<T> {
    let lanes = T::LANES;
    // Columns taken four vectors (or, below one vector, four columns) at a time use
    // `multi_row_sum`; the rest use `row_sum`.
    let grouped = if cols >= lanes {
        cols / (4 * lanes) * (4 * lanes)
    } else {
        cols / 4 * 4
    };
    let mut out = super::alloc::filled(cols, T::zero());
    let (head, tail) = out.split_at_mut(grouped);
    let group = if cols >= lanes { 4 * lanes } else { 4 };
    let tasks = super::parallel::tasks(rows * cols).min(grouped / group);
    if tasks > 1 {
        // Each column's cascade is independent of the others', so the columns are cut (at
        // whole groups) among threads with the same bits.
        use rayon::prelude::*;
        let chunk = (grouped / group).div_ceil(tasks) * group;
        head.par_chunks_mut(chunk).enumerate().for_each(|(t, out)| {
            let c0 = t * chunk;
            let c1 = c0 + out.len();
            multi_row_sum_cols(rows, |i| &data[i * cols + c0..i * cols + c1], out);
        });
    } else if grouped > 0 {
        multi_row_sum_cols(rows, |i| &data[i * cols..i * cols + grouped], head);
    }
    if grouped < cols {
        row_sum_cols(rows, |i| &data[i * cols + grouped..(i + 1) * cols], tail);
    }
    out
}

/// `dst[c] += src[c]` (the lengths agree).
#[inline(always)]
fn add_into<T: Num>(dst: &mut [T], src: &[T]) {
    for (x, &y) in dst.iter_mut().zip(src) {
        *x += y;
    }
}

/// [`multi_row_sum`] of each column: `row(i)` is row `i` (as wide as `out`); column `c`'s sum
/// goes to `out[c]`.
#[inline]
fn multi_row_sum_cols<'a, T: Num + 'a>(size: usize, row: impl Fn(usize) -> &'a [T], out: &mut [T]) {
    const LEVELS: usize = 4;
    let w = out.len();
    let level_power = 4.max(ceil_log2(size) / LEVELS);
    let level_step = 1usize << level_power;
    let level_mask = level_step - 1;
    let mut acc = vec![T::zero(); LEVELS * w];
    let mut i = 0;
    while i + level_step <= size {
        for _ in 0..level_step {
            add_into(&mut acc[..w], row(i));
            i += 1;
        }
        for j in 1..LEVELS {
            let (lower, upper) = acc.split_at_mut(j * w);
            let lower = &mut lower[(j - 1) * w..];
            add_into(&mut upper[..w], lower);
            lower.fill(T::zero());
            if i & (level_mask << (j * level_power)) != 0 {
                break;
            }
        }
    }
    while i < size {
        add_into(&mut acc[..w], row(i));
        i += 1;
    }
    out.copy_from_slice(&acc[..w]);
    for level in acc[w..].chunks_exact(w) {
        add_into(out, level);
    }
}

/// [`row_sum`] of each column (as [`multi_row_sum_cols`]).
#[inline]
fn row_sum_cols<'a, T: Num + 'a>(size: usize, row: impl Fn(usize) -> &'a [T], out: &mut [T]) {
    const ILP: usize = 4;
    let w = out.len();
    let size_ilp = size / ILP;
    let mut partial = vec![T::zero(); ILP * w];
    for (k, p) in partial.chunks_exact_mut(w).enumerate() {
        multi_row_sum_cols(size_ilp, |r| row(r * ILP + k), p);
    }
    for i in size_ilp * ILP..size {
        add_into(&mut partial[..w], row(i));
    }
    out.copy_from_slice(&partial[..w]);
    for p in partial[w..].chunks_exact(w) {
        add_into(out, p);
    }
}

/// The variance of a run of values (divided by `n - correction`, or by 0 when that is not
/// positive), by Welford's algorithm with a float64 accumulator, one element at a time in order:
/// ATen's `WelfordOps<scalar_t, double>` as its CPU `std_var_kernel` runs it for a reduction over
/// some dims.
pub(crate) fn welford_var<T: Float>(values: impl Iterator<Item = T>, correction: f64) -> f64 {
    let (mut mean, mut m2, mut n) = (0.0f64, 0.0f64, 0i64);
    for x in values {
        let x = x.to_f64();
        n += 1;
        let delta = x - mean;
        mean += delta / n as f64;
        m2 += delta * (x - mean);
    }
    let nf = n as f64;
    let divisor = if nf > correction {
        nf - correction
    } else {
        0.0
    };
    m2 / divisor
}

/// The variance of all elements as ATen's `std_var_all_cpu` computes it: the mean in the
/// tensor's own dtype (a cascade sum divided by `n`), then the squared deviations summed in
/// float64 in memory order, divided by `max(0, n - correction)`.
pub(crate) fn full_var<T: Float + SumLanes>(values: &[T], correction: f64) -> f64 {
    let n = values.len();
    let mean = (sum(values) / T::from_f64(n as f64)).to_f64();
    let mut acc = 0.0f64;
    for &x in values {
        let dx = x.to_f64() - mean;
        acc += dx * dx;
    }
    acc / (n as f64 - correction).max(0.0)
}

/// Index and value of the maximum (or minimum) of a slice; NaN wins, ties keep the first index,
/// as in PyTorch.
pub(crate) fn arg_extreme<T: Element>(s: &[T], max: bool) -> (usize, T) {
    #[allow(clippy::eq_op)]
    let is_nan = |x: T| x != x;
    let mut best = s[0];
    let mut idx = 0;
    if is_nan(best) {
        return (0, best);
    }
    for (i, &x) in s.iter().enumerate().skip(1) {
        if is_nan(x) {
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

/// Log-softmax of one row, shifted by its maximum for stability (softmax has its own kernel,
/// `softmax.rs`).
pub(crate) fn log_softmax_row<T: Float>(x: &[T], out: &mut [T]) {
    let mut max = T::lowest();
    for &v in x {
        max = max.max_nan(v);
    }
    let mut sum = T::zero();
    for &v in x {
        sum += (v - max).exp();
    }
    let lse = sum.ln();
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v - max - lse;
    }
}

/// ATen's `nll_loss_out_frame` reduction over `rows` of `classes` values: the negated value at
/// each row's target (times its class weight), accumulated in the element type through its
/// 8-level cascade (levels of 16, an ignored row skipping its flush as in ATen), then summed
/// left to right; returns the loss sum and the total weight.
pub(crate) fn nll_loss<T: Float>(
    x: &[T],
    classes: usize,
    target: &[i64],
    weight: Option<&[T]>,
    ignore_index: i64,
) -> (T, T) {
    const LEVELS: usize = 8;
    let rows = target.len();
    let level_power = 4.max(ceil_log2_nll(rows) / LEVELS);
    let level_mask = (1usize << level_power) - 1;
    let mut loss = [T::zero(); LEVELS];
    let mut total = [T::zero(); LEVELS];
    let mut ignored = 0usize;
    for (b, &t) in target.iter().enumerate() {
        if t == ignore_index {
            ignored += 1;
            continue;
        }
        let v = x[b * classes + t as usize];
        match weight {
            Some(w) => {
                let wt = w[t as usize];
                loss[0] = loss[0] - v * wt;
                total[0] += wt;
            }
            None => loss[0] = loss[0] - v,
        }
        for j in 0..LEVELS - 1 {
            if b & (level_mask << (j * level_power)) != 0 {
                break;
            }
            loss[j + 1] += loss[j];
            total[j + 1] += total[j];
            loss[j] = T::zero();
            total[j] = T::zero();
        }
    }
    let sum = loss.iter().fold(T::zero(), |a, &b| a + b);
    let total_weight = match weight {
        Some(_) => total.iter().fold(T::zero(), |a, &b| a + b),
        None => T::from_f64((rows - ignored) as f64),
    };
    (sum, total_weight)
}

/// ATen's `utils::CeilLog2` as the NLL cascade uses it (1 for sizes up to 2).
fn ceil_log2_nll(x: usize) -> usize {
    if x <= 2 {
        1
    } else {
        (usize::BITS - (x - 1).leading_zeros()) as usize
    }
}

#[cfg(test)]
mod lane_sum_tests {
    use super::*;

    /// ATen's order lane by lane, as `sum` computed it before it read the data in one pass.
    fn reference<T: SumLanes>(s: &[T]) -> T {
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

    #[test]
    fn one_pass_lane_sums_are_bit_identical_to_lane_by_lane_ones() {
        let mut state = 0x2545f4914f6cdd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let data: Vec<f64> = (0..300_000).map(|_| next() * 1e3).collect();
        let data32: Vec<f32> = data.iter().map(|&x| x as f32).collect();
        let ints: Vec<i64> = data.iter().map(|&x| x as i64).collect();
        let mut sizes: Vec<usize> = (0..300).collect();
        sizes.extend([
            511, 512, 513, 4095, 4096, 4097, 65535, 65536, 65537, 100_003, 300_000,
        ]);
        for n in sizes {
            assert_eq!(
                sum(&data32[..n]).to_bits(),
                reference(&data32[..n]).to_bits(),
                "f32 {n}"
            );
            assert_eq!(
                sum(&data[..n]).to_bits(),
                reference(&data[..n]).to_bits(),
                "f64 {n}"
            );
            assert_eq!(sum(&ints[..n]), reference(&ints[..n]), "i64 {n}");
        }
    }

    /// `sum_cols` as it was: each column summed alone, reading down the column.
    fn cols_reference<T: SumLanes>(data: &[T], rows: usize, cols: usize) -> Vec<T> {
        let lanes = T::LANES;
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

    #[test]
    fn blocked_column_sums_are_bit_identical_to_column_by_column_ones() {
        let mut state = 0x9e3779b97f4a7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let data: Vec<f64> = (0..200_000).map(|_| next() * 1e3).collect();
        let data32: Vec<f32> = data.iter().map(|&x| x as f32).collect();
        let ints: Vec<i64> = data.iter().map(|&x| x as i64).collect();
        for rows in [0, 1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 257, 1000, 2048] {
            for cols in [1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 40, 64, 70, 97] {
                let n = rows * cols;
                if n > data.len() {
                    continue;
                }
                let got: Vec<u32> = sum_cols(&data32[..n], rows, cols)
                    .iter()
                    .map(|x| x.to_bits())
                    .collect();
                let want: Vec<u32> = cols_reference(&data32[..n], rows, cols)
                    .iter()
                    .map(|x| x.to_bits())
                    .collect();
                assert_eq!(got, want, "f32 {rows}x{cols}");
                let got: Vec<u64> = sum_cols(&data[..n], rows, cols)
                    .iter()
                    .map(|x| x.to_bits())
                    .collect();
                let want: Vec<u64> = cols_reference(&data[..n], rows, cols)
                    .iter()
                    .map(|x| x.to_bits())
                    .collect();
                assert_eq!(got, want, "f64 {rows}x{cols}");
                assert_eq!(
                    sum_cols(&ints[..n], rows, cols),
                    cols_reference(&ints[..n], rows, cols),
                    "i64 {rows}x{cols}"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::{Layout, ReducePlan, Shape};

    #[test]
    fn strided_rows_give_the_bits_of_a_full_copy() {
        // An NCHW gradient summed over N, H and W (a conv bias's), and a transposed matrix's rows.
        for (dims, reduce) in [
            (vec![64usize, 6, 11, 11], vec![0i64, 2, 3]),
            (vec![3, 5, 700], vec![0, 2]),
            (vec![2000, 3], vec![0]),
        ] {
            let shape = Shape::new(&dims);
            let values: Vec<f32> = crate::kernels::cpu::gemm::tests::lcg(shape.numel(), 7)
                .into_iter()
                .map(|x| x as f32)
                .collect();
            let layout = Layout::contiguous(shape.clone());
            let plan = ReducePlan::new(&shape, &reduce, false);
            let rows = plan.rows_layout(&layout);
            let copy = crate::kernels::cpu::strided::to_contiguous(&values, &rows);
            let expected = sum_rows(&copy, plan.count);
            let got = sum_strided_rows(&values, &rows, rows.ndim() - plan.dims.len());
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&expected), "{dims:?} over {reduce:?}");
        }
    }
}
