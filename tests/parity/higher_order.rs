//! Second-order parity (`higher_order.json`): gradients computed with `create_graph` and
//! differentiated again (Hessian-vector products), and WGAN-GP gradient penalties through small
//! critics, against PyTorch's values.

use super::eval::{self, Env, Value};
use super::nn as pnn;
use super::{F32_REDUCTION, F64_TOL, compare, tensor};
use flambeau::nn::{Forward, Module};
use flambeau::{DType, Tensor, autograd};
use serde_json::Value as Json;
use std::collections::HashMap;

fn suffix(dtype: DType) -> &'static str {
    if dtype == DType::F64 { "f64" } else { "f32" }
}

fn tol(dtype: DType) -> super::Tol {
    if dtype == DType::F64 {
        F64_TOL
    } else {
        F32_REDUCTION
    }
}

/// A gradient, or zeros of the input's shape where PyTorch's `allow_unused` gave none.
fn or_zeros(g: Option<Tensor>, like: &Tensor) -> Tensor {
    g.unwrap_or_else(|| Tensor::zeros_like(like))
}

/// One `cases[]` entry: first-order gradients with `create_graph`, then the Hessian-vector
/// product `grad(sum_i sum(grads_i * v_i), inputs)`.
pub fn run_case(
    case: &Json,
    env_of: impl Fn(HashMap<String, Value>) -> Env,
    dtype: DType,
) -> Result<(), String> {
    let (sfx, tol) = (suffix(dtype), tol(dtype));
    let names: Vec<String> = case["grad_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    let (vars, inputs) = super::case_inputs(case, dtype);
    let env = env_of(vars);
    let out = match eval::eval(&case["op_expr"], &env)? {
        Value::Tensor(t) => t,
        other => return Err(format!("expected a tensor, got {other:?}")),
    };
    let g = tensor(&case["g"]).to_dtype(dtype);
    let s = out.mul(&g).sum();
    let xs: Vec<&Tensor> = names.iter().map(|n| &inputs[n]).collect();
    let grads = autograd::grad(&[&s], &xs, &[], true, true, true);
    let grads: Vec<Tensor> = grads
        .into_iter()
        .zip(&xs)
        .map(|(g, x)| or_zeros(g, x))
        .collect();
    for (name, got) in names.iter().zip(&grads) {
        compare(
            &format!("grad {name}"),
            got,
            &tensor(&case[format!("grads_{sfx}")][name]),
            tol,
        )?;
    }
    let mut total: Option<Tensor> = None;
    for (name, gr) in names.iter().zip(&grads) {
        let v = tensor(&case["v"][name]).to_dtype(dtype);
        let term = gr.mul(&v).sum();
        total = Some(match total {
            None => term,
            Some(t) => t.add(&term),
        });
    }
    let total = total.ok_or("no inputs")?;
    let hvp: Vec<Tensor> = if total.requires_grad() {
        autograd::grad(&[&total], &xs, &[], false, false, true)
            .into_iter()
            .zip(&xs)
            .map(|(h, x)| or_zeros(h, x))
            .collect()
    } else {
        xs.iter().map(|x| Tensor::zeros_like(x)).collect()
    };
    for (name, got) in names.iter().zip(&hvp) {
        compare(
            &format!("hvp {name}"),
            got,
            &tensor(&case[format!("hvp_{sfx}")][name]),
            tol,
        )?;
    }
    Ok(())
}

/// One `gradient_penalty[]` entry: the gradient of a critic's output with respect to its input,
/// with `create_graph`, then the gradient of `((|gx|₂ - 1)²).mean()` with respect to the
/// critic's parameters.
pub fn run_penalty(case: &Json, env: &Env, dtype: DType) -> Result<(), String> {
    let (sfx, tol) = (suffix(dtype), tol(dtype));
    flambeau::manual_seed(case["module_seed"].as_u64().unwrap());
    let mut m = pnn::Boxed(pnn::eval_module(&case["module_expr"], env)?);
    if dtype == DType::F64 {
        m.to_dtype(DType::F64);
    }
    let sd = m.state_dict();
    for (k, want) in case["params"].as_object().unwrap() {
        let got = sd.get(k).ok_or_else(|| format!("no parameter {k}"))?;
        compare(
            k,
            &got.to_dtype(DType::F32),
            &tensor(want).to_dtype(DType::F32),
            F64_TOL,
        )?;
    }
    let x = tensor(&case["input"]).to_dtype(dtype).requires_grad_(true);
    let y = m.forward(&x).sum();
    let gx = autograd::grad(&[&y], &[&x], &[], true, true, false)[0]
        .clone()
        .ok_or("no input gradient")?;
    let penalty = gx.norm(2.0, 1, false).sub(1.0).pow(2).mean();
    let want = case[format!("penalty_{sfx}")].as_f64().unwrap();
    compare(
        "penalty",
        &penalty,
        &Tensor::scalar(want).to_dtype(dtype),
        tol,
    )?;
    let named = m.named_parameters();
    let params: Vec<&Tensor> = named.iter().map(|(_, p)| p.as_ref()).collect();
    let grads = autograd::grad(&[&penalty], &params, &[], false, false, true);
    for ((name, p), g) in named.iter().zip(grads) {
        compare(
            &format!("param grad {name}"),
            &or_zeros(g, p),
            &tensor(&case[format!("param_grads_{sfx}")][name.as_str()]),
            tol,
        )?;
    }
    Ok(())
}
