//! Where a tensor's data lives.

use std::fmt;

/// The device a tensor is stored on. Only the CPU exists today; the enum leaves room for CUDA.
///
/// ```
/// use flambeau::{Device, Tensor};
/// assert_eq!(Tensor::zeros(3).device(), Device::Cpu);
/// assert_eq!(Device::Cpu.to_string(), "cpu");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum Device {
    /// Host memory, computed by the CPU kernels.
    #[default]
    Cpu,
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
        }
    }
}
