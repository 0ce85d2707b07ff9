//! Convolution layers: `nn.Conv1d`, `nn.Conv2d`, `nn.ConvTranspose1d`, `nn.ConvTranspose2d`,
//! `nn.Unfold`, `nn.Fold`, initialised as `_ConvNd.reset_parameters` does
//! (`torch/nn/modules/conv.py`) and printed with its `extra_repr`.

use super::functional::{self as F, Padding};
use super::{Forward, Parameter, init};
use crate::nn::Module;
use crate::shape::IntList;
use crate::tensor::Tensor;

/// The keyword arguments of `nn.Conv1d`/`nn.Conv2d` after the channels and kernel size:
/// `stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode='zeros'`.
///
/// ```
/// use flambeau::nn::{Conv2d, ConvOptions};
/// let m = Conv2d::with_options(4, 6, 3, ConvOptions { stride: vec![2], groups: 2, ..Default::default() });
/// assert_eq!(m.weight.dims(), &[6, 2, 3, 3]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvOptions {
    /// Step between windows: one value or one per spatial dim.
    pub stride: Vec<i64>,
    /// Zeros added on both sides, or `'valid'`/`'same'`.
    pub padding: Padding,
    /// Spacing between kernel elements.
    pub dilation: Vec<i64>,
    /// Blocked connections from input to output channels.
    pub groups: i64,
    /// Whether the layer has a learnable bias.
    pub bias: bool,
    /// How the padding is filled; only `"zeros"` is supported so far.
    pub padding_mode: String,
}

impl Default for ConvOptions {
    fn default() -> Self {
        ConvOptions {
            stride: vec![1],
            padding: Padding::Explicit(vec![0]),
            dilation: vec![1],
            groups: 1,
            bias: true,
            padding_mode: "zeros".to_string(),
        }
    }
}

/// The keyword arguments of `nn.ConvTranspose1d`/`nn.ConvTranspose2d`: `stride=1, padding=0,
/// output_padding=0, groups=1, bias=True, dilation=1`.
///
/// ```
/// use flambeau::nn::{ConvTranspose2d, ConvTransposeOptions};
/// let m = ConvTranspose2d::with_options(4, 6, 3, ConvTransposeOptions { groups: 2, ..Default::default() });
/// assert_eq!(m.weight.dims(), &[4, 3, 3, 3]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvTransposeOptions {
    /// Step between input positions in the output.
    pub stride: Vec<i64>,
    /// `dilation * (kernel_size - 1) - padding` zeros are added on both sides of the input.
    pub padding: Vec<i64>,
    /// Extra size added to one side of the output.
    pub output_padding: Vec<i64>,
    /// Blocked connections from input to output channels.
    pub groups: i64,
    /// Whether the layer has a learnable bias.
    pub bias: bool,
    /// Spacing between kernel elements.
    pub dilation: Vec<i64>,
}

impl Default for ConvTransposeOptions {
    fn default() -> Self {
        ConvTransposeOptions {
            stride: vec![1],
            padding: vec![0],
            output_padding: vec![0],
            groups: 1,
            bias: true,
            dilation: vec![1],
        }
    }
}

/// Python's `_ntuple(n)`: one value repeated, or exactly `n` values.
#[track_caller]
fn ntuple(name: &str, v: &[i64], n: usize) -> Vec<usize> {
    let v: Vec<i64> = match v.len() {
        1 => vec![v[0]; n],
        l if l == n => v.to_vec(),
        _ => panic!("{name} must be an int or a tuple of {n} ints, but got {v:?}"),
    };
    v.into_iter().map(|x| x.max(0) as usize).collect()
}

/// A Python tuple of ints: `(3,)`, `(3, 3)`.
fn py_tuple(v: &[usize]) -> String {
    match v {
        [a] => format!("({a},)"),
        _ => format!(
            "({})",
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// An int-or-tuple argument as Python prints it: `2` or `(2, 3)`.
fn py_int_or_tuple(v: &[i64]) -> String {
    match v {
        [a] => a.to_string(),
        _ => format!(
            "({})",
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `_ConvNd.__init__`'s checks of groups (ValueError messages).
#[track_caller]
fn check_groups(in_channels: usize, out_channels: usize, groups: i64) -> usize {
    if groups <= 0 {
        panic!("groups must be a positive integer");
    }
    let g = groups as usize;
    if !in_channels.is_multiple_of(g) {
        panic!("in_channels must be divisible by groups");
    }
    if !out_channels.is_multiple_of(g) {
        panic!("out_channels must be divisible by groups");
    }
    g
}

/// `_ConvNd.reset_parameters`: kaiming-uniform with `a = √5` on the weight, then the bias
/// `U(-1/√fan_in, 1/√fan_in)` with the weight's fan-in.
#[track_caller]
fn init_params(shape: &[usize], out_channels: usize, bias: bool) -> (Parameter, Option<Parameter>) {
    let weight = Tensor::empty(shape);
    let b = bias.then(|| Tensor::zeros([out_channels]));
    init::kaiming_uniform_(&weight, 5f64.sqrt(), "fan_in", "leaky_relu");
    if let Some(b) = &b {
        let (fan_in, _) = init::calculate_fan_in_and_fan_out(&weight);
        if fan_in != 0 {
            let bound = 1.0 / (fan_in as f64).sqrt();
            init::uniform_(b, -bound, bound);
        }
    }
    (Parameter::new(weight), b.map(Parameter::new))
}

/// The common part of the convolution reprs (`_ConvNd.extra_repr`).
#[allow(clippy::too_many_arguments)]
fn conv_repr(
    in_channels: usize,
    out_channels: usize,
    kernel_size: &[usize],
    stride: &[usize],
    padding: &str,
    dilation: &[usize],
    output_padding: Option<&[usize]>,
    groups: usize,
    bias: bool,
    padding_mode: &str,
) -> String {
    let mut s = format!(
        "{in_channels}, {out_channels}, kernel_size={}, stride={}",
        py_tuple(kernel_size),
        py_tuple(stride)
    );
    if !padding.is_empty() {
        s += &format!(", padding={padding}");
    }
    if dilation.iter().any(|&d| d != 1) {
        s += &format!(", dilation={}", py_tuple(dilation));
    }
    if let Some(op) = output_padding
        && op.iter().any(|&p| p != 0)
    {
        s += &format!(", output_padding={}", py_tuple(op));
    }
    if groups != 1 {
        s += &format!(", groups={groups}");
    }
    if !bias {
        s += ", bias=False";
    }
    if padding_mode != "zeros" {
        s += &format!(", padding_mode={padding_mode}");
    }
    s
}

macro_rules! conv_module {
    ($(#[$doc:meta])* $name:ident, $nd:expr, $f:path) => {
        $(#[$doc])*
        #[derive(Module, Clone)]
        #[module(extra_repr = "describe")]
        pub struct $name {
            /// The weight, (out_channels, in_channels / groups, *kernel_size).
            pub weight: Parameter,
            /// The bias, (out_channels), if any.
            pub bias: Option<Parameter>,
            /// Channels of the input.
            pub in_channels: usize,
            /// Channels of the output.
            pub out_channels: usize,
            /// The kernel's size, one value per spatial dim.
            pub kernel_size: Vec<usize>,
            /// Step between windows, per spatial dim.
            pub stride: Vec<usize>,
            /// The padding (per spatial dim, or `'valid'`/`'same'`).
            #[module(skip)]
            pub padding: Padding,
            /// Spacing between kernel elements, per spatial dim.
            pub dilation: Vec<usize>,
            /// Blocked connections from input to output channels.
            pub groups: usize,
            /// How the padding is filled (`"zeros"`).
            pub padding_mode: String,
        }

        impl $name {
            #[doc = concat!("`nn.", stringify!($name), "(in_channels, out_channels, kernel_size)` with the default options.")]
            #[track_caller]
            pub fn new(in_channels: usize, out_channels: usize, kernel_size: impl IntList) -> $name {
                $name::with_options(in_channels, out_channels, kernel_size, ConvOptions::default())
            }

            #[doc = concat!("`nn.", stringify!($name), "(in_channels, out_channels, kernel_size, **options)`.")]
            #[track_caller]
            pub fn with_options(
                in_channels: usize,
                out_channels: usize,
                kernel_size: impl IntList,
                options: ConvOptions,
            ) -> $name {
                let groups = check_groups(in_channels, out_channels, options.groups);
                let kernel_size = ntuple("kernel_size", &kernel_size.to_int_list(), $nd);
                let stride = ntuple("stride", &options.stride, $nd);
                let padding = match options.padding {
                    Padding::Explicit(p) => {
                        Padding::Explicit(ntuple("padding", &p, $nd).iter().map(|&x| x as i64).collect())
                    }
                    Padding::Same if stride.iter().any(|&s| s != 1) => {
                        panic!("padding='same' is not supported for strided convolutions")
                    }
                    other => other,
                };
                if options.padding_mode != "zeros" {
                    if !["reflect", "replicate", "circular"].contains(&options.padding_mode.as_str()) {
                        panic!(
                            "padding_mode must be one of {{'zeros', 'reflect', 'replicate', 'circular'}}, but got padding_mode='{}'",
                            options.padding_mode
                        );
                    }
                    panic!("padding_mode='{}' is not supported yet (only 'zeros')", options.padding_mode);
                }
                let mut shape = vec![out_channels, in_channels / groups];
                shape.extend(&kernel_size);
                let (weight, bias) = init_params(&shape, out_channels, options.bias);
                $name {
                    weight,
                    bias,
                    in_channels,
                    out_channels,
                    kernel_size,
                    stride,
                    padding,
                    dilation: ntuple("dilation", &options.dilation, $nd),
                    groups,
                    padding_mode: options.padding_mode,
                }
            }

            #[track_caller]
            fn describe(&self) -> String {
                let padding = match &self.padding {
                    Padding::Valid => "valid".to_string(),
                    Padding::Same => "same".to_string(),
                    Padding::Explicit(p) if p.iter().all(|&x| x == 0) => String::new(),
                    Padding::Explicit(p) => {
                        py_tuple(&p.iter().map(|&x| x as usize).collect::<Vec<_>>())
                    }
                };
                conv_repr(
                    self.in_channels,
                    self.out_channels,
                    &self.kernel_size,
                    &self.stride,
                    &padding,
                    &self.dilation,
                    None,
                    self.groups,
                    self.bias.is_some(),
                    &self.padding_mode,
                )
            }
        }

        impl Forward for $name {
            #[track_caller]
            fn forward(&self, input: &Tensor) -> Tensor {
                $f(
                    input,
                    &self.weight,
                    self.bias.as_deref(),
                    &self.stride,
                    self.padding.clone(),
                    &self.dilation,
                    self.groups as i64,
                )
            }
        }
    };
}

conv_module!(
    /// A 1-D convolution over (N, C_in, L) or (C_in, L) input (`nn.Conv1d`).
    ///
    /// ```
    /// use flambeau::{manual_seed, nn::{Conv1d, Forward}, Tensor};
    /// manual_seed(0);
    /// let m = Conv1d::new(2, 4, 3);
    /// assert_eq!(format!("{m}"), "Conv1d(2, 4, kernel_size=(3,), stride=(1,))");
    /// assert_eq!(m.forward(&Tensor::ones([5, 2, 10])).dims(), &[5, 4, 8]);
    /// ```
    Conv1d, 1, F::conv1d
);

conv_module!(
    /// A 2-D convolution over (N, C_in, H, W) or (C_in, H, W) input (`nn.Conv2d`), initialised
    /// exactly as PyTorch does after the same `manual_seed`.
    ///
    /// ```
    /// use flambeau::{manual_seed, nn::{Conv2d, Forward}, Tensor};
    /// manual_seed(0);
    /// let m = Conv2d::new(1, 4, 3);
    /// assert_eq!(format!("{m}"), "Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))");
    /// assert_eq!(m.forward(&Tensor::ones([2, 1, 28, 28])).dims(), &[2, 4, 26, 26]);
    /// ```
    Conv2d, 2, F::conv2d
);

macro_rules! conv_transpose_module {
    ($(#[$doc:meta])* $name:ident, $nd:expr, $f:path) => {
        $(#[$doc])*
        #[derive(Module, Clone)]
        #[module(extra_repr = "describe")]
        pub struct $name {
            /// The weight, (in_channels, out_channels / groups, *kernel_size).
            pub weight: Parameter,
            /// The bias, (out_channels), if any.
            pub bias: Option<Parameter>,
            /// Channels of the input.
            pub in_channels: usize,
            /// Channels of the output.
            pub out_channels: usize,
            /// The kernel's size, one value per spatial dim.
            pub kernel_size: Vec<usize>,
            /// Step between input positions in the output, per spatial dim.
            pub stride: Vec<usize>,
            /// Implicit padding, per spatial dim.
            pub padding: Vec<usize>,
            /// Extra size on one side of the output, per spatial dim.
            pub output_padding: Vec<usize>,
            /// Blocked connections from input to output channels.
            pub groups: usize,
            /// Spacing between kernel elements, per spatial dim.
            pub dilation: Vec<usize>,
        }

        impl $name {
            #[doc = concat!("`nn.", stringify!($name), "(in_channels, out_channels, kernel_size)` with the default options.")]
            #[track_caller]
            pub fn new(in_channels: usize, out_channels: usize, kernel_size: impl IntList) -> $name {
                $name::with_options(in_channels, out_channels, kernel_size, ConvTransposeOptions::default())
            }

            #[doc = concat!("`nn.", stringify!($name), "(in_channels, out_channels, kernel_size, **options)`.")]
            #[track_caller]
            pub fn with_options(
                in_channels: usize,
                out_channels: usize,
                kernel_size: impl IntList,
                options: ConvTransposeOptions,
            ) -> $name {
                let groups = check_groups(in_channels, out_channels, options.groups);
                let kernel_size = ntuple("kernel_size", &kernel_size.to_int_list(), $nd);
                let mut shape = vec![in_channels, out_channels / groups];
                shape.extend(&kernel_size);
                let (weight, bias) = init_params(&shape, out_channels, options.bias);
                $name {
                    weight,
                    bias,
                    in_channels,
                    out_channels,
                    kernel_size,
                    stride: ntuple("stride", &options.stride, $nd),
                    padding: ntuple("padding", &options.padding, $nd),
                    output_padding: ntuple("output_padding", &options.output_padding, $nd),
                    groups,
                    dilation: ntuple("dilation", &options.dilation, $nd),
                }
            }

            #[track_caller]
            fn describe(&self) -> String {
                let padding = if self.padding.iter().all(|&p| p == 0) {
                    String::new()
                } else {
                    py_tuple(&self.padding)
                };
                conv_repr(
                    self.in_channels,
                    self.out_channels,
                    &self.kernel_size,
                    &self.stride,
                    &padding,
                    &self.dilation,
                    Some(&self.output_padding),
                    self.groups,
                    self.bias.is_some(),
                    "zeros",
                )
            }
        }

        impl Forward for $name {
            #[track_caller]
            fn forward(&self, input: &Tensor) -> Tensor {
                $f(
                    input,
                    &self.weight,
                    self.bias.as_deref(),
                    &self.stride,
                    &self.padding,
                    &self.output_padding,
                    self.groups as i64,
                    &self.dilation,
                )
            }
        }
    };
}

conv_transpose_module!(
    /// A 1-D transposed convolution (`nn.ConvTranspose1d`); the weight is (in_channels,
    /// out_channels / groups, k).
    ///
    /// ```
    /// use flambeau::{nn::{ConvTranspose1d, Forward}, Tensor};
    /// let m = ConvTranspose1d::new(2, 3, 3);
    /// assert_eq!(format!("{m}"), "ConvTranspose1d(2, 3, kernel_size=(3,), stride=(1,))");
    /// assert_eq!(m.forward(&Tensor::ones([1, 2, 4])).dims(), &[1, 3, 6]);
    /// ```
    ConvTranspose1d, 1, F::conv_transpose1d
);

conv_transpose_module!(
    /// A 2-D transposed convolution (`nn.ConvTranspose2d`); the weight is (in_channels,
    /// out_channels / groups, kh, kw).
    ///
    /// ```
    /// use flambeau::{nn::{ConvTranspose2d, ConvTransposeOptions, Forward}, Tensor};
    /// let opts = ConvTransposeOptions { stride: vec![2], padding: vec![1], output_padding: vec![1], ..Default::default() };
    /// let m = ConvTranspose2d::with_options(3, 2, 3, opts);
    /// assert_eq!(
    ///     format!("{m}"),
    ///     "ConvTranspose2d(3, 2, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))"
    /// );
    /// assert_eq!(m.forward(&Tensor::ones([1, 3, 4, 4])).dims(), &[1, 2, 8, 8]);
    /// ```
    ConvTranspose2d, 2, F::conv_transpose2d
);

/// Extracts sliding local blocks into columns (`nn.Unfold`; see [`F::unfold`]).
///
/// ```
/// use flambeau::{nn::{Forward, Unfold}, Tensor};
/// let m = Unfold::new(2);
/// assert_eq!(format!("{m}"), "Unfold(kernel_size=2, dilation=1, padding=0, stride=1)");
/// assert_eq!(m.forward(&Tensor::ones([1, 3, 4, 5])).dims(), &[1, 12, 12]);
/// ```
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct Unfold {
    /// The block size (one value or two).
    pub kernel_size: Vec<i64>,
    /// Spacing between block elements.
    pub dilation: Vec<i64>,
    /// Zeros added on both sides.
    pub padding: Vec<i64>,
    /// Step between blocks.
    pub stride: Vec<i64>,
}

impl Unfold {
    /// `nn.Unfold(kernel_size)`.
    #[track_caller]
    pub fn new(kernel_size: impl IntList) -> Unfold {
        Unfold::with_options(kernel_size, 1, 0, 1)
    }

    /// `nn.Unfold(kernel_size, dilation, padding, stride)`.
    #[track_caller]
    pub fn with_options(
        kernel_size: impl IntList,
        dilation: impl IntList,
        padding: impl IntList,
        stride: impl IntList,
    ) -> Unfold {
        Unfold {
            kernel_size: kernel_size.to_int_list().to_vec(),
            dilation: dilation.to_int_list().to_vec(),
            padding: padding.to_int_list().to_vec(),
            stride: stride.to_int_list().to_vec(),
        }
    }

    fn describe(&self) -> String {
        format!(
            "kernel_size={}, dilation={}, padding={}, stride={}",
            py_int_or_tuple(&self.kernel_size),
            py_int_or_tuple(&self.dilation),
            py_int_or_tuple(&self.padding),
            py_int_or_tuple(&self.stride)
        )
    }
}

impl Forward for Unfold {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        F::unfold(
            input,
            &self.kernel_size,
            &self.dilation,
            &self.padding,
            &self.stride,
        )
    }
}

/// Combines columns into an image, summing overlaps (`nn.Fold`; see [`F::fold`]).
///
/// ```
/// use flambeau::{nn::{Fold, Forward}, Tensor};
/// let m = Fold::new([4, 5], 2);
/// assert_eq!(format!("{m}"), "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=1)");
/// assert_eq!(m.forward(&Tensor::ones([1, 12, 12])).dims(), &[1, 3, 4, 5]);
/// ```
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct Fold {
    /// The image size (one value or two).
    pub output_size: Vec<i64>,
    /// The block size.
    pub kernel_size: Vec<i64>,
    /// Spacing between block elements.
    pub dilation: Vec<i64>,
    /// Zeros added on both sides.
    pub padding: Vec<i64>,
    /// Step between blocks.
    pub stride: Vec<i64>,
}

impl Fold {
    /// `nn.Fold(output_size, kernel_size)`.
    #[track_caller]
    pub fn new(output_size: impl IntList, kernel_size: impl IntList) -> Fold {
        Fold::with_options(output_size, kernel_size, 1, 0, 1)
    }

    /// `nn.Fold(output_size, kernel_size, dilation, padding, stride)`.
    #[track_caller]
    pub fn with_options(
        output_size: impl IntList,
        kernel_size: impl IntList,
        dilation: impl IntList,
        padding: impl IntList,
        stride: impl IntList,
    ) -> Fold {
        Fold {
            output_size: output_size.to_int_list().to_vec(),
            kernel_size: kernel_size.to_int_list().to_vec(),
            dilation: dilation.to_int_list().to_vec(),
            padding: padding.to_int_list().to_vec(),
            stride: stride.to_int_list().to_vec(),
        }
    }

    fn describe(&self) -> String {
        format!(
            "output_size={}, kernel_size={}, dilation={}, padding={}, stride={}",
            py_int_or_tuple(&self.output_size),
            py_int_or_tuple(&self.kernel_size),
            py_int_or_tuple(&self.dilation),
            py_int_or_tuple(&self.padding),
            py_int_or_tuple(&self.stride)
        )
    }
}

impl Forward for Fold {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        F::fold(
            input,
            &self.output_size,
            &self.kernel_size,
            &self.dilation,
            &self.padding,
            &self.stride,
        )
    }
}
