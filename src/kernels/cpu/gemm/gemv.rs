//! Matrix-vector products: `x · Wᵀ` for one row `x` (a batch-1 `nn.Linear`) and `A · v` for one
//! column `v`, where each output is the dot product of the vector with one contiguous row.
//!
//! A general GEMM kernel packs its operands into panels first; for a single row or column that
//! packing reads the whole matrix once more than the product does, and the matrix is the only
//! large operand. Here every output is one pass over its row, blocks of rows are offered to the
//! other threads when the matrix is large (the caller computes any block not yet claimed, so a
//! busy machine costs nothing over one thread), and the dot kernel uses AVX2 with FMA
//! when the CPU has them (checked at run time, as `backend/vmath.rs` chooses its bodies).
//!
//! Only products above the plain-loop size reach this (PyTorch's order for the small ones is
//! pinned there); above it PyTorch's own order is MKL's, which depends on the CPU, so no fixture
//! fixes it. The order here is fixed too: it does not depend on the thread count (only a CPU
//! without FMA rounds differently). Float32 only: float64 products stay with the GEMM crate.

use super::MatRef;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Offer rows to the other threads when the matrix has at least this many bytes: below it the
/// hand-off costs about what a second core saves (a 512x256 float32 weight is 512 KiB).
const PARALLEL_BYTES: usize = 1 << 18;

/// Whether an `m x k` by `k x n` float32 product has the matrix-vector form this module
/// computes: one row times a matrix whose columns are contiguous (a transposed row-major
/// weight), or a matrix with contiguous rows times one contiguous column.
pub(super) fn gemv_form(m: usize, n: usize, ar: MatRef, br: MatRef) -> bool {
    (m == 1 || n == 1) && ar.cs == 1 && br.rs == 1
}

/// `c = a · b` (or `c += a · b`) for a product of [`gemv_form`], `c` contiguous.
///
/// # Safety
/// The operands' bounds must have been checked (`MatRef::check`), `c` must hold at least
/// `m * n` elements, and with `accumulate` those must be initialised.
pub(super) unsafe fn gemv_product(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    ar: MatRef,
    b: &[f32],
    br: MatRef,
    c: &mut [MaybeUninit<f32>],
    accumulate: bool,
) {
    // Output `j` of a row times a matrix is `a[0, :] · b[:, j]`, column `j` of `b` starting at
    // `br.offset + j * br.cs`; output `i` of a matrix times a column is `a[i, :] · b[:, 0]`.
    let (x, rows, w_off, w_rs) = if m == 1 {
        (&a[ar.offset..ar.offset + k], n, br.offset, br.cs)
    } else {
        (&b[br.offset..br.offset + k], m, ar.offset, ar.rs)
    };
    let w = if m == 1 { b } else { a };
    let out = &mut c[..rows];
    let threads = rayon::current_num_threads();
    // Only from outside the pool: inside it (a convolution's tasks) the other threads are busy.
    let parallel = threads > 1
        && rows >= 2 * threads
        && rows * k * std::mem::size_of::<f32>() >= PARALLEL_BYTES
        && rayon::current_thread_index().is_none();
    if !parallel {
        dispatch(x, w, w_off, w_rs, 0, out, accumulate);
        return;
    }
    // The caller computes the first block itself and offers the others to the pool's threads;
    // a block no worker has claimed by the time the caller gets to it, the caller computes too.
    // So the caller never sleeps waiting for a worker to wake up (on a busy machine a
    // `broadcast` or a scope, which wait for every job, made this slower than one thread).
    let out = out.as_mut_ptr();
    let offered: Vec<(Block, Arc<Claim>)> = (1..threads)
        .map(|t| {
            let (lo, hi) = (rows * t / threads, rows * (t + 1) / threads);
            let block = Block {
                x: x.as_ptr(),
                k,
                w: w.as_ptr(),
                w_len: w.len(),
                w_off,
                w_rs,
                first: lo,
                // SAFETY: `lo <= rows`, inside `out`.
                out: unsafe { out.add(lo) },
                len: hi - lo,
                accumulate,
            };
            let claim = Arc::new(Claim::default());
            let theirs = claim.clone();
            rayon::spawn(move || {
                if !theirs.taken.swap(true, Ordering::AcqRel) {
                    // SAFETY: this job claimed the block, so the caller waits for `done`
                    // before the borrows the block points into end.
                    unsafe { block.run() };
                    theirs.done.store(true, Ordering::Release);
                }
            });
            (block, claim)
        })
        .collect();
    let own = Block {
        x: x.as_ptr(),
        k,
        w: w.as_ptr(),
        w_len: w.len(),
        w_off,
        w_rs,
        first: 0,
        out,
        len: rows / threads,
        accumulate,
    };
    // SAFETY: the first block is nobody else's; the pointers come from live borrows.
    unsafe { own.run() };
    for (block, claim) in &offered {
        if !claim.taken.swap(true, Ordering::AcqRel) {
            // SAFETY: the caller claimed the block: the job will not touch it.
            unsafe { block.run() };
        } else {
            let mut spins = 0u32;
            while !claim.done.load(Ordering::Acquire) {
                if spins < 1 << 12 {
                    std::hint::spin_loop();
                    spins += 1;
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }
}

/// Who computes an offered block: `taken` is set once, by the caller or by the worker that
/// runs the job; `done` tells the caller that a worker finished it.
#[derive(Default)]
struct Claim {
    taken: AtomicBool,
    done: AtomicBool,
}

/// One block of rows of a product, as raw parts so that a pool job (which must be `'static`)
/// can hold it; it is only dereferenced by whoever claimed it, while the caller's borrows live.
#[derive(Clone, Copy)]
struct Block {
    x: *const f32,
    k: usize,
    w: *const f32,
    w_len: usize,
    w_off: usize,
    w_rs: usize,
    first: usize,
    out: *mut MaybeUninit<f32>,
    len: usize,
    accumulate: bool,
}

// SAFETY: a block is computed by exactly one thread (its `Claim`), which writes only its own
// output rows; the inputs are only read.
unsafe impl Send for Block {}

impl Block {
    /// Computes the block.
    ///
    /// # Safety
    /// The pointers must come from borrows that are still alive, and no other thread may be
    /// writing the block's output rows.
    unsafe fn run(&self) {
        // SAFETY: by the contract, the parts describe live slices (`x` of `k`, `w` of `w_len`,
        // the output rows of `len`), the output rows written by this thread alone.
        unsafe {
            let x = std::slice::from_raw_parts(self.x, self.k);
            let w = std::slice::from_raw_parts(self.w, self.w_len);
            let out = std::slice::from_raw_parts_mut(self.out, self.len);
            dispatch(
                x,
                w,
                self.w_off,
                self.w_rs,
                self.first,
                out,
                self.accumulate,
            );
        }
    }
}

/// Rows `first..first + out.len()` with the best kernel this CPU has.
fn dispatch(
    x: &[f32],
    w: &[f32],
    w_off: usize,
    w_rs: usize,
    first: usize,
    out: &mut [MaybeUninit<f32>],
    accumulate: bool,
) {
    let k = x.len();
    #[cfg(target_arch = "x86_64")]
    let fma =
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
    #[cfg(not(target_arch = "x86_64"))]
    let fma = false;
    for (r, o) in out.iter_mut().enumerate() {
        let start = w_off + (first + r) * w_rs;
        let row = &w[start..start + k];
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX2 and FMA, the features `dot_fma` is compiled for.
        let d = if fma {
            unsafe { dot_fma(x, row) }
        } else {
            dot_plain(x, row)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let d = {
            let _ = fma;
            dot_plain(x, row)
        };
        let v = if accumulate {
            // SAFETY: with `accumulate` the caller guarantees `out` is initialised.
            (unsafe { o.assume_init_read() }) + d
        } else {
            d
        };
        o.write(v);
    }
}

/// `x · w` (`w.len() == x.len()`) in a fixed order: four 8-lane partial sums over blocks of
/// 32, the first one also over the blocks of 8 left, added as `(s0 + s1) + (s2 + s3)`, the
/// lanes folded pairwise (`l + 4`, then `l + 2`, then `l + 1`), then the last elements one by one,
/// each product fused with its sum.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_fma(x: &[f32], w: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let k = x.len();
    assert!(w.len() >= k, "row shorter than the vector");
    let (xp, wp) = (x.as_ptr(), w.as_ptr());
    let mut s = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    // SAFETY: every load reads 8 elements starting at `i`, `i + 8 <= k` (and `k <= w.len()`).
    unsafe {
        while i + 32 <= k {
            for (u, acc) in s.iter_mut().enumerate() {
                let p = i + 8 * u;
                *acc =
                    _mm256_fmadd_ps(_mm256_loadu_ps(xp.add(p)), _mm256_loadu_ps(wp.add(p)), *acc);
            }
            i += 32;
        }
        while i + 8 <= k {
            s[0] = _mm256_fmadd_ps(_mm256_loadu_ps(xp.add(i)), _mm256_loadu_ps(wp.add(i)), s[0]);
            i += 8;
        }
    }
    let v = _mm256_add_ps(_mm256_add_ps(s[0], s[1]), _mm256_add_ps(s[2], s[3]));
    let four = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let two = _mm_add_ps(four, _mm_movehl_ps(four, four));
    let one = _mm_add_ss(two, _mm_shuffle_ps::<1>(two, two));
    let mut total = _mm_cvtss_f32(one);
    for p in i..k {
        total = x[p].mul_add(w[p], total);
    }
    total
}

/// `dot_fma`'s order for CPUs without FMA (each product rounded before it is added).
fn dot_plain(x: &[f32], w: &[f32]) -> f32 {
    let k = x.len();
    let w = &w[..k];
    let mut s = [[0f32; 8]; 4];
    let mut i = 0;
    while i + 32 <= k {
        for (u, acc) in s.iter_mut().enumerate() {
            for (l, a) in acc.iter_mut().enumerate() {
                *a += x[i + 8 * u + l] * w[i + 8 * u + l];
            }
        }
        i += 32;
    }
    while i + 8 <= k {
        for (l, a) in s[0].iter_mut().enumerate() {
            *a += x[i + l] * w[i + l];
        }
        i += 8;
    }
    let mut v = [0f32; 8];
    for (l, o) in v.iter_mut().enumerate() {
        *o = (s[0][l] + s[1][l]) + (s[2][l] + s[3][l]);
    }
    let four: [f32; 4] = std::array::from_fn(|l| v[l] + v[l + 4]);
    let two = [four[0] + four[2], four[1] + four[3]];
    let mut total = two[0] + two[1];
    for p in i..k {
        total += x[p] * w[p];
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::cpu::gemm::tests::lcg;

    /// One product of both forms on strided rows (row stride `k + 2`, offsets), returning
    /// what `gemv_product` wrote and what the single-threaded kernel writes.
    fn both(
        rows: usize,
        k: usize,
        w: &[f32],
        x: &[f32],
        init: &[f32],
        accumulate: bool,
        row_form: bool,
    ) -> (Vec<f32>, Vec<f32>) {
        let pad = 3;
        let mut got = init.to_vec();
        let mut single = init.to_vec();
        let xr = MatRef {
            offset: 1,
            rs: 1,
            cs: 1,
        };
        // SAFETY: the buffers hold every element the shapes reach; the outputs are initialised.
        unsafe {
            let out = super::super::as_uninit(&mut got);
            if row_form {
                let wt = MatRef {
                    offset: pad,
                    rs: 1,
                    cs: k + 2,
                };
                gemv_product(1, rows, k, x, xr, w, wt, out, accumulate);
            } else {
                let wr = MatRef {
                    offset: pad,
                    rs: k + 2,
                    cs: 1,
                };
                gemv_product(rows, 1, k, w, wr, x, xr, out, accumulate);
            }
            let out = super::super::as_uninit(&mut single);
            dispatch(&x[1..1 + k], w, pad, k + 2, 0, out, accumulate);
        }
        (got, single)
    }

    /// Every length class of the dot (blocks of 32, of 8, the scalar tail), both forms, with
    /// and without an addend, strided rows, against a float64 reference;
    /// the large case runs split over the threads (the test thread is outside the pool) and
    /// must give the single-threaded bits.
    #[test]
    fn gemv_matches_reference_in_every_branch() {
        for &(rows, k) in &[
            (3, 1),
            (5, 7),
            (7, 8),
            (9, 31),
            (4, 32),
            (6, 45),
            (300, 784),
        ] {
            let w = lcg(3 + rows * (k + 2), 1);
            let x = lcg(k + 1, 2);
            let init = lcg(rows, 3);
            // The portable order agrees with the fused one within rounding.
            if k > 8 {
                let (xs, ws) = (
                    x[1..1 + k].iter().map(|&v| v as f32).collect::<Vec<_>>(),
                    w[3..3 + k].iter().map(|&v| v as f32).collect::<Vec<_>>(),
                );
                let e: f64 = (0..k).map(|p| xs[p] as f64 * ws[p] as f64).sum();
                assert!((dot_plain(&xs, &ws) as f64 - e).abs() < 1e-5);
            }
            let dot: Vec<f64> = (0..rows)
                .map(|r| {
                    (0..k)
                        .map(|p| x[1 + p] * w[3 + r * (k + 2) + p])
                        .sum::<f64>()
                })
                .collect();
            let w32: Vec<f32> = w.iter().map(|&v| v as f32).collect();
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let init32: Vec<f32> = init.iter().map(|&v| v as f32).collect();
            for accumulate in [false, true] {
                for row_form in [true, false] {
                    let (got, single) = both(rows, k, &w32, &x32, &init32, accumulate, row_form);
                    assert_eq!(got, single, "{rows}x{k}: threads changed the bits");
                    for r in 0..rows {
                        let e = dot[r] + if accumulate { init32[r] as f64 } else { 0.0 };
                        let g = got[r] as f64;
                        assert!(
                            (g - e).abs() < 1e-5 * (1.0 + e.abs()),
                            "{rows}x{k} row {r}: {g} vs {e}"
                        );
                    }
                }
            }
        }
    }
}
