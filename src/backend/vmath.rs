//! Vectorised float32 `exp`, `tanh` and `sigmoid` over contiguous runs: the `f32_run` bodies of
//! `Exp`, `Tanh` and `Sigmoid` (`ops.rs`). libm's `expf`/`tanhf` are scalar calls, a quarter of an
//! LSTM step's time; PyTorch runs Sleef's vectorised versions there.
//!
//! Each value is computed in float64 from branch-free code (a Taylor polynomial after the usual
//! `x = n ln2 + r` reduction, accurate to ~1e-14 relative) and rounded once to float32, so the
//! result is the correctly rounded float32 value except in a few cases per million, where it is
//! 1 ulp away: as close as libm's and closer than Sleef's 1-ulp bound, which keeps float32 results
//! (nearly always bit for bit) what the scalar bodies give. The loop is plain Rust that LLVM
//! vectorises; it is compiled for AVX-512, AVX2 and the baseline, picked at run time. No fused
//! multiply-adds are used, so every machine gets the same bits.

use std::mem::MaybeUninit;

/// `1.5 · 2^52`: adding it rounds a float64 of magnitude below 2^51 to an integer, which is then
/// in the low bits of the sum (no float-to-int conversion, which AVX2 lacks for 64-bit lanes).
const ROUND_MAGIC: f64 = 6755399441055744.0;

/// `e^y` for `y` in [-110, 110] (callers clamp; NaN passes through): `n = round(y / ln2)`,
/// `r = y - n ln2` in [-ln2/2, ln2/2], `e^r` by its Taylor polynomial to degree 12 (truncation
/// below 1e-15 relative), scaled by `2^n` built from the exponent bits.
#[inline(always)]
fn exp_f64_bounded(y: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    // ln2 split so that `n * LN2_HI` is exact for |n| < 2^11.
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let t = y * LOG2E + ROUND_MAGIC;
    let n = t - ROUND_MAGIC;
    let r = (y - n * LN2_HI) - n * LN2_LO;
    // 1/k! for k = 12 down to 2 (each quotient correctly rounded).
    const C: [f64; 11] = [
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
    ];
    let mut p = C[0];
    for &c in &C[1..] {
        p = p * r + c;
    }
    let er = (p * r * r + r) + 1.0;
    // The integer n sits in the low bits of t; 2^n has the biased exponent n + 1023.
    let k = (t.to_bits() as i64).wrapping_sub(ROUND_MAGIC.to_bits() as i64);
    let scale = f64::from_bits((k.wrapping_add(1023) as u64).wrapping_shl(52));
    er * scale
}

/// `e^x` rounded to float32. Below -104 the result rounds to 0 and above 89 to infinity, so
/// clamping there changes nothing and keeps the float64 scale factor normal.
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    // `clamp` keeps NaN.
    let y = (x as f64).clamp(-104.0, 89.0);
    exp_f64_bounded(y) as f32
}

/// `1 / (1 + e^-x)` with the float32 roundings of the scalar body (`ops::sigmoid`): only `e^-x`
/// is computed differently.
#[inline(always)]
pub(crate) fn sigmoid_f32(x: f32) -> f32 {
    1.0 / (1.0 + exp_f32(-x))
}

/// `tanh x` rounded to float32: `(e^2a - 1) / (e^2a + 1)` for `a = |x|` in float64 (whose
/// cancellation near 0 costs at most ~1e-12 relative above 0.01), the odd Taylor series below
/// 0.01 (truncation below 1e-13), the sign put back. Above 20 the value is 1 in float32.
#[inline(always)]
pub(crate) fn tanh_f32(x: f32) -> f32 {
    let xd = x as f64;
    let a = xd.abs();
    // Written as a select so NaN stays NaN (`min` would drop it).
    let a_big = if a > 20.0 { 20.0 } else { a };
    let e = exp_f64_bounded(2.0 * a_big);
    let big = (e - 1.0) / (e + 1.0);
    let a2 = a * a;
    let small = a + a * a2 * (-1.0 / 3.0 + a2 * (2.0 / 15.0));
    let t = if a < 0.01 { small } else { big };
    (t.copysign(xd)) as f32
}

/// Appends `f(x)` for every element of `x`, with `f` inlined into a loop compiled for the best
/// vector width this CPU has.
#[inline(always)]
fn run_f32(x: &[f32], out: &mut Vec<f32>, f: impl Fn(f32) -> f32 + Copy) {
    // Written straight into the spare capacity: no zeroing pass before the values.
    out.reserve(x.len());
    let dst = &mut out.spare_capacity_mut()[..x.len()];
    let mut done = false;
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, the only feature `fill_avx512` is compiled for.
            unsafe { fill_avx512(dst, x, f) };
            done = true;
        } else if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above, for AVX2.
            unsafe { fill_avx2(dst, x, f) };
            done = true;
        }
    }
    if !done {
        fill(dst, x, f);
    }
    // SAFETY: `fill` wrote all `x.len()` elements after the old length.
    unsafe { out.set_len(out.len() + x.len()) };
}

/// The loop itself; its callers decide which CPU features it is compiled with. Writes every
/// element of `dst` (`dst.len() == x.len()`).
#[inline(always)]
fn fill(dst: &mut [MaybeUninit<f32>], x: &[f32], f: impl Fn(f32) -> f32) {
    for (o, &v) in dst.iter_mut().zip(x) {
        o.write(f(v));
    }
}

/// `fill` compiled for 512-bit vectors.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn fill_avx512(dst: &mut [MaybeUninit<f32>], x: &[f32], f: impl Fn(f32) -> f32) {
    fill(dst, x, f)
}

/// `fill` compiled for 256-bit vectors.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fill_avx2(dst: &mut [MaybeUninit<f32>], x: &[f32], f: impl Fn(f32) -> f32) {
    fill(dst, x, f)
}

/// `e^x` over a run.
pub(crate) fn exp_run(x: &[f32], out: &mut Vec<f32>) {
    run_f32(x, out, exp_f32)
}

/// `tanh x` over a run.
pub(crate) fn tanh_run(x: &[f32], out: &mut Vec<f32>) {
    run_f32(x, out, tanh_f32)
}

/// `sigmoid x` over a run.
pub(crate) fn sigmoid_run(x: &[f32], out: &mut Vec<f32>) {
    run_f32(x, out, sigmoid_f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in float32 steps (same-signed finite values).
    fn ulps(a: f32, b: f32) -> u32 {
        if a == b || (a.is_nan() && b.is_nan()) {
            return 0;
        }
        let key = |v: f32| {
            let i = v.to_bits() as i32;
            (if i < 0 { i32::MIN - i } else { i }) as i64
        };
        (key(a) - key(b)).unsigned_abs() as u32
    }

    /// Every 997th float32 in `[lo, hi]` against `reference`, the correctly rounded value (to
    /// within float64's double rounding).
    fn check(f: fn(f32) -> f32, reference: impl Fn(f32) -> f32, lo: f32, hi: f32) {
        const STEP: u32 = 997;
        let (mut off, mut n, mut v) = (0usize, 0usize, lo);
        while v < hi {
            let (want, got) = (reference(v), f(v));
            assert!(ulps(got, want) <= 1, "{v:e}: got {got:e}, want {want:e}");
            off += (got.to_bits() != want.to_bits()) as usize;
            n += 1;
            let b = v.to_bits();
            v = f32::from_bits(if v.is_sign_positive() {
                b + STEP
            } else if b > 0x8000_0000 + STEP {
                b - STEP
            } else {
                0
            });
        }
        // Nearly always correctly rounded, not merely within 1 ulp.
        assert!(off * 10_000 < n, "{off} of {n} not correctly rounded");
    }

    #[test]
    fn exp_tanh_sigmoid_match_float64() {
        check(exp_f32, |x| (x as f64).exp() as f32, -110.0, 90.0);
        check(tanh_f32, |x| (x as f64).tanh() as f32, -30.0, 30.0);
        // The scalar body's float32 roundings around a correctly rounded e^-x.
        let sigmoid = |x: f32| 1.0 / (1.0 + (-(x as f64)).exp() as f32);
        check(sigmoid_f32, sigmoid, -110.0, 110.0);
    }

    #[test]
    fn special_values() {
        for f in [exp_f32, tanh_f32, sigmoid_f32] {
            assert!(f(f32::NAN).is_nan());
        }
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(-0.0), 1.0);
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(sigmoid_f32(f32::INFINITY), 1.0);
        assert_eq!(sigmoid_f32(f32::NEG_INFINITY), 0.0);
        // The runs give what the scalar functions give, at every length (vector tails).
        let x: Vec<f32> = (0..37).map(|i| i as f32 * 0.37 - 6.0).collect();
        let mut out = vec![7.0];
        tanh_run(&x, &mut out);
        assert_eq!(out[0], 7.0);
        assert!(out[1..].iter().zip(&x).all(|(&o, &v)| o == tanh_f32(v)));
    }
}
