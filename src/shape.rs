//! Shapes, strides and the rules that relate them: broadcasting, dim wrapping, view reshaping.

use smallvec::SmallVec;
use std::fmt;

/// The sizes of a tensor's dimensions (`torch.Size`). Up to six dimensions are stored inline.
///
/// ```
/// use flambeau::Tensor;
/// let t = Tensor::zeros([2, 3]);
/// assert_eq!(t.shape().dims(), &[2, 3]);
/// assert_eq!(format!("{:?}", t.shape()), "torch.Size([2, 3])");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(pub(crate) SmallVec<[usize; 6]>);

/// Strides in elements, one per dimension.
pub(crate) type Strides = SmallVec<[usize; 6]>;

impl Shape {
    /// A shape from its dimension sizes.
    #[track_caller]
    pub fn new(dims: &[usize]) -> Shape {
        Shape(SmallVec::from_slice(dims))
    }
    /// The dimension sizes.
    #[track_caller]
    pub fn dims(&self) -> &[usize] {
        &self.0
    }
    /// The number of dimensions.
    #[track_caller]
    pub fn ndim(&self) -> usize {
        self.0.len()
    }
    /// The number of elements (1 for a 0-dim shape).
    #[track_caller]
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }
    /// Row-major (C-contiguous) strides for this shape.
    #[track_caller]
    pub(crate) fn contiguous_strides(&self) -> Strides {
        let mut strides: Strides = SmallVec::from_elem(1, self.0.len());
        let mut acc = 1usize;
        for i in (0..self.0.len()).rev() {
            strides[i] = acc;
            acc *= self.0[i].max(1);
        }
        strides
    }
}

impl std::ops::Index<usize> for Shape {
    type Output = usize;
    #[track_caller]
    fn index(&self, i: usize) -> &usize {
        &self.0[i]
    }
}

impl fmt::Debug for Shape {
    #[track_caller]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "torch.Size({:?})", self.0.as_slice())
    }
}

impl fmt::Display for Shape {
    #[track_caller]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0.as_slice())
    }
}

impl PartialEq<[usize]> for Shape {
    #[track_caller]
    fn eq(&self, other: &[usize]) -> bool {
        self.0.as_slice() == other
    }
}
impl<const N: usize> PartialEq<[usize; N]> for Shape {
    #[track_caller]
    fn eq(&self, other: &[usize; N]) -> bool {
        self.0.as_slice() == other
    }
}
impl PartialEq<Vec<usize>> for Shape {
    #[track_caller]
    fn eq(&self, other: &Vec<usize>) -> bool {
        self.0.as_slice() == other.as_slice()
    }
}

/// A list of integers given as a shape or as a list of dims: `[11]`, `&[3, 4]`, `vec![2, -1]`, `()`
/// (a scalar shape / no dims), a single integer, or a [`Shape`].
///
/// ```
/// use flambeau::Tensor;
/// assert_eq!(Tensor::zeros(()).ndim(), 0);
/// assert_eq!(Tensor::zeros(5).shape().dims(), &[5]);
/// assert_eq!(Tensor::zeros(&[3, 4]).shape().dims(), &[3, 4]);
/// assert_eq!(Tensor::zeros(vec![2, 2, 2]).numel(), 8);
/// assert_eq!(Tensor::zeros([2, 6]).reshape([3, -1]).shape().dims(), &[3, 4]);
/// ```
pub trait IntList {
    /// The integers, in order.
    #[track_caller]
    fn to_int_list(&self) -> SmallVec<[i64; 6]>;
}

macro_rules! impl_int_list {
    ($($t:ty),*) => {$(
        impl IntList for $t {
            fn to_int_list(&self) -> SmallVec<[i64; 6]> {
                smallvec::smallvec![*self as i64]
            }
        }
        impl<const N: usize> IntList for [$t; N] {
            fn to_int_list(&self) -> SmallVec<[i64; 6]> {
                self.iter().map(|&d| d as i64).collect()
            }
        }
        impl<const N: usize> IntList for &[$t; N] {
            fn to_int_list(&self) -> SmallVec<[i64; 6]> {
                self.iter().map(|&d| d as i64).collect()
            }
        }
        impl IntList for &[$t] {
            fn to_int_list(&self) -> SmallVec<[i64; 6]> {
                self.iter().map(|&d| d as i64).collect()
            }
        }
        impl IntList for Vec<$t> {
            fn to_int_list(&self) -> SmallVec<[i64; 6]> {
                self.iter().map(|&d| d as i64).collect()
            }
        }
        impl IntList for &Vec<$t> {
            fn to_int_list(&self) -> SmallVec<[i64; 6]> {
                self.iter().map(|&d| d as i64).collect()
            }
        }
    )*};
}
impl_int_list!(usize, i64, i32, isize, u32);

impl IntList for () {
    #[track_caller]
    fn to_int_list(&self) -> SmallVec<[i64; 6]> {
        SmallVec::new()
    }
}
impl IntList for Shape {
    #[track_caller]
    fn to_int_list(&self) -> SmallVec<[i64; 6]> {
        self.0.iter().map(|&d| d as i64).collect()
    }
}
impl IntList for &Shape {
    #[track_caller]
    fn to_int_list(&self) -> SmallVec<[i64; 6]> {
        self.0.iter().map(|&d| d as i64).collect()
    }
}

/// Converts a list of integers into a shape, refusing negative sizes with PyTorch's message.
#[track_caller]
pub(crate) fn shape_from(list: &impl IntList) -> Shape {
    let dims = list.to_int_list();
    if let Some(&d) = dims.iter().find(|&&d| d < 0) {
        panic!(
            "Trying to create tensor with negative dimension {d}: {:?}",
            dims.as_slice()
        );
    }
    Shape(dims.iter().map(|&d| d as usize).collect())
}

/// The number of elements of a shape, or PyTorch's error when it overflows its signed 64-bit
/// size type (`safe_compute_numel`).
#[track_caller]
pub(crate) fn checked_numel(dims: &[usize]) -> usize {
    match dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .filter(|&n| n <= i64::MAX as u64)
    {
        Some(n) => n as usize,
        None => panic!("numel: integer multiplication overflow"),
    }
}

/// The bytes a contiguous buffer of `dims` elements of `itemsize` bytes needs, or PyTorch's
/// error when that overflows its signed 64-bit size type (`computeStorageNbytesContiguous`).
#[track_caller]
pub(crate) fn storage_bytes(dims: &[usize], itemsize: usize) -> usize {
    let bytes = dims
        .iter()
        .try_fold(itemsize as u128, |acc, &d| acc.checked_mul(d as u128))
        .filter(|&b| b <= i64::MAX as u128);
    match bytes {
        Some(b) => b as usize,
        None => panic!("Storage size calculation overflowed with sizes={dims:?}"),
    }
}

/// Wraps a possibly negative dim into `0..ndim`, with PyTorch's "Dimension out of range" message.
/// A 0-dim tensor accepts dims -1 and 0, as in PyTorch.
#[track_caller]
pub(crate) fn wrap_dim(dim: i64, ndim: usize) -> usize {
    let n = ndim.max(1) as i64;
    if dim < -n || dim >= n {
        panic!(
            "Dimension out of range (expected to be in range of [{}, {}], but got {})",
            -n,
            n - 1,
            dim
        );
    }
    if dim < 0 {
        (dim + n) as usize
    } else {
        dim as usize
    }
}

/// Wraps a list of dims, refusing repeats ("dim 1 appears multiple times in the list of dims").
#[track_caller]
pub(crate) fn wrap_dims(dims: &[i64], ndim: usize) -> SmallVec<[usize; 6]> {
    let mut out: SmallVec<[usize; 6]> = SmallVec::new();
    for &d in dims {
        let w = wrap_dim(d, ndim);
        if out.contains(&w) {
            panic!("dim {w} appears multiple times in the list of dims");
        }
        out.push(w);
    }
    out
}

/// The broadcast shape of two shapes, or PyTorch's error.
#[track_caller]
pub(crate) fn broadcast_shapes(a: &[usize], b: &[usize]) -> Shape {
    match try_broadcast_shapes(a, b) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

/// The broadcast shape of two shapes, or PyTorch's error message.
#[track_caller]
pub(crate) fn try_broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Shape, String> {
    let n = a.len().max(b.len());
    let mut out: SmallVec<[usize; 6]> = SmallVec::from_elem(0, n);
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(format!(
                "The size of tensor a ({da}) must match the size of tensor b ({db}) at non-singleton dimension {i}"
            ));
        };
    }
    Ok(Shape(out))
}

/// Strides for reading a tensor of `shape`/`strides` as if expanded to `target` (0 on broadcast dims).
#[track_caller]
pub(crate) fn broadcast_strides(shape: &[usize], strides: &[usize], target: &[usize]) -> Strides {
    let n = target.len();
    let k = shape.len();
    let mut out: Strides = SmallVec::from_elem(0, n);
    for i in 0..k {
        let t = n - k + i;
        out[t] = if shape[i] == 1 && target[t] != 1 {
            0
        } else {
            strides[i]
        };
    }
    out
}

/// Resolves a requested shape with at most one `-1` against a number of elements,
/// with PyTorch's messages.
#[track_caller]
pub(crate) fn infer_shape(requested: &[i64], numel: usize) -> Shape {
    let mut infer = None;
    let mut known: usize = 1;
    for (i, &d) in requested.iter().enumerate() {
        if d == -1 {
            if infer.is_some() {
                panic!("only one dimension can be inferred");
            }
            infer = Some(i);
        } else if d < 0 {
            panic!("invalid shape dimension {d}");
        } else {
            // An overflowing product cannot match the element count: PyTorch reports the shape.
            known = known.saturating_mul(d as usize);
        }
    }
    let mut dims: SmallVec<[usize; 6]> = requested.iter().map(|&d| d.max(0) as usize).collect();
    let valid = match infer {
        Some(i) if known != 0 && numel.is_multiple_of(known) => {
            dims[i] = numel / known;
            true
        }
        Some(_) => false,
        None => known == numel,
    };
    if !valid {
        panic!(
            "shape '{:?}' is invalid for input of size {numel}",
            requested
        );
    }
    Shape(dims)
}

/// The position of a tensor's elements in its storage: shape, strides (in elements) and offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub shape: Shape,
    pub strides: Strides,
    pub offset: usize,
}

impl Layout {
    /// A row-major layout starting at offset 0.
    #[track_caller]
    pub fn contiguous(shape: Shape) -> Layout {
        let strides = shape.contiguous_strides();
        Layout {
            shape,
            strides,
            offset: 0,
        }
    }

    #[track_caller]
    pub fn dims(&self) -> &[usize] {
        &self.shape.0
    }

    #[track_caller]
    pub fn ndim(&self) -> usize {
        self.shape.0.len()
    }

    #[track_caller]
    pub fn numel(&self) -> usize {
        self.shape.numel()
    }

    /// Whether the elements are stored row-major without gaps (size-1 dims may have any stride).
    #[track_caller]
    pub fn is_contiguous(&self) -> bool {
        // c10's `compute_contiguous`: a tensor without elements is contiguous whatever its strides.
        if self.shape.0.contains(&0) {
            return true;
        }
        let mut expected = 1usize;
        for i in (0..self.ndim()).rev() {
            let d = self.shape.0[i];
            if d != 1 {
                if self.strides[i] != expected {
                    return false;
                }
                expected *= d;
            }
        }
        true
    }

    /// If contiguous, the range of storage indices the elements occupy, in order.
    #[track_caller]
    pub fn contiguous_range(&self) -> Option<std::ops::Range<usize>> {
        if self.is_contiguous() {
            Some(self.offset..self.offset + self.numel())
        } else {
            None
        }
    }

    /// Storage index of the element at a multi-index.
    #[track_caller]
    pub fn index_of(&self, idx: &[usize]) -> usize {
        self.offset
            + idx
                .iter()
                .zip(self.strides.iter())
                .map(|(i, s)| i * s)
                .sum::<usize>()
    }

    /// Calls `f` with the storage offset of every element, in row-major logical order.
    #[track_caller]
    pub fn for_each_offset(&self, mut f: impl FnMut(usize)) {
        for_each_offset(self.dims(), [&self.strides], [self.offset], |[o]| f(o));
    }

    /// Whether no two elements share a storage position and the elements fill a dense block
    /// (ATen's `is_non_overlapping_and_dense`): the strides are a permutation of contiguous ones.
    #[track_caller]
    pub fn is_non_overlapping_and_dense(&self) -> bool {
        let nd = self.ndim();
        let mut perm: SmallVec<[usize; 6]> = (0..nd).collect();
        // Sort dims by stride, size-1 dims last, as ATen does before checking.
        perm.sort_by(|&a, &b| {
            let (da, db) = (self.dims()[a], self.dims()[b]);
            (da == 1, self.strides[a]).cmp(&(db == 1, self.strides[b]))
        });
        let mut expected = 1usize;
        for &d in &perm {
            let size = self.dims()[d];
            if size == 1 {
                continue;
            }
            if self.strides[d] != expected {
                return false;
            }
            expected *= size;
        }
        true
    }

    /// Whether several elements of the view share one storage position (ATen's
    /// `has_internal_overlap` answering `Yes`: a stride of 0 on a dim of size > 1).
    #[track_caller]
    pub fn has_internal_overlap(&self) -> bool {
        !self.is_contiguous()
            && !self.is_non_overlapping_and_dense()
            && self
                .dims()
                .iter()
                .zip(&self.strides)
                .any(|(&d, &s)| d > 1 && s == 0)
    }
}

/// Drops size-1 dims and merges dims `i`, `i+1` when every stride set allows it
/// (`stride[i] == stride[i+1] * dims[i+1]`), so that strided loops run over as few, as long,
/// dimensions as possible. Always returns at least one dim.
#[track_caller]
pub(crate) fn coalesce<const N: usize>(
    dims: &[usize],
    strides: [&[usize]; N],
) -> (Strides, [Strides; N]) {
    let mut out_dims: Strides = SmallVec::new();
    let mut out_strides: [Strides; N] = std::array::from_fn(|_| SmallVec::new());
    for i in 0..dims.len() {
        let d = dims[i];
        if d == 1 {
            continue;
        }
        if let Some(last) = out_dims.last_mut() {
            if (0..N).all(|k| *out_strides[k].last().unwrap() == strides[k][i] * d) {
                *last *= d;
                for k in 0..N {
                    *out_strides[k].last_mut().unwrap() = strides[k][i];
                }
                continue;
            }
        }
        out_dims.push(d);
        for k in 0..N {
            out_strides[k].push(strides[k][i]);
        }
    }
    if out_dims.is_empty() {
        out_dims.push(1);
        for s in out_strides.iter_mut() {
            s.push(0);
        }
    }
    (out_dims, out_strides)
}

/// The one strided iterator: walks a logical row-major shape read through `N` stride sets
/// (starting at `offsets`) and calls `f(offsets, len, inner_strides)` once per innermost run of
/// `len` elements, after coalescing, so inner loops are long and simple (and a contiguous run can
/// go to a vectorised body).
#[inline]
#[track_caller]
pub(crate) fn for_each_run<const N: usize>(
    dims: &[usize],
    strides: [&[usize]; N],
    offsets: [usize; N],
    mut f: impl FnMut([usize; N], usize, [usize; N]),
) {
    if dims.contains(&0) {
        return;
    }
    let (dims, strides) = coalesce(dims, strides);
    let nd = dims.len();
    let inner = dims[nd - 1];
    let inner_strides: [usize; N] = std::array::from_fn(|k| strides[k][nd - 1]);
    let mut idx: SmallVec<[usize; 6]> = SmallVec::from_elem(0, nd);
    let mut base = offsets;
    loop {
        f(base, inner, inner_strides);
        // Advance the outer odometer.
        let mut d = nd - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            for k in 0..N {
                base[k] += strides[k][d];
            }
            if idx[d] < dims[d] {
                break;
            }
            for k in 0..N {
                base[k] -= strides[k][d] * dims[d];
            }
            idx[d] = 0;
        }
    }
}

/// Calls `f(offsets)` for every element of a logical row-major shape read through `N` stride sets.
#[inline]
#[track_caller]
pub(crate) fn for_each_offset<const N: usize>(
    dims: &[usize],
    strides: [&[usize]; N],
    offsets: [usize; N],
    mut f: impl FnMut([usize; N]),
) {
    for_each_run(dims, strides, offsets, |mut o, len, s| {
        for _ in 0..len {
            f(o);
            for k in 0..N {
                o[k] += s[k];
            }
        }
    });
}

/// The geometry of a reduction over some dims: which dims, the output shape with and without
/// `keepdim`, and how many elements each output reduces.
#[derive(Clone, Debug)]
pub(crate) struct ReducePlan {
    /// Reduced dims, ascending.
    pub dims: SmallVec<[usize; 6]>,
    pub in_shape: Shape,
    /// Output shape with keepdim applied.
    pub out_shape: Shape,
    /// Output shape as if keepdim were true (for broadcasting gradients back).
    pub kept_shape: Shape,
    /// Elements reduced into each output.
    pub count: usize,
}

impl ReducePlan {
    /// `dims` empty means every dim, as PyTorch's `dim=None`.
    #[track_caller]
    pub fn new(shape: &Shape, dims: &[i64], keepdim: bool) -> ReducePlan {
        let nd = shape.ndim();
        let mut dims: SmallVec<[usize; 6]> = if dims.is_empty() {
            (0..nd).collect()
        } else {
            wrap_dims(dims, nd)
        };
        dims.sort_unstable();
        if nd == 0 {
            dims.clear();
        }
        let mut out = SmallVec::<[usize; 6]>::new();
        let mut kept = SmallVec::<[usize; 6]>::new();
        let mut count = 1;
        for (i, &d) in shape.dims().iter().enumerate() {
            if dims.contains(&i) {
                count *= d;
                kept.push(1);
                if keepdim {
                    out.push(1);
                }
            } else {
                kept.push(d);
                out.push(d);
            }
        }
        ReducePlan {
            dims,
            in_shape: shape.clone(),
            out_shape: Shape(out),
            kept_shape: Shape(kept),
            count,
        }
    }

    /// A reduction over one dim.
    #[track_caller]
    pub fn single(shape: &Shape, dim: i64, keepdim: bool) -> ReducePlan {
        let d = wrap_dim(dim, shape.ndim());
        ReducePlan::new(shape, &[d as i64], keepdim)
    }

    /// The reduced dims as `i64`s (for calling reductions again in backward passes).
    #[track_caller]
    pub fn dims_i64(&self) -> SmallVec<[i64; 6]> {
        self.dims.iter().map(|&d| d as i64).collect()
    }

    /// Whether the reduced dims (ignoring size-1 dims) all come before the kept ones.
    #[track_caller]
    pub fn reduces_leading(&self) -> bool {
        let dims = self.in_shape.dims();
        let last_reduced = self.dims.iter().filter(|&&d| dims[d] != 1).max();
        let first_kept = (0..dims.len()).find(|d| !self.dims.contains(d) && dims[*d] != 1);
        match (last_reduced, first_kept) {
            (Some(&r), Some(k)) => r < k,
            _ => false,
        }
    }

    /// Number of outputs.
    #[track_caller]
    pub fn outer(&self) -> usize {
        self.kept_shape.numel()
    }

    /// The input's layout with the kept dims first and the reduced dims last, so that read
    /// row-major it gives one row of `count` elements per output.
    #[track_caller]
    pub fn rows_layout(&self, layout: &Layout) -> Layout {
        let nd = layout.ndim();
        let mut order: SmallVec<[usize; 6]> = (0..nd).filter(|d| !self.dims.contains(d)).collect();
        order.extend(self.dims.iter().copied());
        Layout {
            shape: Shape(order.iter().map(|&d| layout.dims()[d]).collect()),
            strides: order.iter().map(|&d| layout.strides[d]).collect(),
            offset: layout.offset,
        }
    }
}

/// Tries to express `new_shape` as a view of a tensor with `shape`/`strides` without copying
/// (ATen's `computeStride`). Returns the new strides, or `None` when a copy is needed.
#[track_caller]
pub(crate) fn view_strides(
    shape: &[usize],
    strides: &[usize],
    new_shape: &[usize],
) -> Option<Strides> {
    let numel: usize = shape.iter().product();
    let mut new_strides: Strides = SmallVec::from_elem(0, new_shape.len());
    if numel == 0 {
        if shape == new_shape {
            return Some(SmallVec::from_slice(strides));
        }
        return Some(Shape(SmallVec::from_slice(new_shape)).contiguous_strides());
    }
    let mut view_d = new_shape.len() as isize - 1;
    let mut chunk_base_stride = *strides.last().unwrap_or(&1);
    let mut tensor_numel = 1usize;
    let mut view_numel = 1usize;
    let mut tensor_d = shape.len() as isize - 1;
    while tensor_d >= 0 {
        let td = tensor_d as usize;
        tensor_numel *= shape[td];
        if td == 0 || (shape[td - 1] != 1 && strides[td - 1] != tensor_numel * chunk_base_stride) {
            while view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d as usize] == 1) {
                new_strides[view_d as usize] = view_numel * chunk_base_stride;
                view_numel *= new_shape[view_d as usize];
                view_d -= 1;
            }
            if view_numel != tensor_numel {
                return None;
            }
            if td > 0 {
                chunk_base_stride = strides[td - 1];
                tensor_numel = 1;
                view_numel = 1;
            }
        }
        tensor_d -= 1;
    }
    if view_d != -1 {
        return None;
    }
    Some(new_strides)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_rules() {
        assert_eq!(broadcast_shapes(&[3, 1], &[1, 4]).dims(), &[3, 4]);
        assert_eq!(broadcast_shapes(&[2, 1, 4], &[3, 1]).dims(), &[2, 3, 4]);
        assert_eq!(broadcast_shapes(&[], &[5]).dims(), &[5]);
        assert_eq!(
            try_broadcast_shapes(&[3], &[4]).unwrap_err(),
            "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0"
        );
    }

    #[test]
    fn wrap_dims_like_torch() {
        assert_eq!(wrap_dim(-1, 3), 2);
        assert_eq!(wrap_dim(0, 0), 0);
        assert_eq!(wrap_dim(-1, 0), 0);
        let err = std::panic::catch_unwind(|| wrap_dim(2, 2)).unwrap_err();
        assert_eq!(
            err.downcast_ref::<String>().unwrap(),
            "Dimension out of range (expected to be in range of [-2, 1], but got 2)"
        );
    }

    #[test]
    fn view_strides_cases() {
        // contiguous reshape
        assert_eq!(
            view_strides(&[3, 4], &[4, 1], &[2, 6]).unwrap().as_slice(),
            &[6, 1]
        );
        // transposed tensor cannot be flattened without a copy
        assert!(view_strides(&[4, 3], &[1, 4], &[12]).is_none());
        // but splitting a dim of a transposed tensor works
        assert_eq!(
            view_strides(&[4, 3], &[1, 4], &[2, 2, 3])
                .unwrap()
                .as_slice(),
            &[2, 1, 4]
        );
    }

    #[test]
    fn offsets_follow_logical_order() {
        let l = Layout {
            shape: Shape::new(&[2, 3]),
            strides: SmallVec::from_slice(&[1, 2]),
            offset: 1,
        };
        let mut v = vec![];
        l.for_each_offset(|o| v.push(o));
        assert_eq!(v, vec![1, 3, 5, 2, 4, 6]);
        // Two stride sets walked together, with a size-1 dim and mergeable dims coalesced.
        let mut pairs = vec![];
        for_each_offset(&[2, 1, 3], [&[3, 9, 1], &[1, 1, 2]], [0, 10], |[a, b]| {
            pairs.push((a, b))
        });
        assert_eq!(
            pairs,
            vec![(0, 10), (1, 12), (2, 14), (3, 11), (4, 13), (5, 15)]
        );
    }

    #[test]
    fn infer_shapes() {
        assert_eq!(infer_shape(&[-1, 6], 12).dims(), &[2, 6]);
        let err = std::panic::catch_unwind(|| infer_shape(&[5, -1], 12)).unwrap_err();
        assert_eq!(
            err.downcast_ref::<String>().unwrap(),
            "shape '[5, -1]' is invalid for input of size 12"
        );
    }
}
