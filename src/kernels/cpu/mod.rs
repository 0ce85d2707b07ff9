//! The CPU backend. `backend.rs` implements the device boundary (`BackendStorage`) for
//! `CpuStorage`; the other files are the kernels by family, plain functions over slices plus a
//! `Layout`: allocation (`alloc.rs`, the one place outputs are allocated, over the cache of freed
//! buffers in `buffer_pool.rs`), strided copies and elementwise loops (`strided.rs`, threaded
//! above a size by `parallel.rs`), reductions in PyTorch's summation order (`reduce.rs`),
//! layer norm and softmax rows (`norm.rs`, `softmax.rs`), `mse_loss` forward and backward
//! (`loss.rs`), cumulative sums and products (`scan.rs`), `torch.linalg` factorizations (`linalg.rs`),
//! matrix products (`gemm.rs`), indexing (`index.rs`), PyTorch's random distributions
//! (`random.rs`, `avx_mathfun.rs`) and the optimizers' fused updates (`fused.rs`).

pub(crate) mod alloc;
mod avx_mathfun;
mod backend;
pub(crate) mod buffer_pool;
pub(crate) mod conv;
pub(crate) mod fused;
pub(crate) mod gemm;
mod index;
mod linalg;
mod loss;
pub(crate) mod norm;
mod parallel;
pub(crate) mod pool;
pub(crate) mod random;
pub(crate) mod reduce;
mod scan;
pub(crate) mod softmax;
mod sort;
pub(crate) mod strided;
