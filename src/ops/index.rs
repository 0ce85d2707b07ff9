//! Indexing with index tensors and masks: `index_select`, `gather`, `scatter`, `scatter_add`,
//! `index_add`, `masked_fill`, `where_`.

use super::binary::TensorOrScalar;
use super::{cast_raw, result_type};
use crate::autograd::{SavedTensor, backward_fn, record};
use crate::dtype::{DType, Num};
use crate::kernels::cpu;
use crate::scalar::{Scalar, result_type_with_scalar};
use crate::shape::{
    Shape, broadcast_shapes, broadcast_strides, for_each_offset2, for_each_offset3, wrap_dim,
};
use crate::storage::{CpuStorage, StorageElement};
use crate::tensor::Tensor;

/// Reads an int64 index tensor, with PyTorch's dtype message.
fn indices(idx: &Tensor, op: &str) -> Vec<i64> {
    if idx.dtype() != DType::I64 {
        panic!("{op}(): Expected dtype int64 for index");
    }
    idx.to_vec::<i64>()
}

fn check_index(i: i64, size: usize, dim: usize) -> usize {
    let s = size as i64;
    if i < -s || i >= s {
        panic!("index {i} is out of bounds for dimension {dim} with size {size}");
    }
    if i < 0 { (i + s) as usize } else { i as usize }
}

/// `(outer, size, inner)` around `dim` for a row-major shape.
fn split_at(dims: &[usize], dim: usize) -> (usize, usize, usize) {
    let outer = dims[..dim].iter().product();
    let inner = dims[dim + 1..].iter().product();
    (outer, dims[dim], inner)
}

/// Dispatches a generic function over the storage's element type.
macro_rules! typed_storage {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
            CpuStorage::F32($v) => CpuStorage::F32($body),
            CpuStorage::F64($v) => CpuStorage::F64($body),
            CpuStorage::I64($v) => CpuStorage::I64($body),
            CpuStorage::Bool($v) => CpuStorage::Bool($body),
        }
    };
}

backward_fn! {
    struct IndexSelectBackward { shape: Shape, dim: usize, index: Tensor }
    saved []
    fn backward(&mut self, grad, needs) {
        let z = Tensor::zeros_dtype(self.shape.dims(), grad.dtype());
        smallvec::smallvec![Some(z.index_add(self.dim as i64, &self.index, grad))]
    }
}

backward_fn! {
    struct GatherBackward { shape: Shape, dim: usize, index: Tensor }
    saved []
    fn backward(&mut self, grad, needs) {
        let z = Tensor::zeros_dtype(self.shape.dims(), grad.dtype());
        smallvec::smallvec![Some(z.scatter_add(self.dim as i64, &self.index, grad))]
    }
}

backward_fn! {
    struct ScatterBackward { dim: usize, index: Tensor, add: bool }
    saved []
    fn backward(&mut self, grad, needs) {
        let gs = needs[0].then(|| {
            if self.add {
                grad.clone()
            } else {
                let z = Tensor::zeros_dtype(self.index.dims(), grad.dtype());
                grad.scatter(self.dim as i64, &self.index, &z)
            }
        });
        let gsrc = needs[1].then(|| grad.gather(self.dim as i64, &self.index));
        smallvec::smallvec![gs, gsrc]
    }
}

backward_fn! {
    struct MaskedFillBackward { shape: Shape, mask: Tensor }
    saved []
    fn backward(&mut self, grad, needs) {
        let g = grad.masked_fill(&self.mask, 0.0);
        smallvec::smallvec![Some(super::binary::reduce_grad(&g, &self.shape, grad.dtype()))]
    }
}

backward_fn! {
    struct WhereBackward { cond: SavedTensor, a: super::binary::InputMeta, b: super::binary::InputMeta }
    saved [cond]
    fn backward(&mut self, grad, needs) {
        let cond = self.cond.get();
        let ga = needs[0].then(|| self.a.reduce(&grad.masked_fill(&cond.logical_not(), 0.0)));
        let gb = needs[1].then(|| self.b.reduce(&grad.masked_fill(cond, 0.0)));
        smallvec::smallvec![ga, gb]
    }
}

/// Gathers `src[..., idx, ...]` along `dim` for every position of the index tensor.
fn gather_raw(src: &Tensor, dim: usize, index: &Tensor) -> Tensor {
    let idx = indices(index, "gather");
    let nd = src.ndim();
    if index.ndim() != nd {
        panic!("Index tensor must have the same number of dimensions as input tensor");
    }
    for d in 0..nd {
        if d != dim && index.dims()[d] > src.dims()[d] {
            panic!(
                "Size does not match at dimension {d} expected index {:?} to be smaller than self {:?} apart from dimension {dim}",
                index.dims(),
                src.dims()
            );
        }
    }
    let l = src.layout().clone();
    let size = l.dims()[dim];
    let stride = l.strides[dim];
    let mut s_strides = l.strides.clone();
    s_strides[dim] = 0;
    let icontig = index.shape().contiguous_strides();
    let storage = src.with_cpu(|s, _| {
        fn go<T: Copy>(v: &[T], dims: &[usize], s_strides: &[usize], off: usize, icontig: &[usize], idx: &[i64], stride: usize, size: usize, dim: usize) -> Vec<T> {
            let mut out = Vec::with_capacity(idx.len());
            for_each_offset2(dims, s_strides, off, icontig, 0, |so, io| {
                let i = check_index(idx[io], size, dim);
                out.push(v[so + i * stride]);
            });
            out
        }
        typed_storage!(s, v => go(v, index.dims(), &s_strides, l.offset, &icontig, &idx, stride, size, dim))
    });
    Tensor::from_cpu(storage, index.shape().clone())
}

/// `out = self.clone(); out[..., idx, ...] (+)= src` along `dim`.
fn scatter_raw(dst: &Tensor, dim: usize, index: &Tensor, src: &Tensor, add: bool) -> Tensor {
    let idx = indices(index, if add { "scatter_add" } else { "scatter" });
    let out = dst.clone_tensor_raw();
    let src = cast_raw(src, dst.dtype());
    let size = out.dims()[dim];
    let ostrides = out.shape().contiguous_strides();
    let stride = ostrides[dim];
    let mut o_strides = ostrides.clone();
    o_strides[dim] = 0;
    let icontig = index.shape().contiguous_strides();
    let sl = src.layout().clone();
    src.with_cpu(|ss, _| {
        out.with_cpu_mut(|os, _| {
            fn go<T: Num>(
                o: &mut [T],
                s: &[T],
                dims: &[usize],
                o_strides: &[usize],
                icontig: &[usize],
                s_strides: &[usize],
                s_off: usize,
                idx: &[i64],
                stride: usize,
                size: usize,
                dim: usize,
                add: bool,
            ) {
                for_each_offset3(
                    dims,
                    o_strides,
                    0,
                    icontig,
                    0,
                    s_strides,
                    s_off,
                    |oo, io, so| {
                        let i = check_index(idx[io], size, dim);
                        let p = oo + i * stride;
                        o[p] = if add { o[p] + s[so] } else { s[so] };
                    },
                );
            }
            match (os, ss) {
                (CpuStorage::F32(o), CpuStorage::F32(s)) => go(
                    o,
                    s,
                    index.dims(),
                    &o_strides,
                    &icontig,
                    &sl.strides,
                    sl.offset,
                    &idx,
                    stride,
                    size,
                    dim,
                    add,
                ),
                (CpuStorage::F64(o), CpuStorage::F64(s)) => go(
                    o,
                    s,
                    index.dims(),
                    &o_strides,
                    &icontig,
                    &sl.strides,
                    sl.offset,
                    &idx,
                    stride,
                    size,
                    dim,
                    add,
                ),
                (CpuStorage::I64(o), CpuStorage::I64(s)) => go(
                    o,
                    s,
                    index.dims(),
                    &o_strides,
                    &icontig,
                    &sl.strides,
                    sl.offset,
                    &idx,
                    stride,
                    size,
                    dim,
                    add,
                ),
                _ => panic!("scatter(): unsupported dtype {:?}", dst.dtype()),
            }
        })
    });
    out
}

fn index_select_raw(src: &Tensor, dim: usize, index: &Tensor) -> Tensor {
    if index.ndim() > 1 {
        panic!("index_select(): Index is supposed to be a vector");
    }
    let idx = indices(index, "index_select");
    let (outer, size, inner) = split_at(src.dims(), dim);
    let mut shape = src.dims().to_vec();
    shape[dim] = idx.len();
    let storage = src.with_cpu(|s, l| {
        fn go<T: Copy>(
            v: &[T],
            l: &crate::shape::Layout,
            idx: &[i64],
            outer: usize,
            size: usize,
            inner: usize,
            dim: usize,
        ) -> Vec<T> {
            let data = cpu::contiguous_cow(v, l);
            let mut out = Vec::with_capacity(outer * idx.len() * inner);
            for o in 0..outer {
                for &i in idx {
                    let i = check_index(i, size, dim);
                    let start = (o * size + i) * inner;
                    out.extend_from_slice(&data[start..start + inner]);
                }
            }
            out
        }
        typed_storage!(s, v => go(v, l, &idx, outer, size, inner, dim))
    });
    Tensor::from_cpu(storage, Shape::new(&shape))
}

fn index_add_raw(dst: &Tensor, dim: usize, index: &Tensor, src: &Tensor) -> Tensor {
    let idx = indices(index, "index_add");
    let out = dst.clone_tensor_raw();
    let (outer, size, inner) = split_at(out.dims(), dim);
    let src = cast_raw(src, dst.dtype()).contiguous_raw();
    src.with_cpu(|ss, _| {
        out.with_cpu_mut(|os, _| {
            fn go<T: Num>(
                o: &mut [T],
                s: &[T],
                idx: &[i64],
                outer: usize,
                size: usize,
                inner: usize,
                dim: usize,
            ) {
                let n = idx.len();
                for b in 0..outer {
                    for (k, &i) in idx.iter().enumerate() {
                        let i = check_index(i, size, dim);
                        let dst = (b * size + i) * inner;
                        let from = (b * n + k) * inner;
                        for j in 0..inner {
                            o[dst + j] += s[from + j];
                        }
                    }
                }
            }
            match (os, ss) {
                (CpuStorage::F32(o), CpuStorage::F32(s)) => go(o, s, &idx, outer, size, inner, dim),
                (CpuStorage::F64(o), CpuStorage::F64(s)) => go(o, s, &idx, outer, size, inner, dim),
                (CpuStorage::I64(o), CpuStorage::I64(s)) => go(o, s, &idx, outer, size, inner, dim),
                _ => panic!("index_add(): unsupported dtype {:?}", dst.dtype()),
            }
        })
    });
    out
}

/// `where(cond, a, b)` elementwise over the broadcast of the three shapes.
fn where_raw(cond: &Tensor, a: &Tensor, b: &Tensor) -> Tensor {
    if cond.dtype() != DType::Bool {
        panic!(
            "where expected condition to be a boolean tensor, but got a tensor with dtype {}",
            cond.dtype().scalar_name()
        );
    }
    let dtype = result_type(a, b);
    let (a, b) = (cast_raw(a, dtype), cast_raw(b, dtype));
    let shape = broadcast_shapes(broadcast_shapes(cond.dims(), a.dims()).dims(), b.dims());
    let dims = shape.dims();
    let (la, lb) = (a.layout().clone(), b.layout().clone());
    // The condition is read as a row-major bool vector.
    let c = cond.to_vec::<bool>();
    let sc = broadcast_strides(cond.dims(), &cond.shape().contiguous_strides(), dims);
    let sa = broadcast_strides(la.dims(), &la.strides, dims);
    let sb = broadcast_strides(lb.dims(), &lb.strides, dims);
    fn go<T: StorageElement>(
        c: &[bool],
        x: &[T],
        y: &[T],
        dims: &[usize],
        sc: &[usize],
        sa: &[usize],
        oa: usize,
        sb: &[usize],
        ob: usize,
    ) -> Vec<T> {
        let mut out = Vec::with_capacity(dims.iter().product());
        for_each_offset3(dims, sc, 0, sa, oa, sb, ob, |k, p, q| {
            out.push(if c[k] { x[p] } else { y[q] })
        });
        out
    }
    let storage = super::with_two_cpu(&a, &b, |s1, _, s2, _| match (s1, s2) {
        (CpuStorage::F32(x), CpuStorage::F32(y)) => {
            CpuStorage::F32(go(&c, x, y, dims, &sc, &sa, la.offset, &sb, lb.offset))
        }
        (CpuStorage::F64(x), CpuStorage::F64(y)) => {
            CpuStorage::F64(go(&c, x, y, dims, &sc, &sa, la.offset, &sb, lb.offset))
        }
        (CpuStorage::I64(x), CpuStorage::I64(y)) => {
            CpuStorage::I64(go(&c, x, y, dims, &sc, &sa, la.offset, &sb, lb.offset))
        }
        (CpuStorage::Bool(x), CpuStorage::Bool(y)) => {
            CpuStorage::Bool(go(&c, x, y, dims, &sc, &sa, la.offset, &sb, lb.offset))
        }
        _ => unreachable!("cast to one dtype"),
    });
    Tensor::from_cpu(storage, shape)
}

fn operand_tensor(x: TensorOrScalar, like: &Tensor) -> Tensor {
    match x {
        TensorOrScalar::Tensor(t) => t,
        TensorOrScalar::Scalar(s) => {
            Tensor::full_dtype((), s, result_type_with_scalar(like.dtype(), s))
        }
    }
}

impl Tensor {
    pub(crate) fn contiguous_raw(&self) -> Tensor {
        if self.is_contiguous() {
            self.clone()
        } else {
            self.clone_tensor_raw()
        }
    }

    /// The slices at positions `index` (a 1-D int64 tensor) along `dim` (`torch.index_select`).
    ///
    /// ```
    /// use flambeau::{tensor, Tensor};
    /// let a = Tensor::arange(0, 6, 1).reshape([3, 2]);
    /// assert_eq!(a.index_select(0, &tensor!([2, 0])).to_vec::<i64>(), vec![4, 5, 0, 1]);
    /// ```
    pub fn index_select(&self, dim: i64, index: &Tensor) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let out = index_select_raw(self, d, index);
        let idx = index.clone();
        record(out, "IndexSelectBackward0", &[self], |_| {
            IndexSelectBackward {
                shape: self.shape().clone(),
                dim: d,
                index: idx,
            }
        })
    }

    /// `out[i][j] = self[i][index[i][j]]` for `dim = 1`, and likewise for any dim (`torch.gather`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let a = tensor!([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(a.gather(1, &tensor!([[1, 1], [0, 1]])).to_vec::<f32>(), vec![2.0, 2.0, 3.0, 4.0]);
    /// ```
    pub fn gather(&self, dim: i64, index: &Tensor) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let out = gather_raw(self, d, index);
        let idx = index.clone();
        record(out, "GatherBackward0", &[self], |_| GatherBackward {
            shape: self.shape().clone(),
            dim: d,
            index: idx,
        })
    }

    /// A copy with `src` written at `index` along `dim` (`torch.scatter`).
    pub fn scatter(&self, dim: i64, index: &Tensor, src: &Tensor) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let out = scatter_raw(self, d, index, src, false);
        let idx = index.clone();
        record(out, "ScatterBackward0", &[self, src], |_| ScatterBackward {
            dim: d,
            index: idx,
            add: false,
        })
    }

    /// A copy with `src` added at `index` along `dim` (`torch.scatter_add`).
    ///
    /// ```
    /// use flambeau::{tensor, Tensor};
    /// let z = Tensor::zeros([3]);
    /// let out = z.scatter_add(0, &tensor!([0, 2, 0]), &tensor!([1.0, 2.0, 3.0]));
    /// assert_eq!(out.to_vec::<f32>(), vec![4.0, 0.0, 2.0]);
    /// ```
    pub fn scatter_add(&self, dim: i64, index: &Tensor, src: &Tensor) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let out = scatter_raw(self, d, index, src, true);
        let idx = index.clone();
        record(out, "ScatterAddBackward0", &[self, src], |_| {
            ScatterBackward {
                dim: d,
                index: idx,
                add: true,
            }
        })
    }

    /// A copy with the slices of `src` added at positions `index` along `dim` (`torch.index_add`).
    pub fn index_add(&self, dim: i64, index: &Tensor, src: &Tensor) -> Tensor {
        let d = wrap_dim(dim, self.ndim());
        let out = index_add_raw(self, d, index, src);
        let idx = index.clone();
        record(out, "IndexAddBackward0", &[self, src], |_| {
            IndexAddBackward { dim: d, index: idx }
        })
    }

    /// A copy with `value` where `mask` is true; the mask broadcasts (`torch.masked_fill`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let a = tensor!([1.0, 2.0, 3.0]);
    /// let m = tensor!([true, false, true]);
    /// assert_eq!(a.masked_fill(&m, -1.0).to_vec::<f32>(), vec![-1.0, 2.0, -1.0]);
    /// ```
    pub fn masked_fill(&self, mask: &Tensor, value: impl Into<Scalar>) -> Tensor {
        if mask.dtype() != DType::Bool {
            panic!(
                "masked_fill_ only supports boolean masks, but got mask with dtype {}",
                mask.dtype().scalar_name()
            );
        }
        let fill = Tensor::full_dtype((), value.into(), self.dtype());
        let out = where_raw(mask, &fill, self);
        let m = mask.clone();
        record(out, "MaskedFillBackward0", &[self], |_| {
            MaskedFillBackward {
                shape: self.shape().clone(),
                mask: m,
            }
        })
    }

    /// Elements of `a` where `cond` is true, else of `b`; all three broadcast (`torch.where`).
    /// Either value may be a number.
    ///
    /// ```
    /// use flambeau::{tensor, Tensor};
    /// let c = tensor!([true, false]);
    /// let out = Tensor::where_(&c, &tensor!([1.0, 2.0]), 0.0);
    /// assert_eq!(out.to_vec::<f32>(), vec![1.0, 0.0]);
    /// ```
    pub fn where_(
        cond: &Tensor,
        a: impl Into<TensorOrScalar>,
        b: impl Into<TensorOrScalar>,
    ) -> Tensor {
        let (a, b) = (a.into(), b.into());
        let (ta, tb) = match (&a, &b) {
            (TensorOrScalar::Tensor(x), _) => {
                let x = x.clone();
                (x.clone(), operand_tensor(b, &x))
            }
            (_, TensorOrScalar::Tensor(y)) => {
                let y = y.clone();
                (operand_tensor(a, &y), y)
            }
            (TensorOrScalar::Scalar(s1), TensorOrScalar::Scalar(s2)) => {
                let dtype = if s1.is_float() || s2.is_float() {
                    DType::F32
                } else {
                    s1.default_dtype()
                };
                (
                    Tensor::full_dtype((), *s1, dtype),
                    Tensor::full_dtype((), *s2, dtype),
                )
            }
        };
        let out = where_raw(cond, &ta, &tb);
        let (ma, mb) = (
            super::binary::InputMeta::of(&ta),
            super::binary::InputMeta::of(&tb),
        );
        record(out, "WhereBackward0", &[&ta, &tb], |_| WhereBackward {
            cond: SavedTensor::input(cond),
            a: ma,
            b: mb,
        })
    }

    /// The elements where `mask` is true, as a 1-D tensor (`torch.masked_select`).
    pub fn masked_select(&self, mask: &Tensor) -> Tensor {
        let shape = broadcast_shapes(self.dims(), mask.dims());
        let x = self.expand(shape.dims());
        let m = mask.expand(shape.dims()).to_vec::<bool>();
        let positions: Vec<i64> = m
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b)
            .map(|(i, _)| i as i64)
            .collect();
        let n = positions.len();
        x.reshape([-1])
            .index_select(0, &Tensor::from_vec(positions, [n]))
    }
}

backward_fn! {
    struct IndexAddBackward { dim: usize, index: Tensor }
    saved []
    fn backward(&mut self, grad, needs) {
        let gs = needs[0].then(|| grad.clone());
        let gsrc = needs[1].then(|| grad.index_select(self.dim as i64, &self.index));
        smallvec::smallvec![gs, gsrc]
    }
}
