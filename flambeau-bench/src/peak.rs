//! This machine's f32 floor: a tight loop of independent fused multiply-adds on every thread of
//! the pool, at the widest vector width the CPU offers (AVX-512, else AVX2+FMA). No workload can
//! beat this; BENCHMARKS.md states each workload's distance from it.

/// Vector FMAs per thread per timed call.
const ITERS: usize = 10_000_000;

/// A timed call of the FMA loop, its floating-point operations per thread, and the name of the
/// vector unit it uses.
pub type Kernel = (fn() -> f32, f64, &'static str);

/// The widest FMA loop this CPU runs, or `None` where it has neither AVX-512 nor AVX2+FMA (or
/// is not x86-64).
pub fn kernel() -> Option<Kernel> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // 16 accumulators x 16 lanes x 2 flops per iteration
            return Some((x86::run_avx512, (ITERS * 16 * 16 * 2) as f64, "avx512f"));
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // 10 accumulators x 8 lanes x 2 flops per iteration
            return Some((x86::run_avx2, (ITERS * 10 * 8 * 2) as f64, "avx2+fma"));
        }
    }
    None
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::ITERS;
    use std::arch::x86_64::*;

    /// Runs the AVX-512 loop; only called after `avx512f` was detected.
    pub fn run_avx512() -> f32 {
        // SAFETY: `kernel` hands this function out only when the CPU reports avx512f.
        unsafe { avx512() }
    }

    /// Runs the AVX2 loop; only called after `avx2` and `fma` were detected.
    pub fn run_avx2() -> f32 {
        // SAFETY: `kernel` hands this function out only when the CPU reports avx2 and fma.
        unsafe { avx2() }
    }

    // Enough independent accumulators to cover the FMA latency (4 cycles) on two ports, few
    // enough to stay in registers (32 zmm; 16 ymm, with the two constants).
    #[target_feature(enable = "avx512f")]
    fn avx512() -> f32 {
        let a = _mm512_set1_ps(0.999_999_9);
        let b = _mm512_set1_ps(1e-7);
        let mut acc = [_mm512_set1_ps(std::hint::black_box(1.0)); 16];
        for _ in 0..ITERS {
            for v in acc.iter_mut() {
                *v = _mm512_fmadd_ps(*v, a, b);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm512_setzero_ps(), |s, v| _mm512_add_ps(s, *v));
        _mm512_reduce_add_ps(sum)
    }

    #[target_feature(enable = "avx2,fma")]
    fn avx2() -> f32 {
        let a = _mm256_set1_ps(0.999_999_9);
        let b = _mm256_set1_ps(1e-7);
        let mut acc = [_mm256_set1_ps(std::hint::black_box(1.0)); 10];
        for _ in 0..ITERS {
            for v in acc.iter_mut() {
                *v = _mm256_fmadd_ps(*v, a, b);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm256_setzero_ps(), |s, v| _mm256_add_ps(s, *v));
        let mut lanes = [0f32; 8];
        // SAFETY: `lanes` holds exactly the 8 floats the unaligned store writes.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
        lanes.iter().sum()
    }
}
