//! Compute kernels, one module per device.

pub(crate) mod cpu;
