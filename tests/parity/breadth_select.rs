//! The sorting, selection, counting, scan and einsum calls of `ops_breadth.json`; `None` means
//! "not mine".

use super::eval::{Args, EvalResult, Value, unsupported};
use flambeau::Tensor;

/// `torch.X` calls; the first argument is the input tensor (the equation, for einsum).
pub fn call(name: &str, a: &Args) -> Option<EvalResult> {
    let r = (|| -> EvalResult {
        let t = |i: usize, n: &str| a.tensor(i, n);
        let pair = |(v, i): (Tensor, Tensor)| Ok(Value::ValuesIndices(v, i));
        let out = match name {
            "torch.sort" => {
                a.only(&["dim", "descending", "stable"], 3)?;
                let x = t(0, "input")?;
                return pair(x.sort(a.i64_or(1, "dim", -1)?, a.bool_or(2, "descending", false)?));
            }
            "torch.argsort" => {
                a.only(&["dim", "descending", "stable"], 3)?;
                t(0, "input")?.argsort(a.i64_or(1, "dim", -1)?, a.bool_or(2, "descending", false)?)
            }
            "torch.msort" => {
                a.only(&[], 1)?;
                t(0, "input")?.msort()
            }
            "torch.topk" => {
                a.only(&["dim", "largest", "sorted"], 5)?;
                let k = a.req(1, "k")?.i64()? as usize;
                let x = t(0, "input")?;
                return pair(x.topk(k, a.i64_or(2, "dim", -1)?, a.bool_or(3, "largest", true)?));
            }
            "torch.kthvalue" => {
                a.only(&["dim", "keepdim"], 4)?;
                let k = a.req(1, "k")?.i64()? as usize;
                let x = t(0, "input")?;
                let (dim, keepdim) = (a.i64_or(2, "dim", -1)?, a.bool_or(3, "keepdim", false)?);
                return pair(x.kthvalue(k, dim, keepdim));
            }
            "torch.median" | "torch.nanmedian" => {
                a.only(&["dim", "keepdim"], 3)?;
                let x = t(0, "input")?;
                let keepdim = a.bool_or(2, "keepdim", false)?;
                return match (name, a.get(1, "dim")) {
                    ("torch.median", None) => Ok(Value::Tensor(x.median())),
                    (_, None) => Ok(Value::Tensor(x.nanmedian())),
                    ("torch.median", Some(d)) => pair(x.median_dim(d.i64()?, keepdim)),
                    (_, Some(d)) => pair(x.nanmedian_dim(d.i64()?, keepdim)),
                };
            }
            "torch.logcumsumexp" => {
                a.only(&["dim"], 2)?;
                t(0, "input")?.logcumsumexp(a.req(1, "dim")?.i64()?)
            }
            "torch.nonzero" => {
                a.only(&["as_tuple"], 1)?;
                if a.bool_or(9, "as_tuple", false)? {
                    return unsupported("nonzero(as_tuple=True)");
                }
                t(0, "input")?.nonzero()
            }
            "torch.unique" => {
                a.only(&["sorted", "return_inverse", "return_counts", "dim"], 1)?;
                if a.get(9, "dim").is_some_and(|d| !d.is_none()) {
                    return unsupported("unique with dim");
                }
                let x = t(0, "input")?;
                let inverse = a.bool_or(9, "return_inverse", false)?;
                let counts = a.bool_or(9, "return_counts", false)?;
                let (values, inv, cnt) = x.unique_with(true, inverse, counts);
                if !inverse && !counts {
                    return Ok(Value::Tensor(values));
                }
                let mut out = vec![Value::Tensor(values)];
                out.extend(inv.map(Value::Tensor));
                out.extend(cnt.map(Value::Tensor));
                return Ok(Value::List(out));
            }
            "torch.bincount" => {
                a.only(&["weights", "minlength"], 3)?;
                let w = a.opt_tensor(1, "weights")?;
                t(0, "input")?.bincount(w.as_ref(), a.i64_or(2, "minlength", 0)? as usize)
            }
            "torch.einsum" => {
                a.only(&[], usize::MAX)?;
                let eq = a.req(0, "equation")?.str()?;
                let operands: Vec<Tensor> = match &a.pos[1..] {
                    [Value::List(_)] => a.pos[1].tensors()?,
                    rest => rest.iter().map(|v| v.tensor()).collect::<Result<_, _>>()?,
                };
                let refs: Vec<&Tensor> = operands.iter().collect();
                Tensor::einsum(&eq, &refs)
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
