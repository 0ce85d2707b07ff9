//! Convolutions on the GEMM: `F.conv1d`, `F.conv2d`, `F.conv_transpose1d`, `F.conv_transpose2d`, `F.unfold`, `F.fold`.
