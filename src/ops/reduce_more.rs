//! More reductions and helpers of `torch.*`, written with the existing kernels: `all`/`any`
//! and `count_nonzero` along dims, `linalg.vector_norm`, `std_mean`/`var_mean`,
//! `tensor_split`, `meshgrid`, `logspace`.

use crate::dtype::DType;
use crate::shape::wrap_dim;
use crate::tensor::Tensor;

impl Tensor {
    /// Whether every element along `dim` is true (non-zero) (`torch.all(input, dim, keepdim)`),
    /// a bool tensor.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([[1.0, 0.0], [2.0, 3.0]]);
    /// assert_eq!(t.all_dim(1, false).to_vec::<bool>(), vec![false, true]);
    /// ```
    #[track_caller]
    pub fn all_dim(&self, dim: i64, keepdim: bool) -> Tensor {
        self.ne(0).to_dtype(DType::I64).amin([dim], keepdim).ne(0)
    }

    /// Whether any element along `dim` is true (non-zero) (`torch.any(input, dim, keepdim)`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([[1.0, 0.0], [0.0, 0.0]]);
    /// assert_eq!(t.any_dim(1, false).to_vec::<bool>(), vec![true, false]);
    /// ```
    #[track_caller]
    pub fn any_dim(&self, dim: i64, keepdim: bool) -> Tensor {
        self.ne(0).to_dtype(DType::I64).amax([dim], keepdim).ne(0)
    }

    /// The number of non-zero elements along `dims` (all when empty), int64
    /// (`torch.count_nonzero`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([[1.0, 0.0], [2.0, 3.0]]);
    /// assert_eq!(t.count_nonzero(&[1]).to_vec::<i64>(), vec![1, 2]);
    /// ```
    #[track_caller]
    pub fn count_nonzero(&self, dims: &[i64]) -> Tensor {
        let nz = self.ne(0).to_dtype(DType::I64);
        if dims.is_empty() {
            nz.sum()
        } else {
            nz.sum_dim(dims.to_vec(), false)
        }
    }

    /// The vector `ord`-norm over `dims` (all when empty) (`torch.linalg.vector_norm`): `inf`
    /// and `-inf` are the largest and smallest magnitude, 0 counts the non-zero elements.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([[3.0, -4.0]]);
    /// assert_eq!(t.vector_norm(2.0, &[1], false).to_vec::<f32>(), vec![5.0]);
    /// assert_eq!(t.vector_norm(f64::INFINITY, &[1], false).to_vec::<f32>(), vec![4.0]);
    /// ```
    #[track_caller]
    pub fn vector_norm(&self, ord: f64, dims: &[i64], keepdim: bool) -> Tensor {
        if !self.dtype().is_float() {
            panic!(
                "linalg.vector_norm: Expected a floating point or complex tensor as input. Got {}",
                self.dtype().scalar_name()
            );
        }
        let all: Vec<i64> = (0..self.ndim() as i64).collect();
        let dims = if dims.is_empty() { &all[..] } else { dims };
        if ord == f64::INFINITY {
            self.abs().amax(dims.to_vec(), keepdim)
        } else if ord == f64::NEG_INFINITY {
            self.abs().amin(dims.to_vec(), keepdim)
        } else if ord == 0.0 {
            self.ne(0)
                .to_dtype(self.dtype())
                .sum_dim(dims.to_vec(), keepdim)
        } else {
            self.norm(ord, dims.to_vec(), keepdim)
        }
    }

    /// The standard deviation and mean over `dims` (`torch.std_mean(input, dim, correction,
    /// keepdim)`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let (s, m) = tensor!([1.0, 3.0]).std_mean(&[0], 1.0, false);
    /// assert_eq!((s.item::<f32>(), m.item::<f32>()), (2f32.sqrt(), 2.0));
    /// ```
    #[track_caller]
    pub fn std_mean(&self, dims: &[i64], correction: f64, keepdim: bool) -> (Tensor, Tensor) {
        (
            self.std_correction(dims.to_vec(), correction, keepdim),
            self.mean_dim(dims.to_vec(), keepdim),
        )
    }

    /// The variance and mean over `dims` (`torch.var_mean`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let (v, m) = tensor!([1.0, 3.0]).var_mean(&[0], 1.0, false);
    /// assert_eq!((v.item(), m.item()), (2.0, 2.0));
    /// ```
    #[track_caller]
    pub fn var_mean(&self, dims: &[i64], correction: f64, keepdim: bool) -> (Tensor, Tensor) {
        (
            self.var_correction(dims.to_vec(), correction, keepdim),
            self.mean_dim(dims.to_vec(), keepdim),
        )
    }

    /// The minimum and maximum over `dims` (all when empty) (`torch.aminmax`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let (lo, hi) = tensor!([[1.0, 5.0, -2.0]]).aminmax(&[1], false);
    /// assert_eq!((lo.to_vec::<f32>(), hi.to_vec::<f32>()), (vec![-2.0], vec![5.0]));
    /// ```
    #[track_caller]
    pub fn aminmax(&self, dims: &[i64], keepdim: bool) -> (Tensor, Tensor) {
        (
            self.amin(dims.to_vec(), keepdim),
            self.amax(dims.to_vec(), keepdim),
        )
    }

    /// The mean of the non-NaN elements over `dims` (all when empty) (`torch.nanmean`:
    /// PyTorch's `nansum / count` of the non-NaN elements).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let m = tensor!([[1.0, f32::NAN, 3.0]]).nanmean(&[1], false);
    /// assert_eq!(m.to_vec::<f32>(), vec![2.0]);
    /// ```
    #[track_caller]
    pub fn nanmean(&self, dims: &[i64], keepdim: bool) -> Tensor {
        if !self.dtype().is_float() {
            panic!(
                "nanmean(): expected input to have floating point or complex dtype but got {}",
                self.dtype().scalar_name()
            );
        }
        let all: Vec<i64> = (0..self.ndim() as i64).collect();
        let dims = if dims.is_empty() { &all[..] } else { dims };
        let nan = self.isnan();
        let count = nan
            .logical_not()
            .to_dtype(self.dtype())
            .sum_dim(dims.to_vec(), keepdim);
        Tensor::where_(&nan, 0.0, self)
            .sum_dim(dims.to_vec(), keepdim)
            .div(&count)
    }

    /// Splits into `sections` views along `dim`, the first `size % sections` one element
    /// longer (`torch.tensor_split(input, sections, dim)`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let parts = Tensor::arange(0, 5, 1).tensor_split(3, 0);
    /// let sizes: Vec<usize> = parts.iter().map(|p| p.numel()).collect();
    /// assert_eq!(sizes, vec![2, 2, 1]);
    /// ```
    #[track_caller]
    pub fn tensor_split(&self, sections: usize, dim: i64) -> Vec<Tensor> {
        if sections == 0 {
            panic!("number of sections must be larger than 0, got {sections}");
        }
        let d = wrap_dim(dim, self.ndim());
        let n = self.dims()[d];
        let (base, extra) = (n / sections, n % sections);
        let mut start = 0;
        (0..sections)
            .map(|i| {
                let len = base + usize::from(i < extra);
                let part = self.narrow(d as i64, start as i64, len);
                start += len;
                part
            })
            .collect()
    }

    /// Coordinate grids of 1-D tensors (`torch.meshgrid(*tensors, indexing=...)`): `"ij"`
    /// gives shape `(len0, len1, ...)`, `"xy"` swaps the first two.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let g = flambeau::Tensor::meshgrid(&[&tensor!([1.0, 2.0]), &tensor!([3.0, 4.0, 5.0])], "ij");
    /// assert_eq!(g[1].dims(), &[2, 3]);
    /// ```
    #[track_caller]
    pub fn meshgrid(tensors: &[&Tensor], indexing: &str) -> Vec<Tensor> {
        if indexing != "ij" && indexing != "xy" {
            panic!(
                "torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}"
            );
        }
        for t in tensors {
            if t.ndim() > 1 {
                panic!(
                    "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {}D",
                    t.ndim()
                );
            }
        }
        let swap = indexing == "xy" && tensors.len() >= 2;
        let mut order: Vec<&Tensor> = tensors.to_vec();
        if swap {
            order.swap(0, 1);
        }
        let shape: Vec<i64> = order.iter().map(|t| t.numel() as i64).collect();
        let mut grids: Vec<Tensor> = order
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut view = vec![1i64; shape.len()];
                view[i] = -1;
                t.reshape(view).expand(shape.clone())
            })
            .collect();
        if swap {
            grids.swap(0, 1);
        }
        grids
    }

    /// `base ** linspace(start, end, steps)`, float32 (`torch.logspace`), each point computed
    /// as ATen's kernel does: from `start` in the first half, from `end` in the second.
    ///
    /// ```
    /// use flambeau::Tensor;
    /// assert_eq!(Tensor::logspace(0.0, 2.0, 3, 10.0).to_vec::<f32>(), vec![1.0, 10.0, 100.0]);
    /// ```
    #[track_caller]
    pub fn logspace(start: f64, end: f64, steps: usize, base: f64) -> Tensor {
        let values: Vec<f32> = logspace_values(start as f32, end as f32, steps, base as f32);
        Tensor::from_vec(values, [steps])
    }
}

/// ATen's `logspace` (`RangeFactories.cpp`) for float32: the exponent in float32, the power
/// of the float64 base.
fn logspace_values(start: f32, end: f32, steps: usize, base: f32) -> Vec<f32> {
    if steps == 0 {
        return Vec::new();
    }
    if steps == 1 {
        return vec![(base as f64).powf(start as f64) as f32];
    }
    let step = (end - start) / (steps - 1) as f32;
    let half = steps / 2;
    (0..steps)
        .map(|i| {
            if i < half {
                (base as f64).powf((start + step * i as f32) as f64) as f32
            } else {
                (base as f64).powf((end - step * (steps - i - 1) as f32) as f64) as f32
            }
        })
        .collect()
}
