//! Checkpoints through `.pt` files: PyTorch's files load and continue as in PyTorch, and a
//! run resumed from a file Flambeau wrote is the uninterrupted run.

use super::common::*;
use super::loading::continue_checkpoint;
use super::resume::{OPTIMIZERS, SCHEDULERS, assert_same_trajectory, run};
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
