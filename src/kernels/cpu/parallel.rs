//! Threading of elementwise and copy loops over rayon's pool (the one the matrix products use).
//!
//! ATen runs `TensorIterator` loops through `at::parallel_for` with a grain of 32768 elements
//! (`at::internal::GRAIN_SIZE`): one contiguous range of the output per thread. This does the
//! same: the output's outermost dim (after merging the dims every operand walks as one) is cut into
//! one range per thread, and each range runs the serial loop on its sub-view, block by block. An
//! elementwise result does not depend on where the cuts fall (each output element is computed
//! from its own inputs, by the same body: a run that is contiguous in the whole view is contiguous
//! in every piece), so threaded and serial results are the same bits.

use crate::shape::{Layout, Shape, coalesce};
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Elements per task: ATen's `at::internal::GRAIN_SIZE`.
pub(crate) const GRAIN: usize = 32768;

/// The fewest elements worth threading. Waking the pool's sleeping threads costs tens of
/// microseconds, as much as a memory-bound pass over a few hundred KiB; measured on the
/// benchmark's steps (2 threads), 4 grains is where threading stops costing time.
pub(crate) const MIN_ELEMENTS: usize = 4 * GRAIN;

/// Output elements computed into a scratch block before being copied into place: small enough
/// to stay in the L1 cache between the two.
const BLOCK: usize = 4096;

/// How many tasks a loop over `n` elements is cut into (1: run it on the calling thread).
#[inline]
pub(crate) fn tasks(n: usize) -> usize {
    if n < MIN_ELEMENTS {
        return 1;
    }
    rayon::current_num_threads().min(n.div_ceil(GRAIN))
}

/// The row-major output of an elementwise loop over `N` operands given as (strides, offset)
/// broadcast to `dims`, computed by threads, or `None` when the loop is too small to thread (the
/// caller then runs its serial loop). `body(views, out)` is that serial loop: it appends, in
/// row-major order, one output per element of `views` (sub-views of the operands, all of one
/// shape).
pub(crate) fn build<U: Copy + Send, const N: usize>(
    dims: &[usize],
    operands: [(&[usize], usize); N],
    body: impl Fn(&[Layout; N], &mut Vec<U>) + Sync,
) -> Option<Vec<U>> {
    let n: usize = dims.iter().product();
    let tasks = tasks(n);
    if tasks < 2 {
        return None;
    }
    let (d, s) = coalesce(dims, operands.map(|(s, _)| s));
    let rows = d[0];
    if rows < tasks {
        return None;
    }
    let inner = n / rows;
    let offsets = operands.map(|(_, o)| o);
    let mut out = super::alloc::buffer::<U>(n);
    let mut parts = Vec::with_capacity(tasks);
    let mut rest = &mut out.spare_capacity_mut()[..n];
    let mut r0 = 0;
    for t in 1..=tasks {
        let r1 = rows * t / tasks;
        let (part, tail) = rest.split_at_mut((r1 - r0) * inner);
        parts.push((r0..r1, part));
        rest = tail;
        r0 = r1;
    }
    let rows_per_block = (BLOCK / inner).max(1);
    parts.into_par_iter().for_each(|(range, dst)| {
        let mut scratch = Vec::with_capacity(rows_per_block.min(range.len()) * inner);
        let (mut r, mut at) = (range.start, 0);
        while r < range.end {
            let e = (r + rows_per_block).min(range.end);
            let mut sub = d.clone();
            sub[0] = e - r;
            let shape = Shape(sub);
            let views: [Layout; N] = std::array::from_fn(|k| Layout {
                shape: shape.clone(),
                strides: s[k].clone(),
                offset: offsets[k] + r * s[k][0],
            });
            scratch.clear();
            body(&views, &mut scratch);
            let len = (e - r) * inner;
            assert_eq!(
                scratch.len(),
                len,
                "an elementwise body gives one output per element"
            );
            write(&mut dst[at..at + len], &scratch);
            at += len;
            r = e;
        }
    });
    // SAFETY: the parts cover the first `n` slots and each was written in full (the lengths are
    // checked above); a panic in a task propagates before this point.
    unsafe { out.set_len(n) };
    Some(out)
}

/// Copies initialised values into uninitialised slots (`dst.len() == src.len()`).
#[inline]
fn write<U: Copy>(dst: &mut [MaybeUninit<U>], src: &[U]) {
    for (o, &v) in dst.iter_mut().zip(src) {
        o.write(v);
    }
}

/// A copy of `src` into a new buffer, by threads when it is large.
pub(crate) fn copy<T: Copy + Send + Sync>(src: &[T]) -> Vec<T> {
    let n = src.len();
    let mut out = super::alloc::buffer::<T>(n);
    let tasks = tasks(n);
    if tasks < 2 {
        out.extend_from_slice(src);
        return out;
    }
    let chunk = n.div_ceil(tasks);
    out.spare_capacity_mut()[..n]
        .par_chunks_mut(chunk)
        .zip(src.par_chunks(chunk))
        .for_each(|(d, s)| write(d, s));
    // SAFETY: the chunks cover the first `n` slots, each written from its source chunk.
    unsafe { out.set_len(n) };
    out
}

/// Runs `f` over `data` in pieces, by threads when it is large (in-place elementwise updates).
pub(crate) fn for_each_mut<T: Send>(data: &mut [T], f: impl Fn(&mut [T]) + Sync) {
    let tasks = tasks(data.len());
    if tasks < 2 {
        f(data);
        return;
    }
    let chunk = data.len().div_ceil(tasks);
    data.par_chunks_mut(chunk).for_each(&f);
}

/// Runs `f` over matching pieces of `data` and `src` (of one length), by threads when large.
pub(crate) fn zip_mut<T: Send, S: Sync>(
    data: &mut [T],
    src: &[S],
    f: impl Fn(&mut [T], &[S]) + Sync,
) {
    let tasks = tasks(data.len());
    if tasks < 2 {
        f(data, src);
        return;
    }
    let chunk = data.len().div_ceil(tasks);
    data.par_chunks_mut(chunk)
        .zip(src.par_chunks(chunk))
        .for_each(|(d, s)| f(d, s));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalescing_merges_what_every_operand_walks_as_one() {
        // A contiguous (2, 3, 4) tensor against a row broadcast over the first two dims.
        let (d, [a, b]) = coalesce(&[2, 3, 4], [&[12, 4, 1], &[0, 0, 1]]);
        assert_eq!(
            (&d[..], &a[..], &b[..]),
            (&[6, 4][..], &[4, 1][..], &[0, 1][..])
        );
        // Size-1 dims vanish; a transposed operand keeps its dims apart.
        let (d, [a]) = coalesce(&[1, 5, 7], [&[99, 1, 5]]);
        assert_eq!((&d[..], &a[..]), (&[5, 7][..], &[1, 5][..]));
    }

    #[test]
    fn small_loops_stay_on_the_calling_thread() {
        assert_eq!(tasks(MIN_ELEMENTS - 1), 1);
        assert!(build::<f32, 1>(&[10], [(&[1], 0)], |_, _| unreachable!()).is_none());
    }
}
