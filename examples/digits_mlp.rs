//! Handwritten digits (8x8) with an MLP, `nn.Sequential(nn.Linear(64, 128), nn.ReLU(),
//! nn.Linear(128, 10))`: Adam, cross entropy, 30 epochs of shuffled batches of 32, the first 80%
//! of the rows for training and the last 20% for testing. PyTorch reaches 0.9056 on this split
//! with seed 0 (`examples/torch_twin.py digits_mlp`).
//!
//! ```sh
//! cargo run --release --example digits_mlp -- --epochs 30 --seed 0 --save mlp.safetensors
//! cargo run --release --example digits_mlp -- --load mlp.safetensors --eval-only
//! ```

#[path = "common/mod.rs"]
mod common;

use common::flags::{Spec, main_with};
use std::process::ExitCode;

const SPEC: Spec = Spec {
    name: "digits_mlp",
    about: "Digits 8x8: an MLP 64-128-10 trained with Adam on the first 80% of the rows, tested on the last 20%.",
    epochs: 30,
};

fn main() -> ExitCode {
    main_with(&SPEC, |o| {
        common::digits::run(o, "digits 8x8, MLP 64-128-10", common::digits::mlp, &[64])
    })
}
