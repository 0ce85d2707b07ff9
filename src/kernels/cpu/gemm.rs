//! Matrix multiplication kernels: `C = A · B` (+ `C` when accumulating) on strided matrices.
//!
//! Floats go to the `gemm` crate (chosen by benchmark: within a few percent of faer on large
//! products, fastest at 2 threads on the mid-size shapes of neural nets, sub-microsecond on tiny
//! ones, arbitrary strides so transposed views need no copy, and runtime CPU dispatch including
//! its AVX-512 kernels). Integers use a plain loop.

use super::{alloc, strided};
use crate::dtype::Num;
use crate::shape::{Layout, Shape};
use smallvec::SmallVec;
use std::mem::MaybeUninit;

mod gemv;
use gemv::{gemv_form, gemv_product};

/// A strided matrix operand: element `(i, j)` is at `offset + i * rs + j * cs`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatRef {
    pub offset: usize,
    pub rs: usize,
    pub cs: usize,
}

impl MatRef {
    /// Panics unless every element of an `rows x cols` matrix lies inside a buffer of `len`.
    fn check(&self, rows: usize, cols: usize, len: usize) {
        if rows == 0 || cols == 0 {
            return;
        }
        let last = self.offset + (rows - 1) * self.rs + (cols - 1) * self.cs;
        assert!(last < len, "matrix operand out of bounds: {last} >= {len}");
    }
}

/// Go multi-threaded only when `m * n * k * size_of::<T>()` reaches this: below it the thread
/// hand-off costs more than it saves (measured: 128³ f32 gains 1.45x on 2 cores, 64³ nothing).
const PARALLEL_THRESHOLD_BYTES: usize = 1 << 23;

/// `mm`/`addmm` products with at most this many multiply-adds take the plain loop.
const TINY_PRODUCT: usize = 256;

/// Batched products (`bmm`) with fewer multiply-adds a matrix than this take the plain loop, as
/// ATen's `bmm` does: below it `bmm_out_or_baddbmm_` (aten/src/ATen/native/LinearAlgebra.cpp)
/// runs `baddbmm_cpu_kernel`, which adds each rounded product left to right from zero (that file
/// is built without FMA), whatever the CPU, instead of calling BLAS.
const TINY_BATCHED_PRODUCT: usize = 400;

/// Element types with a GEMM kernel.
pub(crate) trait GemmElem: Num {
    /// `c = a · b` (or `c += a · b` when `accumulate`), `c` row-major contiguous `m x n`.
    ///
    /// `c` may be uninitialised unless `accumulate`: without it every element is written and
    /// none read, so a fresh output needs no zeroing pass (gemm's `read_dst = false`).
    ///
    /// # Safety
    /// With `accumulate`, the first `m * n` elements of `c` must be initialised.
    unsafe fn gemm(
        m: usize,
        n: usize,
        k: usize,
        a: &[Self],
        ar: MatRef,
        b: &[Self],
        br: MatRef,
        c: &mut [MaybeUninit<Self>],
        accumulate: bool,
    );
}

/// Whether an `m x k` by `k x n` product sums in the plain loop's order in PyTorch: `bmm` below
/// [`TINY_BATCHED_PRODUCT`] (ATen's own loop), `mm` up to [`TINY_PRODUCT`] (MKL's kernels for
/// those sum in an order that depends on the CPU; the plain loop is the one that keeps the seed
/// tutorial's products bit-identical to PyTorch's fixtures).
fn plain_loop(batched: bool, m: usize, n: usize, k: usize) -> bool {
    if batched {
        m * n * k < TINY_BATCHED_PRODUCT
    } else {
        m * n * k <= TINY_PRODUCT
    }
}

macro_rules! float_gemm {
    ($t:ty) => {
        impl GemmElem for $t {
            unsafe fn gemm(
                m: usize,
                n: usize,
                k: usize,
                a: &[$t],
                ar: MatRef,
                b: &[$t],
                br: MatRef,
                c: &mut [MaybeUninit<$t>],
                accumulate: bool,
            ) {
                if m == 0 || n == 0 {
                    return;
                }
                ar.check(m, k, a.len());
                br.check(k, n, b.len());
                assert!(c.len() >= m * n, "output buffer too small");
                if k == 0 {
                    if !accumulate {
                        c[..m * n].fill(MaybeUninit::new(0.0));
                    }
                    return;
                }
                if let Some((a, b, c)) = <$t as AsF32>::f32_operands(a, b, c) {
                    if gemv_form(m, n, ar, br) {
                        // SAFETY: the bounds were checked above; the caller's contract covers `c`.
                        unsafe { gemv_product(m, n, k, a, ar, b, br, c, accumulate) };
                        return;
                    }
                }
                let work = m * n * k * std::mem::size_of::<$t>();
                let threads = rayon::current_num_threads();
                let cp = SendPtr(c.as_mut_ptr() as *mut $t);
                // One product over depths `from..from + depth` into `dst`, on `par`.
                // SAFETY (for every call below): the bounds of every operand were checked above,
                // and a depth range inside `0..k` stays inside them; `dst` is `c` (a distinct
                // mutable slice, so it cannot overlap `a` or `b`) or a fresh buffer of `m * n`;
                // gemm reads `dst` only when `acc`, which is only `c` under the caller's
                // contract.
                let product = |from: usize, depth: usize, dst: SendPtr<$t>, acc: bool, par| unsafe {
                    <$t as GemmKernel>::kernel(
                        m,
                        n,
                        depth,
                        dst.get(),
                        acc,
                        a.as_ptr().add(ar.offset + from * ar.cs),
                        ar,
                        b.as_ptr().add(br.offset + from * br.rs),
                        br,
                        par,
                    )
                };
                if split_depth(m, n, k, work) {
                    // Two halves of the depth, each product computed by one thread, the second
                    // half's added to the first's: the output is too small for the kernel to
                    // share between threads. The split depends on the shape only, so the bits do
                    // not depend on the thread count.
                    let k0 = k / 2;
                    let mut upper: Vec<$t> = alloc::buffer(m * n);
                    let up = SendPtr(upper.as_mut_ptr());
                    let none = gemm::Parallelism::None;
                    let lower_half = || product(0, k0, cp, accumulate, none);
                    let upper_half = || product(k0, k - k0, up, false, none);
                    if threads > 1 {
                        rayon::join(lower_half, upper_half);
                    } else {
                        lower_half();
                        upper_half();
                    }
                    // SAFETY: the upper half wrote all `m * n` elements (`read_dst = false`).
                    unsafe { upper.set_len(m * n) };
                    for (ci, u) in c[..m * n].iter_mut().zip(&upper) {
                        // SAFETY: the lower half wrote (or accumulated into) every element.
                        let v = unsafe { ci.assume_init_read() };
                        ci.write(v + u);
                    }
                    return;
                }
                let par = if threads > 1 && work >= PARALLEL_THRESHOLD_BYTES {
                    gemm::Parallelism::Rayon(threads)
                } else {
                    gemm::Parallelism::None
                };
                product(0, k, cp, accumulate, par);
            }
        }

        impl GemmKernel for $t {
            unsafe fn kernel(
                m: usize,
                n: usize,
                k: usize,
                c: *mut $t,
                accumulate: bool,
                a: *const $t,
                ar: MatRef,
                b: *const $t,
                br: MatRef,
                par: gemm::Parallelism,
            ) {
                // SAFETY: the caller's contract.
                unsafe {
                    // gemm's convention: dst = alpha * dst + beta * lhs * rhs, strides given as
                    // (column stride, row stride).
                    gemm::gemm(
                        m,
                        n,
                        k,
                        c,
                        1,
                        n as isize,
                        accumulate,
                        a,
                        ar.cs as isize,
                        ar.rs as isize,
                        b,
                        br.cs as isize,
                        br.rs as isize,
                        if accumulate { 1.0 } else { 0.0 },
                        1.0,
                        false,
                        false,
                        false,
                        par,
                    );
                }
            }
        }
    };
}
float_gemm!(f32);
float_gemm!(f64);

/// The `gemm` crate's call for one element type.
trait GemmKernel: Sized {
    /// `c = a · b` (`c += a · b` when `accumulate`), `c` row-major contiguous `m x n`; `a` and
    /// `b` point at their first elements (the `MatRef` offsets are not applied again).
    ///
    /// # Safety
    /// Every element of the operands and of `c` must be in bounds, `c` must not overlap them,
    /// and with `accumulate` the `m * n` elements of `c` must be initialised.
    #[allow(clippy::too_many_arguments)]
    unsafe fn kernel(
        m: usize,
        n: usize,
        k: usize,
        c: *mut Self,
        accumulate: bool,
        a: *const Self,
        ar: MatRef,
        b: *const Self,
        br: MatRef,
        par: gemm::Parallelism,
    );
}

/// A raw pointer that two halves of a split product may carry to their threads: each half
/// writes a distinct buffer.
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
// SAFETY: the pointee buffers are written by one half each and outlive the `rayon::join`.
unsafe impl<T> Send for SendPtr<T> {}
// SAFETY: as above; the pointer itself is only copied.
unsafe impl<T> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    /// The pointer (a method, so that closures capture the `SendPtr`, not its field).
    fn get(self) -> *mut T {
        self.0
    }
}

/// At most this many output elements, a threaded product is split along its depth instead:
/// the kernel shares out output tiles (16 x 6 or so), and an output of a few tiles leaves the
/// second thread idle (a convolution's weight gradient, 32 x 9 over 43264 positions, ran at 17
/// GFLOP/s on two cores, the same on one).
const SPLIT_K_MAX_OUTPUT: usize = 128 * 128;

/// The least depth worth splitting in two.
const SPLIT_K_MIN_DEPTH: usize = 1024;

/// Whether an `m x k` by `k x n` product of `work` bytes of multiply-adds is computed as two
/// halves of its depth (see [`SPLIT_K_MAX_OUTPUT`]). The test depends on the shape only, never
/// on the thread count, so results are the same on any number of threads.
fn split_depth(m: usize, n: usize, k: usize, work: usize) -> bool {
    work >= PARALLEL_THRESHOLD_BYTES && m * n <= SPLIT_K_MAX_OUTPUT && k >= SPLIT_K_MIN_DEPTH
}

/// A product's operands `a`, `b` and output `c` in float32.
type F32Operands<'a> = (&'a [f32], &'a [f32], &'a mut [MaybeUninit<f32>]);

/// The float32 operands of a product, for the float32-only matrix-vector kernel.
trait AsF32: Sized {
    /// `Some` when `Self` is `f32`.
    fn f32_operands<'a>(
        a: &'a [Self],
        b: &'a [Self],
        c: &'a mut [MaybeUninit<Self>],
    ) -> Option<F32Operands<'a>>;
}

impl AsF32 for f32 {
    fn f32_operands<'a>(
        a: &'a [f32],
        b: &'a [f32],
        c: &'a mut [MaybeUninit<f32>],
    ) -> Option<F32Operands<'a>> {
        Some((a, b, c))
    }
}

impl AsF32 for f64 {
    fn f32_operands<'a>(
        _: &'a [f64],
        _: &'a [f64],
        _: &'a mut [MaybeUninit<f64>],
    ) -> Option<F32Operands<'a>> {
        None
    }
}

impl GemmElem for i64 {
    unsafe fn gemm(
        m: usize,
        n: usize,
        k: usize,
        a: &[i64],
        ar: MatRef,
        b: &[i64],
        br: MatRef,
        c: &mut [MaybeUninit<i64>],
        accumulate: bool,
    ) {
        // SAFETY: the caller's contract is naive_gemm's.
        unsafe { naive_gemm(m, n, k, a, ar, b, br, c, accumulate) }
    }
}

/// The initialised elements of `s` seen as possibly uninitialised ones.
///
/// # Safety
/// Nothing uninitialised may be written through the result (`GemmElem::gemm` and `naive_gemm`
/// write computed values only), or `s` would hold uninitialised `T`s.
unsafe fn as_uninit<T>(s: &mut [T]) -> &mut [MaybeUninit<T>] {
    // SAFETY: `MaybeUninit<T>` has `T`'s layout; the caller writes initialised values only.
    unsafe { &mut *(s as *mut [T] as *mut [MaybeUninit<T>]) }
}

/// Offsets of every matrix of a batched layout whose last two dims are the matrix dims (one,
/// without allocating, for a plain matrix: most products are `mm`s on the tiny-op path).
fn batch_offsets(l: &Layout) -> SmallVec<[usize; 1]> {
    let nd = l.ndim();
    if nd == 2 {
        return smallvec::smallvec![l.offset];
    }
    let batch_layout = Layout {
        shape: Shape::new(&l.dims()[..nd - 2]),
        strides: l.strides[..nd - 2].iter().copied().collect(),
        offset: l.offset,
    };
    let mut out = SmallVec::with_capacity(batch_layout.numel());
    batch_layout.for_each_offset(|o| out.push(o));
    out
}

/// `C[b] = A[b] · B[b]` for every batch `b` of `a` (..., m, k) and `b` (..., k, n) with identical
/// batch dims, reading strided operands in place; with `init` (of the output's shape), the
/// products are added to it, as BLAS's `beta = 1`.
pub(crate) fn matmul<T: GemmElem>(
    a: &[T],
    la: &Layout,
    b: &[T],
    lb: &Layout,
    init: Option<(&[T], &Layout)>,
) -> Vec<T> {
    let nd = la.ndim();
    let (m, k, n) = (la.dims()[nd - 2], la.dims()[nd - 1], lb.dims()[nd - 1]);
    let batch: usize = la.dims()[..nd - 2].iter().product();
    let mat = |l: &Layout| MatRef {
        offset: 0,
        rs: l.strides[nd - 2],
        cs: l.strides[nd - 1],
    };
    let (ar, br) = (mat(la), mat(lb));
    let (ao, bo) = (batch_offsets(la), batch_offsets(lb));
    let accumulate = init.is_some();
    let len = batch * m * n;
    // For tiny products a plain loop is faster than a tuned kernel's set-up, and it sums in the
    // order PyTorch's CPU path does for them (one rounded product added at a time), which keeps
    // small models bit-identical to PyTorch.
    let plain = k > 0 && plain_loop(nd > 2, m, n, k);
    // Without an addend the output is left unwritten until the kernel's `read_dst = false`
    // pass stores every element: a zeroing pass over a fresh (N·L-wide, for convolutions)
    // output cost ~5% of a Conv2d step.
    let mut out = match init {
        Some((c, lc)) => strided::to_contiguous(c, lc),
        None => alloc::buffer(len),
    };
    {
        let dst: &mut [MaybeUninit<T>] = if accumulate {
            unsafe { as_uninit(&mut out[..len]) }
        } else {
            &mut out.spare_capacity_mut()[..len]
        };
        let product = |i: usize, ci: &mut [MaybeUninit<T>]| {
            let (ai, bi) = (
                MatRef {
                    offset: ao[i],
                    ..ar
                },
                MatRef {
                    offset: bo[i],
                    ..br
                },
            );
            // SAFETY: with `accumulate`, `dst` is `out`'s initialised elements; the operands'
            // bounds are checked by `gemm`, and by the slice indexing of `naive_gemm`.
            unsafe {
                if plain {
                    naive_gemm(m, n, k, a, ai, b, bi, ci, accumulate);
                } else {
                    T::gemm(m, n, k, a, ai, b, bi, ci, accumulate);
                }
            }
        };
        let mn = m * n;
        if mn > 0 && batch_threads(batch, m, n, k, std::mem::size_of::<T>()) {
            // Each product alone is too small for the kernel to thread (attention's 64 x 64
            // heads), so the products are spread over the pool instead, as ATen's `bmm` does with
            // `at::parallel_for` over the batch: each is still computed by the one serial
            // kernel, so the bits are the serial loop's.
            use rayon::prelude::*;
            dst[..len]
                .par_chunks_mut(mn)
                .enumerate()
                .for_each(|(i, ci)| product(i, ci));
        } else {
            for i in 0..batch {
                product(i, &mut dst[i * mn..(i + 1) * mn]);
            }
        }
    }
    if !accumulate {
        // SAFETY: each of the `batch` products wrote its `m * n` elements (gemm and the plain
        // loop write every element when not accumulating, the empty cases have `len == 0`).
        unsafe { out.set_len(len) };
    }
    out
}

/// Whether a batch of `batch` products of `m x k` by `k x n` is spread over the thread pool: each
/// product below the kernel's own threading threshold, the batch together above it.
fn batch_threads(batch: usize, m: usize, n: usize, k: usize, elem: usize) -> bool {
    let work = m * n * k * elem;
    batch > 1
        && rayon::current_num_threads() > 1
        && work < PARALLEL_THRESHOLD_BYTES
        && work * batch >= PARALLEL_THRESHOLD_BYTES
}

/// Reference triple loop, used for integers and as the ground truth in tests.
///
/// # Safety
/// With `accumulate`, the first `m * n` elements of `c` must be initialised.
pub(crate) unsafe fn naive_gemm<T: Num>(
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
    for i in 0..m {
        for j in 0..n {
            let mut acc = T::zero();
            for p in 0..k {
                acc += a[ar.offset + i * ar.rs + p * ar.cs] * b[br.offset + p * br.rs + j * br.cs];
            }
            let dst = &mut c[i * n + j];
            // SAFETY: read only when accumulating, when the caller guarantees it is set.
            let v = if accumulate {
                (unsafe { dst.assume_init_read() }) + acc
            } else {
                acc
            };
            dst.write(v);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Deterministic values in [-0.5, 0.5) (also the matrix-vector kernel's test data).
    pub(crate) fn lcg(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 33) as f64 / (1u64 << 31) as f64) - 0.5
            })
            .collect()
    }

    #[test]
    fn matches_naive_on_strided_and_transposed_operands() {
        for &(m, k, n) in &[
            (1, 1, 1),
            (11, 1, 1),
            (3, 4, 5),
            (17, 33, 9),
            (130, 70, 129),
            (64, 27, 300),
        ] {
            let a = lcg(m * k + 3, 1);
            let b = lcg(k * n + 5, 2);
            // A row-major with offset 3; B stored transposed (column-major) with offset 5.
            let ar = MatRef {
                offset: 3,
                rs: k,
                cs: 1,
            };
            let br = MatRef {
                offset: 5,
                rs: 1,
                cs: k,
            };
            for accumulate in [false, true] {
                let mut want = lcg(m * n, 3);
                let mut got = want.clone();
                // SAFETY: the outputs are initialised vectors.
                unsafe {
                    naive_gemm(m, n, k, &a, ar, &b, br, as_uninit(&mut want), accumulate);
                    f64::gemm(m, n, k, &a, ar, &b, br, as_uninit(&mut got), accumulate);
                }
                for (x, y) in got.iter().zip(&want) {
                    assert!((x - y).abs() < 1e-12, "{m}x{k}x{n}: {x} vs {y}");
                }
                let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
                let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
                let mut want32: Vec<f32> = lcg(m * n, 3).iter().map(|&v| v as f32).collect();
                let mut got32 = want32.clone();
                // SAFETY: the outputs are initialised vectors.
                unsafe {
                    naive_gemm(
                        m,
                        n,
                        k,
                        &a32,
                        ar,
                        &b32,
                        br,
                        as_uninit(&mut want32),
                        accumulate,
                    );
                    f32::gemm(
                        m,
                        n,
                        k,
                        &a32,
                        ar,
                        &b32,
                        br,
                        as_uninit(&mut got32),
                        accumulate,
                    );
                }
                for (x, y) in got32.iter().zip(&want32) {
                    assert!(
                        (x - y).abs() < 1e-4 * (1.0 + y.abs()),
                        "{m}x{k}x{n}: {x} vs {y}"
                    );
                }
            }
        }
    }

    #[test]
    fn depth_split_products_match_naive_and_ignore_the_thread_count() {
        // A convolution weight gradient's shape: a 32 x 9 output over a long depth.
        let (m, k, n) = (32usize, 8200usize, 9usize);
        assert!(split_depth(m, n, k, m * n * k * 4));
        let a: Vec<f32> = lcg(m * k, 11).iter().map(|&v| v as f32).collect();
        let b: Vec<f32> = lcg(k * n, 12).iter().map(|&v| v as f32).collect();
        // A row-major, B read transposed (the column view of a row-major n x k buffer).
        let ar = MatRef {
            offset: 0,
            rs: k,
            cs: 1,
        };
        let br = MatRef {
            offset: 0,
            rs: 1,
            cs: k,
        };
        let run = |threads: usize, accumulate: bool| {
            let mut c: Vec<f32> = lcg(m * n, 13).iter().map(|&v| v as f32).collect();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            // SAFETY: `c` is an initialised vector of m * n elements.
            pool.install(|| unsafe {
                f32::gemm(m, n, k, &a, ar, &b, br, as_uninit(&mut c), accumulate)
            });
            c
        };
        for accumulate in [false, true] {
            let mut want: Vec<f32> = lcg(m * n, 13).iter().map(|&v| v as f32).collect();
            // SAFETY: `want` is an initialised vector.
            unsafe { naive_gemm(m, n, k, &a, ar, &b, br, as_uninit(&mut want), accumulate) };
            let one = run(1, accumulate);
            assert_eq!(
                one,
                run(2, accumulate),
                "the bits depend on the thread count"
            );
            for (x, y) in one.iter().zip(&want) {
                assert!((x - y).abs() < 1e-4 * (1.0 + y.abs()), "{x} vs {y}");
            }
        }
    }

    #[test]
    fn threaded_batches_match_the_serial_loop_bit_for_bit() {
        // 128 products of 64 x 32 by 32 x 64 (attention's heads), the second operand transposed.
        let (batch, m, k, n) = (128usize, 64usize, 32usize, 64usize);
        assert!(batch_threads(batch, m, n, k, 4) || rayon::current_num_threads() < 2);
        let a: Vec<f32> = lcg(batch * m * k, 7).iter().map(|&v| v as f32).collect();
        let b: Vec<f32> = lcg(batch * k * n, 8).iter().map(|&v| v as f32).collect();
        let la = Layout {
            shape: Shape::new(&[batch, m, k]),
            strides: [m * k, k, 1].into_iter().collect(),
            offset: 0,
        };
        let lb = Layout {
            shape: Shape::new(&[batch, k, n]),
            strides: [k * n, 1, k].into_iter().collect(),
            offset: 0,
        };
        let (two, one) = crate::kernels::cpu::norm::tests::two_and_one(|| {
            matmul(&a, &la, &b, &lb, None)
                .iter()
                .map(|x| x.to_bits())
                .collect::<Vec<_>>()
        });
        assert_eq!(two, one);
    }
}
