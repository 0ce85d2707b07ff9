//! `flambeau::utils::data` against PyTorch: datasets, samplers, `torch.multinomial`, collation,
//! loader options, error messages and worker threads. The expected numbers come from
//! `tests/data/gen_data_loading.py` (`tests/data/data_loading.json`).

#[path = "data_loading/datasets.rs"]
mod datasets;
#[path = "data_loading/loaders.rs"]
mod loaders;
#[path = "data_loading/samplers.rs"]
mod samplers;
#[path = "data_loading/workers.rs"]
mod workers;

use serde_json::Value as Json;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Tests that draw from the default generator run one at a time (a loader without a generator
/// draws each epoch's base seed from it).
static RNG: Mutex<()> = Mutex::new(());

pub fn rng_lock() -> MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn data() -> &'static Json {
    static D: OnceLock<Json> = OnceLock::new();
    D.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/data_loading.json");
        serde_json::from_str(&std::fs::read_to_string(path).expect("data_loading.json")).unwrap()
    })
}

pub fn usizes(j: &Json) -> Vec<usize> {
    j.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

pub fn nested(j: &Json) -> Vec<Vec<usize>> {
    j.as_array().unwrap().iter().map(usizes).collect()
}

pub fn f32s(j: &Json) -> Vec<u32> {
    j.as_array()
        .unwrap()
        .iter()
        .map(|v| (v.as_f64().unwrap() as f32).to_bits())
        .collect()
}

/// The message of a panic raised by `f`.
pub fn panic_message(f: impl FnOnce()) -> String {
    let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("no panic");
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}
