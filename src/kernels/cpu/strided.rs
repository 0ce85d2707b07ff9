//! Strided reads and writes: row-major copies of views, elementwise maps over one or two strided
//! operands, and writes into views. Every loop goes through the one strided iterator
//! (`shape::for_each_run`), which coalesces dims so inner loops are long and simple.

use super::{alloc, parallel};
use crate::shape::{Layout, broadcast_strides, for_each_offset, for_each_run};

/// Copies the elements of a strided view into a new row-major vector (on the calling thread).
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
    let mut out = alloc::buffer(layout.numel());
    map_runs_into(
        data,
        layout,
        |x| x,
        |r, out| out.extend_from_slice(r),
        &mut out,
    );
    out
}

/// Replaces `out`'s contents with the elements of a strided view in row-major order (a
/// gather into a reused scratch buffer).
#[inline]
pub(crate) fn gather_into<T: Copy>(data: &[T], layout: &Layout, out: &mut Vec<T>) {
    out.clear();
    out.reserve(layout.numel());
    map_runs_into(data, layout, |x| x, |r, out| out.extend_from_slice(r), out);
}

/// `to_contiguous`, by threads when large (`Tensor::contiguous`, `clone`, same-dtype casts).
#[inline]
pub(crate) fn to_contiguous_threaded<T: Copy + Send + Sync>(data: &[T], layout: &Layout) -> Vec<T> {
    if let Some(r) = layout.contiguous_range() {
        return parallel::copy(&data[r]);
    }
    if layout.ndim() == 2 && layout.strides[0] == 1 {
        return transpose_copy(data, layout);
    }
    map_runs(data, layout, |x| x, |r, out| out.extend_from_slice(r))
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
pub(crate) fn map<T: Copy + Sync, U: Copy + Send>(
    data: &[T],
    layout: &Layout,
    f: impl Fn(T) -> U + Sync,
) -> Vec<U> {
    map_runs(data, layout, &f, |run, out| {
        out.extend(run.iter().map(|&x| f(x)))
    })
}

/// Applies `f` to every element; contiguous runs go to `run` (a vectorised body) instead.
/// Large outputs are computed by threads (`parallel::build`), with the same bits.
#[inline]
pub(crate) fn map_runs<T: Copy + Sync, U: Copy + Send>(
    data: &[T],
    layout: &Layout,
    f: impl Fn(T) -> U + Sync,
    run: impl Fn(&[T], &mut Vec<U>) + Sync,
) -> Vec<U> {
    let threaded = parallel::build(
        layout.dims(),
        [(&layout.strides, layout.offset)],
        |[l], out| map_runs_into(data, l, &f, &run, out),
    );
    if let Some(out) = threaded {
        return out;
    }
    let mut out = alloc::buffer(layout.numel());
    map_runs_into(data, layout, &f, &run, &mut out);
    out
}

/// `map_runs`' serial loop, appending to `out`.
#[inline]
fn map_runs_into<T: Copy, U>(
    data: &[T],
    layout: &Layout,
    f: impl Fn(T) -> U,
    run: impl Fn(&[T], &mut Vec<U>),
    out: &mut Vec<U>,
) {
    if let Some(r) = layout.contiguous_range() {
        run(&data[r], out);
        return;
    }
    for_each_run(
        layout.dims(),
        [&layout.strides],
        [layout.offset],
        |[o], len, [s]| {
            if s == 1 {
                run(&data[o..o + len], out);
            } else {
                out.extend((0..len).map(|i| f(data[o + i * s])));
            }
        },
    );
}

/// Applies `f` elementwise to two strided inputs broadcast to `out_dims`; runs where both are
/// contiguous with the output go to `run`. Large outputs are computed by threads.
#[inline]
pub(crate) fn zip_map<A: Copy + Sync, B: Copy + Sync, U: Copy + Send>(
    a: &[A],
    la: &Layout,
    b: &[B],
    lb: &Layout,
    out_dims: &[usize],
    f: impl Fn(A, B) -> U + Sync,
    run: impl Fn(&[A], &[B], &mut Vec<U>) + Sync,
) -> Vec<U> {
    let n: usize = out_dims.iter().product();
    if parallel::tasks(n) > 1 {
        let sa = broadcast_strides(la.dims(), &la.strides, out_dims);
        let sb = broadcast_strides(lb.dims(), &lb.strides, out_dims);
        let threaded = parallel::build(
            out_dims,
            [(&sa, la.offset), (&sb, lb.offset)],
            |[va, vb], out| zip_map_into(a, va, b, vb, va.dims(), &f, &run, out),
        );
        if let Some(out) = threaded {
            return out;
        }
    }
    let mut out = alloc::buffer(n);
    zip_map_into(a, la, b, lb, out_dims, &f, &run, &mut out);
    out
}

/// `zip_map`'s serial loop, appending to `out`.
#[allow(clippy::too_many_arguments)]
#[inline]
fn zip_map_into<A: Copy, B: Copy, U>(
    a: &[A],
    la: &Layout,
    b: &[B],
    lb: &Layout,
    out_dims: &[usize],
    f: impl Fn(A, B) -> U,
    run: impl Fn(&[A], &[B], &mut Vec<U>),
    out: &mut Vec<U>,
) {
    let same_shape = la.dims() == out_dims && lb.dims() == out_dims;
    if same_shape {
        if let (Some(ra), Some(rb)) = (la.contiguous_range(), lb.contiguous_range()) {
            run(&a[ra], &b[rb], out);
            return;
        }
    }
    if lb.numel() == 1 && la.dims() == out_dims {
        let y = b[lb.offset];
        let g = |x| f(x, y);
        map_runs_into(a, la, &g, |r, out| out.extend(r.iter().map(|&x| g(x))), out);
        return;
    }
    if la.numel() == 1 && lb.dims() == out_dims {
        let x = a[la.offset];
        let g = |y| f(x, y);
        map_runs_into(b, lb, &g, |r, out| out.extend(r.iter().map(|&y| g(y))), out);
        return;
    }
    let sa = broadcast_strides(la.dims(), &la.strides, out_dims);
    let sb = broadcast_strides(lb.dims(), &lb.strides, out_dims);
    for_each_run(
        out_dims,
        [&sa, &sb],
        [la.offset, lb.offset],
        |[oa, ob], len, [ia, ib]| {
            if ia == 1 && ib == 1 {
                run(&a[oa..oa + len], &b[ob..ob + len], out);
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
}

/// `f(x, y)` elementwise over two strided inputs broadcast to `out_dims`.
#[inline]
pub(crate) fn zip<A: Copy + Sync, B: Copy + Sync, U: Copy + Send>(
    a: &[A],
    la: &Layout,
    b: &[B],
    lb: &Layout,
    out_dims: &[usize],
    f: impl Fn(A, B) -> U + Sync,
) -> Vec<U> {
    zip_map(a, la, b, lb, out_dims, &f, |x, y, out| {
        out.extend(x.iter().zip(y).map(|(&p, &q)| f(p, q)))
    })
}

/// `f(x, y, z)` elementwise over three strided inputs broadcast to `out_dims`; large outputs are
/// computed by threads.
#[inline]
pub(crate) fn zip3_map<A: Copy + Sync, B: Copy + Sync, C: Copy + Sync, U: Copy + Send>(
    (a, la): (&[A], &Layout),
    (b, lb): (&[B], &Layout),
    (c, lc): (&[C], &Layout),
    out_dims: &[usize],
    f: impl Fn(A, B, C) -> U + Sync,
) -> Vec<U> {
    let sa = broadcast_strides(la.dims(), &la.strides, out_dims);
    let sb = broadcast_strides(lb.dims(), &lb.strides, out_dims);
    let sc = broadcast_strides(lc.dims(), &lc.strides, out_dims);
    let body = |[va, vb, vc]: &[Layout; 3], out: &mut Vec<U>| {
        for_each_offset(
            va.dims(),
            [&va.strides, &vb.strides, &vc.strides],
            [va.offset, vb.offset, vc.offset],
            |[p, q, r]| out.push(f(a[p], b[q], c[r])),
        )
    };
    let threaded = parallel::build(
        out_dims,
        [(&sa, la.offset), (&sb, lb.offset), (&sc, lc.offset)],
        &body,
    );
    if let Some(out) = threaded {
        return out;
    }
    let mut out = alloc::buffer(out_dims.iter().product());
    let whole = |s: &[usize], offset| Layout {
        shape: crate::shape::Shape::new(out_dims),
        strides: s.iter().copied().collect(),
        offset,
    };
    body(
        &[
            whole(&sa, la.offset),
            whole(&sb, lb.offset),
            whole(&sc, lc.offset),
        ],
        &mut out,
    );
    out
}

/// Updates every element of the strided view `dst` with `f(old, src)`, `src` read through
/// `src_layout` (of the destination's shape; broadcast strides allowed).
#[inline]
pub(crate) fn update_with<T: Copy + Send, S: Copy + Sync>(
    dst: &mut [T],
    layout: &Layout,
    src: &[S],
    src_layout: &Layout,
    f: impl Fn(T, S) -> T + Sync,
) {
    if let (Some(rd), Some(rs)) = (layout.contiguous_range(), src_layout.contiguous_range()) {
        parallel::zip_mut(&mut dst[rd], &src[rs], |d, s| {
            for (x, &y) in d.iter_mut().zip(s) {
                *x = f(*x, y);
            }
        });
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
pub(crate) fn update<T: Copy + Send>(dst: &mut [T], layout: &Layout, f: impl Fn(T) -> T + Sync) {
    if let Some(r) = layout.contiguous_range() {
        parallel::for_each_mut(&mut dst[r], |d| {
            for x in d.iter_mut() {
                *x = f(*x);
            }
        });
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

    /// Element `i` (row-major over `dims`) of a strided view, the plain way.
    fn at<T: Copy>(data: &[T], l: &Layout, out_dims: &[usize], mut i: usize) -> T {
        let s = broadcast_strides(l.dims(), &l.strides, out_dims);
        let mut o = l.offset;
        for d in (0..out_dims.len()).rev() {
            o += (i % out_dims[d]) * s[d];
            i /= out_dims[d];
        }
        data[o]
    }

    /// Runs `f` with threads on, then on a pool of one thread (the serial loops).
    fn both<R>(f: impl Fn() -> R + Send + Sync) -> (R, R)
    where
        R: Send,
    {
        let pool = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        };
        (pool(2).install(&f), pool(1).install(&f))
    }

    #[test]
    fn threaded_elementwise_loops_match_the_plain_loop_bit_for_bit() {
        const { assert!(parallel::MIN_ELEMENTS < 300_001) };
        let data: Vec<f32> = (0..700_000)
            .map(|i| ((i * 7919) % 1000) as f32 * 0.37 - 17.0)
            .collect();
        let data64: Vec<f64> = data.iter().map(|&x| x as f64 * 1.1).collect();
        // Contiguous with an odd length and an offset; a transposed matrix; a strided slice of
        // a 3-d view; a column of a matrix (stride != 1 innermost).
        let views = [
            layout(&[300_001], &[1], 5),
            layout(&[600, 500], &[1, 600], 0),
            layout(&[7, 150, 300], &[90_000, 600, 2], 3),
            layout(&[4, 200_000], &[1, 3], 1),
        ];
        let f = |x: f32| x * 1.5 - (x * 0.25).sin();
        for l in &views {
            let n = l.numel();
            let (t, s) =
                both(|| map_runs(&data, l, f, |r, out| out.extend(r.iter().map(|&x| f(x)))));
            let reference: Vec<f32> = (0..n).map(|i| f(at(&data, l, l.dims(), i))).collect();
            assert_eq!(t.len(), n);
            assert!(
                t.iter()
                    .zip(&reference)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{l:?}"
            );
            assert!(
                s.iter()
                    .zip(&reference)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{l:?}"
            );
            let (t, _) = both(|| to_contiguous_threaded(&data, l));
            let plain: Vec<f32> = (0..n).map(|i| at(&data, l, l.dims(), i)).collect();
            assert_eq!(t, plain);
        }
        // Binary float64 ops: same shape, a broadcast row, a broadcast column, one scalar,
        // transposed operands.
        let out = [300, 1001];
        let pairs = [
            (layout(&out, &[1001, 1], 0), layout(&out, &[1, 300], 7)),
            (layout(&out, &[1001, 1], 2), layout(&[1001], &[1], 0)),
            (layout(&out, &[1, 300], 0), layout(&[300, 1], &[1, 1], 9)),
            (layout(&[1], &[1], 4), layout(&out, &[1001, 1], 0)),
            (layout(&out, &[1001, 1], 1), layout(&[], &[], 11)),
        ];
        let g = |x: f64, y: f64| x * y + x / (y + 0.5);
        for (la, lb) in &pairs {
            let (t, s) = both(|| {
                zip_map(&data64, la, &data64, lb, &out, g, |a, b, o| {
                    o.extend(a.iter().zip(b).map(|(&x, &y)| g(x, y)))
                })
            });
            let reference: Vec<f64> = (0..300 * 1001)
                .map(|i| g(at(&data64, la, &out, i), at(&data64, lb, &out, i)))
                .collect();
            assert!(
                t.iter()
                    .zip(&reference)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
            assert!(
                s.iter()
                    .zip(&reference)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
        // `where`: a broadcast condition over two operands.
        let cond: Vec<bool> = (0..1001).map(|i| i % 3 == 0).collect();
        let (lc, la, lb) = (
            layout(&[1001], &[1], 0),
            layout(&out, &[1001, 1], 0),
            layout(&out, &[1, 300], 3),
        );
        let pick = |c: bool, x: f64, y: f64| if c { x } else { y };
        let (t, s) = both(|| zip3_map((&cond, &lc), (&data64, &la), (&data64, &lb), &out, pick));
        let reference: Vec<f64> = (0..300 * 1001)
            .map(|i| {
                pick(
                    at(&cond, &lc, &out, i),
                    at(&data64, &la, &out, i),
                    at(&data64, &lb, &out, i),
                )
            })
            .collect();
        assert_eq!(t, reference);
        assert_eq!(s, reference);
        // In-place updates of a large contiguous range.
        let (t, s) = both(|| {
            let mut d = data64.clone();
            update(&mut d, &layout(&[600_001], &[1], 3), |x| x * 0.5 + 1.0);
            update_with(
                &mut d,
                &layout(&[600_000], &[1], 0),
                &data64,
                &layout(&[600_000], &[1], 1),
                |x, y| x - y,
            );
            d
        });
        let mut reference = data64.clone();
        for x in &mut reference[3..600_004] {
            *x = *x * 0.5 + 1.0;
        }
        for i in 0..600_000 {
            reference[i] -= data64[i + 1];
        }
        assert_eq!(t, reference);
        assert_eq!(s, reference);
    }
}
