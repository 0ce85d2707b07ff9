//! safetensors bytes: reading must return a state dict or an error, never panic.
//! Seed the corpus with `tests/fixtures/torch/interop/*.safetensors` and
//! `tests/data/safetensors/*.safetensors`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = flambeau::serialization::safetensors_from_bytes(data);
});
