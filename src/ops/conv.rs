//! Convolutions as GEMMs over im2col columns: forward, both backward passes, transposed
//! convolution, unfold and fold.
//!
//! Two primitive ops touch the backend: `im2col` (`F.unfold`, grad_fn `Im2ColBackward0`) and
//! `col2im` (`F.fold`, `Col2ImBackward0`), each the other's backward, so every order of
//! derivative is available. A convolution is `im2col` and one batched product per group over the
//! whole batch (`weight (groups, out/g, in/g·kh·kw) · columns (groups, in/g·kh·kw, N·L)`), plus
//! the bias; its gradients are the products' own (`BmmBackward0`): the weight's gradient is one
//! GEMM contracting over every image and position, the input's a GEMM then `col2im`. A
//! transposed convolution is the same two steps in the other order (product, then `col2im`).
//!
//! The columns are laid out `[row][image][block]` by the backend (see `kernels/cpu/conv.rs`),
//! which is what makes the per-group products single GEMMs with no copy of the columns.

use crate::autograd::{backward_fn, record};
use crate::backend::Im2colGeometry;
use crate::shape::{Layout, Shape};
use crate::tensor::Tensor;

backward_fn! {
    /// derivatives.yaml: `self: col2im(grad, input.sizes()[-2:], kernel_size, dilation, padding, stride)`.
    struct Im2ColBackward0 { geom: Im2colGeometry }
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![needs[0].then(|| grad.col2im_op(&self.geom))]
    }
}

backward_fn! {
    /// derivatives.yaml: `self: im2col(grad, kernel_size, dilation, padding, stride)`.
    struct Col2ImBackward0 { geom: Im2colGeometry }
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![needs[0].then(|| grad.im2col_op(&self.geom))]
    }
}

/// The hyper-parameters of a 2-D convolution (a 1-D one has height 1), checked already.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConvSpec {
    /// Step between windows.
    pub stride: [usize; 2],
    /// Implicit zeros before each spatial dim.
    pub pad_before: [usize; 2],
    /// Implicit zeros after each spatial dim (differs from `pad_before` only for 'same').
    pub pad_after: [usize; 2],
    /// Spacing between kernel elements.
    pub dilation: [usize; 2],
    /// Blocked connections from input channels to output channels.
    pub groups: usize,
}

impl ConvSpec {
    /// The window geometry over `(batch, channels, h, w)` images with a `kernel`.
    pub(crate) fn geometry(
        &self,
        batch: usize,
        channels: usize,
        input: [usize; 2],
        kernel: [usize; 2],
    ) -> Im2colGeometry {
        Im2colGeometry {
            batch,
            channels,
            input,
            kernel,
            dilation: self.dilation,
            pad_before: self.pad_before,
            pad_after: self.pad_after,
            stride: self.stride,
        }
    }
}

impl Tensor {
    /// im2col of a (N, C, H, W) tensor: (N, C·kh·kw, L), recorded as `Im2ColBackward0`. The
    /// result is a permuted view of the backend's `[row][image][block]` buffer (strides
    /// (L, N·L, 1)); `F.unfold` makes it contiguous.
    #[track_caller]
    pub(crate) fn im2col_op(&self, geom: &Im2colGeometry) -> Tensor {
        let [oh, ow] = geom
            .blocks()
            .expect("im2col_op: the caller checks the blocks");
        let (rows, n, l) = (geom.rows(), geom.batch, oh * ow);
        let storage = self.storage().im2col(self.layout(), geom);
        let buffer = Tensor::from_storage(storage, Shape::new(&[rows, n, l]));
        let out = buffer.alias_with_layout(Layout {
            shape: Shape::new(&[n, rows, l]),
            strides: [l, n * l, 1].into_iter().collect(),
            offset: 0,
        });
        record(out, &[self], |_| Im2ColBackward0 { geom: *geom })
    }

    /// col2im of a (N, C·kh·kw, L) tensor of any strides: the (N, C, H, W) image summing the
    /// window elements, recorded as `Col2ImBackward0`.
    #[track_caller]
    pub(crate) fn col2im_op(&self, geom: &Im2colGeometry) -> Tensor {
        let storage = self.storage().col2im(self.layout(), geom);
        let out = Tensor::from_storage(
            storage,
            Shape::new(&[geom.batch, geom.channels, geom.input[0], geom.input[1]]),
        );
        record(out, &[self], |_| Col2ImBackward0 { geom: *geom })
    }
}

/// A convolution of checked operands: `input` (N, C, H, W), `weight` (O, C/g, kh, kw), `bias`
/// (O); returns (N, O, H', W'). One `bmm` over the groups, each product spanning the whole batch.
#[track_caller]
pub(crate) fn conv2d_gemm(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    spec: &ConvSpec,
) -> Tensor {
    let (n, c, h, w) = dims4(input);
    let (o, cg, kh, kw) = dims4(weight);
    let g = spec.groups;
    let geom = spec.geometry(n, c, [h, w], [kh, kw]);
    let [oh, ow] = geom.blocks().expect("conv2d_gemm: checked by the caller");
    let kg = cg * kh * kw;
    // (N, K, L) over a [K][N][L] buffer: transposed back it is contiguous, so the group split
    // is a view.
    let cols = input
        .im2col_op(&geom)
        .transpose(0, 1)
        .reshape([g, kg, n * oh * ow]);
    let out = weight
        .reshape([g, o / g, kg])
        .bmm(&cols)
        .reshape([o, n, oh, ow])
        .permute([1, 0, 2, 3]);
    // The bias add writes the row-major (N, O, H', W') result; without it, a copy does.
    match bias {
        Some(b) => out.add(b.reshape([1, o, 1, 1])),
        None => out.contiguous(),
    }
}

/// A transposed convolution of checked operands: `input` (N, Cin, H, W), `weight`
/// (Cin, Cout/g, kh, kw), `bias` (Cout), onto an output of `output` (H', W'); the product of
/// the weight with the input gives the columns, which `col2im` sums into the output.
#[track_caller]
pub(crate) fn conv_transpose2d_gemm(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    spec: &ConvSpec,
    output: [usize; 2],
) -> Tensor {
    let (n, cin, h, w) = dims4(input);
    let (_, coutg, kh, kw) = dims4(weight);
    let g = spec.groups;
    let cout = coutg * g;
    let kg = coutg * kh * kw;
    // Output padding beyond the padding: those rows (columns) receive no window element, so the
    // windows are summed onto the smaller image and zeros appended (cut below).
    let mut spec = *spec;
    let mut image = output;
    let mut extra = [0; 2];
    let (sizes, kernel) = ([h, w], [kh, kw]);
    for d in 0..2 {
        let span = (sizes[d] - 1) * spec.stride[d] + spec.dilation[d] * (kernel[d] - 1) + 1;
        // output = span - 2 * pad + output_padding
        let covered = span - spec.pad_before[d];
        if covered >= output[d] {
            spec.pad_after[d] = covered - output[d];
        } else {
            spec.pad_after[d] = 0;
            extra[d] = output[d] - covered;
            image[d] = covered;
        }
    }
    let geom = spec.geometry(n, cout, image, [kh, kw]);
    debug_assert_eq!(geom.blocks(), Some([h, w]));
    let x = input.transpose(0, 1).reshape([g, cin / g, n * h * w]);
    let cols = weight
        .reshape([g, cin / g, kg])
        .transpose(1, 2)
        .bmm(&x)
        .reshape([g * kg, n, h * w])
        .transpose(0, 1);
    let mut out = cols.col2im_op(&geom);
    for (d, &e) in extra.iter().enumerate() {
        if e > 0 {
            let mut zdims = out.dims().to_vec();
            zdims[2 + d] = e;
            let zeros = Tensor::zeros_dtype(zdims, out.dtype());
            out = Tensor::cat(&[&out, &zeros], 2 + d as i64);
        }
    }
    match bias {
        Some(b) => out.add(b.reshape([1, cout, 1, 1])),
        None => out,
    }
}

/// The four sizes of a 4-D tensor.
#[track_caller]
fn dims4(t: &Tensor) -> (usize, usize, usize, usize) {
    let d = t.dims();
    (d[0], d[1], d[2], d[3])
}
