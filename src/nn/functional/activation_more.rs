//! The functional forms of the activations of `ops/activation_more.rs` (`F.hardtanh`,
//! `F.relu6`, `F.elu`, `F.selu`, `F.celu`, `F.mish`, `F.hardswish`, `F.hardsigmoid`,
//! `F.softsign`, `F.glu`, `F.prelu`).

use crate::tensor::Tensor;

/// `F.hardtanh(x, min_val, max_val)`; PyTorch's defaults are -1 and 1.
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// assert_eq!(F::hardtanh(&tensor!([2.0]), -1.0, 1.0).to_vec::<f32>(), vec![1.0]);
/// ```
#[track_caller]
pub fn hardtanh(x: &Tensor, min_val: f64, max_val: f64) -> Tensor {
    x.hardtanh(min_val, max_val)
}

/// `F.relu6(x)`.
#[track_caller]
pub fn relu6(x: &Tensor) -> Tensor {
    x.relu6()
}

/// `F.elu(x, alpha)`; PyTorch's default alpha is 1.0.
#[track_caller]
pub fn elu(x: &Tensor, alpha: f64) -> Tensor {
    x.elu(alpha)
}

/// `F.selu(x)`.
#[track_caller]
pub fn selu(x: &Tensor) -> Tensor {
    x.selu()
}

/// `F.celu(x, alpha)`; PyTorch's default alpha is 1.0.
#[track_caller]
pub fn celu(x: &Tensor, alpha: f64) -> Tensor {
    x.celu(alpha)
}

/// `F.mish(x)`.
#[track_caller]
pub fn mish(x: &Tensor) -> Tensor {
    x.mish()
}

/// `F.hardswish(x)`.
#[track_caller]
pub fn hardswish(x: &Tensor) -> Tensor {
    x.hardswish()
}

/// `F.hardsigmoid(x)`.
#[track_caller]
pub fn hardsigmoid(x: &Tensor) -> Tensor {
    x.hardsigmoid()
}

/// `F.softsign(x)`.
#[track_caller]
pub fn softsign(x: &Tensor) -> Tensor {
    x.softsign()
}

/// `F.glu(x, dim)`; PyTorch's default dim is -1.
#[track_caller]
pub fn glu(x: &Tensor, dim: i64) -> Tensor {
    x.glu(dim)
}

/// `F.prelu(x, weight)`.
#[track_caller]
pub fn prelu(x: &Tensor, weight: &Tensor) -> Tensor {
    x.prelu(weight)
}
