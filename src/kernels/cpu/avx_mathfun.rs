//! Scalar float32 emulation of one lane of `log256_ps` and `sincos256_ps` from ATen's
//! `aten/src/ATen/native/cpu/avx_mathfun.h` (Giovanni Garberoglio's AVX port of Julien Pommier's
//! sse_mathfun, with Cephes polynomials), as compiled into PyTorch's Linux wheels.
//!
//! Every step is the same float32 operation, in the same order, as the intrinsic sequence of the
//! header, with one addition: the wheels are built by GCC with `-mavx2 -mfma` for the AVX2 kernel
//! and GCC's default `-ffp-contract=fast`, so a `_mm256_mul_ps` whose only use is a
//! `_mm256_add_ps` / `_mm256_sub_ps` is contracted into one FMA (GCC's widening-mul pass walks
//! the statements in order, so when both operands of an add are products, the *first* product
//! is the one fused). Those places use [`f32::mul_add`] here:
//!
//! * `log256_ps`: every Horner step `y = y * x + p_k`; `y * z + e * q1` becomes
//!   `fma(y, z, e * q1)`; `y - z * 0.5` and `x + e * q2` are fused too but their products are
//!   exact, so plain operations give the same bits.
//! * `sincos256_ps`: the three range-reduction steps `x + y * DP_i`, every Horner step
//!   `y * z + p`, the cosine tail `y * z - z * 0.5` as `fma(y, z, -(z * 0.5))` and the sine tail
//!   `y2 * x + x`.
//!
//! Checked against torch 2.15.0+cu132 (CPU capability AVX512, which uses the AVX2 normal kernel):
//! all fixtures plus ~36 million float32 `randn`/`normal_` values match bit for bit. Without the
//! FMA in the log polynomial, `fma(y, z, e * q1)`, the polynomial steps of sincos or its two tails,
//! some values are one ulp off. (Fusing the range reduction or not changes about 1 in 20 million
//! sines; fused is kept since that is what GCC emits.)

// The literals below are copied verbatim from avx_mathfun.h so they can be compared with it.
#![allow(clippy::excessive_precision, clippy::approx_constant)]

/// `_PS256_CONST(Name, Val)` declares a `float` array initialised from a double literal.
fn c(v: f64) -> f32 {
    v as f32
}

const SQRTHF: f64 = 0.707106781186547524;
const LOG_P: [f64; 9] = [
    7.0376836292E-2,
    -1.1514610310E-1,
    1.1676998740E-1,
    -1.2420140846E-1,
    1.4249322787E-1,
    -1.6668057665E-1,
    2.0000714765E-1,
    -2.4999993993E-1,
    3.3333331174E-1,
];
const LOG_Q1: f64 = -2.12194440e-4;
const LOG_Q2: f64 = 0.693359375;

const MINUS_DP1: f64 = -0.78515625;
const MINUS_DP2: f64 = -2.4187564849853515625e-4;
const MINUS_DP3: f64 = -3.77489497744594108e-8;
const SINCOF_P: [f64; 3] = [-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1];
const COSCOF_P: [f64; 3] = [
    2.443315711809948E-005,
    -1.388731625493765E-003,
    4.166664568298827E-002,
];
const FOPI: f64 = 1.27323954473516; // 4 / pi

const MIN_NORM_POS: u32 = 0x0080_0000;
const INV_MANT_MASK: u32 = !0x7f80_0000;
const SIGN_MASK: u32 = 0x8000_0000;

/// One lane of `log256_ps(x)`: natural logarithm, NaN for `x <= 0`, denormals flushed to the
/// smallest normal.
pub fn log256_ps(x: f32) -> f32 {
    let one = 1.0f32;
    let invalid = x <= 0.0;
    // _mm256_max_ps(x, min_norm_pos) returns the second operand unless x > it.
    let mut x = if x > f32::from_bits(MIN_NORM_POS) {
        x
    } else {
        f32::from_bits(MIN_NORM_POS)
    };
    let mut imm0 = (x.to_bits() >> 23) as i32;
    // Keep only the fractional part, with exponent of 0.5: x in [0.5, 1).
    x = f32::from_bits((x.to_bits() & INV_MANT_MASK) | 0.5f32.to_bits());
    imm0 -= 0x7f;
    let mut e = imm0 as f32;
    e += one;

    // if (x < SQRTHF) { e -= 1; x = x + x - 1; } else { x = x - 1; }
    let mask = x < c(SQRTHF);
    let tmp = if mask { x } else { 0.0 };
    x -= one;
    e -= if mask { one } else { 0.0 };
    x += tmp;

    let z = x * x;
    let mut y = c(LOG_P[0]);
    for &p in &LOG_P[1..] {
        y = y.mul_add(x, c(p));
    }
    y *= x;
    y = y.mul_add(z, e * c(LOG_Q1));
    y -= z * 0.5;
    x += y;
    x += e * c(LOG_Q2);
    if invalid { f32::NAN } else { x }
}

/// One lane of `sincos256_ps(x)`: returns `(sin x, cos x)`.
pub fn sincos256_ps(x: f32) -> (f32, f32) {
    let sign_bit_sin = x.to_bits() & SIGN_MASK;
    let mut x = f32::from_bits(x.to_bits() & !SIGN_MASK);

    // Scale by 4/pi and take j = (int(y) + 1) & ~1 (_mm256_cvttps_epi32 truncates).
    let y = x * c(FOPI);
    let mut imm2 = y as i32;
    imm2 = imm2.wrapping_add(1) & !1;
    let y = imm2 as f32;
    let imm4 = imm2;

    // Sign swap for the sine, and polynomial selection (mask set where j & 2 == 0).
    let swap_sign_bit_sin = ((imm2 & 4) as u32) << 29;
    let poly_mask: u32 = if imm2 & 2 == 0 { u32::MAX } else { 0 };

    // "Extended precision modular arithmetic": x = ((x - y*DP1) - y*DP2) - y*DP3.
    x = y.mul_add(c(MINUS_DP1), x);
    x = y.mul_add(c(MINUS_DP2), x);
    x = y.mul_add(c(MINUS_DP3), x);

    let imm4 = imm4.wrapping_sub(2);
    let sign_bit_cos = ((!imm4 & 4) as u32) << 29;
    let sign_bit_sin = sign_bit_sin ^ swap_sign_bit_sin;

    // Cosine polynomial (0 <= x <= pi/4).
    let z = x * x;
    let mut y = c(COSCOF_P[0]);
    y = y.mul_add(z, c(COSCOF_P[1]));
    y = y.mul_add(z, c(COSCOF_P[2]));
    y *= z;
    let tmp = z * 0.5;
    y = y.mul_add(z, -tmp);
    y += 1.0;

    // Sine polynomial.
    let mut y2 = c(SINCOF_P[0]);
    y2 = y2.mul_add(z, c(SINCOF_P[1]));
    y2 = y2.mul_add(z, c(SINCOF_P[2]));
    y2 *= z;
    y2 = y2.mul_add(x, x);

    // Select with and/andnot, then combine exactly as the header does.
    let ysin2 = f32::from_bits(poly_mask & y2.to_bits());
    let ysin1 = f32::from_bits(!poly_mask & y.to_bits());
    let y2 = y2 - ysin2;
    let y = y - ysin1;
    let xmm1 = ysin1 + ysin2;
    let xmm2 = y + y2;
    (
        f32::from_bits(xmm1.to_bits() ^ sign_bit_sin),
        f32::from_bits(xmm2.to_bits() ^ sign_bit_cos),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_to_libm() {
        for k in 1..10_000 {
            let u = k as f32 / 10_000.0;
            assert!((log256_ps(u) - u.ln()).abs() <= 2e-7 * u.ln().abs().max(1.0));
            let t = u * 6.283_185;
            let (s, co) = sincos256_ps(t);
            assert!((s - t.sin()).abs() < 3e-7, "sin {t}");
            assert!((co - t.cos()).abs() < 3e-7, "cos {t}");
        }
        assert!(log256_ps(0.0).is_nan());
        assert_eq!(log256_ps(1.0), 0.0);
    }
}
