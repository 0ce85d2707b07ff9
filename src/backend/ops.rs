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
    Elu { alpha: f64 } = "elu_cpu", |op, x| if x > T::zero() { x } else { c::<T>(op.alpha) * x.exp_m1() };
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
    /// `elu_backward(grad, alpha, 1, 1, is_result=false, self)`.
    EluBackward { alpha: f64 } = "elu_backward_cpu", |op, g, x| if x > T::zero() { g } else { g * c::<T>(op.alpha) * x.exp() };
}

cmp_ops! {
    Eq = |a, b| a == b;
    Ne = |a, b| a != b;
    Lt = |a, b| a < b;
    Le = |a, b| a <= b;
    Gt = |a, b| a > b;
    Ge = |a, b| a >= b;
}
