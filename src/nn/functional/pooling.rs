//! Pooling: `F.max_pool1d/2d` (and `_with_indices`), `F.avg_pool1d/2d`, `F.adaptive_avg_pool1d/2d`,
//! `F.adaptive_max_pool1d/2d` (and `_with_indices`), for batched `(N, C, ...)` and unbatched
//! `(C, ...)` inputs. The checks and output sizes are ATen's (`Pool.h`'s `pooling_output_shape`
//! and `pool2d_shape_check`, the meta functions of `max_pool2d_with_indices` and `avg_pool2d`,
//! `MaxPooling.cpp`'s `check_max_pool1d`, `AdaptiveAveragePooling.cpp`), in the same order, with
//! the same messages. 1-D poolings run the 2-D ones on `unsqueeze(-2)` and squeeze the result, as
//! ATen does (so their graphs hold `SqueezeBackward1` over the 2-D node).

use crate::backend::{AvgDivisor, PoolWindows};
use crate::ops::pool as ops;
use crate::tensor::Tensor;
use std::fmt;

/// An int-or-tuple argument of a pooling (`kernel_size=2` or `kernel_size=(2, 3)`). It remembers
/// which form was given, because the layers' reprs print it as given.
///
/// ```
/// use flambeau::nn::functional::PoolSize;
/// assert_eq!(PoolSize::<2>::from(2).values(), [2, 2]);
/// assert_eq!(PoolSize::from((2, 3)).to_string(), "(2, 3)");
/// assert_eq!(PoolSize::<1>::from([3]).to_string(), "(3,)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolSize<const N: usize> {
    /// One int for every dim.
    Int(usize),
    /// One int per dim.
    Tuple([usize; N]),
}

impl<const N: usize> PoolSize<N> {
    /// The value for each dim.
    pub fn values(&self) -> [usize; N] {
        match *self {
            PoolSize::Int(v) => [v; N],
            PoolSize::Tuple(t) => t,
        }
    }
}

impl<const N: usize> From<usize> for PoolSize<N> {
    fn from(v: usize) -> Self {
        PoolSize::Int(v)
    }
}

impl<const N: usize> From<[usize; N]> for PoolSize<N> {
    fn from(v: [usize; N]) -> Self {
        PoolSize::Tuple(v)
    }
}

impl From<(usize,)> for PoolSize<1> {
    fn from(v: (usize,)) -> Self {
        PoolSize::Tuple([v.0])
    }
}

impl From<(usize, usize)> for PoolSize<2> {
    fn from(v: (usize, usize)) -> Self {
        PoolSize::Tuple([v.0, v.1])
    }
}

/// Python's tuple text: `(3,)`, `(2, 3)`.
fn fmt_tuple<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    write!(f, "(")?;
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            write!(f, ", ")?;
        }
        write!(f, "{v}")?;
    }
    if items.len() == 1 {
        write!(f, ",")?;
    }
    write!(f, ")")
}

impl<const N: usize> fmt::Display for PoolSize<N> {
    /// Python's text of the value as given: `2`, `(2, 3)`, `(2,)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolSize::Int(v) => write!(f, "{v}"),
            PoolSize::Tuple(t) => fmt_tuple(f, t),
        }
    }
}

/// The `output_size` of an adaptive pooling: an int, or a tuple whose `None` entries keep the
/// input's size (`(None, 7)`).
///
/// ```
/// use flambeau::nn::functional::AdaptiveSize;
/// assert_eq!(AdaptiveSize::from([None, Some(7)]).to_string(), "(None, 7)");
/// assert_eq!(AdaptiveSize::<2>::from(1).to_string(), "1");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdaptiveSize<const N: usize> {
    /// One size for every dim.
    Int(usize),
    /// One size per dim; `None` keeps the input's.
    Tuple([Option<usize>; N]),
}

impl<const N: usize> AdaptiveSize<N> {
    /// The sizes for an input whose pooled dims are `input`.
    pub fn resolve(&self, input: [usize; N]) -> [usize; N] {
        match *self {
            AdaptiveSize::Int(v) => [v; N],
            AdaptiveSize::Tuple(t) => std::array::from_fn(|i| t[i].unwrap_or(input[i])),
        }
    }
}

impl<const N: usize> From<usize> for AdaptiveSize<N> {
    fn from(v: usize) -> Self {
        AdaptiveSize::Int(v)
    }
}

impl<const N: usize> From<[usize; N]> for AdaptiveSize<N> {
    fn from(v: [usize; N]) -> Self {
        AdaptiveSize::Tuple(v.map(Some))
    }
}

impl<const N: usize> From<[Option<usize>; N]> for AdaptiveSize<N> {
    fn from(v: [Option<usize>; N]) -> Self {
        AdaptiveSize::Tuple(v)
    }
}

impl From<(usize,)> for AdaptiveSize<1> {
    fn from(v: (usize,)) -> Self {
        AdaptiveSize::Tuple([Some(v.0)])
    }
}

impl From<(usize, usize)> for AdaptiveSize<2> {
    fn from(v: (usize, usize)) -> Self {
        AdaptiveSize::Tuple([Some(v.0), Some(v.1)])
    }
}

impl<const N: usize> fmt::Display for AdaptiveSize<N> {
    /// Python's text of the value as given: `1`, `(1, 1)`, `(None, 7)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdaptiveSize::Int(v) => write!(f, "{v}"),
            AdaptiveSize::Tuple(t) => {
                let items: Vec<String> = t
                    .iter()
                    .map(|v| v.map_or("None".to_string(), |v| v.to_string()))
                    .collect();
                fmt_tuple(f, &items)
            }
        }
    }
}

/// The options of `F.max_pool1d/2d` and `nn.MaxPool1d/2d`: `kernel_size`, `stride` (the kernel
/// size when `None`), `padding` (0), `dilation` (1), `ceil_mode` (false). An int or a tuple
/// converts to options with that kernel size.
///
/// ```
/// use flambeau::nn::functional::MaxPool2dOptions;
/// let o = MaxPool2dOptions::new(3).stride(2).padding(1).ceil_mode(true);
/// assert_eq!(o.stride.unwrap().values(), [2, 2]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPoolOptions<const N: usize> {
    /// The window size.
    pub kernel_size: PoolSize<N>,
    /// The step between windows; `None` is the kernel size.
    pub stride: Option<PoolSize<N>>,
    /// Implicit `-inf` padding on both sides.
    pub padding: PoolSize<N>,
    /// The step between window elements.
    pub dilation: PoolSize<N>,
    /// Whether the output size rounds up (the last window must still start inside the input or
    /// its left padding).
    pub ceil_mode: bool,
}

/// [`MaxPoolOptions`] of `F.max_pool1d`.
pub type MaxPool1dOptions = MaxPoolOptions<1>;
/// [`MaxPoolOptions`] of `F.max_pool2d`.
pub type MaxPool2dOptions = MaxPoolOptions<2>;

impl<const N: usize> MaxPoolOptions<N> {
    /// PyTorch's defaults with this kernel size.
    pub fn new(kernel_size: impl Into<PoolSize<N>>) -> Self {
        MaxPoolOptions {
            kernel_size: kernel_size.into(),
            stride: None,
            padding: PoolSize::Int(0),
            dilation: PoolSize::Int(1),
            ceil_mode: false,
        }
    }
    /// Sets `stride`.
    pub fn stride(mut self, stride: impl Into<PoolSize<N>>) -> Self {
        self.stride = Some(stride.into());
        self
    }
    /// Sets `padding`.
    pub fn padding(mut self, padding: impl Into<PoolSize<N>>) -> Self {
        self.padding = padding.into();
        self
    }
    /// Sets `dilation`.
    pub fn dilation(mut self, dilation: impl Into<PoolSize<N>>) -> Self {
        self.dilation = dilation.into();
        self
    }
    /// Sets `ceil_mode`.
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }
    /// The stride as given, or the kernel size (PyTorch's `stride=None`).
    pub fn stride_or_kernel(&self) -> PoolSize<N> {
        self.stride.unwrap_or(self.kernel_size)
    }
}

/// The options of `F.avg_pool1d/2d` and `nn.AvgPool1d/2d`: `kernel_size`, `stride` (the kernel
/// size when `None`), `padding` (0), `ceil_mode` (false), `count_include_pad` (true) and, for 2-D
/// only, `divisor_override` (none).
///
/// ```
/// use flambeau::nn::functional::AvgPool2dOptions;
/// let o = AvgPool2dOptions::new(3).stride(2).padding(1).count_include_pad(false);
/// assert!(!o.count_include_pad);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPoolOptions<const N: usize> {
    /// The window size.
    pub kernel_size: PoolSize<N>,
    /// The step between windows; `None` is the kernel size.
    pub stride: Option<PoolSize<N>>,
    /// Implicit zero padding on both sides.
    pub padding: PoolSize<N>,
    /// Whether the output size rounds up.
    pub ceil_mode: bool,
    /// Whether the padding counts in the divisor.
    pub count_include_pad: bool,
    /// A fixed divisor (2-D only: `F.avg_pool1d` has none).
    pub(crate) divisor_override: Option<i64>,
}

/// [`AvgPoolOptions`] of `F.avg_pool1d`.
pub type AvgPool1dOptions = AvgPoolOptions<1>;
/// [`AvgPoolOptions`] of `F.avg_pool2d`.
pub type AvgPool2dOptions = AvgPoolOptions<2>;

impl<const N: usize> AvgPoolOptions<N> {
    /// PyTorch's defaults with this kernel size.
    pub fn new(kernel_size: impl Into<PoolSize<N>>) -> Self {
        AvgPoolOptions {
            kernel_size: kernel_size.into(),
            stride: None,
            padding: PoolSize::Int(0),
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
        }
    }
    /// Sets `stride`.
    pub fn stride(mut self, stride: impl Into<PoolSize<N>>) -> Self {
        self.stride = Some(stride.into());
        self
    }
    /// Sets `padding`.
    pub fn padding(mut self, padding: impl Into<PoolSize<N>>) -> Self {
        self.padding = padding.into();
        self
    }
    /// Sets `ceil_mode`.
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }
    /// Sets `count_include_pad`.
    pub fn count_include_pad(mut self, count_include_pad: bool) -> Self {
        self.count_include_pad = count_include_pad;
        self
    }
    /// The stride as given, or the kernel size (PyTorch's `stride=None`).
    pub fn stride_or_kernel(&self) -> PoolSize<N> {
        self.stride.unwrap_or(self.kernel_size)
    }
}

impl AvgPoolOptions<2> {
    /// Sets `divisor_override` (every window's sum is divided by it).
    pub fn divisor_override(mut self, divisor: Option<i64>) -> Self {
        self.divisor_override = divisor;
        self
    }
    /// The fixed divisor, if any.
    pub fn divisor_override_value(&self) -> Option<i64> {
        self.divisor_override
    }
}

macro_rules! options_from_kernel {
    ($opts:ident) => {
        impl<const N: usize> From<usize> for $opts<N> {
            fn from(k: usize) -> Self {
                $opts::new(k)
            }
        }
        impl<const N: usize> From<[usize; N]> for $opts<N> {
            fn from(k: [usize; N]) -> Self {
                $opts::new(k)
            }
        }
        impl From<(usize, usize)> for $opts<2> {
            fn from(k: (usize, usize)) -> Self {
                $opts::new(k)
            }
        }
    };
}
options_from_kernel!(MaxPoolOptions);
options_from_kernel!(AvgPoolOptions);

/// ATen's `pooling_output_shape`: `floor_or_ceil((in + 2p - d(k-1) - 1) / s) + 1`, and in ceil
/// mode one fewer when the last window would start past the input and its left padding. Checks
/// the stride and the padding against the effective kernel first.
#[track_caller]
fn pooling_output_shape(input: i64, k: i64, pad: i64, stride: i64, dil: i64, ceil: bool) -> i64 {
    if stride == 0 {
        panic!("stride should not be zero");
    }
    if pad > ((k - 1) * dil + 1) / 2 {
        panic!(
            "pad should be at most half of effective kernel size, but got pad={pad}, kernel_size={k} and dilation={dil}"
        );
    }
    let num = input + 2 * pad - dil * (k - 1) - 1 + if ceil { stride - 1 } else { 0 };
    let mut out = num.div_euclid(stride) + 1;
    if ceil && (out - 1) * stride >= input + pad {
        out -= 1;
    }
    out
}

/// The checked windows of a 2-D max or average pooling of `x` (ATen's meta functions and
/// `pool2d_shape_check`); `dilation` is `[1, 1]` for average pooling.
#[track_caller]
fn windows_2d(
    x: &Tensor,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    ceil: bool,
) -> PoolWindows {
    let nd = x.ndim();
    let (input_h, input_w) = (x.dims()[nd - 2], x.dims()[nd - 1]);
    let i = |v: usize| v as i64;
    let out_h = pooling_output_shape(
        i(input_h),
        i(kernel[0]),
        i(padding[0]),
        i(stride[0]),
        i(dilation[0]),
        ceil,
    );
    let out_w = pooling_output_shape(
        i(input_w),
        i(kernel[1]),
        i(padding[1]),
        i(stride[1]),
        i(dilation[1]),
        ceil,
    );
    let [kh, kw] = kernel;
    if kh == 0 || kw == 0 {
        panic!("kernel size should be greater than zero, but got kH: {kh} kW: {kw}");
    }
    let [dh, dw] = dilation;
    if dh == 0 || dw == 0 {
        panic!("dilation should be greater than zero, but got dilationH: {dh} dilationW: {dw}");
    }
    let d = x.dims();
    let valid = d[nd - 2] != 0 && d[nd - 1] != 0;
    if !((nd == 3 && d[0] != 0 && valid) || (nd == 4 && valid && d[1] != 0)) {
        panic!(
            "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:{d:?}"
        );
    }
    let [ph, pw] = padding;
    if kw / 2 < pw || kh / 2 < ph {
        panic!(
            "pad should be smaller than or equal to half of kernel size, but got padW = {pw}, padH = {ph}, kW = {kw}, kH = {kh}"
        );
    }
    if out_w < 1 || out_h < 1 {
        let planes = d[nd - 3];
        panic!(
            "Given input size: ({planes}x{input_h}x{input_w}). Calculated output size: ({planes}x{out_h}x{out_w}). Output size is too small"
        );
    }
    PoolWindows {
        input: [input_h, input_w],
        output: [out_h as usize, out_w as usize],
        kernel,
        stride,
        padding,
        dilation,
    }
}

/// PyTorch's `check1d` message for a 1-D pooling's input rank.
#[track_caller]
fn check_2_or_3_dims(x: &Tensor, op: &str) {
    if x.ndim() != 2 && x.ndim() != 3 {
        panic!(
            "Expected 2 to 3 dimensions, but got {}-dimensional tensor for argument #1 'self' (while checking arguments for {op})",
            x.ndim()
        );
    }
}

/// Panics with ATen's dispatch message unless `x` has one of the dtypes the kernel covers.
#[track_caller]
fn check_dtype(x: &Tensor, kernel: &str, ints: bool) {
    let d = x.dtype();
    if !(d.is_float() || (ints && d == crate::DType::I64)) {
        panic!("\"{kernel}\" not implemented for '{}'", d.scalar_name());
    }
}

/// A pooling argument widened to 2-D on `unsqueeze(-2)`: `fill` for the new height dim.
fn widen(v: PoolSize<1>, fill: usize) -> [usize; 2] {
    [fill, v.values()[0]]
}

/// `F.max_pool2d(input, ..., return_indices=True)`: the window maxima and their positions
/// flattened over each input plane (int64), for `(N, C, H, W)` or `(C, H, W)` inputs.
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// let x = tensor!([[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 7.0]]]);
/// let (y, i) = F::max_pool2d_with_indices(&x, 2);
/// assert_eq!(y.to_vec::<f32>(), vec![5.0, 8.0]);
/// assert_eq!(i.to_vec::<i64>(), vec![1, 6]);
/// ```
#[track_caller]
pub fn max_pool2d_with_indices(
    input: &Tensor,
    options: impl Into<MaxPool2dOptions>,
) -> (Tensor, Tensor) {
    let o = options.into();
    if input.ndim() != 3 && input.ndim() != 4 {
        panic!("non-empty 3D or 4D (batch mode) tensor expected for input");
    }
    let w = windows_2d(
        input,
        o.kernel_size.values(),
        o.stride_or_kernel().values(),
        o.padding.values(),
        o.dilation.values(),
        o.ceil_mode,
    );
    check_dtype(input, "max_pool2d", true);
    ops::max_pool2d_with_indices(input, &w)
}

/// `F.max_pool2d`: the maximum of every window (NaN propagates), for `(N, C, H, W)` or
/// `(C, H, W)` inputs.
///
/// ```
/// use flambeau::{nn::functional as F, Tensor};
/// let x = Tensor::arange(0.0, 16.0, 1.0).reshape([1, 1, 4, 4]);
/// let y = F::max_pool2d(&x, F::MaxPool2dOptions::new(3).stride(2).padding(1));
/// assert_eq!(y.to_vec::<f32>(), vec![5.0, 7.0, 13.0, 15.0]);
/// ```
#[track_caller]
pub fn max_pool2d(input: &Tensor, options: impl Into<MaxPool2dOptions>) -> Tensor {
    max_pool2d_with_indices(input, options).0
}

/// `F.max_pool1d(input, ..., return_indices=True)` for `(N, C, L)` or `(C, L)` inputs: the 2-D
/// pooling over `unsqueeze(-2)`, with its checks and messages.
#[track_caller]
pub fn max_pool1d_with_indices(
    input: &Tensor,
    options: impl Into<MaxPool1dOptions>,
) -> (Tensor, Tensor) {
    let o = options.into();
    check_2_or_3_dims(input, "max_pool1d");
    let o2 = MaxPool2dOptions {
        kernel_size: PoolSize::Tuple(widen(o.kernel_size, 1)),
        stride: Some(PoolSize::Tuple(widen(o.stride_or_kernel(), 1))),
        padding: PoolSize::Tuple(widen(o.padding, 0)),
        dilation: PoolSize::Tuple(widen(o.dilation, 1)),
        ceil_mode: o.ceil_mode,
    };
    let (v, i) = max_pool2d_with_indices(&input.unsqueeze(-2), o2);
    (v.squeeze_dim(-2), i.squeeze_dim(-2))
}

/// `F.max_pool1d` for `(N, C, L)` or `(C, L)` inputs, with `check_max_pool1d`'s messages.
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// let y = F::max_pool1d(&tensor!([[1.0, 3.0, 2.0, 5.0, 4.0]]), 2);
/// assert_eq!(y.to_vec::<f32>(), vec![3.0, 5.0]);
/// ```
#[track_caller]
pub fn max_pool1d(input: &Tensor, options: impl Into<MaxPool1dOptions>) -> Tensor {
    let o = options.into();
    let d = input.dims();
    let nd = d.len();
    if !((nd == 2 && d[0] != 0 && d[1] != 0) || (nd == 3 && d[1] != 0 && d[2] != 0)) {
        panic!(
            "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but got:{d:?}"
        );
    }
    let [k] = o.kernel_size.values();
    let [s] = o.stride_or_kernel().values();
    let [p] = o.padding.values();
    let [dil] = o.dilation.values();
    if k == 0 {
        panic!("max_pool1d() kernel_size must be greater than zero, but got {k}");
    }
    if s == 0 {
        panic!("max_pool1d() stride must be greater than zero, but got {s}");
    }
    if p > k / 2 {
        panic!(
            "max_pool1d() padding should be at most half of kernel size, but got padding={p} and kernel_size={k}"
        );
    }
    if dil == 0 {
        panic!("max_pool1d() dilation must be greater than zero, but got {dil}");
    }
    let len = pooling_output_shape(
        d[nd - 1] as i64,
        k as i64,
        p as i64,
        s as i64,
        dil as i64,
        o.ceil_mode,
    );
    if len <= 0 {
        panic!("max_pool1d() Invalid computed output size: {len}");
    }
    // Integer inputs never need indices, and ATen's index-free kernel covers floats only.
    check_dtype(input, "max_pool1d_impl", false);
    max_pool1d_with_indices(input, o).0
}

/// `F.avg_pool2d`: the mean of every window (padding counts unless `count_include_pad` is off;
/// `divisor_override` replaces the divisor), for `(N, C, H, W)` or `(C, H, W)` inputs.
///
/// ```
/// use flambeau::{nn::functional as F, Tensor};
/// let x = Tensor::arange(0.0, 16.0, 1.0).reshape([1, 1, 4, 4]);
/// assert_eq!(F::avg_pool2d(&x, 2).to_vec::<f32>(), vec![2.5, 4.5, 10.5, 12.5]);
/// ```
#[track_caller]
pub fn avg_pool2d(input: &Tensor, options: impl Into<AvgPool2dOptions>) -> Tensor {
    let o = options.into();
    if o.divisor_override == Some(0) {
        panic!("divisor must be not zero");
    }
    // ATen reads `input.size(-3)` first: "Dimension out of range" for fewer than 3 dims.
    let _ = input.size(-3);
    let w = windows_2d(
        input,
        o.kernel_size.values(),
        o.stride_or_kernel().values(),
        o.padding.values(),
        [1, 1],
        o.ceil_mode,
    );
    check_dtype(input, "avg_pool2d", true);
    let divisor = AvgDivisor {
        count_include_pad: o.count_include_pad,
        divisor_override: o.divisor_override,
    };
    ops::avg_pool2d(input, &w, divisor)
}

/// `F.avg_pool1d` for `(N, C, L)` or `(C, L)` inputs: the 2-D pooling over `unsqueeze(-2)`.
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// let y = F::avg_pool1d(&tensor!([[1.0, 3.0, 2.0, 6.0]]), 2);
/// assert_eq!(y.to_vec::<f32>(), vec![2.0, 4.0]);
/// ```
#[track_caller]
pub fn avg_pool1d(input: &Tensor, options: impl Into<AvgPool1dOptions>) -> Tensor {
    let o = options.into();
    check_2_or_3_dims(input, "avg_pool1d");
    let o2 = AvgPool2dOptions {
        kernel_size: PoolSize::Tuple(widen(o.kernel_size, 1)),
        stride: Some(PoolSize::Tuple(widen(o.stride_or_kernel(), 1))),
        padding: PoolSize::Tuple(widen(o.padding, 0)),
        ceil_mode: o.ceil_mode,
        count_include_pad: o.count_include_pad,
        divisor_override: None,
    };
    avg_pool2d(&input.unsqueeze(-2), o2).squeeze_dim(-2)
}

/// The checks `adaptive_avg_pool2d` and `adaptive_max_pool2d` share: 3-D or 4-D, and no empty
/// non-batch dim.
#[track_caller]
fn check_adaptive(x: &Tensor, op: &str, colon: &str) {
    let d = x.dims();
    if d.len() != 3 && d.len() != 4 {
        panic!("{op}(): Expected 3D or 4D tensor, but got{colon} {d:?}");
    }
    for (i, &s) in d.iter().enumerate().skip(1) {
        if s == 0 {
            panic!(
                "{op}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes {d:?} with dimension {i} being empty"
            );
        }
    }
}

/// `F.adaptive_avg_pool2d`: averages over `output_size` windows that tile the input (window `i`
/// spans `floor(i·in/out)` to `ceil((i+1)·in/out)`); an output of `(1, 1)` is the mean over the
/// last two dims, as in ATen.
///
/// ```
/// use flambeau::{nn::functional as F, Tensor};
/// let x = Tensor::arange(0.0, 9.0, 1.0).reshape([1, 3, 3]);
/// assert_eq!(F::adaptive_avg_pool2d(&x, 2).to_vec::<f32>(), vec![2.0, 3.0, 5.0, 6.0]);
/// ```
#[track_caller]
pub fn adaptive_avg_pool2d(input: &Tensor, output_size: impl Into<AdaptiveSize<2>>) -> Tensor {
    let nd = input.ndim();
    let hw = if nd >= 2 {
        [input.dims()[nd - 2], input.dims()[nd - 1]]
    } else {
        [1, 1]
    };
    let out = output_size.into().resolve(hw);
    if out == [1, 1] {
        return input.mean_dim([-1, -2], true);
    }
    check_adaptive(input, "adaptive_avg_pool2d", "");
    check_dtype(input, "adaptive_avg_pool2d", false);
    ops::adaptive_avg_pool2d(input, out)
}

/// `F.adaptive_avg_pool1d` for `(N, C, L)` or `(C, L)` inputs.
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// let y = F::adaptive_avg_pool1d(&tensor!([[1.0, 2.0, 3.0, 4.0, 5.0]]), 2);
/// assert_eq!(y.to_vec::<f32>(), vec![2.0, 4.0]);
/// ```
#[track_caller]
pub fn adaptive_avg_pool1d(input: &Tensor, output_size: impl Into<AdaptiveSize<1>>) -> Tensor {
    check_2_or_3_dims(input, "adaptive_avg_pool1d");
    let [l] = output_size.into().resolve([input.dims()[input.ndim() - 1]]);
    adaptive_avg_pool2d(&input.unsqueeze(-2), (1, l)).squeeze_dim(-2)
}

/// `F.adaptive_max_pool2d(input, output_size, return_indices=True)`: the maxima of the adaptive
/// windows and their positions flattened over each input plane.
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// let (y, i) = F::adaptive_max_pool2d_with_indices(&tensor!([[[1.0, 4.0, 2.0], [0.0, 3.0, 5.0]]]), (1, 2));
/// assert_eq!(y.to_vec::<f32>(), vec![4.0, 5.0]);
/// assert_eq!(i.to_vec::<i64>(), vec![1, 5]);
/// ```
#[track_caller]
pub fn adaptive_max_pool2d_with_indices(
    input: &Tensor,
    output_size: impl Into<AdaptiveSize<2>>,
) -> (Tensor, Tensor) {
    check_adaptive(input, "adaptive_max_pool2d", ":");
    let nd = input.ndim();
    let out = output_size
        .into()
        .resolve([input.dims()[nd - 2], input.dims()[nd - 1]]);
    check_dtype(input, "adaptive_max_pool2d", false);
    ops::adaptive_max_pool2d(input, out)
}

/// `F.adaptive_max_pool2d`: the maxima of the adaptive windows.
#[track_caller]
pub fn adaptive_max_pool2d(input: &Tensor, output_size: impl Into<AdaptiveSize<2>>) -> Tensor {
    adaptive_max_pool2d_with_indices(input, output_size).0
}

/// `F.adaptive_max_pool1d(input, output_size, return_indices=True)` for `(N, C, L)` or `(C, L)`.
#[track_caller]
pub fn adaptive_max_pool1d_with_indices(
    input: &Tensor,
    output_size: impl Into<AdaptiveSize<1>>,
) -> (Tensor, Tensor) {
    check_2_or_3_dims(input, "adaptive_max_pool1d");
    let [l] = output_size.into().resolve([input.dims()[input.ndim() - 1]]);
    let (v, i) = adaptive_max_pool2d_with_indices(&input.unsqueeze(-2), (1, l));
    (v.squeeze_dim(-2), i.squeeze_dim(-2))
}

/// `F.adaptive_max_pool1d` for `(N, C, L)` or `(C, L)` inputs.
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// let y = F::adaptive_max_pool1d(&tensor!([[1.0, 4.0, 2.0, 0.0, 3.0]]), 2);
/// assert_eq!(y.to_vec::<f32>(), vec![4.0, 3.0]);
/// ```
#[track_caller]
pub fn adaptive_max_pool1d(input: &Tensor, output_size: impl Into<AdaptiveSize<1>>) -> Tensor {
    adaptive_max_pool1d_with_indices(input, output_size).0
}
