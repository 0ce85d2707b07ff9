//! Handwritten digits (8x8) with a small CNN on 1x8x8 images: two 3x3 convolutions (16 and 32
//! channels, padding of one) with ReLU and 2x2 max pooling, then `Linear(128, 64)`, ReLU,
//! `Linear(64, 10)`. Adam, cross entropy, 30 epochs of shuffled batches of 32, the first 80% of
//! the rows for training and the last 20% for testing. PyTorch reaches 0.9333 on this split
//! with seed 0 (`examples/torch_twin.py digits_cnn`).
//!
//! ```sh
//! cargo run --release --example digits_cnn -- --epochs 30 --seed 0 --save cnn.pt
//! cargo run --release --example digits_cnn -- --load cnn.pt --eval-only
//! ```

#[path = "common/mod.rs"]
mod common;

use common::flags::{Spec, main_with};
use std::process::ExitCode;

const SPEC: Spec = Spec {
    name: "digits_cnn",
    about: "Digits 8x8: a CNN (conv 16, conv 32, linear 128-64-10) trained with Adam on the first 80% of the rows, tested on the last 20%.",
    epochs: 30,
};

fn main() -> ExitCode {
    main_with(&SPEC, |o| {
        common::digits::run(o, "digits 8x8, CNN", common::digits::cnn, &[1, 8, 8])
    })
}
