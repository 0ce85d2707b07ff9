//! The `torch.linalg.*` calls of `ops_breadth.json` (`inv`, `solve`, `det`, `cholesky`, `qr`,
//! `svdvals`, `eigvalsh`, `eigh`); `None` means "not mine". `qr` and `eigh` give named tuples
//! (`.Q`/`.R`, `.eigenvalues`/`.eigenvectors`).

use super::eval::{Args, EvalResult, Value};
use flambeau::{DType, Tensor, linalg};

/// `torch.linalg.X(A[, B])`.
pub fn call(name: &str, a: &Args) -> Option<EvalResult> {
    if name == "torch.eye" {
        return Some(eye(a));
    }
    let name = name.strip_prefix("torch.linalg.")?;
    const MINE: [&str; 8] = [
        "inv", "det", "cholesky", "svdvals", "eigvalsh", "solve", "qr", "eigh",
    ];
    if !MINE.contains(&name) {
        return None;
    }
    let r = (|| -> EvalResult {
        let t = |i: usize, n: &str| a.tensor(i, n);
        a.only(&[], if name == "solve" { 2 } else { 1 })?;
        let out = match name {
            "inv" => linalg::inv(&t(0, "A")?),
            "det" => linalg::det(&t(0, "A")?),
            "cholesky" => linalg::cholesky(&t(0, "A")?),
            "svdvals" => linalg::svdvals(&t(0, "A")?),
            "eigvalsh" => linalg::eigvalsh(&t(0, "A")?),
            "solve" => linalg::solve(&t(0, "A")?, &t(1, "B")?),
            "qr" => {
                let (q, r) = linalg::qr(&t(0, "A")?);
                return Ok(Value::Named(vec![
                    ("Q", Value::Tensor(q)),
                    ("R", Value::Tensor(r)),
                ]));
            }
            "eigh" => {
                let (w, v) = linalg::eigh(&t(0, "A")?);
                return Ok(Value::Named(vec![
                    ("eigenvalues", Value::Tensor(w)),
                    ("eigenvectors", Value::Tensor(v)),
                ]));
            }
            _ => unreachable!("{name}"),
        };
        Ok(Value::Tensor(out))
    })();
    Some(r)
}

/// `torch.eye(n[, m], dtype=...)` (float32 by default).
fn eye(a: &Args) -> EvalResult {
    a.only(&["dtype"], 2)?;
    let n = a.req(0, "n")?.i64()? as usize;
    let m = a.get(1, "m").map_or(Ok(n as i64), |v| v.i64())? as usize;
    let dtype = match a.kw.get("dtype") {
        None => DType::F32,
        Some(Value::DType(d)) => *d,
        Some(other) => return Err(format!("unsupported: dtype {other:?}")),
    };
    Ok(Value::Tensor(Tensor::eye_dtype(n, m, dtype)))
}
