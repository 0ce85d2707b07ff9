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
    per_plane2((&mut out, &mut idx), chunk, work, |p, out, idx| {
        let base = offsets[p];
        let mut k = 0;
        for &(h0, h1) in rows {
            for &(w0, w1) in cols {
                let (v, i) = window_max(x, base, (sh, sw), width, (h0, h1, dh), (w0, w1, dw));
                out[k] = v;
                idx[k] = i;
                k += 1;
            }
        }
    });
    (out, idx)
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
    per_plane(&mut gi, plane_size, work, |p, dst| {
        let (gb, ib) = (g_offsets[p], i_offsets[p]);
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
