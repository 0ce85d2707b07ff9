//! Evaluates the fixtures' `*_expr` trees with Flambeau's own functions. A call the harness does
//! not know is reported as unsupported, never as passed.

use flambeau::{DType, Scalar, SliceArg, Tensor};
use serde_json::Value as Json;
use std::collections::HashMap;

/// A value during evaluation.
#[derive(Clone, Debug)]
pub enum Value {
    Tensor(Tensor),
    Float(f64),
    Int(i64),
    Bool(bool),
    Str(String),
    None,
    List(Vec<Value>),
    DType(DType),
    /// `torch.max(t, dim)`: values and indices.
    ValuesIndices(Tensor, Tensor),
    /// A named tuple (`torch.aminmax(...)` with `.min` and `.max`), fields in order.
    Named(Vec<(&'static str, Value)>),
}

pub type EvalResult = Result<Value, String>;

/// An unsupported construct: the message says what.
pub fn unsupported<T>(what: impl Into<String>) -> Result<T, String> {
    Err(format!("unsupported: {}", what.into()))
}

pub fn is_unsupported(msg: &str) -> bool {
    msg.starts_with("unsupported: ")
}

impl Value {
    pub fn tensor(&self) -> Result<Tensor, String> {
        match self {
            Value::Tensor(t) => Ok(t.clone()),
            other => unsupported(format!("expected a tensor, got {other:?}")),
        }
    }
    pub fn f64(&self) -> Result<f64, String> {
        match self {
            Value::Float(v) => Ok(*v),
            Value::Int(v) => Ok(*v as f64),
            Value::Bool(b) => Ok(*b as u8 as f64),
            other => unsupported(format!("expected a number, got {other:?}")),
        }
    }
    pub fn i64(&self) -> Result<i64, String> {
        match self {
            Value::Int(v) => Ok(*v),
            Value::Bool(b) => Ok(*b as i64),
            other => unsupported(format!("expected an integer, got {other:?}")),
        }
    }
    pub fn bool(&self) -> Result<bool, String> {
        match self {
            Value::Bool(b) => Ok(*b),
            other => unsupported(format!("expected a bool, got {other:?}")),
        }
    }
    pub fn str(&self) -> Result<String, String> {
        match self {
            Value::Str(s) => Ok(s.clone()),
            other => unsupported(format!("expected a string, got {other:?}")),
        }
    }
    /// An int or a list of ints (dims, shapes).
    pub fn ints(&self) -> Result<Vec<i64>, String> {
        match self {
            Value::Int(v) => Ok(vec![*v]),
            Value::List(l) => l.iter().map(|v| v.i64()).collect(),
            other => unsupported(format!("expected ints, got {other:?}")),
        }
    }
    pub fn tensors(&self) -> Result<Vec<Tensor>, String> {
        match self {
            Value::List(l) => l.iter().map(|v| v.tensor()).collect(),
            other => unsupported(format!("expected a list of tensors, got {other:?}")),
        }
    }
    pub fn scalar(&self) -> Result<Scalar, String> {
        match self {
            Value::Float(v) => Ok(Scalar::Float(*v)),
            Value::Int(v) => Ok(Scalar::Int(*v)),
            Value::Bool(b) => Ok(Scalar::Bool(*b)),
            other => unsupported(format!("expected a number, got {other:?}")),
        }
    }
    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }
}

/// Positional and keyword arguments of one call.
pub struct Args {
    pub pos: Vec<Value>,
    pub kw: HashMap<String, Value>,
}

impl Args {
    /// The argument at position `i` or named `name`.
    pub fn get(&self, i: usize, name: &str) -> Option<&Value> {
        self.kw
            .get(name)
            .or_else(|| self.pos.get(i))
            .filter(|v| !v.is_none())
    }
    pub fn req(&self, i: usize, name: &str) -> Result<&Value, String> {
        self.get(i, name)
            .ok_or_else(|| format!("missing argument {name}"))
    }
    pub fn tensor(&self, i: usize, name: &str) -> Result<Tensor, String> {
        self.req(i, name)?.tensor()
    }
    pub fn opt_tensor(&self, i: usize, name: &str) -> Result<Option<Tensor>, String> {
        self.get(i, name).map(|v| v.tensor()).transpose()
    }
    pub fn f64_or(&self, i: usize, name: &str, default: f64) -> Result<f64, String> {
        self.get(i, name).map_or(Ok(default), |v| v.f64())
    }
    pub fn opt_f64(&self, i: usize, name: &str) -> Result<Option<f64>, String> {
        self.get(i, name).map(|v| v.f64()).transpose()
    }
    pub fn i64_or(&self, i: usize, name: &str, default: i64) -> Result<i64, String> {
        self.get(i, name).map_or(Ok(default), |v| v.i64())
    }
    pub fn bool_or(&self, i: usize, name: &str, default: bool) -> Result<bool, String> {
        self.get(i, name).map_or(Ok(default), |v| v.bool())
    }
    pub fn str_or(&self, i: usize, name: &str, default: &str) -> Result<String, String> {
        self.get(i, name)
            .map_or(Ok(default.to_string()), |v| v.str())
    }
    pub fn opt_ints(&self, i: usize, name: &str) -> Result<Option<Vec<i64>>, String> {
        self.get(i, name).map(|v| v.ints()).transpose()
    }
    /// Fails (as unsupported) when an argument is present that the harness does not handle.
    pub fn only(&self, names: &[&str], max_pos: usize) -> Result<(), String> {
        if self.pos.len() > max_pos {
            return unsupported(format!("{} positional arguments", self.pos.len()));
        }
        for k in self.kw.keys() {
            if !names.contains(&k.as_str()) {
                return unsupported(format!("keyword argument {k}"));
            }
        }
        Ok(())
    }
}

/// A handler for calls outside the core table; `None` means "not mine".
pub type CallHook = dyn Fn(&str, &Args, &Env) -> Option<EvalResult>;

/// Names in scope (inputs), plus extension hooks for the later layers.
pub struct Env {
    pub vars: HashMap<String, Value>,
    /// Calls not handled by the core table (modules, optimizers, ...).
    pub extra_call: Option<Box<CallHook>>,
}

impl Env {
    pub fn new(vars: HashMap<String, Value>) -> Env {
        Env {
            vars,
            extra_call: None,
        }
    }
}

pub fn eval(node: &Json, env: &Env) -> EvalResult {
    let obj = node.as_object().ok_or_else(|| format!("bad node {node}"))?;
    if let Some(name) = obj.get("var") {
        let name = name.as_str().unwrap();
        return env
            .vars
            .get(name)
            .cloned()
            .map_or_else(|| unsupported(format!("variable {name}")), Ok);
    }
    if let Some(c) = obj.get("const") {
        return Ok(constant(c));
    }
    if let Some(items) = obj.get("tuple").or_else(|| obj.get("list")) {
        let vals: Result<Vec<Value>, String> = items
            .as_array()
            .unwrap()
            .iter()
            .map(|n| eval(n, env))
            .collect();
        return Ok(Value::List(vals?));
    }
    if let Some(attr) = obj.get("attr") {
        let attr = attr.as_str().unwrap();
        let of = &obj["of"];
        if of.get("var").and_then(|v| v.as_str()) == Some("torch") {
            return match attr {
                "float32" => Ok(Value::DType(DType::F32)),
                "float64" => Ok(Value::DType(DType::F64)),
                "int64" => Ok(Value::DType(DType::I64)),
                "bool" => Ok(Value::DType(DType::Bool)),
                other => unsupported(format!("torch.{other}")),
            };
        }
        let v = eval(of, env)?;
        return match (attr, v) {
            ("values", Value::ValuesIndices(v, _)) => Ok(Value::Tensor(v)),
            ("indices", Value::ValuesIndices(_, i)) => Ok(Value::Tensor(i)),
            ("mT", Value::Tensor(t)) => Ok(Value::Tensor(t.transpose(-2, -1))),
            ("dtype", Value::Tensor(t)) => Ok(Value::DType(t.dtype())),
            (a, Value::Named(fields)) => match fields.into_iter().find(|(n, _)| *n == a) {
                Some((_, v)) => Ok(v),
                None => unsupported(format!("attribute {a} of a named tuple")),
            },
            (a, v) => unsupported(format!("attribute {a} of {v:?}")),
        };
    }
    if let Some(op) = obj.get("compare") {
        let lhs = eval(&obj["lhs"], env)?.tensor()?;
        let rhs: flambeau::TensorOrScalar = match eval(&obj["rhs"], env)? {
            Value::Tensor(t) => t.into(),
            s => s.scalar()?.into(),
        };
        let out = match op.as_str().unwrap() {
            "gt" => lhs.gt(rhs),
            "ge" => lhs.ge(rhs),
            "lt" => lhs.lt(rhs),
            "le" => lhs.le(rhs),
            "eq" => lhs.eq(rhs),
            "ne" => lhs.ne(rhs),
            other => return unsupported(format!("comparison {other}")),
        };
        return Ok(Value::Tensor(out));
    }
    if let Some(op) = obj.get("binop") {
        let lhs = eval(&obj["lhs"], env)?;
        let rhs = eval(&obj["rhs"], env)?;
        return binop(op.as_str().unwrap(), lhs, rhs);
    }
    if let Some(op) = obj.get("unary") {
        let v = eval(&obj["operand"], env)?;
        return match (op.as_str().unwrap(), v) {
            ("neg", Value::Tensor(t)) => Ok(Value::Tensor(-&t)),
            (o, v) => unsupported(format!("unary {o} on {v:?}")),
        };
    }
    if let Some(target) = obj.get("index") {
        let base = eval(target, env)?;
        let items = obj["items"].as_array().unwrap();
        return index(base, items, env);
    }
    let args = Args {
        pos: obj
            .get("args")
            .map(|a| {
                a.as_array()
                    .unwrap()
                    .iter()
                    .map(|n| eval(n, env))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default(),
        kw: obj
            .get("kwargs")
            .map(|k| {
                k.as_object()
                    .unwrap()
                    .iter()
                    .map(|(name, n)| eval(n, env).map(|v| (name.clone(), v)))
                    .collect::<Result<HashMap<_, _>, _>>()
            })
            .transpose()?
            .unwrap_or_default(),
    };
    if let Some(name) = obj.get("call") {
        let name = name.as_str().unwrap();
        if let Some(hook) = &env.extra_call {
            if let Some(r) = hook(name, &args, env) {
                return r;
            }
        }
        return call(name, &args);
    }
    if let Some(name) = obj.get("method") {
        let this = eval(&obj["self"], env)?;
        return method(name.as_str().unwrap(), this, &args);
    }
    unsupported(format!("node {node}"))
}

fn constant(c: &Json) -> Value {
    match c {
        Json::Null => Value::None,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                if !n.to_string().contains('.') && !n.to_string().contains('e') {
                    return Value::Int(i);
                }
            }
            Value::Float(n.as_f64().unwrap())
        }
        Json::String(s) => Value::Str(s.clone()),
        other => Value::Str(other.to_string()),
    }
}

fn binop(op: &str, lhs: Value, rhs: Value) -> EvalResult {
    use Value::*;
    let t = match (op, lhs, rhs) {
        ("add", Tensor(a), Tensor(b)) => &a + &b,
        ("add", Tensor(a), s) => a.add(s.scalar()?),
        ("add", s, Tensor(b)) => b.add(s.scalar()?),
        ("sub", Tensor(a), Tensor(b)) => &a - &b,
        ("sub", Tensor(a), s) => a.sub(s.scalar()?),
        ("sub", s, Tensor(b)) => b.rsub(s.scalar()?),
        ("mul", Tensor(a), Tensor(b)) => &a * &b,
        ("mul", Tensor(a), s) => a.mul(s.scalar()?),
        ("mul", s, Tensor(b)) => b.mul(s.scalar()?),
        ("div", Tensor(a), Tensor(b)) => &a / &b,
        ("div", Tensor(a), s) => a.div(s.scalar()?),
        ("div", s, Tensor(b)) => b.rdiv(s.scalar()?),
        ("pow", Tensor(a), Tensor(b)) => a.pow(&b),
        ("pow", Tensor(a), s) => a.pow(s.scalar()?),
        ("pow", s, Tensor(b)) => b.rpow(s.scalar()?),
        ("matmul", Tensor(a), Tensor(b)) => a.matmul(&b),
        (o, l, r) => return unsupported(format!("binop {o} on {l:?}, {r:?}")),
    };
    Ok(Value::Tensor(t))
}

fn index(base: Value, items: &[Json], env: &Env) -> EvalResult {
    match base {
        Value::List(l) => {
            if items.len() != 1 {
                return unsupported("multi-index of a list");
            }
            let i = eval(&items[0], env)?.i64()?;
            let i = if i < 0 { i + l.len() as i64 } else { i } as usize;
            l.get(i)
                .cloned()
                .ok_or_else(|| "index out of range".to_string())
        }
        Value::Tensor(t) => {
            if super::breadth_index::has_tensor_item(items, env) {
                return super::breadth_index::index_items(&t, items, env);
            }
            let mut args = Vec::new();
            // `None` items become new axes after indexing (their output positions), `...`
            // full ranges over the dims the other items leave.
            let mut new_axes = Vec::new();
            let mut out_dim = 0usize;
            let real = items
                .iter()
                .filter(|it| it.get("ellipsis").is_none() && it.get("const") != Some(&Json::Null))
                .count();
            for it in items {
                if it.get("ellipsis").is_some() {
                    let n = t.ndim().saturating_sub(real);
                    for _ in 0..n {
                        args.push(SliceArg::Range {
                            start: None,
                            end: None,
                            step: 1,
                        });
                    }
                    out_dim += n;
                    continue;
                }
                if it.get("const") == Some(&Json::Null) {
                    new_axes.push(out_dim as i64);
                    out_dim += 1;
                    continue;
                }
                if let Some(s) = it.get("slice") {
                    out_dim += 1;
                    let s = s.as_array().unwrap();
                    let b = |j: usize| s[j].as_i64();
                    args.push(SliceArg::Range {
                        start: b(0),
                        end: b(1),
                        step: s[2].as_i64().unwrap_or(1),
                    });
                } else {
                    match eval(it, env)? {
                        Value::Tensor(_) => return unsupported("indexing with a tensor"),
                        v => args.push(SliceArg::Index(v.i64()?)),
                    }
                }
            }
            let mut out = t.index(args);
            for d in new_axes {
                out = out.unsqueeze(d);
            }
            Ok(Value::Tensor(out))
        }
        other => unsupported(format!("indexing {other:?}")),
    }
}

fn dtype_kw(args: &Args) -> Result<Option<DType>, String> {
    match args.kw.get("dtype") {
        Some(Value::DType(d)) => Ok(Some(*d)),
        Some(other) => unsupported(format!("dtype {other:?}")),
        None => Ok(None),
    }
}

fn shape_arg(v: &Value) -> Result<Vec<usize>, String> {
    Ok(v.ints()?.into_iter().map(|d| d as usize).collect())
}

/// Reduction over `dim` (optional) with `keepdim`.
fn reduce_args(args: &Args, dim_pos: usize) -> Result<(Option<Vec<i64>>, bool), String> {
    Ok((
        args.opt_ints(dim_pos, "dim")?,
        args.bool_or(dim_pos + 1, "keepdim", false)?,
    ))
}

/// `torch.var`/`std` arguments: `(dims, correction, keepdim)`.
fn var_args(args: &Args) -> Result<(Vec<i64>, f64, bool), String> {
    // torch.var(input, dim=None, unbiased=True, keepdim=False) or with correction=
    let dims = args.opt_ints(99, "dim")?.unwrap_or_default();
    let correction = if let Some(c) = args.get(99, "correction") {
        c.f64()?
    } else if args.bool_or(99, "unbiased", true)? {
        1.0
    } else {
        0.0
    };
    Ok((dims, correction, args.bool_or(99, "keepdim", false)?))
}

/// Functions called as `torch.X(...)` or `F.X(...)`: the first argument is the tensor.
pub fn call(name: &str, a: &Args) -> EvalResult {
    let t = |i: usize, n: &str| a.tensor(i, n);
    let out = match name {
        "torch.add" => {
            a.only(&["alpha"], 2)?;
            let x = t(0, "input")?;
            match a.req(1, "other")? {
                Value::Tensor(y) => x.add_alpha(y, a.f64_or(9, "alpha", 1.0)?),
                s => x.add(s.scalar()?.to_f64() * a.f64_or(9, "alpha", 1.0)?),
            }
        }
        "torch.neg" => t(0, "input")?.neg(),
        "torch.pow" => {
            let x = t(0, "input")?;
            match a.req(1, "exponent")? {
                Value::Tensor(e) => x.pow(e),
                s => x.pow(s.scalar()?),
            }
        }
        "torch.exp" => t(0, "input")?.exp(),
        "torch.log" => t(0, "input")?.log(),
        "torch.sqrt" => t(0, "input")?.sqrt(),
        "torch.abs" => t(0, "input")?.abs(),
        "torch.tanh" | "F.tanh" => t(0, "input")?.tanh(),
        "torch.sigmoid" | "F.sigmoid" => t(0, "input")?.sigmoid(),
        "torch.clamp" => {
            a.only(&["min", "max"], 3)?;
            let bound = |i: usize, n: &str| a.get(i, n).and_then(|v| v.tensor().ok());
            let (lo, hi) = (bound(1, "min"), bound(2, "max"));
            if lo.is_some() || hi.is_some() {
                // Tensor bounds (issue 10's ops_breadth); numbers and tensors are not mixed.
                t(0, "input")?.clamp_tensor(lo.as_ref(), hi.as_ref())
            } else {
                t(0, "input")?.clamp(a.opt_f64(1, "min")?, a.opt_f64(2, "max")?)
            }
        }
        "F.relu" | "torch.relu" => t(0, "input")?.relu(),
        "F.leaky_relu" => {
            a.only(&["negative_slope"], 2)?;
            t(0, "input")?.leaky_relu(a.f64_or(1, "negative_slope", 0.01)?)
        }
        "F.gelu" => {
            a.only(&["approximate"], 1)?;
            t(0, "input")?.gelu(&a.str_or(9, "approximate", "none")?)
        }
        "F.silu" => t(0, "input")?.silu(),
        "F.softplus" => {
            a.only(&["beta", "threshold"], 3)?;
            t(0, "input")?.softplus(a.f64_or(1, "beta", 1.0)?, a.f64_or(2, "threshold", 20.0)?)
        }
        "F.softmax" | "torch.softmax" => {
            a.only(&["dim"], 2)?;
            t(0, "input")?.softmax(a.req(1, "dim")?.i64()?)
        }
        "F.log_softmax" | "torch.log_softmax" => {
            a.only(&["dim"], 2)?;
            t(0, "input")?.log_softmax(a.req(1, "dim")?.i64()?)
        }
        "torch.sum" | "torch.mean" | "torch.max" | "torch.min" | "torch.var" | "torch.std"
        | "torch.logsumexp" | "torch.norm" | "torch.amax" | "torch.amin" | "torch.flatten"
        | "torch.masked_fill" | "torch.transpose" | "torch.reshape" | "torch.squeeze"
        | "torch.unsqueeze" | "torch.permute" | "torch.t" => {
            let this = Value::Tensor(t(0, "input")?);
            let rest = Args {
                pos: a.pos.iter().skip(1).cloned().collect(),
                kw: a.kw.clone(),
            };
            return method(name.trim_start_matches("torch."), this, &rest);
        }
        "torch.matmul" => t(0, "input")?.matmul(&t(1, "other")?),
        "torch.mm" => t(0, "input")?.mm(&t(1, "mat2")?),
        "torch.bmm" => t(0, "input")?.bmm(&t(1, "mat2")?),
        "torch.cat" | "torch.concat" | "torch.stack" => {
            let list = a.req(0, "tensors")?.tensors()?;
            let refs: Vec<&Tensor> = list.iter().collect();
            let dim = a.i64_or(1, "dim", 0)?;
            if name == "torch.stack" {
                Tensor::stack(&refs, dim)
            } else {
                Tensor::cat(&refs, dim)
            }
        }
        "torch.index_select" => {
            t(0, "input")?.index_select(a.req(1, "dim")?.i64()?, &t(2, "index")?)
        }
        "torch.gather" => t(0, "input")?.gather(a.req(1, "dim")?.i64()?, &t(2, "index")?),
        "torch.where" => {
            let cond = t(0, "condition")?;
            let x = a.req(1, "input")?;
            let y = a.req(2, "other")?;
            let to = |v: &Value| -> Result<flambeau::TensorOrScalar, String> {
                Ok(match v {
                    Value::Tensor(t) => t.into(),
                    s => s.scalar()?.into(),
                })
            };
            Tensor::where_(&cond, to(x)?, to(y)?)
        }
        "F.linear" => t(0, "input")?.linear(&t(1, "weight")?, a.opt_tensor(2, "bias")?.as_ref()),
        // random
        "torch.manual_seed" => {
            flambeau::manual_seed(a.req(0, "seed")?.i64()? as u64);
            return Ok(Value::None);
        }
        "torch.rand" | "torch.randn" | "torch.empty" | "torch.zeros" | "torch.ones" => {
            let shape = if a.pos.len() == 1 {
                shape_arg(&a.pos[0])?
            } else {
                a.pos
                    .iter()
                    .map(|v| v.i64().map(|d| d as usize))
                    .collect::<Result<_, _>>()?
            };
            let dtype = dtype_kw(a)?.unwrap_or(DType::F32);
            match name {
                "torch.rand" => Tensor::rand_dtype(shape, dtype),
                "torch.randn" => Tensor::randn_dtype(shape, dtype),
                "torch.ones" => Tensor::ones_dtype(shape, dtype),
                _ => Tensor::zeros_dtype(shape, dtype),
            }
        }
        "torch.randint" => {
            let (low, high, size) = if a.pos.len() >= 3 {
                (a.pos[0].i64()?, a.pos[1].i64()?, shape_arg(&a.pos[2])?)
            } else {
                (
                    a.i64_or(9, "low", 0)?,
                    a.req(9, "high")?.i64()?,
                    shape_arg(a.req(9, "size")?)?,
                )
            };
            Tensor::randint_dtype(low, high, size, dtype_kw(a)?.unwrap_or(DType::I64))
        }
        // Python builtins: `float('inf')`, `float('nan')`, `float(2)`, `int(3.0)`.
        "float" => {
            a.only(&[], 1)?;
            return match a.req(0, "x")? {
                Value::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                    "inf" | "+inf" | "infinity" => Ok(Value::Float(f64::INFINITY)),
                    "-inf" | "-infinity" => Ok(Value::Float(f64::NEG_INFINITY)),
                    "nan" => Ok(Value::Float(f64::NAN)),
                    t => t
                        .parse::<f64>()
                        .map(Value::Float)
                        .map_err(|e| format!("float({s:?}): {e}")),
                },
                v => Ok(Value::Float(v.f64()?)),
            };
        }
        "int" => {
            a.only(&[], 1)?;
            return Ok(Value::Int(a.req(0, "x")?.f64()?.trunc() as i64));
        }
        "torch.randperm" => Tensor::randperm(a.req(0, "n")?.i64()? as usize),
        "torch.bernoulli" => t(0, "input")?.bernoulli(),
        "torch.full" => {
            let shape = shape_arg(a.req(0, "size")?)?;
            let value = a.req(1, "fill_value")?.scalar()?;
            match dtype_kw(a)? {
                Some(d) => Tensor::full_dtype(shape, value, d),
                None => Tensor::full(shape, value),
            }
        }
        other => {
            return super::breadth::call(other, a)
                .or_else(|| super::breadth_index::call(other, a))
                .unwrap_or_else(|| unsupported(format!("function {other}")));
        }
    };
    Ok(Value::Tensor(out))
}

/// Methods called as `tensor.X(...)`.
pub fn method(name: &str, this: Value, a: &Args) -> EvalResult {
    let x = this.tensor()?;
    let out = match name {
        "logsumexp" => {
            a.only(&["dim", "keepdim"], 2)?;
            let (dims, keepdim) = reduce_args(a, 0)?;
            x.logsumexp(dims.ok_or("logsumexp needs dim")?, keepdim)
        }
        "norm" => {
            a.only(&["p", "dim", "keepdim"], 3)?;
            let p = a.f64_or(0, "p", 2.0)?;
            let (dims, keepdim) = reduce_args(a, 1)?;
            x.norm(p, dims.unwrap_or_default(), keepdim)
        }
        "sum" | "mean" => {
            a.only(&["dim", "keepdim"], 2)?;
            let (dims, keepdim) = reduce_args(a, 0)?;
            match (name, dims) {
                ("sum", None) => x.sum(),
                ("sum", Some(d)) => x.sum_dim(d, keepdim),
                ("mean", None) => x.mean(),
                (_, Some(d)) => x.mean_dim(d, keepdim),
                _ => unreachable!(),
            }
        }
        "max" | "min" => {
            a.only(&["dim", "keepdim"], 2)?;
            match a.get(0, "dim") {
                None => {
                    if name == "max" {
                        x.max()
                    } else {
                        x.min()
                    }
                }
                Some(d) => {
                    let d = d.i64()?;
                    let keepdim = a.bool_or(1, "keepdim", false)?;
                    let (v, i) = if name == "max" {
                        x.max_dim(d, keepdim)
                    } else {
                        x.min_dim(d, keepdim)
                    };
                    return Ok(Value::ValuesIndices(v, i));
                }
            }
        }
        "amax" | "amin" => {
            a.only(&["dim", "keepdim"], 2)?;
            let (dims, keepdim) = reduce_args(a, 0)?;
            let dims = dims.unwrap_or_default();
            if name == "amax" {
                x.amax(dims, keepdim)
            } else {
                x.amin(dims, keepdim)
            }
        }
        "var" | "std" => {
            a.only(&["dim", "unbiased", "keepdim", "correction"], 0)?;
            let (dims, correction, keepdim) = var_args(a)?;
            if name == "var" {
                x.var_correction(dims, correction, keepdim)
            } else {
                x.std_correction(dims, correction, keepdim)
            }
        }
        "transpose" => x.transpose(a.req(0, "dim0")?.i64()?, a.req(1, "dim1")?.i64()?),
        "t" => x.t(),
        "permute" => {
            let dims: Vec<i64> = if a.pos.len() == 1 {
                a.pos[0].ints()?
            } else {
                a.pos.iter().map(|v| v.i64()).collect::<Result<_, _>>()?
            };
            x.permute(dims)
        }
        "reshape" | "view" => {
            let shape: Vec<i64> = if a.pos.len() == 1 {
                a.pos[0].ints()?
            } else {
                a.pos.iter().map(|v| v.i64()).collect::<Result<_, _>>()?
            };
            if name == "view" {
                x.view(shape)
            } else {
                x.reshape(shape)
            }
        }
        "expand" => {
            let shape: Vec<i64> = if a.pos.len() == 1 {
                a.pos[0].ints()?
            } else {
                a.pos.iter().map(|v| v.i64()).collect::<Result<_, _>>()?
            };
            x.expand(shape)
        }
        "unsqueeze" => x.unsqueeze(a.req(0, "dim")?.i64()?),
        "squeeze" => match a.get(0, "dim") {
            None => x.squeeze(),
            Some(d) => x.squeeze_dim(d.i64()?),
        },
        "flatten" => x.flatten(a.i64_or(0, "start_dim", 0)?, a.i64_or(1, "end_dim", -1)?),
        "masked_fill" => x.masked_fill(&a.tensor(0, "mask")?, a.req(1, "value")?.scalar()?),
        "uniform_" => x.uniform_(a.f64_or(0, "from", 0.0)?, a.f64_or(1, "to", 1.0)?),
        "normal_" => x.normal_(a.f64_or(0, "mean", 0.0)?, a.f64_or(1, "std", 1.0)?),
        "double" => x.double(),
        "float" => x.float(),
        other => {
            return super::breadth::method(other, &x, a)
                .or_else(|| super::breadth_index::method(other, &x, a))
                .unwrap_or_else(|| unsupported(format!("method {other}")));
        }
    };
    Ok(Value::Tensor(out))
}
