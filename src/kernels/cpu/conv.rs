//! im2col and col2im over strided images: the copies that turn a convolution into a GEMM.
