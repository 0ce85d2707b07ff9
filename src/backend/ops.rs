//! Elementwise operations, each declared once: PyTorch's name, one float body (compiled for f32
//! and f64), the integer and bool bodies where PyTorch has them, and a hook for a vectorised body
//! over a contiguous run. Every backend runs these declarations out of place, in place and
//! against a scalar, so a new elementwise op is one declaration here plus its tensor method in
//! `ops/` (type promotion and autograd); no kernel loop is written again.

use super::vmath;
use crate::dtype::{DType, Float};

/// PyTorch's message for a dtype an op has no kernel for.
#[track_caller]
fn not_implemented(name: &str, dtype: DType) -> ! {
    panic!("\"{name}\" not implemented for '{}'", dtype.scalar_name())
}

/// An elementwise function of one value.
pub(crate) trait UnaryOp: Copy + Send + Sync {
    /// PyTorch's name of the kernel, as its "not implemented" messages print it.
    const NAME: &'static str;
    /// The float32 / float64 body.
    #[track_caller]
    fn float<T: Float>(self, _x: T) -> T {
        not_implemented(Self::NAME, T::DTYPE)
    }
    /// The int64 body.
    #[track_caller]
    fn int(self, _x: i64) -> i64 {
        not_implemented(Self::NAME, DType::I64)
    }
    /// The bool body.
    #[track_caller]
    fn boolean(self, _x: bool) -> bool {
        not_implemented(Self::NAME, DType::Bool)
    }
    /// The hook for a vectorised float32 body: appends `f(x)` for a contiguous run.
    #[inline(always)]
    fn f32_run(self, x: &[f32], out: &mut Vec<f32>) {
        out.extend(x.iter().map(|&v| self.float(v)));
    }
    /// The hook for a vectorised float64 body.
    #[inline(always)]
    fn f64_run(self, x: &[f64], out: &mut Vec<f64>) {
        out.extend(x.iter().map(|&v| self.float(v)));
    }
}

/// An elementwise function of two values (the second may be a scalar).
pub(crate) trait BinaryOp: Copy + Send + Sync {
    /// PyTorch's name of the kernel.
    const NAME: &'static str;
    /// The float32 / float64 body.
    #[track_caller]
    fn float<T: Float>(self, _a: T, _b: T) -> T {
        not_implemented(Self::NAME, T::DTYPE)
    }
    /// The int64 body.
    #[track_caller]
    fn int(self, _a: i64, _b: i64) -> i64 {
        not_implemented(Self::NAME, DType::I64)
    }
    /// The bool body.
    #[track_caller]
    fn boolean(self, _a: bool, _b: bool) -> bool {
        not_implemented(Self::NAME, DType::Bool)
    }
    /// The hook for a vectorised float32 body over two contiguous runs of equal length.
    #[inline(always)]
    fn f32_run(self, a: &[f32], b: &[f32], out: &mut Vec<f32>) {
        out.extend(a.iter().zip(b).map(|(&x, &y)| self.float(x, y)));
    }
    /// The hook for a vectorised float64 body.
    #[inline(always)]
    fn f64_run(self, a: &[f64], b: &[f64], out: &mut Vec<f64>) {
        out.extend(a.iter().zip(b).map(|(&x, &y)| self.float(x, y)));
    }
}

/// A comparison, one generic body for every dtype; the result is bool.
pub(crate) trait CmpOp: Copy + Send + Sync {
    /// The body.
    fn cmp<T: PartialOrd>(self, a: T, b: T) -> bool;
}

/// Declares unary ops: `Name { params } = "kernel name", |op, x| float body, int |op, x| ..,
/// bool |op, x| .., f32_run path;` (the last: a vectorised float32 body over a contiguous run).
macro_rules! unary_ops {
    ($(
        $(#[$m:meta])*
        $name:ident { $($f:ident : $ft:ty),* $(,)? } = $torch:literal
        $(, |$op:ident, $x:ident| $float:expr)?
        $(, int |$opi:ident, $xi:ident| $int:expr)?
        $(, bool |$opb:ident, $xb:ident| $boolean:expr)?
        $(, f32_run $run:path)?
        ;
    )*) => {$(
        $(#[$m])*
        #[derive(Clone, Copy, Debug)]
        pub(crate) struct $name { $(pub(crate) $f: $ft),* }
        impl UnaryOp for $name {
            const NAME: &'static str = $torch;
            $(
                #[inline(always)]
                #[allow(unused_variables)]
                fn float<T: Float>(self, $x: T) -> T {
                    let $op = self;
                    $float
                }
            )?
            $(
                #[inline(always)]
                #[allow(unused_variables)]
                fn int(self, $xi: i64) -> i64 {
                    let $opi = self;
                    $int
                }
            )?
            $(
                #[inline(always)]
                #[allow(unused_variables)]
                fn boolean(self, $xb: bool) -> bool {
                    let $opb = self;
                    $boolean
                }
            )?
            $(
                #[inline(always)]
                fn f32_run(self, x: &[f32], out: &mut Vec<f32>) {
                    $run(x, out)
                }
            )?
        }
    )*};
}

/// Declares binary ops: `Name { params } = "kernel name", |op, a, b| float body, int |a, b| ..;`.
macro_rules! binary_ops {
    ($(
        $(#[$m:meta])*
        $name:ident { $($f:ident : $ft:ty),* $(,)? } = $torch:literal
        $(, |$op:ident, $a:ident, $b:ident| $float:expr)?
        $(, int |$ai:ident, $bi:ident| $int:expr)?
        $(, bool |$ab:ident, $bb:ident| $boolean:expr)?
        ;
    )*) => {$(
        $(#[$m])*
        #[derive(Clone, Copy, Debug)]
        pub(crate) struct $name { $(pub(crate) $f: $ft),* }
        impl BinaryOp for $name {
            const NAME: &'static str = $torch;
            $(
                #[inline(always)]
                #[allow(unused_variables)]
                fn float<T: Float>(self, $a: T, $b: T) -> T {
                    let $op = self;
                    $float
                }
            )?
            $(
                #[inline(always)]
                fn int(self, $ai: i64, $bi: i64) -> i64 {
                    $int
                }
            )?
            $(
                #[inline(always)]
                fn boolean(self, $ab: bool, $bb: bool) -> bool {
                    $boolean
                }
            )?
        }
    )*};
}

/// Declares comparisons.
macro_rules! cmp_ops {
    ($($name:ident = |$a:ident, $b:ident| $body:expr;)*) => {$(
        #[derive(Clone, Copy, Debug)]
        pub(crate) struct $name;
        impl CmpOp for $name {
            #[inline(always)]
            fn cmp<T: PartialOrd>(self, $a: T, $b: T) -> bool {
                $body
            }
        }
    )*};
}

/// Converts a parameter to the element type of the body.
#[inline(always)]
fn c<T: Float>(v: f64) -> T {
    T::from_f64(v)
}

#[inline(always)]
pub(crate) fn sigmoid<T: Float>(x: T) -> T {
    T::one() / (T::one() + (-x).exp())
}

const SQRT1_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// `sqrt(2/pi)`, PyTorch's `kBeta` (`M_SQRT2 * M_2_SQRTPI * 0.5`).
pub(crate) const GELU_BETA: f64 = std::f64::consts::SQRT_2 * std::f64::consts::FRAC_2_SQRT_PI * 0.5;
pub(crate) const GELU_KAPPA: f64 = 0.044715;

#[inline(always)]
fn gelu_tanh<T: Float>(x: T) -> T {
    let inner = c::<T>(GELU_BETA) * (x + c::<T>(GELU_KAPPA) * x * x * x);
    c::<T>(0.5) * x * (T::one() + inner.tanh())
}

#[inline(always)]
fn gelu_exact_grad<T: Float>(x: T) -> T {
    let cdf = c::<T>(0.5) * (T::one() + (x * c::<T>(SQRT1_2)).erf());
    let pdf =
        (c::<T>(-0.5) * x * x).exp() * c::<T>(0.5 * std::f64::consts::FRAC_2_SQRT_PI * SQRT1_2);
    cdf + x * pdf
}

#[inline(always)]
fn gelu_tanh_grad<T: Float>(x: T) -> T {
    let (beta, kappa) = (c::<T>(GELU_BETA), c::<T>(GELU_KAPPA));
    let x_sq = x * x;
    let inner = beta * (x + kappa * x_sq * x);
    let t = inner.tanh();
    let left = c::<T>(0.5) * x;
    let right = T::one() + t;
    let left_derivative = c::<T>(0.5) * right;
    let right_derivative = (T::one() - t * t) * beta * (T::one() + c::<T>(3.0) * kappa * x_sq);
    left_derivative + left * right_derivative
}

/// The inverse error function, ATen's `calc_erfinv`: a rational first guess (Pavlis' erfinv),
/// refined by two Newton steps.
fn erfinv<T: Float>(y: T) -> T {
    let a = [
        c::<T>(0.886226899),
        c(-1.645349621),
        c(0.914624893),
        c(-0.140543331),
    ];
    let b = [
        c::<T>(-2.118377725),
        c(1.442710462),
        c(-0.329097515),
        c(0.012229801),
    ];
    let cc = [
        c::<T>(-1.970840454),
        c(-1.624906493),
        c(3.429567803),
        c(1.641345311),
    ];
    let d = [c::<T>(3.543889200), c(1.637067800)];
    let y_abs = y.abs();
    if y_abs > T::one() {
        return T::NAN;
    }
    if y_abs == T::one() {
        return if y > T::zero() {
            T::INFINITY
        } else {
            -T::INFINITY
        };
    }
    let mut x = if y_abs <= c(0.7) {
        let z = y * y;
        let num = ((a[3] * z + a[2]) * z + a[1]) * z + a[0];
        let dem = (((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + T::one();
        y * num / dem
    } else {
        let z = (-((T::one() - y_abs) / c(2.0)).ln()).sqrt();
        let num = ((cc[3] * z + cc[2]) * z + cc[1]) * z + cc[0];
        let dem = (d[1] * z + d[0]) * z + T::one();
        let num = if y < T::zero() { -num } else { num };
        num / dem
    };
    let two_over_sqrt_pi = c::<T>(std::f64::consts::FRAC_2_SQRT_PI);
    for _ in 0..2 {
        x = x - (x.erf() - y) / (two_over_sqrt_pi * (-x * x).exp());
    }
    x
}

/// `a^b` with the shortcuts PyTorch's kernel takes for common exponents (exact squares and roots).
#[inline(always)]
fn pow_float<T: Float>(a: T, b: T) -> T {
    let two = c::<T>(2.0);
    if b == two {
        a * a
    } else if b == c(0.5) {
        a.sqrt()
    } else if b == T::one() {
        a
    } else if b == c(3.0) {
        a * a * a
    } else if b == c(-1.0) {
        T::one() / a
    } else if b == -two {
        T::one() / (a * a)
    } else {
        a.powf(b)
    }
}

#[track_caller]
fn pow_int(a: i64, b: i64) -> i64 {
    if b < 0 {
        panic!("Integers to negative integer powers are not allowed.");
    }
    a.wrapping_pow(b as u32)
}

unary_ops! {
    /// `-x`.
    Neg {} = "neg_cpu", |op, x| -x, int |op, x| x.wrapping_neg();
    /// `|x|`.
    Abs {} = "abs_cpu", |op, x| x.abs(), int |op, x| x.wrapping_abs(), bool |op, x| x;
    /// -1, 0 or 1 by sign (zero keeps its sign, NaN stays NaN).
    Sign {} = "sign_cpu", |op, x| if x > T::zero() { T::one() } else if x < T::zero() { -T::one() } else { x * T::zero() },
        int |op, x| x.signum();
    /// `e^x`.
    Exp {} = "exp_vml_cpu", |op, x| x.exp(), f32_run vmath::exp_run;
    /// `ln x`.
    Log {} = "log_vml_cpu", |op, x| x.ln();
    /// `ln(1 + x)`.
    Log1p {} = "log1p_vml_cpu", |op, x| x.ln_1p();
    /// `sqrt x`.
    Sqrt {} = "sqrt_vml_cpu", |op, x| x.sqrt();
    /// `1 / sqrt x`.
    Rsqrt {} = "rsqrt_cpu", |op, x| T::one() / x.sqrt();
    /// `1 / x`.
    Reciprocal {} = "reciprocal_cpu", |op, x| T::one() / x;
    /// `sin x`.
    Sin {} = "sin_vml_cpu", |op, x| x.sin();
    /// `cos x`.
    Cos {} = "cos_vml_cpu", |op, x| x.cos();
    /// `tanh x`.
    Tanh {} = "tanh_vml_cpu", |op, x| x.tanh(), f32_run vmath::tanh_run;
    /// `sinh x`.
    Sinh {} = "sinh_cpu", |op, x| x.sinh();
    /// `cosh x`.
    Cosh {} = "cosh_cpu", |op, x| x.cosh();
    /// `1 / (1 + e^-x)`.
    Sigmoid {} = "sigmoid_cpu", |op, x| sigmoid(x), f32_run vmath::sigmoid_run;
    /// `max(x, 0)`, NaN passing through.
    Relu {} = "clamp_min_scalar_cpu", |op, x| if x > T::zero() || x.is_nan() { x } else { T::zero() },
        int |op, x| x.max(0);
    /// `x` where positive, `slope * x` elsewhere.
    LeakyRelu { slope: f64 } = "leaky_relu_cpu", |op, x| if x > T::zero() { x } else { x * c::<T>(op.slope) };
    /// `x` where positive, `alpha * (e^x - 1)` elsewhere.
    /// ATen's `elu_kernel`: `x * scale` where positive, `expm1(x * input_scale) * alpha * scale`
    /// elsewhere (`elu`, `selu`, `celu`), the coefficients rounded to the element type first.
    Elu { alpha: f64, scale: f64, input_scale: f64 } = "elu_cpu", |op, x| if x > T::zero() { x * c::<T>(op.scale) } else { (x * c::<T>(op.input_scale)).exp_m1() * (c::<T>(op.alpha) * c::<T>(op.scale)) };
    /// `x * Φ(x)` with the exact erf.
    Gelu {} = "GeluKernelImpl", |op, x| x * c::<T>(0.5) * (T::one() + (x * c::<T>(SQRT1_2)).erf());
    /// GELU's tanh approximation.
    GeluTanh {} = "GeluKernelImpl", |op, x| gelu_tanh(x);
    /// `x * sigmoid(x)`.
    Silu {} = "silu_cpu", |op, x| x * sigmoid(x);
    /// `log(1 + e^(beta x)) / beta`, linear above the threshold.
    Softplus { beta: f64, threshold: f64 } = "softplus_cpu", |op, x| {
        let (beta, threshold) = (c::<T>(op.beta), c::<T>(op.threshold));
        if x * beta > threshold { x } else { (x * beta).exp().ln_1p() / beta }
    };
    /// `min(max(x, lo), hi)`, NaN passing through.
    Clamp { lo: f64, hi: f64 } = "clamp_cpu", |op, x| if x.is_nan() { x } else { x.max_nan(c(op.lo)).min_nan(c(op.hi)) },
        int |op, x| x.max(clamp_bound(op.lo, i64::MIN)).min(clamp_bound(op.hi, i64::MAX));
    /// The inverse error function.
    Erfinv {} = "erfinv_cpu", |op, x| erfinv(x);
    /// Rounds toward negative infinity.
    Floor {} = "floor_cpu", |op, x| x.floor();
    /// Rounds toward positive infinity.
    Ceil {} = "ceil_cpu", |op, x| x.ceil();
    /// Rounds half to even.
    Round {} = "round_cpu", |op, x| x.round_ties_even();
    /// Logical not (bool operands).
    LogicalNot {} = "logical_not_cpu", bool |op, x| !x;
    /// The error function.
    Erf {} = "erf_vml_cpu", |op, x| x.erf();
    /// `2^x`.
    Exp2 {} = "exp2_vml_cpu", |op, x| x.exp2();
    /// `e^x - 1`, accurate near zero.
    Expm1 {} = "expm1_vml_cpu", |op, x| x.exp_m1();
    /// Base-2 logarithm.
    Log2 {} = "log2_vml_cpu", |op, x| x.log2();
    /// Base-10 logarithm.
    Log10 {} = "log10_vml_cpu", |op, x| x.log10();
    /// Tangent.
    Tan {} = "tan_vml_cpu", |op, x| x.tan();
    /// Arcsine.
    Asin {} = "asin_vml_cpu", |op, x| x.asin();
    /// Arccosine.
    Acos {} = "acos_vml_cpu", |op, x| x.acos();
    /// Arctangent.
    Atan {} = "atan_vml_cpu", |op, x| x.atan();
    /// Rounds toward zero.
    Trunc {} = "trunc_cpu", |op, x| x.trunc();
    /// `x - trunc(x)` (ATen's `frac_kernel`).
    Frac {} = "frac_cpu", |op, x| x - x.trunc();
    /// Replaces NaN, +inf and -inf (ATen's `nan_to_num_kernel`; the infinities default to the
    /// type's largest and lowest finite values).
    NanToNum { nan: f64, posinf: Option<f64>, neginf: Option<f64> } = "nan_to_num", |op, x| {
        if x.is_nan() {
            c(op.nan)
        } else if x == T::INFINITY {
            op.posinf.map_or(T::max_finite(), c)
        } else if x == -T::INFINITY {
            op.neginf.map_or(-T::max_finite(), c)
        } else {
            x
        }
    }, int |op, x| x, bool |op, x| x;
    /// `x * tanh(log1p(e^x))` (ATen's `mish_kernel`).
    Mish {} = "mish_cpu", |op, x| x * x.exp().ln_1p().tanh();
    /// `x * min(max(x + 3, 0), 6) / 6` (ATen's `hardswish_kernel`).
    Hardswish {} = "hardswish_cpu", |op, x| x * std_min(std_max(x + c(3.0), T::zero()), c(6.0)) / c(6.0);
    /// `min(max(x + 3, 0), 6) / 6` (ATen's `hardsigmoid_kernel`).
    Hardsigmoid {} = "hardsigmoid_cpu", |op, x| std_min(std_max(x + c(3.0), T::zero()), c(6.0)) / c(6.0);
}

/// C++'s `std::max(a, b)`: `a < b ? b : a` (a NaN `a` is kept).
#[inline(always)]
fn std_max<T: Float>(a: T, b: T) -> T {
    if a < b { b } else { a }
}

/// C++'s `std::min(a, b)`: `b < a ? b : a` (a NaN `a` is kept).
#[inline(always)]
fn std_min<T: Float>(a: T, b: T) -> T {
    if b < a { b } else { a }
}

/// PyTorch's integer division check.
#[track_caller]
fn check_zero_div(b: i64) {
    if b == 0 {
        panic!("ZeroDivisionError");
    }
}

/// ATen's `remainder_kernel` for floats: `fmod`, moved into the divisor's sign.
#[inline(always)]
fn remainder_float<T: Float>(a: T, b: T) -> T {
    let m = a % b;
    if m != T::zero() && ((b < T::zero()) != (m < T::zero())) {
        m + b
    } else {
        m
    }
}

/// ATen's `remainder_kernel` for integers.
#[track_caller]
fn remainder_int(a: i64, b: i64) -> i64 {
    check_zero_div(b);
    let r = a.wrapping_rem(b);
    if r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    }
}

/// ATen's `div_floor_floating`: the quotient from `fmod`, rounded down, so `a == b * q + r`
/// stays consistent with `remainder`.
#[inline(always)]
fn div_floor_float<T: Float>(a: T, b: T) -> T {
    if b == T::zero() {
        return a / b;
    }
    let m = a % b;
    let mut div = (a - m) / b;
    if m != T::zero() && ((b < T::zero()) != (m < T::zero())) {
        div = div - T::one();
    }
    if div != T::zero() {
        let mut q = div.floor();
        if div - q > c(0.5) {
            q = q + T::one();
        }
        q
    } else {
        // copysign(0, a / b)
        let s = a / b;
        if s < T::zero() || (s == T::zero() && (T::one() / s) < T::zero()) {
            -T::zero()
        } else {
            T::zero()
        }
    }
}

/// ATen's `div_floor_integer`.
#[track_caller]
fn div_floor_int(a: i64, b: i64) -> i64 {
    check_zero_div(b);
    if (a < 0) != (b < 0) {
        let (q, r) = (a.wrapping_div(b), a.wrapping_rem(b));
        if r != 0 { q - 1 } else { q }
    } else {
        a.wrapping_div(b)
    }
}

/// An integer clamp bound from a float one (infinite bounds mean no bound).
#[inline(always)]
fn clamp_bound(v: f64, none: i64) -> i64 {
    if v.is_infinite() { none } else { v as i64 }
}

binary_ops! {
    /// `a + b`.
    Add {} = "add_cpu", |op, a, b| a + b, int |a, b| a.wrapping_add(b);
    /// `a - b`.
    Sub {} = "sub_cpu", |op, a, b| a - b, int |a, b| a.wrapping_sub(b);
    /// `a * b`.
    Mul {} = "mul_cpu", |op, a, b| a * b, int |a, b| a.wrapping_mul(b);
    /// `a / b` (true division: integers are divided as floats by the op layer).
    Div {} = "div_true_cpu", |op, a, b| a / b;
    /// `a ** b` with PyTorch's exact shortcuts.
    Pow {} = "pow_cpu", |op, a, b| pow_float(a, b), int |a, b| pow_int(a, b);
    /// The larger value; NaN wins.
    Maximum {} = "maximum_cpu", |op, a, b| a.max_nan(b), int |a, b| a.max(b);
    /// The smaller value; NaN wins.
    Minimum {} = "minimum_cpu", |op, a, b| a.min_nan(b), int |a, b| a.min(b);
    /// Logical and (bool operands).
    LogicalAnd {} = "logical_and_cpu", bool |a, b| a && b;
    /// Logical or (bool operands).
    LogicalOr {} = "logical_or_cpu", bool |a, b| a || b;
    /// Logical xor (bool operands).
    LogicalXor {} = "logical_xor_cpu", bool |a, b| a != b;

    // The named backward ops of derivatives.yaml: `a` is the incoming gradient, `b` the saved
    // input or output.

    /// `threshold_backward(grad, self, threshold)`: `self <= threshold ? 0 : grad`.
    ThresholdBackward { threshold: f64 } = "threshold_backward_cpu", |op, g, x| if x <= c(op.threshold) { T::zero() } else { g };
    /// `sigmoid_backward(grad, output)`: `grad * (1 - y) * y`.
    SigmoidBackward {} = "sigmoid_backward_cpu", |op, g, y| g * (T::one() - y) * y;
    /// `tanh_backward(grad, output)`: `grad * (1 - y²)`.
    TanhBackward {} = "tanh_backward_cpu", |op, g, y| g * (T::one() - y * y);
    /// `gelu_backward(grad, self, approximate='none')`.
    GeluBackward {} = "gelu_backward_cpu", |op, g, x| g * gelu_exact_grad(x);
    /// `gelu_backward(grad, self, approximate='tanh')`.
    GeluTanhBackward {} = "gelu_backward_cpu", |op, g, x| g * gelu_tanh_grad(x);
    /// `softplus_backward(grad, self, beta, threshold)`.
    SoftplusBackward { beta: f64, threshold: f64 } = "softplus_backward_cpu", |op, g, x| {
        let (beta, threshold) = (c::<T>(op.beta), c::<T>(op.threshold));
        if x * beta > threshold { g } else { let z = (x * beta).exp(); g * z / (z + T::one()) }
    };
    /// `silu_backward(grad, self)`: `grad * s * (1 + x (1 - s))`.
    SiluBackward {} = "silu_backward_cpu", |op, g, x| {
        let s = sigmoid(x);
        g * s * (T::one() + x * (T::one() - s))
    };
    /// `leaky_relu_backward(grad, self, slope)`.
    LeakyReluBackward { slope: f64 } = "leaky_relu_backward_cpu", |op, g, x| if x > T::zero() { g } else { g * c::<T>(op.slope) };
    /// `elu_backward(grad, alpha, scale, input_scale, is_result=false, self)`:
    /// `grad * input_scale * alpha * scale * exp(x * input_scale)` where `x <= 0`, else
    /// `grad * scale`.
    EluBackward { alpha: f64, scale: f64, input_scale: f64 } = "elu_backward_cpu", |op, g, x| if x > T::zero() { g * c::<T>(op.scale) } else {
        let is = c::<T>(op.input_scale);
        g * is * (c::<T>(op.alpha) * c::<T>(op.scale)) * (x * is).exp()
    };
    /// Bitwise and (integers; logical and for bools).
    BitwiseAnd {} = "bitwise_and_cpu", int |a, b| a & b, bool |a, b| a & b;
    /// Bitwise or.
    BitwiseOr {} = "bitwise_or_cpu", int |a, b| a | b, bool |a, b| a | b;
    /// Bitwise xor.
    BitwiseXor {} = "bitwise_xor_cpu", int |a, b| a ^ b, bool |a, b| a ^ b;
    /// `atan2(a, b)`: the angle of the point `(b, a)`.
    Atan2 {} = "atan2_cpu", |op, a, b| a.atan2(b);
    /// C's `fmod`: the remainder with the dividend's sign.
    Fmod {} = "fmod_cpu", |op, a, b| a % b, int |a, b| { check_zero_div(b); a.wrapping_rem(b) };
    /// Python's `%`: the remainder with the divisor's sign.
    Remainder {} = "remainder_cpu", |op, a, b| remainder_float(a, b), int |a, b| remainder_int(a, b);
    /// Python's `//`: the quotient rounded down.
    FloorDivide {} = "div_floor_cpu", |op, a, b| div_floor_float(a, b), int |a, b| div_floor_int(a, b);
    /// `hardtanh_backward(grad, self, min_val, max_val)`: zero where `x <= min_val` or
    /// `x >= max_val`.
    HardtanhBackward { lo: f64, hi: f64 } = "hardtanh_backward_cpu", |op, g, x| if x <= c(op.lo) || x >= c(op.hi) { T::zero() } else { g };
    /// `mish_backward(grad, self)`.
    MishBackward {} = "mish_backward_cpu", |op, g, x| {
        let s = T::one() / (T::one() + (-x).exp());
        let t = x.exp().ln_1p().tanh();
        g * (t + x * s * (T::one() - t * t))
    };
    /// `hardswish_backward(grad, self)`.
    HardswishBackward {} = "hardswish_backward_cpu", |op, g, x| {
        if x < c(-3.0) { T::zero() } else if x <= c(3.0) { g * ((x / c(3.0)) + c(0.5)) } else { g }
    };
    /// `hardsigmoid_backward(grad, self)`; ATen's `one_sixth` is the float literal `1.0f / 6.0f`
    /// in every dtype.
    HardsigmoidBackward {} = "hardsigmoid_backward_cpu", |op, g, x| {
        if x > c(-3.0) && x < c(3.0) { g * c((1.0f32 / 6.0f32) as f64) } else { T::zero() }
    };
}

cmp_ops! {
    Eq = |a, b| a == b;
    Ne = |a, b| a != b;
    Lt = |a, b| a < b;
    Le = |a, b| a <= b;
    Gt = |a, b| a > b;
    Ge = |a, b| a >= b;
}
