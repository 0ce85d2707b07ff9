//! Strided reads and writes: row-major copies of views, elementwise maps over one or two strided
//! operands, and writes into views. Every loop goes through the one strided iterator
//! (`shape::for_each_run`), which coalesces dims so inner loops are long and simple.

use super::alloc;
use crate::shape::{Layout, broadcast_strides, for_each_offset, for_each_run};

/// Copies the elements of a strided view into a new row-major vector.
#[inline]
pub(crate) fn to_contiguous<T: Copy>(data: &[T], layout: &Layout) -> Vec<T> {
    if let Some(r) = layout.contiguous_range() {
        let mut out = alloc::buffer(r.len());
        out.extend_from_slice(&data[r]);
        return out;
    }
    if layout.ndim() == 2 && layout.strides[0] == 1 {
        return transpose_copy(data, layout);
    }
    map(data, layout, |x| x)
}

/// A row-major copy of a column-major matrix view, in cache-sized tiles.
fn transpose_copy<T: Copy>(data: &[T], layout: &Layout) -> Vec<T> {
    const TILE: usize = 32;
    let (rows, cols) = (layout.dims()[0], layout.dims()[1]);
    let cs = layout.strides[1];
    if rows * cols == 0 {
        return Vec::new();
    }
    let mut out = alloc::filled(rows * cols, data[layout.offset]);
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
    map_runs(data, layout, &f, |run, out| {
        out.extend(run.iter().map(|&x| f(x)))
    })
}

/// Applies `f` to every element; contiguous runs go to `run` (a vectorised body) instead.
#[inline]
pub(crate) fn map_runs<T: Copy, U>(
    data: &[T],
    layout: &Layout,
    f: impl Fn(T) -> U,
    run: impl Fn(&[T], &mut Vec<U>),
) -> Vec<U> {
    let mut out = alloc::buffer(layout.numel());
    if let Some(r) = layout.contiguous_range() {
        run(&data[r], &mut out);
        return out;
    }
    for_each_run(
        layout.dims(),
        [&layout.strides],
        [layout.offset],
        |[o], len, [s]| {
            if s == 1 {
                run(&data[o..o + len], &mut out);
            } else {
                out.extend((0..len).map(|i| f(data[o + i * s])));
            }
        },
    );
    out
}

/// Applies `f` elementwise to two strided inputs broadcast to `out_dims`; runs where both are
/// contiguous with the output go to `run`.
#[inline]
pub(crate) fn zip_map<A: Copy, B: Copy, U>(
    a: &[A],
    la: &Layout,
    b: &[B],
    lb: &Layout,
    out_dims: &[usize],
    f: impl Fn(A, B) -> U,
    run: impl Fn(&[A], &[B], &mut Vec<U>),
) -> Vec<U> {
    let n: usize = out_dims.iter().product();
    let same_shape = la.dims() == out_dims && lb.dims() == out_dims;
    if same_shape {
        if let (Some(ra), Some(rb)) = (la.contiguous_range(), lb.contiguous_range()) {
            let mut out = alloc::buffer(n);
            run(&a[ra], &b[rb], &mut out);
            return out;
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
    let mut out = alloc::buffer(n);
    for_each_run(
        out_dims,
        [&sa, &sb],
        [la.offset, lb.offset],
        |[oa, ob], len, [ia, ib]| {
            if ia == 1 && ib == 1 {
                run(&a[oa..oa + len], &b[ob..ob + len], &mut out);
            } else if ia == 1 && ib == 0 {
                // (added with the conv family) A contiguous run against one broadcast value, as a
                // per-channel bias over (N, C, H, W): a slice loop the compiler vectorises.
                let y = b[ob];
                out.extend(a[oa..oa + len].iter().map(|&x| f(x, y)));
            } else if ia == 0 && ib == 1 {
                let x = a[oa];
                out.extend(b[ob..ob + len].iter().map(|&y| f(x, y)));
            } else {
                out.extend((0..len).map(|i| f(a[oa + i * ia], b[ob + i * ib])));
            }
        },
    );
    out
}

/// `f(x, y)` elementwise over two strided inputs broadcast to `out_dims`.
#[inline]
pub(crate) fn zip<A: Copy, B: Copy, U>(
    a: &[A],
    la: &Layout,
    b: &[B],
    lb: &Layout,
    out_dims: &[usize],
    f: impl Fn(A, B) -> U,
) -> Vec<U> {
    zip_map(a, la, b, lb, out_dims, &f, |x, y, out| {
        out.extend(x.iter().zip(y).map(|(&p, &q)| f(p, q)))
    })
}

/// `f(x, y, z)` elementwise over three strided inputs broadcast to `out_dims`.
#[inline]
pub(crate) fn zip3_map<A: Copy, B: Copy, C: Copy, U>(
    (a, la): (&[A], &Layout),
    (b, lb): (&[B], &Layout),
    (c, lc): (&[C], &Layout),
    out_dims: &[usize],
    f: impl Fn(A, B, C) -> U,
) -> Vec<U> {
    let sa = broadcast_strides(la.dims(), &la.strides, out_dims);
    let sb = broadcast_strides(lb.dims(), &lb.strides, out_dims);
    let sc = broadcast_strides(lc.dims(), &lc.strides, out_dims);
    let mut out = alloc::buffer(out_dims.iter().product());
    for_each_offset(
        out_dims,
        [&sa, &sb, &sc],
        [la.offset, lb.offset, lc.offset],
        |[p, q, r]| out.push(f(a[p], b[q], c[r])),
    );
    out
}

/// Updates every element of the strided view `dst` with `f(old, src)`, `src` read through
/// `src_layout` (of the destination's shape; broadcast strides allowed).
#[inline]
pub(crate) fn update_with<T: Copy, S: Copy>(
    dst: &mut [T],
    layout: &Layout,
    src: &[S],
    src_layout: &Layout,
    f: impl Fn(T, S) -> T,
) {
    if let (Some(rd), Some(rs)) = (layout.contiguous_range(), src_layout.contiguous_range()) {
        for (x, &y) in dst[rd].iter_mut().zip(&src[rs]) {
            *x = f(*x, y);
        }
        return;
    }
    for_each_offset(
        layout.dims(),
        [&layout.strides, &src_layout.strides],
        [layout.offset, src_layout.offset],
        |[o, p]| dst[o] = f(dst[o], src[p]),
    );
}

/// Updates every element of the strided view `dst` with `f(old)`.
#[inline]
pub(crate) fn update<T: Copy>(dst: &mut [T], layout: &Layout, f: impl Fn(T) -> T) {
    if let Some(r) = layout.contiguous_range() {
        for x in dst[r].iter_mut() {
            *x = f(*x);
        }
        return;
    }
    layout.for_each_offset(|o| dst[o] = f(dst[o]));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Shape;

    fn layout(dims: &[usize], strides: &[usize], offset: usize) -> Layout {
        Layout {
            shape: Shape::new(dims),
            strides: strides.iter().copied().collect(),
            offset,
        }
    }

    #[test]
    fn copies_and_maps_follow_logical_order() {
        let data: Vec<i64> = (0..12).collect();
        // A transposed 3x4 matrix: the tiled path.
        assert_eq!(
            to_contiguous(&data, &layout(&[4, 3], &[1, 4], 0)),
            vec![0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]
        );
        // A strided slice with an offset: the run path with stride 2.
        assert_eq!(
            map(&data, &layout(&[2, 3], &[6, 2], 1), |x| x * 10),
            vec![10, 30, 50, 70, 90, 110]
        );
        // Broadcasting a column against a row.
        let col = [1i64, 2];
        let row = [10i64, 20, 30];
        let out = zip_map(
            &col,
            &layout(&[2, 1], &[1, 1], 0),
            &row,
            &layout(&[3], &[1], 0),
            &[2, 3],
            |a, b| a + b,
            |a, b, out| out.extend(a.iter().zip(b).map(|(x, y)| x + y)),
        );
        assert_eq!(out, vec![11, 21, 31, 12, 22, 32]);
    }

    #[test]
    fn updates_write_through_views() {
        let mut data = vec![0i64; 6];
        let src = [1i64, 2, 3];
        // Write a row broadcast over a transposed 3x2 view.
        update_with(
            &mut data,
            &layout(&[3, 2], &[1, 3], 0),
            &src,
            &layout(&[3, 2], &[1, 0], 0),
            |_, s| s,
        );
        assert_eq!(data, vec![1, 2, 3, 1, 2, 3]);
        update(&mut data, &layout(&[3], &[2], 0), |x| -x);
        assert_eq!(data, vec![-1, 2, -3, 1, -2, 3]);
    }
}
