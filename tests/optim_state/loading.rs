//! Loading PyTorch's state into Flambeau: what PyTorch wrote continues as PyTorch continues,
//! tolerated flags are kept, and what would change the numbers is refused with an error.

use super::common::*;
use flambeau::Tensor;
use flambeau::nn::Module;
use flambeau::optim::lr_scheduler::{LRScheduler, LambdaLR, MultiStepLR, StepLR};
use flambeau::optim::{Adam, AdamW, Hyper, Optimizer, OptimizerState, SGD};
use flambeau::serialization::Value;
use serde_json::Value as Json;

fn layouts() -> Json {
    serde_json::from_str(include_str!("../data/optim_state/layouts.json")).unwrap()
}

/// PyTorch's state dict of `name` after 2 steps, as `torch.load` returns it.
fn pytorch_state(name: &str) -> Value {
    decode(&layouts()["optimizers"][name])
}

fn err<T>(r: flambeau::Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

/// Sets `state[...]` or `param_groups[0][key]` of a state dict Value.
fn with_group_entry(mut v: Value, key: &str, value: Value) -> Value {
    let Value::Dict(top) = &mut v else { panic!() };
    let Value::List(groups) = &mut top[1].1 else {
        panic!()
    };
    let Value::Dict(g) = &mut groups[0] else {
        panic!()
    };
    match g.iter_mut().find(|(k, _)| k.as_str() == Some(key)) {
        Some((_, v)) => *v = value,
        None => g.insert(0, (Value::from(key), value)),
    }
    v
}

fn without_state_entry(mut v: Value, param: i64, key: &str) -> Value {
    let Value::Dict(top) = &mut v else { panic!() };
    let Value::Dict(state) = &mut top[0].1 else {
        panic!()
    };
    let (_, Value::Dict(entries)) = state
        .iter_mut()
        .find(|(k, _)| k.as_int() == Some(param))
        .unwrap()
    else {
        panic!()
    };
    entries.retain(|(k, _)| k.as_str() != Some(key));
    v
}

/// PyTorch's checkpoints (model, optimizer, scheduler) continue in Flambeau as in PyTorch.
#[test]
fn pytorch_checkpoints_continue_as_in_pytorch() {
    for (name, json) in [
        ("adam", include_str!("../data/optim_state/adam.json")),
        ("sgd", include_str!("../data/optim_state/sgd.json")),
    ] {
        let data: Json = serde_json::from_str(json).unwrap();
        let ckpt = decode(&data["checkpoint"]);
        continue_checkpoint(name, &ckpt, &data["steps"]);
    }
}

/// Builds the script's objects fresh, loads `ckpt` and checks the next steps against PyTorch's.
pub fn continue_checkpoint(name: &str, ckpt: &Value, steps: &Json) {
    let m = flambeau::nn::Linear::new(3, 2);
    let sd = ckpt.get("model").unwrap().to_state_dict().unwrap();
    m.load_state_dict(&sd, true).unwrap();
    let params: Vec<Tensor> = m.parameters().iter().map(Into::into).collect();
    let (mut opt, mut sched): (Box<dyn Optimizer>, Box<dyn LRScheduler>) = if name == "adam" {
        let mut o = Adam::new(params, 0.01);
        let s = flambeau::optim::lr_scheduler::OneCycleLR::new(&mut o, 0.1, 10);
        (Box::new(o), Box::new(s))
    } else {
        let mut o = SGD::new(params, 0.1).momentum(0.9).nesterov(true);
        let s = StepLR::new(&mut o, 2, 0.5);
        (Box::new(o), Box::new(s))
    };
    let os = OptimizerState::from_value(ckpt.get("optimizer").unwrap()).unwrap();
    opt.load_state_dict(&os).unwrap();
    sched
        .load_state_dict(ckpt.get("scheduler").unwrap())
        .unwrap();
    assert_eq!(ckpt.get("epoch").and_then(Value::as_int), Some(3));
    // what Flambeau would save now is what PyTorch saved
    let again = Value::dict([
        ("model", Value::from(&m.state_dict())),
        ("optimizer", opt.state_dict().to_value()),
        ("scheduler", sched.state_dict()),
        ("epoch", Value::Int(3)),
    ]);
    assert_eq!(
        format!("{again:?}"),
        format!("{ckpt:?}"),
        "{name}: re-saved checkpoint"
    );
    for (i, want) in steps.as_array().unwrap().iter().enumerate() {
        train_step(&m, &mut *opt);
        sched.step(&mut *opt);
        let lr: Vec<f64> = (0..opt.num_groups()).map(|g| opt.lr(g)).collect();
        let want_lr: Vec<f64> = want["lrs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(lr, want_lr, "{name}: lr after step {}", i + 1);
        for (p, key) in m.parameters().iter().zip(["weight", "bias"]) {
            let got = p.to_vec::<f32>();
            for (j, w) in want[key].as_array().unwrap().iter().enumerate() {
                let w = w.as_f64().unwrap() as f32;
                assert!(
                    (got[j] - w).abs() <= 1e-6 * w.abs().max(1e-3),
                    "{name}: {key}[{j}] after step {}: {} vs PyTorch's {w}",
                    i + 1,
                    got[j]
                );
            }
        }
    }
}

/// Every optimizer loads PyTorch's state dict and saves it back unchanged.
#[test]
fn pytorch_state_dicts_load_and_save_back_unchanged() {
    let all = layouts();
    for (name, want) in all["optimizers"].as_object().unwrap() {
        let m = model();
        let mut opt = optimizer(name, m.parameters().iter().map(Into::into).collect());
        let os = OptimizerState::from_value(&decode(want)).unwrap();
        opt.load_state_dict(&os).unwrap();
        assert_same(&opt.state_dict().to_value(), want, name);
    }
}

/// `foreach`, `fused` and `capturable` select among PyTorch's implementations of the same
/// update: accepted and kept; `differentiable=True` is refused.
#[test]
fn implementation_flags_are_kept_and_differentiable_is_refused() {
    let m = model();
    let mut opt = Adam::new(m.parameters(), 0.01);
    let mut v = pytorch_state("adam");
    for (k, val) in [
        ("foreach", Value::Bool(true)),
        ("fused", Value::Bool(false)),
        ("capturable", Value::Bool(true)),
        (
            "param_names",
            Value::List(vec!["weight".into(), "bias".into()]),
        ),
    ] {
        v = with_group_entry(v, k, val);
    }
    opt.load_state_dict(&OptimizerState::from_value(&v).unwrap())
        .unwrap();
    let back = opt.state_dict().to_value();
    assert_eq!(format!("{back:?}"), format!("{v:?}"));
    assert_eq!(opt.group_entry(0, "foreach"), Some(Hyper::Bool(true)));

    let bad = with_group_entry(v.clone(), "differentiable", Value::Bool(true));
    assert_eq!(
        err(opt.load_state_dict(&OptimizerState::from_value(&bad).unwrap())),
        "optimizer state: param_groups[0] has differentiable=True, but Flambeau's optimizer \
         steps are not recorded by autograd"
    );
    let bad = with_group_entry(v, "foreach", Value::Str("yes".into()));
    assert!(
        err(opt.load_state_dict(&OptimizerState::from_value(&bad).unwrap())).contains("foreach")
    );
}

/// State the group's update reads but the file lacks is refused (PyTorch's step would raise
/// KeyError), and a refused load leaves the optimizer as it was.
#[test]
fn missing_state_is_refused_and_leaves_the_optimizer_unchanged() {
    let m = model();
    let mut opt = AdamW::new(m.parameters(), 0.01).amsgrad(true);
    train_step(&m, &mut opt);
    let before = format!("{:?}", opt.state_dict().to_value());
    let v = without_state_entry(pytorch_state("adamw_amsgrad"), 1, "max_exp_avg_sq");
    assert_eq!(
        err(opt.load_state_dict(&OptimizerState::from_value(&v).unwrap())),
        "optimizer state for parameter 1 has no 'max_exp_avg_sq', which this group's update reads"
    );
    let v = without_state_entry(pytorch_state("adamw_amsgrad"), 0, "step");
    assert!(err(opt.load_state_dict(&OptimizerState::from_value(&v).unwrap())).contains("'step'"));
    assert_eq!(format!("{:?}", opt.state_dict().to_value()), before);

    // Adagrad keeps state for every parameter
    let mut ada = flambeau::optim::Adagrad::new(m.parameters(), 0.1);
    let mut v = pytorch_state("adagrad");
    if let Value::Dict(top) = &mut v {
        if let Value::Dict(state) = &mut top[0].1 {
            state.pop();
        }
    }
    assert_eq!(
        err(ada.load_state_dict(&OptimizerState::from_value(&v).unwrap())),
        "optimizer state: parameter 1 has no state"
    );
    // a state tensor of another shape
    let mut sgd = SGD::new(m.parameters(), 0.1).momentum(0.9);
    let mut v = pytorch_state("sgd_momentum");
    if let Value::Dict(top) = &mut v {
        if let Value::Dict(state) = &mut top[0].1 {
            state[1].1 = Value::dict([("momentum_buffer", Value::Tensor(Tensor::zeros([3])))]);
        }
    }
    assert_eq!(
        err(sgd.load_state_dict(&OptimizerState::from_value(&v).unwrap())),
        "optimizer state for parameter 1 has shape [3], the parameter has shape [2]"
    );
}

/// A state PyTorch's update would not read does not change Flambeau's numbers either:
/// `max_exp_avg_sq` without amsgrad; old PyTorch's `momentum_buffer: None`.
#[test]
fn state_the_update_does_not_read_is_ignored() {
    let run = |v: &Value| {
        let m = model();
        let mut opt = Adam::new(m.parameters(), 0.01);
        opt.load_state_dict(&OptimizerState::from_value(v).unwrap())
            .unwrap();
        train_step(&m, &mut opt);
        params(&m)
    };
    let plain = pytorch_state("adam");
    // the amsgrad run's state, with the plain run's group: max_exp_avg_sq is carried, not read
    let mut extra = pytorch_state("adamw_amsgrad");
    if let (Value::Dict(e), Value::Dict(p)) = (&mut extra, &plain) {
        e[1].1 = p[1].1.clone();
    }
    let mut plain_with_amsgrad_buffers = plain.clone();
    if let (Value::Dict(d), Value::Dict(e)) = (&mut plain_with_amsgrad_buffers, &extra) {
        let Value::Dict(state) = &mut d[0].1 else {
            panic!()
        };
        let Value::Dict(estate) = &e[0].1 else {
            panic!()
        };
        for ((_, s), (_, es)) in state.iter_mut().zip(estate) {
            let (Value::Dict(s), Value::Dict(es)) = (s, es) else {
                panic!()
            };
            s.push(
                es.iter()
                    .find(|(k, _)| k.as_str() == Some("max_exp_avg_sq"))
                    .unwrap()
                    .clone(),
            );
        }
    }
    assert_eq!(run(&plain), run(&plain_with_amsgrad_buffers));

    let m = model();
    let mut sgd = SGD::new(m.parameters(), 0.1);
    let old = Value::dict([
        (
            "state",
            Value::Dict(vec![(
                Value::Int(0),
                Value::dict([("momentum_buffer", Value::None)]),
            )]),
        ),
        (
            "param_groups",
            decode(&layouts()["optimizers"]["sgd"])
                .get("param_groups")
                .unwrap()
                .clone(),
        ),
    ]);
    sgd.load_state_dict(&OptimizerState::from_value(&old).unwrap())
        .unwrap();
    assert!(sgd.state_dict().state.is_empty());
}

/// `decoupled_weight_decay` is honoured per group as PyTorch's Adam does, and AdamW stays
/// decoupled whatever the state says (PyTorch's `AdamW.__setstate__`).
#[test]
fn decoupled_weight_decay_follows_pytorch() {
    let run = |adamw: bool, decoupled: bool| {
        let m = model();
        let mut opt = if adamw {
            AdamW::new(m.parameters(), 0.01)
        } else {
            Adam::new(m.parameters(), 0.01).weight_decay(0.01)
        };
        let v = with_group_entry(
            opt.state_dict().to_value(),
            "decoupled_weight_decay",
            Value::Bool(decoupled),
        );
        opt.load_state_dict(&OptimizerState::from_value(&v).unwrap())
            .unwrap();
        for _ in 0..3 {
            train_step(&m, &mut opt);
        }
        params(&m)
    };
    assert_eq!(run(false, true), run(true, true));
    assert_eq!(run(true, false), run(true, true));
    assert_ne!(run(false, false), run(true, true));
}

/// State saved from float64 parameters takes the float32 parameters' dtype (PyTorch casts
/// floating state to the parameter's dtype), except `step`.
#[test]
fn loaded_state_takes_the_parameters_dtype() {
    let m = model();
    let mut opt = Adam::new(m.parameters(), 0.01);
    let mut v = pytorch_state("adam");
    fn to_f64(v: &mut Value) {
        match v {
            Value::Tensor(t) => *t = t.to_dtype(flambeau::DType::F64),
            Value::Dict(d) => d.iter_mut().for_each(|(_, x)| to_f64(x)),
            Value::List(l) => l.iter_mut().for_each(to_f64),
            _ => {}
        }
    }
    to_f64(&mut v);
    opt.load_state_dict(&OptimizerState::from_value(&v).unwrap())
        .unwrap();
    let back = opt.state_dict().to_value();
    let s0 = back.get("state").unwrap().as_dict().unwrap()[0].1.clone();
    assert_eq!(
        s0.get("exp_avg").unwrap().as_tensor().unwrap().dtype(),
        flambeau::DType::F32
    );
    assert_eq!(
        s0.get("step").unwrap().as_tensor().unwrap().dtype(),
        flambeau::DType::F32
    );
    train_step(&m, &mut opt);
}

/// Malformed optimizer states are errors naming the entry, never panics.
#[test]
fn malformed_optimizer_states_are_format_errors() {
    let good = pytorch_state("adam");
    let cases: Vec<(Value, &str)> = vec![
        (
            Value::List(vec![]),
            "optimizer state dict: expected a dict with 'state' and 'param_groups', got a list",
        ),
        (
            Value::dict([("state", Value::Dict(vec![]))]),
            "optimizer state dict: missing 'param_groups'",
        ),
        (
            Value::dict([
                ("state", Value::List(vec![])),
                ("param_groups", Value::List(vec![])),
            ]),
            "optimizer state dict: 'state' is a list, expected a dict",
        ),
        (
            Value::dict([
                (
                    "state",
                    Value::Dict(vec![(Value::from("w"), Value::Dict(vec![]))]),
                ),
                ("param_groups", Value::List(vec![])),
            ]),
            "optimizer state dict: state key 'w' is not a parameter index",
        ),
        (
            Value::dict([
                (
                    "state",
                    Value::Dict(vec![(
                        Value::Int(0),
                        Value::dict([("step", Value::from("x"))]),
                    )]),
                ),
                ("param_groups", Value::List(vec![])),
            ]),
            "optimizer state dict: state[0]['step'] is a str, expected a tensor or a number",
        ),
        (
            with_group_entry(good.clone(), "params", Value::List(vec![Value::Int(-1)])),
            "optimizer state dict: param_groups[0]['params'] is not a list of parameter indices",
        ),
        (
            with_group_entry(good.clone(), "lr", Value::Tensor(Tensor::scalar(0.1f32))),
            "optimizer state dict: param_groups[0]['lr'] is a Tensor, which Flambeau's optimizers do not support",
        ),
        (
            with_group_entry(
                good.clone(),
                "betas",
                Value::Tuple(vec![Value::from("a"), Value::Float(0.9)]),
            ),
            "optimizer state dict: param_groups[0]['betas'] is a pair that is not two numbers",
        ),
    ];
    for (v, msg) in cases {
        assert_eq!(err(OptimizerState::from_value(&v)), msg);
    }
    // well-formed but not numbers where the update needs them
    let m = model();
    let mut opt = Adam::new(m.parameters(), 0.01);
    let v = with_group_entry(good, "eps", Value::from("tiny"));
    assert_eq!(
        err(opt.load_state_dict(&OptimizerState::from_value(&v).unwrap())),
        "optimizer state: eps should be a number, got Str(\"tiny\")"
    );
}

/// Malformed scheduler states are errors naming the entry, and leave the scheduler as it was.
#[test]
fn malformed_scheduler_states_are_format_errors() {
    let m = model();
    let mut opt = SGD::new(m.parameters(), 0.1);
    let mut s = StepLR::new(&mut opt, 2, 0.5);
    let good = s.state_dict();
    let set = |key: &str, value: Value| {
        let Value::Dict(mut d) = good.clone() else {
            panic!()
        };
        for (k, v) in d.iter_mut() {
            if k.as_str() == Some(key) {
                *v = value.clone();
            }
        }
        Value::Dict(d)
    };
    for (v, msg) in [
        (Value::Int(3), "StepLR state dict is a int, expected a dict"),
        (
            set("step_size", Value::Float(2.0)),
            "StepLR state dict: 'step_size' is a float, expected an int",
        ),
        (
            set("step_size", Value::Int(-2)),
            "StepLR state dict: 'step_size' is -2, expected a count",
        ),
        (
            set("step_size", Value::Int(0)),
            "StepLR state dict: 'step_size' is 0",
        ),
        (
            set("base_lrs", Value::List(vec![Value::None])),
            "StepLR state dict: 'base_lrs' is a list, expected a list of numbers",
        ),
        (
            Value::dict([("gamma", Value::Float(0.5))]),
            "StepLR state dict has no 'step_size'",
        ),
    ] {
        assert_eq!(err(s.load_state_dict(&v)), msg);
    }
    assert_eq!(format!("{:?}", s.state_dict()), format!("{good:?}"));

    let mut ms = MultiStepLR::new(&mut opt, &[2], 0.5);
    let Value::Dict(mut d) = ms.state_dict() else {
        panic!()
    };
    d[0].1 = Value::Dict(vec![(Value::Int(2), Value::Int(1 << 40))]);
    assert_eq!(
        err(ms.load_state_dict(&Value::Dict(d))),
        "MultiStepLR state dict: 'milestones' is a dict, expected a dict of epochs to counts"
    );

    let mut l = LambdaLR::new(&mut opt, |_| 1.0);
    let Value::Dict(mut d) = l.state_dict() else {
        panic!()
    };
    d.last_mut().unwrap().1 = Value::List(vec![Value::Dict(vec![])]);
    assert_eq!(
        err(l.load_state_dict(&Value::Dict(d))),
        "LambdaLR state dict: lr_lambdas[0] holds the state of a callable object, which a Rust \
         closure cannot take"
    );
}
