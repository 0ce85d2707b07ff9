//! Window reductions for pooling: max with argmax indices, average, plain and adaptive, and their
//! backward scatters. Every kernel treats the last two dims as the plane (height, width) and every
//! leading dim as one more plane; inputs are read through their strides in place (no copy), and
//! results are new contiguous buffers (planes × output height × output width).
//!
//! The loops follow ATen's contiguous CPU kernels (`aten/src/ATen/native/cpu/MaxPoolKernel.cpp`
//! `cpu_max_pool`, `AvgPoolKernel.cpp` `cpu_avg_pool`, `AdaptiveAvgPoolKernel.cpp`,
//! `AdaptiveMaxPoolKernel.cpp`): the same window bounds, the same summation order (rows, then
//! columns) and the same divisions, so results match PyTorch bit for bit.

use super::alloc;
use crate::backend::{AvgDivisor, PoolWindows};
use crate::dtype::Num;
use crate::shape::{Layout, for_each_offset};

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

/// `max_pool2d_with_indices`: per output, the window maximum and its position in the plane.
pub(crate) fn max_pool2d<T: Num>(x: &[T], layout: &Layout, w: &PoolWindows) -> (Vec<T>, Vec<i64>) {
    let (offsets, sh, sw) = planes(layout);
    let [oh_n, ow_n] = w.output;
    let [ih_n, iw_n] = w.input;
    let n = offsets.len() * oh_n * ow_n;
    let (mut out, mut idx) = (alloc::buffer(n), alloc::buffer(n));
    // The column bounds are the same for every row and plane: computed once.
    let cols: Vec<(usize, usize)> = (0..ow_n)
        .map(|ow| {
            max_bounds(
                ow,
                iw_n,
                w.kernel[1],
                w.stride[1],
                w.padding[1],
                w.dilation[1],
            )
        })
        .collect();
    for &base in &offsets {
        for oh in 0..oh_n {
            let (h0, h1) = max_bounds(
                oh,
                ih_n,
                w.kernel[0],
                w.stride[0],
                w.padding[0],
                w.dilation[0],
            );
            for &(w0, w1) in &cols {
                let (v, i) = window_max(
                    x,
                    base,
                    (sh, sw),
                    iw_n,
                    (h0, h1, w.dilation[0]),
                    (w0, w1, w.dilation[1]),
                );
                out.push(v);
                idx.push(i);
            }
        }
    }
    (out, idx)
}

/// `adaptive_max_pool2d`: per output, the maximum of its adaptive window and its position.
pub(crate) fn adaptive_max_pool2d<T: Num>(
    x: &[T],
    layout: &Layout,
    output: [usize; 2],
) -> (Vec<T>, Vec<i64>) {
    let (offsets, sh, sw) = planes(layout);
    let nd = layout.ndim();
    let (ih_n, iw_n) = (layout.dims()[nd - 2], layout.dims()[nd - 1]);
    let [oh_n, ow_n] = output;
    let n = offsets.len() * oh_n * ow_n;
    let (mut out, mut idx) = (alloc::buffer(n), alloc::buffer(n));
    let cols: Vec<(usize, usize)> = (0..ow_n)
        .map(|ow| adaptive_bounds(ow, ow_n, iw_n))
        .collect();
    for &base in &offsets {
        for oh in 0..oh_n {
            let (h0, h1) = adaptive_bounds(oh, oh_n, ih_n);
            for &(w0, w1) in &cols {
                let (v, i) = window_max(x, base, (sh, sw), iw_n, (h0, h1, 1), (w0, w1, 1));
                out.push(v);
                idx.push(i);
            }
        }
    }
    (out, idx)
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
    let per_plane: usize = layout.dims()[nd.saturating_sub(2)..].iter().product();
    let planes = layout.numel().checked_div(per_plane).unwrap_or(0);
    let mut gi = alloc::zeroed(planes * plane_size);
    if layout.numel() == 0 {
        return gi;
    }
    let (mut plane, mut count) = (0usize, 0usize);
    for_each_offset(
        layout.dims(),
        [&layout.strides, &indices_layout.strides],
        [layout.offset, indices_layout.offset],
        |[g, i]| {
            let at = indices[i];
            // ATen skips the -1 of an empty window.
            if at >= 0 {
                gi[plane * plane_size + at as usize] += grad[g];
            }
            count += 1;
            if count == per_plane {
                count = 0;
                plane += 1;
            }
        },
    );
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

/// The divisor of one average-pool window.
#[inline]
fn avg_divide_factor(d: AvgDivisor, padded: usize, inside: usize) -> i64 {
    match d.divisor_override {
        Some(v) => v,
        None if d.count_include_pad => padded as i64,
        None => inside as i64,
    }
}

/// `avg_pool2d`: each window's sum (rows, then columns, in the input's dtype) over the divisor.
pub(crate) fn avg_pool2d<T: Num>(
    x: &[T],
    layout: &Layout,
    w: &PoolWindows,
    divisor: AvgDivisor,
) -> Vec<T> {
    let (offsets, sh, sw) = planes(layout);
    let [oh_n, ow_n] = w.output;
    let [ih_n, iw_n] = w.input;
    let mut out = alloc::buffer(offsets.len() * oh_n * ow_n);
    let cols: Vec<(usize, usize, usize)> = (0..ow_n)
        .map(|ow| avg_bounds(ow, iw_n, w.kernel[1], w.stride[1], w.padding[1]))
        .collect();
    for &base in &offsets {
        for oh in 0..oh_n {
            let (h0, h1, ph) = avg_bounds(oh, ih_n, w.kernel[0], w.stride[0], w.padding[0]);
            for &(w0, w1, pw) in &cols {
                if h0 >= h1 || w0 >= w1 {
                    out.push(T::zero());
                    continue;
                }
                let sum = window_sum(x, base, (sh, sw), (h0, h1), (w0, w1));
                let factor = avg_divide_factor(divisor, ph * pw, (h1 - h0) * (w1 - w0));
                out.push(sum / T::from_i64(factor));
            }
        }
    }
    out
}

/// `avg_pool2d_backward` (ATen's `cpu_avg_pool_backward`): each output's gradient over its
/// divisor, added to every input position of its window.
pub(crate) fn avg_pool2d_backward<T: Num>(
    grad: &[T],
    layout: &Layout,
    w: &PoolWindows,
    divisor: AvgDivisor,
) -> Vec<T> {
    let (offsets, sh, sw) = planes(layout);
    let [oh_n, ow_n] = w.output;
    let [ih_n, iw_n] = w.input;
    let plane = ih_n * iw_n;
    let mut gi = alloc::zeroed(offsets.len() * plane);
    let cols: Vec<(usize, usize, usize)> = (0..ow_n)
        .map(|ow| avg_bounds(ow, iw_n, w.kernel[1], w.stride[1], w.padding[1]))
        .collect();
    for (p, &base) in offsets.iter().enumerate() {
        let dst = &mut gi[p * plane..(p + 1) * plane];
        for oh in 0..oh_n {
            let (h0, h1, ph) = avg_bounds(oh, ih_n, w.kernel[0], w.stride[0], w.padding[0]);
            for (ow, &(w0, w1, pw)) in cols.iter().enumerate() {
                if h0 >= h1 || w0 >= w1 {
                    continue;
                }
                let factor = avg_divide_factor(divisor, ph * pw, (h1 - h0) * (w1 - w0));
                let delta = grad[base + oh * sh + ow * sw] / T::from_i64(factor);
                for ih in h0..h1 {
                    for v in &mut dst[ih * iw_n + w0..ih * iw_n + w1] {
                        *v += delta;
                    }
                }
            }
        }
    }
    gi
}

/// `_adaptive_avg_pool2d`: each adaptive window's sum divided by its height, then its width.
pub(crate) fn adaptive_avg_pool2d<T: Num>(x: &[T], layout: &Layout, output: [usize; 2]) -> Vec<T> {
    let (offsets, sh, sw) = planes(layout);
    let nd = layout.ndim();
    let (ih_n, iw_n) = (layout.dims()[nd - 2], layout.dims()[nd - 1]);
    let [oh_n, ow_n] = output;
    let mut out = alloc::buffer(offsets.len() * oh_n * ow_n);
    let cols: Vec<(usize, usize)> = (0..ow_n)
        .map(|ow| adaptive_bounds(ow, ow_n, iw_n))
        .collect();
    for &base in &offsets {
        for oh in 0..oh_n {
            let (h0, h1) = adaptive_bounds(oh, oh_n, ih_n);
            for &(w0, w1) in &cols {
                let sum = window_sum(x, base, (sh, sw), (h0, h1), (w0, w1));
                out.push(sum / T::from_i64((h1 - h0) as i64) / T::from_i64((w1 - w0) as i64));
            }
        }
    }
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
    let (oh_n, ow_n) = (layout.dims()[nd - 2], layout.dims()[nd - 1]);
    let [ih_n, iw_n] = input;
    let plane = ih_n * iw_n;
    let mut gi = alloc::zeroed(offsets.len() * plane);
    let cols: Vec<(usize, usize)> = (0..ow_n)
        .map(|ow| adaptive_bounds(ow, ow_n, iw_n))
        .collect();
    for (p, &base) in offsets.iter().enumerate() {
        let dst = &mut gi[p * plane..(p + 1) * plane];
        for oh in 0..oh_n {
            let (h0, h1) = adaptive_bounds(oh, oh_n, ih_n);
            for (ow, &(w0, w1)) in cols.iter().enumerate() {
                let g = grad[base + oh * sh + ow * sw];
                let delta = g / T::from_i64((h1 - h0) as i64) / T::from_i64((w1 - w0) as i64);
                for ih in h0..h1 {
                    for v in &mut dst[ih * iw_n + w0..ih * iw_n + w1] {
                        *v += delta;
                    }
                }
            }
        }
    }
    gi
}
