//! Reductions over all elements or some dims, with `keepdim`: `sum`, `mean`, `max`/`min` (values
//! and indices), `amax`/`amin`, `argmax`/`argmin`, `var`/`std`, `logsumexp`, and `sum_to_size`
//! (the reduction that undoes broadcasting in backward passes). The kernels (PyTorch's
//! summation order, float64 accumulation for variances) are the backend's reduction family.

use super::float_type;
use crate::autograd::{SavedTensor, backward_fn, record};
use crate::shape::{IntList, ReducePlan, Shape};
use crate::tensor::Tensor;
use smallvec::SmallVec;

/// Expands a reduced gradient back over the reduced dims.
#[track_caller]
fn expand_back(grad: &Tensor, plan: &ReducePlan) -> Tensor {
    grad.reshape(plan.kept_shape.dims())
        .expand(plan.in_shape.dims())
}

backward_fn! {
    struct SumBackward0 { plan: ReducePlan }
    names [SumBackward1]
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(expand_back(grad, &self.plan))]
    }
}

backward_fn! {
    struct MeanBackward0 { plan: ReducePlan }
    names [MeanBackward1]
    saved []
    fn backward(&mut self, grad, needs) {
        let g = expand_back(grad, &self.plan).div(self.plan.count as f64);
        smallvec::smallvec![Some(g)]
    }
}

backward_fn! {
    /// max/min over one dim: the gradient goes to the selected index.
    struct MaxBackward0 { plan: ReducePlan, dim: usize, indices: Tensor }
    names [MinBackward0]
    saved []
    fn backward(&mut self, grad, needs) {
        let g = grad.reshape(self.plan.kept_shape.dims());
        let idx = self.indices.reshape(self.plan.kept_shape.dims());
        let z = Tensor::zeros_dtype(self.plan.in_shape.dims(), grad.dtype());
        smallvec::smallvec![Some(z.scatter(self.dim as i64, &idx, &g))]
    }
}

backward_fn! {
    /// max/min/amax/amin over dims: the gradient is shared evenly among the tied extremes.
    struct MaxBackward1 { plan: ReducePlan, x: SavedTensor, result: SavedTensor }
    names [MinBackward1, AmaxBackward0, AminBackward0]
    saved [x, result]
    fn backward(&mut self, grad, needs) {
        let r = self.result.get().reshape(self.plan.kept_shape.dims());
        let mask = self.x.get().eq(&r).to_dtype(grad.dtype());
        let count = mask.sum_dim(self.plan.dims_i64().as_slice(), true);
        let g = expand_back(grad, &self.plan).mul(&mask).div(&count);
        smallvec::smallvec![Some(g)]
    }
}

backward_fn! {
    struct VarBackward0 { plan: ReducePlan, x: SavedTensor, correction: f64, std: Option<SavedTensor> }
    names [StdBackward0]
    saved [x, std]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        let mean = x.mean_dim(self.plan.dims_i64().as_slice(), true);
        let denom = (self.plan.count as f64 - self.correction).max(0.0);
        let g = match &self.std {
            None => expand_back(grad, &self.plan).mul(2.0 / denom).mul(x.sub(&mean)),
            Some(s) => {
                // d std = d var / (2 std); zero where std == 0
                let s = s.get();
                let gs = grad.div(s.mul(2.0)).masked_fill(&s.eq(0.0), 0.0);
                expand_back(&gs, &self.plan).mul(2.0 / denom).mul(x.sub(&mean))
            }
        };
        smallvec::smallvec![Some(g)]
    }
}

backward_fn! {
    struct LogsumexpBackward0 { plan: ReducePlan, x: SavedTensor, result: SavedTensor }
    saved [x, result]
    fn backward(&mut self, grad, needs) {
        let r = self.result.get().reshape(self.plan.kept_shape.dims());
        let g = expand_back(grad, &self.plan).mul(self.x.get().sub(&r).exp());
        smallvec::smallvec![Some(g)]
    }
}

backward_fn! {
    /// ATen's `norm_backward` for a p-norm over dims.
    struct NormBackward1 { plan: ReducePlan, x: SavedTensor, result: SavedTensor, p: f64 }
    saved [x, result]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        let g = grad.reshape(self.plan.kept_shape.dims());
        let n = self.result.get().reshape(self.plan.kept_shape.dims());
        let p = self.p;
        let out = if p == 1.0 {
            x.sign().mul(&g)
        } else if p == 2.0 {
            g.mul(x.div(&n).masked_fill(&n.eq(0.0), 0.0))
        } else if p.is_infinite() {
            // The gradient is shared evenly among the elements of largest magnitude.
            let mask = x.abs().eq(&n).to_dtype(g.dtype());
            let count = mask.sum_dim(self.plan.dims_i64().as_slice(), true);
            x.sign().mul(mask).mul(g.div(count))
        } else {
            let scaled = x.sign().mul(x.abs().pow(p - 1.0));
            let scale = g.div(n.pow(p - 1.0)).masked_fill(&n.eq(0.0), 0.0);
            scaled.mul(scale)
        };
        smallvec::smallvec![Some(out)]
    }
}

/// The sum over a plan, without autograd (bools sum as int64).
#[track_caller]
fn sum_raw(t: &Tensor, plan: &ReducePlan) -> Tensor {
    let storage = t.storage().sum(t.layout(), plan);
    Tensor::from_storage(storage, plan.out_shape.clone())
}

/// Values and indices of the maximum (or minimum) over a plan.
#[track_caller]
fn extreme_raw(t: &Tensor, plan: &ReducePlan, max: bool) -> (Tensor, Tensor) {
    if plan.count == 0 {
        panic!(
            "{}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.",
            if max { "max" } else { "min" }
        );
    }
    let (values, indices) = t.storage().extreme(t.layout(), plan, max);
    (
        Tensor::from_storage(values, plan.out_shape.clone()),
        Tensor::from_storage(indices, plan.out_shape.clone()),
    )
}

#[track_caller]
fn dims_of(dims: impl IntList) -> SmallVec<[i64; 6]> {
    dims.to_int_list()
}

#[track_caller]
fn check_float_reduce(t: &Tensor, name: &str) {
    if !t.dtype().is_float() {
        panic!(
            "{name}(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: {}",
            t.dtype().scalar_name()
        );
    }
}

impl Tensor {
    /// The sum of all elements, as a 0-dim tensor (`tensor.sum()`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([[1.0, 2.0], [3.0, 4.0]]).sum().item::<f32>(), 10.0);
    /// ```
    #[track_caller]
    pub fn sum(&self) -> Tensor {
        let plan = ReducePlan::new(self.shape(), &[], false);
        let out = sum_raw(self, &plan);
        record(out, &[self], |_| SumBackward0 { plan })
    }

    /// The sum over some dims (`tensor.sum(dim, keepdim)`); `dims` is one dim or a list.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(t.sum_dim(1, false).to_vec::<f32>(), vec![3.0, 7.0]);
    /// assert_eq!(t.sum_dim([0], true).dims(), &[1, 2]);
    /// ```
    #[track_caller]
    pub fn sum_dim(&self, dims: impl IntList, keepdim: bool) -> Tensor {
        let plan = ReducePlan::new(self.shape(), &dims_of(dims), keepdim);
        let out = sum_raw(self, &plan);
        record(out, &[self], |_| SumBackward1 { plan })
    }

    /// Sums a broadcast tensor down to `shape` (`tensor.sum_to_size(shape)`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let g = Tensor::ones([2, 3, 4]);
    /// assert_eq!(g.sum_to_size(&[3, 1]).to_vec::<f32>(), vec![8.0, 8.0, 8.0]);
    /// ```
    #[track_caller]
    pub fn sum_to_size(&self, shape: &[usize]) -> Tensor {
        let nd = self.ndim();
        if shape.len() > nd {
            panic!(
                "size {:?} is not expandable to size {:?}",
                shape,
                self.dims()
            );
        }
        let lead = nd - shape.len();
        let mut dims: SmallVec<[i64; 6]> = (0..lead as i64).collect();
        for (i, &s) in shape.iter().enumerate() {
            let d = self.dims()[lead + i];
            if s == 1 && d != 1 {
                dims.push((lead + i) as i64);
            } else if s != d {
                panic!(
                    "size {:?} is not expandable to size {:?}",
                    shape,
                    self.dims()
                );
            }
        }
        if dims.is_empty() {
            return self.clone();
        }
        if shape.iter().all(|&s| s == 1) && !crate::autograd::needs_grad(&[self]) {
            // A full reduction outside the graph (a bias's gradient): the sum of all elements,
            // the same plan `sum_dim` over every dim makes, without the dim list and reshape.
            let plan = ReducePlan::new(self.shape(), &[], false);
            let storage = self.storage().sum(self.layout(), &plan);
            return Tensor::from_storage(storage, Shape::new(shape));
        }
        self.sum_dim(dims.as_slice(), true).reshape(shape)
    }

    /// The mean of all elements (`tensor.mean()`); float tensors only, as in PyTorch.
    #[track_caller]
    pub fn mean(&self) -> Tensor {
        let plan = ReducePlan::new(self.shape(), &[], false);
        let out = self.mean_raw(&plan);
        record(out, &[self], |_| MeanBackward0 { plan })
    }

    /// The mean over some dims (`tensor.mean(dim, keepdim)`).
    #[track_caller]
    pub fn mean_dim(&self, dims: impl IntList, keepdim: bool) -> Tensor {
        let plan = ReducePlan::new(self.shape(), &dims_of(dims), keepdim);
        let out = self.mean_raw(&plan);
        record(out, &[self], |_| MeanBackward1 { plan })
    }

    /// PyTorch's mean: the sum divided by the count, in the tensor's dtype.
    #[track_caller]
    fn mean_raw(&self, plan: &ReducePlan) -> Tensor {
        check_float_reduce(self, "mean");
        let sum = sum_raw(self, plan);
        super::binary::scalar_raw(
            &sum,
            crate::Scalar::Float(plan.count as f64),
            super::binary::BinOp::Div,
            false,
        )
    }

    /// The largest element, as a 0-dim tensor (`tensor.max()`).
    #[track_caller]
    pub fn max(&self) -> Tensor {
        let plan = ReducePlan::new(self.shape(), &[], false);
        let (values, _) = extreme_raw(self, &plan, true);
        record(values, &[self], |o| MaxBackward1 {
            plan,
            x: SavedTensor::input(self),
            result: SavedTensor::output(o),
        })
    }

    /// The smallest element, as a 0-dim tensor (`tensor.min()`).
    #[track_caller]
    pub fn min(&self) -> Tensor {
        let plan = ReducePlan::new(self.shape(), &[], false);
        let (values, _) = extreme_raw(self, &plan, false);
        record(values, &[self], |o| MinBackward1 {
            plan,
            x: SavedTensor::input(self),
            result: SavedTensor::output(o),
        })
    }

    /// The maximum over one dim: `(values, indices)` (`torch.max(t, dim, keepdim)`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let (v, i) = tensor!([[1.0, 5.0], [7.0, 2.0]]).max_dim(1, false);
    /// assert_eq!(v.to_vec::<f32>(), vec![5.0, 7.0]);
    /// assert_eq!(i.to_vec::<i64>(), vec![1, 0]);
    /// ```
    #[track_caller]
    pub fn max_dim(&self, dim: i64, keepdim: bool) -> (Tensor, Tensor) {
        let plan = ReducePlan::single(self.shape(), dim, keepdim);
        let (values, indices) = extreme_raw(self, &plan, true);
        let (d, idx) = (plan.dims.first().copied().unwrap_or(0), indices.clone());
        let values = record(values, &[self], |_| MaxBackward0 {
            plan,
            dim: d,
            indices: idx,
        });
        (values, indices)
    }

    /// The minimum over one dim: `(values, indices)` (`torch.min(t, dim, keepdim)`).
    #[track_caller]
    pub fn min_dim(&self, dim: i64, keepdim: bool) -> (Tensor, Tensor) {
        let plan = ReducePlan::single(self.shape(), dim, keepdim);
        let (values, indices) = extreme_raw(self, &plan, false);
        let (d, idx) = (plan.dims.first().copied().unwrap_or(0), indices.clone());
        let values = record(values, &[self], |_| MinBackward0 {
            plan,
            dim: d,
            indices: idx,
        });
        (values, indices)
    }

    /// The maximum over dims, without indices (`torch.amax(t, dims, keepdim)`).
    #[track_caller]
    pub fn amax(&self, dims: impl IntList, keepdim: bool) -> Tensor {
        let plan = ReducePlan::new(self.shape(), &dims_of(dims), keepdim);
        let (values, _) = extreme_raw(self, &plan, true);
        record(values, &[self], |o| AmaxBackward0 {
            plan,
            x: SavedTensor::input(self),
            result: SavedTensor::output(o),
        })
    }

    /// The minimum over dims, without indices (`torch.amin(t, dims, keepdim)`).
    #[track_caller]
    pub fn amin(&self, dims: impl IntList, keepdim: bool) -> Tensor {
        let plan = ReducePlan::new(self.shape(), &dims_of(dims), keepdim);
        let (values, _) = extreme_raw(self, &plan, false);
        record(values, &[self], |o| AminBackward0 {
            plan,
            x: SavedTensor::input(self),
            result: SavedTensor::output(o),
        })
    }

    /// Index of the maximum, over everything (`dim = None`, flattened) or one dim (`torch.argmax`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([[1.0, 5.0], [7.0, 2.0]]);
    /// assert_eq!(t.argmax(None, false).item::<i64>(), 2);
    /// assert_eq!(t.argmax(Some(0), false).to_vec::<i64>(), vec![1, 0]);
    /// ```
    #[track_caller]
    pub fn argmax(&self, dim: Option<i64>, keepdim: bool) -> Tensor {
        self.arg_extreme(dim, keepdim, true)
    }

    /// Index of the minimum (`torch.argmin`).
    #[track_caller]
    pub fn argmin(&self, dim: Option<i64>, keepdim: bool) -> Tensor {
        self.arg_extreme(dim, keepdim, false)
    }

    #[track_caller]
    fn arg_extreme(&self, dim: Option<i64>, keepdim: bool, max: bool) -> Tensor {
        match dim {
            Some(d) => {
                let plan = ReducePlan::single(self.shape(), d, keepdim);
                extreme_raw(self, &plan, max).1
            }
            None => {
                let flat = self.reshape([-1]);
                let plan = ReducePlan::new(flat.shape(), &[], false);
                let idx = extreme_raw(&flat, &plan, max).1;
                if keepdim {
                    idx.reshape(vec![1usize; self.ndim()])
                } else {
                    idx
                }
            }
        }
    }

    /// Variance of all elements, unbiased (divided by N - 1) or not (`torch.var(t, unbiased)`).
    #[track_caller]
    pub fn var(&self, unbiased: bool) -> Tensor {
        self.var_correction(&[] as &[i64], if unbiased { 1.0 } else { 0.0 }, false)
    }

    /// Variance over dims (`torch.var(t, dim, unbiased, keepdim)`).
    #[track_caller]
    pub fn var_dim(&self, dims: impl IntList, unbiased: bool, keepdim: bool) -> Tensor {
        self.var_correction(dims, if unbiased { 1.0 } else { 0.0 }, keepdim)
    }

    /// Variance over dims divided by `N - correction` (`torch.var(t, dim, correction=c)`);
    /// an empty dim list means all dims. Computed as PyTorch's CPU kernels do, accumulating in
    /// float64 (one-element results: the float mean, then squared deviations summed in float64;
    /// otherwise Welford's algorithm), so float32 results are PyTorch's bit for bit.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(t.var_correction([0], 0.0, false).item::<f32>(), 1.25);
    /// assert!((t.var(true).item::<f32>() - 1.6667).abs() < 1e-4);
    /// ```
    #[track_caller]
    pub fn var_correction(&self, dims: impl IntList, correction: f64, keepdim: bool) -> Tensor {
        let plan = ReducePlan::new(self.shape(), &dims_of(dims), keepdim);
        let out = self.var_raw(&plan, correction, false);
        record(out, &[self], |_| VarBackward0 {
            plan,
            x: SavedTensor::input(self),
            correction,
            std: None,
        })
    }

    /// Standard deviation of all elements (`torch.std(t, unbiased)`).
    #[track_caller]
    pub fn std(&self, unbiased: bool) -> Tensor {
        self.std_correction(&[] as &[i64], if unbiased { 1.0 } else { 0.0 }, false)
    }

    /// Standard deviation over dims (`torch.std(t, dim, unbiased, keepdim)`).
    #[track_caller]
    pub fn std_dim(&self, dims: impl IntList, unbiased: bool, keepdim: bool) -> Tensor {
        self.std_correction(dims, if unbiased { 1.0 } else { 0.0 }, keepdim)
    }

    /// Standard deviation over dims with a correction (`torch.std(t, dim, correction=c)`).
    #[track_caller]
    pub fn std_correction(&self, dims: impl IntList, correction: f64, keepdim: bool) -> Tensor {
        let plan = ReducePlan::new(self.shape(), &dims_of(dims), keepdim);
        let out = self.var_raw(&plan, correction, true);
        record(out, &[self], |o| StdBackward0 {
            plan,
            x: SavedTensor::input(self),
            correction,
            std: Some(SavedTensor::output(o)),
        })
    }

    #[track_caller]
    fn var_raw(&self, plan: &ReducePlan, correction: f64, take_sqrt: bool) -> Tensor {
        if !self.dtype().is_float() {
            panic!("std and var only support floating point and complex dtypes");
        }
        let storage = self
            .storage()
            .var(self.layout(), plan, correction, take_sqrt);
        Tensor::from_storage(storage, plan.out_shape.clone())
    }

    /// The `p`-norm over dims (`torch.norm(t, p, dim, keepdim)`, `torch.linalg.vector_norm`):
    /// `sum(|x|^p)^(1/p)`, `p = inf` giving the largest magnitude; an empty dim list means all
    /// dims.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([[3.0, 4.0], [0.0, 1.0]]);
    /// assert_eq!(t.norm(2.0, 1, false).to_vec::<f32>(), vec![5.0, 1.0]);
    /// assert_eq!(t.norm(f64::INFINITY, &[] as &[i64], false).item::<f32>(), 4.0);
    /// ```
    #[track_caller]
    pub fn norm(&self, p: f64, dims: impl IntList, keepdim: bool) -> Tensor {
        if !self.dtype().is_float() {
            panic!(
                "linalg.vector_norm: Expected a floating point or complex tensor as input. Got {}",
                self.dtype().scalar_name()
            );
        }
        let dims = dims_of(dims);
        let plan = ReducePlan::new(self.shape(), &dims, keepdim);
        let out = crate::autograd::no_grad(|| {
            if p == 2.0 {
                self.mul(self).sum_dim(dims.as_slice(), keepdim).sqrt()
            } else if p == 1.0 {
                self.abs().sum_dim(dims.as_slice(), keepdim)
            } else if p.is_infinite() {
                self.abs().amax(dims.as_slice(), keepdim)
            } else {
                self.abs()
                    .pow(p)
                    .sum_dim(dims.as_slice(), keepdim)
                    .pow(1.0 / p)
            }
        });
        record(out, &[self], |o| NormBackward1 {
            plan,
            x: SavedTensor::input(self),
            result: SavedTensor::output(o),
            p,
        })
    }

    /// `log(sum(exp(x)))` over dims, computed stably (`torch.logsumexp`).
    #[track_caller]
    pub fn logsumexp(&self, dims: impl IntList, keepdim: bool) -> Tensor {
        let t = self.cast_raw(float_type(self.dtype()));
        let plan = ReducePlan::new(t.shape(), &dims_of(dims), keepdim);
        let storage = t.storage().logsumexp(t.layout(), &plan);
        let out = Tensor::from_storage(storage, plan.out_shape.clone());
        record(out, &[self], |o| LogsumexpBackward0 {
            plan,
            x: SavedTensor::input(self),
            result: SavedTensor::output(o),
        })
    }
}
