//! Flambeau's state dicts against PyTorch's, key for key, type for type, value for value
//! (tests/data/optim_state/layouts.json, written by tests/data/gen_optim_state.py).

use super::common::*;
use flambeau::nn::Module;
use flambeau::optim::OptimizerState;
use serde_json::Value as Json;

fn layouts() -> Json {
    serde_json::from_str(include_str!("../data/optim_state/layouts.json")).unwrap()
}

/// Every optimizer's state dict after 2 steps is PyTorch's: the same keys in the same order
/// (`foreach: None`, `decoupled_weight_decay`, `params` last, ...), ints where PyTorch has ints,
/// `step` a 0-d float32 tensor, and the state tensors PyTorch's.
#[test]
fn optimizer_state_dicts_are_pytorchs() {
    let all = layouts();
    let optimizers = all["optimizers"].as_object().unwrap();
    assert_eq!(optimizers.len(), 8);
    for (name, want) in optimizers {
        let m = model();
        let mut opt = optimizer(name, m.parameters().iter().map(Into::into).collect());
        for _ in 0..2 {
            train_step(&m, &mut *opt);
        }
        let got = opt.state_dict().to_value();
        // Tensors within 1e-6 of their scale: Linear's forward on this batch differs from
        // PyTorch's addmm in the last bit of two outputs (0.95 vs 0.9499999), which moves the
        // second step's gradients by an ulp or so. Everything else is bit for bit.
        assert_close(&got, want, name, 1e-6);
        // and PyTorch's layout reads back into the same state
        let back = OptimizerState::from_value(&got).unwrap();
        assert_close(&back.to_value(), want, name, 1e-6);
    }
}

/// Every scheduler's state dict is PyTorch's after the same steps, and so are the optimizer's
/// groups it wrote to (`initial_lr`; OneCycleLR's `max_lr`, `min_lr`, `max_momentum`,
/// `base_momentum`; the cycled `momentum` or `betas`).
#[test]
fn scheduler_state_dicts_are_pytorchs() {
    let all = layouts();
    let schedulers = all["schedulers"].as_object().unwrap();
    assert_eq!(schedulers.len(), 9);
    for (name, case) in schedulers {
        let m = model();
        let opt_name = case["optimizer"].as_str().unwrap();
        let mut opt = optimizer(opt_name, m.parameters().iter().map(Into::into).collect());
        let mut sched = scheduler(name, &mut *opt);
        for metric in PLATEAU_METRICS
            .iter()
            .take(case["steps"].as_u64().unwrap() as usize)
        {
            train_step(&m, &mut *opt);
            sched.step(&mut *opt, *metric);
        }
        assert_same(&sched.state_dict(), &case["scheduler"], name);
        let groups = opt.state_dict().to_value();
        assert_same(
            groups.get("param_groups").unwrap(),
            &case["param_groups"],
            &format!("{name} param_groups"),
        );
        // loading a scheduler's own state into a fresh one gives the same state
        let m2 = model();
        let mut opt2 = optimizer(opt_name, m2.parameters().iter().map(Into::into).collect());
        let mut fresh = scheduler(name, &mut *opt2);
        fresh.load_state_dict(&sched.state_dict()).unwrap();
        assert_same(&fresh.state_dict(), &case["scheduler"], name);
        assert_eq!(fresh.last_lr(), sched.last_lr());
    }
}
