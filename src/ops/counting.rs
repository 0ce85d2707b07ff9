//! Data-dependent shapes: `nonzero unique bincount`. Their output sizes depend on the values, so
//! they read the input on the host (PyTorch synchronises the same way on CUDA) and carry no
//! gradient, as in PyTorch (`nonzero` and `bincount` give integer tensors; `unique` is not
//! differentiable).

use crate::dtype::DType;
use crate::storage::StorageElement;
use crate::tensor::Tensor;

/// The flattened values of an integer or bool tensor as `i64`, or `None` for floating types.
fn integral_values(t: &Tensor) -> Option<Vec<i64>> {
    match t.dtype() {
        DType::I64 => Some(t.to_vec::<i64>()),
        DType::Bool => Some(t.to_vec::<bool>().into_iter().map(i64::from).collect()),
        DType::F32 | DType::F64 => None,
    }
}

impl Tensor {
    /// The indices of the non-zero elements, one row per element in row-major order and one column
    /// per dim (`torch.nonzero(input)`, int64 of shape `[n, ndim]`); NaN counts as non-zero.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([[0.0, 1.5], [2.0, 0.0]]);
    /// assert_eq!(t.nonzero().to_vec2::<i64>(), vec![vec![0, 1], vec![1, 0]]);
    /// ```
    pub fn nonzero(&self) -> Tensor {
        let flags: Vec<bool> = match integral_values(self) {
            Some(v) => v.into_iter().map(|x| x != 0).collect(),
            None => self.to_vec::<f64>().into_iter().map(|x| x != 0.0).collect(),
        };
        let dims = self.shape().dims().to_vec();
        let mut out = Vec::new();
        let mut rows = 0usize;
        for (flat, _) in flags.iter().enumerate().filter(|(_, f)| **f) {
            let mut rest = flat;
            let start = out.len();
            out.resize(start + dims.len(), 0i64);
            for (d, &n) in dims.iter().enumerate().rev() {
                out[start + d] = (rest % n) as i64;
                rest /= n;
            }
            rows += 1;
        }
        Tensor::from_vec(out, [rows, dims.len()])
    }

    /// The sorted distinct values of the flattened tensor (`torch.unique(input)`); each NaN is
    /// its own value, as in PyTorch. See [`Tensor::unique_with`] for the inverse and counts.
    ///
    /// ```
    /// use flambeau::{Tensor, tensor};
    /// let t = Tensor::from_vec(vec![3i64, 1, 3, 2], [4]);
    /// assert_eq!(t.unique().to_vec::<i64>(), vec![1, 2, 3]);
    /// ```
    pub fn unique(&self) -> Tensor {
        self.unique_with(true, false, false).0
    }

    /// `torch.unique(input, sorted, return_inverse, return_counts)`: the distinct values, and when
    /// asked the position of each input element in them (int64, the input's shape) and how often
    /// each value occurs (int64). The values always come sorted: PyTorch allows that for
    /// `sorted=false`, whose order it leaves unspecified.
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let t = Tensor::from_vec(vec![2i64, 0, 2], [3]);
    /// let (values, inverse, counts) = t.unique_with(true, true, true);
    /// assert_eq!(values.to_vec::<i64>(), vec![0, 2]);
    /// assert_eq!(inverse.unwrap().to_vec::<i64>(), vec![1, 0, 1]);
    /// assert_eq!(counts.unwrap().to_vec::<i64>(), vec![1, 2]);
    /// ```
    pub fn unique_with(
        &self,
        sorted: bool,
        return_inverse: bool,
        return_counts: bool,
    ) -> (Tensor, Option<Tensor>, Option<Tensor>) {
        let _ = sorted;
        let n = self.numel();
        // Group equal values by sorting positions; floats through f64 hold f32 exactly, and a
        // NaN never equals its neighbour, so each stays a value of its own.
        let (order, group_starts, values) = match integral_values(self) {
            Some(v) => sorted_groups(v, |a, b| a.cmp(b), self.dtype()),
            // NaN sorts last, as ATen's sort does.
            None => sorted_groups(
                self.to_vec::<f64>(),
                |a, b| {
                    a.is_nan()
                        .cmp(&b.is_nan())
                        .then(a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal))
                },
                self.dtype(),
            ),
        };
        let ends: Vec<usize> = group_starts.iter().skip(1).copied().chain([n]).collect();
        let inverse = return_inverse.then(|| {
            let mut inv = vec![0i64; n];
            for (g, (&s, &e)) in group_starts.iter().zip(&ends).enumerate() {
                for &pos in &order[s..e] {
                    inv[pos] = g as i64;
                }
            }
            Tensor::from_vec(inv, self.shape().dims().to_vec())
        });
        let counts = return_counts.then(|| {
            let c: Vec<i64> = group_starts
                .iter()
                .zip(&ends)
                .map(|(s, e)| (e - s) as i64)
                .collect();
            let len = c.len();
            Tensor::from_vec(c, [len])
        });
        (values, inverse, counts)
    }

    /// How often each non-negative integer occurs in a 1-D integer tensor, as an int64 tensor of
    /// length `max(input.max() + 1, minlength)`; with `weights` (same length), the sum of the
    /// weights at each value instead, float32 for float32 weights and float64 otherwise
    /// (`torch.bincount(input, weights, minlength)`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let t = Tensor::from_vec(vec![1i64, 1, 3], [3]);
    /// assert_eq!(t.bincount(None, 0).to_vec::<i64>(), vec![0, 2, 0, 1]);
    /// ```
    #[track_caller]
    pub fn bincount(&self, weights: Option<&Tensor>, minlength: usize) -> Tensor {
        let values = match integral_values(self) {
            Some(v)
                if self.ndim() == 1 && self.dtype() == DType::I64 && v.iter().all(|&x| x >= 0) =>
            {
                v
            }
            _ => panic!("bincount only supports 1-d non-negative integral inputs."),
        };
        if let Some(w) = weights {
            if w.ndim() != 1 || w.numel() != values.len() {
                panic!("weights should be 1-d and have the same length as input");
            }
        }
        let len = values
            .iter()
            .map(|&x| x as usize + 1)
            .max()
            .unwrap_or(0)
            .max(minlength);
        match weights {
            None => {
                let mut out = vec![0i64; len];
                for &x in &values {
                    out[x as usize] += 1;
                }
                Tensor::from_vec(out, [len])
            }
            // ATen accumulates float32 weights in float32 and everything else in float64.
            Some(w) if w.dtype() == DType::F32 => {
                let mut out = vec![0f32; len];
                for (&x, wi) in values.iter().zip(w.to_vec::<f32>()) {
                    out[x as usize] += wi;
                }
                Tensor::from_vec(out, [len])
            }
            Some(w) => {
                let mut out = vec![0f64; len];
                for (&x, wi) in values.iter().zip(w.to_vec::<f64>()) {
                    out[x as usize] += wi;
                }
                Tensor::from_vec(out, [len])
            }
        }
    }
}

/// The positions of `v` in sorted order (stable), the first sorted position of each run of
/// equal values, and those values as a 1-D tensor of `dtype`.
fn sorted_groups<T: StorageElement + PartialEq + Copy>(
    v: Vec<T>,
    cmp: impl Fn(&T, &T) -> std::cmp::Ordering,
    dtype: DType,
) -> (Vec<usize>, Vec<usize>, Tensor) {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| cmp(&v[a], &v[b]));
    let starts: Vec<usize> = (0..v.len())
        .filter(|&i| i == 0 || v[order[i - 1]] != v[order[i]])
        .collect();
    let values: Vec<T> = starts.iter().map(|&s| v[order[s]]).collect();
    let len = values.len();
    (
        order,
        starts,
        Tensor::from_vec(values, [len]).to_dtype(dtype),
    )
}
