//! Parity with PyTorch: evaluates every fixture case (`tests/fixtures/torch`, or
//! `$FLAMBEAU_TORCH_FIXTURES`) from its expression tree with Flambeau's own functions and prints a
//! line per fixture file. A failed case fails the test; an unsupported one is counted apart.
//!
//! Run: `cargo test --release --test torch_parity -- --nocapture`

mod parity;

use flambeau::nn::Module;
use flambeau::optim::Optimizer;

use flambeau::{DType, Tensor};
use parity::eval::{self, Env, Value, is_unsupported};
use parity::nn as pnn;
use parity::{
    F32_ELEMENTWISE, F32_REDUCTION, F64_TOL, Outcome, Tally, catch, compare, compare_exact, load,
    tensor,
};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
    ];
    LOOSE.iter().any(|k| op.contains(k))
}

/// Builds a module case's `m`: constructed in float32 right after `manual_seed(module_seed)`,
/// checked against the fixture's `state_dict` (keys in order, values bit for bit), then converted
/// to `dtype` as `.double()` does.
fn build_case_module(case: &Json, dtype: DType) -> Result<Arc<pnn::Boxed>, String> {
    // ops.json's module cases carry only the `module` string: parse it into the same tree.
    let expr = match case.get("module_expr") {
        Some(e) => e.clone(),
        None => parity::pyexpr::parse_call(case["module"].as_str().unwrap())?,
    };
    flambeau::manual_seed(case["module_seed"].as_u64().unwrap());
    let mut m = pnn::Boxed(pnn::eval_module(&expr, &env_with_nn(HashMap::new()))?);
    compare_state_dict(&m, &case["param_keys"], &case["params"], true)?;
    if dtype != DType::F32 {
        m.to_dtype(dtype);
    }
    Ok(Arc::new(m))
}

fn run_op_case(case: &Json, dtype: DType) -> Result<(), String> {
    let module = match case.get("module_expr").or_else(|| case.get("module")) {
        Some(_) => Some(build_case_module(case, dtype)?),
        None => None,
    };
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
    let (vars, inputs) = parity::case_inputs(case, dtype);
    let env = match &module {
        Some(m) => env_with_module(vars, m.clone()),
        None => env_with_nn(vars),
    };
    let out = eval_tensor(&case["op_expr"], &env)?;
    compare(
        "output",
        &out,
        &tensor(&case[format!("output_{suffix}")]),
        tol,
    )?;
    // Buffers the op updates in place (batch_norm's running statistics).
    if let Some(after) = case.get(format!("state_after_{suffix}")) {
        for (name, want) in after.as_object().unwrap() {
            compare(&format!("{name} after"), &inputs[name], &tensor(want), tol)?;
        }
    }
    if grad_inputs.is_empty() && module.is_none() {
        return Ok(());
    }
    let g = tensor(&case["g"]).to_dtype(dtype);
    out.backward_with(Some(&g), false, false);
    let grads = &case[format!("grads_{suffix}")];
    for name in grad_inputs {
        let got = grad_or_unreached(&format!("grad {name}"), &inputs[name], &grads[name])?;
        compare(&format!("grad {name}"), &got, &tensor(&grads[name]), tol)?;
    }
    if let Some(m) = &module {
        let params = m.named_parameters();
        for (name, want) in case[format!("param_grads_{suffix}")].as_object().unwrap() {
            let p = params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, p)| p)
                .ok_or_else(|| format!("no parameter {name}"))?;
            let got = grad_or_unreached(&format!("param grad {name}"), p, want)?;
            compare(&format!("param grad {name}"), &got, &tensor(want), tol)?;
        }
    }
    Ok(())
}

#[test]
fn ops() {
    // Module cases are built right after `manual_seed(module_seed)`, and dropout cases draw.
    let _g = RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
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
    assert!(
        tally.unsupported.is_empty(),
        "every ops case must be supported"
    );
}

/// ops_breadth.json cases whose ops Flambeau does not have yet (issue 10). Such a case is
/// reported as unsupported and tolerated only while it is named here; a case not named here must
/// pass, and a named case that no longer is unsupported must be removed, so the list shrinks as
/// the ops land and nothing is skipped silently.
const BREADTH_NOT_YET: &[&str] = &[];

#[test]
fn ops_breadth() {
    // Same case format, tolerances and runner as ops.json.
    let _g = RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let fx = load("ops_breadth.json");
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
    tally.report("ops_breadth");
    let case_of = |entry: &str| entry.split(" [").next().unwrap().to_string();
    let unsupported: std::collections::BTreeSet<String> =
        tally.unsupported.iter().map(|u| case_of(u)).collect();
    println!(
        "ops_breadth unsupported cases: {}",
        unsupported.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    assert!(
        tally.failed.is_empty(),
        "{} ops_breadth cases failed",
        tally.failed.len()
    );
    let unexpected: Vec<&String> = unsupported
        .iter()
        .filter(|c| !BREADTH_NOT_YET.contains(&c.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "ops_breadth cases unsupported but not in BREADTH_NOT_YET: {unexpected:?}"
    );
    let landed: Vec<&&str> = BREADTH_NOT_YET
        .iter()
        .filter(|c| !unsupported.contains(**c))
        .collect();
    assert!(
        landed.is_empty(),
        "ops_breadth cases now supported: remove them from BREADTH_NOT_YET: {landed:?}"
    );
}

#[test]
fn higher_order() {
    let _g = RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let fx = load("higher_order.json");
    let mut tally = Tally::default();
    for case in fx["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        for dtype in [DType::F64, DType::F32] {
            let label = format!("{name} [{dtype:?}]");
            let r = catch(|| parity::higher_order::run_case(case, env_with_nn, dtype));
            tally.record(&label, outcome_of(r));
        }
    }
    let env = env_with_nn(HashMap::new());
    for case in fx["gradient_penalty"].as_array().unwrap() {
        let name = format!("gradient penalty {}", case["module"].as_str().unwrap());
        for dtype in [DType::F64, DType::F32] {
            let label = format!("{name} [{dtype:?}]");
            let r = catch(|| parity::higher_order::run_penalty(case, &env, dtype));
            tally.record(&label, outcome_of(r));
        }
    }
    tally.report("higher_order");
    assert!(
        tally.failed.is_empty(),
        "{} higher-order cases failed",
        tally.failed.len()
    );
    assert!(
        tally.unsupported.is_empty(),
        "every higher-order case must be supported"
    );
}

#[test]
fn interop() {
    // The models are built (and initialised) before their checkpoints are loaded.
    let _g = RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let fx = load("interop/interop.json");
    let tally = parity::interop::run(&fx, &env_with_nn);
    tally.report("interop");
    assert!(
        tally.failed.is_empty(),
        "{} interop cases failed",
        tally.failed.len()
    );
    assert!(
        tally.unsupported.is_empty(),
        "every interop case must be supported"
    );
}

/// An evaluation environment that also knows the `torch.nn` functions.
fn env_with_nn(vars: HashMap<String, Value>) -> Env {
    let mut env = Env::new(vars);
    env.extra_call = Some(Box::new(|name, args, _env| {
        pnn::call_functional(name, args)
    }));
    env
}

/// A tensor's gradient, or zeros where it has none and PyTorch's is all zeros: an input or
/// parameter the output does not reach (`v` in `mha(q, k, v)[1]`, the attention weights).
/// A missing gradient where PyTorch has a nonzero one is a failure.
fn grad_or_unreached(what: &str, t: &Tensor, want: &Json) -> Result<Tensor, String> {
    match t.grad() {
        Some(g) => Ok(g),
        None if tensor(want).to_vec::<f64>().iter().all(|v| *v == 0.0) => Ok(Tensor::zeros_like(t)),
        None => Err(format!("{what}: no gradient, PyTorch's is nonzero")),
    }
}

/// An environment whose calls of `m(...)` go to the case's module.
fn env_with_module(vars: HashMap<String, Value>, m: Arc<pnn::Boxed>) -> Env {
    let mut env = Env::new(vars);
    env.extra_call = Some(Box::new(move |name, args, _env| {
        if name == "m" {
            Some(pnn::CaseModule::call(&*m, args))
        } else {
            pnn::call_functional(name, args)
        }
    }));
    env
}

/// Checks a module's `state_dict` against PyTorch's, keys in order and values bit for bit. A
/// module case (`module_case`) lists its parameters only, stored as float64; an init.json case
/// lists the whole state_dict in its own dtypes.
fn compare_state_dict(
    m: &dyn Module,
    keys: &Json,
    sd: &Json,
    module_case: bool,
) -> Result<(), String> {
    let mut got = m.state_dict();
    let want_keys: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    if module_case {
        // A module case's `param_keys` list its parameters only, so its buffers are dropped;
        // init.json's `keys` are the whole state_dict and are compared whole.
        let params: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
        got = got
            .iter()
            .filter(|(k, _)| params.iter().any(|p| p == k))
            .map(|(k, t)| (k.to_string(), t.clone()))
            .collect();
    }
    if got.keys() != want_keys {
        return Err(format!(
            "state_dict keys {:?}, expected {:?}",
            got.keys(),
            want_keys
        ));
    }
    for k in want_keys {
        let want = tensor(&sd[k]);
        let g = got.get(k).unwrap();
        // Initialisation draws from the same generator: the values must be identical.
        compare_exact(k, &g.to_dtype(want.dtype()), &want)?;
        // ops.json stores every tensor as float64, a module case's float32 params too.
        let f32_as_f64 = g.dtype() == DType::F32 && want.dtype() == DType::F64;
        if g.dtype() != want.dtype() && !(f32_as_f64 && module_case) {
            return Err(format!(
                "{k}: dtype {:?}, expected {:?}",
                g.dtype(),
                want.dtype()
            ));
        }
    }
    Ok(())
}

#[test]
fn init() {
    let _g = RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let fx = load("init.json");
    let mut tally = Tally::default();
    let env = env_with_nn(HashMap::new());
    for case in fx["cases"].as_array().unwrap() {
        let seed = case["seed"].as_u64().unwrap();
        let name = format!("seed {seed}: {}", case["module"].as_str().unwrap());
        let r = catch(|| {
            flambeau::manual_seed(seed);
            let m = pnn::eval_module(&case["module_expr"], &env)?;
            compare_state_dict(m.as_dyn(), &case["keys"], &case["state_dict"], false)
        });
        tally.record(&name, outcome_of(r));
    }
    for seq in fx["sequences"].as_array().unwrap() {
        let seed = seq["seed"].as_u64().unwrap();
        let mods: Vec<&str> = seq["modules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["module"].as_str().unwrap())
            .collect();
        let name = format!("seed {seed}: {}", mods.join("; "));
        let r = catch(|| {
            flambeau::manual_seed(seed);
            for m in seq["modules"].as_array().unwrap() {
                let built = pnn::eval_module(&m["module_expr"], &env)?;
                compare_state_dict(built.as_dyn(), &m["keys"], &m["state_dict"], false)?;
            }
            Ok(())
        });
        tally.record(&name, outcome_of(r));
    }
    tally.report("init");
    assert!(
        tally.failed.is_empty(),
        "{} init cases failed",
        tally.failed.len()
    );
    assert!(
        tally.unsupported.is_empty(),
        "every init case must be supported"
    );
}

/// Runs an optimizer (and optionally a scheduler) over the fixture's gradients on one dtype path.
fn run_trajectory(case: &Json, dtype: DType) -> Result<(), String> {
    let suffix = if dtype == DType::F64 { "f64" } else { "f32" };
    let tol = if dtype == DType::F64 {
        F64_TOL
    } else {
        F32_REDUCTION
    };
    let p = tensor(&case["p0"]).to_dtype(dtype).requires_grad_(true);
    let mut vars = HashMap::new();
    vars.insert("p".to_string(), Value::Tensor(p.clone()));
    // The scheduler's `opt` argument is passed to the builder directly.
    vars.insert("opt".to_string(), Value::None);
    let env = env_with_nn(vars);
    let mut opt = pnn::build_optimizer(&case["optimizer_expr"], &env)?;
    let mut sched = match case.get("scheduler_expr") {
        Some(expr) => Some(pnn::build_scheduler(expr, &env, opt.as_mut())?),
        None => None,
    };
    let lrs = case.get("lrs").and_then(|l| l.as_array());
    let moms = case.get("momentums").and_then(|l| l.as_array());
    let check_lr = |opt: &dyn Optimizer, i: usize| -> Result<(), String> {
        if let Some(lrs) = lrs {
            let want = lrs[i].as_f64().unwrap();
            if (opt.lr(0) - want).abs() > 1e-12 * want.abs().max(1e-12) {
                return Err(format!(
                    "lr after {i} scheduler steps is {}, expected {want}",
                    opt.lr(0)
                ));
            }
        }
        if let Some(moms) = moms {
            let want = moms[i].as_f64().unwrap();
            let got = opt.momentum(0).unwrap();
            if (got - want).abs() > 1e-12 {
                return Err(format!(
                    "momentum after {i} scheduler steps is {got}, expected {want}"
                ));
            }
        }
        Ok(())
    };
    check_lr(opt.as_ref(), 0)?;
    let grads = case["grads"].as_array().unwrap();
    let expected = case[format!("params_{suffix}")].as_array().unwrap();
    for (i, (g, want)) in grads.iter().zip(expected).enumerate() {
        p.set_grad(Some(tensor(g).to_dtype(dtype)));
        opt.step();
        if let Some(s) = sched.as_mut() {
            s.step(opt.as_mut());
            check_lr(opt.as_ref(), i + 1)?;
        }
        compare(
            &format!("param after step {}", i + 1),
            &p.detach(),
            &tensor(want),
            tol,
        )?;
    }
    Ok(())
}

fn run_clip(case: &Json, dtype: DType) -> Result<(), String> {
    let suffix = if dtype == DType::F64 { "f64" } else { "f32" };
    let tol = if dtype == DType::F64 {
        F64_TOL
    } else {
        F32_REDUCTION
    };
    let grads: Vec<Tensor> = case["grads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| tensor(g).to_dtype(dtype))
        .collect();
    let params: Vec<Tensor> = grads
        .iter()
        .map(|g| {
            let p = Tensor::zeros_dtype(g.shape(), dtype).requires_grad_(true);
            p.set_grad(Some(g.clone_tensor()));
            p
        })
        .collect();
    let call = case["call_expr"]["call"].as_str().unwrap();
    // Every argument is evaluated from the tree (`norm_type=float('inf')` too); the parameter
    // list is the case's own.
    let mut vars = HashMap::new();
    vars.insert("params".to_string(), Value::None);
    let a = pnn::eval_args(&case["call_expr"], &env_with_nn(vars))?;
    let total = match call {
        "torch.nn.utils.clip_grad_norm_" => {
            a.only(&["parameters", "max_norm", "norm_type"], 3)?;
            Some(flambeau::nn::utils::clip_grad_norm_(
                &params,
                a.req(1, "max_norm")?.f64()?,
                a.f64_or(2, "norm_type", 2.0)?,
            ))
        }
        "torch.nn.utils.clip_grad_value_" => {
            a.only(&["parameters", "clip_value"], 2)?;
            flambeau::nn::utils::clip_grad_value_(&params, a.req(1, "clip_value")?.f64()?);
            None
        }
        other => return eval::unsupported(format!("function {other}")),
    };
    let clipped = case[format!("clipped_grads_{suffix}")].as_array().unwrap();
    if clipped.len() != params.len() {
        return Err(format!(
            "{} clipped grads for {} params",
            clipped.len(),
            params.len()
        ));
    }
    for (i, (p, want)) in params.iter().zip(clipped).enumerate() {
        compare(&format!("grad {i}"), &p.grad().unwrap(), &tensor(want), tol)?;
    }
    if let (Some(t), Some(want)) = (total, case.get(format!("total_norm_{suffix}"))) {
        compare("total norm", &t, &tensor(want), tol)?;
    }
    Ok(())
}

#[test]
fn optim() {
    let fx = load("optim.json");
    let mut tally = Tally::default();
    let cases = fx["optimizers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(fx["schedulers"].as_array().unwrap());
    for case in cases {
        let name = match case.get("scheduler") {
            Some(s) => format!(
                "{} + {}",
                case["optimizer"].as_str().unwrap(),
                s.as_str().unwrap()
            ),
            None => case["optimizer"].as_str().unwrap().to_string(),
        };
        for dtype in [DType::F64, DType::F32] {
            let label = format!(
                "{name} [{}]",
                if dtype == DType::F64 { "f64" } else { "f32" }
            );
            tally.record(&label, outcome_of(catch(|| run_trajectory(case, dtype))));
        }
    }
    for case in fx["clip"].as_array().unwrap() {
        for dtype in [DType::F64, DType::F32] {
            let label = format!(
                "{} [{}]",
                case["call"].as_str().unwrap(),
                if dtype == DType::F64 { "f64" } else { "f32" }
            );
            tally.record(&label, outcome_of(catch(|| run_clip(case, dtype))));
        }
    }
    tally.report("optim");
    assert!(
        tally.failed.is_empty(),
        "{} optim cases failed",
        tally.failed.len()
    );
    assert!(
        tally.unsupported.is_empty(),
        "every optim case must be supported"
    );
}

#[test]
fn data() {
    // The "default" cases seed the default generator and read it back with torch.rand(3).
    let _g = RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let fx = load("data.json");
    let mut tally = Tally::default();
    // Replayed in file order, once per worker count (see tests/parity/data.rs).
    for workers in [0, 2] {
        let mut state_known = false;
        for case in fx["cases"].as_array().unwrap() {
            let name = case["python"].as_str().unwrap();
            match case["kind"].as_str().unwrap() {
                "dataloader" => {
                    let label = format!("{name} [num_workers={workers}]");
                    state_known |= case["generator"].as_str() == Some("default");
                    let r = catch(|| parity::data::run_dataloader(case, workers, state_known));
                    tally.record(&label, outcome_of(r));
                }
                "random_split" if workers == 0 => {
                    tally.record(
                        name,
                        outcome_of(catch(|| parity::data::run_random_split(case))),
                    );
                }
                "random_split" => {}
                other => tally.record(
                    name,
                    Outcome::Unsupported(format!("unsupported: case kind {other}")),
                ),
            }
        }
    }
    tally.report("data");
    assert!(
        tally.failed.is_empty(),
        "{} data cases failed",
        tally.failed.len()
    );
    assert!(
        tally.unsupported.is_empty(),
        "every data case must be supported"
    );
}
