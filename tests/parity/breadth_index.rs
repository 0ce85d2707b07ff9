//! Advanced indexing and scatters of `ops_breadth.json` (issue 11): `a[i]`, `a[i, j]`, `a[m]`
//! (handled from `eval.rs`'s `index`), `a.index_put(...)`, `a.masked_scatter(...)` and
//! `torch.scatter_reduce(...)`. `None` means "not mine".

use super::eval::{Args, Env, EvalResult, Value, eval, unsupported};
use flambeau::Tensor;
use serde_json::Value as Json;

/// `torch.X` calls of this family.
pub fn call(name: &str, a: &Args) -> Option<EvalResult> {
    let r = (|| -> EvalResult {
        let out = match name {
            "torch.scatter_reduce" => {
                a.only(&["reduce", "include_self"], 5)?;
                a.tensor(0, "input")?.scatter_reduce(
                    a.req(1, "dim")?.i64()?,
                    &a.tensor(2, "index")?,
                    &a.tensor(3, "src")?,
                    &a.req(4, "reduce")?.str()?,
                    a.bool_or(5, "include_self", true)?,
                )
            }
            _ => return Err(String::new()),
        };
        Ok(Value::Tensor(out))
    })();
    match &r {
        Err(msg) if msg.is_empty() => None,
        _ => Some(r),
    }
}

/// `tensor.X(...)` methods of this family.
pub fn method(name: &str, x: &Tensor, a: &Args) -> Option<EvalResult> {
    let r = (|| -> EvalResult {
        let out = match name {
            "index_put" | "index_put_" => {
                a.only(&["accumulate"], 3)?;
                let indices = index_entries(a.req(0, "indices")?)?;
                let values = a.tensor(1, "values")?;
                let acc = a.bool_or(2, "accumulate", false)?;
                if name == "index_put" {
                    x.index_put(&indices, &values, acc)
                } else {
                    x.index_put_(&indices, &values, acc)
                }
            }
            "masked_scatter" => {
                a.only(&[], 2)?;
                x.masked_scatter(&a.tensor(0, "mask")?, &a.tensor(1, "source")?)
            }
            "scatter_reduce" => {
                a.only(&["reduce", "include_self"], 4)?;
                x.scatter_reduce(
                    a.req(0, "dim")?.i64()?,
                    &a.tensor(1, "index")?,
                    &a.tensor(2, "src")?,
                    &a.req(3, "reduce")?.str()?,
                    a.bool_or(4, "include_self", true)?,
                )
            }
            _ => return Err(String::new()),
        };
        Ok(Value::Tensor(out))
    })();
    match &r {
        Err(msg) if msg.is_empty() => None,
        _ => Some(r),
    }
}

/// A tuple of index tensors (or `None`s) as `index_put` takes them.
fn index_entries(v: &Value) -> Result<Vec<Option<Tensor>>, String> {
    match v {
        Value::List(l) => l
            .iter()
            .map(|e| match e {
                Value::None => Ok(None),
                e => e.tensor().map(Some),
            })
            .collect(),
        other => Ok(vec![Some(other.tensor()?)]),
    }
}

/// Whether a subscript has a tensor among its items (then [`index_items`] evaluates it).
pub fn has_tensor_item(items: &[Json], env: &Env) -> bool {
    items.iter().any(|it| {
        it.get("slice").is_none()
            && it.get("ellipsis").is_none()
            && it.get("const") != Some(&Json::Null)
            && matches!(eval(it, env), Ok(Value::Tensor(_)))
    })
}

/// Indexes `t` with subscript items of which at least one is a tensor (`a[i]`, `a[i, j]`,
/// `a[:, i]`, `a[m]`): tensors, full slices `:` and integers (as 0-dim index tensors, NumPy's
/// rule) become entries of [`Tensor::index_tensors`].
pub fn index_items(t: &Tensor, items: &[Json], env: &Env) -> EvalResult {
    let mut entries = Vec::new();
    for it in items {
        if let Some(s) = it.get("slice") {
            if s.as_array().unwrap().iter().any(|b| !b.is_null()) {
                return unsupported("a partial slice beside an index tensor");
            }
            entries.push(None);
            continue;
        }
        if it.get("ellipsis").is_some() || it.get("const") == Some(&Json::Null) {
            return unsupported("`...` or `None` beside an index tensor");
        }
        match eval(it, env)? {
            Value::Tensor(x) => entries.push(Some(x)),
            Value::Int(i) => entries.push(Some(Tensor::from_vec(vec![i], ()))),
            other => return unsupported(format!("index item {other:?}")),
        }
    }
    Ok(Value::Tensor(t.index_tensors(&entries)))
}
