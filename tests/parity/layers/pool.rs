//! The harness's pooling: F.max_pool1d/2d, F.avg_pool1d/2d, F.adaptive_*_pool*, and their modules.

use crate::parity::eval::{Args, EvalResult, Value, unsupported};
use crate::parity::modules::{CaseModule, delegate_module, fwd};
use flambeau::Tensor;
use flambeau::nn::functional::{self as F, AdaptiveSize, AvgPoolOptions, MaxPoolOptions, PoolSize};
use flambeau::nn::{self, FieldSink, Module};

/// An int or an N-tuple of ints, as given.
fn size<const N: usize>(v: &Value) -> Result<PoolSize<N>, String> {
    match v {
        Value::Int(i) if *i >= 0 => Ok(PoolSize::Int(*i as usize)),
        Value::List(l) if l.len() == N => {
            let mut out = [0usize; N];
            for (o, x) in out.iter_mut().zip(l) {
                let i = x.i64()?;
                if i < 0 {
                    return unsupported("a negative pooling size");
                }
                *o = i as usize;
            }
            Ok(PoolSize::Tuple(out))
        }
        other => unsupported(format!("pooling size {other:?}")),
    }
}

/// An adaptive output size: an int, or an N-tuple of ints and Nones.
fn adaptive<const N: usize>(v: &Value) -> Result<AdaptiveSize<N>, String> {
    match v {
        Value::Int(i) if *i >= 0 => Ok(AdaptiveSize::Int(*i as usize)),
        Value::List(l) if l.len() == N => {
            let mut out = [None; N];
            for (o, x) in out.iter_mut().zip(l) {
                *o = match x {
                    Value::None => None,
                    x if x.i64()? >= 0 => Some(x.i64()? as usize),
                    _ => return unsupported("a negative output size"),
                };
            }
            Ok(AdaptiveSize::Tuple(out))
        }
        other => unsupported(format!("output size {other:?}")),
    }
}

/// Max-pool options from (kernel_size, stride, padding, dilation, ...) starting at position `at`,
/// with `ceil_mode` at position `ceil_at`.
fn max_options<const N: usize>(
    a: &Args,
    at: usize,
    ceil_at: usize,
) -> Result<MaxPoolOptions<N>, String> {
    let mut o = MaxPoolOptions::<N>::new(size::<N>(a.req(at, "kernel_size")?)?);
    if let Some(s) = a.get(at + 1, "stride") {
        o = o.stride(size::<N>(s)?);
    }
    if let Some(p) = a.get(at + 2, "padding") {
        o = o.padding(size::<N>(p)?);
    }
    if let Some(d) = a.get(at + 3, "dilation") {
        o = o.dilation(size::<N>(d)?);
    }
    Ok(o.ceil_mode(a.bool_or(ceil_at, "ceil_mode", false)?))
}

/// Avg-pool options from (kernel_size, stride, padding, ceil_mode, count_include_pad) at `at`.
fn avg_options<const N: usize>(a: &Args, at: usize) -> Result<AvgPoolOptions<N>, String> {
    let mut o = AvgPoolOptions::<N>::new(size::<N>(a.req(at, "kernel_size")?)?);
    if let Some(s) = a.get(at + 1, "stride") {
        o = o.stride(size::<N>(s)?);
    }
    if let Some(p) = a.get(at + 2, "padding") {
        o = o.padding(size::<N>(p)?);
    }
    Ok(o.ceil_mode(a.bool_or(at + 3, "ceil_mode", false)?)
        .count_include_pad(a.bool_or(at + 4, "count_include_pad", true)?))
}

/// A `Value` for a pooling's result, with indices when asked.
fn result(pair: (Tensor, Tensor), indices: bool) -> Value {
    if indices {
        Value::List(vec![Value::Tensor(pair.0), Value::Tensor(pair.1)])
    } else {
        Value::Tensor(pair.0)
    }
}

const MAX_F: &[&str] = &[
    "input",
    "kernel_size",
    "stride",
    "padding",
    "dilation",
    "ceil_mode",
    "return_indices",
];
const AVG_F: &[&str] = &[
    "input",
    "kernel_size",
    "stride",
    "padding",
    "ceil_mode",
    "count_include_pad",
    "divisor_override",
];

fn eval_functional(name: &str, a: &Args) -> EvalResult {
    let x = || a.tensor(0, "input");
    Ok(match name {
        "F.max_pool1d" | "F.max_pool2d" => {
            a.only(MAX_F, 7)?;
            let ri = a.bool_or(6, "return_indices", false)?;
            if name == "F.max_pool1d" {
                let o = max_options::<1>(a, 1, 5)?;
                if ri {
                    result(F::max_pool1d_with_indices(&x()?, o), true)
                } else {
                    Value::Tensor(F::max_pool1d(&x()?, o))
                }
            } else {
                result(
                    F::max_pool2d_with_indices(&x()?, max_options::<2>(a, 1, 5)?),
                    ri,
                )
            }
        }
        "F.avg_pool1d" => {
            a.only(&AVG_F[..6], 6)?;
            Value::Tensor(F::avg_pool1d(&x()?, avg_options::<1>(a, 1)?))
        }
        "F.avg_pool2d" => {
            a.only(AVG_F, 7)?;
            let d = a.get(6, "divisor_override").map(|v| v.i64()).transpose()?;
            Value::Tensor(F::avg_pool2d(
                &x()?,
                avg_options::<2>(a, 1)?.divisor_override(d),
            ))
        }
        "F.adaptive_avg_pool1d" => {
            a.only(&["input", "output_size"], 2)?;
            Value::Tensor(F::adaptive_avg_pool1d(
                &x()?,
                adaptive::<1>(a.req(1, "output_size")?)?,
            ))
        }
        "F.adaptive_avg_pool2d" => {
            a.only(&["input", "output_size"], 2)?;
            Value::Tensor(F::adaptive_avg_pool2d(
                &x()?,
                adaptive::<2>(a.req(1, "output_size")?)?,
            ))
        }
        "F.adaptive_max_pool1d" | "F.adaptive_max_pool2d" => {
            a.only(&["input", "output_size", "return_indices"], 3)?;
            let ri = a.bool_or(2, "return_indices", false)?;
            let out = a.req(1, "output_size")?;
            if name == "F.adaptive_max_pool1d" {
                result(
                    F::adaptive_max_pool1d_with_indices(&x()?, adaptive::<1>(out)?),
                    ri,
                )
            } else {
                result(
                    F::adaptive_max_pool2d_with_indices(&x()?, adaptive::<2>(out)?),
                    ri,
                )
            }
        }
        _ => unreachable!("checked by `functional`"),
    })
}

/// `F.*` calls of this family; `None` when `name` is not one.
pub fn functional(name: &str, a: &Args) -> Option<EvalResult> {
    match name {
        "F.max_pool1d"
        | "F.max_pool2d"
        | "F.avg_pool1d"
        | "F.avg_pool2d"
        | "F.adaptive_avg_pool1d"
        | "F.adaptive_avg_pool2d"
        | "F.adaptive_max_pool1d"
        | "F.adaptive_max_pool2d" => Some(eval_functional(name, a)),
        _ => None,
    }
}

/// A max-pool layer built with `return_indices=True`: called as `m(x)`, it returns the tuple.
struct WithIndices<M>(M, fn(&M, &Tensor) -> (Tensor, Tensor));

delegate_module!(WithIndices<nn::MaxPool1d>, s => s.0);
delegate_module!(WithIndices<nn::MaxPool2d>, s => s.0);
delegate_module!(WithIndices<nn::AdaptiveMaxPool1d>, s => s.0);
delegate_module!(WithIndices<nn::AdaptiveMaxPool2d>, s => s.0);

impl<M> CaseModule for WithIndices<M>
where
    WithIndices<M>: Module,
{
    fn call(&self, a: &Args) -> EvalResult {
        a.only(&[], 1)?;
        Ok(result((self.1)(&self.0, &a.tensor(0, "input")?), true))
    }
}

/// Boxes a max-pool layer, returning the tuple when built with `return_indices`.
fn maybe_indices<M>(m: M, ri: bool, f: fn(&M, &Tensor) -> (Tensor, Tensor)) -> Box<dyn CaseModule>
where
    M: Module + nn::Forward + 'static,
    WithIndices<M>: Module,
{
    if ri {
        Box::new(WithIndices(m, f))
    } else {
        fwd(m)
    }
}

const MAX_M: &[&str] = &[
    "kernel_size",
    "stride",
    "padding",
    "dilation",
    "return_indices",
    "ceil_mode",
];
const AVG_M: &[&str] = &[
    "kernel_size",
    "stride",
    "padding",
    "ceil_mode",
    "count_include_pad",
    "divisor_override",
];

fn build(name: &str, a: &Args) -> Result<Box<dyn CaseModule>, String> {
    Ok(match name {
        "nn.MaxPool1d" => {
            a.only(MAX_M, 6)?;
            let ri = a.bool_or(4, "return_indices", false)?;
            let m = nn::MaxPool1d::with_options(max_options::<1>(a, 0, 5)?).return_indices(ri);
            maybe_indices(m, ri, nn::MaxPool1d::forward_with_indices)
        }
        "nn.MaxPool2d" => {
            a.only(MAX_M, 6)?;
            let ri = a.bool_or(4, "return_indices", false)?;
            let m = nn::MaxPool2d::with_options(max_options::<2>(a, 0, 5)?).return_indices(ri);
            maybe_indices(m, ri, nn::MaxPool2d::forward_with_indices)
        }
        "nn.AvgPool1d" => {
            a.only(&AVG_M[..5], 5)?;
            fwd(nn::AvgPool1d::with_options(avg_options::<1>(a, 0)?))
        }
        "nn.AvgPool2d" => {
            a.only(AVG_M, 6)?;
            let d = a.get(5, "divisor_override").map(|v| v.i64()).transpose()?;
            fwd(nn::AvgPool2d::with_options(
                avg_options::<2>(a, 0)?.divisor_override(d),
            ))
        }
        "nn.AdaptiveAvgPool1d" => {
            a.only(&["output_size"], 1)?;
            fwd(nn::AdaptiveAvgPool1d::new(adaptive::<1>(
                a.req(0, "output_size")?,
            )?))
        }
        "nn.AdaptiveAvgPool2d" => {
            a.only(&["output_size"], 1)?;
            fwd(nn::AdaptiveAvgPool2d::new(adaptive::<2>(
                a.req(0, "output_size")?,
            )?))
        }
        "nn.AdaptiveMaxPool1d" => {
            a.only(&["output_size", "return_indices"], 2)?;
            let ri = a.bool_or(1, "return_indices", false)?;
            let m = nn::AdaptiveMaxPool1d::new(adaptive::<1>(a.req(0, "output_size")?)?)
                .return_indices(ri);
            maybe_indices(m, ri, nn::AdaptiveMaxPool1d::forward_with_indices)
        }
        "nn.AdaptiveMaxPool2d" => {
            a.only(&["output_size", "return_indices"], 2)?;
            let ri = a.bool_or(1, "return_indices", false)?;
            let m = nn::AdaptiveMaxPool2d::new(adaptive::<2>(a.req(0, "output_size")?)?)
                .return_indices(ri);
            maybe_indices(m, ri, nn::AdaptiveMaxPool2d::forward_with_indices)
        }
        _ => unreachable!("checked by `module`"),
    })
}

/// `nn.*` constructors of this family; `None` when `name` is not one.
pub fn module(name: &str, a: &Args) -> Option<Result<Box<dyn CaseModule>, String>> {
    match name {
        "nn.MaxPool1d"
        | "nn.MaxPool2d"
        | "nn.AvgPool1d"
        | "nn.AvgPool2d"
        | "nn.AdaptiveAvgPool1d"
        | "nn.AdaptiveAvgPool2d"
        | "nn.AdaptiveMaxPool1d"
        | "nn.AdaptiveMaxPool2d" => Some(build(name, a)),
        _ => None,
    }
}
