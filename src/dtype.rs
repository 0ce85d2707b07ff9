//! Element types: the runtime [`DType`] tag and the [`Element`] / [`Float`] traits the kernels are
//! generic over.

use std::fmt;

/// The element type of a tensor, chosen at run time as in PyTorch (`torch.float32`, ...).
///
/// ```
/// use flambeau::{DType, Tensor};
/// let t = Tensor::zeros([2, 3]);
/// assert_eq!(t.dtype(), DType::F32);
/// assert_eq!(t.to_dtype(DType::F64).dtype(), DType::F64);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum DType {
    /// `torch.float32`, the default floating-point type.
    F32,
    /// `torch.float64`.
    F64,
    /// `torch.int64`, the default integer type (indices, `randint`, `arange` over integers).
    I64,
    /// `torch.bool` (comparison results, masks).
    Bool,
}

impl DType {
    /// Whether the type is a floating-point type (`torch.is_floating_point`).
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// Size of one element in bytes.
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::Bool => 1,
        }
    }

    /// PyTorch's name, as printed in `dtype=torch.float64`.
    pub fn torch_name(self) -> &'static str {
        match self {
            DType::F32 => "torch.float32",
            DType::F64 => "torch.float64",
            DType::I64 => "torch.int64",
            DType::Bool => "torch.bool",
        }
    }

    /// The legacy type name PyTorch uses in some messages (`torch.FloatTensor`).
    pub fn legacy_type_name(self) -> &'static str {
        match self {
            DType::F32 => "torch.FloatTensor",
            DType::F64 => "torch.DoubleTensor",
            DType::I64 => "torch.LongTensor",
            DType::Bool => "torch.BoolTensor",
        }
    }

    /// The C++ scalar name PyTorch uses in messages ("Float", "Double", "Long", "Bool").
    pub fn scalar_name(self) -> &'static str {
        match self {
            DType::F32 => "Float",
            DType::F64 => "Double",
            DType::I64 => "Long",
            DType::Bool => "Bool",
        }
    }

    /// Type category used by promotion: bool < integer < floating point.
    pub(crate) fn category(self) -> u8 {
        match self {
            DType::Bool => 0,
            DType::I64 => 1,
            DType::F32 | DType::F64 => 2,
        }
    }

    /// The promoted type of two dtypes (`torch.promote_types`).
    ///
    /// ```
    /// use flambeau::DType;
    /// assert_eq!(DType::promote(DType::F32, DType::F64), DType::F64);
    /// assert_eq!(DType::promote(DType::I64, DType::F32), DType::F32);
    /// assert_eq!(DType::promote(DType::Bool, DType::I64), DType::I64);
    /// ```
    pub fn promote(a: DType, b: DType) -> DType {
        use DType::*;
        match (a, b) {
            (F64, _) | (_, F64) => F64,
            (F32, _) | (_, F32) => F32,
            (I64, _) | (_, I64) => I64,
            _ => Bool,
        }
    }
}

/// The one dtype dispatcher: runs `$body` with `$T` bound to the Rust element type of `$dtype`.
///
/// `with_dtype!(dtype, T => Tensor::from_vec(vec![T::zero(); n], [n]))`
macro_rules! with_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                type $T = f64;
                $body
            }
            $crate::DType::I64 => {
                type $T = i64;
                $body
            }
            $crate::DType::Bool => {
                type $T = bool;
                $body
            }
        }
    };
}
pub(crate) use with_dtype;

/// Converts one element between types with PyTorch's cast rules (floats truncate toward zero
/// when cast to integers; non-zero is true).
#[inline(always)]
pub(crate) fn convert<S: Element, T: Element>(x: S) -> T {
    if S::DTYPE.is_float() {
        T::from_f64(x.to_f64())
    } else {
        T::from_i64(x.to_i64())
    }
}

/// A dtype that can be replaced while others read it (`Tensor::set_data`).
pub(crate) struct AtomicDType(std::sync::atomic::AtomicU8);

impl AtomicDType {
    pub fn new(d: DType) -> AtomicDType {
        AtomicDType(std::sync::atomic::AtomicU8::new(d as u8))
    }
    #[inline]
    pub fn get(&self) -> DType {
        match self.0.load(std::sync::atomic::Ordering::Relaxed) {
            0 => DType::F32,
            1 => DType::F64,
            2 => DType::I64,
            _ => DType::Bool,
        }
    }
    pub fn set(&self, d: DType) {
        self.0.store(d as u8, std::sync::atomic::Ordering::Relaxed)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.torch_name())
    }
}

/// A Rust type that can be stored in a tensor: `f32`, `f64`, `i64` or `bool`.
pub trait Element: Copy + Send + Sync + PartialOrd + fmt::Debug + 'static {
    /// The runtime tag of this type.
    const DTYPE: DType;
    /// Converts to `f64` (booleans become 0 or 1).
    fn to_f64(self) -> f64;
    /// Converts from `f64` with Rust's `as` semantics (booleans: non-zero is true).
    fn from_f64(v: f64) -> Self;
    /// Converts to `i64` (floats truncate toward zero, as PyTorch's casts do).
    fn to_i64(self) -> i64;
    /// Converts from `i64`.
    fn from_i64(v: i64) -> Self;
    /// The additive identity.
    fn zero() -> Self;
    /// The multiplicative identity.
    fn one() -> Self;
}

macro_rules! impl_element_num {
    ($t:ty, $d:expr) => {
        impl Element for $t {
            const DTYPE: DType = $d;
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn zero() -> Self {
                0 as $t
            }
            #[inline(always)]
            fn one() -> Self {
                1 as $t
            }
        }
    };
}
impl_element_num!(f32, DType::F32);
impl_element_num!(f64, DType::F64);
impl_element_num!(i64, DType::I64);

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    #[inline(always)]
    fn to_i64(self) -> i64 {
        self as i64
    }
    #[inline(always)]
    fn from_i64(v: i64) -> Self {
        v != 0
    }
    #[inline(always)]
    fn zero() -> Self {
        false
    }
    #[inline(always)]
    fn one() -> Self {
        true
    }
}

/// The arithmetic element types (`f32`, `f64`, `i64`): what `+ - * /`, sums and products work on.
pub trait Num:
    Element
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
    + std::ops::AddAssign
{
    /// `|x|`.
    fn abs(self) -> Self;
    /// The larger of two values; NaN wins, as in `torch.maximum`.
    fn max_nan(self, other: Self) -> Self;
    /// The smaller of two values; NaN wins, as in `torch.minimum`.
    fn min_nan(self, other: Self) -> Self;
    /// Whether the value is NaN (always false for integers).
    fn is_nan(self) -> bool;
    /// The smallest value of the type (`-inf` for floats).
    fn lowest() -> Self;
    /// The largest value of the type (`inf` for floats).
    fn highest() -> Self;
}

macro_rules! impl_num_float {
    ($t:ty) => {
        impl Num for $t {
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn max_nan(self, other: Self) -> Self {
                if self.is_nan() || other.is_nan() {
                    <$t>::NAN
                } else if self >= other {
                    self
                } else {
                    other
                }
            }
            #[inline(always)]
            fn min_nan(self, other: Self) -> Self {
                if self.is_nan() || other.is_nan() {
                    <$t>::NAN
                } else if self <= other {
                    self
                } else {
                    other
                }
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            fn lowest() -> Self {
                <$t>::NEG_INFINITY
            }
            fn highest() -> Self {
                <$t>::INFINITY
            }
        }
    };
}
impl_num_float!(f32);
impl_num_float!(f64);

impl Num for i64 {
    #[inline(always)]
    fn abs(self) -> Self {
        i64::wrapping_abs(self)
    }
    #[inline(always)]
    fn max_nan(self, other: Self) -> Self {
        self.max(other)
    }
    #[inline(always)]
    fn min_nan(self, other: Self) -> Self {
        self.min(other)
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        false
    }
    fn lowest() -> Self {
        i64::MIN
    }
    fn highest() -> Self {
        i64::MAX
    }
}

/// The floating-point element types (`f32`, `f64`): what `exp`, `log`, `softmax` and autograd work on.
pub trait Float: Num + std::fmt::Display + std::ops::Rem<Output = Self> {
    /// Machine epsilon.
    const EPSILON: Self;
    /// Not a number.
    const NAN: Self;
    /// Positive infinity.
    const INFINITY: Self;
    /// `e^x`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// `ln(1 + x)`, accurate near zero.
    fn ln_1p(self) -> Self;
    /// `e^x - 1`, accurate near zero.
    fn exp_m1(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Sine.
    fn sin(self) -> Self;
    /// Cosine.
    fn cos(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Hyperbolic sine.
    fn sinh(self) -> Self;
    /// Hyperbolic cosine.
    fn cosh(self) -> Self;
    /// `x^y` with a float exponent.
    fn powf(self, y: Self) -> Self;
    /// `x^n` with an integer exponent.
    fn powi(self, n: i32) -> Self;
    /// The error function.
    fn erf(self) -> Self;
    /// `self * a + b` with one rounding.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// Whether the value is finite.
    fn is_finite(self) -> bool;
    /// Rounds toward negative infinity.
    fn floor(self) -> Self;
    /// Rounds toward positive infinity.
    fn ceil(self) -> Self;
    /// Rounds to the nearest integer, ties to even (`torch.round`).
    fn round_ties_even(self) -> Self;
    /// Rounds toward zero.
    fn trunc(self) -> Self;
    /// Tangent.
    fn tan(self) -> Self;
    /// Arcsine.
    fn asin(self) -> Self;
    /// Arccosine.
    fn acos(self) -> Self;
    /// Arctangent.
    fn atan(self) -> Self;
    /// The angle of the point `(other, self)`.
    fn atan2(self, other: Self) -> Self;
    /// `2^x`.
    fn exp2(self) -> Self;
    /// Base-2 logarithm.
    fn log2(self) -> Self;
    /// Base-10 logarithm.
    fn log10(self) -> Self;
    /// The largest finite value.
    fn max_finite() -> Self;
}

macro_rules! impl_float {
    ($t:ty, $erf:path) => {
        impl Float for $t {
            const EPSILON: Self = <$t>::EPSILON;
            const NAN: Self = <$t>::NAN;
            const INFINITY: Self = <$t>::INFINITY;
            #[inline(always)]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                <$t>::ln_1p(self)
            }
            #[inline(always)]
            fn exp_m1(self) -> Self {
                <$t>::exp_m1(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline(always)]
            fn sinh(self) -> Self {
                <$t>::sinh(self)
            }
            #[inline(always)]
            fn cosh(self) -> Self {
                <$t>::cosh(self)
            }
            #[inline(always)]
            fn powf(self, y: Self) -> Self {
                <$t>::powf(self, y)
            }
            #[inline(always)]
            fn powi(self, n: i32) -> Self {
                <$t>::powi(self, n)
            }
            #[inline(always)]
            fn erf(self) -> Self {
                $erf(self)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$t>::mul_add(self, a, b)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn floor(self) -> Self {
                <$t>::floor(self)
            }
            #[inline(always)]
            fn ceil(self) -> Self {
                <$t>::ceil(self)
            }
            #[inline(always)]
            fn round_ties_even(self) -> Self {
                <$t>::round_ties_even(self)
            }
            #[inline(always)]
            fn trunc(self) -> Self {
                <$t>::trunc(self)
            }
            #[inline(always)]
            fn tan(self) -> Self {
                <$t>::tan(self)
            }
            #[inline(always)]
            fn asin(self) -> Self {
                <$t>::asin(self)
            }
            #[inline(always)]
            fn acos(self) -> Self {
                <$t>::acos(self)
            }
            #[inline(always)]
            fn atan(self) -> Self {
                <$t>::atan(self)
            }
            #[inline(always)]
            fn exp2(self) -> Self {
                <$t>::exp2(self)
            }
            #[inline(always)]
            fn log2(self) -> Self {
                <$t>::log2(self)
            }
            #[inline(always)]
            fn log10(self) -> Self {
                <$t>::log10(self)
            }
            #[inline(always)]
            fn atan2(self, other: Self) -> Self {
                <$t>::atan2(self, other)
            }
            #[inline(always)]
            fn max_finite() -> Self {
                <$t>::MAX
            }
        }
    };
}
impl_float!(f32, libm::erff);
impl_float!(f64, libm::erf);
