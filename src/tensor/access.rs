//! Reading values out, converting dtypes, and copies.

use super::Tensor;
use crate::autograd::{backward_fn, record};
use crate::dtype::{DType, Element};
use crate::kernels::cpu;
use crate::storage::{CpuStorage, StorageElement};

/// Converts one element between types with PyTorch's cast rules.
#[inline(always)]
pub(crate) fn convert<S: Element, T: Element>(x: S) -> T {
    if S::DTYPE.is_float() {
        T::from_f64(x.to_f64())
    } else {
        T::from_i64(x.to_i64())
    }
}

/// Dispatches on the dtype of a [`CpuStorage`], binding the typed vector to `$v`.
macro_rules! with_storage {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
            $crate::storage::CpuStorage::F32($v) => $body,
            $crate::storage::CpuStorage::F64($v) => $body,
            $crate::storage::CpuStorage::I64($v) => $body,
            $crate::storage::CpuStorage::Bool($v) => $body,
        }
    };
}

/// A row-major copy of a strided view, converted to `dtype`.
pub(crate) fn cast_storage(
    s: &CpuStorage,
    layout: &crate::shape::Layout,
    dtype: DType,
) -> CpuStorage {
    fn go<S: Element, T: StorageElement>(v: &[S], layout: &crate::shape::Layout) -> CpuStorage {
        T::wrap(cpu::map(v, layout, convert::<S, T>))
    }
    if s.dtype() == dtype {
        return with_storage!(s, v => StorageElement::wrap(cpu::to_contiguous(v, layout)));
    }
    with_storage!(s, v => match dtype {
        DType::F32 => go::<_, f32>(v, layout),
        DType::F64 => go::<_, f64>(v, layout),
        DType::I64 => go::<_, i64>(v, layout),
        DType::Bool => go::<_, bool>(v, layout),
    })
}

backward_fn! {
    struct ToCopyBackward { dtype: DType }
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.to_dtype(self.dtype))]
    }
}

backward_fn! {
    struct CloneBackward {}
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
    pub fn to_vec<T: Element>(&self) -> Vec<T> {
        self.with_cpu(|s, l| with_storage!(s, v => cpu::map(v, l, convert::<_, T>)))
    }

    /// The elements of a 2-D tensor as rows.
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
    pub fn item<T: Element>(&self) -> T {
        if self.numel() != 1 {
            panic!(
                "a Tensor with {} elements cannot be converted to Scalar",
                self.numel()
            );
        }
        self.with_cpu(|s, l| with_storage!(s, v => convert::<_, T>(v[l.offset])))
    }

    /// The value of a one-element tensor as `f64` (the usual Python float).
    pub fn item_f64(&self) -> f64 {
        self.item::<f64>()
    }

    /// A copy converted to another dtype, or this tensor if it already has it
    /// (`tensor.to(dtype)`). Differentiable between float types.
    ///
    /// ```
    /// use flambeau::{tensor, DType};
    /// let t = tensor!([1.5, -2.5]);
    /// assert_eq!(t.to_dtype(DType::I64).to_vec::<i64>(), vec![1, -2]);
    /// ```
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype() {
            return self.clone();
        }
        let out = Tensor::from_cpu(
            self.with_cpu(|s, l| cast_storage(s, l, dtype)),
            self.shape().clone(),
        );
        if !dtype.is_float() {
            return out;
        }
        let src = self.dtype();
        record(out, "ToCopyBackward0", &[self], |_| ToCopyBackward {
            dtype: src,
        })
    }

    /// Converts to float32 (`tensor.float()`).
    pub fn float(&self) -> Tensor {
        self.to_dtype(DType::F32)
    }

    /// Converts to float64 (`tensor.double()`).
    pub fn double(&self) -> Tensor {
        self.to_dtype(DType::F64)
    }

    /// Converts to int64 (`tensor.long()`).
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
    pub fn clone_tensor(&self) -> Tensor {
        let out = self.clone_tensor_raw();
        record(out, "CloneBackward0", &[self], |_| CloneBackward {})
    }

    /// A row-major copy without autograd.
    pub(crate) fn clone_tensor_raw(&self) -> Tensor {
        Tensor::from_cpu(
            self.with_cpu(|s, l| cast_storage(s, l, s.dtype())),
            self.shape().clone(),
        )
    }

    /// This tensor if it is contiguous, else a row-major copy (`tensor.contiguous()`).
    pub fn contiguous(&self) -> Tensor {
        if self.is_contiguous() {
            self.clone()
        } else {
            self.clone_tensor()
        }
    }
}
