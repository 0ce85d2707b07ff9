//! Convolutions on the GEMM: `F.conv1d`, `F.conv2d`, `F.conv_transpose1d`, `F.conv_transpose2d`,
//! `F.unfold`, `F.fold`, with ATen's argument checks and messages (`check_shape_forward` in
//! `aten/src/ATen/native/Convolution.cpp`, `im2col_shape_check`/`col2im_shape_check` in
//! `aten/src/ATen/native/im2col_shape_check.h`). The arithmetic lives in `ops/conv.rs`.

use crate::DType;
use crate::ops::conv::{ConvSpec, conv_transpose2d_gemm, conv2d_gemm};
use crate::shape::IntList;
use crate::tensor::Tensor;

/// The `padding` argument of a convolution: a number or one per spatial dim, or `"valid"` (no
/// padding) or `"same"` (the output keeps the input's size; stride 1 only).
///
/// ```
/// use flambeau::nn::functional::Padding;
/// assert_eq!(Padding::from(1), Padding::Explicit(vec![1]));
/// assert_eq!(Padding::from([1, 2]), Padding::Explicit(vec![1, 2]));
/// assert_eq!(Padding::from("same"), Padding::Same);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Padding {
    /// `padding='valid'`: no padding.
    Valid,
    /// `padding='same'`: as much as keeps the size, one more after than before for even
    /// effective kernels.
    Same,
    /// Zeros on both sides of each spatial dim (one value for all dims, or one per dim).
    Explicit(Vec<i64>),
}

impl<T: IntList> From<T> for Padding {
    fn from(v: T) -> Padding {
        Padding::Explicit(v.to_int_list().to_vec())
    }
}

impl From<&str> for Padding {
    /// `"valid"` or `"same"`; anything else panics with PyTorch's message.
    #[track_caller]
    fn from(s: &str) -> Padding {
        match s {
            "valid" => Padding::Valid,
            "same" => Padding::Same,
            other => panic!("Invalid padding string: '{other}'"),
        }
    }
}

/// `expand_param_if_needed`: one value for every dim, or exactly one per dim.
#[track_caller]
fn expand(name: &str, v: &[i64], dims: usize) -> Vec<i64> {
    if v.len() == 1 {
        vec![v[0]; dims]
    } else if v.len() != dims {
        panic!(
            "expected {name} to be a single integer value or a list of {dims} values to match the convolution dimensions, but got {name}={v:?}"
        )
    } else {
        v.to_vec()
    }
}

/// The values as a 2-D parameter: a 1-D convolution is a 2-D one of height 1 (`fill` there).
fn lift(v: &[i64], fill: usize) -> [usize; 2] {
    match v {
        [a] => [fill, *a as usize],
        [a, b] => [*a as usize, *b as usize],
        _ => unreachable!("1-D and 2-D convolutions only"),
    }
}

/// Adds the batch dim of an unbatched input, with the message of `F.{name}` for other ranks.
#[track_caller]
fn batched(input: &Tensor, nd: usize, name: &str) -> (Tensor, bool) {
    if input.ndim() == nd + 2 {
        (input.clone(), true)
    } else if input.ndim() == nd + 1 {
        (input.unsqueeze(0), false)
    } else {
        panic!(
            "Expected {}D (unbatched) or {}D (batched) input to {name}, but got input of size: {:?}",
            nd + 1,
            nd + 2,
            input.dims()
        )
    }
}

/// The shared argument checks of a convolution (`check_shape_forward`), in ATen's order.
#[track_caller]
fn check_params(stride: &[i64], padding: &[i64], dilation: &[i64], groups: i64) {
    if padding.iter().any(|&p| p < 0) {
        panic!("negative padding is not supported");
    }
    if stride.iter().any(|&s| s <= 0) {
        panic!("non-positive stride is not supported");
    }
    if dilation.iter().any(|&d| d <= 0) {
        panic!("dilation should be greater than zero, but got {dilation:?}");
    }
    if groups <= 0 {
        panic!("non-positive groups is not supported");
    }
}

/// `check_input_same_type_as_parameters`.
#[track_caller]
fn check_dtypes(input: &Tensor, weight: &Tensor, bias: Option<&Tensor>) {
    if input.dtype() != weight.dtype() {
        panic!(
            "expected scalar type {} but found {}",
            input.dtype().scalar_name(),
            weight.dtype().scalar_name()
        );
    }
    if let Some(b) = bias
        && b.dtype() != input.dtype()
    {
        panic!(
            "Input type ({}) and bias type ({}) should be the same",
            c_name(input.dtype()),
            c_name(b.dtype())
        );
    }
}

/// The C type name ATen prints in its type-mismatch messages.
fn c_name(d: DType) -> &'static str {
    match d {
        DType::F32 => "float",
        DType::F64 => "double",
        DType::I64 => "long int",
        _ => "bool",
    }
}

/// `F.conv1d`/`F.conv2d` for `nd` spatial dims.
#[allow(clippy::too_many_arguments)]
#[track_caller]
fn conv_nd(
    name: &str,
    nd: usize,
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &Padding,
    dilation: &[i64],
    groups: i64,
) -> Tensor {
    let (x, is_batched) = batched(input, nd, name);
    if weight.ndim() < 3 {
        panic!("weight should have at least three dimensions");
    }
    let k = weight.ndim() - 2;
    let stride = expand("stride", &expand("stride", stride, nd), k);
    let dilation = expand("dilation", &expand("dilation", dilation, nd), k);
    let ks: Vec<i64> = weight.dims()[2..].iter().map(|&d| d as i64).collect();
    let (before, after) = match padding {
        Padding::Explicit(p) => {
            let p = expand("padding", &expand("padding", p, nd), k);
            (p.clone(), p)
        }
        Padding::Valid => (vec![0; k], vec![0; k]),
        Padding::Same => {
            if stride.iter().any(|&s| s != 1) {
                panic!("padding='same' is not supported for strided convolutions");
            }
            // ATen's `_convolution_mode`: the total is split evenly, the odd one after.
            let total: Vec<i64> = (0..k).map(|i| dilation[i] * (ks[i] - 1)).collect();
            let b: Vec<i64> = total.iter().map(|t| t / 2).collect();
            let a = total.iter().zip(&b).map(|(t, b)| t - b).collect();
            (b, a)
        }
    };
    check_params(&stride, &before, &dilation, groups);
    let w = weight.dims();
    let g = groups as usize;
    if w[0] < g {
        panic!(
            "Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got weight of size {w:?} instead"
        );
    }
    if !w[0].is_multiple_of(g) {
        panic!(
            "Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of size [{w:?}] instead"
        );
    }
    if x.dims()[1] != w[1] * g {
        panic!(
            "Given groups={groups}, weight of size {w:?}, expected input{:?} to have {} channels, but got {} channels instead",
            x.dims(),
            w[1] * g,
            x.dims()[1]
        );
    }
    if let Some(b) = bias
        && (b.ndim() != 1 || b.dims()[0] != w[0])
    {
        panic!(
            "Given weight of size {w:?}, expected bias to be 1-dimensional with {} elements, but got bias of size {:?} instead",
            w[0],
            b.dims()
        );
    }
    let padded: Vec<i64> = (0..k)
        .map(|i| x.dims()[2 + i] as i64 + before[i] + after[i])
        .collect();
    let kernel: Vec<i64> = (0..k).map(|i| dilation[i] * (ks[i] - 1) + 1).collect();
    if padded.iter().zip(&kernel).any(|(p, k)| p < k) {
        let join = |v: &[i64]| {
            v.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(" x ")
        };
        panic!(
            "Calculated padded input size per channel: ({}). Kernel size: ({}). Kernel size can't be greater than actual input size",
            join(&padded),
            join(&kernel)
        );
    }
    check_dtypes(&x, weight, bias);
    let spec = ConvSpec {
        stride: lift(&stride, 1),
        pad_before: lift(&before, 0),
        pad_after: lift(&after, 0),
        dilation: lift(&dilation, 1),
        groups: g,
    };
    let out = if nd == 1 {
        conv2d_gemm(&x.unsqueeze(2), &weight.unsqueeze(2), bias, &spec).squeeze_dim(2)
    } else {
        conv2d_gemm(&x, weight, bias, &spec)
    };
    if is_batched { out } else { out.squeeze_dim(0) }
}

/// `F.conv_transpose1d`/`F.conv_transpose2d` for `nd` spatial dims.
#[allow(clippy::too_many_arguments)]
#[track_caller]
fn conv_transpose_nd(
    name: &str,
    nd: usize,
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: &[i64],
    padding: &[i64],
    output_padding: &[i64],
    groups: i64,
    dilation: &[i64],
) -> Tensor {
    let (x, is_batched) = batched(input, nd, name);
    if weight.ndim() < 3 {
        panic!("weight should have at least three dimensions");
    }
    let k = weight.ndim() - 2;
    let stride = expand("stride", &expand("stride", stride, nd), k);
    let padding = expand("padding", &expand("padding", padding, nd), k);
    let output_padding = expand(
        "output_padding",
        &expand("output_padding", output_padding, nd),
        k,
    );
    let dilation = expand("dilation", &expand("dilation", dilation, nd), k);
    if output_padding.iter().any(|&p| p < 0) {
        panic!("negative output_padding is not supported");
    }
    check_params(&stride, &padding, &dilation, groups);
    let w = weight.dims();
    let g = groups as usize;
    if w[0] < g {
        panic!(
            "Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got weight of size {w:?} instead"
        );
    }
    if !w[0].is_multiple_of(g) {
        panic!(
            "Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of size [{w:?}] instead"
        );
    }
    if x.dims()[1] != w[0] {
        panic!(
            "Given transposed=1, weight of size {w:?}, expected input{:?} to have {} channels, but got {} channels instead",
            x.dims(),
            w[0],
            x.dims()[1]
        );
    }
    if let Some(b) = bias
        && (b.ndim() != 1 || b.dims()[0] != w[1] * g)
    {
        panic!(
            "Given transposed=1, weight of size {w:?}, expected bias to be 1-dimensional with {} elements, but got bias of size {:?} instead",
            w[1] * g,
            b.dims()
        );
    }
    // `slow_conv_transpose2d_shape_check`, on the 2-D lift (a 1-D call reports height 1).
    let (s2, d2, op2) = (
        lift(&stride, 1),
        lift(&dilation, 1),
        lift(&output_padding, 0),
    );
    if (0..2).any(|i| op2[i] >= s2[i] && op2[i] >= d2[i]) {
        panic!(
            "output padding must be smaller than either stride or dilation, but got output_padding_height: {} output_padding_width: {} stride_height: {} stride_width: {} dilation_height: {} dilation_width: {}",
            op2[0], op2[1], s2[0], s2[1], d2[0], d2[1]
        );
    }
    let sizes: Vec<i64> = x.dims()[2..].iter().map(|&d| d as i64).collect();
    let out: Vec<i64> = (0..k)
        .map(|i| {
            (sizes[i] - 1) * stride[i] - 2 * padding[i]
                + dilation[i] * (weight.dims()[2 + i] as i64 - 1)
                + output_padding[i]
                + 1
        })
        .collect();
    if out.iter().any(|&o| o < 1) {
        let join = |v: &[i64]| {
            v.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(" x ")
        };
        panic!(
            "Given input size per channel: ({}). Calculated output size per channel: ({}). Output size is too small",
            join(&sizes),
            join(&out)
        );
    }
    check_dtypes(&x, weight, bias);
    let spec = ConvSpec {
        stride: s2,
        pad_before: lift(&padding, 0),
        pad_after: lift(&padding, 0),
        dilation: d2,
        groups: g,
    };
    let out2 = lift(&out, 1);
    let y = if nd == 1 {
        conv_transpose2d_gemm(&x.unsqueeze(2), &weight.unsqueeze(2), bias, &spec, out2)
            .squeeze_dim(2)
    } else {
        conv_transpose2d_gemm(&x, weight, bias, &spec, out2)
    };
    if is_batched { y } else { y.squeeze_dim(0) }
}

/// A 1-D convolution over (N, C_in, L) or unbatched (C_in, L) input with a (C_out, C_in/groups,
/// k) weight (`F.conv1d(input, weight, bias, stride, padding, dilation, groups)`).
///
/// ```
/// use flambeau::{nn::functional as F, Tensor};
/// let x = Tensor::ones([1, 2, 5]);
/// let w = Tensor::ones([3, 2, 2]);
/// let y = F::conv1d(&x, &w, None, 1, "same", 1, 1);
/// assert_eq!(y.dims(), &[1, 3, 5]);
/// assert_eq!(y.to_vec::<f32>()[..5], [4.0, 4.0, 4.0, 4.0, 2.0]);
/// ```
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn conv1d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: impl IntList,
    padding: impl Into<Padding>,
    dilation: impl IntList,
    groups: i64,
) -> Tensor {
    conv_nd(
        "conv1d",
        1,
        input,
        weight,
        bias,
        &stride.to_int_list(),
        &padding.into(),
        &dilation.to_int_list(),
        groups,
    )
}

/// A 2-D convolution over (N, C_in, H, W) or unbatched (C_in, H, W) input with a (C_out,
/// C_in/groups, kh, kw) weight (`F.conv2d(input, weight, bias, stride, padding, dilation,
/// groups)`): im2col, then one GEMM per group over the whole batch.
///
/// ```
/// use flambeau::{nn::functional as F, Tensor};
/// let x = Tensor::ones([2, 3, 7, 7]);
/// let w = Tensor::ones([4, 3, 3, 3]);
/// let y = F::conv2d(&x, &w, None, 2, 1, 1, 1);
/// assert_eq!(y.dims(), &[2, 4, 4, 4]);
/// assert_eq!(y.to_vec::<f32>()[..2], [12.0, 18.0]);
/// ```
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn conv2d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: impl IntList,
    padding: impl Into<Padding>,
    dilation: impl IntList,
    groups: i64,
) -> Tensor {
    conv_nd(
        "conv2d",
        2,
        input,
        weight,
        bias,
        &stride.to_int_list(),
        &padding.into(),
        &dilation.to_int_list(),
        groups,
    )
}

/// A 1-D transposed convolution ("deconvolution") with a (C_in, C_out/groups, k) weight
/// (`F.conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups,
/// dilation)`): the gradient of `conv1d` with respect to its input.
///
/// ```
/// use flambeau::{nn::functional as F, Tensor};
/// let x = Tensor::ones([1, 2, 3]);
/// let w = Tensor::ones([2, 1, 2]);
/// let y = F::conv_transpose1d(&x, &w, None, 2, 0, 1, 1, 1);
/// assert_eq!(y.to_vec::<f32>(), vec![2.0; 6].into_iter().chain([0.0]).collect::<Vec<_>>());
/// ```
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn conv_transpose1d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: impl IntList,
    padding: impl IntList,
    output_padding: impl IntList,
    groups: i64,
    dilation: impl IntList,
) -> Tensor {
    conv_transpose_nd(
        "conv_transpose1d",
        1,
        input,
        weight,
        bias,
        &stride.to_int_list(),
        &padding.to_int_list(),
        &output_padding.to_int_list(),
        groups,
        &dilation.to_int_list(),
    )
}

/// A 2-D transposed convolution with a (C_in, C_out/groups, kh, kw) weight
/// (`F.conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups,
/// dilation)`): one GEMM per group over the whole batch, then col2im.
///
/// ```
/// use flambeau::{nn::functional as F, Tensor};
/// let x = Tensor::ones([1, 2, 4, 4]);
/// let w = Tensor::ones([2, 3, 3, 3]);
/// let y = F::conv_transpose2d(&x, &w, None, 2, 1, 1, 1, 1);
/// assert_eq!(y.dims(), &[1, 3, 8, 8]);
/// ```
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn conv_transpose2d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: impl IntList,
    padding: impl IntList,
    output_padding: impl IntList,
    groups: i64,
    dilation: impl IntList,
) -> Tensor {
    conv_transpose_nd(
        "conv_transpose2d",
        2,
        input,
        weight,
        bias,
        &stride.to_int_list(),
        &padding.to_int_list(),
        &output_padding.to_int_list(),
        groups,
        &dilation.to_int_list(),
    )
}

/// A pair from one value or two (Python's `_pair`).
#[track_caller]
fn pair(name: &str, v: &[i64]) -> [i64; 2] {
    match v {
        [a] => [*a, *a],
        [a, b] => [*a, *b],
        _ => panic!("{name} must be an int or a tuple of two ints, but got {v:?}"),
    }
}

/// `im2col`/`col2im`'s checks of the window arguments.
#[track_caller]
fn check_window(kernel: [i64; 2], dilation: [i64; 2], padding: [i64; 2], stride: [i64; 2]) {
    if kernel.iter().any(|&k| k <= 0) {
        panic!(
            "kernel size should be greater than zero, but got kernel_height: {} kernel_width: {}",
            kernel[0], kernel[1]
        );
    }
    if dilation.iter().any(|&d| d <= 0) {
        panic!(
            "dilation should be greater than zero, but got dilation_height: {} dilation_width: {}",
            dilation[0], dilation[1]
        );
    }
    if padding.iter().any(|&p| p < 0) {
        panic!(
            "padding should be non-negative, but got pad_height: {} pad_width: {}",
            padding[0], padding[1]
        );
    }
    if stride.iter().any(|&s| s <= 0) {
        panic!(
            "stride should be greater than zero, but got stride_height: {} stride_width: {}",
            stride[0], stride[1]
        );
    }
}

/// The number of windows along each dim, as ATen computes it (possibly non-positive).
fn block_counts(size: [i64; 2], k: [i64; 2], d: [i64; 2], p: [i64; 2], s: [i64; 2]) -> [i64; 2] {
    [0, 1].map(|i| (size[i] + 2 * p[i] - (d[i] * (k[i] - 1) + 1)) / s[i] + 1)
}

/// A window spec for the kernels: usize arrays of checked values.
fn window_spec(d: [i64; 2], p: [i64; 2], s: [i64; 2]) -> ConvSpec {
    let u = |v: [i64; 2]| v.map(|x| x as usize);
    ConvSpec {
        stride: u(s),
        pad_before: u(p),
        pad_after: u(p),
        dilation: u(d),
        groups: 1,
    }
}

/// Extracts sliding local blocks of a (N, C, H, W) or unbatched (C, H, W) input into columns
/// (N, C·kh·kw, L) (`F.unfold(input, kernel_size, dilation, padding, stride)`, im2col).
///
/// ```
/// use flambeau::{nn::functional as F, Tensor};
/// let x = Tensor::arange(0.0, 6.0, 1.0).reshape([1, 1, 2, 3]);
/// let cols = F::unfold(&x, 2, 1, 0, 1);
/// assert_eq!(cols.dims(), &[1, 4, 2]);
/// assert_eq!(cols.to_vec::<f32>(), vec![0.0, 1.0, 1.0, 2.0, 3.0, 4.0, 4.0, 5.0]);
/// ```
#[track_caller]
pub fn unfold(
    input: &Tensor,
    kernel_size: impl IntList,
    dilation: impl IntList,
    padding: impl IntList,
    stride: impl IntList,
) -> Tensor {
    let k = pair("kernel_size", &kernel_size.to_int_list());
    let d = pair("dilation", &dilation.to_int_list());
    let p = pair("padding", &padding.to_int_list());
    let s = pair("stride", &stride.to_int_list());
    check_window(k, d, p, s);
    let nd = input.ndim();
    let non_empty = input.dims()[1.min(nd)..].iter().all(|&x| x > 0);
    if !(nd == 3 || nd == 4) || !non_empty {
        panic!(
            "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got: {:?}",
            input.dims()
        );
    }
    let x = if nd == 3 {
        input.unsqueeze(0)
    } else {
        input.clone()
    };
    let size = [x.dims()[2] as i64, x.dims()[3] as i64];
    let blocks = block_counts(size, k, d, p, s);
    if blocks.iter().any(|&b| b < 1) {
        panic!(
            "Given input with spatial size ({}, {}), kernel_size=({}, {}), dilation=({}, {}), padding=({}, {}), calculated shape of the array of sliding blocks as ({}, {}), but its components must be at least one.",
            size[0], size[1], k[0], k[1], d[0], d[1], p[0], p[1], blocks[0], blocks[1]
        );
    }
    let geom = window_spec(d, p, s).geometry(
        x.dims()[0],
        x.dims()[1],
        [size[0] as usize, size[1] as usize],
        [k[0] as usize, k[1] as usize],
    );
    let cols = x.im2col_op(&geom).contiguous();
    if nd == 3 { cols.squeeze_dim(0) } else { cols }
}

/// Combines columns (N, C·kh·kw, L) or unbatched (C·kh·kw, L) into an image of `output_size`,
/// summing overlapping values (`F.fold(input, output_size, kernel_size, dilation, padding,
/// stride)`, col2im): the adjoint of [`unfold`].
///
/// ```
/// use flambeau::{nn::functional as F, Tensor};
/// let cols = Tensor::ones([1, 4, 2]);
/// let img = F::fold(&cols, [2, 3], 2, 1, 0, 1);
/// assert_eq!(img.to_vec::<f32>(), vec![1.0, 2.0, 1.0, 1.0, 2.0, 1.0]);
/// ```
#[track_caller]
pub fn fold(
    input: &Tensor,
    output_size: impl IntList,
    kernel_size: impl IntList,
    dilation: impl IntList,
    padding: impl IntList,
    stride: impl IntList,
) -> Tensor {
    let o = pair("output_size", &output_size.to_int_list());
    let k = pair("kernel_size", &kernel_size.to_int_list());
    let d = pair("dilation", &dilation.to_int_list());
    let p = pair("padding", &padding.to_int_list());
    let s = pair("stride", &stride.to_int_list());
    check_window(k, d, p, s);
    let nd = input.ndim();
    let non_empty = input.dims()[1.min(nd)..].iter().all(|&x| x > 0);
    if !(nd == 2 || nd == 3) || !non_empty {
        panic!(
            "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for input, but got: {:?}",
            input.dims()
        );
    }
    let x = if nd == 2 {
        input.unsqueeze(0)
    } else {
        input.clone()
    };
    let (rows, l) = (x.dims()[1] as i64, x.dims()[2] as i64);
    if rows % (k[0] * k[1]) != 0 {
        panic!(
            "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)={rows} and kernel_size=({}, {}).",
            k[0], k[1]
        );
    }
    // `col2im_shape_check`: the count of blocks first, then their shape.
    let blocks = block_counts(o, k, d, p, s);
    let args = format!(
        "Given output_size=({}, {}), kernel_size=({}, {}), dilation=({}, {}), padding=({}, {}), stride=({}, {})",
        o[0], o[1], k[0], k[1], d[0], d[1], p[0], p[1], s[0], s[1]
    );
    if blocks[0] * blocks[1] != l {
        panic!(
            "{args}, expected size of input's dimension 2 to match the calculated number of sliding blocks {} * {} = {}, but got input.size(2)={l}.",
            blocks[0],
            blocks[1],
            blocks[0] * blocks[1]
        );
    }
    if blocks.iter().any(|&b| b < 1) {
        panic!(
            "{args}, calculated shape of the array of sliding blocks as ({}, {}), but its components must be at least one.",
            blocks[0], blocks[1]
        );
    }
    let geom = window_spec(d, p, s).geometry(
        x.dims()[0],
        (rows / (k[0] * k[1])) as usize,
        [o[0] as usize, o[1] as usize],
        [k[0] as usize, k[1] as usize],
    );
    let img = x.col2im_op(&geom);
    if nd == 2 { img.squeeze_dim(0) } else { img }
}
