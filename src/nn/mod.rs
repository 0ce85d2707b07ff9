//! `torch.nn`: modules, their parameters, initialisers, losses and functional forms.
//!
//! A model is a struct with `#[derive(Module)]`; its parameters, buffers and children are found
//! through its fields and named after them, as PyTorch names attributes.
//!
//! ```
//! use flambeau::nn::{Forward, Linear, Module, ReLU};
//! use flambeau::Tensor;
//!
//! #[derive(Module)]
//! struct Net {
//!     fc1: Linear,
//!     act: ReLU,
//!     fc2: Linear,
//! }
//!
//! impl Forward for Net {
//!     fn forward(&self, x: &Tensor) -> Tensor {
//!         self.fc2.forward(&self.act.forward(&self.fc1.forward(x)))
//!     }
//! }
//!
//! let net = Net { fc1: Linear::new(4, 8), act: ReLU::new(), fc2: Linear::new(8, 2) };
//! assert_eq!(net.forward(&Tensor::ones([3, 4])).dims(), &[3, 2]);
//! assert_eq!(
//!     format!("{net}"),
//!     "Net(\n  (fc1): Linear(in_features=4, out_features=8, bias=True)\n  (act): ReLU()\n  (fc2): Linear(in_features=8, out_features=2, bias=True)\n)"
//! );
//! ```

mod activation;
mod activation_more;
mod attention;
// Normalization family: batch and instance norm (beside `normalization.rs`).
mod batchnorm;
mod container;
mod conv;
pub mod functional;
mod hooks;
pub mod init;
mod linear;
mod loss;
mod module;
mod module_convert;
mod normalization;
mod pooling;
mod resampling;
mod rnn;
// Recurrent cells (issue 7, rnn family): the one-step arithmetic nn.RNN/LSTM/GRU share.
mod rnn_cell;
mod sparse;
mod state_dict;
mod transformer;
pub mod utils;

// The layer families (each file re-exports its public modules).
pub use attention::*;
pub use conv::*;
pub use hooks::Hooked;
pub use pooling::*;
pub use resampling::*;
pub use rnn::*;
pub use rnn_cell::*;
pub use transformer::*;

pub use activation::{
    Dropout, GELU, LeakyReLU, LogSoftmax, ReLU, SiLU, Sigmoid, Softmax, Softplus, Tanh,
};
pub use activation_more::{
    CELU, ELU, GLU, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish, PReLU, ReLU6, SELU,
    Softsign,
};
pub use container::Sequential;
/// `#[derive(Module)]`: see the [`Module`] trait and the `flambeau-derive` crate.
pub use flambeau_derive::Module;
pub use functional::{KlReduction, Reduction};
pub use linear::{Flatten, Identity, Linear};
pub use loss::{
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
    SmoothL1Loss,
};
pub use module::{
    Buffer, FieldSink, Forward, ForwardModule, Module, ModuleField, Parameter, TrainingFlag,
};
pub use normalization::{GroupNorm, LayerNorm, RMSNorm};
pub use state_dict::{IncompatibleKeys, StateDict};
// Normalization family: batch and instance norm.
pub use batchnorm::{
    BatchNorm1d, BatchNorm2d, BatchNorm3d, BatchNormOptions, InstanceNorm1d, InstanceNorm2d,
    InstanceNorm3d, InstanceNormOptions,
};
pub use sparse::{Embedding, EmbeddingBag};
