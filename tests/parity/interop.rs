//! The `interop` line: checkpoints PyTorch wrote (`interop/interop.json` and its files) load into
//! the same architectures built in Flambeau and give PyTorch's outputs.
//!
//! Each model (`mlp`, `cnn`) is built from its `module_expr` with the harness's module builder,
//! its repr checked, and every file of `files` loaded (`.safetensors` with `load_safetensors`,
//! `.pt` with `serialization::load(..)?.to_state_dict()`): keys in order and dtypes, a strict
//! `load_state_dict` (a `_f64` file holds the float tensors only: the others must be exactly
//! the missing keys), `eval()`, and the eval-mode output for `input`. `views.pt` holds one
//! storage through several views; `legacy.pt` is the pre-1.6 format.

use super::eval::{Env, Value as EvalValue};
use super::nn as pnn;
use super::{F32_ELEMENTWISE, Outcome, Tally, catch, compare, compare_exact, fixtures_dir, tensor};
use flambeau::nn::{Forward, Module, StateDict};
use flambeau::serialization::{self, Value};
use flambeau::{DType, Tensor};
use serde_json::Value as Json;
use std::collections::HashMap;

/// Runs every interop case, counting them in a tally. `env` knows `nn.*` (for building modules).
pub fn run(fx: &Json, env: &dyn Fn(HashMap<String, EvalValue>) -> Env) -> Tally {
    let mut tally = Tally::default();
    for (name, model) in fx["models"].as_object().expect("models") {
        for file in model["files"].as_array().expect("files") {
            let file = file.as_str().expect("file name");
            let label = format!("{name}: {file}");
            let r = catch(|| run_model_file(model, file, env));
            tally.record(&label, outcome(r));
        }
    }
    let views = &fx["views"];
    let label = views["file"].as_str().expect("views file").to_string();
    tally.record(&label, outcome(catch(|| run_views(views))));
    let legacy = &fx["legacy"];
    let label = legacy["file"].as_str().expect("legacy file").to_string();
    tally.record(&label, outcome(catch(|| run_tensors(legacy))));
    tally
}

fn outcome(r: Result<Result<(), String>, String>) -> Outcome {
    match r {
        Ok(Ok(())) => Outcome::Pass,
        Ok(Err(msg)) | Err(msg) => {
            if super::eval::is_unsupported(&msg) {
                Outcome::Unsupported(msg)
            } else {
                Outcome::Fail(msg)
            }
        }
    }
}

fn path_of(file: &str) -> std::path::PathBuf {
    fixtures_dir().join("interop").join(file)
}

/// A file's state dict: a safetensors file, or a `torch.save` file holding a dict of tensors.
fn load_state_dict_file(file: &str) -> Result<StateDict, String> {
    let path = path_of(file);
    let r = if file.ends_with(".safetensors") {
        serialization::load_safetensors(&path)
    } else {
        serialization::load(&path).and_then(|v| v.to_state_dict())
    };
    r.map_err(|e| format!("loading {file}: {e}"))
}

fn run_model_file(
    model: &Json,
    file: &str,
    env: &dyn Fn(HashMap<String, EvalValue>) -> Env,
) -> Result<(), String> {
    let mut m = pnn::Boxed(pnn::eval_module(
        &model["module_expr"],
        &env(HashMap::new()),
    )?);
    let want_repr = model["repr"].as_str().expect("repr");
    if m.repr() != want_repr {
        return Err(format!("repr\n{}\nexpected\n{want_repr}", m.repr()));
    }
    // The `_f64` files hold the model after `.double()`.
    let dtype = if file.contains("_f64") {
        DType::F64
    } else {
        DType::F32
    };
    if dtype != DType::F32 {
        m.to_dtype(dtype);
    }
    let sd = load_state_dict_file(file)?;
    let dtypes = model["dtypes"].as_object().expect("dtypes");
    let is_float = |k: &str| dtypes[k].as_str().expect("dtype") != "torch.int64";
    // The `_f64` files hold the float tensors only, cast to float64 (`cnn_f64.pt` has no
    // `num_batches_tracked`): their keys are the float ones, and loading them leaves exactly the
    // others missing, as in PyTorch (where `strict=True` refuses this file).
    let want_keys: Vec<&str> = model["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k.as_str().expect("key"))
        .filter(|k| dtype == DType::F32 || is_float(k))
        .collect();
    let not_in_file: Vec<String> = model["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k.as_str().expect("key"))
        .filter(|k| !want_keys.contains(k))
        .map(str::to_string)
        .collect();
    // A safetensors file keeps its data order (`load_file`'s), not the state_dict's: only the
    // set of keys is the model's there.
    let mut got_keys = sd.keys();
    let mut keys = want_keys.clone();
    if file.ends_with(".safetensors") {
        got_keys.sort_unstable();
        keys.sort_unstable();
    }
    if got_keys != keys {
        return Err(format!("keys {:?}, expected {:?}", sd.keys(), want_keys));
    }
    for k in &want_keys {
        let mut want = match dtypes[*k].as_str().expect("dtype") {
            "torch.float32" => DType::F32,
            "torch.int64" => DType::I64,
            other => return Err(format!("{k}: fixture dtype {other}")),
        };
        if want.is_float() {
            want = dtype;
        }
        let got = sd.get(k).expect("key checked").dtype();
        if got != want {
            return Err(format!(
                "{k}: dtype {}, expected {}",
                got.torch_name(),
                want.torch_name()
            ));
        }
    }
    let strict = not_in_file.is_empty();
    let incompatible = m.load_state_dict(&sd, strict).map_err(|e| e.to_string())?;
    if incompatible.missing_keys != not_in_file || !incompatible.unexpected_keys.is_empty() {
        return Err(format!("load_state_dict reported {incompatible:?}"));
    }
    // The loaded values are the module's now.
    for (k, t) in m.state_dict().iter().filter(|(k, _)| sd.get(k).is_some()) {
        compare_exact(k, t, sd.get(k).expect("key checked"))?;
    }
    m.eval();
    let x = tensor(&model["input"]).to_dtype(dtype);
    let out = flambeau::no_grad(|| m.forward(&x));
    // The float64 model against PyTorch's float32 output, at the float32 tolerance.
    compare(
        "output_eval",
        &out.to_dtype(DType::F32),
        &tensor(&model["output_eval"]),
        F32_ELEMENTWISE,
    )
}

/// The file's dict of tensors, checked against the fixture's `tensors` (names and values).
fn load_tensors(case: &Json) -> Result<Vec<(String, Tensor)>, String> {
    let file = case["file"].as_str().expect("file");
    let v = serialization::load(path_of(file)).map_err(|e| format!("loading {file}: {e}"))?;
    let entries = v
        .as_dict()
        .ok_or_else(|| format!("{file} holds a {}, expected a dict", v.type_name()))?;
    let want = case["tensors"].as_object().expect("tensors");
    let mut out = Vec::new();
    for (name, j) in want {
        let t = match v.get(name) {
            Some(Value::Tensor(t)) => t.clone(),
            Some(other) => return Err(format!("{name} is a {}", other.type_name())),
            None => return Err(format!("{file} has no {name}")),
        };
        compare_exact(name, &t, &tensor(j))?;
        out.push((name.clone(), t));
    }
    if entries.len() != want.len() {
        return Err(format!(
            "{file} has {} entries, expected {}",
            entries.len(),
            want.len()
        ));
    }
    Ok(out)
}

fn run_tensors(case: &Json) -> Result<(), String> {
    load_tensors(case).map(drop)
}

/// The views of `views.pt` share the base's storage: writing through the base changes them all,
/// as it does in PyTorch after `torch.load`.
fn run_views(case: &Json) -> Result<(), String> {
    let tensors = load_tensors(case)?;
    let base = &tensors
        .iter()
        .find(|(n, _)| n == "base")
        .ok_or("no base tensor")?
        .1;
    flambeau::no_grad(|| base.mul_(2.0));
    for (name, t) in &tensors {
        let want = tensor(&case["tensors"][name]) * 2.0;
        compare_exact(&format!("{name} after base.mul_(2)"), t, &want)
            .map_err(|e| format!("{e} (not a view of base's storage?)"))?;
    }
    Ok(())
}
