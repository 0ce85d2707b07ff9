//! The layer families of `torch.nn` in the harness: each file maps `F.*` calls and `nn.*`
//! constructors of its family to Flambeau. A name no family knows falls through to `nn.rs`.

use super::eval::{Args, EvalResult};
use super::modules::CaseModule;

pub mod attention;
pub mod conv;
pub mod norm;
pub mod pool;
pub mod rnn;
pub mod shape;

/// `F.*` functions of the layer families; `None` when no family has `name`.
pub fn functional(name: &str, a: &Args) -> Option<EvalResult> {
    conv::functional(name, a)
        .or_else(|| pool::functional(name, a))
        .or_else(|| norm::functional(name, a))
        .or_else(|| shape::functional(name, a))
        .or_else(|| attention::functional(name, a))
        .or_else(|| rnn::functional(name, a))
}

/// `nn.*` constructors of the layer families; `None` when no family has `name`.
pub fn module(name: &str, a: &Args) -> Option<Result<Box<dyn CaseModule>, String>> {
    conv::module(name, a)
        .or_else(|| pool::module(name, a))
        .or_else(|| norm::module(name, a))
        .or_else(|| shape::module(name, a))
        .or_else(|| attention::module(name, a))
        .or_else(|| rnn::module(name, a))
}
