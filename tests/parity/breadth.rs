//! The calls and methods of `ops_breadth.json` (issue 10) beyond the core table of `eval.rs`:
//! more elementwise math, activations, and shape and matrix ops. `None` means "not mine", so
//! the caller reports the call as unsupported.

use super::eval::{Args, EvalResult, Value, unsupported};
use flambeau::Tensor;
use flambeau::nn::functional as F;

/// A number or a tensor argument, as PyTorch's overloads take either.
fn tensor_or_scalar(v: &Value) -> Result<flambeau::TensorOrScalar, String> {
    Ok(match v {
        Value::Tensor(t) => t.into(),
        s => s.scalar()?.into(),
    })
}

/// `torch.X` / `F.X` calls; the first argument is the input tensor.
pub fn call(name: &str, a: &Args) -> Option<EvalResult> {
    if let Some(r) = super::breadth_select::call(name, a) {
        return Some(r);
    }
    if let Some(r) = super::breadth_linalg::call(name, a) {
        return Some(r);
    }
    let r = (|| -> EvalResult {
        let t = |i: usize, n: &str| a.tensor(i, n);
        let unary = |f: fn(&Tensor) -> Tensor| -> EvalResult {
            a.only(&[], 1)?;
            Ok(Value::Tensor(f(&a.tensor(0, "input")?)))
        };
        let out = match name {
            "torch.erf" => return unary(Tensor::erf),
            "torch.erfinv" => return unary(Tensor::erfinv),
            "torch.exp2" => return unary(Tensor::exp2),
            "torch.expm1" => return unary(Tensor::expm1),
            "torch.log1p" => return unary(Tensor::log1p),
            "torch.log2" => return unary(Tensor::log2),
            "torch.log10" => return unary(Tensor::log10),
            "torch.reciprocal" => return unary(Tensor::reciprocal),
            "torch.rsqrt" => return unary(Tensor::rsqrt),
            "torch.square" => return unary(Tensor::square),
            "torch.sign" => return unary(Tensor::sign),
            "torch.floor" => return unary(Tensor::floor),
            "torch.ceil" => return unary(Tensor::ceil),
            "torch.round" => return unary(Tensor::round),
            "torch.trunc" => return unary(Tensor::trunc),
            "torch.frac" => return unary(Tensor::frac),
            "torch.sin" => return unary(Tensor::sin),
            "torch.cos" => return unary(Tensor::cos),
            "torch.tan" => return unary(Tensor::tan),
            "torch.asin" => return unary(Tensor::asin),
            "torch.acos" => return unary(Tensor::acos),
            "torch.atan" => return unary(Tensor::atan),
            "torch.sinh" => return unary(Tensor::sinh),
            "torch.cosh" => return unary(Tensor::cosh),
            "torch.isfinite" => return unary(Tensor::isfinite),
            "torch.atan2" => {
                a.only(&[], 2)?;
                t(0, "input")?.atan2(&t(1, "other")?)
            }
            "torch.fmod" | "torch.remainder" | "torch.floor_divide" => {
                a.only(&[], 2)?;
                let x = t(0, "input")?;
                let other = tensor_or_scalar(a.req(1, "other")?)?;
                match name {
                    "torch.fmod" => x.fmod(other),
                    "torch.remainder" => x.remainder(other),
                    _ => x.floor_divide(other),
                }
            }
            "torch.lerp" => {
                a.only(&[], 3)?;
                match a.req(2, "weight")? {
                    Value::Tensor(_) => return unsupported("lerp with a tensor weight"),
                    w => t(0, "input")?.lerp(&t(1, "end")?, w.f64()?),
                }
            }
            "torch.addcmul" | "torch.addcdiv" => {
                a.only(&["value"], 3)?;
                let (x, t1, t2) = (t(0, "input")?, t(1, "tensor1")?, t(2, "tensor2")?);
                let value = a.f64_or(3, "value", 1.0)?;
                if name == "torch.addcmul" {
                    x.addcmul(&t1, &t2, value)
                } else {
                    x.addcdiv(&t1, &t2, value)
                }
            }
            "torch.nan_to_num" => {
                a.only(&["nan", "posinf", "neginf"], 4)?;
                t(0, "input")?.nan_to_num(
                    a.f64_or(1, "nan", 0.0)?,
                    a.opt_f64(2, "posinf")?,
                    a.opt_f64(3, "neginf")?,
                )
            }
            "F.hardtanh" => {
                a.only(&["min_val", "max_val"], 3)?;
                t(0, "input")?.hardtanh(a.f64_or(1, "min_val", -1.0)?, a.f64_or(2, "max_val", 1.0)?)
            }
            "F.relu6" => return unary(Tensor::relu6),
            "F.elu" => {
                a.only(&["alpha"], 2)?;
                t(0, "input")?.elu(a.f64_or(1, "alpha", 1.0)?)
            }
            "F.selu" => return unary(Tensor::selu),
            "F.celu" => {
                a.only(&["alpha"], 2)?;
                t(0, "input")?.celu(a.f64_or(1, "alpha", 1.0)?)
            }
            "F.mish" => return unary(Tensor::mish),
            "F.hardswish" => return unary(Tensor::hardswish),
            "F.hardsigmoid" => return unary(Tensor::hardsigmoid),
            "F.logsigmoid" => return unary(F::logsigmoid),
            "F.softsign" => return unary(Tensor::softsign),
            "F.glu" => {
                a.only(&["dim"], 2)?;
                t(0, "input")?.glu(a.i64_or(1, "dim", -1)?)
            }
            "F.prelu" => {
                a.only(&[], 2)?;
                t(0, "input")?.prelu(&t(1, "weight")?)
            }
            "torch.cumsum" | "torch.cumprod" => {
                a.only(&["dim"], 2)?;
                let dim = a.req(1, "dim")?.i64()?;
                if name == "torch.cumsum" {
                    t(0, "input")?.cumsum(dim)
                } else {
                    t(0, "input")?.cumprod(dim)
                }
            }
            "torch.prod" => {
                a.only(&["dim", "keepdim"], 3)?;
                match a.get(1, "dim") {
                    None => t(0, "input")?.prod(),
                    Some(d) => t(0, "input")?.prod_dim(d.i64()?, a.bool_or(2, "keepdim", false)?),
                }
            }
            "torch.flip" => {
                a.only(&["dims"], 2)?;
                t(0, "input")?.flip(&a.req(1, "dims")?.ints()?)
            }
            "torch.roll" => {
                a.only(&["shifts", "dims"], 3)?;
                let dims = a.opt_ints(2, "dims")?.unwrap_or_default();
                t(0, "input")?.roll(&a.req(1, "shifts")?.ints()?, &dims)
            }
            "torch.tril" | "torch.triu" => {
                a.only(&["diagonal"], 2)?;
                let k = a.i64_or(1, "diagonal", 0)?;
                if name == "torch.tril" {
                    t(0, "input")?.tril(k)
                } else {
                    t(0, "input")?.triu(k)
                }
            }
            "torch.repeat_interleave" => {
                a.only(&["repeats", "dim"], 3)?;
                let repeats = match a.req(1, "repeats")? {
                    Value::Tensor(_) => {
                        return unsupported("repeat_interleave with tensor repeats");
                    }
                    r => r.i64()?,
                };
                t(0, "input")?
                    .repeat_interleave(repeats, a.get(2, "dim").map(|d| d.i64()).transpose()?)
            }
            "torch.outer" | "torch.ger" => {
                a.only(&[], 2)?;
                t(0, "input")?.outer(&t(1, "vec2")?)
            }
            "torch.addmm" | "torch.baddbmm" => {
                a.only(&["beta", "alpha"], 3)?;
                let (x, m1, m2) = (t(0, "input")?, t(1, "mat1")?, t(2, "mat2")?);
                let (beta, alpha) = (a.f64_or(9, "beta", 1.0)?, a.f64_or(9, "alpha", 1.0)?);
                if name == "torch.addmm" {
                    Tensor::addmm_scaled(&x, &m1, &m2, beta, alpha)
                } else {
                    Tensor::baddbmm(&x, &m1, &m2, beta, alpha)
                }
            }
            "torch.all" | "torch.any" => {
                a.only(&["dim", "keepdim"], 3)?;
                let x = t(0, "input")?;
                let keepdim = a.bool_or(2, "keepdim", false)?;
                match (name, a.get(1, "dim")) {
                    (_, None) => return unsupported(format!("{name} without dim")),
                    ("torch.all", Some(d)) => x.all_dim(d.i64()?, keepdim),
                    (_, Some(d)) => x.any_dim(d.i64()?, keepdim),
                }
            }
            "torch.count_nonzero" => {
                a.only(&["dim"], 2)?;
                t(0, "input")?.count_nonzero(&a.opt_ints(1, "dim")?.unwrap_or_default())
            }
            "torch.linalg.vector_norm" => {
                a.only(&["ord", "dim", "keepdim"], 4)?;
                let dims = a.opt_ints(2, "dim")?.unwrap_or_default();
                t(0, "x")?.vector_norm(
                    a.f64_or(1, "ord", 2.0)?,
                    &dims,
                    a.bool_or(3, "keepdim", false)?,
                )
            }
            "torch.std_mean" | "torch.var_mean" => {
                a.only(&["dim", "keepdim", "correction", "unbiased"], 2)?;
                let dims = a.opt_ints(1, "dim")?.unwrap_or_default();
                let correction = match a.get(99, "correction") {
                    Some(c) => c.f64()?,
                    None => f64::from(u8::from(a.bool_or(99, "unbiased", true)?)),
                };
                let keepdim = a.bool_or(99, "keepdim", false)?;
                let x = t(0, "input")?;
                let (s, m) = if name == "torch.std_mean" {
                    x.std_mean(&dims, correction, keepdim)
                } else {
                    x.var_mean(&dims, correction, keepdim)
                };
                return Ok(Value::List(vec![Value::Tensor(s), Value::Tensor(m)]));
            }
            "torch.tensor_split" => {
                a.only(&["dim"], 3)?;
                let sections = match a.req(1, "indices_or_sections")? {
                    Value::Int(n) => *n as usize,
                    other => return unsupported(format!("tensor_split by {other:?}")),
                };
                let parts = t(0, "input")?.tensor_split(sections, a.i64_or(2, "dim", 0)?);
                return Ok(Value::List(parts.into_iter().map(Value::Tensor).collect()));
            }
            "torch.meshgrid" => {
                a.only(&["indexing"], usize::MAX)?;
                let list: Vec<Tensor> = match a.pos.as_slice() {
                    [Value::List(_)] => a.pos[0].tensors()?,
                    pos => pos.iter().map(|v| v.tensor()).collect::<Result<_, _>>()?,
                };
                let refs: Vec<&Tensor> = list.iter().collect();
                let grids = Tensor::meshgrid(&refs, &a.str_or(99, "indexing", "ij")?);
                return Ok(Value::List(grids.into_iter().map(Value::Tensor).collect()));
            }
            "torch.logspace" => {
                a.only(&["base"], 4)?;
                Tensor::logspace(
                    a.req(0, "start")?.f64()?,
                    a.req(1, "end")?.f64()?,
                    a.req(2, "steps")?.i64()? as usize,
                    a.f64_or(3, "base", 10.0)?,
                )
            }
            "torch.aminmax" => {
                a.only(&["dim", "keepdim"], 1)?;
                let x = t(0, "input")?;
                let dims = a.opt_ints(9, "dim")?.unwrap_or_default();
                let keepdim = a.bool_or(9, "keepdim", false)?;
                let (lo, hi) = x.aminmax(&dims, keepdim);
                return Ok(Value::Named(vec![
                    ("min", Value::Tensor(lo)),
                    ("max", Value::Tensor(hi)),
                ]));
            }
            "torch.nanmean" => {
                a.only(&["dim", "keepdim"], 3)?;
                let dims = a.opt_ints(1, "dim")?.unwrap_or_default();
                t(0, "input")?.nanmean(&dims, a.bool_or(2, "keepdim", false)?)
            }
            "torch.bitwise_and" | "torch.bitwise_or" | "torch.bitwise_xor" => {
                a.only(&[], 2)?;
                let x = t(0, "input")?;
                let other = tensor_or_scalar(a.req(1, "other")?)?;
                match name {
                    "torch.bitwise_and" => x.bitwise_and(other),
                    "torch.bitwise_or" => x.bitwise_or(other),
                    _ => x.bitwise_xor(other),
                }
            }
            "torch.diag" => {
                a.only(&[], 1)?;
                t(0, "input")?.diag()
            }
            "torch.diag_embed" => {
                a.only(&[], 1)?;
                t(0, "input")?.diag_embed()
            }
            "torch.take" => {
                a.only(&[], 2)?;
                t(0, "input")?.take(&t(1, "index")?)
            }
            "torch.take_along_dim" => {
                a.only(&["dim"], 3)?;
                match a.get(2, "dim") {
                    None => return unsupported("take_along_dim without dim"),
                    Some(d) => t(0, "input")?.take_along_dim(&t(1, "indices")?, d.i64()?),
                }
            }
            "torch.linalg.cross" => {
                a.only(&["dim"], 3)?;
                t(0, "input")?.cross(&t(1, "other")?, a.i64_or(2, "dim", -1)?)
            }
            "torch.cdist" => {
                a.only(&["p"], 3)?;
                t(0, "x1")?.cdist(&t(1, "x2")?, a.f64_or(2, "p", 2.0)?)
            }
            _ => return unsupported(format!("function {name}")),
        };
        Ok(Value::Tensor(out))
    })();
    match &r {
        Err(msg) if msg == &format!("unsupported: function {name}") => None,
        _ => Some(r),
    }
}

/// `tensor.X(...)` methods; `None` when not one of these.
pub fn method(name: &str, x: &Tensor, a: &Args) -> Option<EvalResult> {
    let r = (|| -> EvalResult {
        let out = match name {
            "abs" => x.abs(),
            "diagonal" => {
                a.only(&["offset"], 1)?;
                x.diagonal(a.i64_or(0, "offset", 0)?)
            }
            "repeat" => {
                let reps: Vec<i64> = if a.pos.len() == 1 {
                    a.pos[0].ints()?
                } else {
                    a.pos.iter().map(|v| v.i64()).collect::<Result<_, _>>()?
                };
                x.repeat(&reps)
            }
            "movedim" => x.movedim(a.req(0, "source")?.i64()?, a.req(1, "destination")?.i64()?),
            "swapaxes" | "swapdims" => {
                x.transpose(a.req(0, "axis0")?.i64()?, a.req(1, "axis1")?.i64()?)
            }
            "unflatten" => x.unflatten(a.req(0, "dim")?.i64()?, a.req(1, "sizes")?.ints()?),
            _ => return unsupported(format!("method {name}")),
        };
        Ok(Value::Tensor(out))
    })();
    match &r {
        Err(msg) if msg == &format!("unsupported: method {name}") => None,
        _ => Some(r),
    }
}
