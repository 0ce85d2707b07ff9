//! Pooling layers: `nn.MaxPool1d/2d`, `nn.AvgPool1d/2d`, `nn.AdaptiveAvgPool1d/2d`,
//! `nn.AdaptiveMaxPool1d/2d`, with PyTorch's reprs (ints and tuples print as given; `stride`
//! defaults to the kernel size; `AvgPool1d` stores its arguments as 1-tuples, as PyTorch's
//! `_single` does). Layers built with `return_indices` keep returning the values from
//! [`Forward::forward`]; `forward_with_indices` returns values and indices, as PyTorch's tuple.

use super::functional::{
    self as F, AdaptiveSize, AvgPool1dOptions, AvgPool2dOptions, MaxPool1dOptions,
    MaxPool2dOptions, PoolSize,
};
use super::{Forward, Module};
use crate::tensor::Tensor;

/// `kernel_size=.., stride=.., padding=.., dilation=.., ceil_mode=..` of the max-pool layers.
fn max_repr<const N: usize>(o: &F::MaxPoolOptions<N>) -> String {
    format!(
        "kernel_size={}, stride={}, padding={}, dilation={}, ceil_mode={}",
        o.kernel_size,
        o.stride_or_kernel(),
        o.padding,
        o.dilation,
        if o.ceil_mode { "True" } else { "False" }
    )
}

macro_rules! max_pool_layer {
    ($(#[$doc:meta])* $name:ident, $n:literal, $opts:ident, $f:ident, $fi:ident) => {
        $(#[$doc])*
        #[derive(Module, Clone, Debug)]
        #[module(extra_repr = "describe")]
        pub struct $name {
            /// Kernel size, stride, padding, dilation and ceil mode.
            #[module(skip)]
            pub options: $opts,
            /// Whether the layer is meant to return indices too (`forward_with_indices`).
            pub return_indices: bool,
        }

        impl $name {
            /// The layer with this kernel size and PyTorch's defaults (`stride` = kernel size).
            pub fn new(kernel_size: impl Into<PoolSize<$n>>) -> $name {
                $name::with_options(<$opts>::new(kernel_size))
            }

            /// The layer with these options.
            pub fn with_options(options: impl Into<$opts>) -> $name {
                $name { options: options.into(), return_indices: false }
            }

            /// Sets `return_indices`.
            pub fn return_indices(mut self, return_indices: bool) -> $name {
                self.return_indices = return_indices;
                self
            }

            /// The maxima and their positions flattened over each input plane.
            #[track_caller]
            pub fn forward_with_indices(&self, input: &Tensor) -> (Tensor, Tensor) {
                F::$fi(input, self.options)
            }

            fn describe(&self) -> String {
                max_repr(&self.options)
            }
        }

        impl Forward for $name {
            #[track_caller]
            fn forward(&self, input: &Tensor) -> Tensor {
                F::$f(input, self.options)
            }
        }
    };
}

max_pool_layer!(
    /// Max pooling over `(N, C, L)` or `(C, L)` inputs (`nn.MaxPool1d`).
    ///
    /// ```
    /// use flambeau::{nn::{Forward, MaxPool1d}, tensor};
    /// let m = MaxPool1d::new(2);
    /// assert_eq!(m.to_string(), "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
    /// assert_eq!(m.forward(&tensor!([[1.0, 3.0, 2.0, 0.0]])).to_vec::<f32>(), vec![3.0, 2.0]);
    /// ```
    MaxPool1d, 1, MaxPool1dOptions, max_pool1d, max_pool1d_with_indices
);
max_pool_layer!(
    /// Max pooling over `(N, C, H, W)` or `(C, H, W)` inputs (`nn.MaxPool2d`).
    ///
    /// ```
    /// use flambeau::nn::{functional::MaxPool2dOptions, MaxPool2d};
    /// let m = MaxPool2d::with_options(MaxPool2dOptions::new((2, 3)).padding(1));
    /// assert_eq!(m.to_string(), "MaxPool2d(kernel_size=(2, 3), stride=(2, 3), padding=1, dilation=1, ceil_mode=False)");
    /// ```
    MaxPool2d, 2, MaxPool2dOptions, max_pool2d, max_pool2d_with_indices
);

/// Average pooling over `(N, C, L)` or `(C, L)` inputs (`nn.AvgPool1d`). PyTorch stores its
/// sizes as 1-tuples, so they print as `(3,)`.
///
/// ```
/// use flambeau::{nn::{AvgPool1d, Forward}, tensor};
/// let m = AvgPool1d::new(2);
/// assert_eq!(m.to_string(), "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))");
/// assert_eq!(m.forward(&tensor!([[1.0, 3.0, 2.0, 0.0]])).to_vec::<f32>(), vec![2.0, 1.0]);
/// ```
#[derive(Module, Clone, Debug)]
#[module(extra_repr = "describe")]
pub struct AvgPool1d {
    /// Kernel size, stride, padding, ceil mode and `count_include_pad`.
    #[module(skip)]
    pub options: AvgPool1dOptions,
}

impl AvgPool1d {
    /// The layer with this kernel size and PyTorch's defaults.
    pub fn new(kernel_size: impl Into<PoolSize<1>>) -> AvgPool1d {
        AvgPool1d::with_options(AvgPool1dOptions::new(kernel_size))
    }

    /// The layer with these options.
    pub fn with_options(options: impl Into<AvgPool1dOptions>) -> AvgPool1d {
        AvgPool1d {
            options: options.into(),
        }
    }

    fn describe(&self) -> String {
        let o = &self.options;
        let single = |v: PoolSize<1>| PoolSize::<1>::Tuple(v.values());
        format!(
            "kernel_size={}, stride={}, padding={}",
            single(o.kernel_size),
            single(o.stride_or_kernel()),
            single(o.padding)
        )
    }
}

impl Forward for AvgPool1d {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        F::avg_pool1d(input, self.options)
    }
}

/// Average pooling over `(N, C, H, W)` or `(C, H, W)` inputs (`nn.AvgPool2d`).
///
/// ```
/// use flambeau::nn::{functional::AvgPool2dOptions, AvgPool2d};
/// let m = AvgPool2d::with_options(AvgPool2dOptions::new(3).stride(2).padding(1));
/// assert_eq!(m.to_string(), "AvgPool2d(kernel_size=3, stride=2, padding=1)");
/// ```
#[derive(Module, Clone, Debug)]
#[module(extra_repr = "describe")]
pub struct AvgPool2d {
    /// Kernel size, stride, padding, ceil mode, `count_include_pad` and `divisor_override`.
    #[module(skip)]
    pub options: AvgPool2dOptions,
}

impl AvgPool2d {
    /// The layer with this kernel size and PyTorch's defaults.
    pub fn new(kernel_size: impl Into<PoolSize<2>>) -> AvgPool2d {
        AvgPool2d::with_options(AvgPool2dOptions::new(kernel_size))
    }

    /// The layer with these options.
    pub fn with_options(options: impl Into<AvgPool2dOptions>) -> AvgPool2d {
        AvgPool2d {
            options: options.into(),
        }
    }

    fn describe(&self) -> String {
        let o = &self.options;
        format!(
            "kernel_size={}, stride={}, padding={}",
            o.kernel_size,
            o.stride_or_kernel(),
            o.padding
        )
    }
}

impl Forward for AvgPool2d {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        F::avg_pool2d(input, self.options)
    }
}

macro_rules! adaptive_layer {
    ($(#[$doc:meta])* $name:ident, $n:literal, $f:ident $(, $fi:ident)?) => {
        $(#[$doc])*
        #[derive(Module, Clone, Debug)]
        #[module(extra_repr = "describe")]
        pub struct $name {
            /// The output size (`None` entries keep the input's).
            #[module(skip)]
            pub output_size: AdaptiveSize<$n>,
            $(
            #[doc = concat!("Whether the layer is meant to return indices too (`forward_with_indices`, `F::", stringify!($fi), "`).")]
            pub return_indices: bool,
            )?
        }

        impl $name {
            /// The layer pooling to `output_size`.
            pub fn new(output_size: impl Into<AdaptiveSize<$n>>) -> $name {
                $name { output_size: output_size.into() $(, return_indices: { let _ = stringify!($fi); false })? }
            }

            $(
            /// Sets `return_indices`.
            pub fn return_indices(mut self, return_indices: bool) -> $name {
                self.return_indices = return_indices;
                self
            }

            /// The maxima and their positions flattened over each input plane.
            #[track_caller]
            pub fn forward_with_indices(&self, input: &Tensor) -> (Tensor, Tensor) {
                F::$fi(input, self.output_size)
            }
            )?

            fn describe(&self) -> String {
                format!("output_size={}", self.output_size)
            }
        }

        impl Forward for $name {
            #[track_caller]
            fn forward(&self, input: &Tensor) -> Tensor {
                F::$f(input, self.output_size)
            }
        }
    };
}

adaptive_layer!(
    /// Adaptive average pooling of `(N, C, L)` or `(C, L)` inputs to `output_size`
    /// (`nn.AdaptiveAvgPool1d`).
    ///
    /// ```
    /// use flambeau::nn::AdaptiveAvgPool1d;
    /// assert_eq!(AdaptiveAvgPool1d::new(3).to_string(), "AdaptiveAvgPool1d(output_size=3)");
    /// ```
    AdaptiveAvgPool1d, 1, adaptive_avg_pool1d
);
adaptive_layer!(
    /// Adaptive average pooling of `(N, C, H, W)` or `(C, H, W)` inputs to `output_size`
    /// (`nn.AdaptiveAvgPool2d`).
    ///
    /// ```
    /// use flambeau::{nn::{AdaptiveAvgPool2d, Forward}, Tensor};
    /// let m = AdaptiveAvgPool2d::new((1, 1));
    /// assert_eq!(m.to_string(), "AdaptiveAvgPool2d(output_size=(1, 1))");
    /// assert_eq!(m.forward(&Tensor::ones([2, 3, 5, 5])).dims(), &[2, 3, 1, 1]);
    /// ```
    AdaptiveAvgPool2d, 2, adaptive_avg_pool2d
);
adaptive_layer!(
    /// Adaptive max pooling of `(N, C, L)` or `(C, L)` inputs to `output_size`
    /// (`nn.AdaptiveMaxPool1d`).
    ///
    /// ```
    /// use flambeau::nn::AdaptiveMaxPool1d;
    /// assert_eq!(AdaptiveMaxPool1d::new(3).to_string(), "AdaptiveMaxPool1d(output_size=3)");
    /// ```
    AdaptiveMaxPool1d, 1, adaptive_max_pool1d, adaptive_max_pool1d_with_indices
);
adaptive_layer!(
    /// Adaptive max pooling of `(N, C, H, W)` or `(C, H, W)` inputs to `output_size`
    /// (`nn.AdaptiveMaxPool2d`).
    ///
    /// ```
    /// use flambeau::nn::AdaptiveMaxPool2d;
    /// assert_eq!(AdaptiveMaxPool2d::new((2, 3)).to_string(), "AdaptiveMaxPool2d(output_size=(2, 3))");
    /// ```
    AdaptiveMaxPool2d, 2, adaptive_max_pool2d, adaptive_max_pool2d_with_indices
);
