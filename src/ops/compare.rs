//! Comparisons and logical operations, giving bool tensors (not differentiable).

use super::binary::TensorOrScalar;
use super::{cast_raw, result_type, with_two_cpu};
use crate::dtype::DType;
use crate::kernels::cpu;
use crate::scalar::result_type_with_scalar;
use crate::shape::broadcast_shapes;
use crate::storage::CpuStorage;
use crate::tensor::Tensor;

#[derive(Clone, Copy)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

macro_rules! cmp_closure {
    ($cmp:expr, $call:ident) => {
        match $cmp {
            Cmp::Eq => $call!(|a, b| a == b),
            Cmp::Ne => $call!(|a, b| a != b),
            Cmp::Lt => $call!(|a, b| a < b),
            Cmp::Le => $call!(|a, b| a <= b),
            Cmp::Gt => $call!(|a, b| a > b),
            Cmp::Ge => $call!(|a, b| a >= b),
        }
    };
}

fn compare(a: &Tensor, other: TensorOrScalar, cmp: Cmp) -> Tensor {
    let b = match other {
        TensorOrScalar::Tensor(t) => t,
        TensorOrScalar::Scalar(s) => {
            let dtype = result_type_with_scalar(a.dtype(), s);
            Tensor::full_dtype((), s, dtype)
        }
    };
    let ct = result_type(a, &b);
    let shape = broadcast_shapes(a.dims(), b.dims());
    let (a, b) = (cast_raw(a, ct), cast_raw(&b, ct));
    let dims = shape.dims();
    let out = with_two_cpu(&a, &b, |sa, la, sb, lb| {
        macro_rules! typed {
            ($x:expr, $y:expr) => {{
                macro_rules! go {
                    ($f:expr) => {
                        cpu::zip_map($x, la, $y, lb, dims, $f)
                    };
                }
                cmp_closure!(cmp, go)
            }};
        }
        match (sa, sb) {
            (CpuStorage::F32(x), CpuStorage::F32(y)) => typed!(x, y),
            (CpuStorage::F64(x), CpuStorage::F64(y)) => typed!(x, y),
            (CpuStorage::I64(x), CpuStorage::I64(y)) => typed!(x, y),
            (CpuStorage::Bool(x), CpuStorage::Bool(y)) => typed!(x, y),
            _ => unreachable!("operands were cast to one dtype"),
        }
    });
    Tensor::from_cpu(CpuStorage::Bool(out), shape)
}

fn logical(a: &Tensor, b: &Tensor, f: fn(bool, bool) -> bool) -> Tensor {
    let shape = broadcast_shapes(a.dims(), b.dims());
    let (a, b) = (cast_raw(a, DType::Bool), cast_raw(b, DType::Bool));
    let out = with_two_cpu(&a, &b, |sa, la, sb, lb| match (sa, sb) {
        (CpuStorage::Bool(x), CpuStorage::Bool(y)) => cpu::zip_map(x, la, y, lb, shape.dims(), f),
        _ => unreachable!("operands were cast to bool"),
    });
    Tensor::from_cpu(CpuStorage::Bool(out), shape)
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
    pub fn eq(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        compare(self, other.into(), Cmp::Eq)
    }
    /// Elementwise `!=` (`torch.ne`).
    pub fn ne(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        compare(self, other.into(), Cmp::Ne)
    }
    /// Elementwise `<` (`torch.lt`).
    pub fn lt(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        compare(self, other.into(), Cmp::Lt)
    }
    /// Elementwise `<=` (`torch.le`).
    pub fn le(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        compare(self, other.into(), Cmp::Le)
    }
    /// Elementwise `>` (`torch.gt`).
    pub fn gt(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        compare(self, other.into(), Cmp::Gt)
    }
    /// Elementwise `>=` (`torch.ge`).
    pub fn ge(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        compare(self, other.into(), Cmp::Ge)
    }

    /// Whether two tensors have the same shape and elements (`torch.equal`).
    pub fn equal(&self, other: &Tensor) -> bool {
        self.dims() == other.dims() && self.eq(other).all_true()
    }

    /// Whether all elements are close: `|a - b| <= atol + rtol * |b|` (`torch.allclose`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert!(tensor!([1.0, 2.0]).allclose(&tensor!([1.0, 2.000001]), 1e-5, 1e-8));
    /// ```
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
    pub fn logical_and(&self, other: &Tensor) -> Tensor {
        logical(self, other, |a, b| a && b)
    }
    /// Elementwise logical or (`torch.logical_or`).
    pub fn logical_or(&self, other: &Tensor) -> Tensor {
        logical(self, other, |a, b| a || b)
    }
    /// Elementwise logical xor (`torch.logical_xor`).
    pub fn logical_xor(&self, other: &Tensor) -> Tensor {
        logical(self, other, |a, b| a != b)
    }
    /// Elementwise logical not (`torch.logical_not`).
    pub fn logical_not(&self) -> Tensor {
        let b = cast_raw(self, DType::Bool);
        let out = b.with_cpu(|s, l| match s {
            CpuStorage::Bool(v) => cpu::map(v, l, |x| !x),
            _ => unreachable!(),
        });
        Tensor::from_cpu(CpuStorage::Bool(out), self.shape().clone())
    }

    /// Elementwise NaN test (`torch.isnan`).
    pub fn isnan(&self) -> Tensor {
        self.ne(self)
    }

    /// Elementwise finiteness test (`torch.isfinite`).
    pub fn isfinite(&self) -> Tensor {
        let v: Vec<bool> = self.to_vec::<f64>().iter().map(|x| x.is_finite()).collect();
        Tensor::from_vec(v, self.shape())
    }

    /// Whether every element is true (non-zero) (`torch.all(t).item()`).
    pub fn all_true(&self) -> bool {
        self.to_vec::<bool>().iter().all(|&b| b)
    }

    /// Whether any element is true (non-zero) (`torch.any(t).item()`).
    pub fn any_true(&self) -> bool {
        self.to_vec::<bool>().iter().any(|&b| b)
    }
}
