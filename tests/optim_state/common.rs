//! The model, data and optimizer/scheduler configurations of tests/data/gen_optim_state.py, and
//! the tagged encoding of checkpoint objects its JSON uses.

use flambeau::nn::{Forward, Linear, MSELoss, Module, StateDict};
use flambeau::optim::lr_scheduler::{
    AnnealStrategy, CosineAnnealingLR, ExponentialLR, LRScheduler, LambdaLR, LinearLR, MultiStepLR,
    OneCycleLR, OneCycleOptions, ReduceLROnPlateau, StepLR,
};
use flambeau::optim::{
    Adagrad, AdagradOptions, Adam, AdamOptions, AdamW, Optimizer, RMSprop, RMSpropOptions, SGD,
    SgdOptions,
};
use flambeau::serialization::Value;
use flambeau::{Result, Tensor};
use serde_json::Value as Json;

pub const WEIGHT: [f32; 6] = [0.1, -0.2, 0.3, 0.4, 0.5, -0.6];
pub const BIAS: [f32; 2] = [0.05, -0.05];
const X: [f32; 12] = [
    1.0, 2.0, -1.0, 0.5, -1.5, 2.0, -1.0, 0.0, 1.0, 2.0, 1.0, 0.5,
];
const Y: [f32; 8] = [1.0, -1.0, 0.0, 2.0, -0.5, 0.5, 1.5, 0.0];

/// The script's Linear(3, 2) with its fixed weights.
pub fn model() -> Linear {
    let m = Linear::new(3, 2);
    let mut sd = StateDict::new();
    sd.insert("weight", Tensor::from_slice(&WEIGHT, [2, 3]));
    sd.insert("bias", Tensor::from_slice(&BIAS, [2]));
    m.load_state_dict(&sd, true).unwrap();
    m
}

/// One step of MSELoss on the fixed batch.
pub fn train_step(m: &Linear, opt: &mut dyn Optimizer) {
    let (x, y) = (
        Tensor::from_slice(&X, [4, 3]),
        Tensor::from_slice(&Y, [4, 2]),
    );
    let loss = MSELoss::new().forward(&m.forward(&x), &y);
    opt.zero_grad();
    loss.backward();
    opt.step();
}

/// The parameters' values, weight then bias.
pub fn params(m: &Linear) -> Vec<Vec<f32>> {
    m.parameters().iter().map(|p| p.to_vec::<f32>()).collect()
}

/// The script's `OPTIMIZERS` on `params` (one group), by name.
pub fn optimizer(name: &str, params: Vec<Tensor>) -> Box<dyn Optimizer> {
    match name {
        "sgd" => Box::new(SGD::new(params, 0.1)),
        "sgd_momentum" => Box::new(SGD::new(params, 0.1).momentum(0.9).weight_decay(0.01)),
        "sgd_nesterov" => Box::new(SGD::new(params, 0.1).momentum(0.9).nesterov(true)),
        "adam" => Box::new(Adam::new(params, 0.01)),
        "adamw_amsgrad" => Box::new(AdamW::new(params, 0.01).amsgrad(true)),
        "rmsprop" => Box::new(RMSprop::new(params, 0.01)),
        "rmsprop_centered" => Box::new(RMSprop::with_options(
            params,
            RMSpropOptions {
                lr: 0.01,
                momentum: 0.5,
                centered: true,
                ..Default::default()
            },
        )),
        "adagrad" => Box::new(Adagrad::new(params, 0.1)),
        _ => panic!("unknown optimizer {name}"),
    }
}

/// The same optimizers on two groups (the weight, and the bias at `lr * bias_scale`), for the
/// resume tests.
pub fn two_group_optimizer(name: &str, m: &Linear, lr: f64) -> Box<dyn Optimizer> {
    let (w, b) = (
        vec![m.weight.tensor().clone()],
        vec![m.bias.as_ref().unwrap().tensor().clone()],
    );
    let blr = lr * 0.5;
    match name {
        "sgd_momentum" | "sgd_nesterov" => {
            let mut o = SGD::new(w, lr)
                .momentum(0.9)
                .nesterov(name == "sgd_nesterov");
            let opts = SgdOptions {
                lr: blr,
                weight_decay: 0.01,
                ..o.defaults().clone()
            };
            o.add_param_group(b, opts);
            Box::new(o)
        }
        "adam" | "adamw_amsgrad" => {
            let mut o = if name == "adam" {
                Adam::new(w, lr)
            } else {
                AdamW::new(w, lr).amsgrad(true)
            };
            let opts = AdamOptions {
                lr: blr,
                ..o.defaults().clone()
            };
            o.add_param_group(b, opts);
            Box::new(o)
        }
        "rmsprop" | "rmsprop_centered" => {
            let opts = RMSpropOptions {
                lr,
                momentum: 0.5,
                centered: name == "rmsprop_centered",
                ..Default::default()
            };
            let mut o = RMSprop::with_options(w, opts.clone());
            o.add_param_group(b, RMSpropOptions { lr: blr, ..opts });
            Box::new(o)
        }
        "adagrad" => {
            let mut o = Adagrad::new(w, lr);
            let opts = AdagradOptions {
                lr: blr,
                lr_decay: 0.01,
                ..o.defaults().clone()
            };
            o.add_param_group(b, opts);
            Box::new(o)
        }
        _ => panic!("unknown optimizer {name}"),
    }
}

/// A scheduler of either kind.
pub enum Sched {
    Epoch(Box<dyn LRScheduler>),
    Plateau(ReduceLROnPlateau),
}

impl Sched {
    pub fn step(&mut self, opt: &mut dyn Optimizer, metric: f64) {
        match self {
            Sched::Epoch(s) => s.step(opt),
            Sched::Plateau(s) => s.step(opt, metric),
        }
    }

    pub fn state_dict(&self) -> Value {
        match self {
            Sched::Epoch(s) => s.state_dict(),
            Sched::Plateau(s) => s.state_dict(),
        }
    }

    pub fn load_state_dict(&mut self, v: &Value) -> Result<()> {
        match self {
            Sched::Epoch(s) => s.load_state_dict(v),
            Sched::Plateau(s) => s.load_state_dict(v),
        }
    }

    pub fn last_lr(&self) -> Vec<f64> {
        match self {
            Sched::Epoch(s) => s.get_last_lr(),
            Sched::Plateau(s) => s.get_last_lr(),
        }
    }
}

/// The script's `SCHEDULERS`, by name.
pub fn scheduler(name: &str, opt: &mut dyn Optimizer) -> Sched {
    let s: Box<dyn LRScheduler> = match name {
        "step_lr" => Box::new(StepLR::new(opt, 2, 0.5)),
        "multi_step_lr" => Box::new(MultiStepLR::new(opt, &[2, 4, 4], 0.5)),
        "exponential_lr" => Box::new(ExponentialLR::new(opt, 0.9)),
        "cosine_annealing_lr" => Box::new(CosineAnnealingLR::new(opt, 10, 0.0)),
        "linear_lr" => Box::new(LinearLR::new(opt)),
        "lambda_lr" => Box::new(LambdaLR::new(opt, |e| 0.5f64.powi(e as i32))),
        "one_cycle_lr_sgd" => Box::new(OneCycleLR::new(opt, 1.0, 10)),
        "one_cycle_lr_adam" => Box::new(OneCycleLR::with(
            opt,
            0.1,
            12,
            OneCycleOptions {
                three_phase: true,
                anneal_strategy: AnnealStrategy::Linear,
                ..Default::default()
            },
        )),
        "reduce_lr_on_plateau" => return Sched::Plateau(ReduceLROnPlateau::new(opt).patience(1)),
        _ => panic!("unknown scheduler {name}"),
    };
    Sched::Epoch(s)
}

pub const PLATEAU_METRICS: [f64; 5] = [1.0, 0.9, 0.95, 0.95, 0.95];

/// Python's float from the JSON (infinities and NaN are strings there).
fn json_float(v: &Json) -> f64 {
    match v {
        Json::String(s) => match s.as_str() {
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            "nan" => f64::NAN,
            _ => panic!("bad float {s}"),
        },
        _ => v.as_f64().unwrap(),
    }
}

fn same_float(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// Asserts that `got` is the object the script encoded as `want`: the same Python types, dict
/// keys in the same order, numbers bit for bit, tensor values within `rtol` of PyTorch's
/// (relative to the tensor's largest magnitude; 0 for bit for bit).
#[track_caller]
pub fn assert_close(got: &Value, want: &Json, path: &str, rtol: f64) {
    let t = want["t"].as_str().unwrap();
    let v = &want["v"];
    let fail = |what: String| -> ! { panic!("at {path}: {what}; got {got:?}, want {want}") };
    match (t, got) {
        ("none", Value::None) => {}
        ("bool", Value::Bool(b)) if Some(*b) == v.as_bool() => {}
        ("int", Value::Int(i)) if Some(*i) == v.as_i64() => {}
        ("float", Value::Float(f)) => {
            if !same_float(*f, json_float(v)) {
                fail(format!("{f:e} != {:e}", json_float(v)))
            }
        }
        ("str", Value::Str(s)) if Some(s.as_str()) == v.as_str() => {}
        ("tuple", Value::Tuple(items)) | ("list", Value::List(items)) => {
            let want_items = v.as_array().unwrap();
            if items.len() != want_items.len() {
                fail(format!("{} items, want {}", items.len(), want_items.len()));
            }
            for (i, (g, w)) in items.iter().zip(want_items).enumerate() {
                assert_close(g, w, &format!("{path}[{i}]"), rtol);
            }
        }
        ("dict", Value::Dict(entries)) => {
            let want_entries = v.as_array().unwrap();
            let keys =
                |e: &[(Value, Value)]| e.iter().map(|(k, _)| format!("{k:?}")).collect::<Vec<_>>();
            if entries.len() != want_entries.len() {
                fail(format!(
                    "{} entries {:?}, want {}",
                    entries.len(),
                    keys(entries),
                    want_entries.len()
                ));
            }
            for (i, ((gk, gv), w)) in entries.iter().zip(want_entries).enumerate() {
                let pair = w.as_array().unwrap();
                assert_close(gk, &pair[0], &format!("{path}.key{i}"), rtol);
                assert_close(gv, &pair[1], &format!("{path}[{gk:?}]"), rtol);
            }
        }
        ("tensor", Value::Tensor(tensor)) => {
            assert_eq!(
                format!("{:?}", tensor.dtype()).to_lowercase(),
                want["dtype"]
                    .as_str()
                    .unwrap()
                    .replace("float", "f")
                    .replace("int", "i"),
                "at {path}: dtype"
            );
            let shape: Vec<usize> = want["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(tensor.dims(), shape.as_slice(), "at {path}: shape");
            let got_v = tensor.to_dtype(flambeau::DType::F64).to_vec::<f64>();
            let want_v: Vec<f64> = v.as_array().unwrap().iter().map(json_float).collect();
            let scale = want_v.iter().fold(0.0f64, |m, w| m.max(w.abs()));
            for (i, (g, w)) in got_v.iter().zip(&want_v).enumerate() {
                if !same_float(*g, *w) && (g - w).abs() > rtol * scale {
                    fail(format!("element {i}: {g:e} != {w:e}"));
                }
            }
        }
        _ => fail("different type or value".into()),
    }
}

/// [`assert_close`] bit for bit.
#[track_caller]
pub fn assert_same(got: &Value, want: &Json, path: &str) {
    assert_close(got, want, path, 0.0)
}

/// The object the script encoded (what `torch.load(weights_only=True)` would return).
pub fn decode(j: &Json) -> Value {
    let v = &j["v"];
    let items = || v.as_array().unwrap().iter().map(decode).collect();
    match j["t"].as_str().unwrap() {
        "none" => Value::None,
        "bool" => Value::Bool(v.as_bool().unwrap()),
        "int" => Value::Int(v.as_i64().unwrap()),
        "float" => Value::Float(json_float(v)),
        "str" => Value::Str(v.as_str().unwrap().to_string()),
        "tuple" => Value::Tuple(items()),
        "list" => Value::List(items()),
        "dict" => Value::Dict(
            v.as_array()
                .unwrap()
                .iter()
                .map(|p| (decode(&p[0]), decode(&p[1])))
                .collect(),
        ),
        "tensor" => {
            let shape: Vec<usize> = j["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            let vals: Vec<f64> = v.as_array().unwrap().iter().map(json_float).collect();
            Value::Tensor(match j["dtype"].as_str().unwrap() {
                "float32" => Tensor::from_vec(vals.iter().map(|&x| x as f32).collect(), shape),
                "float64" => Tensor::from_vec(vals, shape),
                d => panic!("dtype {d}"),
            })
        }
        t => panic!("tag {t}"),
    }
}
