//! Shape and resampling layers: `nn.Upsample`, `nn.PixelShuffle`, `nn.PixelUnshuffle`,
//! `nn.Dropout1d`, `nn.Dropout2d`.

use super::{Forward, TrainingFlag, functional as F};
use crate::nn::Module;
use crate::pyfmt;
use crate::tensor::Tensor;

/// Python's repr of a scalar or a tuple (one value is a scalar).
fn tuple_repr<T>(v: &[T], f: impl Fn(&T) -> String) -> String {
    if v.len() == 1 {
        f(&v[0])
    } else {
        format!("({})", v.iter().map(f).collect::<Vec<_>>().join(", "))
    }
}

/// Resamples the spatial dims to a size or by a scale factor (`nn.Upsample(size, scale_factor,
/// mode='nearest', align_corners=None)`); see [`F::interpolate`].
///
/// ```
/// use flambeau::{nn::{Forward, Upsample}, Tensor};
/// let up = Upsample::scale_factor(&[2.0], "nearest");
/// assert_eq!(format!("{up}"), "Upsample(scale_factor=2.0, mode='nearest')");
/// assert_eq!(up.forward(&Tensor::ones([1, 1, 2, 3])).dims(), &[1, 1, 4, 6]);
/// ```
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct Upsample {
    /// The output's spatial size (one value for every dim, or one per dim).
    pub size: Option<Vec<usize>>,
    /// The factor of each spatial dim (one value for every dim, or one per dim).
    pub scale_factor: Option<Vec<f64>>,
    /// `"nearest"`, `"linear"`, `"bilinear"` or `"trilinear"`.
    pub mode: String,
    /// For the linear modes; None is false.
    pub align_corners: Option<bool>,
}

impl Upsample {
    /// `nn.Upsample(size=..., mode=...)`.
    pub fn size(size: &[usize], mode: &str) -> Upsample {
        Upsample {
            size: Some(size.to_vec()),
            scale_factor: None,
            mode: mode.to_string(),
            align_corners: None,
        }
    }

    /// `nn.Upsample(scale_factor=..., mode=...)`.
    pub fn scale_factor(scale_factor: &[f64], mode: &str) -> Upsample {
        Upsample {
            size: None,
            scale_factor: Some(scale_factor.to_vec()),
            mode: mode.to_string(),
            align_corners: None,
        }
    }

    /// The same with `align_corners=...` (the linear modes).
    ///
    /// ```
    /// use flambeau::nn::Upsample;
    /// let up = Upsample::size(&[4, 5], "bilinear").align_corners(true);
    /// assert_eq!(format!("{up}"), "Upsample(size=(4, 5), mode='bilinear')");
    /// ```
    pub fn align_corners(mut self, align_corners: bool) -> Upsample {
        self.align_corners = Some(align_corners);
        self
    }

    fn describe(&self) -> String {
        let info = match (&self.scale_factor, &self.size) {
            (Some(f), _) => format!("scale_factor={}", tuple_repr(f, |x| pyfmt::float(*x))),
            (None, Some(s)) => format!("size={}", tuple_repr(s, |x| x.to_string())),
            (None, None) => "size=None".to_string(),
        };
        format!("{info}, mode='{}'", self.mode)
    }
}

impl Forward for Upsample {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        F::interpolate(
            input,
            self.size.as_deref(),
            self.scale_factor.as_deref(),
            &self.mode,
            self.align_corners,
        )
    }
}

/// `(*, C·r², H, W)` to `(*, C, H·r, W·r)` (`nn.PixelShuffle(upscale_factor)`); see
/// [`F::pixel_shuffle`].
///
/// ```
/// use flambeau::{nn::{Forward, PixelShuffle}, Tensor};
/// let ps = PixelShuffle::new(2);
/// assert_eq!(format!("{ps}"), "PixelShuffle(upscale_factor=2)");
/// assert_eq!(ps.forward(&Tensor::ones([1, 8, 3, 3])).dims(), &[1, 2, 6, 6]);
/// ```
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct PixelShuffle {
    /// The factor `r`.
    pub upscale_factor: i64,
}

impl PixelShuffle {
    /// `nn.PixelShuffle(upscale_factor)`.
    pub fn new(upscale_factor: i64) -> PixelShuffle {
        PixelShuffle { upscale_factor }
    }
    fn describe(&self) -> String {
        format!("upscale_factor={}", self.upscale_factor)
    }
}

impl Forward for PixelShuffle {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        F::pixel_shuffle(input, self.upscale_factor)
    }
}

/// `(*, C, H·r, W·r)` to `(*, C·r², H, W)` (`nn.PixelUnshuffle(downscale_factor)`); see
/// [`F::pixel_unshuffle`].
///
/// ```
/// use flambeau::{nn::{Forward, PixelUnshuffle}, Tensor};
/// let pu = PixelUnshuffle::new(3);
/// assert_eq!(format!("{pu}"), "PixelUnshuffle(downscale_factor=3)");
/// assert_eq!(pu.forward(&Tensor::ones([2, 1, 6, 3])).dims(), &[2, 9, 2, 1]);
/// ```
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct PixelUnshuffle {
    /// The factor `r`.
    pub downscale_factor: i64,
}

impl PixelUnshuffle {
    /// `nn.PixelUnshuffle(downscale_factor)`.
    pub fn new(downscale_factor: i64) -> PixelUnshuffle {
        PixelUnshuffle { downscale_factor }
    }
    fn describe(&self) -> String {
        format!("downscale_factor={}", self.downscale_factor)
    }
}

impl Forward for PixelUnshuffle {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        F::pixel_unshuffle(input, self.downscale_factor)
    }
}

macro_rules! feature_dropout_module {
    ($(#[$doc:meta])* $name:ident, $f:ident) => {
        $(#[$doc])*
        #[derive(Module, Clone)]
        #[module(extra_repr = "describe")]
        pub struct $name {
            /// Probability of zeroing a channel.
            pub p: f64,
            /// Train/eval mode.
            pub training: TrainingFlag,
        }

        impl $name {
            #[doc = concat!("`nn.", stringify!($name), "(p)`; panics, as PyTorch does, unless `0 <= p <= 1`.")]
            #[track_caller]
            pub fn new(p: f64) -> $name {
                if !(0.0..=1.0).contains(&p) {
                    panic!("dropout probability has to be between 0 and 1, but got {p}");
                }
                $name {
                    p,
                    training: TrainingFlag::new(),
                }
            }
            fn describe(&self) -> String {
                format!("p={}, inplace=False", pyfmt::float(self.p))
            }
        }

        impl Default for $name {
            #[track_caller]
            fn default() -> Self {
                $name::new(0.5)
            }
        }

        impl Forward for $name {
            #[track_caller]
            fn forward(&self, input: &Tensor) -> Tensor {
                F::$f(input, self.p, self.training.get())
            }
        }
    };
}

feature_dropout_module!(
    /// Zeroes whole channels of `(N, C, L)` or `(C, L)` inputs with probability `p` in training
    /// mode (`nn.Dropout1d(p=0.5)`); the identity in eval mode. See [`F::dropout1d`].
    ///
    /// ```
    /// use flambeau::nn::{Dropout1d, Forward, Module};
    /// use flambeau::Tensor;
    /// let d = Dropout1d::new(0.25);
    /// assert_eq!(format!("{d}"), "Dropout1d(p=0.25, inplace=False)");
    /// d.eval();
    /// assert!(d.forward(&Tensor::ones([2, 3, 4])).equal(&Tensor::ones([2, 3, 4])));
    /// ```
    Dropout1d,
    dropout1d
);

feature_dropout_module!(
    /// Zeroes whole channels of `(N, C, H, W)` inputs with probability `p` in training mode
    /// (`nn.Dropout2d(p=0.5)`); the identity in eval mode. See [`F::dropout2d`].
    ///
    /// ```
    /// use flambeau::nn::{Dropout2d, Forward, Module};
    /// use flambeau::Tensor;
    /// let d = Dropout2d::default();
    /// assert_eq!(format!("{d}"), "Dropout2d(p=0.5, inplace=False)");
    /// let y = d.forward(&Tensor::ones([2, 8, 3, 3]));
    /// // each channel is all zeros or all twos
    /// let v = y.to_vec::<f32>();
    /// assert!(v.chunks(9).all(|c| c.iter().all(|&x| x == c[0]) && (c[0] == 0.0 || c[0] == 2.0)));
    /// ```
    Dropout2d,
    dropout2d
);
