//! The pooling layers and the graph: node names as PyTorch's, the layers' reprs against
//! PyTorch's text and their behaviour, and PyTorch's error messages.

use super::common::panic_message;
use super::{F64, distinct, input};
use flambeau::nn::functional::{
    self as F, AvgPool1dOptions, AvgPool2dOptions, MaxPool1dOptions, MaxPool2dOptions,
};
use flambeau::nn::{self, Forward, Module};
use flambeau::{DType, Generator, Tensor};

fn node(t: &Tensor) -> &'static str {
    t.grad_fn().expect("recorded").name()
}

/// The graph PyTorch builds: 2-D nodes, `SqueezeBackward1` over them for 1-D poolings,
/// `MeanBackward1` for an adaptive average to 1×1, and the backward ops' own nodes.
#[test]
fn node_names_match_pytorch() {
    let g = Generator::new().manual_seed(3);
    let x4 = distinct(&g, &[2, 3, 6, 6]).requires_grad_(true);
    let x3 = distinct(&g, &[2, 3, 8]).requires_grad_(true);
    let cases: Vec<(Tensor, &Tensor, &str, &str)> = vec![
        (
            F::max_pool2d(&x4, 2),
            &x4,
            "MaxPool2DWithIndicesBackward0",
            "MaxPool2DWithIndicesBackwardBackward0",
        ),
        (
            F::avg_pool2d(&x4, 2),
            &x4,
            "AvgPool2DBackward0",
            "AvgPool2DBackwardBackward0",
        ),
        (
            F::adaptive_avg_pool2d(&x4, 3),
            &x4,
            "AdaptiveAvgPool2DBackward0",
            "AdaptiveAvgPool2DBackwardBackward0",
        ),
        (
            F::adaptive_max_pool2d(&x4, 3),
            &x4,
            "AdaptiveMaxPool2DBackward0",
            "AdaptiveMaxPool2DBackwardBackward0",
        ),
        (
            F::adaptive_avg_pool2d(&x4, 1),
            &x4,
            "MeanBackward1",
            "MeanBackward1",
        ),
    ];
    for (y, x, forward, backward) in cases {
        assert_eq!(node(&y), forward);
        let gx = flambeau::autograd::grad(&[&y.sum()], &[x], &[], true, true, false);
        let gx = gx[0].as_ref().unwrap();
        if forward != "MeanBackward1" {
            assert_eq!(node(gx), backward, "double backward of {forward}");
        }
    }
    let y = F::max_pool1d(&x3, 2);
    assert_eq!(node(&y), "SqueezeBackward1");
    assert_eq!(
        y.grad_fn().unwrap().next_functions(),
        [Some("MaxPool2DWithIndicesBackward0")]
    );
    // PyTorch differentiates `unsqueeze` with `squeeze` (SqueezeBackward1 over the backward
    // op's node); Flambeau's unsqueeze backward is a view, over the same backward node.
    let gx = flambeau::autograd::grad(&[&y.sum()], &[&x3], &[], true, true, false);
    let gx = gx[0].as_ref().unwrap();
    assert_eq!(
        gx.grad_fn().unwrap().next_functions(),
        [Some("MaxPool2DWithIndicesBackwardBackward0")]
    );
}

/// Asserts a layer's repr and that it holds no state.
fn assert_repr(m: impl Module, expected: &str) {
    assert_eq!(m.repr(), expected);
    assert!(m.state_dict().is_empty(), "{expected} has no state");
}

#[test]
fn reprs_match_pytorch() {
    assert_repr(
        nn::MaxPool2d::new(2),
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
    );
    assert_repr(
        nn::MaxPool2d::new((2, 3)),
        "MaxPool2d(kernel_size=(2, 3), stride=(2, 3), padding=0, dilation=1, ceil_mode=False)",
    );
    assert_repr(
        nn::MaxPool2d::with_options(MaxPool2dOptions::new(3).stride(2).padding(1)),
        "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)",
    );
    assert_repr(
        nn::MaxPool2d::with_options(
            MaxPool2dOptions::new(3)
                .stride(2)
                .padding(1)
                .dilation(2)
                .ceil_mode(true),
        )
        .return_indices(true),
        "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)",
    );
    assert_repr(
        nn::MaxPool2d::with_options(MaxPool2dOptions::new((3, 3)).stride((2, 1)).padding((1, 0))),
        "MaxPool2d(kernel_size=(3, 3), stride=(2, 1), padding=(1, 0), dilation=1, ceil_mode=False)",
    );
    assert_repr(
        nn::MaxPool1d::new(2),
        "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
    );
    assert_repr(
        nn::MaxPool1d::new((2,)),
        "MaxPool1d(kernel_size=(2,), stride=(2,), padding=0, dilation=1, ceil_mode=False)",
    );
    assert_repr(
        nn::MaxPool1d::with_options(
            MaxPool1dOptions::new(3)
                .stride(2)
                .padding(1)
                .dilation(2)
                .ceil_mode(true),
        ),
        "MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)",
    );
    assert_repr(
        nn::AvgPool2d::new(2),
        "AvgPool2d(kernel_size=2, stride=2, padding=0)",
    );
    assert_repr(
        nn::AvgPool2d::with_options(AvgPool2dOptions::new(3).stride(2).padding(1)),
        "AvgPool2d(kernel_size=3, stride=2, padding=1)",
    );
    assert_repr(
        nn::AvgPool2d::with_options(
            AvgPool2dOptions::new((3, 2))
                .ceil_mode(true)
                .count_include_pad(false)
                .divisor_override(Some(2)),
        ),
        "AvgPool2d(kernel_size=(3, 2), stride=(3, 2), padding=0)",
    );
    assert_repr(
        nn::AvgPool1d::new(2),
        "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))",
    );
    assert_repr(
        nn::AvgPool1d::with_options(
            AvgPool1dOptions::new(3)
                .stride(2)
                .padding(1)
                .ceil_mode(true)
                .count_include_pad(false),
        ),
        "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(1,))",
    );
    assert_repr(
        nn::AvgPool1d::with_options(AvgPool1dOptions::new((3,)).stride((2,))),
        "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(0,))",
    );
    assert_repr(
        nn::AdaptiveAvgPool2d::new((1, 1)),
        "AdaptiveAvgPool2d(output_size=(1, 1))",
    );
    assert_repr(
        nn::AdaptiveAvgPool2d::new(1),
        "AdaptiveAvgPool2d(output_size=1)",
    );
    assert_repr(
        nn::AdaptiveAvgPool2d::new([None, Some(3)]),
        "AdaptiveAvgPool2d(output_size=(None, 3))",
    );
    assert_repr(
        nn::AdaptiveAvgPool1d::new(3),
        "AdaptiveAvgPool1d(output_size=3)",
    );
    assert_repr(
        nn::AdaptiveAvgPool1d::new((3,)),
        "AdaptiveAvgPool1d(output_size=(3,))",
    );
    assert_repr(
        nn::AdaptiveMaxPool2d::new(3),
        "AdaptiveMaxPool2d(output_size=3)",
    );
    assert_repr(
        nn::AdaptiveMaxPool2d::new((2, 3)).return_indices(true),
        "AdaptiveMaxPool2d(output_size=(2, 3))",
    );
    assert_repr(
        nn::AdaptiveMaxPool1d::new(3).return_indices(true),
        "AdaptiveMaxPool1d(output_size=3)",
    );
    let seq = flambeau::sequential![nn::MaxPool2d::new(2), nn::AdaptiveAvgPool2d::new((1, 1))];
    assert_eq!(
        seq.repr(),
        "Sequential(\n  (0): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n  (1): AdaptiveAvgPool2d(output_size=(1, 1))\n)"
    );
}

#[test]
fn layers_forward_as_functional_in_train_and_eval() {
    let x = input(&[2, 2, 5, 6], F64);
    let m = nn::AvgPool2d::with_options(AvgPool2dOptions::new(3).stride(2).padding(1));
    let train = m.forward(&x).to_vec::<f64>();
    m.eval();
    assert_eq!(m.forward(&x).to_vec::<f64>(), train);
    assert_eq!(train, F::avg_pool2d(&x, m.options).to_vec::<f64>());
    let m = nn::AdaptiveMaxPool1d::new(4);
    let x1 = input(&[3, 9], F64);
    assert_eq!(m.forward(&x1).dims(), &[3, 4]);
    assert_eq!(m.forward_with_indices(&x1).1.dims(), &[3, 4]);
    // Empty batches pool to empty outputs.
    assert_eq!(
        F::max_pool2d(&Tensor::zeros([0, 2, 5, 5]), 2).dims(),
        &[0, 2, 2, 2]
    );
    assert_eq!(
        F::adaptive_avg_pool2d(&Tensor::zeros([0, 5, 5]), 2).dims(),
        &[0, 2, 2]
    );
    assert_eq!(
        F::adaptive_max_pool2d(&Tensor::ones([1, 2, 5, 5]), (2, 0)).dims(),
        &[1, 2, 2, 0]
    );
}

/// Asserts that `$e` panics with PyTorch's message.
macro_rules! assert_panics {
    ($e:expr, $msg:expr) => {
        assert_eq!(panic_message(|| drop($e)), $msg)
    };
}

#[test]
fn errors_match_pytorch() {
    let x4 = || Tensor::zeros([1, 2, 5, 5]);
    let x2 = || Tensor::zeros([2, 7]);
    let x1 = || Tensor::zeros([7]);
    assert_panics!(
        F::max_pool2d(&x4(), MaxPool2dOptions::new(3).padding(2)),
        "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and dilation=1"
    );
    assert_panics!(
        F::max_pool2d(&x4(), MaxPool2dOptions::new(3).padding(2).dilation(2)),
        "pad should be smaller than or equal to half of kernel size, but got padW = 2, padH = 2, kW = 3, kH = 3"
    );
    assert_panics!(
        F::max_pool2d(&x4(), MaxPool2dOptions::new((3, 2)).padding((1, 2))),
        "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1"
    );
    assert_panics!(F::max_pool2d(&x4(), 0), "stride should not be zero");
    assert_panics!(
        F::max_pool2d(&x4(), MaxPool2dOptions::new(0).stride(1)),
        "kernel size should be greater than zero, but got kH: 0 kW: 0"
    );
    assert_panics!(
        F::max_pool2d(&x4(), MaxPool2dOptions::new(2).dilation(0)),
        "dilation should be greater than zero, but got dilationH: 0 dilationW: 0"
    );
    assert_panics!(
        F::max_pool2d(&x4(), 6),
        "Given input size: (2x5x5). Calculated output size: (2x0x0). Output size is too small"
    );
    assert_panics!(
        F::max_pool2d(&x2(), 2),
        "non-empty 3D or 4D (batch mode) tensor expected for input"
    );
    assert_panics!(
        F::max_pool2d(&Tensor::zeros([1, 2, 0, 5]), 2),
        "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:[1, 2, 0, 5]"
    );
    assert_panics!(
        F::max_pool2d(&Tensor::zeros([1, 2, 5, 5]).to_dtype(DType::Bool), 2),
        "\"max_pool2d\" not implemented for 'Bool'"
    );
    assert_panics!(
        F::max_pool1d(&x2(), MaxPool1dOptions::new(3).padding(2)),
        "max_pool1d() padding should be at most half of kernel size, but got padding=2 and kernel_size=3"
    );
    assert_panics!(
        F::max_pool1d(&x2(), 0),
        "max_pool1d() kernel_size must be greater than zero, but got 0"
    );
    assert_panics!(
        F::max_pool1d(&x2(), MaxPool1dOptions::new(2).stride(0)),
        "max_pool1d() stride must be greater than zero, but got 0"
    );
    assert_panics!(
        F::max_pool1d(&x2(), MaxPool1dOptions::new(2).dilation(0)),
        "max_pool1d() dilation must be greater than zero, but got 0"
    );
    assert_panics!(
        F::max_pool1d(&x2(), 8),
        "max_pool1d() Invalid computed output size: 0"
    );
    assert_panics!(
        F::max_pool1d(&x1(), 2),
        "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but got:[7]"
    );
    assert_panics!(
        F::max_pool1d(&Tensor::zeros([2, 7]).to_dtype(DType::I64), 2),
        "\"max_pool1d_impl\" not implemented for 'Long'"
    );
    assert_panics!(
        F::max_pool1d_with_indices(&x1(), 2),
        "Expected 2 to 3 dimensions, but got 1-dimensional tensor for argument #1 'self' (while checking arguments for max_pool1d)"
    );
    assert_panics!(
        F::max_pool1d_with_indices(&x2(), MaxPool1dOptions::new(2).dilation(0)),
        "dilation should be greater than zero, but got dilationH: 1 dilationW: 0"
    );
    assert_panics!(
        F::max_pool1d_with_indices(&x2(), 8),
        "Given input size: (2x1x7). Calculated output size: (2x1x0). Output size is too small"
    );
    assert_panics!(
        F::avg_pool2d(&x4(), AvgPool2dOptions::new(3).padding(2)),
        "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and dilation=1"
    );
    assert_panics!(
        F::avg_pool2d(&x4(), AvgPool2dOptions::new(2).divisor_override(Some(0))),
        "divisor must be not zero"
    );
    assert_panics!(
        F::avg_pool2d(&x1(), 2),
        "Dimension out of range (expected to be in range of [-1, 0], but got -3)"
    );
    assert_panics!(
        F::avg_pool2d(&Tensor::zeros([1, 1, 1, 5, 5]), 2),
        "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:[1, 1, 1, 5, 5]"
    );
    assert_panics!(
        F::avg_pool1d(&x1(), 2),
        "Expected 2 to 3 dimensions, but got 1-dimensional tensor for argument #1 'self' (while checking arguments for avg_pool1d)"
    );
    assert_panics!(
        F::avg_pool1d(&x2(), AvgPool1dOptions::new(0).stride(1)),
        "kernel size should be greater than zero, but got kH: 1 kW: 0"
    );
    assert_panics!(
        F::avg_pool1d(&Tensor::zeros([2, 0]), 2),
        "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:[2, 1, 0]"
    );
    assert_panics!(
        F::adaptive_avg_pool2d(&x2(), 2),
        "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got [2, 7]"
    );
    assert_panics!(
        F::adaptive_avg_pool2d(&Tensor::zeros([1, 2, 0, 5]), 2),
        "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes [1, 2, 0, 5] with dimension 2 being empty"
    );
    assert_panics!(
        F::adaptive_avg_pool2d(&Tensor::zeros([1, 2, 5, 5]).to_dtype(DType::I64), 2),
        "\"adaptive_avg_pool2d\" not implemented for 'Long'"
    );
    assert_panics!(
        F::adaptive_avg_pool2d(&x1(), 1),
        "Dimension out of range (expected to be in range of [-1, 0], but got -2)"
    );
    // An output of 1x1 is the mean over the last two dims, with its checks.
    assert_panics!(
        F::adaptive_avg_pool2d(&Tensor::zeros([2, 5, 5]).to_dtype(DType::I64), 1),
        "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Long"
    );
    assert_panics!(
        F::adaptive_max_pool2d(&x1(), 2),
        "adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: [7]"
    );
    assert_panics!(
        F::adaptive_max_pool2d(&Tensor::zeros([1, 2, 0, 5]), 2),
        "adaptive_max_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes [1, 2, 0, 5] with dimension 2 being empty"
    );
    assert_panics!(
        F::adaptive_max_pool1d(&Tensor::zeros([2, 7]).to_dtype(DType::I64), 2),
        "\"adaptive_max_pool2d\" not implemented for 'Long'"
    );
    assert_panics!(
        F::adaptive_max_pool1d(&Tensor::zeros([1, 2, 5, 5]), 2),
        "Expected 2 to 3 dimensions, but got 4-dimensional tensor for argument #1 'self' (while checking arguments for adaptive_max_pool1d)"
    );
    assert_panics!(
        F::adaptive_avg_pool1d(&x1(), 2),
        "Expected 2 to 3 dimensions, but got 1-dimensional tensor for argument #1 'self' (while checking arguments for adaptive_avg_pool1d)"
    );
}

thread_local! {
    /// The file of the last panic on this thread, written by the capturing hook.
    static PANIC_FILE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Misuse panics point at the caller's line (this file), not at a file under src/.
#[test]
fn panics_point_at_the_caller() {
    type Case = (&'static str, Box<dyn Fn()>);
    let cases: Vec<Case> = vec![
        (
            "pad",
            Box::new(|| {
                drop(F::max_pool2d(
                    &Tensor::zeros([1, 2, 5, 5]),
                    MaxPool2dOptions::new(3).padding(2),
                ))
            }),
        ),
        (
            "rank",
            Box::new(|| drop(F::avg_pool1d(&Tensor::zeros([7]), 2))),
        ),
        (
            "size(-3)",
            Box::new(|| drop(F::avg_pool2d(&Tensor::zeros([7]), 2))),
        ),
        (
            "adaptive rank",
            Box::new(|| drop(F::adaptive_max_pool2d(&Tensor::zeros([7]), 2))),
        ),
        (
            "adaptive mean",
            Box::new(|| drop(F::adaptive_avg_pool2d(&Tensor::zeros([7]), 1))),
        ),
        (
            "dtype",
            Box::new(|| {
                drop(F::adaptive_avg_pool2d(
                    &Tensor::zeros([2, 5, 5]).to_dtype(DType::I64),
                    2,
                ))
            }),
        ),
        (
            "1-D dtype",
            Box::new(|| {
                drop(F::max_pool1d(
                    &Tensor::zeros([2, 5]).to_dtype(DType::I64),
                    2,
                ))
            }),
        ),
        (
            "layer",
            Box::new(|| drop(nn::MaxPool2d::new(2).forward(&Tensor::zeros([5, 5])))),
        ),
        (
            "layer too small",
            Box::new(|| drop(nn::AvgPool2d::new(6).forward(&Tensor::zeros([2, 5, 5])))),
        ),
    ];
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let file = info.location().map(|l| l.file().replace('\\', "/"));
        PANIC_FILE.with(|f| *f.borrow_mut() = file);
    }));
    let mut wrong = Vec::new();
    for (what, f) in cases {
        PANIC_FILE.with(|f| *f.borrow_mut() = None);
        assert!(
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err(),
            "{what} must panic"
        );
        let file = PANIC_FILE.with(|f| f.borrow_mut().take());
        if file.as_deref() != Some(file!()) {
            wrong.push(format!("{what}: {file:?}"));
        }
    }
    std::panic::set_hook(previous);
    assert!(wrong.is_empty(), "panics reported elsewhere: {wrong:?}");
}
