//! Pooling: `F.max_pool1d/2d`, `F.avg_pool1d/2d`, `F.adaptive_avg_pool1d/2d`, `F.adaptive_max_pool2d`.
