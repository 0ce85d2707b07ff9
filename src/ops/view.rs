//! Views: new shapes and strides over the same storage (`view`, `reshape`, `unsqueeze`,
//! `squeeze`, `transpose`, `permute`, `expand`, `flatten`, `narrow`, `select`, slicing, `chunk`,
//! `split`, `unbind`). A view shares its base's storage and version counter.

use crate::autograd::{NamedBackward, backward_fn, record};
use crate::shape::{IntList, Layout, Shape, Strides, infer_shape, view_strides, wrap_dim};
use crate::tensor::Tensor;
use smallvec::SmallVec;

backward_fn! {
    /// Views that only change the shape: the gradient is reshaped back.
    struct ViewBackward0 { shape: Shape }
    names [UnsafeViewBackward0, UnsqueezeBackward0, SqueezeBackward0, SqueezeBackward1, SqueezeBackward4]
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.reshape(self.shape.dims()))]
    }
}

backward_fn! {
    struct PermuteBackward0 { inverse: SmallVec<[i64; 6]> }
    names [TransposeBackward0, TBackward0]
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.permute(self.inverse.as_slice()))]
    }
}

backward_fn! {
    struct ExpandBackward0 { shape: Shape }
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.sum_to_size(self.shape.dims()))]
    }
}

/// Where a slice or select took its elements: `dim`, `start`, `step`, the length taken, and
/// whether the dim was removed (select).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SliceGeometry {
    dim: usize,
    start: usize,
    step: usize,
    len: usize,
    select: bool,
}

impl SliceGeometry {
    /// The layout of the sliced elements inside a contiguous tensor of `shape`.
    fn layout_in(&self, shape: &Shape) -> Layout {
        let l = Layout::contiguous(shape.clone());
        let mut layout = l.clone();
        layout.offset = self.start * l.strides[self.dim];
        if self.select {
            layout.shape.0.remove(self.dim);
            layout.strides.remove(self.dim);
        } else {
            layout.shape.0[self.dim] = self.len;
            layout.strides[self.dim] = l.strides[self.dim] * self.step;
        }
        layout
    }

    /// The slice itself, as a (differentiable) view of `t`.
    fn apply(&self, t: &Tensor) -> Tensor {
        if self.select {
            t.select(self.dim as i64, self.start as i64)
        } else {
            let end = self.start + self.len.saturating_sub(1) * self.step + 1;
            t.slice(
                self.dim as i64,
                Some(self.start as i64),
                Some(end.max(self.start) as i64),
                self.step as i64,
            )
        }
    }
}

backward_fn! {
    /// Gradient of a slice, narrow, split, select or unbind: `slice_backward` (zeros shaped
    /// like the input, the gradient written at the sliced positions).
    struct SliceBackward0 { shape: Shape, geometry: SliceGeometry }
    names [SplitBackward0, SplitWithSizesBackward0, SelectBackward0, UnbindBackward0]
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(slice_backward(grad, &self.shape, self.geometry))]
    }
}

backward_fn! {
    /// `slice_backward`'s own derivative: the same slice of the gradient.
    struct SliceBackwardBackward0 { geometry: SliceGeometry }
    names [SelectBackwardBackward0]
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(self.geometry.apply(grad))]
    }
}

/// ATen's `slice_backward` / `select_backward`: zeros of the input's shape with `grad` written
/// where the slice took its elements; differentiable in `grad`.
fn slice_backward(grad: &Tensor, shape: &Shape, geometry: SliceGeometry) -> Tensor {
    let z = Tensor::zeros_dtype(shape.dims(), grad.dtype());
    z.alias_with_layout(geometry.layout_in(shape))
        .copy_raw(grad);
    if geometry.select {
        record(z, &[grad], |_| SelectBackwardBackward0 { geometry })
    } else {
        record(z, &[grad], |_| SliceBackwardBackward0 { geometry })
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

/// Which op took a slice (its node name, and the output's position for multi-view ops).
#[derive(Clone, Copy)]
enum SliceKind {
    Slice,
    Select,
    Split(usize),
    SplitWithSizes(usize),
    Unbind(usize),
}

/// Clamps a Python-style slice bound into `0..=size`.
fn clamp_bound(b: i64, size: i64) -> i64 {
    let b = if b < 0 { b + size } else { b };
    b.clamp(0, size)
}

impl Tensor {
    /// A differentiable view with another layout, recorded with the backward `make` builds.
    fn view_op<B: NamedBackward + 'static>(
        &self,
        layout: Layout,
        make: impl FnOnce() -> B,
    ) -> Tensor {
        let out = self.view_with_layout(layout, None);
        record(out, &[self], |_| make())
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
        self.view_op(layout, || ViewBackward0 { shape: old })
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
                self.view_op(layout, || ViewBackward0 { shape: old })
            }
            None => {
                // A copy, recorded as PyTorch's `_unsafe_view` of it (not a view of `self`).
                let copy = self.clone_tensor_raw();
                let out = copy.alias_with_layout(Layout::contiguous(shape));
                record(out, &[self], |_| UnsafeViewBackward0 { shape: old })
            }
        }
    }

    /// A reshape of a freshly computed (contiguous) result, recorded as PyTorch's `_unsafe_view`
    /// (an alias of the result, not a view autograd tracks).
    #[track_caller]
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
        let out = t.alias_with_layout(layout);
        record(out, &[&t], |_| UnsafeViewBackward0 { shape: old })
    }

    /// `squeeze(0)` as `matmul` records it for a 1-D first operand (`SqueezeBackward4`).
    pub(crate) fn squeeze_matmul_row(&self) -> Tensor {
        if self.dims()[0] != 1 {
            return self.clone();
        }
        let keep: Vec<usize> = (1..self.ndim()).collect();
        let old = self.shape().clone();
        self.view_op(self.keep_layout(&keep), || SqueezeBackward4 { shape: old })
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
        self.view_op(layout, || UnsqueezeBackward0 { shape: old })
    }

    /// Removes every size-1 dim (`tensor.squeeze()`).
    pub fn squeeze(&self) -> Tensor {
        let l = self.layout();
        let keep: Vec<usize> = (0..l.ndim()).filter(|&i| l.dims()[i] != 1).collect();
        let old = self.shape().clone();
        self.view_op(self.keep_layout(&keep), || SqueezeBackward0 { shape: old })
    }

    /// Removes `dim` if its size is 1, else returns the tensor unchanged (`tensor.squeeze(dim)`).
    #[track_caller]
    pub fn squeeze_dim(&self, dim: i64) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let keep: Vec<usize> = if self.ndim() == 0 || self.dims()[d] != 1 {
            (0..self.ndim()).collect()
        } else {
            (0..self.ndim()).filter(|&i| i != d).collect()
        };
        let old = self.shape().clone();
        self.view_op(self.keep_layout(&keep), || SqueezeBackward1 { shape: old })
    }

    /// The layout keeping only the listed dims (all others have size 1).
    fn keep_layout(&self, keep: &[usize]) -> Layout {
        let l = self.layout();
        Layout {
            shape: Shape(keep.iter().map(|&i| l.dims()[i]).collect()),
            strides: keep.iter().map(|&i| l.strides[i]).collect(),
            offset: l.offset,
        }
    }

    /// Swaps two dims (`tensor.transpose(dim0, dim1)`).
    pub fn transpose(&self, dim0: i64, dim1: i64) -> Tensor {
        let nd = self.ndim();
        let (a, b) = (wrap_dim(dim0, nd), wrap_dim(dim1, nd));
        let mut perm: SmallVec<[i64; 6]> = (0..nd as i64).collect();
        if nd > 0 {
            perm.swap(a, b);
        }
        self.permute_with(&perm, |inverse| TransposeBackward0 { inverse })
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
        let perm: Vec<i64> = if self.ndim() < 2 {
            (0..self.ndim() as i64).collect()
        } else {
            vec![1, 0]
        };
        self.permute_with(&perm, |inverse| TBackward0 { inverse })
    }

    /// Reorders the dims (`tensor.permute(dims)`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// assert_eq!(Tensor::zeros([2, 3, 4]).permute([2, 0, 1]).dims(), &[4, 2, 3]);
    /// ```
    #[track_caller]
    pub fn permute(&self, dims: impl IntList) -> Tensor {
        self.permute_with(&dims.to_int_list(), |inverse| PermuteBackward0 { inverse })
    }

    #[track_caller]
    fn permute_with<B: NamedBackward + 'static>(
        &self,
        dims: &[i64],
        make: impl FnOnce(SmallVec<[i64; 6]>) -> B,
    ) -> Tensor {
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
        self.view_op(layout, || make(inverse))
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
        self.view_op(layout, || ExpandBackward0 { shape: old })
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
    #[track_caller]
    pub fn slice(&self, dim: i64, start: Option<i64>, end: Option<i64>, step: i64) -> Tensor {
        let g = self.slice_geometry(dim, start, end, step);
        self.slice_view(g, SliceKind::Slice)
    }

    /// Where `start:end:step` along `dim` takes its elements, with Python's clamping.
    #[track_caller]
    fn slice_geometry(
        &self,
        dim: i64,
        start: Option<i64>,
        end: Option<i64>,
        step: i64,
    ) -> SliceGeometry {
        if step <= 0 {
            panic!("slice step must be positive");
        }
        let d = wrap_dim(dim, self.ndim());
        let size = self.dims()[d] as i64;
        let start = clamp_bound(start.unwrap_or(0), size);
        let end = clamp_bound(end.unwrap_or(size), size).max(start);
        let len = ((end - start) + step - 1) / step;
        SliceGeometry {
            dim: d,
            start: start as usize,
            step: step as usize,
            len: len as usize,
            select: false,
        }
    }

    /// The view a slice or select takes, recorded under the op's node name; the pieces of
    /// `split`, `chunk` and `unbind` are marked as outputs of a multi-view op.
    fn slice_view(&self, g: SliceGeometry, kind: SliceKind) -> Tensor {
        let l = self.layout();
        let mut layout = l.clone();
        layout.offset = l.offset + g.start * l.strides[g.dim];
        if g.select {
            layout.shape.0.remove(g.dim);
            layout.strides.remove(g.dim);
        } else {
            layout.shape.0[g.dim] = g.len;
            layout.strides[g.dim] = l.strides[g.dim] * g.step;
        }
        let multi = match kind {
            SliceKind::Split(k) => Some(("Split", k)),
            SliceKind::SplitWithSizes(k) => Some(("SplitWithSizes", k)),
            SliceKind::Unbind(k) => Some(("Unbind", k)),
            SliceKind::Slice | SliceKind::Select => None,
        };
        let out = self.view_with_layout(layout, multi);
        let shape = self.shape().clone();
        let geometry = g;
        match kind {
            SliceKind::Slice => record(out, &[self], |_| SliceBackward0 { shape, geometry }),
            SliceKind::Select => record(out, &[self], |_| SelectBackward0 { shape, geometry }),
            SliceKind::Split(_) => record(out, &[self], |_| SplitBackward0 { shape, geometry }),
            SliceKind::SplitWithSizes(_) => record(out, &[self], |_| SplitWithSizesBackward0 {
                shape,
                geometry,
            }),
            SliceKind::Unbind(_) => record(out, &[self], |_| UnbindBackward0 { shape, geometry }),
        }
    }

    /// `length` elements of `dim` from `start` (`tensor.narrow(dim, start, length)`).
    #[track_caller]
    pub fn narrow(&self, dim: i64, start: i64, length: usize) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let size = self.dims()[d] as i64;
        let s = if start < 0 { start + size } else { start };
        if s < 0 || s + length as i64 > size {
            panic!("start ({start}) + length ({length}) exceeds dimension size ({size}).");
        }
        self.slice(d as i64, Some(s), Some(s + length as i64), 1)
    }

    /// The geometry of `select(dim, index)`.
    #[track_caller]
    fn select_geometry(&self, dim: i64, index: i64) -> SliceGeometry {
        let d = wrap_dim(dim, self.ndim());
        let size = self.dims()[d] as i64;
        if index < -size || index >= size {
            panic!(
                "select(): index {index} out of range for tensor of size {:?} at dimension {d}",
                self.dims()
            );
        }
        let i = if index < 0 { index + size } else { index } as usize;
        SliceGeometry {
            dim: d,
            start: i,
            step: 1,
            len: 1,
            select: true,
        }
    }

    /// The sub-tensor at `index` of `dim`, which is removed (`tensor.select(dim, index)`, `a[i]`).
    #[track_caller]
    pub fn select(&self, dim: i64, index: i64) -> Tensor {
        let g = self.select_geometry(dim, index);
        self.slice_view(g, SliceKind::Select)
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
    #[track_caller]
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
            let g =
                self.slice_geometry(d as i64, Some(start as i64), Some((start + len) as i64), 1);
            out.push(self.slice_view(g, SliceKind::Split(out.len())));
            start += len;
        }
        if out.is_empty() {
            out.push(self.clone());
        }
        out
    }

    /// Pieces with the given sizes along `dim` (`torch.split(t, [sizes], dim)`).
    #[track_caller]
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
            .enumerate()
            .map(|(k, &len)| {
                let g = self.slice_geometry(
                    d as i64,
                    Some(start as i64),
                    Some((start + len) as i64),
                    1,
                );
                start += len;
                self.slice_view(g, SliceKind::SplitWithSizes(k))
            })
            .collect()
    }

    /// The sub-tensors along `dim`, each without that dim (`torch.unbind`).
    #[track_caller]
    pub fn unbind(&self, dim: i64) -> Vec<Tensor> {
        let d = wrap_dim(dim, self.ndim());
        (0..self.dims()[d])
            .map(|i| {
                let g = self.select_geometry(d as i64, i as i64);
                self.slice_view(g, SliceKind::Unbind(i))
            })
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
