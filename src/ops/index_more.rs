//! More indexing and products of `torch.*`, written with the existing ops (so their gradients
//! come from those ops' nodes): the bitwise ops, `take`, `take_along_dim`, `linalg.cross`.

use super::binary::TensorOrScalar;
use super::math_more::binary_op_raw;
use crate::backend::ops;
use crate::dtype::DType;
use crate::shape::wrap_dim;
use crate::tensor::Tensor;

impl Tensor {
    /// Bitwise and of integers, logical and of bools, with broadcasting (`torch.bitwise_and`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let t = Tensor::from_slice(&[12i64], &[1]);
    /// assert_eq!(t.bitwise_and(10).to_vec::<i64>(), vec![8]);
    /// ```
    #[track_caller]
    pub fn bitwise_and(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        binary_op_raw(self, &other.into(), ops::BitwiseAnd {}, false)
    }

    /// Bitwise or (`torch.bitwise_or`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let t = Tensor::from_slice(&[12i64], &[1]);
    /// assert_eq!(t.bitwise_or(10).to_vec::<i64>(), vec![14]);
    /// ```
    #[track_caller]
    pub fn bitwise_or(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        binary_op_raw(self, &other.into(), ops::BitwiseOr {}, false)
    }

    /// Bitwise xor (`torch.bitwise_xor`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let t = Tensor::from_slice(&[12i64], &[1]);
    /// assert_eq!(t.bitwise_xor(10).to_vec::<i64>(), vec![6]);
    /// ```
    #[track_caller]
    pub fn bitwise_xor(&self, other: impl Into<TensorOrScalar>) -> Tensor {
        binary_op_raw(self, &other.into(), ops::BitwiseXor {}, false)
    }

    /// The elements at the given positions of the flattened tensor, in the index's shape
    /// (`torch.take`).
    ///
    /// ```
    /// use flambeau::{Tensor, tensor};
    /// let t = tensor!([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(t.take(&Tensor::from_slice(&[3i64, 0], &[2])).to_vec::<f32>(), vec![4.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn take(&self, index: &Tensor) -> Tensor {
        if index.dtype() != DType::I64 {
            panic!(
                "take(): Expected a long tensor for index, but got {}",
                index.dtype().scalar_name()
            );
        }
        let n = self.numel() as i64;
        let flat_index = index.reshape([-1]);
        // Negative positions count from the end, as in PyTorch.
        let flat_index = Tensor::where_(&flat_index.lt(0), flat_index.add(n), &flat_index);
        self.reshape([-1])
            .index_select(0, &flat_index)
            .reshape(index.dims().to_vec())
    }

    /// `gather` along `dim` with the other dims broadcast between input and indices
    /// (`torch.take_along_dim(input, indices, dim)`).
    ///
    /// ```
    /// use flambeau::{Tensor, tensor};
    /// let t = tensor!([[1.0, 2.0], [3.0, 4.0]]);
    /// let i = Tensor::from_slice(&[1i64, 0], &[2, 1]);
    /// assert_eq!(t.take_along_dim(&i, 1).to_vec::<f32>(), vec![2.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn take_along_dim(&self, indices: &Tensor, dim: i64) -> Tensor {
        if self.ndim() != indices.ndim() {
            panic!(
                "torch.take_along_dim(): input and indices should have the same number of dimensions, but got {} dimensions for input, and {} dimensions for indices",
                self.ndim(),
                indices.ndim()
            );
        }
        let d = wrap_dim(dim, self.ndim());
        let mut shape_x = self.dims().to_vec();
        let mut shape_i = indices.dims().to_vec();
        for k in 0..self.ndim() {
            if k == d {
                continue;
            }
            let b = shape_x[k].max(shape_i[k]);
            shape_x[k] = b;
            shape_i[k] = b;
        }
        let x = self.expand(shape_x);
        let i = indices.expand(shape_i);
        x.gather(d as i64, &i)
    }

    /// The cross product of 3-vectors along `dim` (`torch.linalg.cross(input, other, dim=-1)`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let z = tensor!([1.0, 0.0, 0.0]).cross(&tensor!([0.0, 1.0, 0.0]), -1);
    /// assert_eq!(z.to_vec::<f32>(), vec![0.0, 0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn cross(&self, other: &Tensor, dim: i64) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let (n1, n2) = (self.dims()[d], other.dims().get(d).copied().unwrap_or(0));
        if n1 != 3 || n2 != 3 {
            panic!("linalg.cross: inputs dimension {dim} must have length 3. Got {n1} and {n2}");
        }
        let pick =
            |t: &Tensor, idx: [i64; 3]| t.index_select(d as i64, &Tensor::from_slice(&idx, &[3]));
        let (a1, a2) = (pick(self, [1, 2, 0]), pick(self, [2, 0, 1]));
        let (b1, b2) = (pick(other, [2, 0, 1]), pick(other, [1, 2, 0]));
        a1.mul(&b1).sub(&a2.mul(&b2))
    }

    /// Pairwise `p`-norm distances between the rows of `self` (`[.., P, M]`) and of `x2`
    /// (`[.., R, M]`), shape `[.., P, R]` (`torch.cdist`; the direct formula, which PyTorch
    /// uses for up to 25 rows).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let d = tensor!([[0.0, 0.0]]).cdist(&tensor!([[3.0, 4.0]]), 2.0);
    /// assert_eq!(d.to_vec::<f32>(), vec![5.0]);
    /// ```
    #[track_caller]
    pub fn cdist(&self, x2: &Tensor, p: f64) -> Tensor {
        if self.ndim() < 2 || x2.ndim() < 2 {
            panic!(
                "cdist only supports at least 2D tensors, X1 got: {}D",
                self.ndim()
            );
        }
        let (m1, m2) = (self.dims()[self.ndim() - 1], x2.dims()[x2.ndim() - 1]);
        if m1 != m2 {
            panic!("X1 and X2 must have the same number of columns. X1: {m1} X2: {m2}");
        }
        self.unsqueeze(-2)
            .sub(&x2.unsqueeze(-3))
            .vector_norm(p, &[-1], false)
    }

    /// The `offset`-th diagonal of a matrix (`tensor.diagonal(offset)` of a 2-D tensor; a copy
    /// here, where PyTorch returns a view).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(t.diagonal(0).to_vec::<f32>(), vec![1.0, 4.0]);
    /// assert_eq!(t.diagonal(1).to_vec::<f32>(), vec![2.0]);
    /// ```
    #[track_caller]
    pub fn diagonal(&self, offset: i64) -> Tensor {
        if self.ndim() != 2 {
            panic!(
                "diagonal: only 2-D tensors are supported here, got {}-D",
                self.ndim()
            );
        }
        let (m, n) = (self.dims()[0] as i64, self.dims()[1] as i64);
        let len = if offset >= 0 {
            m.min(n - offset).max(0)
        } else {
            (m + offset).min(n).max(0)
        };
        let idx: Vec<i64> = (0..len)
            .map(|i| {
                if offset >= 0 {
                    i * n + i + offset
                } else {
                    (i - offset) * n + i
                }
            })
            .collect();
        let idx = Tensor::from_vec(idx, [len as usize]);
        self.reshape([-1]).index_select(0, &idx)
    }

    /// A square matrix with the vector `self` on its diagonal, or the diagonal of a matrix
    /// (`torch.diag` with `diagonal=0`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([1.0, 2.0]).diag().to_vec::<f32>(), vec![1.0, 0.0, 0.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn diag(&self) -> Tensor {
        match self.ndim() {
            1 => self.diag_embed(),
            2 => self.diagonal(0),
            d => panic!("diag(): Supports 1D or 2D tensors. Got {d}D"),
        }
    }

    /// Matrices with the last dim of `self` on their diagonals (`torch.diag_embed` with the
    /// default offset and dims): `[.., n]` gives `[.., n, n]`.
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([[1.0, 2.0]]).diag_embed().dims(), &[1, 2, 2]);
    /// ```
    #[track_caller]
    pub fn diag_embed(&self) -> Tensor {
        let n = self.dims().last().copied().unwrap_or(1);
        let eye = Tensor::eye_dtype(n, n, self.dtype());
        self.unsqueeze(-2).mul(&eye)
    }
}
