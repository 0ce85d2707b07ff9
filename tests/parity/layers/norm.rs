//! The harness's normalization: F.batch_norm, F.instance_norm, F.group_norm, F.layer_norm,
//! F.rms_norm, nn.BatchNorm1d/2d/3d, nn.InstanceNorm1d/2d/3d, nn.GroupNorm, nn.LayerNorm,
//! nn.RMSNorm.

use crate::parity::eval::{Args, EvalResult, Value};
use crate::parity::modules::{CaseModule, fwd};
use flambeau::Tensor;
use flambeau::nn::{self, BatchNormOptions, InstanceNormOptions, functional as F};

/// A shape argument (`6`, `(3, 4)`).
fn shape(a: &Args, i: usize, name: &str) -> Result<Vec<usize>, String> {
    Ok(a.req(i, name)?
        .ints()?
        .into_iter()
        .map(|d| d as usize)
        .collect())
}

/// An optional float whose explicit `None` differs from its default (`momentum=None`).
fn opt_f64_or(a: &Args, i: usize, name: &str, default: Option<f64>) -> Result<Option<f64>, String> {
    match a.kw.get(name).or_else(|| a.pos.get(i)) {
        None => Ok(default),
        Some(Value::None) => Ok(None),
        Some(v) => v.f64().map(Some),
    }
}

const FUNCTIONS: &[&str] = &[
    "F.batch_norm",
    "F.instance_norm",
    "F.group_norm",
    "F.layer_norm",
    "F.rms_norm",
];

/// `F.*` calls of this family; `None` when `name` is not one.
pub fn functional(name: &str, a: &Args) -> Option<EvalResult> {
    FUNCTIONS
        .contains(&name)
        .then(|| call(name, a).map(Value::Tensor))
}

fn call(name: &str, a: &Args) -> Result<Tensor, String> {
    let t = |i: usize, n: &str| a.tensor(i, n);
    let o = |i: usize, n: &str| a.opt_tensor(i, n);
    Ok(match name {
        "F.batch_norm" | "F.instance_norm" => {
            let flag = if name == "F.batch_norm" {
                "training"
            } else {
                "use_input_stats"
            };
            a.only(
                &[
                    "running_mean",
                    "running_var",
                    "weight",
                    "bias",
                    flag,
                    "momentum",
                    "eps",
                ],
                8,
            )?;
            let (rm, rv, w, b) = (
                o(1, "running_mean")?,
                o(2, "running_var")?,
                o(3, "weight")?,
                o(4, "bias")?,
            );
            let f = if name == "F.batch_norm" {
                F::batch_norm
            } else {
                F::instance_norm
            };
            f(
                &t(0, "input")?,
                rm.as_ref(),
                rv.as_ref(),
                w.as_ref(),
                b.as_ref(),
                a.bool_or(5, flag, name == "F.instance_norm")?,
                a.f64_or(6, "momentum", 0.1)?,
                a.f64_or(7, "eps", 1e-5)?,
            )
        }
        "F.group_norm" => {
            a.only(&["num_groups", "weight", "bias", "eps"], 5)?;
            F::group_norm(
                &t(0, "input")?,
                a.req(1, "num_groups")?.i64()? as usize,
                o(2, "weight")?.as_ref(),
                o(3, "bias")?.as_ref(),
                a.f64_or(4, "eps", 1e-5)?,
            )
        }
        "F.layer_norm" => {
            a.only(&["normalized_shape", "weight", "bias", "eps"], 5)?;
            F::layer_norm(
                &t(0, "input")?,
                &shape(a, 1, "normalized_shape")?,
                o(2, "weight")?.as_ref(),
                o(3, "bias")?.as_ref(),
                a.f64_or(4, "eps", 1e-5)?,
            )
        }
        "F.rms_norm" => {
            a.only(&["normalized_shape", "weight", "eps"], 4)?;
            F::rms_norm(
                &t(0, "input")?,
                &shape(a, 1, "normalized_shape")?,
                o(2, "weight")?.as_ref(),
                a.opt_f64(3, "eps")?,
            )
        }
        _ => unreachable!("{name} is not a normalization function"),
    })
}

/// `nn.*` constructors of this family; `None` when `name` is not one.
pub fn module(name: &str, a: &Args) -> Option<Result<Box<dyn CaseModule>, String>> {
    let int = |i: usize, n: &str| -> Result<usize, String> { Ok(a.req(i, n)?.i64()? as usize) };
    let r = (|| -> Result<Option<Box<dyn CaseModule>>, String> {
        Ok(Some(match name {
            "nn.BatchNorm1d" | "nn.BatchNorm2d" | "nn.BatchNorm3d" | "nn.InstanceNorm1d"
            | "nn.InstanceNorm2d" | "nn.InstanceNorm3d" => {
                a.only(
                    &[
                        "num_features",
                        "eps",
                        "momentum",
                        "affine",
                        "track_running_stats",
                        "bias",
                    ],
                    5,
                )?;
                let batch = name.starts_with("nn.Batch");
                let n = int(0, "num_features")?;
                let eps = a.f64_or(1, "eps", 1e-5)?;
                let momentum = opt_f64_or(a, 2, "momentum", Some(0.1))?;
                let affine = a.bool_or(3, "affine", batch)?;
                let track = a.bool_or(4, "track_running_stats", batch)?;
                let bias = a.bool_or(99, "bias", true)?;
                let bo = BatchNormOptions {
                    eps,
                    momentum,
                    affine,
                    track_running_stats: track,
                    bias,
                };
                let io = InstanceNormOptions {
                    eps,
                    momentum,
                    affine,
                    track_running_stats: track,
                    bias,
                };
                match name {
                    "nn.BatchNorm1d" => fwd(nn::BatchNorm1d::with_options(n, bo)),
                    "nn.BatchNorm2d" => fwd(nn::BatchNorm2d::with_options(n, bo)),
                    "nn.BatchNorm3d" => fwd(nn::BatchNorm3d::with_options(n, bo)),
                    "nn.InstanceNorm1d" => fwd(nn::InstanceNorm1d::with_options(n, io)),
                    "nn.InstanceNorm2d" => fwd(nn::InstanceNorm2d::with_options(n, io)),
                    _ => fwd(nn::InstanceNorm3d::with_options(n, io)),
                }
            }
            "nn.GroupNorm" => {
                a.only(&["num_groups", "num_channels", "eps", "affine", "bias"], 4)?;
                fwd(nn::GroupNorm::with_bias(
                    int(0, "num_groups")?,
                    int(1, "num_channels")?,
                    a.f64_or(2, "eps", 1e-5)?,
                    a.bool_or(3, "affine", true)?,
                    a.bool_or(99, "bias", true)?,
                ))
            }
            "nn.LayerNorm" => {
                a.only(
                    &["normalized_shape", "eps", "elementwise_affine", "bias"],
                    4,
                )?;
                fwd(nn::LayerNorm::with_bias(
                    &shape(a, 0, "normalized_shape")?,
                    a.f64_or(1, "eps", 1e-5)?,
                    a.bool_or(2, "elementwise_affine", true)?,
                    a.bool_or(3, "bias", true)?,
                ))
            }
            "nn.RMSNorm" => {
                a.only(&["normalized_shape", "eps", "elementwise_affine"], 3)?;
                fwd(nn::RMSNorm::with_options(
                    &shape(a, 0, "normalized_shape")?,
                    a.opt_f64(1, "eps")?,
                    a.bool_or(2, "elementwise_affine", true)?,
                ))
            }
            _ => return Ok(None),
        }))
    })();
    r.transpose()
}
