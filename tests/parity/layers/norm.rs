//! The harness's normalization: F.batch_norm, F.group_norm, F.instance_norm, F.rms_norm, nn.BatchNorm*, nn.GroupNorm, nn.InstanceNorm2d, nn.RMSNorm.

use crate::parity::eval::{Args, EvalResult};
use crate::parity::modules::CaseModule;

/// `F.*` calls of this family; `None` when `name` is not one.
pub fn functional(name: &str, a: &Args) -> Option<EvalResult> {
    let _ = (name, a);
    None
}

/// `nn.*` constructors of this family; `None` when `name` is not one.
pub fn module(name: &str, a: &Args) -> Option<Result<Box<dyn CaseModule>, String>> {
    let _ = (name, a);
    None
}
