//! The harness's shape and resampling: F.pad, F.interpolate, F.pixel_shuffle, F.normalize,
//! F.one_hot, dropout variants, embeddings with padding_idx, EmbeddingBag.

use crate::parity::eval::{Args, EvalResult, Value, unsupported};
use crate::parity::modules::{CaseModule, delegate_module, fwd};
use flambeau::Tensor;
use flambeau::nn::functional::{self as F, BagMode, EmbeddingBagOptions};
use flambeau::nn::{self, FieldSink, Module};

/// A number or a list of numbers (`scale_factor=2`, `scale_factor=(2, 1.5)`).
fn floats(v: &Value) -> Result<Vec<f64>, String> {
    match v {
        Value::List(l) => l.iter().map(|x| x.f64()).collect(),
        other => Ok(vec![other.f64()?]),
    }
}

fn usizes(v: &Value) -> Result<Vec<usize>, String> {
    Ok(v.ints()?.into_iter().map(|d| d as usize).collect())
}

/// `F.*` calls of this family; `None` when `name` is not one.
pub fn functional(name: &str, a: &Args) -> Option<EvalResult> {
    let known = [
        "F.pad",
        "F.interpolate",
        "F.pixel_shuffle",
        "F.pixel_unshuffle",
        "F.normalize",
        "F.one_hot",
        "F.dropout1d",
        "F.dropout2d",
        "F.embedding",
        "F.embedding_bag",
    ];
    if !known.contains(&name) {
        return None;
    }
    Some(call(name, a))
}

fn call(name: &str, a: &Args) -> EvalResult {
    let t = |i: usize, n: &str| a.tensor(i, n);
    let out = match name {
        "F.pad" => {
            a.only(&["pad", "mode", "value"], 4)?;
            F::pad(
                &t(0, "input")?,
                &a.req(1, "pad")?.ints()?,
                &a.str_or(2, "mode", "constant")?,
                a.opt_f64(3, "value")?,
            )
        }
        "F.interpolate" => {
            a.only(&["size", "scale_factor", "mode", "align_corners"], 5)?;
            let size = a.get(1, "size").map(usizes).transpose()?;
            let scale = a.get(2, "scale_factor").map(floats).transpose()?;
            let align = a.get(4, "align_corners").map(|v| v.bool()).transpose()?;
            F::interpolate(
                &t(0, "input")?,
                size.as_deref(),
                scale.as_deref(),
                &a.str_or(3, "mode", "nearest")?,
                align,
            )
        }
        "F.pixel_shuffle" => {
            a.only(&["upscale_factor"], 2)?;
            F::pixel_shuffle(&t(0, "input")?, a.req(1, "upscale_factor")?.i64()?)
        }
        "F.pixel_unshuffle" => {
            a.only(&["downscale_factor"], 2)?;
            F::pixel_unshuffle(&t(0, "input")?, a.req(1, "downscale_factor")?.i64()?)
        }
        "F.normalize" => {
            a.only(&["p", "dim", "eps"], 4)?;
            F::normalize(
                &t(0, "input")?,
                a.f64_or(1, "p", 2.0)?,
                a.i64_or(2, "dim", 1)?,
                a.f64_or(3, "eps", 1e-12)?,
            )
        }
        "F.one_hot" => {
            a.only(&["num_classes"], 2)?;
            F::one_hot(&t(0, "tensor")?, a.i64_or(1, "num_classes", -1)?)
        }
        "F.dropout1d" | "F.dropout2d" => {
            a.only(&["p", "training"], 3)?;
            let (x, p, train) = (
                t(0, "input")?,
                a.f64_or(1, "p", 0.5)?,
                a.bool_or(2, "training", true)?,
            );
            if name == "F.dropout1d" {
                F::dropout1d(&x, p, train)
            } else {
                F::dropout2d(&x, p, train)
            }
        }
        "F.embedding" => {
            a.only(&["padding_idx"], 3)?;
            let p = a.get(2, "padding_idx").map(|v| v.i64()).transpose()?;
            F::embedding_with(&t(0, "input")?, &t(1, "weight")?, p)
        }
        "F.embedding_bag" => {
            a.only(
                &[
                    "offsets",
                    "mode",
                    "per_sample_weights",
                    "include_last_offset",
                    "padding_idx",
                ],
                3,
            )?;
            let opts = EmbeddingBagOptions {
                offsets: a.opt_tensor(2, "offsets")?,
                per_sample_weights: a.opt_tensor(99, "per_sample_weights")?,
                include_last_offset: a.bool_or(99, "include_last_offset", false)?,
                padding_idx: a.get(99, "padding_idx").map(|v| v.i64()).transpose()?,
            };
            F::embedding_bag(
                &t(0, "input")?,
                &t(1, "weight")?,
                BagMode::parse(&a.str_or(99, "mode", "mean")?),
                &opts,
            )
        }
        other => return unsupported(format!("function {other}")),
    };
    Ok(Value::Tensor(out))
}

/// `nn.EmbeddingBag` called as `m(input, offsets, per_sample_weights=...)`.
struct Bag(nn::EmbeddingBag);

delegate_module!(Bag, s => s.0);

impl CaseModule for Bag {
    fn call(&self, a: &Args) -> EvalResult {
        a.only(&["offsets", "per_sample_weights"], 3)?;
        let offsets = a.opt_tensor(1, "offsets")?;
        let psw = a.opt_tensor(2, "per_sample_weights")?;
        Ok(Value::Tensor(self.0.forward_with(
            &a.tensor(0, "input")?,
            offsets.as_ref(),
            psw.as_ref(),
        )))
    }
}

/// `nn.*` constructors of this family; `None` when `name` is not one.
pub fn module(name: &str, a: &Args) -> Option<Result<Box<dyn CaseModule>, String>> {
    let known = [
        "nn.Embedding",
        "nn.EmbeddingBag",
        "nn.Upsample",
        "nn.PixelShuffle",
        "nn.PixelUnshuffle",
        "nn.Dropout1d",
        "nn.Dropout2d",
    ];
    if !known.contains(&name) {
        return None;
    }
    Some(build(name, a))
}

fn build(name: &str, a: &Args) -> Result<Box<dyn CaseModule>, String> {
    let int = |i: usize, n: &str| -> Result<usize, String> { Ok(a.req(i, n)?.i64()? as usize) };
    Ok(match name {
        "nn.Embedding" => {
            a.only(&["num_embeddings", "embedding_dim", "padding_idx"], 3)?;
            fwd(nn::Embedding::with_padding_idx(
                int(0, "num_embeddings")?,
                int(1, "embedding_dim")?,
                a.get(2, "padding_idx").map(|v| v.i64()).transpose()?,
            ))
        }
        "nn.EmbeddingBag" => {
            a.only(
                &[
                    "num_embeddings",
                    "embedding_dim",
                    "mode",
                    "include_last_offset",
                    "padding_idx",
                ],
                2,
            )?;
            Box::new(Bag(nn::EmbeddingBag::with_options(
                int(0, "num_embeddings")?,
                int(1, "embedding_dim")?,
                &a.str_or(99, "mode", "mean")?,
                a.bool_or(99, "include_last_offset", false)?,
                a.get(99, "padding_idx").map(|v| v.i64()).transpose()?,
            )))
        }
        "nn.Upsample" => {
            a.only(&["size", "scale_factor", "mode", "align_corners"], 4)?;
            let mode = a.str_or(2, "mode", "nearest")?;
            let mut up = match (a.get(0, "size"), a.get(1, "scale_factor")) {
                (Some(s), None) => nn::Upsample::size(&usizes(s)?, &mode),
                (None, Some(f)) => nn::Upsample::scale_factor(&floats(f)?, &mode),
                _ => return unsupported("Upsample without exactly one of size and scale_factor"),
            };
            if let Some(v) = a.get(3, "align_corners") {
                up = up.align_corners(v.bool()?);
            }
            fwd(up)
        }
        "nn.PixelShuffle" => {
            a.only(&["upscale_factor"], 1)?;
            fwd(nn::PixelShuffle::new(a.req(0, "upscale_factor")?.i64()?))
        }
        "nn.PixelUnshuffle" => {
            a.only(&["downscale_factor"], 1)?;
            fwd(nn::PixelUnshuffle::new(
                a.req(0, "downscale_factor")?.i64()?,
            ))
        }
        "nn.Dropout1d" | "nn.Dropout2d" => {
            a.only(&["p"], 1)?;
            let p = a.f64_or(0, "p", 0.5)?;
            if name == "nn.Dropout1d" {
                fwd(nn::Dropout1d::new(p))
            } else {
                fwd(nn::Dropout2d::new(p))
            }
        }
        other => return unsupported(format!("module {other}")),
    })
}
