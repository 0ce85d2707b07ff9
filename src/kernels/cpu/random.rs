//! PyTorch's CPU distribution kernels behind `torch.rand`, `torch.randn`, `Tensor.uniform_`,
//! `Tensor.normal_` and `torch.bernoulli`, over the generator of `random/generator.rs`, bit for
//! bit: each fill writes, in logical (flat, row-major) element order, exactly the values PyTorch
//! writes, and advances the generator as PyTorch does.

use super::avx_mathfun::{log256_ps, sincos256_ps};
use crate::random::generator::GeneratorState;

/// `uniform_impl_`'s argument check: torch raises for `from > to` (and for non-finite bounds).
fn check_uniform_args(from: f64, to: f64) {
    assert!(
        from <= to && from.is_finite() && to.is_finite(),
        "uniform_ expects to return a [from, to) range, but found from={from} > to={to}"
    );
}

/// `normal_impl_`'s argument check: torch raises for a negative std.
fn check_normal_args(std: f64) {
    assert!(std >= 0.0, "normal expects std >= 0.0, but found std {std}");
}

/// Fills `out` like `torch.rand(n)` (`from = 0, to = 1`) or `torch.empty(n).uniform_(from, to)`
/// for a float32 tensor: ATen `uniform_kernel` (native/cpu/DistributionTemplates.h), a serial loop
/// of `at::uniform_real_distribution<float>(float(from), float(to))`. Each element consumes one
/// 32-bit draw: `u = (random() & 0xffffff) * 2^-24`, value `fmaf(u, to - from, from)` in float32.
/// The order of elements is the logical order also for non-contiguous tensors (TensorIterator
/// serial loop), so `out` holds the values in flat row-major order.
///
/// Panics if `from > to` or a bound is not finite (torch raises).
pub fn uniform_f32(g: &mut GeneratorState, out: &mut [f32], from: f64, to: f64) {
    check_uniform_args(from, to);
    let (from, to) = (from as f32, to as f32);
    for v in out.iter_mut() {
        *v = g.uniform_real_f32(from, to);
    }
}

/// Fills `out` like `torch.rand(n, dtype=torch.float64)` / `uniform_(from, to)` on a float64
/// tensor: `at::uniform_real_distribution<double>`, one `random64()` per element,
/// `u = (random64() & (2^53 - 1)) * 2^-53`, value `fma(u, to - from, from)`.
///
/// Panics if `from > to` or a bound is not finite (torch raises).
pub fn uniform_f64(g: &mut GeneratorState, out: &mut [f64], from: f64, to: f64) {
    check_uniform_args(from, to);
    for v in out.iter_mut() {
        *v = g.uniform_real_f64(from, to);
    }
}

/// The 16-value block of ATen's `normal_fill_16_AVX2`: Box–Muller on `u1 = 1 - data[j]`,
/// `u2 = data[j + 8]` (j < 8), with the AVX polynomial log/sincos, writing
/// `fma(radius * cos, std, mean)` to `data[j]` and `fma(radius * sin, std, mean)` to `data[j+8]`.
fn normal_fill_16_avx2(data: &mut [f32], mean: f32, std: f32) {
    let two_pi = (2.0 * std::f64::consts::PI) as f32;
    for j in 0..8 {
        let u1 = 1.0f32 - data[j];
        let u2 = data[j + 8];
        let radius = (-2.0f32 * log256_ps(u1)).sqrt();
        let theta = two_pi * u2;
        let (sin, cos) = sincos256_ps(theta);
        data[j] = (radius * cos).mul_add(std, mean);
        data[j + 8] = (radius * sin).mul_add(std, mean);
    }
}

/// The 16-value block of ATen's scalar `normal_fill_16<double>`:
/// `radius = sqrt(-2 * log(1 - data[j]))`, `theta = 2 * pi * data[j + 8]`,
/// `data[j] = radius * cos(theta) * std + mean`, `data[j + 8] = radius * sin(theta) * std + mean`
/// (the final multiply-add fused, as GCC compiles it in the AVX2 kernel).
fn normal_fill_16_f64(data: &mut [f64], mean: f64, std: f64) {
    for j in 0..8 {
        let u1 = 1.0 - data[j];
        let u2 = data[j + 8];
        let radius = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        data[j] = (radius * theta.cos()).mul_add(std, mean);
        data[j + 8] = (radius * theta.sin()).mul_add(std, mean);
    }
}

/// ATen's `normal_fill` / `normal_fill_AVX2` driver: draws `uniform(0, 1)` for the whole buffer,
/// transforms every complete block of 16, and, when `len % 16 != 0`, redraws the last 16
/// positions (overlapping the previous block) and transforms them again.
fn normal_fill<T: Copy>(
    g: &mut GeneratorState,
    out: &mut [T],
    mut uniform: impl FnMut(&mut GeneratorState) -> T,
    mut block: impl FnMut(&mut [T]),
) {
    let size = out.len();
    for v in out.iter_mut() {
        *v = uniform(g);
    }
    for chunk in out.chunks_exact_mut(16) {
        block(chunk);
    }
    if !size.is_multiple_of(16) {
        let tail = &mut out[size - 16..];
        for v in tail.iter_mut() {
            *v = uniform(g);
        }
        block(tail);
    }
}

/// Fills `out` like `torch.randn(n)` (`mean = 0, std = 1`) or `torch.empty(n).normal_(mean, std)`
/// on a float32 tensor: ATen `normal_kernel` (native/cpu/DistributionTemplates.h).
///
/// * `out.len() >= 16` and `contiguous`: `normal_fill_AVX2(self, float(mean), float(std))`. All
///   `n` uniforms are drawn first (`uniform_real_distribution<float>(0, 1)`, one `random()`
///   each), then every block of 16 is transformed by `normal_fill_16_AVX2` (Box–Muller with
///   `u1 = 1 - u[j]`, `u2 = u[j + 8]`, `log256_ps` and `sincos256_ps` from avx_mathfun.h, result
///   `_mm256_fmadd_ps(n, std, mean)`); if `n % 16 != 0` the last 16 positions are redrawn and
///   transformed again. PyTorch uses this AVX2 kernel also on AVX512 machines
///   (`REGISTER_NO_AVX512_DISPATCH(normal_stub)`). The polynomials are emulated in scalar
///   float32 with the FMA contractions GCC applies (see the `avx_mathfun` module).
/// * otherwise (fewer than 16 elements, or `contiguous == false`, i.e. the tensor being filled is
///   a non-contiguous view): a serial loop of `at::normal_distribution<double>(mean, std)`, the
///   double Box–Muller with the generator's cached second sample, each result cast to float32.
///   This path reads and updates the cached normal of `g`; the vectorised path leaves it alone.
///
/// `out` is in logical element order in both cases. Panics if `std < 0` (torch raises).
pub fn normal_f32(g: &mut GeneratorState, out: &mut [f32], mean: f64, std: f64, contiguous: bool) {
    check_normal_args(std);
    if out.len() >= 16 && contiguous {
        let (mean, std) = (mean as f32, std as f32);
        normal_fill(
            g,
            out,
            |g| g.uniform_real_f32(0.0, 1.0),
            |block| normal_fill_16_avx2(block, mean, std),
        );
    } else {
        for v in out.iter_mut() {
            *v = g.normal_f64_scalar(mean, std) as f32;
        }
    }
}

/// Fills `out` like `torch.randn(n, dtype=torch.float64)` / `normal_(mean, std)` on a float64
/// tensor: ATen `normal_kernel`. For `n >= 16` and `contiguous`, `normal_fill<double>` (all
/// uniforms first via `uniform_real_distribution<double>`, one `random64()` each, then the scalar
/// `normal_fill_16` with libm `log`/`cos`/`sin` per block of 16, the last 16 redrawn when
/// `n % 16 != 0`); otherwise the serial `at::normal_distribution<double>` path with the cached
/// sample (see [`normal_f32`]). In both paths `val * std + mean` is one fused multiply-add, as
/// GCC compiles it. Uses the platform libm (glibc on Linux, like PyTorch's wheels).
/// Panics if `std < 0` (torch raises).
pub fn normal_f64(g: &mut GeneratorState, out: &mut [f64], mean: f64, std: f64, contiguous: bool) {
    check_normal_args(std);
    if out.len() >= 16 && contiguous {
        normal_fill(
            g,
            out,
            |g| g.uniform_real_f64(0.0, 1.0),
            |block| normal_fill_16_f64(block, mean, std),
        );
    } else {
        for v in out.iter_mut() {
            *v = g.normal_f64_scalar(mean, std);
        }
    }
}

/// Fills `out` like `torch.bernoulli(p)` for a float32 probability tensor `p` (result float32):
/// ATen `bernoulli_tensor_kernel` → `templates::cpu::bernoulli_kernel(self, p_)`, a serial loop
/// of `at::bernoulli_distribution<float>(p_val)`: one `uniform_real_distribution<float>(0, 1)`
/// draw (one `random()`, 24 bits) per element, result `1.0` if `u < p` else `0.0`.
/// Panics if `p.len() != out.len()`.
pub fn bernoulli_tensor_f32(g: &mut GeneratorState, p: &[f32], out: &mut [f32]) {
    assert_eq!(
        p.len(),
        out.len(),
        "bernoulli: p and out must have the same length"
    );
    for (o, &pv) in out.iter_mut().zip(p) {
        let u = g.uniform_real_f32(0.0, 1.0);
        *o = if u < pv { 1.0 } else { 0.0 };
    }
}

/// Fills `out` like `torch.bernoulli(p)` for a float64 probability tensor `p` (result float64):
/// the `kDouble` branch of ATen's `bernoulli_kernel`, `at::bernoulli_distribution<double>`: one
/// `uniform_real_distribution<double>(0, 1)` draw (one `random64()`, 53 bits) per element,
/// result `1.0` if `u < p` else `0.0`. Panics if `p.len() != out.len()`.
pub fn bernoulli_tensor_f64(g: &mut GeneratorState, p: &[f64], out: &mut [f64]) {
    assert_eq!(
        p.len(),
        out.len(),
        "bernoulli: p and out must have the same length"
    );
    for (o, &pv) in out.iter_mut().zip(p) {
        let u = g.uniform_real_f64(0.0, 1.0);
        *o = if u < pv { 1.0 } else { 0.0 };
    }
}
