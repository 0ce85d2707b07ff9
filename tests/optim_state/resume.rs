//! Resuming gives the same trajectory: train N steps uninterrupted; separately train k steps,
//! save model + optimizer + scheduler as one checkpoint `Value`, build everything fresh (a new
//! model with another init, an optimizer with another learning rate, a scheduler with other
//! arguments), load, and continue: parameters and learning rates are bit for bit those of the
//! uninterrupted run.

use super::common::*;
use flambeau::nn::{Linear, Module};
use flambeau::optim::lr_scheduler::{
    CosineAnnealingLR, ExponentialLR, LRScheduler, LambdaLR, LinearLR, MultiStepLR, OneCycleLR,
    OneCycleOptions, ReduceLROnPlateau, StepLR,
};
use flambeau::optim::{Optimizer, OptimizerState};
use flambeau::serialization::Value;

pub const OPTIMIZERS: [&str; 7] = [
    "sgd_momentum",
    "sgd_nesterov",
    "adam",
    "adamw_amsgrad",
    "rmsprop",
    "rmsprop_centered",
    "adagrad",
];
pub const SCHEDULERS: [&str; 4] = ["step_lr", "cosine_annealing_lr", "one_cycle_lr", "plateau"];
const N: usize = 9;
pub const METRICS: [f64; N] = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85];

/// `fresh` builds it with other arguments than the run that saved it, so that only loading can
/// make the numbers right.
pub fn make_sched(name: &str, opt: &mut dyn Optimizer, fresh: bool) -> Sched {
    let f = if fresh { 2.0 } else { 1.0 };
    let has_momentum = opt.momentum(0).is_some();
    let s: Box<dyn LRScheduler> = match name {
        "step_lr" => Box::new(StepLR::new(opt, if fresh { 5 } else { 2 }, 0.5 / f)),
        "cosine_annealing_lr" => Box::new(CosineAnnealingLR::new(
            opt,
            if fresh { 20 } else { 6 },
            1e-4 * f,
        )),
        "one_cycle_lr" => Box::new(OneCycleLR::with(
            opt,
            0.05 * f,
            if fresh { 30 } else { 12 },
            OneCycleOptions {
                pct_start: 0.25 * f,
                three_phase: fresh,
                // Adagrad has no momentum to cycle (PyTorch refuses it too)
                cycle_momentum: has_momentum,
                ..Default::default()
            },
        )),
        "multi_step_lr" => Box::new(MultiStepLR::new(
            opt,
            if fresh { &[1, 1] } else { &[2, 5, 5, 7] },
            0.5 / f,
        )),
        "exponential_lr" => Box::new(ExponentialLR::new(opt, 0.9 / f)),
        "linear_lr" => Box::new(LinearLR::with(
            opt,
            0.25 * f,
            1.0,
            if fresh { 2 } else { 6 },
        )),
        // a closure has no state to save: the fresh one must be the same function
        "lambda_lr" => Box::new(LambdaLR::new(opt, |e| 1.0 / (1.0 + e as f64))),
        "plateau" => {
            return Sched::Plateau(
                ReduceLROnPlateau::new(opt)
                    .patience(if fresh { 5 } else { 1 })
                    .cooldown(if fresh { 0 } else { 1 })
                    .factor(0.5 / f),
            );
        }
        _ => panic!("unknown scheduler {name}"),
    };
    Sched::Epoch(s)
}

/// Parameters and learning rates after each step.
type Trajectory = Vec<(Vec<Vec<f32>>, Vec<f64>)>;

fn lrs(opt: &dyn Optimizer) -> Vec<f64> {
    (0..opt.num_groups()).map(|g| opt.lr(g)).collect()
}

fn record(m: &Linear, opt: &dyn Optimizer, out: &mut Trajectory) {
    out.push((params(m), lrs(opt)));
}

/// How a checkpoint travels between the two halves of a run.
pub type Carry<'a> = &'a dyn Fn(Value) -> Value;

/// N steps, or k steps, a checkpoint through `carry`, and the rest with fresh objects.
pub fn run(opt_name: &str, sched_name: &str, resume_at: Option<usize>, carry: Carry) -> Trajectory {
    let mut m = model();
    let mut opt = two_group_optimizer(opt_name, &m, 0.01);
    let mut sched = make_sched(sched_name, &mut *opt, false);
    let mut out = Trajectory::new();
    for (i, metric) in METRICS.iter().enumerate() {
        if resume_at == Some(i) {
            let ckpt = carry(Value::dict([
                ("model", Value::from(&m.state_dict())),
                ("optimizer", opt.state_dict().to_value()),
                ("scheduler", sched.state_dict()),
                ("epoch", Value::Int(i as i64)),
            ]));
            assert_eq!(ckpt.get("epoch").and_then(Value::as_int), Some(i as i64));
            // Fresh objects, built as a new process would (PyTorch's order: optimizer, then
            // scheduler, then their states).
            m = Linear::new(3, 2);
            let mut fresh_opt = two_group_optimizer(opt_name, &m, 0.5);
            let mut fresh_sched = make_sched(sched_name, &mut *fresh_opt, true);
            let sd = ckpt.get("model").unwrap().to_state_dict().unwrap();
            m.load_state_dict(&sd, true).unwrap();
            let os = OptimizerState::from_value(ckpt.get("optimizer").unwrap()).unwrap();
            fresh_opt.load_state_dict(&os).unwrap();
            fresh_sched
                .load_state_dict(ckpt.get("scheduler").unwrap())
                .unwrap();
            // the fresh optimizer holds the new model's parameters
            assert!(fresh_opt.group_params(0)[0].is_same(m.weight.tensor()));
            opt = fresh_opt;
            sched = fresh_sched;
        }
        train_step(&m, &mut *opt);
        sched.step(&mut *opt, *metric);
        record(&m, &*opt, &mut out);
    }
    out
}

#[track_caller]
pub fn assert_same_trajectory(a: &Trajectory, b: &Trajectory, what: &str) {
    assert_eq!(a.len(), b.len());
    for (i, ((pa, la), (pb, lb))) in a.iter().zip(b).enumerate() {
        let bits = |p: &Vec<Vec<f32>>| -> Vec<Vec<u32>> {
            p.iter()
                .map(|v| v.iter().map(|x| x.to_bits()).collect())
                .collect()
        };
        assert_eq!(
            bits(pa),
            bits(pb),
            "{what}: parameters after step {}",
            i + 1
        );
        let lbits = |l: &Vec<f64>| l.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(lbits(la), lbits(lb), "{what}: lrs after step {}", i + 1);
    }
}

/// Every optimizer with every scheduler, resumed after 4 steps through an in-memory `Value`.
#[test]
fn resuming_through_values_gives_the_same_trajectory() {
    for opt_name in OPTIMIZERS {
        for sched_name in SCHEDULERS {
            let what = format!("{opt_name} + {sched_name}");
            let whole = run(opt_name, sched_name, None, &|v| v);
            let resumed = run(opt_name, sched_name, Some(4), &|v| v);
            assert_same_trajectory(&whole, &resumed, &what);
            // the learning rates moved, so the scheduler's state mattered
            let first = &whole[0].1;
            assert!(
                whole.iter().any(|(_, l)| l != first),
                "{what}: lr never changed"
            );
        }
    }
}

/// Resuming at every step (including before the first, when there is no state yet, and after
/// a ReduceLROnPlateau reduction and its cooldown).
#[test]
fn resuming_at_any_step_gives_the_same_trajectory() {
    for (opt_name, sched_name) in [
        ("adamw_amsgrad", "plateau"),
        ("sgd_nesterov", "one_cycle_lr"),
    ] {
        let whole = run(opt_name, sched_name, None, &|v| v);
        for k in 0..N {
            let resumed = run(opt_name, sched_name, Some(k), &|v| v);
            assert_same_trajectory(
                &whole,
                &resumed,
                &format!("{opt_name} + {sched_name} at {k}"),
            );
        }
    }
}

/// Without loading the scheduler's state the fresh run goes elsewhere: the test above can fail.
#[test]
fn a_fresh_scheduler_without_its_state_diverges() {
    for sched_name in SCHEDULERS {
        let whole = run("adam", sched_name, None, &|v| v);
        let mut m = model();
        let mut opt = two_group_optimizer("adam", &m, 0.01);
        let mut sched = make_sched(sched_name, &mut *opt, false);
        let mut out = Trajectory::new();
        for (i, metric) in METRICS.iter().enumerate() {
            if i == 4 {
                let sd = m.state_dict();
                let os = opt.state_dict();
                m = Linear::new(3, 2);
                m.load_state_dict(&sd, true).unwrap();
                opt = two_group_optimizer("adam", &m, 0.5);
                sched = make_sched(sched_name, &mut *opt, true);
                opt.load_state_dict(&os).unwrap();
            }
            train_step(&m, &mut *opt);
            sched.step(&mut *opt, *metric);
            record(&m, &*opt, &mut out);
        }
        assert_ne!(whole, out, "{sched_name}");
    }
}

/// The other schedulers resume as well (their own fields restored over other constructor
/// arguments).
#[test]
fn other_schedulers_resume_with_the_same_trajectory() {
    for (opt_name, sched_name) in [
        ("sgd_momentum", "multi_step_lr"),
        ("adam", "exponential_lr"),
        ("rmsprop", "linear_lr"),
        ("adagrad", "lambda_lr"),
    ] {
        let whole = run(opt_name, sched_name, None, &|v| v);
        for k in [1, 3, 5] {
            let resumed = run(opt_name, sched_name, Some(k), &|v| v);
            assert_same_trajectory(
                &whole,
                &resumed,
                &format!("{opt_name} + {sched_name} at {k}"),
            );
        }
    }
}
