//! The `torch.nn` / `torch.optim` side of the harness: builds modules, optimizers and schedulers
//! from the fixtures' expression trees, and evaluates `F.*` losses and layers.

use super::eval::{self, Args, EvalResult, Value, unsupported};
use super::layers;
pub use super::modules::{Boxed, CaseModule, fwd};
use flambeau::nn;
use flambeau::nn::functional::{self as F, CrossEntropyOptions, KlReduction, Reduction};
use flambeau::optim::lr_scheduler::{
    CosineAnnealingLR, ExponentialLR, LRScheduler, LinearLR, MultiStepLR, OneCycleLR, StepLR,
};
use flambeau::optim::{self, Optimizer};
use serde_json::Value as Json;

/// Builds a module from `nn.X(...)`: the layer families first, then the basic modules.
pub fn build_module(name: &str, a: &Args) -> Result<Box<dyn CaseModule>, String> {
    if let Some(m) = layers::module(name, a) {
        return m;
    }
    let int = |i: usize, n: &str| -> Result<usize, String> { Ok(a.req(i, n)?.i64()? as usize) };
    Ok(match name {
        "nn.Linear" => {
            a.only(&["in_features", "out_features", "bias"], 3)?;
            fwd(nn::Linear::with_bias(
                int(0, "in_features")?,
                int(1, "out_features")?,
                a.bool_or(2, "bias", true)?,
            ))
        }
        "nn.ReLU" => fwd(nn::ReLU::new()),
        "nn.Tanh" => fwd(nn::Tanh::new()),
        "nn.SiLU" => fwd(nn::SiLU::new()),
        "nn.Softplus" => {
            a.only(&["beta", "threshold"], 2)?;
            fwd(nn::Softplus::with(
                a.f64_or(0, "beta", 1.0)?,
                a.f64_or(1, "threshold", 20.0)?,
            ))
        }
        "nn.Sigmoid" => fwd(nn::Sigmoid::new()),
        "nn.Identity" => fwd(nn::Identity::new()),
        "nn.Flatten" => {
            a.only(&["start_dim", "end_dim"], 2)?;
            fwd(nn::Flatten::with_dims(
                a.i64_or(0, "start_dim", 1)?,
                a.i64_or(1, "end_dim", -1)?,
            ))
        }
        other => return unsupported(format!("module {other}")),
    })
}

/// Evaluates a module expression (`nn.Sequential(nn.Linear(4, 8), nn.ReLU(), ...)` too).
pub fn eval_module(node: &Json, env: &eval::Env) -> Result<Box<dyn CaseModule>, String> {
    let name = node
        .get("call")
        .and_then(|c| c.as_str())
        .ok_or("not a module call")?;
    if name == "nn.Sequential" {
        let mut seq = nn::Sequential::new();
        for arg in node["args"].as_array().unwrap() {
            seq.push(Boxed(eval_module(arg, env)?));
        }
        return Ok(fwd(seq));
    }
    build_module(name, &eval_args(node, env)?)
}

pub fn eval_args(node: &Json, env: &eval::Env) -> Result<Args, String> {
    let pos = node
        .get("args")
        .map(|a| {
            a.as_array()
                .unwrap()
                .iter()
                .map(|n| eval::eval(n, env))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let kw = node
        .get("kwargs")
        .map(|k| {
            k.as_object()
                .unwrap()
                .iter()
                .map(|(name, n)| eval::eval(n, env).map(|v| (name.clone(), v)))
                .collect::<Result<std::collections::HashMap<_, _>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    Ok(Args { pos, kw })
}

/// `F.*` functions of the nn layer, tried after the core table.
pub fn call_functional(name: &str, a: &Args) -> Option<EvalResult> {
    if let Some(r) = layers::functional(name, a) {
        return Some(r);
    }
    let r = (|| -> EvalResult {
        let t = |i: usize, n: &str| a.tensor(i, n);
        let reduction = || -> Result<Reduction, String> {
            Ok(Reduction::parse(&a.str_or(99, "reduction", "mean")?))
        };
        let out = match name {
            "F.mse_loss" => {
                a.only(&["reduction"], 2)?;
                F::mse_loss(&t(0, "input")?, &t(1, "target")?, reduction()?)
            }
            "F.l1_loss" => {
                a.only(&["reduction"], 2)?;
                F::l1_loss(&t(0, "input")?, &t(1, "target")?, reduction()?)
            }
            "F.smooth_l1_loss" => {
                a.only(&["reduction", "beta"], 2)?;
                F::smooth_l1_loss(
                    &t(0, "input")?,
                    &t(1, "target")?,
                    reduction()?,
                    a.f64_or(99, "beta", 1.0)?,
                )
            }
            "F.huber_loss" => {
                a.only(&["reduction", "delta"], 2)?;
                F::huber_loss(
                    &t(0, "input")?,
                    &t(1, "target")?,
                    reduction()?,
                    a.f64_or(99, "delta", 1.0)?,
                )
            }
            "F.cross_entropy" | "F.nll_loss" => {
                a.only(
                    &["weight", "ignore_index", "reduction", "label_smoothing"],
                    2,
                )?;
                let opts = CrossEntropyOptions {
                    weight: a.opt_tensor(99, "weight")?,
                    ignore_index: a.i64_or(99, "ignore_index", -100)?,
                    reduction: reduction()?,
                    label_smoothing: a.f64_or(99, "label_smoothing", 0.0)?,
                };
                if name == "F.nll_loss" {
                    F::nll_loss(&t(0, "input")?, &t(1, "target")?, &opts)
                } else {
                    F::cross_entropy(&t(0, "input")?, &t(1, "target")?, &opts)
                }
            }
            "F.binary_cross_entropy" => {
                a.only(&["weight", "reduction"], 2)?;
                F::binary_cross_entropy(
                    &t(0, "input")?,
                    &t(1, "target")?,
                    a.opt_tensor(99, "weight")?.as_ref(),
                    reduction()?,
                )
            }
            "F.binary_cross_entropy_with_logits" => {
                a.only(&["weight", "pos_weight", "reduction"], 2)?;
                F::binary_cross_entropy_with_logits(
                    &t(0, "input")?,
                    &t(1, "target")?,
                    a.opt_tensor(99, "weight")?.as_ref(),
                    a.opt_tensor(99, "pos_weight")?.as_ref(),
                    reduction()?,
                )
            }
            "F.kl_div" => {
                a.only(&["reduction", "log_target"], 2)?;
                let r = match a.str_or(99, "reduction", "mean")?.as_str() {
                    "none" => KlReduction::None,
                    "sum" => KlReduction::Sum,
                    "batchmean" => KlReduction::BatchMean,
                    _ => KlReduction::Mean,
                };
                F::kl_div(
                    &t(0, "input")?,
                    &t(1, "target")?,
                    r,
                    a.bool_or(99, "log_target", false)?,
                )
            }
            "F.cosine_similarity" => {
                a.only(&["dim", "eps"], 2)?;
                F::cosine_similarity(
                    &t(0, "x1")?,
                    &t(1, "x2")?,
                    a.i64_or(2, "dim", 1)?,
                    a.f64_or(3, "eps", 1e-8)?,
                )
            }
            "F.dropout" => {
                a.only(&["p", "training"], 1)?;
                F::dropout(
                    &t(0, "input")?,
                    a.f64_or(1, "p", 0.5)?,
                    a.bool_or(2, "training", true)?,
                )
            }
            other => return unsupported(format!("function {other}")),
        };
        Ok(Value::Tensor(out))
    })();
    match &r {
        Err(msg) if msg == &format!("unsupported: function {name}") => None,
        _ => Some(r),
    }
}

/// Builds `torch.optim.X([p], ...)`.
pub fn build_optimizer(node: &Json, env: &eval::Env) -> Result<Box<dyn Optimizer>, String> {
    let name = node["call"].as_str().ok_or("not a call")?;
    let a = eval_args(node, env)?;
    let params = a.req(0, "params")?.tensors()?;
    let f = |n: &str, d: f64| a.f64_or(99, n, d);
    let b = |n: &str, d: bool| a.bool_or(99, n, d);
    let betas = || -> Result<(f64, f64), String> {
        match a.get(99, "betas") {
            Some(Value::List(l)) => Ok((l[0].f64()?, l[1].f64()?)),
            _ => Ok((0.9, 0.999)),
        }
    };
    Ok(match name {
        "torch.optim.SGD" => {
            a.only(
                &[
                    "lr",
                    "momentum",
                    "dampening",
                    "weight_decay",
                    "nesterov",
                    "maximize",
                ],
                1,
            )?;
            Box::new(optim::SGD::with_options(
                params,
                optim::SgdOptions {
                    lr: f("lr", 1e-3)?,
                    momentum: f("momentum", 0.0)?,
                    dampening: f("dampening", 0.0)?,
                    weight_decay: f("weight_decay", 0.0)?,
                    nesterov: b("nesterov", false)?,
                    maximize: b("maximize", false)?,
                },
            ))
        }
        "torch.optim.Adam" | "torch.optim.AdamW" => {
            a.only(
                &["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"],
                1,
            )?;
            let adamw = name.ends_with('W');
            let opts = optim::AdamOptions {
                lr: f("lr", 1e-3)?,
                betas: betas()?,
                eps: f("eps", 1e-8)?,
                weight_decay: f("weight_decay", if adamw { 1e-2 } else { 0.0 })?,
                amsgrad: b("amsgrad", false)?,
                maximize: b("maximize", false)?,
                decoupled_weight_decay: adamw,
            };
            if adamw {
                Box::new(optim::AdamW::with_options(params, opts))
            } else {
                Box::new(optim::Adam::with_options(params, opts))
            }
        }
        "torch.optim.RMSprop" => {
            a.only(
                &[
                    "lr",
                    "alpha",
                    "eps",
                    "weight_decay",
                    "momentum",
                    "centered",
                    "maximize",
                ],
                1,
            )?;
            Box::new(optim::RMSprop::with_options(
                params,
                optim::RMSpropOptions {
                    lr: f("lr", 1e-2)?,
                    alpha: f("alpha", 0.99)?,
                    eps: f("eps", 1e-8)?,
                    weight_decay: f("weight_decay", 0.0)?,
                    momentum: f("momentum", 0.0)?,
                    centered: b("centered", false)?,
                    maximize: b("maximize", false)?,
                },
            ))
        }
        "torch.optim.Adagrad" => {
            a.only(
                &[
                    "lr",
                    "lr_decay",
                    "weight_decay",
                    "initial_accumulator_value",
                    "eps",
                    "maximize",
                ],
                1,
            )?;
            Box::new(optim::Adagrad::with_options(
                params,
                optim::AdagradOptions {
                    lr: f("lr", 1e-2)?,
                    lr_decay: f("lr_decay", 0.0)?,
                    weight_decay: f("weight_decay", 0.0)?,
                    initial_accumulator_value: f("initial_accumulator_value", 0.0)?,
                    eps: f("eps", 1e-10)?,
                    maximize: b("maximize", false)?,
                },
            ))
        }
        other => return unsupported(format!("optimizer {other}")),
    })
}

/// Builds `torch.optim.lr_scheduler.X(opt, ...)`.
pub fn build_scheduler(
    node: &Json,
    env: &eval::Env,
    opt: &mut dyn Optimizer,
) -> Result<Box<dyn LRScheduler>, String> {
    let name = node["call"].as_str().ok_or("not a call")?;
    let a = eval_args(node, env)?;
    let int = |n: &str| -> Result<u64, String> { Ok(a.req(99, n)?.i64()? as u64) };
    Ok(match name.trim_start_matches("torch.optim.lr_scheduler.") {
        "StepLR" => {
            a.only(&["step_size", "gamma"], 1)?;
            Box::new(StepLR::new(
                opt,
                int("step_size")?,
                a.f64_or(99, "gamma", 0.1)?,
            ))
        }
        "MultiStepLR" => {
            let ms: Vec<u64> = a
                .req(99, "milestones")?
                .ints()?
                .into_iter()
                .map(|m| m as u64)
                .collect();
            Box::new(MultiStepLR::new(opt, &ms, a.f64_or(99, "gamma", 0.1)?))
        }
        "ExponentialLR" => Box::new(ExponentialLR::new(opt, a.f64_or(99, "gamma", 0.1)?)),
        "CosineAnnealingLR" => {
            a.only(&["T_max", "eta_min"], 1)?;
            Box::new(CosineAnnealingLR::new(
                opt,
                int("T_max")?,
                a.f64_or(99, "eta_min", 0.0)?,
            ))
        }
        "LinearLR" => {
            a.only(&["start_factor", "end_factor", "total_iters"], 1)?;
            let total = match a.get(99, "total_iters") {
                Some(v) => v.i64()? as u64,
                None => 5,
            };
            Box::new(LinearLR::with(
                opt,
                a.f64_or(99, "start_factor", 1.0 / 3.0)?,
                a.f64_or(99, "end_factor", 1.0)?,
                total,
            ))
        }
        "OneCycleLR" => {
            a.only(&["max_lr", "total_steps"], 1)?;
            Box::new(OneCycleLR::new(
                opt,
                a.req(99, "max_lr")?.f64()?,
                int("total_steps")?,
            ))
        }
        other => return unsupported(format!("scheduler {other}")),
    })
}
