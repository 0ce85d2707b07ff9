//! Where a tensor's data lives, and the `torch.cuda` queries that say no GPU backend is built.

use std::fmt;
use std::str::FromStr;

/// The device a tensor is stored on. Only the CPU exists today; the enum leaves room for CUDA.
///
/// It prints as PyTorch's `torch.device` does: `cpu` in display form, `device(type='cpu')` in
/// debug form (Python's `repr`). A device is parsed from PyTorch's device strings.
///
/// ```
/// use flambeau::{Device, Tensor};
/// assert_eq!(Tensor::zeros(3).device(), Device::Cpu);
/// assert_eq!(Device::Cpu.to_string(), "cpu");
/// assert_eq!(format!("{:?}", Device::Cpu), "device(type='cpu')");
/// assert_eq!("cpu".parse::<Device>().unwrap(), Device::Cpu);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
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

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "device(type='{self}')")
    }
}

/// The device types PyTorch's parser names in its error (`c10/core/Device.cpp`).
const DEVICE_TYPES: &str = "cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, \
                            maia, xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone";

impl FromStr for Device {
    type Err = crate::Error;

    /// Parses `"cpu"` (or `"cpu:0"`; the CPU has one index, which the enum does not keep).
    /// A device type PyTorch knows but this build has no backend for (`"cuda"`, `"mps"`) is an
    /// error saying so; anything else gets PyTorch's message for an unknown device string.
    ///
    /// ```
    /// use flambeau::Device;
    /// assert_eq!("cpu:0".parse::<Device>().unwrap(), Device::Cpu);
    /// let e = "cuda".parse::<Device>().unwrap_err();
    /// assert_eq!(e.to_string(), "Torch not compiled with CUDA enabled");
    /// assert!("gpu".parse::<Device>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Device, crate::Error> {
        let (kind, index) = match s.split_once(':') {
            Some((k, i)) => (k, Some(i)),
            None => (s, None),
        };
        let index_ok = index.is_none_or(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()));
        if !DEVICE_TYPES.split(", ").any(|t| t == kind) {
            return Err(crate::Error::InvalidArgument(format!(
                "Expected one of {DEVICE_TYPES} device type at start of device string: {s}"
            )));
        }
        if !index_ok {
            return Err(crate::Error::InvalidArgument(format!(
                "Invalid device string: '{s}'"
            )));
        }
        match kind {
            "cpu" => match index {
                None | Some("0") => Ok(Device::Cpu),
                Some(_) => Err(crate::Error::InvalidArgument(format!(
                    "CPU device index must be -1 or zero, got {}",
                    index.unwrap_or_default()
                ))),
            },
            "cuda" => Err(crate::Error::InvalidArgument(
                "Torch not compiled with CUDA enabled".into(),
            )),
            other => Err(crate::Error::InvalidArgument(format!(
                "this build of Flambeau has no backend for device type '{other}'"
            ))),
        }
    }
}

/// `torch.cuda`'s queries. No CUDA backend exists yet, so there is no device to find.
pub mod cuda {
    /// Whether a CUDA device can be used (`torch.cuda.is_available()`): false in this build.
    ///
    /// ```
    /// assert!(!flambeau::cuda::is_available());
    /// ```
    pub fn is_available() -> bool {
        false
    }

    /// The number of CUDA devices (`torch.cuda.device_count()`): 0 in this build.
    ///
    /// ```
    /// assert_eq!(flambeau::cuda::device_count(), 0);
    /// ```
    pub fn device_count() -> usize {
        0
    }
}
