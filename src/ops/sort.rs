//! Sorting and selection along a dim: `sort argsort msort topk kthvalue median nanmedian`.
//! Each returns values with their positions; the values' gradient goes back to those positions
//! (derivatives.yaml's `value_selecting_reduction_backward` for the reductions, and a scatter of
//! the gradient through the indices for `sort` and `topk`).

use crate::autograd::{backward_fn, no_grad, record};
use crate::dtype::DType;
use crate::shape::{Shape, wrap_dim};
use crate::tensor::Tensor;

backward_fn! {
    /// sort/topk/kthvalue/median: the gradient scattered into zeros at the selected positions
    /// (`value_selecting_reduction_backward(grad, dim, indices, self.sym_sizes(), keepdim)`).
    struct SortBackward0 { dim: usize, indices: Tensor, in_shape: Shape, keepdim: bool }
    names [TopkBackward0, KthvalueBackward0, MedianBackward1, NanmedianBackward1]
    saved []
    fn backward(&mut self, grad, needs) {
        if self.in_shape.ndim() == 0 {
            return smallvec::smallvec![Some(grad.reshape(Vec::<i64>::new()))];
        }
        let (g, idx) = if self.keepdim {
            (grad.clone(), self.indices.clone())
        } else {
            (grad.unsqueeze(self.dim as i64), self.indices.unsqueeze(self.dim as i64))
        };
        let z = Tensor::zeros_dtype(self.in_shape.dims(), grad.dtype());
        smallvec::smallvec![Some(z.scatter(self.dim as i64, &idx, &g))]
    }
}

backward_fn! {
    /// median()/nanmedian() of all elements: derivatives.yaml's `evenly_distribute_backward`,
    /// the gradient shared equally by every element equal to the result (every NaN when the
    /// result is NaN). `share` is that mask divided by its count, in the input's dtype.
    struct MedianBackward0 { share: Tensor }
    names [NanmedianBackward0]
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(self.share.mul(grad))]
    }
}

/// Which element of each sorted row `median` / `nanmedian` take.
#[derive(Clone, Copy, PartialEq)]
enum Median {
    /// The lower median, or the first NaN when the row has one (`torch.median`).
    NanPropagating,
    /// The lower median of the numbers, NaN only for an all-NaN row (`torch.nanmedian`).
    NanIgnoring,
}

impl Tensor {
    /// `(values, indices)` of a stable sort along `dim`, without autograd; row-major outputs.
    #[track_caller]
    fn sort_raw(&self, dim: i64, descending: bool) -> (Tensor, Tensor) {
        if self.ndim() == 0 {
            wrap_dim(dim, 1);
            return (
                self.clone_tensor_raw(),
                Tensor::zeros_dtype(Vec::<usize>::new(), DType::I64),
            );
        }
        let d = wrap_dim(dim, self.ndim());
        let moved = self.movedim(d as i64, -1);
        let (v, i) = moved.storage().sort_last(moved.layout(), descending);
        let v = Tensor::from_storage(v, moved.shape().clone());
        let i = Tensor::from_storage(i, moved.shape().clone());
        if d + 1 == self.ndim() {
            return (v, i);
        }
        (
            v.movedim(-1, d as i64).clone_tensor_raw(),
            i.movedim(-1, d as i64).clone_tensor_raw(),
        )
    }

    /// Records the values of a selection along `dim` (at `indices`) with the node `make`
    /// builds from (dim, indices, input shape, keepdim).
    #[track_caller]
    fn record_selected<B, F>(
        &self,
        values: Tensor,
        indices: &Tensor,
        dim: i64,
        keepdim: bool,
        make: F,
    ) -> Tensor
    where
        B: crate::autograd::NamedBackward + 'static,
        F: FnOnce(usize, Tensor, Shape, bool) -> B,
    {
        let d = wrap_dim(dim, self.ndim());
        let idx = indices.clone();
        record(values, &[self], |_| {
            make(d, idx, self.shape().clone(), keepdim)
        })
    }

    /// The values and positions at `pos` (int64, the sorted shape with `dim` of size 1) of
    /// each row sorted ascending along `dim`, without autograd.
    #[track_caller]
    fn select_sorted(
        &self,
        dim: i64,
        keepdim: bool,
        pos: impl FnOnce(&Tensor) -> Tensor,
    ) -> (Tensor, Tensor) {
        let (v, i) = self.sort_raw(dim, false);
        if self.ndim() == 0 {
            return (v, i);
        }
        let p = pos(&v);
        let (v, i) = (v.gather(dim, &p), i.gather(dim, &p));
        if keepdim {
            (v, i)
        } else {
            (
                v.squeeze_dim(dim).clone_tensor_raw(),
                i.squeeze_dim(dim).clone_tensor_raw(),
            )
        }
    }

    /// Sorts along `dim`: `(values, indices)` with `indices` the positions in `dim`
    /// (`torch.sort(input, dim=-1, descending=False)`). NaN sorts as larger than every number.
    /// The sort is stable (ties keep their order), as `stable=True` asks; PyTorch's default
    /// may order ties either way.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let (v, i) = tensor!([[3.0, 1.0, 2.0]]).sort(1, false);
    /// assert_eq!(v.to_vec::<f32>(), vec![1.0, 2.0, 3.0]);
    /// assert_eq!(i.to_vec::<i64>(), vec![1, 2, 0]);
    /// ```
    #[track_caller]
    pub fn sort(&self, dim: i64, descending: bool) -> (Tensor, Tensor) {
        let (v, i) = no_grad(|| self.sort_raw(dim, descending));
        let v = self.record_selected(v, &i, dim, true, |dim, indices, in_shape, keepdim| {
            SortBackward0 {
                dim,
                indices,
                in_shape,
                keepdim,
            }
        });
        (v, i)
    }

    /// The positions that sort `dim` (`torch.argsort(input, dim=-1, descending=False)`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let i = tensor!([3.0, 1.0, 2.0]).argsort(-1, true);
    /// assert_eq!(i.to_vec::<i64>(), vec![0, 2, 1]);
    /// ```
    #[track_caller]
    pub fn argsort(&self, dim: i64, descending: bool) -> Tensor {
        no_grad(|| self.sort_raw(dim, descending)).1
    }

    /// The values sorted along the first dim (`torch.msort`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([2.0, 1.0]).msort().to_vec::<f32>(), vec![1.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn msort(&self) -> Tensor {
        self.sort(0, false).0
    }

    /// The `k` largest (or, with `largest = false`, smallest) elements along `dim` and their
    /// positions (`torch.topk(input, k, dim=-1, largest=True, sorted=True)`); the result is
    /// always sorted.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let (v, i) = tensor!([1.0, 5.0, 3.0, 4.0]).topk(2, -1, true);
    /// assert_eq!(v.to_vec::<f32>(), vec![5.0, 4.0]);
    /// assert_eq!(i.to_vec::<i64>(), vec![1, 3]);
    /// ```
    #[track_caller]
    pub fn topk(&self, k: usize, dim: i64, largest: bool) -> (Tensor, Tensor) {
        let size = self.size(dim);
        if k > size {
            panic!("selected index k out of range");
        }
        let (v, i) = no_grad(|| {
            let (v, i) = self.sort_raw(dim, largest);
            if self.ndim() == 0 {
                return (v, i);
            }
            (
                v.narrow(dim, 0, k).clone_tensor_raw(),
                i.narrow(dim, 0, k).clone_tensor_raw(),
            )
        });
        let v = self.record_selected(v, &i, dim, true, |dim, indices, in_shape, keepdim| {
            TopkBackward0 {
                dim,
                indices,
                in_shape,
                keepdim,
            }
        });
        (v, i)
    }

    /// The `k`-th smallest element (from 1) along `dim` and its position
    /// (`torch.kthvalue(input, k, dim=-1, keepdim=False)`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let (v, i) = tensor!([[4.0, 1.0, 3.0]]).kthvalue(2, 1, false);
    /// assert_eq!((v.to_vec::<f32>(), i.to_vec::<i64>()), (vec![3.0], vec![2]));
    /// ```
    #[track_caller]
    pub fn kthvalue(&self, k: usize, dim: i64, keepdim: bool) -> (Tensor, Tensor) {
        let size = self.size(dim);
        if k < 1 || k > size {
            panic!(
                "kthvalue(): selected number k out of range for dimension {}",
                wrap_dim(dim, self.ndim())
            );
        }
        let (v, i) = no_grad(|| {
            self.select_sorted(dim, keepdim, |sorted| {
                let mut shape = sorted.dims().to_vec();
                shape[wrap_dim(dim, sorted.ndim())] = 1;
                Tensor::full_dtype(shape, (k - 1) as i64, DType::I64)
            })
        });
        let v = self.record_selected(v, &i, dim, keepdim, |dim, indices, in_shape, keepdim| {
            KthvalueBackward0 {
                dim,
                indices,
                in_shape,
                keepdim,
            }
        });
        (v, i)
    }

    /// The lower median along `dim` and its position (`torch.median(input, dim, keepdim)`); a
    /// row with NaN gives NaN (its first).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let (v, i) = tensor!([[1.0, 9.0, 3.0, 7.0]]).median_dim(1, false);
    /// assert_eq!((v.to_vec::<f32>(), i.to_vec::<i64>()), (vec![3.0], vec![2]));
    /// ```
    #[track_caller]
    pub fn median_dim(&self, dim: i64, keepdim: bool) -> (Tensor, Tensor) {
        self.median_along(dim, keepdim, Median::NanPropagating)
    }

    /// The lower median along `dim` ignoring NaN, and its position (`torch.nanmedian(input, dim,
    /// keepdim)`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let (v, _) = tensor!([[1.0, f32::NAN, 3.0]]).nanmedian_dim(1, false);
    /// assert_eq!(v.to_vec::<f32>(), vec![1.0]);
    /// ```
    #[track_caller]
    pub fn nanmedian_dim(&self, dim: i64, keepdim: bool) -> (Tensor, Tensor) {
        self.median_along(dim, keepdim, Median::NanIgnoring)
    }

    /// The lower median of all elements, a 0-dim tensor (`torch.median(input)`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([[4.0, 1.0], [3.0, 2.0]]).median().item::<f32>(), 2.0);
    /// ```
    #[track_caller]
    pub fn median(&self) -> Tensor {
        self.median_all(Median::NanPropagating)
    }

    /// The lower median of all elements ignoring NaN (`torch.nanmedian(input)`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([4.0, f32::NAN, 1.0]).nanmedian().item::<f32>(), 1.0);
    /// ```
    #[track_caller]
    pub fn nanmedian(&self) -> Tensor {
        self.median_all(Median::NanIgnoring)
    }

    #[track_caller]
    fn median_all(&self, kind: Median) -> Tensor {
        if self.numel() == 0 {
            panic!("median() input tensor cannot be empty");
        }
        let flat = self.reshape([-1]);
        let v = no_grad(|| {
            flat.median_positions(0, false, kind)
                .0
                .reshape(Vec::<i64>::new())
        });
        let share = |v: &Tensor| {
            no_grad(|| {
                let mask = if v.isnan().item::<bool>() {
                    self.isnan()
                } else {
                    self.eq(v)
                };
                let mask = mask.to_dtype(self.dtype());
                mask.div(mask.sum())
            })
        };
        match kind {
            Median::NanPropagating => record(v, &[self], |v| MedianBackward0 { share: share(v) }),
            Median::NanIgnoring => record(v, &[self], |v| NanmedianBackward0 { share: share(v) }),
        }
    }

    #[track_caller]
    fn median_along(&self, dim: i64, keepdim: bool, kind: Median) -> (Tensor, Tensor) {
        if self.size(dim) == 0 {
            panic!(
                "median() cannot compute median for a dimension of size 0 (dimension {})",
                wrap_dim(dim, self.ndim())
            );
        }
        let (v, i) = no_grad(|| self.median_positions(dim, keepdim, kind));
        let v = match kind {
            Median::NanPropagating => {
                self.record_selected(v, &i, dim, keepdim, |dim, indices, in_shape, keepdim| {
                    MedianBackward1 {
                        dim,
                        indices,
                        in_shape,
                        keepdim,
                    }
                })
            }
            Median::NanIgnoring => {
                self.record_selected(v, &i, dim, keepdim, |dim, indices, in_shape, keepdim| {
                    NanmedianBackward1 {
                        dim,
                        indices,
                        in_shape,
                        keepdim,
                    }
                })
            }
        };
        (v, i)
    }

    /// Values and positions of the median of each row along `dim`, without autograd.
    #[track_caller]
    fn median_positions(&self, dim: i64, keepdim: bool, kind: Median) -> (Tensor, Tensor) {
        self.select_sorted(dim, keepdim, |sorted| {
            // NaN sorts last: with `nan` of them in a row of `n`, the numbers are the
            // first `n - nan`.
            let n = sorted.size(dim) as i64;
            let nan = sorted
                .isnan()
                .sum_dim(&[dim][..], true)
                .to_dtype(DType::I64);
            match kind {
                Median::NanPropagating => Tensor::where_(
                    &nan.gt(0),
                    nan.neg().add(n),
                    &Tensor::full_like(&nan, (n - 1) / 2),
                ),
                Median::NanIgnoring => {
                    // (n - nan - 1) / 2, or 0 when the whole row is NaN.
                    let numbers = nan.neg().add(n - 1);
                    Tensor::where_(&numbers.lt(0), 0, &numbers).floor_divide(2)
                }
            }
        })
    }
}
