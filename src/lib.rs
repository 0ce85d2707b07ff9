//! # Flambeau
//!
//! PyTorch's eager stack in pure Rust: tensors with a runtime dtype, PyTorch's CPU random
//! generator reproduced bit for bit, and reverse-mode autograd with PyTorch's semantics.
//!
//! ```
//! use flambeau::{manual_seed, randint, randn, DType};
//!
//! manual_seed(0);
//! let x = randint(-5, 30, [11]).to_dtype(DType::F32);
//! let y = 0.5 * &x + 30.0 + randn([11]);
//! let x = (x * 0.1).unsqueeze(1);
//! assert_eq!(x.dims(), &[11, 1]);
//!
//! let w = randn([1, 1]).requires_grad_(true);
//! let loss = (x.matmul(&w).squeeze_dim(1) - &y).pow(2).mean();
//! loss.backward();
//! assert_eq!(w.grad().unwrap().dims(), &[1, 1]);
//! ```

#![warn(missing_docs)]

// Lets `#[derive(Module)]`, which names `::flambeau`, work inside this crate too.
extern crate self as flambeau;

pub mod autograd;
pub(crate) mod backend;
mod device;
mod dtype;
mod error;
pub(crate) mod kernels;
pub mod linalg;
pub mod nn;
pub(crate) mod ops;
pub mod optim;
mod pyfmt;
pub mod random;
mod scalar;
pub mod serialization;
mod shape;
mod storage;
mod tensor;
pub mod utils;

pub use autograd::{NoGradGuard, Node, no_grad};
pub use device::{Device, cuda};
pub use dtype::{DType, Element, Float, Num};
pub use error::{Error, Result};
pub use nn::Module;
pub use ops::TensorOrScalar;
pub use ops::slice::SliceArg;
pub use random::{Generator, bernoulli, manual_seed, rand, randint, randn, randperm};
pub use scalar::Scalar;
pub use serialization::{load, load_safetensors, save, save_safetensors};
pub use shape::{IntList, Shape};
pub use storage::StorageElement;
pub use tensor::{Tensor, TensorLiteral};

/// Prints a warning once per process, as Python's `warnings.warn` does by default.
pub(crate) fn warn_once(key: &'static str, message: &str) {
    use std::collections::HashSet;
    use std::sync::{LazyLock, Mutex};
    static SEEN: LazyLock<Mutex<HashSet<&'static str>>> =
        LazyLock::new(|| Mutex::new(HashSet::new()));
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if seen.insert(key) {
        eprintln!("{message}");
    }
}

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
