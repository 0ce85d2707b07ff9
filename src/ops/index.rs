//! Indexing with index tensors and masks: `index_select`, `gather`, `scatter`, `scatter_add`,
//! `index_add`, `masked_fill`, `where_`.

use super::binary::TensorOrScalar;
use super::{broadcast_layout, result_type};
use crate::autograd::{SavedTensor, backward_fn, record};
use crate::dtype::DType;
use crate::scalar::{Scalar, result_type_with_scalar};
use crate::shape::{Shape, broadcast_shapes, wrap_dim};
use crate::storage::lock;
use crate::tensor::Tensor;

/// Checks an int64 index tensor against a dim's size, with PyTorch's messages (before any
/// kernel runs, so a bad index panics at the caller's line).
#[track_caller]
fn check_indices(idx: &Tensor, op: &str, size: usize, dim: usize) {
    if idx.dtype() != DType::I64 {
        panic!("{op}(): Expected dtype int64 for index");
    }
    let s = size as i64;
    if let Some(&i) = idx.to_vec::<i64>().iter().find(|&&i| i < -s || i >= s) {
        panic!("index {i} is out of bounds for dimension {dim} with size {size}");
    }
}

backward_fn! {
    struct IndexSelectBackward0 { shape: Shape, dim: usize, index: Tensor }
    saved []
    fn backward(&mut self, grad, needs) {
        let z = Tensor::zeros_dtype(self.shape.dims(), grad.dtype());
        smallvec::smallvec![Some(z.index_add(self.dim as i64, &self.index, grad))]
    }
}

backward_fn! {
    struct GatherBackward0 { shape: Shape, dim: usize, index: Tensor }
    saved []
    fn backward(&mut self, grad, needs) {
        let z = Tensor::zeros_dtype(self.shape.dims(), grad.dtype());
        smallvec::smallvec![Some(z.scatter_add(self.dim as i64, &self.index, grad))]
    }
}

backward_fn! {
    struct ScatterBackward0 { dim: usize, index: Tensor, add: bool }
    names [ScatterAddBackward0]
    saved []
    fn backward(&mut self, grad, needs) {
        let gs = needs[0].then(|| {
            if self.add {
                grad.clone()
            } else {
                let z = Tensor::zeros_dtype(self.index.dims(), grad.dtype());
                grad.scatter(self.dim as i64, &self.index, &z)
            }
        });
        let gsrc = needs[1].then(|| grad.gather(self.dim as i64, &self.index));
        smallvec::smallvec![gs, gsrc]
    }
}

backward_fn! {
    struct IndexAddBackward0 { dim: usize, index: Tensor }
    saved []
    fn backward(&mut self, grad, needs) {
        let gs = needs[0].then(|| grad.clone());
        let gsrc = needs[1].then(|| grad.index_select(self.dim as i64, &self.index));
        smallvec::smallvec![gs, gsrc]
    }
}

backward_fn! {
    struct MaskedFillBackward0 { mask: Tensor }
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.masked_fill(&self.mask, 0.0))]
    }
}

backward_fn! {
    struct WhereBackward0 { cond: SavedTensor }
    saved [cond]
    fn backward(&mut self, grad, needs) {
        let cond = self.cond.get();
        let ga = needs[0].then(|| grad.masked_fill(&cond.logical_not(), 0.0));
        let gb = needs[1].then(|| grad.masked_fill(&cond, 0.0));
        smallvec::smallvec![ga, gb]
    }
}

/// Gathers `src[..., idx, ...]` along `dim` for every position of the index tensor.
#[track_caller]
fn gather_raw(src: &Tensor, dim: usize, index: &Tensor) -> Tensor {
    let nd = src.ndim();
    if index.ndim() != nd {
        panic!("Index tensor must have the same number of dimensions as input tensor");
    }
    for d in 0..nd {
        if d != dim && index.dims()[d] > src.dims()[d] {
            panic!(
                "Size does not match at dimension {d} expected index {:?} to be smaller than self {:?} apart from dimension {dim}",
                index.dims(),
                src.dims()
            );
        }
    }
    check_indices(index, "gather", src.dims()[dim], dim);
    let storage = {
        let pair = crate::storage::ReadPair::new(src.cell(), index.cell());
        let (s, i) = pair.get();
        s.gather(src.layout(), dim, i, index.layout())
    };
    Tensor::from_storage(storage, index.shape().clone())
}

/// `out = dst.clone(); out[..., idx, ...] (+)= src` along `dim`.
#[track_caller]
fn scatter_raw(dst: &Tensor, dim: usize, index: &Tensor, src: &Tensor, add: bool) -> Tensor {
    check_indices(
        index,
        if add { "scatter_add" } else { "scatter" },
        dst.dims()[dim],
        dim,
    );
    let out = dst.clone_tensor_raw();
    let src = src.cast_raw(dst.dtype());
    {
        let mut locked = lock(&[out.cell()], &[index.cell(), src.cell()]);
        let (mut w, r) = locked.parts();
        w[0].scatter_inplace(
            out.layout(),
            dim,
            (r[0], index.layout()),
            (r[1], src.layout()),
            add,
        );
    }
    out
}

#[track_caller]
fn index_select_raw(src: &Tensor, dim: usize, index: &Tensor) -> Tensor {
    if index.ndim() > 1 {
        panic!("index_select(): Index is supposed to be a vector");
    }
    check_indices(index, "index_select", src.dims()[dim], dim);
    let mut shape = src.dims().to_vec();
    shape[dim] = index.numel();
    let storage = {
        let pair = crate::storage::ReadPair::new(src.cell(), index.cell());
        let (s, i) = pair.get();
        s.index_select(src.layout(), dim, i, index.layout())
    };
    Tensor::from_storage(storage, Shape::new(&shape))
}

#[track_caller]
fn index_add_raw(dst: &Tensor, dim: usize, index: &Tensor, src: &Tensor) -> Tensor {
    check_indices(index, "index_add", dst.dims()[dim], dim);
    let out = dst.clone_tensor_raw();
    let src = src.cast_raw(dst.dtype());
    {
        let mut locked = lock(&[out.cell()], &[index.cell(), src.cell()]);
        let (mut w, r) = locked.parts();
        w[0].index_add_inplace(
            out.layout(),
            dim,
            (r[0], index.layout()),
            (r[1], src.layout()),
        );
    }
    out
}

/// `where(cond, a, b)` elementwise over the broadcast of the three shapes.
#[track_caller]
fn where_raw(cond: &Tensor, a: &Tensor, b: &Tensor) -> Tensor {
    if cond.dtype() != DType::Bool {
        panic!(
            "where expected condition to be a boolean tensor, but got a tensor with dtype {}",
            cond.dtype().scalar_name()
        );
    }
    let dtype = result_type(a, b);
    let (a, b) = (a.cast_raw(dtype), b.cast_raw(dtype));
    let shape = broadcast_shapes(broadcast_shapes(cond.dims(), a.dims()).dims(), b.dims());
    let (lc, la, lb) = (
        broadcast_layout(cond, shape.dims()),
        broadcast_layout(&a, shape.dims()),
        broadcast_layout(&b, shape.dims()),
    );
    let storage = {
        let mut locked = lock(&[], &[cond.cell(), a.cell(), b.cell()]);
        let r = locked.reads();
        r[0].where_cond(&lc, (r[1], &la), (r[2], &lb), &shape)
    };
    Tensor::from_storage(storage, shape)
}

#[track_caller]
fn operand_tensor(x: TensorOrScalar, like: &Tensor) -> Tensor {
    match x {
        TensorOrScalar::Tensor(t) => t,
        TensorOrScalar::Scalar(s) => {
            Tensor::full_dtype((), s, result_type_with_scalar(like.dtype(), s))
        }
    }
}

impl Tensor {
    /// The slices at positions `index` (a 1-D int64 tensor) along `dim` (`torch.index_select`).
    ///
    /// ```
    /// use flambeau::{tensor, Tensor};
    /// let a = Tensor::arange(0, 6, 1).reshape([3, 2]);
    /// assert_eq!(a.index_select(0, &tensor!([2, 0])).to_vec::<i64>(), vec![4, 5, 0, 1]);
    /// ```
    #[track_caller]
    pub fn index_select(&self, dim: i64, index: &Tensor) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let out = index_select_raw(self, d, index);
        record(out, &[self], |_| IndexSelectBackward0 {
            shape: self.shape().clone(),
            dim: d,
            index: index.clone(),
        })
    }

    /// `out[i][j] = self[i][index[i][j]]` for `dim = 1`, and likewise for any dim (`torch.gather`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let a = tensor!([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(a.gather(1, &tensor!([[1, 1], [0, 1]])).to_vec::<f32>(), vec![2.0, 2.0, 3.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn gather(&self, dim: i64, index: &Tensor) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let out = gather_raw(self, d, index);
        record(out, &[self], |_| GatherBackward0 {
            shape: self.shape().clone(),
            dim: d,
            index: index.clone(),
        })
    }

    /// A copy with `src` written at `index` along `dim` (`torch.scatter`).
    #[track_caller]
    pub fn scatter(&self, dim: i64, index: &Tensor, src: &Tensor) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let out = scatter_raw(self, d, index, src, false);
        record(out, &[self, src], |_| ScatterBackward0 {
            dim: d,
            index: index.clone(),
            add: false,
        })
    }

    /// A copy with `src` added at `index` along `dim` (`torch.scatter_add`).
    ///
    /// ```
    /// use flambeau::{tensor, Tensor};
    /// let z = Tensor::zeros([3]);
    /// let out = z.scatter_add(0, &tensor!([0, 2, 0]), &tensor!([1.0, 2.0, 3.0]));
    /// assert_eq!(out.to_vec::<f32>(), vec![4.0, 0.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn scatter_add(&self, dim: i64, index: &Tensor, src: &Tensor) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let out = scatter_raw(self, d, index, src, true);
        record(out, &[self, src], |_| ScatterAddBackward0 {
            dim: d,
            index: index.clone(),
            add: true,
        })
    }

    /// A copy with the slices of `src` added at positions `index` along `dim` (`torch.index_add`).
    #[track_caller]
    pub fn index_add(&self, dim: i64, index: &Tensor, src: &Tensor) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let out = index_add_raw(self, d, index, src);
        record(out, &[self, src], |_| IndexAddBackward0 {
            dim: d,
            index: index.clone(),
        })
    }

    /// A copy with `value` where `mask` is true; the mask broadcasts (`torch.masked_fill`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let a = tensor!([1.0, 2.0, 3.0]);
    /// let m = tensor!([true, false, true]);
    /// assert_eq!(a.masked_fill(&m, -1.0).to_vec::<f32>(), vec![-1.0, 2.0, -1.0]);
    /// ```
    #[track_caller]
    pub fn masked_fill(&self, mask: &Tensor, value: impl Into<Scalar>) -> Tensor {
        if mask.dtype() != DType::Bool {
            panic!(
                "masked_fill_ only supports boolean masks, but got mask with dtype {}",
                mask.dtype().scalar_name()
            );
        }
        let fill = Tensor::full_dtype((), value.into(), self.dtype());
        let out = where_raw(mask, &fill, self);
        record(out, &[self], |_| MaskedFillBackward0 { mask: mask.clone() })
    }

    /// Elements of `a` where `cond` is true, else of `b`; all three broadcast (`torch.where`).
    /// Either value may be a number.
    ///
    /// ```
    /// use flambeau::{tensor, Tensor};
    /// let c = tensor!([true, false]);
    /// let out = Tensor::where_(&c, &tensor!([1.0, 2.0]), 0.0);
    /// assert_eq!(out.to_vec::<f32>(), vec![1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn where_(
        cond: &Tensor,
        a: impl Into<TensorOrScalar>,
        b: impl Into<TensorOrScalar>,
    ) -> Tensor {
        let (a, b) = (a.into(), b.into());
        let (ta, tb) = match (&a, &b) {
            (TensorOrScalar::Tensor(x), _) => {
                let x = x.clone();
                (x.clone(), operand_tensor(b, &x))
            }
            (_, TensorOrScalar::Tensor(y)) => {
                let y = y.clone();
                (operand_tensor(a, &y), y)
            }
            (TensorOrScalar::Scalar(s1), TensorOrScalar::Scalar(s2)) => {
                let dtype = if s1.is_float() || s2.is_float() {
                    DType::F32
                } else {
                    s1.default_dtype()
                };
                (
                    Tensor::full_dtype((), *s1, dtype),
                    Tensor::full_dtype((), *s2, dtype),
                )
            }
        };
        let out = where_raw(cond, &ta, &tb);
        record(out, &[&ta, &tb], |_| WhereBackward0 {
            cond: SavedTensor::input(cond),
        })
    }

    /// The elements where `mask` is true, as a 1-D tensor (`torch.masked_select`).
    #[track_caller]
    pub fn masked_select(&self, mask: &Tensor) -> Tensor {
        let shape = broadcast_shapes(self.dims(), mask.dims());
        let x = self.expand(shape.dims());
        let m = mask.expand(shape.dims()).to_vec::<bool>();
        let positions: Vec<i64> = m
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b)
            .map(|(i, _)| i as i64)
            .collect();
        let n = positions.len();
        x.reshape([-1])
            .index_select(0, &Tensor::from_vec(positions, [n]))
    }
}
