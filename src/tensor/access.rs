//! Reading values out, converting dtypes, and copies.

use super::Tensor;
use crate::Device;
use crate::autograd::{backward_fn, record};
use crate::dtype::{DType, Element};
use crate::shape::{Layout, Shape};

backward_fn! {
    /// `to(dtype)`: the gradient is cast back to the source's dtype (by the engine).
    struct ToCopyBackward0 {}
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.clone())]
    }
}

backward_fn! {
    struct CloneBackward0 {}
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.clone())]
    }
}

impl Tensor {
    /// The elements in row-major order, converted to `T` (`tensor.tolist()` flattened).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(t.t().to_vec::<f32>(), vec![1.0, 3.0, 2.0, 4.0]);
    /// assert_eq!(t.to_vec::<i64>(), vec![1, 2, 3, 4]);
    /// ```
    #[track_caller]
    pub fn to_vec<T: Element>(&self) -> Vec<T> {
        self.storage().to_vec(self.layout())
    }

    /// The elements of a 2-D tensor as rows.
    #[track_caller]
    pub fn to_vec2<T: Element>(&self) -> Vec<Vec<T>> {
        if self.ndim() != 2 {
            panic!("to_vec2 expects a 2-D tensor, got {} dims", self.ndim());
        }
        let cols = self.dims()[1];
        let flat = self.to_vec::<T>();
        if cols == 0 {
            return vec![Vec::new(); self.dims()[0]];
        }
        flat.chunks(cols).map(|c| c.to_vec()).collect()
    }

    /// The value of a one-element tensor (`tensor.item()`), converted to `T`.
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([[2.5]]).item::<f32>(), 2.5);
    /// ```
    #[track_caller]
    pub fn item<T: Element>(&self) -> T {
        if self.numel() != 1 {
            panic!(
                "a Tensor with {} elements cannot be converted to Scalar",
                self.numel()
            );
        }
        let one = Layout {
            shape: Shape::new(&[]),
            strides: Default::default(),
            offset: self.layout().offset,
        };
        self.storage().to_vec(&one)[0]
    }

    /// The value of a one-element tensor as `f64` (the usual Python float).
    #[track_caller]
    pub fn item_f64(&self) -> f64 {
        self.item::<f64>()
    }

    /// This tensor on `device` (`tensor.to(device)`): the tensor itself when it is already
    /// there, as PyTorch returns `self`. The CPU is the only device today.
    ///
    /// ```
    /// use flambeau::{tensor, Device};
    /// let t = tensor!([1.0, 2.0]);
    /// let u = t.to_device(Device::Cpu);
    /// assert!(u.is_same(&t));
    /// ```
    #[track_caller]
    pub fn to_device(&self, device: Device) -> Tensor {
        match device {
            Device::Cpu => self.clone(),
        }
    }

    /// This tensor in host memory (`tensor.cpu()`): itself, on the CPU backend.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([1.0]);
    /// assert!(t.cpu().is_same(&t));
    /// ```
    #[track_caller]
    pub fn cpu(&self) -> Tensor {
        self.to_device(Device::Cpu)
    }

    /// A copy converted to another dtype, or this tensor if it already has it
    /// (`tensor.to(dtype)`). Differentiable between float types.
    ///
    /// ```
    /// use flambeau::{tensor, DType};
    /// let t = tensor!([1.5, -2.5]);
    /// assert_eq!(t.to_dtype(DType::I64).to_vec::<i64>(), vec![1, -2]);
    /// ```
    #[track_caller]
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype() {
            return self.clone();
        }
        let out = self.cast_raw(dtype);
        if !dtype.is_float() {
            return out;
        }
        record(out, &[self], |_| ToCopyBackward0 {})
    }

    /// A row-major copy converted to `dtype`, without autograd (this tensor itself when it
    /// already has the dtype).
    #[track_caller]
    pub(crate) fn cast_raw(&self, dtype: DType) -> Tensor {
        if self.dtype() == dtype {
            return self.clone();
        }
        let storage = self.storage().cast(self.layout(), dtype);
        Tensor::from_storage(storage, self.shape().clone())
    }

    /// Converts to float32 (`tensor.float()`).
    #[track_caller]
    pub fn float(&self) -> Tensor {
        self.to_dtype(DType::F32)
    }

    /// Converts to float64 (`tensor.double()`).
    #[track_caller]
    pub fn double(&self) -> Tensor {
        self.to_dtype(DType::F64)
    }

    /// Converts to int64 (`tensor.long()`).
    #[track_caller]
    pub fn long(&self) -> Tensor {
        self.to_dtype(DType::I64)
    }

    /// A copy with its own storage, recorded for autograd (`tensor.clone()`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let a = Tensor::zeros(2);
    /// let b = a.clone_tensor();
    /// b.add_(1.0);
    /// assert_eq!(a.to_vec::<f32>(), vec![0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn clone_tensor(&self) -> Tensor {
        let out = self.clone_tensor_raw();
        record(out, &[self], |_| CloneBackward0 {})
    }

    /// A row-major copy without autograd.
    #[track_caller]
    pub(crate) fn clone_tensor_raw(&self) -> Tensor {
        let storage = self.storage().cast(self.layout(), self.dtype());
        Tensor::from_storage(storage, self.shape().clone())
    }

    /// This tensor if contiguous, else a row-major copy, without autograd.
    #[track_caller]
    pub(crate) fn contiguous_raw(&self) -> Tensor {
        if self.is_contiguous() {
            self.clone()
        } else {
            self.clone_tensor_raw()
        }
    }

    /// This tensor if it is contiguous, else a row-major copy (`tensor.contiguous()`).
    #[track_caller]
    pub fn contiguous(&self) -> Tensor {
        if self.is_contiguous() {
            self.clone()
        } else {
            self.clone_tensor()
        }
    }
}
