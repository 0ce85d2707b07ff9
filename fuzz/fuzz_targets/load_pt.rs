//! `torch.load` bytes (zip or legacy format): loading must return a value or an error, never
//! panic, and what loads must convert to a state dict or refuse to.
//! Seed the corpus with `tests/fixtures/torch/interop/*.pt`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = flambeau::serialization::load_from_bytes(data) {
        let _ = v.to_state_dict();
    }
});
