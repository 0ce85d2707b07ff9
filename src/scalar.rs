//! Plain numbers used beside tensors (`a + 2.5`, `full(.., 0.3)`, `masked_fill(.., -1.5)`).

use crate::dtype::DType;

/// A Python-like number: what PyTorch calls a "wrapped number" when it meets a tensor.
///
/// Its category (bool, integer, float) takes part in type promotion, but, as in PyTorch, a scalar
/// never widens a tensor within its category: `f32 tensor + 2.5f64` stays `f32`, while
/// `i64 tensor + 2.5` becomes `f32` (the default float type).
///
/// ```
/// use flambeau::{Scalar, Tensor, DType};
/// let x = Tensor::arange(0, 3, 1);
/// assert_eq!(x.dtype(), DType::I64);
/// assert_eq!((&x + 0.5).dtype(), DType::F32);
/// assert_eq!(Scalar::from(2).to_f64(), 2.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// A floating-point number.
    Float(f64),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

impl Scalar {
    /// The value as `f64`.
    pub fn to_f64(self) -> f64 {
        match self {
            Scalar::Float(v) => v,
            Scalar::Int(v) => v as f64,
            Scalar::Bool(v) => v as u8 as f64,
        }
    }

    /// The value as `i64` (floats truncate).
    pub fn to_i64(self) -> i64 {
        match self {
            Scalar::Float(v) => v as i64,
            Scalar::Int(v) => v,
            Scalar::Bool(v) => v as i64,
        }
    }

    /// The dtype a tensor made from this number alone would have (`torch.tensor(2.5)` is float32).
    pub fn default_dtype(self) -> DType {
        match self {
            Scalar::Float(_) => DType::F32,
            Scalar::Int(_) => DType::I64,
            Scalar::Bool(_) => DType::Bool,
        }
    }

    /// Whether the number is a float.
    pub fn is_float(self) -> bool {
        matches!(self, Scalar::Float(_))
    }

    /// The value as an element of type `T`, as a tensor of that dtype built from this number
    /// holds it (integers are taken exactly, floats through `f64`, non-zero is true).
    pub(crate) fn to_elem<T: crate::dtype::Element>(self) -> T {
        match (self, T::DTYPE) {
            (_, crate::DType::Bool) => T::from_f64(self.to_f64()),
            (_, crate::DType::I64) => T::from_i64(self.to_i64()),
            _ => T::from_f64(self.to_f64()),
        }
    }
}

macro_rules! scalar_from {
    ($t:ty, $v:ident, $conv:ty) => {
        impl From<$t> for Scalar {
            fn from(v: $t) -> Scalar {
                Scalar::$v(v as $conv)
            }
        }
    };
}
scalar_from!(f64, Float, f64);
scalar_from!(f32, Float, f64);
scalar_from!(i64, Int, i64);
scalar_from!(i32, Int, i64);
scalar_from!(usize, Int, i64);
scalar_from!(u32, Int, i64);

impl From<bool> for Scalar {
    fn from(v: bool) -> Scalar {
        Scalar::Bool(v)
    }
}

/// The dtype of `tensor (op) scalar` (PyTorch's `result_type` with a wrapped number).
pub(crate) fn result_type_with_scalar(t: DType, s: Scalar) -> DType {
    let sd = s.default_dtype();
    if sd.category() > t.category() { sd } else { t }
}
