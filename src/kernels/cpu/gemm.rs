//! Matrix multiplication kernels: `C = A · B` (+ `C` when accumulating) on strided matrices.

use crate::dtype::Num;

/// A strided matrix operand: element `(i, j)` is at `offset + i * rs + j * cs`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatRef {
    pub offset: usize,
    pub rs: usize,
    pub cs: usize,
}

/// Element types with a GEMM kernel.
pub(crate) trait GemmElem: Num {
    /// `c = a · b` (or `c += a · b` when `accumulate`), `c` row-major contiguous `m x n`.
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        m: usize,
        n: usize,
        k: usize,
        a: &[Self],
        ar: MatRef,
        b: &[Self],
        br: MatRef,
        c: &mut [Self],
        accumulate: bool,
    ) {
        naive_gemm(m, n, k, a, ar, b, br, c, accumulate)
    }
}

impl GemmElem for f32 {}
impl GemmElem for f64 {}
impl GemmElem for i64 {}

/// Reference triple loop, used for integers and as the ground truth in tests.
#[allow(clippy::too_many_arguments)]
pub(crate) fn naive_gemm<T: Num>(
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    ar: MatRef,
    b: &[T],
    br: MatRef,
    c: &mut [T],
    accumulate: bool,
) {
    for i in 0..m {
        for j in 0..n {
            let mut acc = T::zero();
            for p in 0..k {
                acc += a[ar.offset + i * ar.rs + p * ar.cs] * b[br.offset + p * br.rs + j * br.cs];
            }
            let dst = &mut c[i * n + j];
            *dst = if accumulate { *dst + acc } else { acc };
        }
    }
}
