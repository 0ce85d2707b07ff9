//! Slicing: `slice`, `narrow`, `select`, indexing with `s![..]`, `chunk`, `split`,
//! `split_with_sizes`, `unbind` (views of their input), and `slice_backward`, their gradient.

use crate::autograd::{backward_fn, record};
use crate::shape::{Layout, Shape, wrap_dim};
use crate::tensor::Tensor;

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
    /// The layout of the sliced elements inside a tensor laid out as `l`.
    fn within(&self, l: &Layout) -> Layout {
        let mut layout = l.clone();
        layout.offset = l.offset + self.start * l.strides[self.dim];
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
    #[track_caller]
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
#[track_caller]
fn slice_backward(grad: &Tensor, shape: &Shape, geometry: SliceGeometry) -> Tensor {
    let z = Tensor::zeros_dtype(shape.dims(), grad.dtype());
    z.alias_with_layout(geometry.within(&Layout::contiguous(shape.clone())))
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
    #[track_caller]
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
    #[track_caller]
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
#[track_caller]
fn clamp_bound(b: i64, size: i64) -> i64 {
    let b = if b < 0 { b + size } else { b };
    b.clamp(0, size)
}

impl Tensor {
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
    #[track_caller]
    fn slice_view(&self, g: SliceGeometry, kind: SliceKind) -> Tensor {
        let layout = g.within(self.layout());
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
    #[track_caller]
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
    #[track_caller]
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
}
