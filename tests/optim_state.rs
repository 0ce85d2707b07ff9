//! Optimizer and scheduler state: PyTorch's layout, loading PyTorch's state, refusing what
//! would change the numbers, and resuming training bit for bit.

#[path = "optim_state/common.rs"]
mod common;
#[path = "optim_state/files.rs"]
mod files;
#[path = "optim_state/layouts.rs"]
mod layouts;
#[path = "optim_state/loading.rs"]
mod loading;
#[path = "optim_state/resume.rs"]
mod resume;
