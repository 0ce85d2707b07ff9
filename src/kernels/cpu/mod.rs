//! CPU kernels over strided buffers. Everything here works on plain slices plus a [`Layout`];
//! tensors, dtypes and autograd live a level up.

pub(crate) mod fused;
pub(crate) mod gemm;
pub(crate) mod reduce;

use crate::shape::{Layout, broadcast_strides, for_each_offset, for_each_offset2};

/// Copies the elements of a strided view into a new row-major vector.
#[inline]
pub(crate) fn to_contiguous<T: Copy>(data: &[T], layout: &Layout) -> Vec<T> {
    if let Some(r) = layout.contiguous_range() {
        return data[r].to_vec();
    }
    if layout.ndim() == 2 && layout.strides[0] == 1 {
        return transpose_copy(data, layout);
    }
    let mut out = Vec::with_capacity(layout.numel());
    for_each_offset(layout, |o| out.push(data[o]));
    out
}

/// A row-major copy of a column-major matrix view, in cache-sized tiles.
fn transpose_copy<T: Copy>(data: &[T], layout: &Layout) -> Vec<T> {
    const TILE: usize = 32;
    let (rows, cols) = (layout.dims()[0], layout.dims()[1]);
    let cs = layout.strides[1];
    if rows * cols == 0 {
        return Vec::new();
    }
    let mut out = vec![data[layout.offset]; rows * cols];
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for c in c0..(c0 + TILE).min(cols) {
                let src = layout.offset + c * cs;
                for r in r0..(r0 + TILE).min(rows) {
                    out[r * cols + c] = data[src + r];
                }
            }
        }
    }
    out
}

/// Borrows the elements as a row-major slice when possible, else copies them.
#[inline]
pub(crate) fn contiguous_cow<'a, T: Copy>(
    data: &'a [T],
    layout: &Layout,
) -> std::borrow::Cow<'a, [T]> {
    match layout.contiguous_range() {
        Some(r) => std::borrow::Cow::Borrowed(&data[r]),
        None => std::borrow::Cow::Owned(to_contiguous(data, layout)),
    }
}

/// Applies `f` to every element, producing a row-major result.
#[inline]
pub(crate) fn map<T: Copy, U>(data: &[T], layout: &Layout, f: impl Fn(T) -> U) -> Vec<U> {
    if let Some(r) = layout.contiguous_range() {
        return data[r].iter().map(|&x| f(x)).collect();
    }
    let mut out = Vec::with_capacity(layout.numel());
    for_each_offset(layout, |o| out.push(f(data[o])));
    out
}

/// Applies `f` elementwise to two strided inputs broadcast to `out_dims`.
#[inline]
pub(crate) fn zip_map<A: Copy, B: Copy, U>(
    a: &[A],
    la: &Layout,
    b: &[B],
    lb: &Layout,
    out_dims: &[usize],
    f: impl Fn(A, B) -> U,
) -> Vec<U> {
    let n: usize = out_dims.iter().product();
    let same_shape = la.dims() == out_dims && lb.dims() == out_dims;
    if same_shape {
        if let (Some(ra), Some(rb)) = (la.contiguous_range(), lb.contiguous_range()) {
            return a[ra].iter().zip(&b[rb]).map(|(&x, &y)| f(x, y)).collect();
        }
    }
    if lb.numel() == 1 && la.dims() == out_dims {
        let y = b[lb.offset];
        return map(a, la, |x| f(x, y));
    }
    if la.numel() == 1 && lb.dims() == out_dims {
        let x = a[la.offset];
        return map(b, lb, |y| f(x, y));
    }
    let sa = broadcast_strides(la.dims(), &la.strides, out_dims);
    let sb = broadcast_strides(lb.dims(), &lb.strides, out_dims);
    let mut out = Vec::with_capacity(n);
    for_each_offset2(out_dims, &sa, la.offset, &sb, lb.offset, |oa, ob| {
        out.push(f(a[oa], b[ob]))
    });
    out
}

/// Writes `src` (row-major, `dst.numel()` elements) into the strided view `dst`.
#[inline]
pub(crate) fn write_strided<T: Copy>(dst: &mut [T], layout: &Layout, src: &[T]) {
    if let Some(r) = layout.contiguous_range() {
        dst[r].copy_from_slice(src);
        return;
    }
    let mut i = 0;
    for_each_offset(layout, |o| {
        dst[o] = src[i];
        i += 1;
    });
}

/// Updates every element of the strided view `dst` with `f(old, i)` where `i` is the logical index.
#[inline]
pub(crate) fn update_strided<T: Copy>(
    dst: &mut [T],
    layout: &Layout,
    mut f: impl FnMut(T, usize) -> T,
) {
    if let Some(r) = layout.contiguous_range() {
        for (i, x) in dst[r].iter_mut().enumerate() {
            *x = f(*x, i);
        }
        return;
    }
    let mut i = 0;
    for_each_offset(layout, |o| {
        dst[o] = f(dst[o], i);
        i += 1;
    });
}
