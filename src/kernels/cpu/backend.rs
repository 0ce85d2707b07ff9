//! The CPU backend: [`BackendStorage`] for [`CpuStorage`]. Each method matches the dtype once,
//! outside the loop, and hands typed slices to the kernel family's generic function, so every
//! loop is monomorphised and can be vectorised.

use super::{
    alloc, conv, fused, gemm, index, loss, norm, pool, random, reduce as k, scan, softmax,
    sort::{self, SortedRows},
    strided,
};
use crate::backend::ops::{BinaryOp, CmpOp, UnaryOp};
use crate::backend::{
    AdamBuffers, AdamScalars, AvgDivisor, BackendStorage, Im2colGeometry, LayerNormBackwardArgs,
    MseReduce, PoolWindows,
};
use crate::dtype::{DType, Element, Float, convert, with_dtype};
use crate::random::generator::GeneratorState;
use crate::scalar::Scalar;
use crate::shape::{Layout, ReducePlan, Shape};
use crate::storage::{CpuStorage, StorageElement};

/// Binds the typed buffer of any dtype to `$v` and rewraps the result in the same dtype.
macro_rules! same_dtype {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
            CpuStorage::F32($v) => CpuStorage::F32($body),
            CpuStorage::F64($v) => CpuStorage::F64($body),
            CpuStorage::I64($v) => CpuStorage::I64($body),
            CpuStorage::Bool($v) => CpuStorage::Bool($body),
        }
    };
}

/// Binds the typed buffer to `$v` for its effect (or a result that is not a storage).
macro_rules! any_dtype {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
            CpuStorage::F32($v) => $body,
            CpuStorage::F64($v) => $body,
            CpuStorage::I64($v) => $body,
            CpuStorage::Bool($v) => $body,
        }
    };
}

/// PyTorch's message for a dtype a kernel family does not cover.
#[cold]
#[track_caller]
fn not_implemented(kernel: &str, dtype: DType) -> ! {
    panic!("\"{kernel}\" not implemented for '{}'", dtype.scalar_name())
}

/// The int64 slice of an index storage (indices are int64 by the time they reach a kernel).
fn indices(s: &CpuStorage) -> &[i64] {
    match s {
        CpuStorage::I64(v) => v,
        other => unreachable!("index of dtype {:?}", other.dtype()),
    }
}

/// A contiguous destination range (the fused updates and random fills take whole runs).
fn range(l: &Layout) -> std::ops::Range<usize> {
    l.contiguous_range()
        .expect("fused kernels take contiguous operands")
}

/// A fused update `y = k(y, a, b, value)` over contiguous operands of one float dtype.
#[allow(clippy::too_many_arguments)]
fn ternary_update(
    y: &mut CpuStorage,
    layout: &Layout,
    (a, la): (&CpuStorage, &Layout),
    (b, lb): (&CpuStorage, &Layout),
    value: f64,
    kernel: &str,
    k32: fn(&mut [f32], &[f32], &[f32], f32),
    k64: fn(&mut [f64], &[f64], &[f64], f64),
) {
    match (y, a, b) {
        (CpuStorage::F32(y), CpuStorage::F32(a), CpuStorage::F32(b)) => k32(
            &mut y[range(layout)],
            &a[range(la)],
            &b[range(lb)],
            value as f32,
        ),
        (CpuStorage::F64(y), CpuStorage::F64(a), CpuStorage::F64(b)) => {
            k64(&mut y[range(layout)], &a[range(la)], &b[range(lb)], value)
        }
        (y, _, _) => not_implemented(kernel, y.dtype()),
    }
}

/// The element order of a full reduction in ATen: memory order, i.e. dims sorted by decreasing
/// stride.
fn memory_order(l: &Layout) -> Layout {
    let mut order: Vec<usize> = (0..l.ndim()).collect();
    order.sort_by(|&a, &b| l.strides[b].cmp(&l.strides[a]));
    Layout {
        shape: Shape::new(&order.iter().map(|&d| l.dims()[d]).collect::<Vec<_>>()),
        strides: order.iter().map(|&d| l.strides[d]).collect(),
        offset: l.offset,
    }
}

impl BackendStorage for CpuStorage {
    fn dtype(&self) -> DType {
        CpuStorage::dtype(self)
    }

    fn len(&self) -> usize {
        CpuStorage::len(self)
    }

    #[track_caller]
    fn zeros(dtype: DType, n: usize) -> Self {
        with_dtype!(dtype, T => T::wrap(alloc::zeroed::<T>(n)))
    }

    #[track_caller]
    fn full(dtype: DType, n: usize, value: Scalar) -> Self {
        with_dtype!(dtype, T => T::wrap(alloc::filled(n, value.to_elem::<T>())))
    }

    fn from_vec<T: StorageElement>(values: Vec<T>) -> Self {
        T::wrap(values)
    }

    fn to_vec<T: Element>(&self, layout: &Layout) -> Vec<T> {
        any_dtype!(self, v => strided::map(v, layout, convert::<_, T>))
    }

    fn cast(&self, layout: &Layout, dtype: DType) -> Self {
        if self.dtype() == dtype {
            return same_dtype!(self, v => strided::to_contiguous_threaded(v, layout));
        }
        any_dtype!(self, v => with_dtype!(dtype, T => T::wrap(strided::map(v, layout, convert::<_, T>))))
    }

    fn copy_into(&mut self, dst: &Layout, src: &Self, src_layout: &Layout) {
        match (self, src) {
            (CpuStorage::F32(d), CpuStorage::F32(s)) => {
                strided::update_with(d, dst, s, src_layout, |_, y| y)
            }
            (CpuStorage::F64(d), CpuStorage::F64(s)) => {
                strided::update_with(d, dst, s, src_layout, |_, y| y)
            }
            (CpuStorage::I64(d), CpuStorage::I64(s)) => {
                strided::update_with(d, dst, s, src_layout, |_, y| y)
            }
            (CpuStorage::Bool(d), CpuStorage::Bool(s)) => {
                strided::update_with(d, dst, s, src_layout, |_, y| y)
            }
            _ => unreachable!("copy between dtypes: the source is cast first"),
        }
    }

    fn fill(&mut self, dst: &Layout, value: Scalar) {
        any_dtype!(self, v => {
            let x = value.to_elem();
            strided::update(v, dst, |_| x)
        })
    }

    fn unary<O: UnaryOp>(&self, op: O, layout: &Layout) -> Self {
        match self {
            CpuStorage::F32(v) => CpuStorage::F32(strided::map_runs(
                v,
                layout,
                |x| op.float(x),
                |r, out| op.f32_run(r, out),
            )),
            CpuStorage::F64(v) => CpuStorage::F64(strided::map_runs(
                v,
                layout,
                |x| op.float(x),
                |r, out| op.f64_run(r, out),
            )),
            CpuStorage::I64(v) => CpuStorage::I64(strided::map(v, layout, |x| op.int(x))),
            CpuStorage::Bool(v) => CpuStorage::Bool(strided::map(v, layout, |x| op.boolean(x))),
        }
    }

    fn unary_inplace<O: UnaryOp>(&mut self, op: O, layout: &Layout) {
        match self {
            CpuStorage::F32(v) => strided::update(v, layout, |x| op.float(x)),
            CpuStorage::F64(v) => strided::update(v, layout, |x| op.float(x)),
            CpuStorage::I64(v) => strided::update(v, layout, |x| op.int(x)),
            CpuStorage::Bool(v) => strided::update(v, layout, |x| op.boolean(x)),
        }
    }

    fn binary<O: BinaryOp>(
        &self,
        op: O,
        la: &Layout,
        rhs: &Self,
        lb: &Layout,
        shape: &Shape,
    ) -> Self {
        let dims = shape.dims();
        match (self, rhs) {
            (CpuStorage::F32(a), CpuStorage::F32(b)) => CpuStorage::F32(strided::zip_map(
                a,
                la,
                b,
                lb,
                dims,
                |x, y| op.float(x, y),
                |x, y, out| op.f32_run(x, y, out),
            )),
            (CpuStorage::F64(a), CpuStorage::F64(b)) => CpuStorage::F64(strided::zip_map(
                a,
                la,
                b,
                lb,
                dims,
                |x, y| op.float(x, y),
                |x, y, out| op.f64_run(x, y, out),
            )),
            (CpuStorage::I64(a), CpuStorage::I64(b)) => {
                CpuStorage::I64(strided::zip(a, la, b, lb, dims, |x, y| op.int(x, y)))
            }
            (CpuStorage::Bool(a), CpuStorage::Bool(b)) => {
                CpuStorage::Bool(strided::zip(a, la, b, lb, dims, |x, y| op.boolean(x, y)))
            }
            _ => unreachable!("binary operands are cast to one dtype first"),
        }
    }

    fn binary_scalar<O: BinaryOp>(&self, op: O, layout: &Layout, s: Scalar, reverse: bool) -> Self {
        fn go<T: Copy + Send + Sync>(
            v: &[T],
            l: &Layout,
            s: T,
            reverse: bool,
            f: impl Fn(T, T) -> T + Sync,
        ) -> Vec<T> {
            if reverse {
                strided::map(v, l, |x| f(s, x))
            } else {
                strided::map(v, l, |x| f(x, s))
            }
        }
        match self {
            CpuStorage::F32(v) => {
                CpuStorage::F32(go(v, layout, s.to_f64() as f32, reverse, |a, b| {
                    op.float(a, b)
                }))
            }
            CpuStorage::F64(v) => {
                CpuStorage::F64(go(v, layout, s.to_f64(), reverse, |a, b| op.float(a, b)))
            }
            CpuStorage::I64(v) => {
                CpuStorage::I64(go(v, layout, s.to_i64(), reverse, |a, b| op.int(a, b)))
            }
            CpuStorage::Bool(v) => {
                CpuStorage::Bool(go(v, layout, s.to_elem(), reverse, |a, b| op.boolean(a, b)))
            }
        }
    }

    fn binary_inplace<O: BinaryOp>(&mut self, op: O, layout: &Layout, rhs: &Self, rl: &Layout) {
        match (self, rhs) {
            (CpuStorage::F32(d), CpuStorage::F32(s)) => {
                strided::update_with(d, layout, s, rl, |x, y| op.float(x, y))
            }
            (CpuStorage::F64(d), CpuStorage::F64(s)) => {
                strided::update_with(d, layout, s, rl, |x, y| op.float(x, y))
            }
            (CpuStorage::I64(d), CpuStorage::I64(s)) => {
                strided::update_with(d, layout, s, rl, |x, y| op.int(x, y))
            }
            (CpuStorage::Bool(d), CpuStorage::Bool(s)) => {
                strided::update_with(d, layout, s, rl, |x, y| op.boolean(x, y))
            }
            _ => unreachable!("in-place operands are cast to the destination's dtype first"),
        }
    }

    fn binary_scalar_inplace<O: BinaryOp>(&mut self, op: O, layout: &Layout, s: Scalar) {
        match self {
            CpuStorage::F32(d) => {
                let s = s.to_f64() as f32;
                strided::update(d, layout, |x| op.float(x, s))
            }
            CpuStorage::F64(d) => {
                let s = s.to_f64();
                strided::update(d, layout, |x| op.float(x, s))
            }
            CpuStorage::I64(d) => {
                let s = s.to_i64();
                strided::update(d, layout, |x| op.int(x, s))
            }
            CpuStorage::Bool(d) => {
                let s = s.to_elem();
                strided::update(d, layout, |x| op.boolean(x, s))
            }
        }
    }

    fn compare<C: CmpOp>(
        &self,
        op: C,
        la: &Layout,
        rhs: &Self,
        lb: &Layout,
        shape: &Shape,
    ) -> Self {
        let dims = shape.dims();
        let out = match (self, rhs) {
            (CpuStorage::F32(a), CpuStorage::F32(b)) => {
                strided::zip(a, la, b, lb, dims, |x, y| op.cmp(x, y))
            }
            (CpuStorage::F64(a), CpuStorage::F64(b)) => {
                strided::zip(a, la, b, lb, dims, |x, y| op.cmp(x, y))
            }
            (CpuStorage::I64(a), CpuStorage::I64(b)) => {
                strided::zip(a, la, b, lb, dims, |x, y| op.cmp(x, y))
            }
            (CpuStorage::Bool(a), CpuStorage::Bool(b)) => {
                strided::zip(a, la, b, lb, dims, |x, y| op.cmp(x, y))
            }
            _ => unreachable!("comparison operands are cast to one dtype first"),
        };
        CpuStorage::Bool(out)
    }

    fn where_cond(
        &self,
        lc: &Layout,
        a: &Self,
        la: &Layout,
        b: &Self,
        lb: &Layout,
        shape: &Shape,
    ) -> Self {
        let CpuStorage::Bool(c) = self else {
            unreachable!("the condition is bool")
        };
        let dims = shape.dims();
        fn pick<T>(c: bool, x: T, y: T) -> T {
            if c { x } else { y }
        }
        match (a, b) {
            (CpuStorage::F32(x), CpuStorage::F32(y)) => {
                CpuStorage::F32(strided::zip3_map((c, lc), (x, la), (y, lb), dims, pick))
            }
            (CpuStorage::F64(x), CpuStorage::F64(y)) => {
                CpuStorage::F64(strided::zip3_map((c, lc), (x, la), (y, lb), dims, pick))
            }
            (CpuStorage::I64(x), CpuStorage::I64(y)) => {
                CpuStorage::I64(strided::zip3_map((c, lc), (x, la), (y, lb), dims, pick))
            }
            (CpuStorage::Bool(x), CpuStorage::Bool(y)) => {
                CpuStorage::Bool(strided::zip3_map((c, lc), (x, la), (y, lb), dims, pick))
            }
            _ => unreachable!("where operands are cast to one dtype first"),
        }
    }

    fn sum(&self, layout: &Layout, plan: &ReducePlan) -> Self {
        fn go<T: k::SumLanes + Send + Sync>(v: &[T], l: &Layout, plan: &ReducePlan) -> Vec<T> {
            if plan.outer() == 0 {
                return Vec::new();
            }
            let inner = plan.count;
            if inner == 0 {
                return alloc::zeroed(plan.outer());
            }
            // A contiguous tensor reduced over its leading dims is summed column-wise, in place,
            // as ATen's outer reduction does; everything else as contiguous rows.
            if let Some(r) = l.contiguous_range() {
                if plan.outer() > 1 && plan.reduces_leading() {
                    return k::sum_cols(&v[r], inner, plan.outer());
                }
                if plan.outer() == 1 {
                    // One row, already in order: what `sum_rows` would sum, without the plan's
                    // row layout.
                    return alloc::filled(1, k::sum(&v[r]));
                }
            }
            let rows = plan.rows_layout(l);
            if rows.contiguous_range().is_none() && inner >= 1024 {
                // Long strided rows: gathered one at a time instead of copied whole.
                return k::sum_strided_rows(v, &rows, rows.ndim() - plan.dims.len());
            }
            k::sum_rows(&strided::contiguous_cow(v, &rows), inner)
        }
        match self {
            CpuStorage::F32(v) => CpuStorage::F32(go(v, layout, plan)),
            CpuStorage::F64(v) => CpuStorage::F64(go(v, layout, plan)),
            CpuStorage::I64(v) => CpuStorage::I64(go(v, layout, plan)),
            // PyTorch sums bools as int64.
            CpuStorage::Bool(v) => {
                let ints = strided::map(v, layout, |b| b as i64);
                CpuStorage::I64(go(&ints, &Layout::contiguous(layout.shape.clone()), plan))
            }
        }
    }

    fn extreme(&self, layout: &Layout, plan: &ReducePlan, max: bool) -> (Self, Self) {
        let inner = plan.count;
        let mut idx = alloc::buffer(plan.outer());
        let values = same_dtype!(self, v => {
            let rows = strided::contiguous_cow(v, &plan.rows_layout(layout));
            let mut values = alloc::buffer(plan.outer());
            for row in rows.chunks(inner) {
                let (i, x) = k::arg_extreme(row, max);
                values.push(x);
                idx.push(i as i64);
            }
            values
        });
        (values, CpuStorage::I64(idx))
    }

    fn var(&self, layout: &Layout, plan: &ReducePlan, correction: f64, take_sqrt: bool) -> Self {
        fn go<T: Float + k::SumLanes>(
            v: &[T],
            l: &Layout,
            plan: &ReducePlan,
            correction: f64,
            take_sqrt: bool,
        ) -> Vec<T> {
            let finish = |var: f64| T::from_f64(if take_sqrt { var.sqrt() } else { var });
            if plan.outer() == 1 && plan.count > 0 {
                // A one-element result: ATen's `std_var_all_cpu`.
                let values = strided::contiguous_cow(v, &memory_order(l));
                return alloc::filled(1, finish(k::full_var(&values, correction)));
            }
            let rows = strided::contiguous_cow(v, &plan.rows_layout(l));
            let mut out = alloc::buffer(plan.outer());
            if plan.count == 0 {
                out.resize(plan.outer(), finish(f64::NAN));
                return out;
            }
            out.extend(
                rows.chunks(plan.count)
                    .map(|row| finish(k::welford_var(row.iter().copied(), correction))),
            );
            out
        }
        match self {
            CpuStorage::F32(v) => CpuStorage::F32(go(v, layout, plan, correction, take_sqrt)),
            CpuStorage::F64(v) => CpuStorage::F64(go(v, layout, plan, correction, take_sqrt)),
            other => not_implemented("std_var_cpu", other.dtype()),
        }
    }

    fn logsumexp(&self, layout: &Layout, plan: &ReducePlan) -> Self {
        fn go<T: Float>(v: &[T], l: &Layout, plan: &ReducePlan) -> Vec<T> {
            let rows = strided::contiguous_cow(v, &plan.rows_layout(l));
            let mut out = alloc::buffer(plan.outer());
            out.extend(rows.chunks(plan.count.max(1)).map(k::logsumexp));
            out
        }
        match self {
            CpuStorage::F32(v) => CpuStorage::F32(go(v, layout, plan)),
            CpuStorage::F64(v) => CpuStorage::F64(go(v, layout, plan)),
            other => not_implemented("logsumexp", other.dtype()),
        }
    }

    fn softmax_last(&self, layout: &Layout, log: bool, safe: bool) -> Self {
        if !log {
            return softmax::softmax_storage(self, layout, safe);
        }
        fn go<T: Float>(v: &[T], l: &Layout) -> Vec<T> {
            let n = l.dims().last().copied().unwrap_or(1);
            let x = strided::contiguous_cow(v, l);
            let mut out = alloc::zeroed(x.len());
            if n > 0 {
                for (xr, or) in x.chunks(n).zip(out.chunks_mut(n)) {
                    k::log_softmax_row(xr, or);
                }
            }
            out
        }
        match self {
            CpuStorage::F32(v) => CpuStorage::F32(go(v, layout)),
            CpuStorage::F64(v) => CpuStorage::F64(go(v, layout)),
            other => not_implemented("log_softmax_lastdim_kernel_impl", other.dtype()),
        }
    }

    fn softmax_backward_last(&self, layout: &Layout, y: &Self, y_layout: &Layout) -> Self {
        softmax::softmax_backward_storage(self, layout, y, y_layout)
    }

    fn cumulative_last(&self, layout: &Layout, prod: bool) -> Self {
        match self {
            CpuStorage::F32(v) => CpuStorage::F32(scan::scan_float(v, layout, prod)),
            CpuStorage::F64(v) => CpuStorage::F64(scan::scan_float(v, layout, prod)),
            CpuStorage::I64(v) => CpuStorage::I64(scan::scan_int(v, layout, prod)),
            other => not_implemented(if prod { "cumprod" } else { "cumsum" }, other.dtype()),
        }
    }

    fn logcumsumexp_last(&self, layout: &Layout) -> Self {
        match self {
            CpuStorage::F32(v) => CpuStorage::F32(scan::logcumsumexp(v, layout)),
            CpuStorage::F64(v) => CpuStorage::F64(scan::logcumsumexp(v, layout)),
            other => not_implemented("logcumsumexp", other.dtype()),
        }
    }

    fn sort_last(&self, layout: &Layout, descending: bool) -> (Self, Self) {
        let (values, indices) = match self {
            CpuStorage::F32(v) => {
                sort::sort_rows(v, layout, descending).map_values(CpuStorage::F32)
            }
            CpuStorage::F64(v) => {
                sort::sort_rows(v, layout, descending).map_values(CpuStorage::F64)
            }
            CpuStorage::I64(v) => {
                sort::sort_rows(v, layout, descending).map_values(CpuStorage::I64)
            }
            CpuStorage::Bool(v) => {
                sort::sort_rows(v, layout, descending).map_values(CpuStorage::Bool)
            }
        };
        (values, CpuStorage::I64(indices))
    }

    fn layer_norm(
        &self,
        layout: &Layout,
        weight: Option<(&Self, &Layout)>,
        bias: Option<(&Self, &Layout)>,
        n: usize,
        eps: f64,
    ) -> (Self, Self, Self) {
        norm::layer_norm_storage(self, layout, weight, bias, n, eps)
    }

    fn layer_norm_backward(
        &self,
        layout: &Layout,
        args: LayerNormBackwardArgs<'_, Self>,
    ) -> [Option<Self>; 3] {
        norm::layer_norm_backward_storage(self, layout, args)
    }

    fn mse_loss(&self, layout: &Layout, target: &Self, tl: &Layout, reduce: MseReduce) -> Self {
        loss::mse_loss_storage(self, layout, (target, tl), reduce)
    }

    fn mse_loss_backward(
        &self,
        layout: &Layout,
        input: (&Self, &Layout),
        target: (&Self, &Layout),
        norm: f64,
    ) -> Self {
        loss::mse_loss_backward_storage(self, layout, input, target, norm)
    }

    fn nll_loss(
        &self,
        layout: &Layout,
        target: &Self,
        tl: &Layout,
        weight: Option<(&Self, &Layout)>,
        ignore_index: i64,
    ) -> (Self, Self) {
        let classes = layout.dims().last().copied().unwrap_or(1);
        let t = strided::contiguous_cow(indices(target), tl);
        macro_rules! go {
            ($v:ident, $x:expr) => {{
                let x = strided::contiguous_cow($x, layout);
                let w = weight.map(|(w, wl)| match w {
                    CpuStorage::$v(w) => strided::to_contiguous(w, wl),
                    _ => unreachable!("the weight has the input's dtype"),
                });
                let (sum, total) = k::nll_loss(&x, classes, &t, w.as_deref(), ignore_index);
                (
                    CpuStorage::$v(alloc::filled(1, sum)),
                    CpuStorage::$v(alloc::filled(1, total)),
                )
            }};
        }
        match self {
            CpuStorage::F32(x) => go!(F32, x),
            CpuStorage::F64(x) => go!(F64, x),
            other => not_implemented("nll_loss_out_frame", other.dtype()),
        }
    }

    fn matmul(&self, la: &Layout, rhs: &Self, lb: &Layout, init: Option<(&Self, &Layout)>) -> Self {
        macro_rules! go {
            ($v:ident, $a:expr, $b:expr) => {{
                let init = init.map(|(c, lc)| match c {
                    CpuStorage::$v(c) => (c.as_slice(), lc),
                    _ => unreachable!("the addend has the product's dtype"),
                });
                CpuStorage::$v(gemm::matmul($a, la, $b, lb, init))
            }};
        }
        match (self, rhs) {
            (CpuStorage::F32(a), CpuStorage::F32(b)) => go!(F32, a, b),
            (CpuStorage::F64(a), CpuStorage::F64(b)) => go!(F64, a, b),
            (CpuStorage::I64(a), CpuStorage::I64(b)) => go!(I64, a, b),
            (a, _) => not_implemented("addmm_impl_cpu_", a.dtype()),
        }
    }

    // --- convolution family (im2col / col2im)
    fn im2col(&self, layout: &Layout, geom: &Im2colGeometry) -> Self {
        match self {
            CpuStorage::F32(v) => CpuStorage::F32(conv::im2col(v, layout, geom)),
            CpuStorage::F64(v) => CpuStorage::F64(conv::im2col(v, layout, geom)),
            CpuStorage::I64(v) => CpuStorage::I64(conv::im2col(v, layout, geom)),
            other => not_implemented("im2col_out_cpu", other.dtype()),
        }
    }

    fn col2im(&self, layout: &Layout, geom: &Im2colGeometry) -> Self {
        match self {
            CpuStorage::F32(v) => CpuStorage::F32(conv::col2im(v, layout, geom)),
            CpuStorage::F64(v) => CpuStorage::F64(conv::col2im(v, layout, geom)),
            CpuStorage::I64(v) => CpuStorage::I64(conv::col2im(v, layout, geom)),
            other => not_implemented("col2im_out_cpu", other.dtype()),
        }
    }

    fn index_select(&self, layout: &Layout, dim: usize, index: &Self, il: &Layout) -> Self {
        let idx = indices(index);
        same_dtype!(self, v => index::index_select(v, layout, dim, idx, il))
    }

    fn gather(&self, layout: &Layout, dim: usize, index: &Self, il: &Layout) -> Self {
        let idx = indices(index);
        same_dtype!(self, v => index::gather(v, layout, dim, idx, il))
    }

    fn scatter_inplace(
        &mut self,
        layout: &Layout,
        dim: usize,
        index: &Self,
        il: &Layout,
        src: &Self,
        sl: &Layout,
        add: bool,
    ) {
        let idx = (indices(index), il);
        match (self, src) {
            (CpuStorage::F32(d), CpuStorage::F32(s)) => {
                index::scatter(d, layout, dim, idx, (s, sl), add)
            }
            (CpuStorage::F64(d), CpuStorage::F64(s)) => {
                index::scatter(d, layout, dim, idx, (s, sl), add)
            }
            (CpuStorage::I64(d), CpuStorage::I64(s)) => {
                index::scatter(d, layout, dim, idx, (s, sl), add)
            }
            (d, _) => not_implemented("scatter_cpu_", d.dtype()),
        }
    }

    fn index_add_inplace(
        &mut self,
        layout: &Layout,
        dim: usize,
        index: &Self,
        il: &Layout,
        src: &Self,
        sl: &Layout,
    ) {
        let idx = (indices(index), il);
        match (self, src) {
            (CpuStorage::F32(d), CpuStorage::F32(s)) => {
                index::index_add(d, layout, dim, idx, (s, sl))
            }
            (CpuStorage::F64(d), CpuStorage::F64(s)) => {
                index::index_add(d, layout, dim, idx, (s, sl))
            }
            (CpuStorage::I64(d), CpuStorage::I64(s)) => {
                index::index_add(d, layout, dim, idx, (s, sl))
            }
            (d, _) => not_implemented("index_add_cpu_", d.dtype()),
        }
    }

    fn uniform_inplace(&mut self, layout: &Layout, rng: &mut GeneratorState, from: f64, to: f64) {
        // Values are drawn in logical order, then written through the view.
        let n = layout.numel();
        let logical = Layout::contiguous(layout.shape.clone());
        match self {
            CpuStorage::F32(v) => {
                let mut tmp = alloc::zeroed(n);
                random::uniform_f32(rng, &mut tmp, from, to);
                strided::update_with(v, layout, &tmp, &logical, |_, y| y);
            }
            CpuStorage::F64(v) => {
                let mut tmp = alloc::zeroed(n);
                random::uniform_f64(rng, &mut tmp, from, to);
                strided::update_with(v, layout, &tmp, &logical, |_, y| y);
            }
            other => not_implemented("check_uniform_bounds", other.dtype()),
        }
    }

    fn normal_inplace(&mut self, layout: &Layout, rng: &mut GeneratorState, mean: f64, std: f64) {
        let n = layout.numel();
        let contiguous = layout.is_contiguous();
        let logical = Layout::contiguous(layout.shape.clone());
        match self {
            CpuStorage::F32(v) => {
                let mut tmp = alloc::zeroed(n);
                random::normal_f32(rng, &mut tmp, mean, std, contiguous);
                strided::update_with(v, layout, &tmp, &logical, |_, y| y);
            }
            CpuStorage::F64(v) => {
                let mut tmp = alloc::zeroed(n);
                random::normal_f64(rng, &mut tmp, mean, std, contiguous);
                strided::update_with(v, layout, &tmp, &logical, |_, y| y);
            }
            other => not_implemented("normal_kernel_cpu", other.dtype()),
        }
    }

    fn bernoulli(&self, layout: &Layout, rng: &mut GeneratorState) -> Self {
        match self {
            CpuStorage::F32(v) => {
                let p = strided::to_contiguous(v, layout);
                let mut out = alloc::zeroed(p.len());
                random::bernoulli_tensor_f32(rng, &p, &mut out);
                CpuStorage::F32(out)
            }
            CpuStorage::F64(v) => {
                let p = strided::to_contiguous(v, layout);
                let mut out = alloc::zeroed(p.len());
                random::bernoulli_tensor_f64(rng, &p, &mut out);
                CpuStorage::F64(out)
            }
            other => not_implemented("bernoulli_tensor_cpu_self_", other.dtype()),
        }
    }

    fn bernoulli_scalar_inplace(&mut self, layout: &Layout, rng: &mut GeneratorState, p: f64) {
        let n = layout.numel();
        let probs = alloc::filled(n, p);
        let mut draws = alloc::zeroed::<f64>(n);
        random::bernoulli_tensor_f64(rng, &probs, &mut draws);
        let logical = Layout::contiguous(layout.shape.clone());
        any_dtype!(self, v => strided::update_with(v, layout, &draws, &logical, |_, y| convert(y)));
    }

    fn axpy_inplace(&mut self, layout: &Layout, x: &Self, xl: &Layout, alpha: f64) {
        match (self, x) {
            (CpuStorage::F32(y), CpuStorage::F32(x)) => {
                fused::axpy(&mut y[range(layout)], &x[range(xl)], alpha as f32)
            }
            (CpuStorage::F64(y), CpuStorage::F64(x)) => {
                fused::axpy(&mut y[range(layout)], &x[range(xl)], alpha)
            }
            (y, _) => not_implemented("add_cpu", y.dtype()),
        }
    }

    fn addcmul_inplace(
        &mut self,
        layout: &Layout,
        a: (&Self, &Layout),
        b: (&Self, &Layout),
        value: f64,
    ) {
        ternary_update(
            self,
            layout,
            a,
            b,
            value,
            "addcmul_cpu_out",
            fused::addcmul,
            fused::addcmul,
        );
    }

    fn addcdiv_inplace(
        &mut self,
        layout: &Layout,
        a: (&Self, &Layout),
        b: (&Self, &Layout),
        value: f64,
    ) {
        ternary_update(
            self,
            layout,
            a,
            b,
            value,
            "addcdiv_cpu_out",
            fused::addcdiv,
            fused::addcdiv,
        );
    }

    fn lerp_inplace(&mut self, layout: &Layout, end: &Self, el: &Layout, weight: f64) {
        match (self, end) {
            (CpuStorage::F32(y), CpuStorage::F32(e)) => {
                fused::lerp(&mut y[range(layout)], &e[range(el)], weight as f32)
            }
            (CpuStorage::F64(y), CpuStorage::F64(e)) => {
                fused::lerp(&mut y[range(layout)], &e[range(el)], weight)
            }
            (y, _) => not_implemented("lerp_kernel_scalar", y.dtype()),
        }
    }

    fn adam_step(b: AdamBuffers<'_, Self>, scalars: &AdamScalars) {
        macro_rules! go {
            ($v:ident) => {{
                let (CpuStorage::$v(p), CpuStorage::$v(g), CpuStorage::$v(m), CpuStorage::$v(v)) =
                    (b.param.0, b.grad.0, b.exp_avg.0, b.exp_avg_sq.0)
                else {
                    unreachable!("Adam's buffers share the parameter's dtype")
                };
                let vmax = b.max_exp_avg_sq.map(|(s, l)| match s {
                    CpuStorage::$v(x) => &mut x[range(l)],
                    _ => unreachable!("Adam's buffers share the parameter's dtype"),
                });
                fused::adam_threaded(
                    &mut p[range(b.param.1)],
                    &g[range(b.grad.1)],
                    &mut m[range(b.exp_avg.1)],
                    &mut v[range(b.exp_avg_sq.1)],
                    vmax,
                    fused::AdamScalars::of(scalars),
                );
            }};
        }
        match b.param.0.dtype() {
            DType::F32 => go!(F32),
            DType::F64 => go!(F64),
            other => not_implemented("_single_tensor_adam", other),
        }
    }

    // ===== pooling family: max pools for floats and int64, average pools for floats (and int64
    // for avg_pool2d, as ATen's `AT_DISPATCH_FLOATING_TYPES_AND(Long)`), adaptive ones for floats.
    fn max_pool2d(&self, layout: &Layout, windows: &PoolWindows) -> (Self, Self) {
        let (v, i) = match self {
            CpuStorage::F32(x) => {
                let (v, i) = pool::max_pool2d(x, layout, windows);
                (CpuStorage::F32(v), i)
            }
            CpuStorage::F64(x) => {
                let (v, i) = pool::max_pool2d(x, layout, windows);
                (CpuStorage::F64(v), i)
            }
            CpuStorage::I64(x) => {
                let (v, i) = pool::max_pool2d(x, layout, windows);
                (CpuStorage::I64(v), i)
            }
            other => not_implemented("max_pool2d", other.dtype()),
        };
        (v, CpuStorage::I64(i))
    }

    fn adaptive_max_pool2d(&self, layout: &Layout, output: [usize; 2]) -> (Self, Self) {
        let (v, i) = match self {
            CpuStorage::F32(x) => {
                let (v, i) = pool::adaptive_max_pool2d(x, layout, output);
                (CpuStorage::F32(v), i)
            }
            CpuStorage::F64(x) => {
                let (v, i) = pool::adaptive_max_pool2d(x, layout, output);
                (CpuStorage::F64(v), i)
            }
            other => not_implemented("adaptive_max_pool2d", other.dtype()),
        };
        (v, CpuStorage::I64(i))
    }

    fn max_pool2d_backward(
        &self,
        layout: &Layout,
        indices: &Self,
        il: &Layout,
        plane: usize,
    ) -> Self {
        let idx = self::indices(indices);
        match self {
            CpuStorage::F32(g) => {
                CpuStorage::F32(pool::max_pool2d_backward(g, layout, idx, il, plane))
            }
            CpuStorage::F64(g) => {
                CpuStorage::F64(pool::max_pool2d_backward(g, layout, idx, il, plane))
            }
            other => not_implemented("max_pool2d_with_indices_backward", other.dtype()),
        }
    }

    fn avg_pool2d(&self, layout: &Layout, windows: &PoolWindows, divisor: AvgDivisor) -> Self {
        match self {
            CpuStorage::F32(x) => CpuStorage::F32(pool::avg_pool2d(x, layout, windows, divisor)),
            CpuStorage::F64(x) => CpuStorage::F64(pool::avg_pool2d(x, layout, windows, divisor)),
            CpuStorage::I64(x) => CpuStorage::I64(pool::avg_pool2d(x, layout, windows, divisor)),
            other => not_implemented("avg_pool2d", other.dtype()),
        }
    }

    fn avg_pool2d_backward(
        &self,
        layout: &Layout,
        windows: &PoolWindows,
        divisor: AvgDivisor,
    ) -> Self {
        match self {
            CpuStorage::F32(g) => {
                CpuStorage::F32(pool::avg_pool2d_backward(g, layout, windows, divisor))
            }
            CpuStorage::F64(g) => {
                CpuStorage::F64(pool::avg_pool2d_backward(g, layout, windows, divisor))
            }
            other => not_implemented("avg_pool2d_backward_out_frame", other.dtype()),
        }
    }

    fn adaptive_avg_pool2d(&self, layout: &Layout, output: [usize; 2]) -> Self {
        match self {
            CpuStorage::F32(x) => CpuStorage::F32(pool::adaptive_avg_pool2d(x, layout, output)),
            CpuStorage::F64(x) => CpuStorage::F64(pool::adaptive_avg_pool2d(x, layout, output)),
            other => not_implemented("adaptive_avg_pool2d", other.dtype()),
        }
    }

    fn adaptive_avg_pool2d_backward(&self, layout: &Layout, input: [usize; 2]) -> Self {
        match self {
            CpuStorage::F32(g) => {
                CpuStorage::F32(pool::adaptive_avg_pool2d_backward(g, layout, input))
            }
            CpuStorage::F64(g) => {
                CpuStorage::F64(pool::adaptive_avg_pool2d_backward(g, layout, input))
            }
            other => not_implemented("adaptive_avg_pool2d_backward_cpu", other.dtype()),
        }
    }
    // ===== end of the pooling family =====

    fn linalg(&self, l: &Layout, op: LinalgOp, rhs: Option<(&Self, &Layout)>) -> LinalgOut {
        super::linalg::linalg_storage(self, l, op, rhs)
    }
}

type LinalgOut = (Vec<CpuStorage>, Vec<i64>);
use crate::backend::LinalgOp;
