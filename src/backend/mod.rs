//! The device boundary. A backend is one storage type implementing [`BackendStorage`], whose
//! methods are grouped by kernel family (as candle's `BackendStorage` and burn's backend ops
//! are): creation and host transfer, strided copy and cast, elementwise (out of place, in place,
//! against a scalar), comparisons and selection, reductions, matrix products, indexing, random
//! fill and the fused optimizer updates.
//!
//! `storage.rs` holds the one enum over devices and matches it once per family method; the
//! tensor operations in `ops/` only ever call those methods. Adding a device is a variant of
//! `Storage`, a folder `kernels/<device>/` implementing this trait, and one match arm per method
//! in `storage.rs`: no op file changes.

pub(crate) mod ops;
pub(crate) mod vmath;

use crate::dtype::{DType, Element};
use crate::random::generator::GeneratorState;
use crate::scalar::Scalar;
use crate::shape::{Layout, ReducePlan, Shape};
use crate::storage::StorageElement;
use ops::{BinaryOp, CmpOp, UnaryOp};

/// How `mse_loss`'s kernel reduces the squared differences (the loss's `reduction=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MseReduce {
    /// Keep every element.
    None,
    /// Their sum, a 0-dim result.
    Sum,
    /// Their sum divided by the count, a 0-dim result.
    Mean,
}

/// The scalars of one Adam/AdamW update, in the order PyTorch computes them (f64; each backend
/// rounds them to the parameter's dtype).
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamScalars {
    pub beta1_complement: f64,
    pub beta2: f64,
    pub beta2_complement: f64,
    pub weight_decay: f64,
    /// `1 - lr * weight_decay` for AdamW's decoupled decay, else None.
    pub decay_factor: Option<f64>,
    pub bias_correction2_sqrt: f64,
    pub eps: f64,
    pub neg_step_size: f64,
    pub maximize: bool,
}

/// The operands of a layer norm's backward besides the output gradient: the input, the
/// forward's row statistics (contiguous, one per row), the weight, the row length and which
/// gradients (input, weight, bias) are wanted.
pub(crate) struct LayerNormBackwardArgs<'a, S> {
    pub input: (&'a S, &'a Layout),
    pub mean: (&'a S, &'a Layout),
    pub rstd: (&'a S, &'a Layout),
    pub weight: Option<(&'a S, &'a Layout)>,
    pub n: usize,
    pub needs: [bool; 3],
}

// --- convolution family (im2col / col2im): the geometry both kernels share.
/// The sliding-window geometry of an im2col/col2im over 2-D images (a 1-D convolution is a 2-D
/// one of height 1). Padding may differ before and after a dim (`padding='same'` with an even
/// effective kernel pads one more element after, as ATen does with its extra `constant_pad_nd`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Im2colGeometry {
    /// Images (the batch size).
    pub batch: usize,
    /// Channels of an image.
    pub channels: usize,
    /// Image height and width (unpadded).
    pub input: [usize; 2],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Spacing between kernel elements.
    pub dilation: [usize; 2],
    /// Implicit zeros before each dim.
    pub pad_before: [usize; 2],
    /// Implicit zeros after each dim.
    pub pad_after: [usize; 2],
    /// Step between windows.
    pub stride: [usize; 2],
}

impl Im2colGeometry {
    /// The number of window positions along each dim (the output size of a convolution);
    /// `None` when a dim has none.
    pub fn blocks(&self) -> Option<[usize; 2]> {
        let count = |d: usize| {
            let padded = self.input[d] + self.pad_before[d] + self.pad_after[d];
            let span = self.dilation[d] * (self.kernel[d] - 1) + 1;
            (padded >= span).then(|| (padded - span) / self.stride[d] + 1)
        };
        Some([count(0)?, count(1)?])
    }

    /// Rows of the column matrix: `channels * kh * kw`.
    pub fn rows(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }
}

/// The buffers of one fused Adam step, all contiguous with the parameter's shape.
pub(crate) struct AdamBuffers<'a, S> {
    pub param: (&'a mut S, &'a Layout),
    pub grad: (&'a S, &'a Layout),
    pub exp_avg: (&'a mut S, &'a Layout),
    pub exp_avg_sq: (&'a mut S, &'a Layout),
    pub max_exp_avg_sq: Option<(&'a mut S, &'a Layout)>,
}

// ===== pooling family: geometry (owned by the pooling work; kept apart from other families) =====

/// The windows of one 2-D pooling over the last two dims of an input (every leading dim is a
/// plane): sizes `(height, width)` of input and output, and the window's kernel, stride, padding
/// and dilation, as ATen's pooling kernels take them. The output sizes are decided by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PoolWindows {
    pub input: [usize; 2],
    pub output: [usize; 2],
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
}

/// What an average pooling divides each window's sum by: the window including padding, the
/// elements inside the input only (`count_include_pad=False`), or a fixed divisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AvgDivisor {
    pub count_include_pad: bool,
    pub divisor_override: Option<i64>,
}
// ===== end of the pooling family's geometry =====

/// What a device's storage provides, by kernel family. Outputs are new buffers of the backend,
/// allocated in one place per backend (the hook for buffer reuse and device allocators); every
/// operand comes with its [`Layout`] (shape, strides, offset), so views are read in place.
pub(crate) trait BackendStorage: Sized {
    // --- creation and host transfer
    /// The element type.
    fn dtype(&self) -> DType;
    /// The number of elements in the buffer.
    fn len(&self) -> usize;
    /// `n` zeros (false for bool).
    fn zeros(dtype: DType, n: usize) -> Self;
    /// `n` copies of `value` converted to `dtype`.
    fn full(dtype: DType, n: usize, value: Scalar) -> Self;
    /// A buffer holding host values.
    fn from_vec<T: StorageElement>(values: Vec<T>) -> Self;
    /// The elements of a view, row-major, converted to `T` on the host.
    fn to_vec<T: Element>(&self, layout: &Layout) -> Vec<T>;

    // --- strided copy and cast
    /// A row-major copy of a view, converted to `dtype` (the same dtype copies).
    fn cast(&self, layout: &Layout, dtype: DType) -> Self;
    /// Writes `src` (read through `src_layout`, which has the destination's shape, broadcast
    /// strides allowed) into the view `dst` of this buffer; same dtype.
    fn copy_into(&mut self, dst: &Layout, src: &Self, src_layout: &Layout);
    /// Sets every element of a view to `value`.
    fn fill(&mut self, dst: &Layout, value: Scalar);

    // --- elementwise
    /// `op(x)` for every element of a view, row-major.
    fn unary<O: UnaryOp>(&self, op: O, layout: &Layout) -> Self;
    /// `x = op(x)` for every element of a view.
    fn unary_inplace<O: UnaryOp>(&mut self, op: O, layout: &Layout);
    /// `op(a, b)` with both operands broadcast to `shape`; one dtype.
    fn binary<O: BinaryOp>(
        &self,
        op: O,
        layout: &Layout,
        rhs: &Self,
        rhs_layout: &Layout,
        shape: &Shape,
    ) -> Self;
    /// `op(x, s)`, or `op(s, x)` when `reverse`.
    fn binary_scalar<O: BinaryOp>(&self, op: O, layout: &Layout, s: Scalar, reverse: bool) -> Self;
    /// `x = op(x, y)` with `rhs` read through a layout of the destination's shape.
    fn binary_inplace<O: BinaryOp>(
        &mut self,
        op: O,
        layout: &Layout,
        rhs: &Self,
        rhs_layout: &Layout,
    );
    /// `x = op(x, s)`.
    fn binary_scalar_inplace<O: BinaryOp>(&mut self, op: O, layout: &Layout, s: Scalar);

    // --- comparisons and selection
    /// `a (cmp) b` broadcast to `shape`, as bools.
    fn compare<C: CmpOp>(
        &self,
        op: C,
        layout: &Layout,
        rhs: &Self,
        rhs_layout: &Layout,
        shape: &Shape,
    ) -> Self;
    /// `cond ? a : b` with the three broadcast to `shape`; `self` is the bool condition.
    fn where_cond(
        &self,
        layout: &Layout,
        a: &Self,
        a_layout: &Layout,
        b: &Self,
        b_layout: &Layout,
        shape: &Shape,
    ) -> Self;

    // --- reductions
    /// Sums in PyTorch's cascade order (bools sum as int64).
    fn sum(&self, layout: &Layout, plan: &ReducePlan) -> Self;
    /// The maximum (or minimum) of every reduced row and its index (int64).
    fn extreme(&self, layout: &Layout, plan: &ReducePlan, max: bool) -> (Self, Self);
    /// Variance (or its square root) divided by `N - correction`, accumulated in float64.
    fn var(&self, layout: &Layout, plan: &ReducePlan, correction: f64, take_sqrt: bool) -> Self;
    /// `log(sum(exp(x)))` of every reduced row, shifted by its maximum.
    fn logsumexp(&self, layout: &Layout, plan: &ReducePlan) -> Self;
    /// Softmax or log-softmax along the last dim of a view (row-major result); with `safe`
    /// (softmax only, ATen's `_safe_softmax`), rows that are all `-inf` give zeros.
    fn softmax_last(&self, layout: &Layout, log: bool, safe: bool) -> Self;
    /// `_softmax_backward_data` along the last dim: `(grad - Σ grad·y) · y` per row, for the
    /// gradient `self` and the softmax output `y` of the same shape (row-major result).
    fn softmax_backward_last(&self, layout: &Layout, y: &Self, y_layout: &Layout) -> Self;

    // --- cumulative
    /// Running sums (or products, `prod`) along the last dim of a view (row-major result), as
    /// ATen's `cpu_cum_base_kernel`: each row left to right in the accumulate type (float64 for
    /// both float types, int64 for int64), each partial result rounded to the element type.
    fn cumulative_last(&self, layout: &Layout, prod: bool) -> Self;

    /// Sorts every last-dim row (NaN greater than every number, ties in their order): the
    /// values and their int64 positions in the row (`torch.sort(x, -1, descending, stable=True)`).
    fn sort_last(&self, layout: &Layout, descending: bool) -> (Self, Self);

    /// The running `logsumexp` of every last-dim row of a float view, in float64 from `-inf`
    /// (ATen's `logcumsumexp_cpu_kernel`).
    fn logcumsumexp_last(&self, layout: &Layout) -> Self;

    // --- normalization
    /// Layer norm over the last `n` elements of each row of a view (`n > 0`): the row-major
    /// output and each row's mean and `1 / sqrt(var + eps)`, with the optional weight and bias
    /// (`n` elements each).
    fn layer_norm(
        &self,
        layout: &Layout,
        weight: Option<(&Self, &Layout)>,
        bias: Option<(&Self, &Layout)>,
        n: usize,
        eps: f64,
    ) -> (Self, Self, Self);
    /// The gradients of [`layer_norm`](Self::layer_norm) for the output gradient `self`:
    /// (input, weight, bias), each computed when `needs` says so.
    fn layer_norm_backward(
        &self,
        layout: &Layout,
        args: LayerNormBackwardArgs<'_, Self>,
    ) -> [Option<Self>; 3];
    /// `nll_loss`'s reduction of a (rows, classes) input (ATen's `nll_loss_out_frame`): the sum of
    /// the negated target values (times their class weights) in ATen's cascade order, and the
    /// total weight; both 0-dim. Targets are checked already.
    fn nll_loss(
        &self,
        layout: &Layout,
        target: &Self,
        target_layout: &Layout,
        weight: Option<(&Self, &Layout)>,
        ignore_index: i64,
    ) -> (Self, Self);

    /// `mse_loss` of two float views of one shape and dtype (ATen's `mse_stub`, then `sum_out`
    /// or `mean_out` of the squares): `(x - y)²` row-major for [`MseReduce::None`], else one
    /// value.
    fn mse_loss(
        &self,
        layout: &Layout,
        target: &Self,
        target_layout: &Layout,
        reduce: MseReduce,
    ) -> Self;
    /// `mse_loss_backward` for the loss's gradient `self` (one value, or of the input's shape):
    /// `norm * (input - target) * grad` over the input's shape (ATen's
    /// `mse_backward_cpu_kernel`); all three of one float dtype.
    fn mse_loss_backward(
        &self,
        layout: &Layout,
        input: (&Self, &Layout),
        target: (&Self, &Layout),
        norm: f64,
    ) -> Self;

    // --- matrix products
    /// `(..., m, k) · (..., k, n)` with identical batch dims; with `init` (of the output's
    /// shape), the product is added to it, as BLAS's `beta = 1`.
    fn matmul(
        &self,
        layout: &Layout,
        rhs: &Self,
        rhs_layout: &Layout,
        init: Option<(&Self, &Layout)>,
    ) -> Self;

    // --- convolution family (im2col / col2im)
    /// im2col: the windows of a (batch, channels, h, w) view as a buffer of
    /// `rows * batch * blocks` elements laid out `[row][image][block]` (row-major over
    /// (channels, kh, kw); blocks row-major over the output positions); zeros where a window
    /// reaches into the padding. The geometry's blocks are non-empty.
    fn im2col(&self, layout: &Layout, geom: &Im2colGeometry) -> Self;
    /// col2im: the transpose of `im2col`, a row-major (batch, channels, h, w) image summing
    /// every window element of `self`, a view of shape (batch, rows, blocks), where it came from.
    fn col2im(&self, layout: &Layout, geom: &Im2colGeometry) -> Self;

    // --- indexing (indices are int64 and already checked against the dim's size)
    /// The slices at `index` (1-D) along `dim`.
    fn index_select(
        &self,
        layout: &Layout,
        dim: usize,
        index: &Self,
        index_layout: &Layout,
    ) -> Self;
    /// `out[...i...] = self[...index[...i...]...]` along `dim`, shaped like the index.
    fn gather(&self, layout: &Layout, dim: usize, index: &Self, index_layout: &Layout) -> Self;
    /// Writes (or adds) `src` at `index` along `dim`, in place.
    fn scatter_inplace(
        &mut self,
        layout: &Layout,
        dim: usize,
        index: &Self,
        index_layout: &Layout,
        src: &Self,
        src_layout: &Layout,
        add: bool,
    );
    /// Adds the slices of `src` at positions `index` (1-D) along `dim`, in place.
    fn index_add_inplace(
        &mut self,
        layout: &Layout,
        dim: usize,
        index: &Self,
        index_layout: &Layout,
        src: &Self,
        src_layout: &Layout,
    );

    // --- random fill (PyTorch's CPU generator and distributions)
    /// Uniform samples in `[from, to)`, in place.
    fn uniform_inplace(&mut self, layout: &Layout, rng: &mut GeneratorState, from: f64, to: f64);
    /// Normal samples, in place.
    fn normal_inplace(&mut self, layout: &Layout, rng: &mut GeneratorState, mean: f64, std: f64);
    /// 0/1 samples with the probabilities in this view.
    fn bernoulli(&self, layout: &Layout, rng: &mut GeneratorState) -> Self;
    /// 0/1 samples that are 1 with probability `p`, in place (one 53-bit uniform per element).
    fn bernoulli_scalar_inplace(&mut self, layout: &Layout, rng: &mut GeneratorState, p: f64);

    // --- fused optimizer updates (contiguous operands of the destination's shape and dtype)
    /// `y = fma(alpha, x, y)`.
    fn axpy_inplace(&mut self, layout: &Layout, x: &Self, x_layout: &Layout, alpha: f64);
    /// `y += value * a * b`.
    fn addcmul_inplace(
        &mut self,
        layout: &Layout,
        a: (&Self, &Layout),
        b: (&Self, &Layout),
        value: f64,
    );
    /// `y += value * a / b`.
    fn addcdiv_inplace(
        &mut self,
        layout: &Layout,
        a: (&Self, &Layout),
        b: (&Self, &Layout),
        value: f64,
    );
    /// `y = lerp(y, end, weight)`.
    fn lerp_inplace(&mut self, layout: &Layout, end: &Self, end_layout: &Layout, weight: f64);
    /// One Adam/AdamW step over one parameter in a single pass.
    fn adam_step(buffers: AdamBuffers<'_, Self>, scalars: &AdamScalars);

    // ===== pooling family (windows over the last two dims; every leading dim is a plane;
    // results are contiguous, planes × output height × output width) =====
    /// Max pooling: each window's maximum (a NaN wins, the last one) and its position flattened
    /// over the input plane (int64), as ATen's `cpu_max_pool`.
    fn max_pool2d(&self, layout: &Layout, windows: &PoolWindows) -> (Self, Self);
    /// Adaptive max pooling to `output` (ATen's `start_index`/`end_index` windows), with
    /// positions as [`BackendStorage::max_pool2d`]'s.
    fn adaptive_max_pool2d(&self, layout: &Layout, output: [usize; 2]) -> (Self, Self);
    /// The input gradient of a max pooling: this gradient (planes × outputs) added into zeros of
    /// `planes × plane_size` at `indices` (of the gradient's shape).
    fn max_pool2d_backward(
        &self,
        layout: &Layout,
        indices: &Self,
        indices_layout: &Layout,
        plane_size: usize,
    ) -> Self;
    /// Average pooling (ATen's `cpu_avg_pool`): each window's sum over the input, divided as
    /// `divisor` says.
    fn avg_pool2d(&self, layout: &Layout, windows: &PoolWindows, divisor: AvgDivisor) -> Self;
    /// The input gradient of an average pooling: this gradient (planes × outputs) spread over
    /// each window (planes × input height × input width).
    fn avg_pool2d_backward(
        &self,
        layout: &Layout,
        windows: &PoolWindows,
        divisor: AvgDivisor,
    ) -> Self;
    /// Adaptive average pooling to `output`.
    fn adaptive_avg_pool2d(&self, layout: &Layout, output: [usize; 2]) -> Self;
    /// The input gradient of an adaptive average pooling from an input of `input` (height, width).
    fn adaptive_avg_pool2d_backward(&self, layout: &Layout, input: [usize; 2]) -> Self;
    // ===== end of the pooling family =====

    // --- linear algebra (`torch.linalg`)
    /// `op` on each matrix of a batch of views `[..., m, n]` (for `Solve`, `rhs` holds the
    /// right-hand sides `[..., n, k]` with the same batch): row-major outputs (`Inv`,
    /// `Cholesky`: `[..., n, n]`; `Solve`: `[..., n, k]`; `Det`: one per matrix; `Qr`: Q
    /// `[..., m, min(m, n)]` then R `[..., min(m, n), n]`; `Eigh`: eigenvalues `[..., n]`
    /// ascending then eigenvectors as columns `[..., n, n]`) and LAPACK's `info` per matrix.
    fn linalg(
        &self,
        layout: &Layout,
        op: LinalgOp,
        rhs: Option<(&Self, &Layout)>,
    ) -> (Vec<Self>, Vec<i64>);
}

/// A `torch.linalg` kernel run by [`BackendStorage::linalg`] on each matrix of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LinalgOp {
    /// The inverse (LU with partial pivoting); `info`: the first zero pivot.
    Inv,
    /// `A X = B`; `info` as `Inv`.
    Solve,
    /// The determinant.
    Det,
    /// The lower Cholesky factor; `info`: the first leading minor not positive-definite.
    Cholesky,
    /// The reduced Householder QR.
    Qr,
    /// Eigenvalues and eigenvectors of the symmetric matrix of the lower triangle.
    Eigh,
}
