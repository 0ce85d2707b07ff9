//! Normalization: `F.batch_norm`, `F.group_norm`, `F.instance_norm`, `F.rms_norm`.
