//! Small matrix products summed in the order PyTorch's CPU path sums them, so that small models
//! (a `Linear` on a few rows, its backward) stay bit-identical to PyTorch.
//!
//! PyTorch takes two paths for them:
//! - `bmm` (and `matmul` with batch dims on both sides) of fewer than 400 multiply-adds a
//!   matrix runs ATen's own loop (`baddbmm_cpu_kernel` in aten/src/ATen/native/LinearAlgebra.cpp,
//!   taken when `contraction_size * res_rows * res_cols < 400`): each product rounded, added left
//!   to right from zero, the addend added last. The file is built without FMA, so nothing fuses.
//! - `mm`/`addmm`/`linear` call BLAS (`addmm_impl_cpu_` → `cpublas::gemm` → MKL's `sgemm`, the
//!   bias first copied into the output, then `beta = 1`). MKL picks a kernel by shape and layout,
//!   and each kernel sums in its own order. [`sgemm_order`] is that choice for float32 products
//!   of at most [`MKL_RULE_LIMIT`] multiply-adds, as measured against PyTorch 2.15's MKL (2024.2,
//!   AVX-512 kernels) on every shape up to that size in the layouts autograd produces
//!   (tests/data/gen_small_gemm.py keeps a sample); the shapes where no rule reproduced every
//!   case get `None` and go to the general kernel, within rounding of PyTorch only.

use super::gemm::MatRef;
use crate::dtype::Num;
use std::mem::MaybeUninit;

/// Products of fewer multiply-adds than this a matrix take ATen's plain `bmm` loop.
pub(crate) const BMM_LOOP_LIMIT: usize = 400;

/// The largest float32 `mm` (in multiply-adds) whose summation order [`sgemm_order`] knows.
pub(crate) const MKL_RULE_LIMIT: usize = 256;

/// An order of summing `c[i][j] (+)= Σ_p a[i][p] · b[p][j]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SumOrder {
    /// Each product rounded, added left to right from zero, then the addend added (ATen's loop).
    Plain,
    /// Fused multiply-adds in `p` order from zero, then the addend added (MKL's packed kernels).
    Fused,
    /// Fused multiply-adds in `p` order starting from the addend (MKL's rank-1 and row kernels).
    FusedFromAddend,
    /// Sixteen lanes, product `p` fused into lane `p % 16`, the lanes summed by halves (lane `i`
    /// plus lane `i + 8`, then `i + 4`, `i + 2`, `i + 1`: an AVX-512 horizontal add), then the
    /// addend added (MKL's dot-product kernels, for both operands contiguous along `k`).
    Lanes16,
}

/// Which of the storage patterns PyTorch's tensors give a matrix operand `rows x cols` has.
#[derive(Clone, Copy)]
struct Pattern {
    /// Strides `(cols, 1)`: a contiguous matrix.
    row_major: bool,
    /// Strides `(1, rows)`: the transpose of a contiguous matrix (`weight.t()`, `grad.t()`).
    col_major: bool,
}

fn pattern(r: &MatRef, rows: usize, cols: usize) -> Pattern {
    Pattern {
        row_major: r.rs == cols && r.cs == 1,
        col_major: r.rs == 1 && r.cs == rows,
    }
}

/// The order MKL's `sgemm` sums a float32 `(m x k) · (k x n)` product in, as PyTorch calls it
/// (row-major output), or `None` where it is not known.
///
/// Measured rules (a: `m x k`, b: `k x n`; "row"/"col" as in [`Pattern`]):
/// - k = 1: the one product fused with the addend, except a single column (n = 1) with a
///   contiguous `a` or a single row (m = 1) with a transposed `b`, which add it after rounding;
/// - b row-major: fused from the addend for a single row (m = 1, unless n ≥ 16 and k ≥ 8),
///   fused then added otherwise; unknown for a single column (n = 1);
/// - b col-major (a `weight.t()`), a row-major: the dot-product kernel (`Lanes16`) for narrow
///   outputs (n = 2 with m ≤ 15, n = 3 with m ≤ 10, 4 ≤ n ≤ 11 with m < n and k ≤ n; k < 32),
///   fused then added otherwise; unknown for m = 1 or n = 1;
/// - both col-major: unknown.
pub(crate) fn sgemm_order(
    m: usize,
    k: usize,
    n: usize,
    a: &MatRef,
    b: &MatRef,
) -> Option<SumOrder> {
    use SumOrder::*;
    if m * n * k > MKL_RULE_LIMIT || k >= 256 {
        return None;
    }
    let (pa, pb) = (pattern(a, m, k), pattern(b, k, n));
    if !(pa.row_major || pa.col_major) || !(pb.row_major || pb.col_major) {
        return None;
    }
    if k == 1 {
        return Some(match (m, n) {
            (1, 1) => Fused,
            (_, 1) if pa.row_major => Fused,
            (1, _) if !pb.row_major => Fused,
            _ => FusedFromAddend,
        });
    }
    if pb.row_major && !pb.col_major {
        return match (m, n) {
            (1, _) if n >= 16 && k >= 8 => None,
            (1, _) => Some(FusedFromAddend),
            (_, 1) => None,
            _ => Some(Fused),
        };
    }
    if pb.row_major || !pa.row_major || pa.col_major || m == 1 || n == 1 {
        return None;
    }
    let narrow = match n {
        2 => m <= 15,
        3 => m <= 10,
        4..=11 => m < n && k <= n,
        _ => false,
    };
    match (narrow, k < 32) {
        (true, true) => Some(Lanes16),
        (true, false) => None,
        (false, _) => Some(Fused),
    }
}

/// The order float64 `mm` products are summed in: unfused, left to right, for products of at
/// most [`MKL_RULE_LIMIT`] multiply-adds, as Flambeau always did. MKL's `dgemm` kernels were not
/// mapped (their fused orders need an exact float64 FMA to tell apart), so this is PyTorch's
/// result only where the order does not matter (k = 1 without an addend, exact sums).
pub(crate) fn dgemm_order(
    m: usize,
    k: usize,
    n: usize,
    _a: &MatRef,
    _b: &MatRef,
) -> Option<SumOrder> {
    (m * n * k <= MKL_RULE_LIMIT).then_some(SumOrder::Plain)
}

/// Floats with a fused multiply-add.
pub(crate) trait Fma: Num {
    /// `self * a + b` rounded once.
    fn fma(self, a: Self, b: Self) -> Self;
}

impl Fma for f32 {
    fn fma(self, a: f32, b: f32) -> f32 {
        self.mul_add(a, b)
    }
}

impl Fma for f64 {
    fn fma(self, a: f64, b: f64) -> f64 {
        self.mul_add(a, b)
    }
}

/// `c = a · b` (or `c += a · b` when `accumulate`) summed in `order`.
///
/// # Safety
/// With `accumulate`, the first `m * n` elements of `c` must be initialised.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn ordered_gemm<T: Fma>(
    order: SumOrder,
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    ar: MatRef,
    b: &[T],
    br: MatRef,
    c: &mut [MaybeUninit<T>],
    accumulate: bool,
) {
    let at = |i: usize, p: usize| a[ar.offset + i * ar.rs + p * ar.cs];
    let bt = |p: usize, j: usize| b[br.offset + p * br.rs + j * br.cs];
    for i in 0..m {
        for j in 0..n {
            let dst = &mut c[i * n + j];
            // SAFETY: read only when accumulating, when the caller guarantees it is set.
            let addend = accumulate.then(|| unsafe { dst.assume_init_read() });
            let v = match order {
                SumOrder::FusedFromAddend => (0..k).fold(addend.unwrap_or(T::zero()), |acc, p| {
                    at(i, p).fma(bt(p, j), acc)
                }),
                SumOrder::Plain => {
                    let s = (0..k).fold(T::zero(), |acc, p| acc + at(i, p) * bt(p, j));
                    addend.map_or(s, |c| c + s)
                }
                SumOrder::Fused => {
                    let s = (0..k).fold(T::zero(), |acc, p| at(i, p).fma(bt(p, j), acc));
                    addend.map_or(s, |c| c + s)
                }
                SumOrder::Lanes16 => {
                    let mut lanes = [T::zero(); 16];
                    for p in 0..k {
                        lanes[p % 16] = at(i, p).fma(bt(p, j), lanes[p % 16]);
                    }
                    let mut width = 16;
                    while width > 1 {
                        width /= 2;
                        for l in 0..width {
                            lanes[l] = lanes[l] + lanes[l + width];
                        }
                    }
                    addend.map_or(lanes[0], |c| c + lanes[0])
                }
            };
            dst.write(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cols: usize) -> MatRef {
        MatRef {
            offset: 0,
            rs: cols,
            cs: 1,
        }
    }

    fn col(rows: usize) -> MatRef {
        MatRef {
            offset: 0,
            rs: 1,
            cs: rows,
        }
    }

    #[test]
    fn linear_layouts_get_their_kernels() {
        use SumOrder::*;
        // Linear(3, 2) on 4 rows: x (4, 3) @ w.t() (3, 2): the dot-product kernel.
        assert_eq!(sgemm_order(4, 3, 2, &row(3), &col(3)), Some(Lanes16));
        // Wide outputs are packed.
        assert_eq!(sgemm_order(4, 3, 16, &row(3), &col(3)), Some(Fused));
        // grad_weight = g.t() @ x.
        assert_eq!(sgemm_order(2, 4, 3, &col(2), &row(3)), Some(Fused));
        // One input row: MKL's matrix-vector kernels, not reproduced.
        assert_eq!(sgemm_order(1, 3, 2, &row(3), &col(3)), None);
        // Past the measured sizes.
        assert_eq!(sgemm_order(8, 8, 8, &row(8), &row(8)), None);
        // An arbitrary strided view.
        let odd = MatRef {
            offset: 0,
            rs: 7,
            cs: 2,
        };
        assert_eq!(sgemm_order(2, 3, 2, &odd, &row(2)), None);
    }

    #[test]
    fn lanes16_sums_by_halves() {
        // 17 products of 1 · x: lane 0 holds x0 + x16 (fused), the others one each; then halves.
        let xs: Vec<f32> = (0..17).map(|p| 1.0 + p as f32 * 1e-7).collect();
        let ones = vec![1.0f32; 17];
        let mut out = [MaybeUninit::new(0.0f32)];
        // SAFETY: `out` is initialised.
        unsafe {
            ordered_gemm(
                SumOrder::Lanes16,
                1,
                1,
                17,
                &ones,
                row(17),
                &xs,
                col(17),
                &mut out,
                false,
            );
        }
        let mut lanes = [0.0f32; 16];
        for (p, x) in xs.iter().enumerate() {
            lanes[p % 16] += x;
        }
        let mut w = 16;
        while w > 1 {
            w /= 2;
            for l in 0..w {
                lanes[l] += lanes[l + w];
            }
        }
        // SAFETY: written above.
        assert_eq!(
            unsafe { out[0].assume_init() }.to_bits(),
            lanes[0].to_bits()
        );
    }
}
