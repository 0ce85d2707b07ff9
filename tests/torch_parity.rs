//! Parity with PyTorch: evaluates every fixture case (`../shared/fixtures/torch`, or
//! `$FLAMBEAU_TORCH_FIXTURES`) from its expression tree with Flambeau's own functions and prints a
//! line per fixture file. A failed case fails the test; an unsupported one is counted apart.
//!
//! Run: `cargo test --release --test torch_parity -- --nocapture`

mod parity;

use flambeau::{DType, Tensor};
use parity::eval::{self, Env, Value, is_unsupported};
use parity::{
    F32_ELEMENTWISE, F32_REDUCTION, F64_TOL, Outcome, Tally, catch, compare, compare_exact, load,
    tensor,
};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::Mutex;

/// Tests touching the default generator run one at a time.
static RNG_LOCK: Mutex<()> = Mutex::new(());

fn outcome_of(r: Result<Result<(), String>, String>) -> Outcome {
    match r {
        Ok(Ok(())) => Outcome::Pass,
        Ok(Err(msg)) | Err(msg) => {
            if is_unsupported(&msg) {
                Outcome::Unsupported(msg)
            } else {
                Outcome::Fail(msg)
            }
        }
    }
}

fn eval_tensor(node: &Json, env: &Env) -> Result<Tensor, String> {
    match eval::eval(node, env)? {
        Value::Tensor(t) => Ok(t),
        other => Err(format!("expected a tensor result, got {other:?}")),
    }
}

#[test]
fn rng() {
    let _g = RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let fx = load("rng.json");
    let mut tally = Tally::default();
    let env = Env::new(HashMap::new());
    for case in fx["cases"].as_array().unwrap() {
        let seed = case["seed"].as_u64().unwrap();
        let name = format!("seed {seed}: {}", case["call"].as_str().unwrap());
        let r = catch(|| {
            flambeau::manual_seed(seed);
            let got = eval_tensor(&case["call_expr"], &env)?;
            compare_exact(&name, &got, &tensor(&case["output"]))
        });
        tally.record(&name, outcome_of(r));
    }
    for seq in fx["sequences"].as_array().unwrap() {
        let seed = seq["seed"].as_u64().unwrap();
        let calls: Vec<&str> = seq["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let name = format!("seed {seed}: {}", calls.join("; "));
        let r = catch(|| {
            flambeau::manual_seed(seed);
            for (k, (call, want)) in seq["calls_expr"]
                .as_array()
                .unwrap()
                .iter()
                .zip(seq["outputs"].as_array().unwrap())
                .enumerate()
            {
                let got = eval_tensor(call, &env)?;
                compare_exact(&format!("call {k}"), &got, &tensor(want))?;
            }
            Ok(())
        });
        tally.record(&name, outcome_of(r));
    }
    tally.report("rng");
    assert!(
        tally.failed.is_empty(),
        "{} rng cases failed",
        tally.failed.len()
    );
    assert!(
        tally.unsupported.is_empty(),
        "every rng case must be supported"
    );
}

/// Whether a case's f32 results get the looser tolerance (reductions, matmul, norms, losses...).
fn is_reduction_like(op: &str) -> bool {
    const LOOSE: &[&str] = &[
        "sum",
        "mean",
        "var",
        "std",
        "matmul",
        "mm",
        "bmm",
        "@",
        "softmax",
        "logsumexp",
        "linear",
        "conv",
        "pool",
        "norm",
        "loss",
        "entropy",
        "kl_div",
        "attention",
        "cosine",
        "m(",
        "pow",
        "gelu",
        "softplus",
    ];
    LOOSE.iter().any(|k| op.contains(k))
}

fn run_op_case(case: &Json, dtype: DType) -> Result<(), String> {
    if case.get("module").is_some() {
        return eval::unsupported(format!("module {}", case["module"].as_str().unwrap()));
    }
    let suffix = if dtype == DType::F64 { "f64" } else { "f32" };
    let tol = if dtype == DType::F64 {
        F64_TOL
    } else if is_reduction_like(case["op"].as_str().unwrap()) {
        F32_REDUCTION
    } else {
        F32_ELEMENTWISE
    };
    let grad_inputs: Vec<&str> = case["grad_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut vars = HashMap::new();
    let mut inputs = HashMap::new();
    for (name, j) in case["inputs"].as_object().unwrap() {
        let mut t = tensor(j);
        if t.dtype().is_float() {
            t = t.to_dtype(dtype);
        }
        if grad_inputs.contains(&name.as_str()) {
            t = t.requires_grad_(true);
        }
        vars.insert(name.clone(), Value::Tensor(t.clone()));
        inputs.insert(name.clone(), t);
    }
    let env = Env::new(vars);
    let out = eval_tensor(&case["op_expr"], &env)?;
    compare(
        "output",
        &out,
        &tensor(&case[format!("output_{suffix}")]),
        tol,
    )?;
    if grad_inputs.is_empty() {
        return Ok(());
    }
    let g = tensor(&case["g"]).to_dtype(dtype);
    out.backward_with(Some(&g), false);
    let grads = &case[format!("grads_{suffix}")];
    for name in grad_inputs {
        let got = inputs[name]
            .grad()
            .ok_or_else(|| format!("no gradient for {name}"))?;
        compare(&format!("grad {name}"), &got, &tensor(&grads[name]), tol)?;
    }
    Ok(())
}

#[test]
fn ops() {
    let fx = load("ops.json");
    let mut tally = Tally::default();
    for case in fx["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        for dtype in [DType::F64, DType::F32] {
            let label = format!(
                "{name} [{}]",
                if dtype == DType::F64 { "f64" } else { "f32" }
            );
            let r = catch(|| run_op_case(case, dtype));
            tally.record(&label, outcome_of(r));
        }
    }
    tally.report("ops");
    assert!(
        tally.failed.is_empty(),
        "{} ops cases failed",
        tally.failed.len()
    );
}
