//! `torch.save` / `torch.load(weights_only=True)` without Python: every `.pt` of the interop
//! fixtures against interop.json (keys, dtypes, values, eval outputs, shared storages), a
//! checkpoint PyTorch wrote with nested values (tests/data/pt, from
//! tests/data/gen_serialization_pt.py) against PyTorch's own description of it, round trips
//! of every `Value` kind, refused malicious pickles, and corrupt inputs that must give errors,
//! never panics.

use flambeau::Tensor;
use flambeau::serialization::{Value, load, load_from_bytes, save, save_to_bytes};
use serde_json::Value as Json;

#[path = "serialization_pt/corrupt.rs"]
mod corrupt;
#[path = "serialization_pt/fixtures.rs"]
mod fixtures;
#[path = "serialization_pt/malicious.rs"]
mod malicious;
#[path = "serialization_pt/roundtrip.rs"]
mod roundtrip;

/// The interop fixture folder (`$FLAMBEAU_TORCH_FIXTURES/interop`, else the repo's copy).
fn interop_dir() -> String {
    let dir = std::env::var("FLAMBEAU_TORCH_FIXTURES").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/torch").to_string()
    });
    format!("{dir}/interop")
}

fn interop_path(name: &str) -> String {
    format!("{}/{name}", interop_dir())
}

fn interop_json() -> Json {
    let text = std::fs::read_to_string(interop_path("interop.json")).expect("interop.json");
    serde_json::from_str(&text).expect("json")
}

/// Files tests/data/gen_serialization_pt.py wrote.
fn data_path(name: &str) -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pt/").to_string() + name
}

fn data_json() -> Json {
    let text = std::fs::read_to_string(data_path("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("json")
}

/// The values of a tensor, row-major, as f64 (exact for the fixtures' dtypes and sizes).
fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>()
}

fn json_values(j: &Json) -> Vec<f64> {
    j.as_array()
        .unwrap()
        .iter()
        .map(|v| match v {
            Json::Bool(b) => *b as i64 as f64,
            v => v.as_f64().unwrap(),
        })
        .collect()
}

fn dims(j: &Json) -> Vec<usize> {
    j.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

/// `f` run under `catch_unwind`: `Err` if it panicked.
fn no_panic<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
}
