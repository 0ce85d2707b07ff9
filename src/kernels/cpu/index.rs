//! Indexing kernels: `index_select`, `gather`, `scatter` / `scatter_add` and `index_add` along
//! one dim. Index values arrive already checked against the dim's size (and wrapped), so the
//! loops only compute offsets.

use super::{alloc, strided};
use crate::dtype::Num;
use crate::shape::{Layout, for_each_offset};

/// A wrapped, checked index (negative indices count from the end).
#[inline(always)]
fn wrap(i: i64, size: usize) -> usize {
    if i < 0 {
        (i + size as i64) as usize
    } else {
        i as usize
    }
}

/// `out[..., k, ...] = src[..., index[k], ...]` along `dim` (the index is 1-D).
pub(crate) fn index_select<T: Copy>(
    src: &[T],
    layout: &Layout,
    dim: usize,
    index: &[i64],
    index_layout: &Layout,
) -> Vec<T> {
    let idx = strided::contiguous_cow(index, index_layout);
    let dims = layout.dims();
    let size = dims[dim];
    let outer: usize = dims[..dim].iter().product();
    let inner: usize = dims[dim + 1..].iter().product();
    let data = strided::contiguous_cow(src, layout);
    let mut out = alloc::buffer(outer * idx.len() * inner);
    for o in 0..outer {
        for &i in idx.iter() {
            let start = (o * size + wrap(i, size)) * inner;
            out.extend_from_slice(&data[start..start + inner]);
        }
    }
    out
}

/// `out[p] = src[p with dim replaced by index[p]]`, shaped like the index.
pub(crate) fn gather<T: Copy>(
    src: &[T],
    layout: &Layout,
    dim: usize,
    index: &[i64],
    index_layout: &Layout,
) -> Vec<T> {
    let size = layout.dims()[dim];
    let stride = layout.strides[dim];
    let mut s_strides = layout.strides.clone();
    s_strides[dim] = 0;
    let mut out = alloc::buffer(index_layout.numel());
    for_each_offset(
        index_layout.dims(),
        [&s_strides, &index_layout.strides],
        [layout.offset, index_layout.offset],
        |[so, io]| out.push(src[so + wrap(index[io], size) * stride]),
    );
    out
}

/// `dst[p with dim replaced by index[p]] (+)= src[p]` for every position of the index.
pub(crate) fn scatter<T: Num>(
    dst: &mut [T],
    layout: &Layout,
    dim: usize,
    (index, index_layout): (&[i64], &Layout),
    (src, src_layout): (&[T], &Layout),
    add: bool,
) {
    let size = layout.dims()[dim];
    let stride = layout.strides[dim];
    let mut d_strides = layout.strides.clone();
    d_strides[dim] = 0;
    for_each_offset(
        index_layout.dims(),
        [&d_strides, &index_layout.strides, &src_layout.strides],
        [layout.offset, index_layout.offset, src_layout.offset],
        |[o, i, s]| {
            let p = o + wrap(index[i], size) * stride;
            dst[p] = if add { dst[p] + src[s] } else { src[s] };
        },
    );
}

/// `dst[..., index[k], ...] += src[..., k, ...]` along `dim` (the index is 1-D).
pub(crate) fn index_add<T: Num>(
    dst: &mut [T],
    layout: &Layout,
    dim: usize,
    (index, index_layout): (&[i64], &Layout),
    (src, src_layout): (&[T], &Layout),
) {
    let idx = strided::contiguous_cow(index, index_layout);
    let size = layout.dims()[dim];
    // Select the destination slice of each index and add the matching source slice into it.
    for (k, &i) in idx.iter().enumerate() {
        let mut d = layout.clone();
        d.offset += wrap(i, size) * layout.strides[dim];
        d.shape.0.remove(dim);
        d.strides.remove(dim);
        let mut s = src_layout.clone();
        s.offset += k * src_layout.strides[dim];
        s.shape.0.remove(dim);
        s.strides.remove(dim);
        strided::update_with(dst, &d, src, &s, |a, b| a + b);
    }
}
