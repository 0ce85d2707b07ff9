//! Reductions over all elements or some dims, with `keepdim`: `sum`, `mean`, `max`/`min` (values
//! and indices), `amax`/`amin`, `argmax`/`argmin`, `var`/`std`, `logsumexp`, and `sum_to_size`
//! (the reduction that undoes broadcasting in backward passes).

use super::{cast_raw, float_type};
use crate::autograd::{SavedTensor, backward_fn, record};
use crate::dtype::{DType, Num};
use crate::kernels::cpu::{self, reduce as k};
use crate::shape::{IntList, Layout, Shape, wrap_dim, wrap_dims};
use crate::storage::CpuStorage;
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::borrow::Cow;

/// The dims of a reduction, wrapped and sorted, plus the output shape.
pub(crate) struct ReducePlan {
    /// Reduced dims, ascending.
    pub dims: SmallVec<[usize; 6]>,
    pub in_shape: Shape,
    /// Output shape with keepdim applied.
    pub out_shape: Shape,
    /// Output shape as if keepdim were true (for broadcasting gradients back).
    pub kept_shape: Shape,
    /// Elements reduced into each output.
    pub count: usize,
}

impl ReducePlan {
    /// `dims` empty means every dim, as PyTorch's `dim=None`.
    pub fn new(shape: &Shape, dims: &[i64], keepdim: bool) -> ReducePlan {
        let nd = shape.ndim();
        let mut dims: SmallVec<[usize; 6]> = if dims.is_empty() {
            (0..nd).collect()
        } else {
            wrap_dims(dims, nd)
        };
        dims.sort_unstable();
        if nd == 0 {
            dims.clear();
        }
        let mut out = SmallVec::<[usize; 6]>::new();
        let mut kept = SmallVec::<[usize; 6]>::new();
        let mut count = 1;
        for (i, &d) in shape.dims().iter().enumerate() {
            if dims.contains(&i) {
                count *= d;
                kept.push(1);
                if keepdim {
                    out.push(1);
                }
            } else {
                kept.push(d);
                out.push(d);
            }
        }
        ReducePlan {
            dims,
            in_shape: shape.clone(),
            out_shape: Shape(out),
            kept_shape: Shape(kept),
            count,
        }
    }

    fn single(shape: &Shape, dim: i64, keepdim: bool) -> ReducePlan {
        let d = wrap_dim(dim, shape.ndim());
        ReducePlan::new(shape, &[d as i64], keepdim)
    }

    /// Whether the reduced dims (ignoring size-1 dims) all come before the kept ones.
    fn reduces_leading(&self) -> bool {
        let dims = self.in_shape.dims();
        let last_reduced = self.dims.iter().filter(|&&d| dims[d] != 1).max();
        let first_kept = (0..dims.len()).find(|d| !self.dims.contains(d) && dims[*d] != 1);
        match (last_reduced, first_kept) {
            (Some(&r), Some(k)) => r < k,
            _ => false,
        }
    }

    /// Number of outputs.
    fn outer(&self) -> usize {
        self.kept_shape.numel()
    }

    /// The input's elements grouped into contiguous rows, one row per output.
    fn rows<'a, T: Copy>(&self, data: &'a [T], layout: &Layout) -> Cow<'a, [T]> {
        let nd = layout.ndim();
        let mut order: SmallVec<[usize; 6]> = (0..nd).filter(|d| !self.dims.contains(d)).collect();
        order.extend(self.dims.iter().copied());
        let permuted = Layout {
            shape: Shape(order.iter().map(|&d| layout.dims()[d]).collect()),
            strides: order.iter().map(|&d| layout.strides[d]).collect(),
            offset: layout.offset,
        };
        cpu::contiguous_cow(data, &permuted)
    }
}

/// Expands a reduced gradient back over the reduced dims.
fn expand_back(grad: &Tensor, plan: &ReducePlan) -> Tensor {
    grad.reshape(plan.kept_shape.dims())
        .expand(plan.in_shape.dims())
}

backward_fn! {
    struct SumBackward { plan: ReducePlan }
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(expand_back(grad, &self.plan))]
    }
}

backward_fn! {
    struct MeanBackward { plan: ReducePlan }
    saved []
    fn backward(&mut self, grad, needs) {
        let g = expand_back(grad, &self.plan).div(self.plan.count as f64);
        smallvec::smallvec![Some(g)]
    }
}

backward_fn! {
    /// max/min over one dim: the gradient goes to the selected index.
    struct IndexReduceBackward { plan: ReducePlan, dim: usize, indices: Tensor }
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
    struct EvenlyBackward { plan: ReducePlan, x: SavedTensor, result: SavedTensor }
    saved [x, result]
    fn backward(&mut self, grad, needs) {
        let r = self.result.get().reshape(self.plan.kept_shape.dims());
        let mask = self.x.get().eq(&r).to_dtype(grad.dtype());
        let count = mask.sum_dim(self.plan.dims.iter().map(|&d| d as i64).collect::<Vec<_>>(), true);
        let g = expand_back(grad, &self.plan).mul(&mask).div(&count);
        smallvec::smallvec![Some(g)]
    }
}

backward_fn! {
    struct VarBackward { plan: ReducePlan, x: SavedTensor, correction: f64, std: Option<SavedTensor> }
    saved [x, std]
    fn backward(&mut self, grad, needs) {
        let x = self.x.get();
        let dims: Vec<i64> = self.plan.dims.iter().map(|&d| d as i64).collect();
        let mean = x.mean_dim(dims, true);
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
    struct LogsumexpBackward { plan: ReducePlan, x: SavedTensor, result: SavedTensor }
    saved [x, result]
    fn backward(&mut self, grad, needs) {
        let r = self.result.get().reshape(self.plan.kept_shape.dims());
        let g = expand_back(grad, &self.plan).mul(self.x.get().sub(&r).exp());
        smallvec::smallvec![Some(g)]
    }
}

/// Sum of rows for any numeric storage; bools sum as int64, as in PyTorch.
fn sum_storage(t: &Tensor, plan: &ReducePlan) -> CpuStorage {
    let t = if t.dtype() == DType::Bool {
        cast_raw(t, DType::I64)
    } else {
        t.clone()
    };
    t.with_cpu(|s, l| {
        fn go<T: k::SumLanes>(v: &[T], l: &Layout, plan: &ReducePlan) -> Vec<T> {
            if plan.outer() == 0 {
                return Vec::new();
            }
            let inner = plan.count;
            if inner == 0 {
                return vec![T::zero(); plan.outer()];
            }
            // A contiguous tensor reduced over its leading dims is summed column-wise, in place,
            // as ATen's outer reduction does; everything else as contiguous rows.
            if let Some(r) = l.contiguous_range() {
                if plan.outer() > 1 && plan.reduces_leading() {
                    return k::sum_cols(&v[r], inner, plan.outer());
                }
            }
            k::sum_rows(&plan.rows(v, l), inner)
        }
        match s {
            CpuStorage::F32(v) => CpuStorage::F32(go(v, l, plan)),
            CpuStorage::F64(v) => CpuStorage::F64(go(v, l, plan)),
            CpuStorage::I64(v) => CpuStorage::I64(go(v, l, plan)),
            CpuStorage::Bool(_) => unreachable!(),
        }
    })
}

/// Applies `f` to every row of a float tensor (values), producing one value per row.
fn float_rows(
    t: &Tensor,
    plan: &ReducePlan,
    f32f: impl Fn(&[f32]) -> f32,
    f64f: impl Fn(&[f64]) -> f64,
) -> Tensor {
    let inner = plan.count;
    let storage = t.with_cpu(|s, l| match s {
        CpuStorage::F32(v) => {
            CpuStorage::F32(plan.rows(v, l).chunks(inner.max(1)).map(&f32f).collect())
        }
        CpuStorage::F64(v) => {
            CpuStorage::F64(plan.rows(v, l).chunks(inner.max(1)).map(&f64f).collect())
        }
        _ => unreachable!("float rows"),
    });
    Tensor::from_cpu(storage, plan.out_shape.clone())
}

/// Values and indices of the maximum (or minimum) of every row.
fn extreme_rows(t: &Tensor, plan: &ReducePlan, max: bool) -> (Tensor, Tensor) {
    if plan.count == 0 {
        panic!(
            "{}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.",
            if max { "max" } else { "min" }
        );
    }
    let inner = plan.count;
    fn go<T: Num>(
        v: &[T],
        l: &Layout,
        plan: &ReducePlan,
        inner: usize,
        max: bool,
    ) -> (Vec<T>, Vec<i64>) {
        let rows = plan.rows(v, l);
        rows.chunks(inner)
            .map(|r| {
                let (i, x) = k::arg_extreme(r, max);
                (x, i as i64)
            })
            .unzip()
    }
    let t = if t.dtype() == DType::Bool {
        cast_raw(t, DType::I64)
    } else {
        t.clone()
    };
    let (values, idx) = t.with_cpu(|s, l| match s {
        CpuStorage::F32(v) => {
            let (a, b) = go(v, l, plan, inner, max);
            (CpuStorage::F32(a), b)
        }
        CpuStorage::F64(v) => {
            let (a, b) = go(v, l, plan, inner, max);
            (CpuStorage::F64(a), b)
        }
        CpuStorage::I64(v) => {
            let (a, b) = go(v, l, plan, inner, max);
            (CpuStorage::I64(a), b)
        }
        CpuStorage::Bool(_) => unreachable!(),
    });
    (
        Tensor::from_cpu(values, plan.out_shape.clone()),
        Tensor::from_cpu(CpuStorage::I64(idx), plan.out_shape.clone()),
    )
}

fn dims_of(dims: impl IntList) -> SmallVec<[i64; 6]> {
    dims.to_int_list()
}

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
    pub fn sum(&self) -> Tensor {
        self.sum_impl(&[], false, "SumBackward0")
    }

    /// The sum over some dims (`tensor.sum(dim, keepdim)`); `dims` is one dim or a list.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(t.sum_dim(1, false).to_vec::<f32>(), vec![3.0, 7.0]);
    /// assert_eq!(t.sum_dim([0], true).dims(), &[1, 2]);
    /// ```
    pub fn sum_dim(&self, dims: impl IntList, keepdim: bool) -> Tensor {
        let dims = dims_of(dims);
        self.sum_impl(&dims, keepdim, "SumBackward1")
    }

    fn sum_impl(&self, dims: &[i64], keepdim: bool, name: &'static str) -> Tensor {
        let plan = ReducePlan::new(self.shape(), dims, keepdim);
        let out = Tensor::from_cpu(sum_storage(self, &plan), plan.out_shape.clone());
        record(out, name, &[self], |_| SumBackward { plan })
    }

    /// Sums a broadcast tensor down to `shape` (`tensor.sum_to_size(shape)`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let g = Tensor::ones([2, 3, 4]);
    /// assert_eq!(g.sum_to_size(&[3, 1]).to_vec::<f32>(), vec![8.0, 8.0, 8.0]);
    /// ```
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
        let mut dims: Vec<i64> = (0..lead as i64).collect();
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
        self.sum_dim(dims, true).reshape(shape)
    }

    /// The mean of all elements (`tensor.mean()`); float tensors only, as in PyTorch.
    pub fn mean(&self) -> Tensor {
        self.mean_impl(&[], false, "MeanBackward0")
    }

    /// The mean over some dims (`tensor.mean(dim, keepdim)`).
    pub fn mean_dim(&self, dims: impl IntList, keepdim: bool) -> Tensor {
        let dims = dims_of(dims);
        self.mean_impl(&dims, keepdim, "MeanBackward1")
    }

    fn mean_impl(&self, dims: &[i64], keepdim: bool, name: &'static str) -> Tensor {
        check_float_reduce(self, "mean");
        let plan = ReducePlan::new(self.shape(), dims, keepdim);
        let n = plan.count as f64;
        let sum = Tensor::from_cpu(sum_storage(self, &plan), plan.out_shape.clone());
        let out = super::binary::scalar_raw(
            &sum,
            crate::Scalar::Float(n),
            super::binary::BinOp::Div,
            false,
        );
        record(out, name, &[self], |_| MeanBackward { plan })
    }

    /// The largest element, as a 0-dim tensor (`tensor.max()`).
    pub fn max(&self) -> Tensor {
        self.extreme_all(true)
    }

    /// The smallest element, as a 0-dim tensor (`tensor.min()`).
    pub fn min(&self) -> Tensor {
        self.extreme_all(false)
    }

    fn extreme_all(&self, max: bool) -> Tensor {
        let plan = ReducePlan::new(self.shape(), &[], false);
        let (values, _) = extreme_rows(self, &plan, max);
        let name = if max { "MaxBackward1" } else { "MinBackward1" };
        record(values, name, &[self], |o| EvenlyBackward {
            plan,
            x: SavedTensor::input(self),
            result: SavedTensor::output(o, name),
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
    pub fn max_dim(&self, dim: i64, keepdim: bool) -> (Tensor, Tensor) {
        self.extreme_dim(dim, keepdim, true)
    }

    /// The minimum over one dim: `(values, indices)` (`torch.min(t, dim, keepdim)`).
    pub fn min_dim(&self, dim: i64, keepdim: bool) -> (Tensor, Tensor) {
        self.extreme_dim(dim, keepdim, false)
    }

    fn extreme_dim(&self, dim: i64, keepdim: bool, max: bool) -> (Tensor, Tensor) {
        let plan = ReducePlan::single(self.shape(), dim, keepdim);
        let (values, indices) = extreme_rows(self, &plan, max);
        let d = plan.dims.first().copied().unwrap_or(0);
        let name = if max { "MaxBackward0" } else { "MinBackward0" };
        let idx = indices.clone();
        let values = record(values, name, &[self], |_| IndexReduceBackward {
            plan,
            dim: d,
            indices: idx,
        });
        (values, indices)
    }

    /// The maximum over dims, without indices (`torch.amax(t, dims, keepdim)`).
    pub fn amax(&self, dims: impl IntList, keepdim: bool) -> Tensor {
        self.amax_amin(&dims_of(dims), keepdim, true)
    }

    /// The minimum over dims, without indices (`torch.amin(t, dims, keepdim)`).
    pub fn amin(&self, dims: impl IntList, keepdim: bool) -> Tensor {
        self.amax_amin(&dims_of(dims), keepdim, false)
    }

    fn amax_amin(&self, dims: &[i64], keepdim: bool, max: bool) -> Tensor {
        let plan = ReducePlan::new(self.shape(), dims, keepdim);
        let (values, _) = extreme_rows(self, &plan, max);
        let name = if max {
            "AmaxBackward0"
        } else {
            "AminBackward0"
        };
        record(values, name, &[self], |o| EvenlyBackward {
            plan,
            x: SavedTensor::input(self),
            result: SavedTensor::output(o, name),
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
    pub fn argmax(&self, dim: Option<i64>, keepdim: bool) -> Tensor {
        self.arg_extreme(dim, keepdim, true)
    }

    /// Index of the minimum (`torch.argmin`).
    pub fn argmin(&self, dim: Option<i64>, keepdim: bool) -> Tensor {
        self.arg_extreme(dim, keepdim, false)
    }

    fn arg_extreme(&self, dim: Option<i64>, keepdim: bool, max: bool) -> Tensor {
        match dim {
            Some(d) => {
                let plan = ReducePlan::single(self.shape(), d, keepdim);
                extreme_rows(self, &plan, max).1
            }
            None => {
                let flat = self.reshape([-1]);
                let plan = ReducePlan::new(flat.shape(), &[], false);
                let idx = extreme_rows(&flat, &plan, max).1;
                if keepdim {
                    idx.reshape(vec![1usize; self.ndim()])
                } else {
                    idx
                }
            }
        }
    }

    /// Variance of all elements, unbiased (divided by N - 1) or not (`torch.var(t, unbiased)`).
    pub fn var(&self, unbiased: bool) -> Tensor {
        self.var_correction(&[] as &[i64], if unbiased { 1.0 } else { 0.0 }, false)
    }

    /// Variance over dims (`torch.var(t, dim, unbiased, keepdim)`).
    pub fn var_dim(&self, dims: impl IntList, unbiased: bool, keepdim: bool) -> Tensor {
        self.var_correction(dims, if unbiased { 1.0 } else { 0.0 }, keepdim)
    }

    /// Variance over dims divided by `N - correction` (`torch.var(t, dim, correction=c)`);
    /// an empty dim list means all dims.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(t.var_correction([0], 0.0, false).item::<f32>(), 1.25);
    /// assert!((t.var(true).item::<f32>() - 1.6667).abs() < 1e-4);
    /// ```
    pub fn var_correction(&self, dims: impl IntList, correction: f64, keepdim: bool) -> Tensor {
        self.var_std(&dims_of(dims), correction, keepdim, false)
    }

    /// Standard deviation of all elements (`torch.std(t, unbiased)`).
    pub fn std(&self, unbiased: bool) -> Tensor {
        self.std_correction(&[] as &[i64], if unbiased { 1.0 } else { 0.0 }, false)
    }

    /// Standard deviation over dims (`torch.std(t, dim, unbiased, keepdim)`).
    pub fn std_dim(&self, dims: impl IntList, unbiased: bool, keepdim: bool) -> Tensor {
        self.std_correction(dims, if unbiased { 1.0 } else { 0.0 }, keepdim)
    }

    /// Standard deviation over dims with a correction (`torch.std(t, dim, correction=c)`).
    pub fn std_correction(&self, dims: impl IntList, correction: f64, keepdim: bool) -> Tensor {
        self.var_std(&dims_of(dims), correction, keepdim, true)
    }

    fn var_std(&self, dims: &[i64], correction: f64, keepdim: bool, std: bool) -> Tensor {
        check_float_reduce(self, if std { "std" } else { "var" });
        let plan = ReducePlan::new(self.shape(), dims, keepdim);
        let out = float_rows(
            self,
            &plan,
            |r| {
                let v = k::mean_var(r, correction).1;
                if std { v.sqrt() } else { v }
            },
            |r| {
                let v = k::mean_var(r, correction).1;
                if std { v.sqrt() } else { v }
            },
        );
        let name = if std { "StdBackward0" } else { "VarBackward0" };
        record(out, name, &[self], |o| VarBackward {
            plan,
            x: SavedTensor::input(self),
            correction,
            std: std.then(|| SavedTensor::output(o, name)),
        })
    }

    /// `log(sum(exp(x)))` over dims, computed stably (`torch.logsumexp`).
    pub fn logsumexp(&self, dims: impl IntList, keepdim: bool) -> Tensor {
        let t = cast_raw(self, float_type(self.dtype()));
        let plan = ReducePlan::new(t.shape(), &dims_of(dims), keepdim);
        let out = float_rows(&t, &plan, k::logsumexp::<f32>, k::logsumexp::<f64>);
        record(out, "LogsumexpBackward0", &[self], |o| LogsumexpBackward {
            plan,
            x: SavedTensor::input(self),
            result: SavedTensor::output(o, "LogsumexpBackward0"),
        })
    }
}
