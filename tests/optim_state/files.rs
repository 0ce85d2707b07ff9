//! Checkpoints through `.pt` files: PyTorch's files load and continue as in PyTorch, and a
//! run resumed from a file Flambeau wrote is the uninterrupted run.

use super::common::*;
use super::loading::continue_checkpoint;
use super::resume::{METRICS, OPTIMIZERS, SCHEDULERS, assert_same_trajectory, make_sched, run};
use flambeau::nn::Module;
use flambeau::serialization::{self, Value};
use serde_json::Value as Json;
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/optim_state")
        .join(name)
}

/// A file path of this process's own.
fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "flambeau-optim-state-{}-{name}",
        std::process::id()
    ))
}

/// PyTorch's `torch.save`d checkpoints read as the objects PyTorch saved, and continue as
/// PyTorch continued.
#[test]
fn pytorch_pt_checkpoints_continue_as_in_pytorch() {
    for name in ["adam", "sgd"] {
        let ckpt = serialization::load(data(&format!("{name}.pt"))).unwrap();
        let json: Json =
            serde_json::from_str(&std::fs::read_to_string(data(&format!("{name}.json"))).unwrap())
                .unwrap();
        assert_same(&ckpt, &json["checkpoint"], name);
        continue_checkpoint(name, &ckpt, &json["steps"]);
    }
}

/// Every optimizer with every scheduler, resumed from a `.pt` file Flambeau wrote.
#[test]
fn resuming_through_pt_files_gives_the_same_trajectory() {
    for opt_name in OPTIMIZERS {
        for sched_name in SCHEDULERS {
            let what = format!("{opt_name} + {sched_name}");
            let path = temp(&format!("{opt_name}-{sched_name}.pt"));
            let through_file = |v: Value| {
                serialization::save(v, &path).unwrap();
                serialization::load(&path).unwrap()
            };
            let whole = run(opt_name, sched_name, None, &|v| v);
            let resumed = run(opt_name, sched_name, Some(4), &through_file);
            std::fs::remove_file(&path).unwrap();
            assert_same_trajectory(&whole, &resumed, &what);
        }
    }
}

/// The model through a safetensors file and the optimizer and scheduler through a `.pt` file,
/// as a run that keeps weights and training state apart would.
#[test]
fn resuming_with_the_model_in_safetensors_gives_the_same_trajectory() {
    for (opt_name, sched_name) in [("adam", "one_cycle_lr"), ("sgd_nesterov", "plateau")] {
        let (weights, rest) = (
            temp(&format!("{opt_name}.safetensors")),
            temp(&format!("{opt_name}-state.pt")),
        );
        let through_files = |v: Value| {
            let model = v.get("model").unwrap().to_state_dict().unwrap();
            serialization::save_safetensors(&model, &weights).unwrap();
            let Value::Dict(entries) = v else { panic!() };
            let others: Vec<(Value, Value)> = entries
                .into_iter()
                .filter(|(k, _)| k.as_str() != Some("model"))
                .collect();
            serialization::save(Value::Dict(others), &rest).unwrap();
            let model = serialization::load_safetensors(&weights).unwrap();
            let Value::Dict(mut back) = serialization::load(&rest).unwrap() else {
                panic!()
            };
            back.insert(0, (Value::from("model"), Value::from(&model)));
            Value::Dict(back)
        };
        let whole = run(opt_name, sched_name, None, &|v| v);
        let resumed = run(opt_name, sched_name, Some(5), &through_files);
        std::fs::remove_file(&weights).unwrap();
        std::fs::remove_file(&rest).unwrap();
        assert_same_trajectory(&whole, &resumed, &format!("{opt_name} + {sched_name}"));
    }
}

/// Writes, to `$FLAMBEAU_OPTIM_STATE_OUT` (when set), a checkpoint of every optimizer with every
/// scheduler after 4 steps and the parameters and learning rates after the 5th, so that
/// `python tests/data/check_optim_state_in_torch.py DIR` can check by hand that PyTorch loads
/// them and takes the same 5th step.
#[test]
fn checkpoints_for_pytorch_to_resume() {
    let Ok(dir) = std::env::var("FLAMBEAU_OPTIM_STATE_OUT") else {
        return;
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    for opt_name in OPTIMIZERS {
        for sched_name in SCHEDULERS {
            let m = model();
            let mut opt = two_group_optimizer(opt_name, &m, 0.01);
            let mut sched = make_sched(sched_name, &mut *opt, false);
            for metric in &METRICS[..4] {
                train_step(&m, &mut *opt);
                sched.step(&mut *opt, *metric);
            }
            let ckpt = Value::dict([
                ("model", Value::from(&m.state_dict())),
                ("optimizer", opt.state_dict().to_value()),
                ("scheduler", sched.state_dict()),
                ("epoch", Value::Int(4)),
            ]);
            let base = dir.join(format!("{opt_name}-{sched_name}"));
            serialization::save(ckpt, base.with_extension("pt")).unwrap();
            train_step(&m, &mut *opt);
            sched.step(&mut *opt, METRICS[4]);
            let p = params(&m);
            let lrs: Vec<f64> = (0..opt.num_groups()).map(|g| opt.lr(g)).collect();
            let next = serde_json::json!({"weight": p[0], "bias": p[1], "lrs": lrs});
            std::fs::write(base.with_extension("json"), next.to_string()).unwrap();
        }
    }
}
