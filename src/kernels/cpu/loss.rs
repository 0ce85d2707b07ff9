//! `mse_loss` and `mse_loss_backward` as one pass each (aten/src/ATen/native/Loss.cpp and
//! `mse_kernel` / `mse_backward_cpu_kernel` in native/cpu/PointwiseOpsKernel.cpp): the forward
//! is `(x - y)²` elementwise, then for `'sum'` / `'mean'` the sum of those values in ATen's
//! `SumKernel` order (`reduce::sum` over the contiguous squares, as `at::sum_out` of the
//! contiguous temporary) and for `'mean'` that sum divided by the count in the dtype
//! (`sum_out(...).div_(numel)`); the backward is `norm * (x - y) * grad`.

use super::{alloc, reduce, strided};
use crate::backend::MseReduce;
use crate::dtype::Float;
use crate::shape::Layout;
use crate::storage::CpuStorage;

/// Squares up to this many elements live on the stack before being summed (no buffer).
const STACK: usize = 64;

/// `(x - y)²` of two views of one shape, kept or reduced.
fn forward<T: Float + reduce::SumLanes>(
    (x, lx): (&[T], &Layout),
    (y, ly): (&[T], &Layout),
    reduce: MseReduce,
) -> Vec<T> {
    let sq = |a: T, b: T| {
        let d = a - b;
        d * d
    };
    let n = lx.numel();
    let total = |squares: &[T]| {
        let s = reduce::sum(squares);
        let v = match reduce {
            MseReduce::Mean => s / T::from_f64(n as f64),
            _ => s,
        };
        alloc::filled(1, v)
    };
    match (reduce, lx.contiguous_range(), ly.contiguous_range()) {
        (MseReduce::None, _, _) => strided::zip(x, lx, y, ly, lx.dims(), sq),
        (_, Some(rx), Some(ry)) if n <= STACK => {
            let mut buf = [T::zero(); STACK];
            for ((o, &a), &b) in buf.iter_mut().zip(&x[rx]).zip(&y[ry]) {
                *o = sq(a, b);
            }
            total(&buf[..n])
        }
        _ => {
            let squares = strided::zip(x, lx, y, ly, lx.dims(), sq);
            let out = total(&squares);
            alloc::recycle(squares);
            out
        }
    }
}

/// `norm * (x - y) * g` over the input's shape; `g` is the loss's gradient (one value for the
/// reduced forms, broadcast).
fn backward<T: Float>(
    (g, lg): (&[T], &Layout),
    (x, lx): (&[T], &Layout),
    (y, ly): (&[T], &Layout),
    norm: f64,
) -> Vec<T> {
    let norm = T::from_f64(norm);
    let f = move |gv: T, a: T, b: T| norm * (a - b) * gv;
    if lg.numel() == 1 && ly.dims() == lx.dims() {
        if let (Some(rx), Some(ry)) = (lx.contiguous_range(), ly.contiguous_range()) {
            let gv = g[lg.offset];
            let mut out = alloc::buffer(rx.len());
            out.extend(x[rx].iter().zip(&y[ry]).map(|(&a, &b)| f(gv, a, b)));
            return out;
        }
    }
    strided::zip3_map((g, lg), (x, lx), (y, ly), lx.dims(), f)
}

/// [`BackendStorage::mse_loss`](crate::backend::BackendStorage::mse_loss) on the CPU.
pub(crate) fn mse_loss_storage(
    x: &CpuStorage,
    lx: &Layout,
    (y, ly): (&CpuStorage, &Layout),
    reduce: MseReduce,
) -> CpuStorage {
    match (x, y) {
        (CpuStorage::F32(x), CpuStorage::F32(y)) => {
            CpuStorage::F32(forward((x, lx), (y, ly), reduce))
        }
        (CpuStorage::F64(x), CpuStorage::F64(y)) => {
            CpuStorage::F64(forward((x, lx), (y, ly), reduce))
        }
        _ => unreachable!("mse_loss's fused kernel takes two float operands of one dtype"),
    }
}

/// [`BackendStorage::mse_loss_backward`](crate::backend::BackendStorage::mse_loss_backward) on
/// the CPU.
pub(crate) fn mse_loss_backward_storage(
    g: &CpuStorage,
    lg: &Layout,
    (x, lx): (&CpuStorage, &Layout),
    (y, ly): (&CpuStorage, &Layout),
    norm: f64,
) -> CpuStorage {
    match (g, x, y) {
        (CpuStorage::F32(g), CpuStorage::F32(x), CpuStorage::F32(y)) => {
            CpuStorage::F32(backward((g, lg), (x, lx), (y, ly), norm))
        }
        (CpuStorage::F64(g), CpuStorage::F64(x), CpuStorage::F64(y)) => {
            CpuStorage::F64(backward((g, lg), (x, lx), (y, ly), norm))
        }
        _ => unreachable!("mse_loss_backward's fused kernel takes float operands of one dtype"),
    }
}
