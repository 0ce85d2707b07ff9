//! `tensor.new_*` and the `*_like` factories that draw: new tensors taking their dtype (and,
//! once there are several, their device) from an existing one, as PyTorch's `new_zeros`,
//! `new_ones`, `new_full`, `new_empty`, `new_tensor`, `type_as` and `randint_like` do.

use super::Tensor;
use crate::scalar::Scalar;
use crate::shape::IntList;
use crate::storage::StorageElement;

impl Tensor {
    /// Zeros of `shape` with this tensor's dtype (`tensor.new_zeros(size)`).
    ///
    /// ```
    /// use flambeau::{DType, Tensor};
    /// let x = Tensor::zeros_dtype([2], DType::F64);
    /// let z = x.new_zeros([3, 1]);
    /// assert_eq!((z.dims(), z.dtype()), (&[3usize, 1][..], DType::F64));
    /// ```
    #[track_caller]
    pub fn new_zeros(&self, shape: impl IntList) -> Tensor {
        Tensor::zeros_dtype(shape, self.dtype())
    }

    /// Ones of `shape` with this tensor's dtype (`tensor.new_ones(size)`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let x = Tensor::from_vec(vec![5i64], [1]);
    /// assert_eq!(x.new_ones([2]).to_vec::<i64>(), vec![1, 1]);
    /// ```
    #[track_caller]
    pub fn new_ones(&self, shape: impl IntList) -> Tensor {
        Tensor::ones_dtype(shape, self.dtype())
    }

    /// `value` in every element of `shape`, with this tensor's dtype (`tensor.new_full(size,
    /// fill_value)`: the dtype is the tensor's, not the value's).
    ///
    /// ```
    /// use flambeau::{DType, tensor};
    /// let x = tensor!([1.0, 2.0]);
    /// let f = x.new_full([2], 7);
    /// assert_eq!((f.dtype(), f.to_vec::<f32>()), (DType::F32, vec![7.0, 7.0]));
    /// ```
    #[track_caller]
    pub fn new_full(&self, shape: impl IntList, value: impl Into<Scalar>) -> Tensor {
        Tensor::full_dtype(shape, value, self.dtype())
    }

    /// An "uninitialised" tensor of `shape` with this tensor's dtype (`tensor.new_empty(size)`;
    /// zeros in Flambeau).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([1.0]).new_empty([0, 3]).numel(), 0);
    /// ```
    #[track_caller]
    pub fn new_empty(&self, shape: impl IntList) -> Tensor {
        Tensor::empty_dtype(shape, self.dtype())
    }

    /// A new tensor of `data` in `shape`, converted to this tensor's dtype
    /// (`tensor.new_tensor(data)`): a copy that does not require grad.
    ///
    /// ```
    /// use flambeau::{DType, Tensor};
    /// let x = Tensor::zeros_dtype([1], DType::F64);
    /// let t = x.new_tensor(vec![1i64, 2, 3], [3]);
    /// assert_eq!((t.dtype(), t.to_vec::<f64>()), (DType::F64, vec![1.0, 2.0, 3.0]));
    /// ```
    #[track_caller]
    pub fn new_tensor<T: StorageElement>(&self, data: Vec<T>, shape: impl IntList) -> Tensor {
        Tensor::from_vec(data, shape).to_dtype(self.dtype())
    }

    /// This tensor cast to `other`'s dtype (`tensor.type_as(other)`; the same tensor when the
    /// dtypes agree). Differentiable, as `to_dtype` is.
    ///
    /// ```
    /// use flambeau::{DType, Tensor, tensor};
    /// let i = Tensor::from_vec(vec![1i64, 2], [2]);
    /// assert_eq!(i.type_as(&tensor!([0.5])).dtype(), DType::F32);
    /// ```
    #[track_caller]
    pub fn type_as(&self, other: &Tensor) -> Tensor {
        self.to_dtype(other.dtype())
    }

    /// Random integers in `[low, high)` with `t`'s shape and dtype, from the default generator
    /// (`torch.randint_like(input, low, high)`; PyTorch's stream, as `randint`).
    ///
    /// ```
    /// use flambeau::{DType, Tensor, manual_seed};
    /// manual_seed(0);
    /// let a = Tensor::randint_like(&Tensor::zeros([4]), 0, 10);
    /// manual_seed(0);
    /// let b = Tensor::randint_dtype(0, 10, [4], DType::F32);
    /// assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>());
    /// ```
    #[track_caller]
    pub fn randint_like(t: &Tensor, low: i64, high: i64) -> Tensor {
        Tensor::randint_dtype(low, high, t.shape(), t.dtype())
    }
}
