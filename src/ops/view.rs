//! Views: new shapes and strides over the same storage (`view`, `reshape`, `unsqueeze`,
//! `squeeze`, `transpose`, `permute`, `expand`, `flatten`, `narrow`, `select`, slicing, `chunk`,
//! `split`, `unbind`). A view shares its base's storage and version counter.

use crate::autograd::{backward_fn, record};
use crate::shape::{IntList, Layout, Shape, Strides, infer_shape, view_strides, wrap_dim};
use crate::tensor::Tensor;
use smallvec::SmallVec;

backward_fn! {
    struct ReshapeBackward { shape: Shape }
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.reshape(self.shape.dims()))]
    }
}

backward_fn! {
    struct PermuteBackward { inverse: SmallVec<[i64; 6]> }
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.permute(self.inverse.as_slice()))]
    }
}

backward_fn! {
    struct ExpandBackward { shape: Shape }
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.sum_to_size(self.shape.dims()))]
    }
}

backward_fn! {
    /// Gradient of a slice, narrow, split or select: scattered into zeros shaped like the input.
    struct SliceBackward { shape: Shape, dim: usize, start: usize, step: usize, len: usize, select: bool }
    saved []
    fn backward(&mut self, grad, needs) {
        let z = Tensor::zeros_dtype(self.shape.dims(), grad.dtype());
        let l = z.layout().clone();
        let mut layout = l.clone();
        layout.offset = self.start * l.strides[self.dim];
        if self.select {
            layout.shape.0.remove(self.dim);
            layout.strides.remove(self.dim);
        } else {
            layout.shape.0[self.dim] = self.len;
            layout.strides[self.dim] = l.strides[self.dim] * self.step;
        }
        z.alias_with_layout(layout).copy_raw(grad);
        smallvec::smallvec![Some(z)]
    }
}

/// One entry of an indexing expression built by [`s!`](crate::s!): an integer (which removes the
/// dim, like `a[1]`) or a range with an optional step (`a[1:3]`, `a[::2]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SliceArg {
    /// A single position; negative counts from the end. The dim is removed.
    Index(i64),
    /// `start:end:step`; `None` bounds mean the beginning or end. Negative bounds count from the end.
    Range {
        /// First position (inclusive).
        start: Option<i64>,
        /// Last position (exclusive).
        end: Option<i64>,
        /// Stride between taken positions (positive).
        step: i64,
    },
}

impl SliceArg {
    /// The same range with another step (`a[::2]`); panics on an index.
    pub fn with_step(self, step: i64) -> SliceArg {
        match self {
            SliceArg::Range { start, end, .. } => SliceArg::Range { start, end, step },
            SliceArg::Index(_) => panic!("a step applies to a range, not to an index"),
        }
    }
}

macro_rules! slice_arg_from {
    ($($t:ty),*) => {$(
        impl From<$t> for SliceArg {
            fn from(i: $t) -> Self {
                SliceArg::Index(i as i64)
            }
        }
        impl From<std::ops::Range<$t>> for SliceArg {
            fn from(r: std::ops::Range<$t>) -> Self {
                SliceArg::Range { start: Some(r.start as i64), end: Some(r.end as i64), step: 1 }
            }
        }
        impl From<std::ops::RangeFrom<$t>> for SliceArg {
            fn from(r: std::ops::RangeFrom<$t>) -> Self {
                SliceArg::Range { start: Some(r.start as i64), end: None, step: 1 }
            }
        }
        impl From<std::ops::RangeTo<$t>> for SliceArg {
            fn from(r: std::ops::RangeTo<$t>) -> Self {
                SliceArg::Range { start: None, end: Some(r.end as i64), step: 1 }
            }
        }
        impl From<std::ops::RangeInclusive<$t>> for SliceArg {
            fn from(r: std::ops::RangeInclusive<$t>) -> Self {
                SliceArg::Range { start: Some(*r.start() as i64), end: Some(*r.end() as i64 + 1), step: 1 }
            }
        }
    )*};
}
slice_arg_from!(i64, i32, usize);

impl From<std::ops::RangeFull> for SliceArg {
    fn from(_: std::ops::RangeFull) -> Self {
        SliceArg::Range {
            start: None,
            end: None,
            step: 1,
        }
    }
}

/// Builds an indexing expression for [`Tensor::index`], like Python's `a[1:3, ::2]`:
/// `s![1..3, ..;2]`. Each entry is an integer or a range, optionally followed by `;step`.
///
/// ```
/// use flambeau::{s, Tensor};
/// let a = Tensor::arange(0, 20, 1).reshape([4, 5]);
/// assert_eq!(a.index(s![1..3, ..;2]).to_vec::<i64>(), vec![5, 7, 9, 10, 12, 14]);
/// assert_eq!(a.index(s![1]).to_vec::<i64>(), vec![5, 6, 7, 8, 9]);
/// assert_eq!(a.index(s![.., 1..;2]).dims(), &[4, 2]);
/// assert_eq!(a.index(s![-1, -2]).item::<i64>(), 18);
/// ```
#[macro_export]
macro_rules! s {
    ($($e:expr $(; $step:expr)?),* $(,)?) => {
        vec![$( {
            let arg = $crate::SliceArg::from($e);
            $( let arg = arg.with_step($step); )?
            arg
        } ),*]
    };
}

/// Clamps a Python-style slice bound into `0..=size`.
fn clamp_bound(b: i64, size: i64) -> i64 {
    let b = if b < 0 { b + size } else { b };
    b.clamp(0, size)
}

impl Tensor {
    fn view_op<B: crate::autograd::Backward + 'static>(
        &self,
        layout: Layout,
        name: &'static str,
        make: impl FnOnce() -> B,
    ) -> Tensor {
        let out = self.alias_with_layout(layout);
        record(out, name, &[self], |_| make())
    }

    /// A view with another shape; one size may be -1 (`tensor.view(shape)`). Panics, with
    /// PyTorch's message, when the strides do not allow it: use [`Tensor::reshape`] then.
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let t = Tensor::zeros([3, 4]);
    /// assert_eq!(t.view([-1, 6]).dims(), &[2, 6]);
    /// ```
    pub fn view(&self, shape: impl IntList) -> Tensor {
        let shape = infer_shape(&shape.to_int_list(), self.numel());
        let l = self.layout();
        let strides = view_strides(l.dims(), &l.strides, shape.dims()).unwrap_or_else(|| {
            panic!("view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
        });
        let layout = Layout {
            shape,
            strides,
            offset: l.offset,
        };
        let old = self.shape().clone();
        self.view_op(layout, "ViewBackward0", || ReshapeBackward { shape: old })
    }

    /// Another shape for the same elements; a view when the strides allow it, else a copy
    /// (`tensor.reshape(shape)`).
    pub fn reshape(&self, shape: impl IntList) -> Tensor {
        let shape = infer_shape(&shape.to_int_list(), self.numel());
        if shape == *self.shape() {
            return self.clone();
        }
        let l = self.layout();
        let old = self.shape().clone();
        match view_strides(l.dims(), &l.strides, shape.dims()) {
            Some(strides) => {
                let layout = Layout {
                    shape,
                    strides,
                    offset: l.offset,
                };
                self.view_op(layout, "ViewBackward0", || ReshapeBackward { shape: old })
            }
            None => {
                let copy = self.clone_tensor_raw();
                let out = copy.alias_with_layout(Layout::contiguous(shape));
                record(out, "UnsafeViewBackward0", &[self], |_| ReshapeBackward {
                    shape: old,
                })
            }
        }
    }

    /// A reshape of a freshly computed (contiguous) result, recorded as PyTorch's `_unsafe_view`.
    pub(crate) fn unsafe_view(&self, shape: &[usize]) -> Tensor {
        let t = self.contiguous();
        let layout = Layout {
            shape: Shape::new(shape),
            strides: Shape::new(shape).contiguous_strides(),
            offset: t.layout().offset,
        };
        if layout.numel() != t.numel() {
            panic!(
                "shape '{:?}' is invalid for input of size {}",
                shape,
                t.numel()
            );
        }
        let old = t.shape().clone();
        t.view_op(layout, "UnsafeViewBackward0", || ReshapeBackward {
            shape: old,
        })
    }

    /// `squeeze_dim` recorded under a given node name (PyTorch's several squeeze overloads).
    pub(crate) fn squeeze_named(&self, dim: i64, name: &'static str) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        if self.dims()[d] != 1 {
            return self.clone();
        }
        let keep: Vec<usize> = (0..self.ndim()).filter(|&i| i != d).collect();
        self.keep_dims(&keep, name)
    }

    /// A view with `other`'s shape (`tensor.view_as(other)`).
    pub fn view_as(&self, other: &Tensor) -> Tensor {
        self.view(other.shape())
    }

    /// Reshapes to `other`'s shape (`tensor.reshape_as(other)`).
    pub fn reshape_as(&self, other: &Tensor) -> Tensor {
        self.reshape(other.shape())
    }

    /// Inserts a size-1 dim at `dim` (`tensor.unsqueeze(dim)`); the batch dimension of the tutorial.
    ///
    /// ```
    /// use flambeau::Tensor;
    /// assert_eq!(Tensor::zeros([11]).unsqueeze(1).dims(), &[11, 1]);
    /// ```
    pub fn unsqueeze(&self, dim: i64) -> Tensor {
        let d = wrap_dim(dim, self.ndim() + 1);
        let l = self.layout();
        let mut shape = l.shape.0.clone();
        let mut strides = l.strides.clone();
        let stride = if d < l.ndim() {
            l.strides[d] * l.dims()[d]
        } else {
            1
        };
        shape.insert(d, 1);
        strides.insert(d, stride);
        let layout = Layout {
            shape: Shape(shape),
            strides,
            offset: l.offset,
        };
        let old = self.shape().clone();
        self.view_op(layout, "UnsqueezeBackward0", || ReshapeBackward {
            shape: old,
        })
    }

    /// Removes every size-1 dim (`tensor.squeeze()`).
    pub fn squeeze(&self) -> Tensor {
        let l = self.layout();
        let keep: Vec<usize> = (0..l.ndim()).filter(|&i| l.dims()[i] != 1).collect();
        self.keep_dims(&keep, "SqueezeBackward0")
    }

    /// Removes `dim` if its size is 1, else returns the tensor unchanged (`tensor.squeeze(dim)`).
    pub fn squeeze_dim(&self, dim: i64) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        if self.ndim() == 0 || self.dims()[d] != 1 {
            return self.view_op(self.layout().clone(), "SqueezeBackward1", || {
                ReshapeBackward {
                    shape: self.shape().clone(),
                }
            });
        }
        let keep: Vec<usize> = (0..self.ndim()).filter(|&i| i != d).collect();
        self.keep_dims(&keep, "SqueezeBackward1")
    }

    fn keep_dims(&self, keep: &[usize], name: &'static str) -> Tensor {
        let l = self.layout();
        let layout = Layout {
            shape: Shape(keep.iter().map(|&i| l.dims()[i]).collect()),
            strides: keep.iter().map(|&i| l.strides[i]).collect(),
            offset: l.offset,
        };
        let old = self.shape().clone();
        self.view_op(layout, name, || ReshapeBackward { shape: old })
    }

    /// Swaps two dims (`tensor.transpose(dim0, dim1)`).
    pub fn transpose(&self, dim0: i64, dim1: i64) -> Tensor {
        let nd = self.ndim();
        let (a, b) = (wrap_dim(dim0, nd), wrap_dim(dim1, nd));
        let mut perm: SmallVec<[i64; 6]> = (0..nd as i64).collect();
        if nd > 0 {
            perm.swap(a, b);
        }
        self.permute_named(&perm, "TransposeBackward0")
    }

    /// Transposes a matrix; 0-D and 1-D tensors are returned as they are (`tensor.t()`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// assert_eq!(Tensor::zeros([2, 3]).t().dims(), &[3, 2]);
    /// ```
    pub fn t(&self) -> Tensor {
        if self.ndim() > 2 {
            panic!(
                "t() expects a tensor with <= 2 dimensions, but self is {}D",
                self.ndim()
            );
        }
        if self.ndim() < 2 {
            return self.permute_named(&(0..self.ndim() as i64).collect::<Vec<_>>(), "TBackward0");
        }
        self.permute_named(&[1, 0], "TBackward0")
    }

    /// Reorders the dims (`tensor.permute(dims)`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// assert_eq!(Tensor::zeros([2, 3, 4]).permute([2, 0, 1]).dims(), &[4, 2, 3]);
    /// ```
    pub fn permute(&self, dims: impl IntList) -> Tensor {
        self.permute_named(&dims.to_int_list(), "PermuteBackward0")
    }

    fn permute_named(&self, dims: &[i64], name: &'static str) -> Tensor {
        let nd = self.ndim();
        if dims.len() != nd {
            panic!(
                "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to len(dims) = {}",
                dims.len()
            );
        }
        let perm = crate::shape::wrap_dims(dims, nd);
        let l = self.layout();
        let layout = Layout {
            shape: Shape(perm.iter().map(|&p| l.dims()[p]).collect()),
            strides: perm.iter().map(|&p| l.strides[p]).collect(),
            offset: l.offset,
        };
        let mut inverse: SmallVec<[i64; 6]> = SmallVec::from_elem(0, nd);
        for (i, &p) in perm.iter().enumerate() {
            inverse[p] = i as i64;
        }
        self.view_op(layout, name, || PermuteBackward { inverse })
    }

    /// A broadcast view with size-1 dims repeated (stride 0) and new leading dims; -1 keeps a size
    /// (`tensor.expand(shape)`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let t = Tensor::ones([3, 1]).expand([2, 3, 4]);
    /// assert_eq!(t.dims(), &[2, 3, 4]);
    /// assert_eq!(t.stride(), vec![0, 1, 0]);
    /// ```
    pub fn expand(&self, shape: impl IntList) -> Tensor {
        let sizes = shape.to_int_list();
        let l = self.layout();
        let nd = l.ndim();
        if sizes.len() < nd {
            panic!(
                "expand(torch.FloatTensor{{{:?}}}, size={:?}): the number of sizes provided ({}) must be greater or equal to the number of dimensions in the tensor ({})",
                l.dims(),
                sizes.as_slice(),
                sizes.len(),
                nd
            );
        }
        let lead = sizes.len() - nd;
        let mut out_shape: SmallVec<[usize; 6]> = SmallVec::new();
        let mut strides: Strides = SmallVec::new();
        for (i, &s) in sizes.iter().enumerate() {
            if i < lead {
                if s < 0 {
                    panic!(
                        "The expanded size of the tensor ({s}) isn't allowed in a leading, non-existing dimension {i}"
                    );
                }
                out_shape.push(s as usize);
                strides.push(0);
            } else {
                let d = l.dims()[i - lead];
                let target = if s == -1 { d as i64 } else { s };
                if target as usize == d {
                    out_shape.push(d);
                    strides.push(l.strides[i - lead]);
                } else if d == 1 {
                    out_shape.push(target as usize);
                    strides.push(0);
                } else {
                    panic!(
                        "The expanded size of the tensor ({target}) must match the existing size ({d}) at non-singleton dimension {i}.  Target sizes: {:?}.  Tensor sizes: {:?}",
                        sizes.as_slice(),
                        l.dims()
                    );
                }
            }
        }
        if out_shape.as_slice() == l.dims() {
            return self.clone();
        }
        let layout = Layout {
            shape: Shape(out_shape),
            strides,
            offset: l.offset,
        };
        let old = self.shape().clone();
        self.view_op(layout, "ExpandBackward0", || ExpandBackward { shape: old })
    }

    /// Expands to `other`'s shape (`tensor.expand_as(other)`).
    pub fn expand_as(&self, other: &Tensor) -> Tensor {
        self.expand(other.shape())
    }

    /// Merges dims `start_dim..=end_dim` into one (`torch.flatten(t, start_dim, end_dim)`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// assert_eq!(Tensor::zeros([2, 3, 4]).flatten(1, -1).dims(), &[2, 12]);
    /// assert_eq!(Tensor::zeros([2, 3, 4]).flatten(0, -1).dims(), &[24]);
    /// ```
    pub fn flatten(&self, start_dim: i64, end_dim: i64) -> Tensor {
        if self.ndim() == 0 {
            return self.reshape([1]);
        }
        let (s, e) = (
            wrap_dim(start_dim, self.ndim()),
            wrap_dim(end_dim, self.ndim()),
        );
        if s > e {
            panic!("flatten() has invalid args: start_dim cannot come after end_dim");
        }
        if s == e {
            return self.clone();
        }
        let d = self.dims();
        let mut shape: Vec<usize> = d[..s].to_vec();
        shape.push(d[s..=e].iter().product());
        shape.extend_from_slice(&d[e + 1..]);
        self.reshape(shape)
    }

    /// Splits `dim` into several dims (`tensor.unflatten(dim, sizes)`).
    pub fn unflatten(&self, dim: i64, sizes: impl IntList) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let inner = infer_shape(&sizes.to_int_list(), self.dims()[d]);
        let mut shape: Vec<usize> = self.dims()[..d].to_vec();
        shape.extend_from_slice(inner.dims());
        shape.extend_from_slice(&self.dims()[d + 1..]);
        self.view(shape)
    }

    /// `start:end:step` along one dim, with Python's clamping of out-of-range bounds.
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let t = Tensor::arange(0, 10, 1);
    /// assert_eq!(t.slice(0, Some(1), Some(8), 3).to_vec::<i64>(), vec![1, 4, 7]);
    /// assert_eq!(t.slice(0, Some(-2), None, 1).to_vec::<i64>(), vec![8, 9]);
    /// ```
    pub fn slice(&self, dim: i64, start: Option<i64>, end: Option<i64>, step: i64) -> Tensor {
        self.slice_named(dim, start, end, step, "SliceBackward0")
    }

    fn slice_named(
        &self,
        dim: i64,
        start: Option<i64>,
        end: Option<i64>,
        step: i64,
        name: &'static str,
    ) -> Tensor {
        if step <= 0 {
            panic!("slice step must be positive");
        }
        let d = wrap_dim(dim, self.ndim());
        let l = self.layout();
        let size = l.dims()[d] as i64;
        let start = clamp_bound(start.unwrap_or(0), size);
        let end = clamp_bound(end.unwrap_or(size), size).max(start);
        let len = ((end - start) + step - 1) / step;
        let mut layout = l.clone();
        layout.offset = l.offset + start as usize * l.strides[d];
        layout.shape.0[d] = len as usize;
        layout.strides[d] = l.strides[d] * step as usize;
        let shape = self.shape().clone();
        self.view_op(layout, name, || SliceBackward {
            shape,
            dim: d,
            start: start as usize,
            step: step as usize,
            len: len as usize,
            select: false,
        })
    }

    /// `length` elements of `dim` from `start` (`tensor.narrow(dim, start, length)`).
    pub fn narrow(&self, dim: i64, start: i64, length: usize) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let size = self.dims()[d] as i64;
        let s = if start < 0 { start + size } else { start };
        if s < 0 || s + length as i64 > size {
            panic!("start ({start}) + length ({length}) exceeds dimension size ({size}).");
        }
        self.slice_named(
            d as i64,
            Some(s),
            Some(s + length as i64),
            1,
            "SliceBackward0",
        )
    }

    /// The sub-tensor at `index` of `dim`, which is removed (`tensor.select(dim, index)`, `a[i]`).
    pub fn select(&self, dim: i64, index: i64) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let l = self.layout();
        let size = l.dims()[d] as i64;
        if index < -size || index >= size {
            panic!(
                "select(): index {index} out of range for tensor of size {:?} at dimension {d}",
                l.dims()
            );
        }
        let i = if index < 0 { index + size } else { index } as usize;
        let mut layout = l.clone();
        layout.offset = l.offset + i * l.strides[d];
        layout.shape.0.remove(d);
        layout.strides.remove(d);
        let shape = self.shape().clone();
        self.view_op(layout, "SelectBackward0", || SliceBackward {
            shape,
            dim: d,
            start: i,
            step: 1,
            len: 1,
            select: true,
        })
    }

    /// Indexes with integers and ranges, as `a[1:3, ::2]` does in Python; see [`s!`](crate::s!).
    /// Dims not mentioned are kept whole.
    pub fn index(&self, args: Vec<SliceArg>) -> Tensor {
        if args.len() > self.ndim() {
            panic!("too many indices for tensor of dimension {}", self.ndim());
        }
        let mut t = self.clone();
        let mut dim = 0i64;
        for a in args {
            match a {
                SliceArg::Index(i) => t = t.select(dim, i),
                SliceArg::Range { start, end, step } => {
                    if !(start.is_none() && end.is_none() && step == 1) {
                        t = t.slice(dim, start, end, step);
                    }
                    dim += 1;
                }
            }
        }
        t
    }

    /// Splits into `chunks` pieces of equal size along `dim` (the last may be smaller)
    /// (`torch.chunk`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let parts = Tensor::arange(0, 5, 1).chunk(2, 0);
    /// assert_eq!(parts[0].to_vec::<i64>(), vec![0, 1, 2]);
    /// assert_eq!(parts[1].to_vec::<i64>(), vec![3, 4]);
    /// ```
    pub fn chunk(&self, chunks: usize, dim: i64) -> Vec<Tensor> {
        if chunks == 0 {
            panic!("chunk expects `chunks` to be greater than 0, got: 0");
        }
        let d = wrap_dim(dim, self.ndim());
        let size = self.dims()[d];
        let split = size.div_ceil(chunks).max(1);
        self.split(split, dim)
    }

    /// Pieces of `split_size` along `dim`, the last possibly smaller (`torch.split(t, n, dim)`).
    pub fn split(&self, split_size: usize, dim: i64) -> Vec<Tensor> {
        let d = wrap_dim(dim, self.ndim());
        let size = self.dims()[d];
        if split_size == 0 && size != 0 {
            panic!(
                "split_size can only be 0 if dimension size is 0, but got dimension size of {size}"
            );
        }
        let mut out = Vec::new();
        let mut start = 0;
        while start < size {
            let len = split_size.min(size - start);
            out.push(self.slice_named(
                d as i64,
                Some(start as i64),
                Some((start + len) as i64),
                1,
                "SplitBackward0",
            ));
            start += len;
        }
        if out.is_empty() {
            out.push(self.clone());
        }
        out
    }

    /// Pieces with the given sizes along `dim` (`torch.split(t, [sizes], dim)`).
    pub fn split_with_sizes(&self, sizes: &[usize], dim: i64) -> Vec<Tensor> {
        let d = wrap_dim(dim, self.ndim());
        let total: usize = sizes.iter().sum();
        if total != self.dims()[d] {
            panic!(
                "split_with_sizes expects split_sizes to sum exactly to {} (input tensor's size at dimension {d}), but got split_sizes={:?}",
                self.dims()[d],
                sizes
            );
        }
        let mut start = 0;
        sizes
            .iter()
            .map(|&len| {
                let t = self.slice_named(
                    d as i64,
                    Some(start as i64),
                    Some((start + len) as i64),
                    1,
                    "SplitWithSizesBackward0",
                );
                start += len;
                t
            })
            .collect()
    }

    /// The sub-tensors along `dim`, each without that dim (`torch.unbind`).
    pub fn unbind(&self, dim: i64) -> Vec<Tensor> {
        let d = wrap_dim(dim, self.ndim());
        (0..self.dims()[d] as i64)
            .map(|i| self.select(d as i64, i))
            .collect()
    }

    /// Moves one dim to another position (`torch.movedim`).
    pub fn movedim(&self, source: i64, destination: i64) -> Tensor {
        let nd = self.ndim();
        let (s, d) = (wrap_dim(source, nd), wrap_dim(destination, nd));
        let mut order: Vec<i64> = (0..nd as i64).filter(|&i| i as usize != s).collect();
        order.insert(d, s as i64);
        self.permute(order)
    }
}
