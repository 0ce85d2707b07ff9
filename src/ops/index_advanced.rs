//! Advanced indexing as PyTorch writes it: `a[i]`, `a[i, j]`, `a[:, i]`, `a[m]` with int64 index
//! tensors and bool masks (`aten::index`), `index_put`/`index_put_`, `scatter_reduce` and
//! `masked_scatter`.
//!
//! Indexing and `index_put` compose differentiable ops (a permute putting the indexed dims first,
//! a reshape flattening them, then `index_select`, `index_add` or `scatter` along dim 0 with one
//! linear index), so their gradients (PyTorch's `index_backward`, `index_put` with
//! `accumulate=True` into zeros) and second-order gradients come from those ops' nodes.
//! `scatter_reduce` computes its forward on the host and has its own node with the formulas of
//! derivatives.yaml's `scatter_reduce_backward`, written with differentiable ops.

use crate::autograd::{SavedTensor, backward_fn, no_grad, record};
use crate::dtype::DType;
use crate::shape::wrap_dim;
use crate::tensor::Tensor;

/// One advanced-indexing expression, resolved: the indexed dims first, flattened to one linear
/// index.
struct Plan {
    /// Permutation putting the indexed dims first (in order), then the others.
    perm: Vec<usize>,
    /// Product of the indexed dims' sizes.
    flat: usize,
    /// Linear positions in the flattened indexed dims, one per element of the broadcast index
    /// shape (row-major).
    lin: Vec<i64>,
    /// Broadcast shape of the index tensors.
    bshape: Vec<usize>,
    /// Sizes of the dims that are not indexed, in order.
    rest: Vec<usize>,
    /// Where the broadcast dims go in the result: before the first indexed dim when the indexed
    /// dims are adjacent, else at the front.
    pos: usize,
}

impl Plan {
    /// Shape of `a[indices]`.
    fn result_shape(&self) -> Vec<usize> {
        let mut s = self.rest[..self.pos].to_vec();
        s.extend_from_slice(&self.bshape);
        s.extend_from_slice(&self.rest[self.pos..]);
        s
    }

    /// The linear index as a 1-D int64 tensor.
    fn lin_tensor(&self) -> Tensor {
        Tensor::from_vec(self.lin.clone(), [self.lin.len()])
    }

    /// `[N, rest...]`: the flattened layout the kernels work on.
    fn flat_rows(&self, rows: usize) -> Vec<usize> {
        let mut s = vec![rows];
        s.extend_from_slice(&self.rest);
        s
    }

    /// Permutation of a result-shaped tensor that puts the broadcast dims first.
    fn to_front(&self) -> Vec<usize> {
        let (nb, p) = (self.bshape.len(), self.pos);
        let mut v: Vec<usize> = (p..p + nb).collect();
        v.extend(0..p);
        v.extend(p + nb..nb + self.rest.len());
        v
    }

    /// Permutation of a `[B..., rest...]` tensor that puts the broadcast dims at `pos`.
    fn front_to_pos(&self) -> Vec<usize> {
        let (nb, p) = (self.bshape.len(), self.pos);
        let mut v: Vec<usize> = (nb..nb + p).collect();
        v.extend(0..nb);
        v.extend(nb + p..nb + self.rest.len());
        v
    }
}

/// The columns of `mask.nonzero()`, one int64 tensor per mask dim.
fn nonzero_columns(mask: &Tensor) -> Vec<Tensor> {
    let dims = mask.dims().to_vec();
    let values = mask.to_vec::<bool>();
    let mut cols = vec![Vec::new(); dims.len()];
    for (flat, _) in values.iter().enumerate().filter(|&(_, &b)| b) {
        let mut rem = flat;
        for d in (0..dims.len()).rev() {
            cols[d].push((rem % dims[d]) as i64);
            rem /= dims[d];
        }
    }
    cols.into_iter()
        .map(|c| {
            let n = c.len();
            Tensor::from_vec(c, [n])
        })
        .collect()
}

/// The broadcast of several shapes, `None` when they do not broadcast.
fn broadcast_all(shapes: &[&[usize]]) -> Option<Vec<usize>> {
    let n = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![1usize; n];
    for s in shapes {
        for (k, &d) in s.iter().enumerate() {
            let o = &mut out[n - s.len() + k];
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                return None;
            }
        }
    }
    Some(out)
}

/// Inverse of a permutation.
fn inverse(perm: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inv[p] = i;
    }
    inv
}

/// Resolves `indices` against `t` with PyTorch's rules and messages: bool masks become their
/// nonzero columns, missing trailing entries mean `:`, index tensors broadcast together.
#[track_caller]
fn plan(t: &Tensor, indices: &[Option<Tensor>]) -> Plan {
    let nd = t.ndim();
    let mut idx: Vec<Option<Tensor>> = Vec::new();
    for i in indices {
        match i {
            Some(m) if m.dtype() == DType::Bool => {
                if m.ndim() == 0 {
                    panic!("indexing with a 0-dim bool tensor is not supported");
                }
                let start = idx.len();
                for j in 0..m.ndim() {
                    let src = start + j;
                    if src >= nd {
                        panic!("too many indices for tensor of dimension {nd}");
                    }
                    if m.dims()[j] != t.dims()[src] {
                        panic!(
                            "The shape of the mask {:?} at index {j} does not match the shape of the indexed tensor {:?} at index {src}",
                            m.dims(),
                            t.dims()
                        );
                    }
                }
                idx.extend(nonzero_columns(m).into_iter().map(Some));
            }
            Some(x) if x.dtype() == DType::I64 => idx.push(Some(x.clone())),
            Some(_) => panic!("tensors used as indices must be long, int, byte or bool tensors"),
            None => idx.push(None),
        }
    }
    if idx.len() > nd {
        panic!("too many indices for tensor of dimension {nd}");
    }
    idx.resize(nd, None);
    let adv: Vec<usize> = (0..nd).filter(|&d| idx[d].is_some()).collect();
    let rest_dims: Vec<usize> = (0..nd).filter(|&d| idx[d].is_none()).collect();
    let shapes: Vec<&[usize]> = adv
        .iter()
        .map(|&d| idx[d].as_ref().unwrap().dims())
        .collect();
    let bshape = broadcast_all(&shapes).unwrap_or_else(|| {
        let list: Vec<String> = shapes.iter().map(|s| format!("{s:?}")).collect();
        panic!(
            "shape mismatch: indexing tensors could not be broadcast together with shapes {}",
            list.join(", ")
        )
    });
    let n: usize = bshape.iter().product();
    let mut lin = vec![0i64; if adv.is_empty() { 0 } else { n }];
    for &d in &adv {
        let size = t.dims()[d];
        let values = idx[d].as_ref().unwrap().expand(&bshape).to_vec::<i64>();
        let s = size as i64;
        if let Some(&bad) = values.iter().find(|&&i| i < -s || i >= s) {
            panic!("index {bad} is out of bounds for dimension {d} with size {size}");
        }
        for (l, &v) in lin.iter_mut().zip(&values) {
            *l = *l * s + if v < 0 { v + s } else { v };
        }
    }
    let adjacent = !adv.is_empty() && adv[adv.len() - 1] - adv[0] + 1 == adv.len();
    let mut perm = adv.clone();
    perm.extend(&rest_dims);
    Plan {
        perm,
        flat: adv.iter().map(|&d| t.dims()[d]).product(),
        lin,
        bshape,
        rest: rest_dims.iter().map(|&d| t.dims()[d]).collect(),
        pos: if adjacent { adv[0] } else { 0 },
    }
}

/// `self` with the indexed dims first and flattened: `[flat, rest...]`.
fn flatten_indexed(t: &Tensor, p: &Plan) -> Tensor {
    t.permute(p.perm.clone()).reshape(p.flat_rows(p.flat))
}

/// The inverse of [`flatten_indexed`].
fn unflatten_indexed(flat: &Tensor, t: &Tensor, p: &Plan) -> Tensor {
    let permuted: Vec<usize> = p.perm.iter().map(|&d| t.dims()[d]).collect();
    flat.reshape(permuted)
        .permute(inverse(&p.perm))
        .contiguous()
}

impl Tensor {
    /// Advanced indexing with index tensors, as `a[i]`, `a[i, j]`, `a[:, i]` or `a[m]` do in
    /// PyTorch (`aten::index`): each entry is an int64 index tensor, a bool mask (standing for
    /// its `nonzero()` columns over as many dims as it has) or `None` (a full slice `:`); dims
    /// past the entries are kept whole. The index tensors broadcast together; the result has
    /// their broadcast shape in place of the indexed dims when those are adjacent, and at the
    /// front when a slice separates them. Differentiable (the gradient is `index_put` with
    /// `accumulate=true` into zeros).
    ///
    /// ```
    /// use flambeau::{tensor, Tensor};
    /// let a = Tensor::arange(0, 6, 1).reshape([2, 3]);
    /// assert_eq!(a.index_tensors(&[Some(tensor!([1, 0]))]).to_vec::<i64>(), vec![3, 4, 5, 0, 1, 2]);
    /// let pts = a.index_tensors(&[Some(tensor!([0, 1])), Some(tensor!([2, 0]))]);
    /// assert_eq!(pts.to_vec::<i64>(), vec![2, 3]);
    /// let cols = a.index_tensors(&[None, Some(tensor!([2]))]);
    /// assert_eq!(cols.dims(), &[2, 1]);
    /// let m = a.gt(2);
    /// assert_eq!(a.index_tensors(&[Some(m)]).to_vec::<i64>(), vec![3, 4, 5]);
    /// ```
    #[track_caller]
    pub fn index_tensors(&self, indices: &[Option<Tensor>]) -> Tensor {
        let p = plan(self, indices);
        if p.perm.len() == p.rest.len() {
            return self.view(self.dims().to_vec());
        }
        let rows = flatten_indexed(self, &p).index_select(0, &p.lin_tensor());
        let mut front = p.bshape.clone();
        front.extend_from_slice(&p.rest);
        let out = rows.reshape(front);
        if p.pos == 0 {
            out
        } else {
            out.permute(p.front_to_pos()).contiguous()
        }
    }

    /// Boolean-mask indexing `a[mask]`: the elements (or trailing slices) where `mask` is true;
    /// the mask's shape must match the leading dims of `self`. Same as
    /// [`index_tensors`](Tensor::index_tensors) with one mask entry.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let a = tensor!([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(a.index_mask(&tensor!([false, true])).to_vec::<f32>(), vec![3.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn index_mask(&self, mask: &Tensor) -> Tensor {
        if mask.dtype() != DType::Bool {
            panic!(
                "index_mask expects a bool mask, got dtype {}",
                mask.dtype().scalar_name()
            );
        }
        self.index_tensors(&[Some(mask.clone())])
    }

    /// A copy with `values` written at `self[indices]` (`tensor.index_put(indices, values,
    /// accumulate)`); `indices` as for [`index_tensors`](Tensor::index_tensors), `values`
    /// broadcasts to the indexed shape and must have `self`'s dtype. With `accumulate` the values
    /// are added, duplicates included; without, a duplicated position takes one of its values.
    /// Differentiable in `self` (zero where written unless accumulating) and `values`
    /// (`grad[indices]` summed to the values' shape).
    ///
    /// ```
    /// use flambeau::{tensor, Tensor};
    /// let a = Tensor::zeros([3]);
    /// let i = tensor!([0, 2, 0]);
    /// let v = tensor!([1.0, 2.0, 3.0]);
    /// assert_eq!(a.index_put(&[Some(i.clone())], &v, true).to_vec::<f32>(), vec![4.0, 0.0, 2.0]);
    /// let b = a.index_put(&[Some(tensor!([1]))], &tensor!(5.0), false);
    /// assert_eq!(b.to_vec::<f32>(), vec![0.0, 5.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn index_put(
        &self,
        indices: &[Option<Tensor>],
        values: &Tensor,
        accumulate: bool,
    ) -> Tensor {
        if values.dtype() != self.dtype() {
            panic!(
                "Index put requires the source and destination dtypes match, got {} for the destination and {} for the source.",
                self.dtype().scalar_name(),
                values.dtype().scalar_name()
            );
        }
        let p = plan(self, indices);
        let target = p.result_shape();
        if broadcast_all(&[&target, values.dims()]).as_deref() != Some(target.as_slice()) {
            panic!(
                "shape mismatch: value tensor of shape {:?} cannot be broadcast to indexing result of shape {:?}",
                values.dims(),
                target
            );
        }
        if p.perm.len() == p.rest.len() {
            // `a[...] = v` with no index tensor: every element is written.
            let v = values.expand(self.dims());
            return if accumulate {
                self + &v
            } else {
                &(self * 0.0) + &v
            };
        }
        let n = p.lin.len();
        let v = values
            .expand(&target)
            .permute(p.to_front())
            .reshape(p.flat_rows(n));
        let flat = flatten_indexed(self, &p);
        let lin = p.lin_tensor();
        let written = if accumulate {
            flat.index_add(0, &lin, &v)
        } else {
            let mut col = vec![n];
            col.extend(std::iter::repeat_n(1, p.rest.len()));
            let idx = lin.reshape(col).expand(p.flat_rows(n)).contiguous();
            flat.scatter(0, &idx, &v)
        };
        unflatten_indexed(&written, self, &p)
    }

    /// In-place [`index_put`](Tensor::index_put) (`tensor.index_put_(indices, values,
    /// accumulate)`, `a[i] = v`, `a[i] += v` with `accumulate`); bumps the version counter, so a
    /// backward that saved the old values fails as PyTorch's does.
    ///
    /// ```
    /// use flambeau::{tensor, Tensor};
    /// let a = Tensor::zeros([2, 2]);
    /// a.index_put_(&[Some(tensor!([1]))], &tensor!([7.0, 8.0]), false);
    /// assert_eq!(a.to_vec::<f32>(), vec![0.0, 0.0, 7.0, 8.0]);
    /// ```
    #[track_caller]
    pub fn index_put_(
        &self,
        indices: &[Option<Tensor>],
        values: &Tensor,
        accumulate: bool,
    ) -> Tensor {
        if !super::inplace::tracked(self, &[values]) {
            let r = no_grad(|| self.index_put(indices, values, accumulate));
            self.copy_raw(&r);
            return self.clone();
        }
        self.inplace_tracked(|snap| snap.index_put(indices, values, accumulate))
    }

    /// A copy with the elements of `source`, taken in order, written where `mask` is true
    /// (`tensor.masked_scatter(mask, source)`); the mask broadcasts to `self`'s shape and
    /// `source` needs at least as many elements as the mask has true values. Differentiable:
    /// `self` gets the gradient where the mask is false, `source`'s first elements the gradient
    /// at the masked positions (the rest zero).
    ///
    /// ```
    /// use flambeau::{tensor, Tensor};
    /// let a = Tensor::zeros([4]);
    /// let m = tensor!([true, false, false, true]);
    /// let out = a.masked_scatter(&m, &tensor!([1.0, 2.0, 3.0]));
    /// assert_eq!(out.to_vec::<f32>(), vec![1.0, 0.0, 0.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn masked_scatter(&self, mask: &Tensor, source: &Tensor) -> Tensor {
        if mask.dtype() != DType::Bool {
            panic!(
                "masked_scatter_ only supports boolean masks, but got mask with dtype {}",
                mask.dtype().scalar_name()
            );
        }
        if source.dtype() != self.dtype() {
            panic!(
                "masked_scatter: expected self and source to have same dtypes but got {} and {}",
                self.dtype().scalar_name(),
                source.dtype().scalar_name()
            );
        }
        let m = mask.expand(self.dims()).to_vec::<bool>();
        let positions: Vec<i64> = m
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b)
            .map(|(i, _)| i as i64)
            .collect();
        let n = positions.len();
        if source.numel() < n {
            panic!("Number of elements of source < number of ones in mask");
        }
        let taken = source.reshape([-1]).narrow(0, 0, n);
        self.reshape([-1])
            .scatter(0, &Tensor::from_vec(positions, [n]), &taken)
            .reshape(self.dims())
    }

    /// Reduces `src` into a copy of `self` at `index` along `dim`
    /// (`torch.scatter_reduce(input, dim, index, src, reduce, include_self=...)`): `reduce` is
    /// `"sum"`, `"prod"`, `"mean"`, `"amax"` or `"amin"`; with `include_self` (PyTorch's default
    /// `True`) the values of `self` take part, otherwise a scattered-to position is the reduction
    /// of its `src` values alone. Differentiable as derivatives.yaml's `scatter_reduce_backward`
    /// (for `amax`/`amin` the gradient is shared evenly among the tied maxima or minima).
    ///
    /// ```
    /// use flambeau::{tensor, Tensor};
    /// let a = tensor!([0.0, 5.0]);
    /// let i = tensor!([0, 0, 1]);
    /// let s = tensor!([2.0, 3.0, 4.0]);
    /// assert_eq!(a.scatter_reduce(0, &i, &s, "amax", true).to_vec::<f32>(), vec![3.0, 5.0]);
    /// assert_eq!(a.scatter_reduce(0, &i, &s, "sum", false).to_vec::<f32>(), vec![5.0, 4.0]);
    /// assert_eq!(a.scatter_reduce(0, &i, &s, "mean", true).to_vec::<f32>(), vec![5.0 / 3.0, 4.5]);
    /// ```
    #[track_caller]
    pub fn scatter_reduce(
        &self,
        dim: i64,
        index: &Tensor,
        src: &Tensor,
        reduce: &str,
        include_self: bool,
    ) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let op = Reduce::parse(reduce);
        let out = scatter_reduce_raw(self, d, index, src, op, include_self);
        record(out, &[self, src], |out| ScatterReduceBackward0 {
            dim: d,
            index: index.clone(),
            op,
            include_self,
            this: SavedTensor::input(self),
            src: SavedTensor::input(src),
            result: SavedTensor::output(out),
        })
    }
}

/// The reductions of `scatter_reduce`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Reduce {
    Sum,
    Prod,
    Mean,
    Amax,
    Amin,
}

impl Reduce {
    #[track_caller]
    fn parse(s: &str) -> Reduce {
        match s {
            "sum" => Reduce::Sum,
            "prod" => Reduce::Prod,
            "mean" => Reduce::Mean,
            "amax" => Reduce::Amax,
            "amin" => Reduce::Amin,
            other => {
                panic!("reduce argument must be either sum, prod, mean, amax or amin, got {other}")
            }
        }
    }
}

/// `scatter_reduce` without autograd, computed on the host in float64.
#[track_caller]
fn scatter_reduce_raw(
    this: &Tensor,
    dim: usize,
    index: &Tensor,
    src: &Tensor,
    op: Reduce,
    include_self: bool,
) -> Tensor {
    if index.dtype() != DType::I64 {
        panic!("scatter_reduce(): Expected dtype int64 for index");
    }
    if src.dtype() != this.dtype() {
        panic!(
            "scatter_reduce(): Expected self.dtype to be equal to src.dtype, got {} and {}",
            this.dtype().scalar_name(),
            src.dtype().scalar_name()
        );
    }
    let nd = this.ndim();
    if index.ndim() != nd || src.ndim() != nd {
        panic!("Index tensor must have the same number of dimensions as self tensor");
    }
    for k in 0..nd {
        if index.dims()[k] > src.dims()[k] || (k != dim && index.dims()[k] > this.dims()[k]) {
            panic!(
                "Expected index {:?} to be smaller than self {:?} apart from dimension {dim} and to be smaller size than src {:?}",
                index.dims(),
                this.dims(),
                src.dims()
            );
        }
    }
    let size = this.dims()[dim];
    let idx = index.to_vec::<i64>();
    if let Some(&bad) = idx
        .iter()
        .find(|&&i| i < -(size as i64) || i >= size as i64)
    {
        panic!("index {bad} is out of bounds for dimension {dim} with size {size}");
    }
    let mut out = this.to_vec::<f64>();
    let sv = src.to_vec::<f64>();
    let mut count = vec![if include_self { 1usize } else { 0 }; out.len()];
    let strides = |dims: &[usize]| {
        let mut s = vec![1usize; dims.len()];
        for k in (0..dims.len().saturating_sub(1)).rev() {
            s[k] = s[k + 1] * dims[k + 1];
        }
        s
    };
    let (os, ss) = (strides(this.dims()), strides(src.dims()));
    let idims = index.dims().to_vec();
    let mut pos = vec![0usize; nd];
    for &iv in &idx {
        let target = if iv < 0 { iv + size as i64 } else { iv } as usize;
        let (mut o, mut s) = (0, 0);
        for k in 0..nd {
            o += os[k] * if k == dim { target } else { pos[k] };
            s += ss[k] * pos[k];
        }
        let v = sv[s];
        out[o] = if count[o] == 0 {
            v
        } else {
            match op {
                Reduce::Sum | Reduce::Mean => out[o] + v,
                Reduce::Prod => out[o] * v,
                Reduce::Amax => {
                    if v.is_nan() || v > out[o] {
                        v
                    } else {
                        out[o]
                    }
                }
                Reduce::Amin => {
                    if v.is_nan() || v < out[o] {
                        v
                    } else {
                        out[o]
                    }
                }
            }
        };
        count[o] += 1;
        for k in (0..nd).rev() {
            pos[k] += 1;
            if pos[k] < idims[k] {
                break;
            }
            pos[k] = 0;
        }
    }
    if op == Reduce::Mean {
        let float = this.dtype().is_float();
        for (x, &c) in out.iter_mut().zip(&count) {
            if c > 1 {
                *x /= c as f64;
                if !float {
                    *x = x.floor();
                }
            }
        }
    }
    Tensor::from_vec(out, this.dims()).to_dtype(this.dtype())
}

/// Ones at the positions `index` scatters to along `dim`, zeros elsewhere (bool, `self`-shaped).
fn scattered_positions(like: &Tensor, dim: usize, index: &Tensor) -> Tensor {
    Tensor::zeros_dtype(like.dims(), like.dtype())
        .scatter(
            dim as i64,
            index,
            &Tensor::ones_dtype(index.dims(), like.dtype()),
        )
        .gt(0.0)
}

backward_fn! {
    /// derivatives.yaml's `scatter_reduce_backward`, in differentiable ops.
    struct ScatterReduceBackward0 {
        dim: usize,
        index: Tensor,
        op: Reduce,
        include_self: bool,
        this: SavedTensor,
        src: SavedTensor,
        result: SavedTensor
    }
    saved [this, src, result]
    fn backward(&mut self, grad, needs) {
        let (dim, index) = (self.dim as i64, &self.index);
        let (this, src, result) = (self.this.get(), self.src.get(), self.result.get());
        let (grad_self, grad_src) = match self.op {
            Reduce::Sum => (grad.clone(), grad.gather(dim, index)),
            Reduce::Mean => {
                let base = if self.include_self {
                    Tensor::ones_like(grad)
                } else {
                    Tensor::zeros_like(grad)
                };
                let n = base.scatter_add(dim, index, &Tensor::ones_dtype(index.dims(), grad.dtype()));
                let n = n.masked_fill(&n.eq(0.0), 1.0);
                let g = grad / &n;
                (g.clone(), g.gather(dim, index))
            }
            Reduce::Amax | Reduce::Amin => {
                let (this, src, result) = (this.detach(), src.detach(), result.detach());
                let value = result.gather(dim, index);
                let self_is = this.eq(&result).to_dtype(grad.dtype());
                let src_is = src.eq(&value).to_dtype(grad.dtype());
                let n = self_is.scatter_add(dim, index, &src_is);
                let g = grad / &n;
                (&self_is * &g, &src_is * &g.gather(dim, index))
            }
            Reduce::Prod => {
                // The exclusive products, with zeros of `self` and `src` handled as PyTorch does.
                let masked_self = this.masked_fill(&this.eq(0.0), 1.0);
                let masked_self_result =
                    masked_self.scatter_reduce(dim, index, &src, "prod", self.include_self);
                let gs = grad * &masked_self_result / &masked_self;
                let src_zero = src.eq(0.0);
                let num_zeros = Tensor::zeros_like(grad)
                    .scatter_add(dim, index, &src_zero.to_dtype(grad.dtype()))
                    .gather(dim, index);
                let single_zero = src_zero.logical_and(&num_zeros.eq(1.0));
                let masked_src = src.masked_fill(&single_zero, 1.0);
                let masked_src_result =
                    this.scatter_reduce(dim, index, &masked_src, "prod", self.include_self);
                let via_zero = (grad * &masked_src_result).gather(dim, index);
                let plain = (grad * &result).gather(dim, index) / &src.masked_fill(&src_zero, 1.0);
                (gs, Tensor::where_(&single_zero, &via_zero, &plain))
            }
        };
        let grad_self = if self.include_self {
            grad_self
        } else {
            grad_self.masked_fill(&scattered_positions(grad, self.dim, index), 0.0)
        };
        smallvec::smallvec![needs[0].then_some(grad_self), needs[1].then_some(grad_src)]
    }
}
