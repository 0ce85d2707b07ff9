//! Window reductions for pooling: max with argmax indices, average, plain and adaptive, and their
//! backward scatters. Every kernel treats the last two dims as the plane (height, width) and every
//! leading dim as one more plane; inputs are read through their strides in place (no copy), and
//! results are new contiguous buffers (planes × output height × output width). Large poolings
//! spread their planes over rayon's pool; each plane is computed alone, so results never depend
//! on the thread count.
//!
//! The loops follow ATen's contiguous CPU kernels (`aten/src/ATen/native/cpu/MaxPoolKernel.cpp`
//! `cpu_max_pool`, `AvgPoolKernel.cpp` `cpu_avg_pool`, `AdaptiveAvgPoolKernel.cpp`,
//! `AdaptiveMaxPoolKernel.cpp`): the same window bounds, the same summation order (rows, then
//! columns) and the same divisions, so results match PyTorch bit for bit.

use super::{alloc, strided};
use crate::backend::{AvgDivisor, PoolWindows};
use crate::dtype::Num;
use crate::shape::{Layout, for_each_offset};
use std::borrow::Cow;

/// The storage offsets of every plane of a view (the leading dims, row-major), and the strides
/// of its height and width.
fn planes(layout: &Layout) -> (Vec<usize>, usize, usize) {
    let nd = layout.ndim();
    debug_assert!(nd >= 2, "pooling kernels take at least (height, width)");
    let (sh, sw) = (layout.strides[nd - 2], layout.strides[nd - 1]);
    let lead = &layout.dims()[..nd - 2];
    let n: usize = lead.iter().product();
    let mut offsets = Vec::with_capacity(n);
    if lead.is_empty() {
        offsets.push(layout.offset);
    } else {
        for_each_offset(lead, [&layout.strides[..nd - 2]], [layout.offset], |[o]| {
            offsets.push(o)
        });
    }
    (offsets, sh, sw)
}

/// The input as the window loops read it: a view that repeats its elements along the width
/// (stride 0, a broadcast) is copied to a contiguous buffer first, because the loops walk each
/// window row with a positive step; every other view is read in place.
fn readable<'a, T: Copy>(x: &'a [T], layout: &Layout) -> (Cow<'a, [T]>, Layout) {
    let nd = layout.ndim();
    if layout.strides[nd - 1] == 0 && layout.dims()[nd - 1] > 1 {
        let dense = strided::to_contiguous(x, layout);
        (Cow::Owned(dense), Layout::contiguous(layout.shape.clone()))
    } else {
        (Cow::Borrowed(x), layout.clone())
    }
}

/// One axis of a strided window: the first and one-past-last input positions inside the input,
/// as `cpu_max_pool` computes them (the start moved into the input by whole dilation steps).
#[inline]
fn max_bounds(o: usize, size: usize, k: usize, s: usize, p: usize, d: usize) -> (usize, usize) {
    let mut start = (o * s) as i64 - p as i64;
    let end = (start + ((k - 1) * d) as i64 + 1).min(size as i64);
    while start < 0 {
        start += d as i64;
    }
    (start as usize, end.max(start) as usize)
}

/// One axis of an adaptive window: ATen's `start_index` (floor(o·in/out)) and `end_index`
/// (ceil((o+1)·in/out)).
#[inline]
fn adaptive_bounds(o: usize, out: usize, size: usize) -> (usize, usize) {
    (o * size / out, ((o + 1) * size).div_ceil(out))
}

/// The elements of one window row: `count` elements `step` apart from `start` (an iterator, so
/// the loop carries no bounds checks).
#[inline(always)]
fn row<T: Copy>(x: &[T], start: usize, step: usize, count: usize) -> impl Iterator<Item = T> + '_ {
    debug_assert!(
        step > 0 || count <= 1,
        "a broadcast width is copied first (`readable`)"
    );
    let tail = if count == 0 { &[][..] } else { &x[start..] };
    tail.iter().step_by(step.max(1)).take(count).copied()
}

/// The window maximum and its flattened position: the first position is the default, and a later
/// element replaces the running maximum when it is greater or NaN (ATen's
/// `(val > maxval) || is_nan(val)`), so the last NaN of a window wins.
#[inline(always)]
fn window_max<T: Num>(
    x: &[T],
    base: usize,
    (sh, sw): (usize, usize),
    width: usize,
    (h0, h1, dh): (usize, usize, usize),
    (w0, w1, dw): (usize, usize, usize),
) -> (T, i64) {
    let mut maxval = T::lowest();
    let mut maxindex = (h0 * width + w0) as i64;
    let count = (w1 - w0).div_ceil(dw);
    for ih in (h0..h1).step_by(dh) {
        let first = ih * width + w0;
        for (k, v) in row(x, base + ih * sh + w0 * sw, sw * dw, count).enumerate() {
            if v > maxval || v.is_nan() {
                maxval = v;
                maxindex = (first + k * dw) as i64;
            }
        }
    }
    (maxval, maxindex)
}

/// The sum of a window (rows, then columns, in the input's dtype: ATen's order).
#[inline(always)]
fn window_sum<T: Num>(
    x: &[T],
    base: usize,
    (sh, sw): (usize, usize),
    (h0, h1): (usize, usize),
    (w0, w1): (usize, usize),
) -> T {
    let mut sum = T::zero();
    for ih in h0..h1 {
        for v in row(x, base + ih * sh + w0 * sw, sw, w1 - w0) {
            sum += v;
        }
    }
    sum
}

/// Below this many elements read and written, a pooling runs on the calling thread; above it,
/// its planes are spread over rayon's pool (each plane is independent, as in ATen's
/// `parallel_for` over channels, so the results do not depend on the split).
const PARALLEL_MIN_ELEMENTS: usize = 1 << 16;

/// Runs `f(plane, out)` for every plane with its chunk of the output (`chunk` elements each).
fn per_plane<T: Send>(
    out: &mut [T],
    chunk: usize,
    work: usize,
    f: impl Fn(usize, &mut [T]) + Sync + Send,
) {
    if chunk == 0 {
        return;
    }
    if work >= PARALLEL_MIN_ELEMENTS && rayon::current_num_threads() > 1 {
        use rayon::prelude::*;
        out.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(p, o)| f(p, o));
    } else {
        out.chunks_mut(chunk).enumerate().for_each(|(p, o)| f(p, o));
    }
}

/// Runs `f(plane, values, indices)` for every plane with its chunks of two outputs.
fn per_plane2<T: Send, U: Send>(
    (a, b): (&mut [T], &mut [U]),
    chunk: usize,
    work: usize,
    f: impl Fn(usize, &mut [T], &mut [U]) + Sync + Send,
) {
    if chunk == 0 {
        return;
    }
    if work >= PARALLEL_MIN_ELEMENTS && rayon::current_num_threads() > 1 {
        use rayon::prelude::*;
        a.par_chunks_mut(chunk)
            .zip(b.par_chunks_mut(chunk))
            .enumerate()
            .for_each(|(p, (a, b))| f(p, a, b));
    } else {
        a.chunks_mut(chunk)
            .zip(b.chunks_mut(chunk))
            .enumerate()
            .for_each(|(p, (a, b))| f(p, a, b));
    }
}

/// The maxima of every window given by row bounds `rows` and column bounds `cols` (with their
/// dilations), and their positions in the plane: the shared body of the max poolings.
fn max_windows<T: Num>(
    x: &[T],
    layout: &Layout,
    rows: &[(usize, usize)],
    cols: &[(usize, usize)],
    (dh, dw): (usize, usize),
) -> (Vec<T>, Vec<i64>) {
    let (x, layout) = readable(x, layout);
    let (x, layout) = (&x[..], &layout);
    let (offsets, sh, sw) = planes(layout);
    let width = layout.dims()[layout.ndim() - 1];
    let chunk = rows.len() * cols.len();
    let n = offsets.len() * chunk;
    let (mut out, mut idx) = (alloc::zeroed::<T>(n), alloc::zeroed::<i64>(n));
    let work = layout.numel() + n;
    // Rows of unit stride without dilation (every pooling of a contiguous activation): windows
    // read as slices, and 2 × 2 windows (MaxPool2d(2)'s) without any loop at all. The general
    // loop's per-window `step_by` divisions and branches made it several times slower.
    let unit = sw == 1 && dh == 1 && dw == 1;
    let pairs = unit && rows.iter().chain(cols).all(|&(a, b)| b - a == 2);
    per_plane2((&mut out, &mut idx), chunk, work, |p, out, idx| {
        let base = offsets[p];
        if pairs {
            max_pairs(x, base, sh, width, (rows, cols), (out, idx));
            return;
        }
        let mut k = 0;
        for &(h0, h1) in rows {
            for &(w0, w1) in cols {
                let (v, i) = if unit {
                    window_max_unit(x, base, sh, width, (h0, h1), (w0, w1))
                } else {
                    window_max(x, base, (sh, sw), width, (h0, h1, dh), (w0, w1, dw))
                };
                out[k] = v;
                idx[k] = i;
                k += 1;
            }
        }
    });
    (out, idx)
}

/// One step of the window maximum: `v` at plane position `at` replaces the running maximum
/// when it is greater or NaN (ATen's `(val > maxval) || is_nan(val)`), written as selects.
#[inline(always)]
fn take_max<T: Num>(v: T, at: usize, (maxval, maxindex): (T, usize)) -> (T, usize) {
    if v > maxval || v.is_nan() {
        (v, at)
    } else {
        (maxval, maxindex)
    }
}

/// [`window_max`] for rows of unit stride and no dilation: each window row is a slice.
#[inline(always)]
fn window_max_unit<T: Num>(
    x: &[T],
    base: usize,
    sh: usize,
    width: usize,
    (h0, h1): (usize, usize),
    (w0, w1): (usize, usize),
) -> (T, i64) {
    let mut m = (T::lowest(), h0 * width + w0);
    for ih in h0..h1 {
        let first = ih * width + w0;
        let start = base + ih * sh + w0;
        for (k, &v) in x[start..start + (w1 - w0)].iter().enumerate() {
            m = take_max(v, first + k, m);
        }
    }
    (m.0, m.1 as i64)
}

/// One axis of a window: its first and one-past-last input positions.
type Bounds = (usize, usize);

/// The maxima of one plane's 2 × 2 windows (rows of unit stride, every window two rows by two
/// columns): the four elements in ATen's order, row by row. Starting from the first element
/// instead of `-inf` gives the same value and index: the first element replaces `-inf` unless it
/// is `-inf` itself, and then both keep `-inf` at the first position.
#[inline(always)]
fn max_pairs<T: Num>(
    x: &[T],
    base: usize,
    sh: usize,
    width: usize,
    (rows, cols): (&[Bounds], &[Bounds]),
    (out, idx): (&mut [T], &mut [i64]),
) {
    let ow_n = cols.len();
    // MaxPool2d(2) without padding: window `j` of a row starts at column `2j`, so a row pair is
    // read as consecutive pairs, with no bounds list and no bounds checks (and no branch: the
    // selects below become blends when the loop is vectorised).
    let tiled = |b: &[(usize, usize)]| b.iter().enumerate().all(|(i, &(s, _))| s == 2 * i);
    let dense = tiled(rows) && tiled(cols);
    for (i, &(h0, _)) in rows.iter().enumerate() {
        let r0 = &x[base + h0 * sh..][..width];
        let r1 = &x[base + (h0 + 1) * sh..][..width];
        let (p0, p1) = ((h0 * width) as i64, ((h0 + 1) * width) as i64);
        let o = &mut out[i * ow_n..][..ow_n];
        let ix = &mut idx[i * ow_n..][..ow_n];
        if dense {
            let below = width as i64;
            let (r0, r1) = (&r0[..2 * ow_n], &r1[..2 * ow_n]);
            // The float32 windows four at a time with vector blends: the compiler turns the
            // selects of the scalar loop into branches, which random data mispredicts (five
            // times slower than this).
            let done = f32_pairs::run(r0, r1, (p0, below), o, ix);
            let pairs = r0[2 * done..]
                .chunks_exact(2)
                .zip(r1[2 * done..].chunks_exact(2));
            let rest = o[done..].iter_mut().zip(&mut ix[done..]);
            for (j, ((top, bottom), (o, ix))) in pairs.zip(rest).enumerate() {
                let j = j + done;
                let m = take_max_at(top[1], 1, (top[0], 0));
                let m = take_max_at(bottom[0], below, m);
                let m = take_max_at(bottom[1], below + 1, m);
                *o = m.0;
                *ix = p0 + 2 * j as i64 + m.1;
            }
            continue;
        }
        for (&(w0, _), (o, ix)) in cols.iter().zip(o.iter_mut().zip(ix)) {
            let (a, b) = (r0[w0], r0[w0 + 1]);
            let (c, d) = (r1[w0], r1[w0 + 1]);
            let w0 = w0 as i64;
            let m = take_max_at(b, p0 + w0 + 1, (a, p0 + w0));
            let m = take_max_at(c, p1 + w0, m);
            let m = take_max_at(d, p1 + w0 + 1, m);
            *o = m.0;
            *ix = m.1;
        }
    }
}

/// The float32 2 × 2 windows of one row pair, in vector registers.
mod f32_pairs {
    use crate::dtype::{DType, Element};

    /// Writes the maxima and positions of the leading windows of `top`/`bottom` (two rows of
    /// consecutive pairs, windows `0..out.len()`) when `T` is float32 and the CPU has the
    /// kernel; returns how many windows it wrote (the caller does the rest).
    pub(super) fn run<T: Element>(
        top: &[T],
        bottom: &[T],
        (first, width): (i64, i64),
        out: &mut [T],
        idx: &mut [i64],
    ) -> usize {
        if T::DTYPE != DType::F32 {
            return 0;
        }
        // SAFETY: `T` is `f32` (its dtype tag says so, and each tag has one type), so the
        // slices are float32 slices of the same lengths.
        let (top, bottom, out) = unsafe {
            let f = |s: &[T]| std::slice::from_raw_parts(s.as_ptr() as *const f32, s.len());
            let o = std::slice::from_raw_parts_mut(out.as_mut_ptr() as *mut f32, out.len());
            (f(top), f(bottom), o)
        };
        kernel(top, bottom, (first, width), out, idx)
    }

    #[cfg(target_arch = "x86_64")]
    fn kernel(
        top: &[f32],
        bottom: &[f32],
        (first, width): (i64, i64),
        out: &mut [f32],
        idx: &mut [i64],
    ) -> usize {
        use std::arch::x86_64::*;
        let n = out.len().min(idx.len());
        assert!(top.len() >= 2 * n && bottom.len() >= 2 * n);
        let mut j = 0;
        while j + 4 <= n {
            let mut code = [0i32; 4];
            // SAFETY: SSE2 is part of the x86_64 baseline; the loads read elements
            // `2j..2j + 8` of rows holding at least `2n >= 2j + 8`, the store writes `j..j + 4`
            // of `out` (`j + 4 <= n`), and `code` holds four lanes.
            unsafe {
                let (t, b) = (top.as_ptr().add(2 * j), bottom.as_ptr().add(2 * j));
                let (t0, t1) = (_mm_loadu_ps(t), _mm_loadu_ps(t.add(4)));
                let (b0, b1) = (_mm_loadu_ps(b), _mm_loadu_ps(b.add(4)));
                // Even lanes are each window's left column, odd lanes its right one.
                let a = _mm_shuffle_ps::<0b10_00_10_00>(t0, t1);
                let bb = _mm_shuffle_ps::<0b11_01_11_01>(t0, t1);
                let c = _mm_shuffle_ps::<0b10_00_10_00>(b0, b1);
                let d = _mm_shuffle_ps::<0b11_01_11_01>(b0, b1);
                let (mut m, mut s) = (a, _mm_setzero_si128());
                for (v, k) in [(bb, 1), (c, 2), (d, 3)] {
                    // ATen's `(val > maxval) || is_nan(val)`, lane by lane.
                    let take = _mm_or_ps(_mm_cmpgt_ps(v, m), _mm_cmpunord_ps(v, v));
                    m = _mm_or_ps(_mm_and_ps(take, v), _mm_andnot_ps(take, m));
                    let ti = _mm_castps_si128(take);
                    s = _mm_or_si128(
                        _mm_and_si128(ti, _mm_set1_epi32(k)),
                        _mm_andnot_si128(ti, s),
                    );
                }
                _mm_storeu_ps(out.as_mut_ptr().add(j), m);
                _mm_storeu_si128(code.as_mut_ptr() as *mut __m128i, s);
            }
            for (l, &k) in code.iter().enumerate() {
                let k = k as i64;
                idx[j + l] = first + 2 * (j + l) as i64 + (k & 1) + (k >> 1) * width;
            }
            j += 4;
        }
        j
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn kernel(_: &[f32], _: &[f32], _: (i64, i64), _: &mut [f32], _: &mut [i64]) -> usize {
        0
    }
}

/// [`take_max`] with an `i64` position (or offset).
#[inline(always)]
fn take_max_at<T: Num>(v: T, at: i64, (maxval, maxindex): (T, i64)) -> (T, i64) {
    let take = v > maxval || v.is_nan();
    (
        if take { v } else { maxval },
        if take { at } else { maxindex },
    )
}

/// `max_pool2d_with_indices`: per output, the window maximum and its position in the plane.
pub(crate) fn max_pool2d<T: Num>(x: &[T], layout: &Layout, w: &PoolWindows) -> (Vec<T>, Vec<i64>) {
    let bounds = |axis: usize| -> Vec<(usize, usize)> {
        (0..w.output[axis])
            .map(|o| {
                let (k, s, p, d) = (
                    w.kernel[axis],
                    w.stride[axis],
                    w.padding[axis],
                    w.dilation[axis],
                );
                max_bounds(o, w.input[axis], k, s, p, d)
            })
            .collect()
    };
    max_windows(
        x,
        layout,
        &bounds(0),
        &bounds(1),
        (w.dilation[0], w.dilation[1]),
    )
}

/// The adaptive windows of one axis.
fn adaptive_axis(out: usize, size: usize) -> Vec<(usize, usize)> {
    (0..out).map(|o| adaptive_bounds(o, out, size)).collect()
}

/// `adaptive_max_pool2d`: per output, the maximum of its adaptive window and its position.
pub(crate) fn adaptive_max_pool2d<T: Num>(
    x: &[T],
    layout: &Layout,
    output: [usize; 2],
) -> (Vec<T>, Vec<i64>) {
    let nd = layout.ndim();
    let rows = adaptive_axis(output[0], layout.dims()[nd - 2]);
    let cols = adaptive_axis(output[1], layout.dims()[nd - 1]);
    max_windows(x, layout, &rows, &cols, (1, 1))
}

/// The max poolings' backward (ATen's `cpu_max_pool_backward`): zeros of `planes × plane_size`,
/// and each gradient element added at its plane's index, in output order.
pub(crate) fn max_pool2d_backward<T: Num>(
    grad: &[T],
    layout: &Layout,
    indices: &[i64],
    indices_layout: &Layout,
    plane_size: usize,
) -> Vec<T> {
    let nd = layout.ndim();
    let (oh_n, ow_n) = (layout.dims()[nd - 2], layout.dims()[nd - 1]);
    let (g_offsets, gh, gw) = planes(layout);
    let (i_offsets, ih, iw) = planes(indices_layout);
    let mut gi = alloc::zeroed(g_offsets.len() * plane_size);
    let work = layout.numel() + gi.len();
    let rows_contiguous = gw == 1 && iw == 1;
    per_plane(&mut gi, plane_size, work, |p, dst| {
        let (gb, ib) = (g_offsets[p], i_offsets[p]);
        if rows_contiguous {
            // Unit-stride rows (the usual gradient and indices): slices instead of an index
            // computation per element; the same additions in the same order.
            for oh in 0..oh_n {
                let g = &grad[gb + oh * gh..][..ow_n];
                let i = &indices[ib + oh * ih..][..ow_n];
                for (&v, &at) in g.iter().zip(i) {
                    if at >= 0 {
                        dst[at as usize] += v;
                    }
                }
            }
            return;
        }
        for oh in 0..oh_n {
            for ow in 0..ow_n {
                let at = indices[ib + oh * ih + ow * iw];
                // ATen skips the -1 of an empty window.
                if at >= 0 {
                    dst[at as usize] += grad[gb + oh * gh + ow * gw];
                }
            }
        }
    });
    gi
}

/// The window bounds of an average pooling at one output position along one axis, and the
/// window's size counting padding (ATen's `cpu_avg_pool`: the end is clipped to the padded input
/// first, then both ends to the input).
#[inline]
fn avg_bounds(o: usize, size: usize, k: usize, s: usize, p: usize) -> (usize, usize, usize) {
    let start = (o * s) as i64 - p as i64;
    let end = (start + k as i64).min((size + p) as i64);
    let padded = (end - start) as usize;
    let (start, end) = (start.max(0), end.min(size as i64));
    (start as usize, end.max(start) as usize, padded)
}

/// The average-pool windows of both axes: (start, end, size with padding) per output position.
type AvgAxes = (Vec<(usize, usize, usize)>, Vec<(usize, usize, usize)>);

fn avg_axes(w: &PoolWindows) -> AvgAxes {
    let axis = |a: usize| {
        (0..w.output[a])
            .map(|o| avg_bounds(o, w.input[a], w.kernel[a], w.stride[a], w.padding[a]))
            .collect()
    };
    (axis(0), axis(1))
}

/// The divisor of one average-pool window.
#[inline]
fn avg_divide_factor(d: AvgDivisor, padded: usize, inside: usize) -> i64 {
    match d.divisor_override {
        Some(v) => v,
        None if d.count_include_pad => padded as i64,
        None => inside as i64,
    }
}

/// `avg_pool2d`: each window's sum (rows, then columns, in the input's dtype) over the divisor;
/// a window entirely in the padding gives 0.
pub(crate) fn avg_pool2d<T: Num>(
    x: &[T],
    layout: &Layout,
    w: &PoolWindows,
    divisor: AvgDivisor,
) -> Vec<T> {
    let (x, layout) = readable(x, layout);
    let (x, layout) = (&x[..], &layout);
    let (offsets, sh, sw) = planes(layout);
    let (rows, cols) = avg_axes(w);
    let chunk = rows.len() * cols.len();
    let mut out = alloc::zeroed(offsets.len() * chunk);
    let work = layout.numel() + out.len();
    per_plane(&mut out, chunk, work, |p, out| {
        let base = offsets[p];
        let mut k = 0;
        for &(h0, h1, ph) in &rows {
            for &(w0, w1, pw) in &cols {
                if h0 < h1 && w0 < w1 {
                    let sum = window_sum(x, base, (sh, sw), (h0, h1), (w0, w1));
                    let factor = avg_divide_factor(divisor, ph * pw, (h1 - h0) * (w1 - w0));
                    out[k] = sum / T::from_i64(factor);
                }
                k += 1;
            }
        }
    });
    out
}

/// Adds `delta` to every element of the window `(h0..h1) × (w0..w1)` of a contiguous plane.
#[inline(always)]
fn spread<T: Num>(
    dst: &mut [T],
    width: usize,
    (h0, h1): (usize, usize),
    (w0, w1): (usize, usize),
    delta: T,
) {
    for ih in h0..h1 {
        for v in &mut dst[ih * width + w0..ih * width + w1] {
            *v += delta;
        }
    }
}

/// `avg_pool2d_backward` (ATen's `cpu_avg_pool_backward`): each output's gradient over its
/// divisor, added to every input position of its window, in output order.
pub(crate) fn avg_pool2d_backward<T: Num>(
    grad: &[T],
    layout: &Layout,
    w: &PoolWindows,
    divisor: AvgDivisor,
) -> Vec<T> {
    let (offsets, sh, sw) = planes(layout);
    let (rows, cols) = avg_axes(w);
    let [ih_n, iw_n] = w.input;
    let mut gi = alloc::zeroed(offsets.len() * ih_n * iw_n);
    let work = layout.numel() + gi.len();
    per_plane(&mut gi, ih_n * iw_n, work, |p, dst| {
        let base = offsets[p];
        for (oh, &(h0, h1, ph)) in rows.iter().enumerate() {
            for (ow, &(w0, w1, pw)) in cols.iter().enumerate() {
                if h0 >= h1 || w0 >= w1 {
                    continue;
                }
                let factor = avg_divide_factor(divisor, ph * pw, (h1 - h0) * (w1 - w0));
                let delta = grad[base + oh * sh + ow * sw] / T::from_i64(factor);
                spread(dst, iw_n, (h0, h1), (w0, w1), delta);
            }
        }
    });
    gi
}

/// `_adaptive_avg_pool2d`: each adaptive window's sum divided by its height, then its width.
pub(crate) fn adaptive_avg_pool2d<T: Num>(x: &[T], layout: &Layout, output: [usize; 2]) -> Vec<T> {
    let (x, layout) = readable(x, layout);
    let (x, layout) = (&x[..], &layout);
    let (offsets, sh, sw) = planes(layout);
    let nd = layout.ndim();
    let rows = adaptive_axis(output[0], layout.dims()[nd - 2]);
    let cols = adaptive_axis(output[1], layout.dims()[nd - 1]);
    let chunk = rows.len() * cols.len();
    let mut out = alloc::zeroed(offsets.len() * chunk);
    let work = layout.numel() + out.len();
    per_plane(&mut out, chunk, work, |p, out| {
        let base = offsets[p];
        let mut k = 0;
        for &(h0, h1) in &rows {
            for &(w0, w1) in &cols {
                let sum = window_sum(x, base, (sh, sw), (h0, h1), (w0, w1));
                out[k] = sum / T::from_i64((h1 - h0) as i64) / T::from_i64((w1 - w0) as i64);
                k += 1;
            }
        }
    });
    out
}

/// `_adaptive_avg_pool2d_backward`: each output's gradient divided by its window's height, then
/// width, added to every input position of the window.
pub(crate) fn adaptive_avg_pool2d_backward<T: Num>(
    grad: &[T],
    layout: &Layout,
    input: [usize; 2],
) -> Vec<T> {
    let (offsets, sh, sw) = planes(layout);
    let nd = layout.ndim();
    let rows = adaptive_axis(layout.dims()[nd - 2], input[0]);
    let cols = adaptive_axis(layout.dims()[nd - 1], input[1]);
    let [ih_n, iw_n] = input;
    let mut gi = alloc::zeroed(offsets.len() * ih_n * iw_n);
    let work = layout.numel() + gi.len();
    per_plane(&mut gi, ih_n * iw_n, work, |p, dst| {
        let base = offsets[p];
        for (oh, &(h0, h1)) in rows.iter().enumerate() {
            for (ow, &(w0, w1)) in cols.iter().enumerate() {
                let g = grad[base + oh * sh + ow * sw];
                let delta = g / T::from_i64((h1 - h0) as i64) / T::from_i64((w1 - w0) as i64);
                spread(dst, iw_n, (h0, h1), (w0, w1), delta);
            }
        }
    });
    gi
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Shape;

    /// The definition of `cpu_max_pool`'s result: each window's elements in row order from
    /// `-inf` at the first position, replaced when greater or NaN.
    fn reference<T: Num>(x: &[T], l: &Layout, w: &PoolWindows) -> (Vec<T>, Vec<i64>) {
        let nd = l.ndim();
        let planes: usize = l.dims()[..nd - 2].iter().product();
        let (sp, sh, sw) = (l.strides[nd - 3], l.strides[nd - 2], l.strides[nd - 1]);
        let [ih_n, iw_n] = w.input;
        let (mut vals, mut idx) = (vec![], vec![]);
        for p in 0..planes {
            for oh in 0..w.output[0] {
                for ow in 0..w.output[1] {
                    let (h0, h1) = max_bounds(
                        oh,
                        ih_n,
                        w.kernel[0],
                        w.stride[0],
                        w.padding[0],
                        w.dilation[0],
                    );
                    let (w0, w1) = max_bounds(
                        ow,
                        iw_n,
                        w.kernel[1],
                        w.stride[1],
                        w.padding[1],
                        w.dilation[1],
                    );
                    let (mut m, mut at) = (T::lowest(), (h0 * iw_n + w0) as i64);
                    for h in (h0..h1).step_by(w.dilation[0]) {
                        for c in (w0..w1).step_by(w.dilation[1]) {
                            let v = x[l.offset + p * sp + h * sh + c * sw];
                            if v > m || v.is_nan() {
                                (m, at) = (v, (h * iw_n + c) as i64);
                            }
                        }
                    }
                    vals.push(m);
                    idx.push(at);
                }
            }
        }
        (vals, idx)
    }

    /// Values that exercise every rule: NaNs (the last wins), `-inf` (the first position
    /// stays), signed zeros (equal: the first stays) and ties.
    fn values(n: usize) -> Vec<f64> {
        let special = [f64::NAN, f64::NEG_INFINITY, -0.0, 0.0, 1.0, 1.0];
        (0..n)
            .map(|i| {
                let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
                if h.is_multiple_of(5) {
                    special[(h / 5) as usize % 6]
                } else {
                    (h % 97) as f64 - 48.0
                }
            })
            .collect()
    }

    fn windows(input: [usize; 2], k: usize, s: usize, p: usize, d: usize) -> PoolWindows {
        let out = |n: usize| (n + 2 * p - d * (k - 1) - 1) / s + 1;
        PoolWindows {
            input,
            output: [out(input[0]), out(input[1])],
            kernel: [k, k],
            stride: [s, s],
            padding: [p, p],
            dilation: [d, d],
        }
    }

    fn same<T: Num>(a: &[T], b: &[T]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                (x.is_nan() && y.is_nan())
                    || (x == y && x.to_f64().to_bits() == y.to_f64().to_bits())
            })
    }

    /// The 2 × 2 fast paths (vector and scalar tails, odd sizes, several planes), the unit-row
    /// path and the general loop (padding, dilation, strided planes) against the definition, in
    /// float32, float64 and int64.
    #[test]
    fn max_pool_paths_match_the_definition() {
        let cases = [
            (windows([26, 26], 2, 2, 0, 1), 1),
            (windows([11, 11], 2, 2, 0, 1), 1),
            (windows([7, 19], 2, 2, 0, 1), 1),
            (windows([6, 9], 2, 1, 0, 1), 1),
            (windows([9, 10], 3, 2, 1, 1), 1),
            (windows([9, 10], 2, 2, 1, 1), 1),
            (windows([9, 10], 2, 1, 0, 2), 1),
            (windows([8, 10], 2, 2, 0, 1), 2),
        ];
        for (w, step) in cases {
            let [h, wd] = w.input;
            // (2, 3, h, wd) planes; with `step` 2 the width is read every other element.
            let dims = [2, 3, h, wd];
            let strides = [3 * h * wd * step, h * wd * step, wd * step, step];
            let l = Layout {
                shape: Shape::new(&dims),
                strides: strides.into_iter().collect(),
                offset: 1,
            };
            let x = values(6 * h * wd * step + 1);
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let xi: Vec<i64> = x
                .iter()
                .map(|&v| if v.is_finite() { v as i64 } else { -7 })
                .collect();
            let (v, i) = max_pool2d(&x, &l, &w);
            let (rv, ri) = reference(&x, &l, &w);
            assert!(same(&v, &rv) && i == ri, "f64 {w:?} step {step}");
            let (v, i) = max_pool2d(&x32, &l, &w);
            let (rv, ri) = reference(&x32, &l, &w);
            assert!(same(&v, &rv) && i == ri, "f32 {w:?} step {step}");
            let (v, i) = max_pool2d(&xi, &l, &w);
            let (rv, ri) = reference(&xi, &l, &w);
            assert!(v == rv && i == ri, "i64 {w:?} step {step}");
        }
    }
}
