//! Comparisons and logical operations, giving bool tensors (not differentiable).

use super::binary::TensorOrScalar;
use super::result_type;
use crate::backend::ops::{self, CmpOp};
use crate::dtype::DType;
use crate::scalar::result_type_with_scalar;
use crate::shape::broadcast_shapes;
use crate::storage::ReadPair;
use crate::tensor::Tensor;

#[track_caller]
fn compare<C: CmpOp>(a: &Tensor, other: TensorOrScalar, op: C) -> Tensor {
    let b = match other {
        TensorOrScalar::Tensor(t) => t,
        TensorOrScalar::Scalar(s) => {
            let dtype = result_type_with_scalar(a.dtype(), s);
            Tensor::full_dtype((), s, dtype)
        }
    };
    let ct = result_type(a, &b);
    let shape = broadcast_shapes(a.dims(), b.dims());
    let (a, b) = (a.cast_raw(ct), b.cast_raw(ct));
    let storage = {
        let pair = ReadPair::new(a.cell(), b.cell());
        let (x, y) = pair.get();
        x.compare(op, a.layout(), y, b.layout(), &shape)
    };
    Tensor::from_storage(storage, shape)
}

#[track_caller]
fn logical<O: ops::BinaryOp>(a: &Tensor, b: &Tensor, op: O) -> Tensor {
    a.cast_raw(DType::Bool)
        .zip_raw(&b.cast_raw(DType::Bool), op)
}

impl Tensor {
    /// Elementwise `==` (`torch.eq`), against a tensor or a number.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let a = tensor!([1.0, 2.0, 3.0]);
    /// assert_eq!(a.eq(2.0).to_vec::<bool>(), vec![false, true, false]);
    /// assert_eq!(a.gt(&tensor!([0.0, 5.0, 3.0])).to_vec::<bool>(), vec![true, false, false]);
    /// ```
    #[track_caller]
    pub fn eq(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        compare(self, other.into(), ops::Eq)
    }
    /// Elementwise `!=` (`torch.ne`).
    #[track_caller]
    pub fn ne(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        compare(self, other.into(), ops::Ne)
    }
    /// Elementwise `<` (`torch.lt`).
    #[track_caller]
    pub fn lt(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        compare(self, other.into(), ops::Lt)
    }
    /// Elementwise `<=` (`torch.le`).
    #[track_caller]
    pub fn le(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        compare(self, other.into(), ops::Le)
    }
    /// Elementwise `>` (`torch.gt`).
    #[track_caller]
    pub fn gt(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        compare(self, other.into(), ops::Gt)
    }
    /// Elementwise `>=` (`torch.ge`).
    #[track_caller]
    pub fn ge(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        compare(self, other.into(), ops::Ge)
    }

    /// Whether two tensors have the same shape and elements (`torch.equal`).
    #[track_caller]
    pub fn equal(&self, other: &Tensor) -> bool {
        self.dims() == other.dims() && self.eq(other).all_true()
    }

    /// Whether all elements are close: `|a - b| <= atol + rtol * |b|` (`torch.allclose`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert!(tensor!([1.0, 2.0]).allclose(&tensor!([1.0, 2.000001]), 1e-5, 1e-8));
    /// ```
    #[track_caller]
    pub fn allclose(&self, other: &Tensor, rtol: f64, atol: f64) -> bool {
        let a = self.to_vec::<f64>();
        let b = other.to_vec::<f64>();
        if self.dims() != other.dims() {
            return false;
        }
        a.iter()
            .zip(&b)
            .all(|(x, y)| (x - y).abs() <= atol + rtol * y.abs() || (x == y))
    }

    /// Elementwise logical and (`torch.logical_and`).
    #[track_caller]
    pub fn logical_and(&self, other: &Tensor) -> Tensor {
        logical(self, other, ops::LogicalAnd {})
    }
    /// Elementwise logical or (`torch.logical_or`).
    #[track_caller]
    pub fn logical_or(&self, other: &Tensor) -> Tensor {
        logical(self, other, ops::LogicalOr {})
    }
    /// Elementwise logical xor (`torch.logical_xor`).
    #[track_caller]
    pub fn logical_xor(&self, other: &Tensor) -> Tensor {
        logical(self, other, ops::LogicalXor {})
    }
    /// Elementwise logical not (`torch.logical_not`).
    #[track_caller]
    pub fn logical_not(&self) -> Tensor {
        self.cast_raw(DType::Bool).map_raw(ops::LogicalNot {})
    }

    /// Elementwise NaN test (`torch.isnan`).
    #[track_caller]
    pub fn isnan(&self) -> Tensor {
        self.ne(self)
    }

    /// Elementwise finiteness test (`torch.isfinite`).
    #[track_caller]
    pub fn isfinite(&self) -> Tensor {
        let v: Vec<bool> = self.to_vec::<f64>().iter().map(|x| x.is_finite()).collect();
        Tensor::from_vec(v, self.shape())
    }

    /// Whether every element is true (non-zero) (`torch.all(t).item()`).
    #[track_caller]
    pub fn all_true(&self) -> bool {
        self.to_vec::<bool>().iter().all(|&b| b)
    }

    /// Whether any element is true (non-zero) (`torch.any(t).item()`).
    #[track_caller]
    pub fn any_true(&self) -> bool {
        self.to_vec::<bool>().iter().any(|&b| b)
    }
}
