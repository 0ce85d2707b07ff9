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

impl Tensor {
    /// A differentiable view with another layout, recorded with the backward `make` builds.
    #[track_caller]
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
    #[track_caller]
    pub fn view(&self, shape: impl IntList) -> Tensor {
        let shape = infer_shape(&shape.to_int_list(), self.numel());
        let l = self.layout();
        let Some(strides) = view_strides(l.dims(), &l.strides, shape.dims()) else {
            panic!(
                "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            )
        };
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
    #[track_caller]
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
    #[track_caller]
    pub(crate) fn squeeze_matmul_row(&self) -> Tensor {
        if self.dims()[0] != 1 {
            return self.clone();
        }
        let keep: Vec<usize> = (1..self.ndim()).collect();
        let old = self.shape().clone();
        self.view_op(self.keep_layout(&keep), || SqueezeBackward4 { shape: old })
    }

    /// A view with `other`'s shape (`tensor.view_as(other)`).
    #[track_caller]
    pub fn view_as(&self, other: &Tensor) -> Tensor {
        self.view(other.shape())
    }

    /// Reshapes to `other`'s shape (`tensor.reshape_as(other)`).
    #[track_caller]
    pub fn reshape_as(&self, other: &Tensor) -> Tensor {
        self.reshape(other.shape())
    }

    /// Inserts a size-1 dim at `dim` (`tensor.unsqueeze(dim)`); the batch dimension of the tutorial.
    ///
    /// ```
    /// use flambeau::Tensor;
    /// assert_eq!(Tensor::zeros([11]).unsqueeze(1).dims(), &[11, 1]);
    /// ```
    #[track_caller]
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
    #[track_caller]
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
    #[track_caller]
    fn keep_layout(&self, keep: &[usize]) -> Layout {
        let l = self.layout();
        Layout {
            shape: Shape(keep.iter().map(|&i| l.dims()[i]).collect()),
            strides: keep.iter().map(|&i| l.strides[i]).collect(),
            offset: l.offset,
        }
    }

    /// Swaps two dims (`tensor.transpose(dim0, dim1)`).
    #[track_caller]
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
    #[track_caller]
    pub fn t(&self) -> Tensor {
        if self.ndim() > 2 {
            panic!(
                "t() expects a tensor with <= 2 dimensions, but self is {}D",
                self.ndim()
            );
        }
        // The permutation is its own inverse: the layout's two dims swapped (or kept).
        let l = self.layout();
        let nd = l.ndim();
        let (layout, inverse): (Layout, SmallVec<[i64; 6]>) = if nd == 2 {
            let layout = Layout {
                shape: Shape(smallvec::smallvec![l.dims()[1], l.dims()[0]]),
                strides: smallvec::smallvec![l.strides[1], l.strides[0]],
                offset: l.offset,
            };
            (layout, smallvec::smallvec![1, 0])
        } else {
            (l.clone(), (0..nd as i64).collect())
        };
        self.view_op(layout, || TBackward0 { inverse })
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
    #[track_caller]
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
        crate::shape::checked_numel(&out_shape);
        let layout = Layout {
            shape: Shape(out_shape),
            strides,
            offset: l.offset,
        };
        let old = self.shape().clone();
        self.view_op(layout, || ExpandBackward0 { shape: old })
    }

    /// Expands to `other`'s shape (`tensor.expand_as(other)`).
    #[track_caller]
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
    #[track_caller]
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
    #[track_caller]
    pub fn unflatten(&self, dim: i64, sizes: impl IntList) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let inner = infer_shape(&sizes.to_int_list(), self.dims()[d]);
        let mut shape: Vec<usize> = self.dims()[..d].to_vec();
        shape.extend_from_slice(inner.dims());
        shape.extend_from_slice(&self.dims()[d + 1..]);
        self.view(shape)
    }

    /// Moves one dim to another position (`torch.movedim`).
    #[track_caller]
    pub fn movedim(&self, source: i64, destination: i64) -> Tensor {
        let nd = self.ndim();
        let (s, d) = (wrap_dim(source, nd), wrap_dim(destination, nd));
        let mut order: Vec<i64> = (0..nd as i64).filter(|&i| i as usize != s).collect();
        order.insert(d, s as i64);
        self.permute(order)
    }
}
