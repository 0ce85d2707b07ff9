//! Nested-array literals: `tensor!([[1.0, 2.0], [3.0, 4.0]])`.

use super::Tensor;
use crate::dtype::DType;
use crate::scalar::Scalar;
use crate::shape::Shape;

/// Data that can become a tensor: a number, or arrays (or vectors) of such, nested to any depth.
/// Floats give float32, integers int64 and booleans bool, as `torch.tensor` does.
pub trait TensorLiteral {
    /// Appends the elements in row-major order.
    #[track_caller]
    fn flatten_into(&self, out: &mut Vec<Scalar>);
    /// Appends this level's size and the sizes below it.
    #[track_caller]
    fn shape_into(&self, out: &mut Vec<usize>);
}

macro_rules! literal_number {
    ($($t:ty),*) => {$(
        impl TensorLiteral for $t {
            fn flatten_into(&self, out: &mut Vec<Scalar>) {
                out.push(Scalar::from(*self));
            }
            fn shape_into(&self, _out: &mut Vec<usize>) {}
        }
    )*};
}
literal_number!(f32, f64, i32, i64, bool);

impl<L: TensorLiteral, const N: usize> TensorLiteral for [L; N] {
    #[track_caller]
    fn flatten_into(&self, out: &mut Vec<Scalar>) {
        for x in self {
            x.flatten_into(out);
        }
    }
    #[track_caller]
    fn shape_into(&self, out: &mut Vec<usize>) {
        out.push(N);
        if let Some(first) = self.first() {
            first.shape_into(out);
        }
    }
}

impl<L: TensorLiteral> TensorLiteral for Vec<L> {
    #[track_caller]
    fn flatten_into(&self, out: &mut Vec<Scalar>) {
        for x in self {
            x.flatten_into(out);
        }
    }
    #[track_caller]
    fn shape_into(&self, out: &mut Vec<usize>) {
        out.push(self.len());
        if let Some(first) = self.first() {
            first.shape_into(out);
        }
    }
}

impl<L: TensorLiteral + ?Sized> TensorLiteral for &L {
    #[track_caller]
    fn flatten_into(&self, out: &mut Vec<Scalar>) {
        (**self).flatten_into(out)
    }
    #[track_caller]
    fn shape_into(&self, out: &mut Vec<usize>) {
        (**self).shape_into(out)
    }
}

#[track_caller]
pub(crate) fn build<L: TensorLiteral + ?Sized>(data: &L, dtype: Option<DType>) -> Tensor {
    let mut values = Vec::new();
    data.flatten_into(&mut values);
    let mut dims = Vec::new();
    data.shape_into(&mut dims);
    let shape = Shape::new(&dims);
    if shape.numel() != values.len() {
        panic!(
            "expected sequence of length {} at dim {} (got a ragged nested literal)",
            dims.last().copied().unwrap_or(0),
            dims.len().saturating_sub(1)
        );
    }
    let dtype = dtype.unwrap_or_else(|| {
        values
            .iter()
            .map(|s| s.default_dtype())
            .fold(
                DType::Bool,
                |a, b| if b.category() > a.category() { b } else { a },
            )
    });
    let dtype = if values.is_empty() && dtype == DType::Bool {
        DType::F32
    } else {
        dtype
    };
    crate::dtype::with_dtype!(dtype, T => {
        let data: Vec<T> = values.iter().map(|s| s.to_elem::<T>()).collect();
        Tensor::from_vec(data, shape)
    })
}

/// Builds a tensor from a number or nested arrays, as `torch.tensor(...)` does: floats give
/// float32, integers int64, booleans bool. An optional `dtype = ...` picks the type.
///
/// ```
/// use flambeau::{tensor, DType};
/// let a = tensor!([[1.0, 2.0], [3.0, 4.0]]);
/// assert_eq!(a.dims(), &[2, 2]);
/// assert_eq!(a.dtype(), DType::F32);
/// assert_eq!(tensor!([1, 2, 3]).dtype(), DType::I64);
/// assert_eq!(tensor!(2.5).ndim(), 0);
/// assert_eq!(tensor!([0.1, 0.2], dtype = DType::F64).to_vec::<f64>(), vec![0.1, 0.2]);
/// ```
#[macro_export]
macro_rules! tensor {
    ($data:expr, dtype = $dtype:expr $(,)?) => {
        $crate::Tensor::from_nested_dtype($data, $dtype)
    };
    ($data:expr $(,)?) => {
        $crate::Tensor::from_nested($data)
    };
}
