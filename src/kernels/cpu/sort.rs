//! Sorting along the last dim, as ATen's `sort_kernel` (`SortingKernel.cpp`): each row is
//! sorted with its positions carried beside it; NaN compares greater than every number
//! (`KeyValueCompAsc` / `KeyValueCompDesc`), so it goes last ascending and first descending.
//! The sort is always stable, which is one of the orders an unstable sort may give and the
//! one `stable=True` asks for.

use super::{alloc, strided};
use crate::shape::Layout;
use rayon::prelude::*;
use std::cmp::Ordering;

/// An element that sorts the way ATen orders it.
pub(crate) trait SortKey: Copy + Send + Sync {
    /// The ascending order, NaN last.
    fn order(a: Self, b: Self) -> Ordering;
}

impl SortKey for f32 {
    fn order(a: f32, b: f32) -> Ordering {
        nan_last(a.is_nan(), b.is_nan(), a.partial_cmp(&b))
    }
}

impl SortKey for f64 {
    fn order(a: f64, b: f64) -> Ordering {
        nan_last(a.is_nan(), b.is_nan(), a.partial_cmp(&b))
    }
}

impl SortKey for i64 {
    fn order(a: i64, b: i64) -> Ordering {
        a.cmp(&b)
    }
}

impl SortKey for bool {
    fn order(a: bool, b: bool) -> Ordering {
        a.cmp(&b)
    }
}

fn nan_last(a_nan: bool, b_nan: bool, cmp: Option<Ordering>) -> Ordering {
    match (a_nan, b_nan) {
        (false, false) => cmp.unwrap_or(Ordering::Equal),
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
    }
}

/// `(values, positions)` of sorted rows, with the values wrapped into a storage.
pub(crate) trait SortedRows<T> {
    /// Wraps the values, keeping the positions.
    fn map_values<S>(self, wrap: impl FnOnce(Vec<T>) -> S) -> (S, Vec<i64>);
}

impl<T> SortedRows<T> for (Vec<T>, Vec<i64>) {
    fn map_values<S>(self, wrap: impl FnOnce(Vec<T>) -> S) -> (S, Vec<i64>) {
        (wrap(self.0), self.1)
    }
}

/// Rows of at least this many elements in all are sorted by threads.
const PARALLEL_ELEMENTS: usize = 1 << 15;

/// Sorts every last-dim row of a view: the sorted values and their positions in the row
/// (int64), both row-major.
pub(crate) fn sort_rows<T: SortKey>(v: &[T], l: &Layout, descending: bool) -> (Vec<T>, Vec<i64>) {
    let n = l.dims().last().copied().unwrap_or(1);
    let x = strided::contiguous_cow(v, l);
    let mut values = alloc::buffer(x.len());
    values.extend_from_slice(&x);
    let mut indices = alloc::buffer(x.len());
    if n == 0 {
        return (values, indices);
    }
    indices.extend((0..x.len()).map(|i| (i % n) as i64));
    let sort_row = |(vals, idx): (&mut [T], &mut [i64])| {
        let mut pairs: Vec<(T, i64)> = vals.iter().copied().zip(idx.iter().copied()).collect();
        if descending {
            pairs.sort_by(|a, b| T::order(b.0, a.0));
        } else {
            pairs.sort_by(|a, b| T::order(a.0, b.0));
        }
        for ((v, i), (pv, pi)) in vals.iter_mut().zip(idx.iter_mut()).zip(pairs) {
            *v = pv;
            *i = pi;
        }
    };
    if x.len() >= PARALLEL_ELEMENTS && rayon::current_num_threads() > 1 {
        values
            .par_chunks_mut(n)
            .zip(indices.par_chunks_mut(n))
            .for_each(sort_row);
    } else {
        values
            .chunks_mut(n)
            .zip(indices.chunks_mut(n))
            .for_each(sort_row);
    }
    (values, indices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Shape;

    #[test]
    fn nan_sorts_last_ascending_and_first_descending_and_ties_keep_order() {
        let l = Layout::contiguous(Shape::new(&[1, 5]));
        let v = [2.0f32, f32::NAN, 1.0, 2.0, -1.0];
        let (s, i) = sort_rows(&v, &l, false);
        assert_eq!(&s[..4], &[-1.0, 1.0, 2.0, 2.0]);
        assert!(s[4].is_nan());
        assert_eq!(i, vec![4, 2, 0, 3, 1]);
        let (s, i) = sort_rows(&v, &l, true);
        assert!(s[0].is_nan());
        assert_eq!(i, vec![1, 0, 3, 2, 4]);
    }
}
