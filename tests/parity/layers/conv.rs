//! The harness's convolutions: F.conv1d/conv2d/conv_transpose1d/2d, F.unfold/fold, nn.Conv*,
//! nn.ConvTranspose*, nn.Unfold/Fold.

use crate::parity::eval::{Args, EvalResult, Value, unsupported};
use crate::parity::modules::{CaseModule, fwd};
use flambeau::nn;
use flambeau::nn::functional::{self as F, Padding};

/// An int-or-tuple argument, or `default` when absent.
fn ints(a: &Args, i: usize, name: &str, default: i64) -> Result<Vec<i64>, String> {
    Ok(a.opt_ints(i, name)?.unwrap_or_else(|| vec![default]))
}

/// A convolution's `padding`: a number, a tuple, `'valid'` or `'same'`.
fn padding(a: &Args, i: usize) -> Result<Padding, String> {
    match a.get(i, "padding") {
        None => Ok(Padding::Explicit(vec![0])),
        Some(Value::Str(s)) if s == "valid" || s == "same" => Ok(Padding::from(s.as_str())),
        Some(Value::Str(s)) => unsupported(format!("padding {s:?}")),
        Some(v) => Ok(Padding::Explicit(v.ints()?)),
    }
}

/// `F.*` calls of this family; `None` when `name` is not one.
pub fn functional(name: &str, a: &Args) -> Option<EvalResult> {
    let r = || -> EvalResult {
        let t = |i: usize, n: &str| a.tensor(i, n);
        let out = match name {
            "F.conv1d" | "F.conv2d" => {
                a.only(&["bias", "stride", "padding", "dilation", "groups"], 7)?;
                let f = if name == "F.conv1d" {
                    F::conv1d
                } else {
                    F::conv2d
                };
                f(
                    &t(0, "input")?,
                    &t(1, "weight")?,
                    a.opt_tensor(2, "bias")?.as_ref(),
                    ints(a, 3, "stride", 1)?,
                    padding(a, 4)?,
                    ints(a, 5, "dilation", 1)?,
                    a.i64_or(6, "groups", 1)?,
                )
            }
            "F.conv_transpose1d" | "F.conv_transpose2d" => {
                a.only(
                    &[
                        "bias",
                        "stride",
                        "padding",
                        "output_padding",
                        "groups",
                        "dilation",
                    ],
                    8,
                )?;
                let f = if name == "F.conv_transpose1d" {
                    F::conv_transpose1d
                } else {
                    F::conv_transpose2d
                };
                f(
                    &t(0, "input")?,
                    &t(1, "weight")?,
                    a.opt_tensor(2, "bias")?.as_ref(),
                    ints(a, 3, "stride", 1)?,
                    ints(a, 4, "padding", 0)?,
                    ints(a, 5, "output_padding", 0)?,
                    a.i64_or(6, "groups", 1)?,
                    ints(a, 7, "dilation", 1)?,
                )
            }
            "F.unfold" => {
                a.only(&["kernel_size", "dilation", "padding", "stride"], 5)?;
                F::unfold(
                    &t(0, "input")?,
                    a.req(1, "kernel_size")?.ints()?,
                    ints(a, 2, "dilation", 1)?,
                    ints(a, 3, "padding", 0)?,
                    ints(a, 4, "stride", 1)?,
                )
            }
            "F.fold" => {
                a.only(
                    &[
                        "output_size",
                        "kernel_size",
                        "dilation",
                        "padding",
                        "stride",
                    ],
                    6,
                )?;
                F::fold(
                    &t(0, "input")?,
                    a.req(1, "output_size")?.ints()?,
                    a.req(2, "kernel_size")?.ints()?,
                    ints(a, 3, "dilation", 1)?,
                    ints(a, 4, "padding", 0)?,
                    ints(a, 5, "stride", 1)?,
                )
            }
            _ => unreachable!(),
        };
        Ok(Value::Tensor(out))
    };
    match name {
        "F.conv1d" | "F.conv2d" | "F.conv_transpose1d" | "F.conv_transpose2d" | "F.unfold"
        | "F.fold" => Some(r()),
        _ => None,
    }
}

/// The options shared by the `nn.Conv*` constructors, from `nn.ConvNd(in, out, kernel_size,
/// stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode='zeros')`.
fn conv_options(a: &Args) -> Result<nn::ConvOptions, String> {
    a.only(
        &[
            "in_channels",
            "out_channels",
            "kernel_size",
            "stride",
            "padding",
            "dilation",
            "groups",
            "bias",
            "padding_mode",
        ],
        9,
    )?;
    if a.str_or(8, "padding_mode", "zeros")? != "zeros" {
        return unsupported("padding_mode other than 'zeros'");
    }
    Ok(nn::ConvOptions {
        stride: ints(a, 3, "stride", 1)?,
        padding: padding(a, 4)?,
        dilation: ints(a, 5, "dilation", 1)?,
        groups: a.i64_or(6, "groups", 1)?,
        bias: a.bool_or(7, "bias", true)?,
        padding_mode: "zeros".to_string(),
    })
}

/// The options of `nn.ConvTransposeNd(in, out, kernel_size, stride=1, padding=0,
/// output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros')`.
fn conv_transpose_options(a: &Args) -> Result<nn::ConvTransposeOptions, String> {
    a.only(
        &[
            "in_channels",
            "out_channels",
            "kernel_size",
            "stride",
            "padding",
            "output_padding",
            "groups",
            "bias",
            "dilation",
            "padding_mode",
        ],
        10,
    )?;
    if a.str_or(9, "padding_mode", "zeros")? != "zeros" {
        return unsupported("padding_mode other than 'zeros'");
    }
    Ok(nn::ConvTransposeOptions {
        stride: ints(a, 3, "stride", 1)?,
        padding: ints(a, 4, "padding", 0)?,
        output_padding: ints(a, 5, "output_padding", 0)?,
        groups: a.i64_or(6, "groups", 1)?,
        bias: a.bool_or(7, "bias", true)?,
        dilation: ints(a, 8, "dilation", 1)?,
    })
}

/// `nn.*` constructors of this family; `None` when `name` is not one.
pub fn module(name: &str, a: &Args) -> Option<Result<Box<dyn CaseModule>, String>> {
    let r = || -> Result<Box<dyn CaseModule>, String> {
        let int = |i: usize, n: &str| -> Result<usize, String> { Ok(a.req(i, n)?.i64()? as usize) };
        Ok(match name {
            "nn.Conv1d" | "nn.Conv2d" => {
                let opts = conv_options(a)?;
                let (cin, cout) = (int(0, "in_channels")?, int(1, "out_channels")?);
                let k = a.req(2, "kernel_size")?.ints()?;
                if name == "nn.Conv1d" {
                    fwd(nn::Conv1d::with_options(cin, cout, k, opts))
                } else {
                    fwd(nn::Conv2d::with_options(cin, cout, k, opts))
                }
            }
            "nn.ConvTranspose1d" | "nn.ConvTranspose2d" => {
                let opts = conv_transpose_options(a)?;
                let (cin, cout) = (int(0, "in_channels")?, int(1, "out_channels")?);
                let k = a.req(2, "kernel_size")?.ints()?;
                if name == "nn.ConvTranspose1d" {
                    fwd(nn::ConvTranspose1d::with_options(cin, cout, k, opts))
                } else {
                    fwd(nn::ConvTranspose2d::with_options(cin, cout, k, opts))
                }
            }
            "nn.Unfold" => {
                a.only(&["kernel_size", "dilation", "padding", "stride"], 4)?;
                fwd(nn::Unfold::with_options(
                    a.req(0, "kernel_size")?.ints()?,
                    ints(a, 1, "dilation", 1)?,
                    ints(a, 2, "padding", 0)?,
                    ints(a, 3, "stride", 1)?,
                ))
            }
            "nn.Fold" => {
                a.only(
                    &[
                        "output_size",
                        "kernel_size",
                        "dilation",
                        "padding",
                        "stride",
                    ],
                    5,
                )?;
                fwd(nn::Fold::with_options(
                    a.req(0, "output_size")?.ints()?,
                    a.req(1, "kernel_size")?.ints()?,
                    ints(a, 2, "dilation", 1)?,
                    ints(a, 3, "padding", 0)?,
                    ints(a, 4, "stride", 1)?,
                ))
            }
            _ => unreachable!(),
        })
    };
    match name {
        "nn.Conv1d" | "nn.Conv2d" | "nn.ConvTranspose1d" | "nn.ConvTranspose2d" | "nn.Unfold"
        | "nn.Fold" => Some(r()),
        _ => None,
    }
}
