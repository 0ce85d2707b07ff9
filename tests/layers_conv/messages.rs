//! PyTorch's texts for the convolution layers: reprs (`extra_repr`), parameters and their
//! init bounds, and the error messages of the modules and of `F.*` (ATen's checks).

use super::*;

/// A call expected to panic, with PyTorch's message.
type PanicCase = (Box<dyn FnOnce()>, &'static str);

#[test]
fn reprs_match_pytorch() {
    let conv =
        |cin, cout, k: &[i64], o: ConvOptions| format!("{}", Conv2d::with_options(cin, cout, k, o));
    let d = ConvOptions::default;
    assert_eq!(
        format!("{}", Conv2d::new(1, 4, 3)),
        "Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))"
    );
    assert_eq!(
        conv(
            2,
            3,
            &[3],
            ConvOptions {
                padding: Padding::Same,
                ..d()
            }
        ),
        "Conv2d(2, 3, kernel_size=(3, 3), stride=(1, 1), padding=same)"
    );
    assert_eq!(
        conv(
            2,
            3,
            &[3],
            ConvOptions {
                padding: Padding::Valid,
                ..d()
            }
        ),
        "Conv2d(2, 3, kernel_size=(3, 3), stride=(1, 1), padding=valid)"
    );
    assert_eq!(
        conv(
            4,
            6,
            &[3],
            ConvOptions {
                stride: vec![2],
                padding: Padding::from([1, 2]),
                dilation: vec![2],
                groups: 2,
                bias: false,
                ..d()
            }
        ),
        "Conv2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 2), dilation=(2, 2), groups=2, bias=False)"
    );
    assert_eq!(
        conv(
            2,
            4,
            &[3, 1],
            ConvOptions {
                padding: Padding::from([1, 0]),
                ..d()
            }
        ),
        "Conv2d(2, 4, kernel_size=(3, 1), stride=(1, 1), padding=(1, 0))"
    );
    assert_eq!(
        conv(
            2,
            4,
            &[3],
            ConvOptions {
                stride: vec![2, 1],
                ..d()
            }
        ),
        "Conv2d(2, 4, kernel_size=(3, 3), stride=(2, 1))"
    );
    assert_eq!(
        format!("{}", Conv1d::new(2, 4, 3)),
        "Conv1d(2, 4, kernel_size=(3,), stride=(1,))"
    );
    assert_eq!(
        format!(
            "{}",
            Conv1d::with_options(
                2,
                4,
                3,
                ConvOptions {
                    padding: Padding::from(2),
                    dilation: vec![2],
                    bias: false,
                    ..d()
                }
            )
        ),
        "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=(2,), dilation=(2,), bias=False)"
    );
    assert_eq!(
        format!("{}", ConvTranspose2d::new(3, 2, 3)),
        "ConvTranspose2d(3, 2, kernel_size=(3, 3), stride=(1, 1))"
    );
    let t = ConvTranspose2d::with_options(
        4,
        6,
        3,
        ConvTransposeOptions {
            groups: 2,
            ..Default::default()
        },
    );
    assert_eq!(t.weight.dims(), &[4, 3, 3, 3]);
    assert_eq!(
        format!("{t}"),
        "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(1, 1), groups=2)"
    );
    let t1 = ConvTranspose1d::with_options(
        4,
        6,
        3,
        ConvTransposeOptions {
            stride: vec![2],
            padding: vec![1],
            output_padding: vec![1],
            dilation: vec![2],
            bias: false,
            ..Default::default()
        },
    );
    assert_eq!(
        format!("{t1}"),
        "ConvTranspose1d(4, 6, kernel_size=(3,), stride=(2,), padding=(1,), dilation=(2,), output_padding=(1,), bias=False)"
    );
    assert_eq!(
        format!(
            "{}",
            ConvTranspose1d::with_options(
                2,
                2,
                3,
                ConvTransposeOptions {
                    groups: 2,
                    ..Default::default()
                }
            )
        ),
        "ConvTranspose1d(2, 2, kernel_size=(3,), stride=(1,), groups=2)"
    );
    assert_eq!(
        format!("{}", Unfold::new(2)),
        "Unfold(kernel_size=2, dilation=1, padding=0, stride=1)"
    );
    assert_eq!(
        format!("{}", Unfold::with_options([2, 3], 2, 1, [1, 2])),
        "Unfold(kernel_size=(2, 3), dilation=2, padding=1, stride=(1, 2))"
    );
    assert_eq!(
        format!("{}", Fold::new([4, 5], 2)),
        "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=1)"
    );
}

#[test]
fn modules_have_pytorchs_parameters() {
    manual_seed(0);
    let m = Conv2d::with_options(
        4,
        6,
        [3, 5],
        ConvOptions {
            groups: 2,
            ..Default::default()
        },
    );
    let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight", "bias"]);
    assert_eq!(m.weight.dims(), &[6, 2, 3, 5]);
    // kaiming_uniform_(a=√5) gives the bound 1/√fan_in, as the bias's: fan_in = 2·3·5.
    let bound = 1.0 / 30f32.sqrt();
    for p in [&*m.weight, &**m.bias.as_ref().unwrap()] {
        assert!(p.to_vec::<f32>().iter().all(|v| v.abs() <= bound));
    }
    let nb = Conv1d::with_options(
        2,
        3,
        2,
        ConvOptions {
            bias: false,
            ..Default::default()
        },
    );
    assert!(nb.bias.is_none());
    assert_eq!(nb.state_dict().keys(), ["weight"]);
    // The transposed weight's fan_in is its dim 1 (out / groups) times the kernel.
    let t = ConvTranspose2d::new(3, 8, 2);
    let bound = 1.0 / 32f32.sqrt();
    assert!(
        t.bias
            .as_ref()
            .unwrap()
            .to_vec::<f32>()
            .iter()
            .all(|v| v.abs() <= bound)
    );
    assert_eq!(t.forward(&Tensor::ones([1, 3, 4, 4])).dims(), &[1, 8, 5, 5]);
    // Module forward is F.conv with the module's parameters.
    let x = Tensor::randn([2, 4, 7, 7]);
    let y = m.forward(&x);
    let want = F::conv2d(&x, &m.weight, m.bias.as_deref(), 1, 0, 1, 2);
    assert_eq!(y.to_vec::<f32>(), want.to_vec::<f32>());
}

#[test]
fn module_errors_match_pytorch() {
    let cases: Vec<PanicCase> = vec![
        (
            Box::new(|| {
                Conv2d::with_options(
                    3,
                    4,
                    3,
                    ConvOptions {
                        padding: Padding::Same,
                        stride: vec![2],
                        ..Default::default()
                    },
                );
            }),
            "padding='same' is not supported for strided convolutions",
        ),
        (
            Box::new(|| {
                Conv2d::with_options(
                    3,
                    4,
                    3,
                    ConvOptions {
                        groups: 2,
                        ..Default::default()
                    },
                );
            }),
            "in_channels must be divisible by groups",
        ),
        (
            Box::new(|| {
                Conv2d::with_options(
                    4,
                    3,
                    3,
                    ConvOptions {
                        groups: 2,
                        ..Default::default()
                    },
                );
            }),
            "out_channels must be divisible by groups",
        ),
        (
            Box::new(|| {
                Conv2d::with_options(
                    4,
                    4,
                    3,
                    ConvOptions {
                        groups: 0,
                        ..Default::default()
                    },
                );
            }),
            "groups must be a positive integer",
        ),
        (
            Box::new(|| {
                Conv2d::with_options(
                    1,
                    4,
                    3,
                    ConvOptions {
                        padding_mode: "reflect".into(),
                        ..Default::default()
                    },
                );
            }),
            "padding_mode='reflect' is not supported yet (only 'zeros')",
        ),
    ];
    for (f, want) in cases {
        assert_eq!(panic_message(f), want);
    }
}

#[test]
fn functional_errors_match_pytorch() {
    let r = |s: &[usize]| Tensor::randn(s);
    let cases: Vec<PanicCase> = vec![
        (
            Box::new(move || {
                F::conv2d(&r(&[2, 2, 7, 7]), &r(&[4, 3, 3, 3]), None, 1, 0, 1, 1);
            }),
            "Given groups=1, weight of size [4, 3, 3, 3], expected input[2, 2, 7, 7] to have 3 channels, but got 2 channels instead",
        ),
        (
            Box::new(move || {
                F::conv2d(&r(&[7, 7]), &r(&[4, 3, 3, 3]), None, 1, 0, 1, 1);
            }),
            "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [7, 7]",
        ),
        (
            Box::new(move || {
                F::conv1d(&r(&[7]), &r(&[4, 3, 3]), None, 1, 0, 1, 1);
            }),
            "Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: [7]",
        ),
        (
            Box::new(move || {
                F::conv2d(&r(&[1, 3, 2, 2]), &r(&[4, 3, 3, 3]), None, 1, 0, 1, 1);
            }),
            "Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). Kernel size can't be greater than actual input size",
        ),
        (
            Box::new(move || {
                F::conv2d(&r(&[1, 4, 5, 5]), &r(&[3, 2, 3, 3]), None, 1, 0, 1, 2);
            }),
            "Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of size [[3, 2, 3, 3]] instead",
        ),
        (
            Box::new(move || {
                F::conv2d(
                    &r(&[1, 3, 5, 5]),
                    &r(&[4, 3, 3, 3]),
                    Some(&r(&[5])),
                    1,
                    0,
                    1,
                    1,
                );
            }),
            "Given weight of size [4, 3, 3, 3], expected bias to be 1-dimensional with 4 elements, but got bias of size [5] instead",
        ),
        (
            Box::new(move || {
                F::conv2d(&r(&[1, 3, 5, 5]), &r(&[4, 3, 3, 3]), None, 2, "same", 1, 1);
            }),
            "padding='same' is not supported for strided convolutions",
        ),
        (
            Box::new(move || {
                F::conv2d(&r(&[1, 3, 5, 5]), &r(&[4, 3, 3, 3]), None, 1, "foo", 1, 1);
            }),
            "Invalid padding string: 'foo'",
        ),
        (
            Box::new(move || {
                F::conv2d(
                    &r(&[1, 3, 5, 5]).to_dtype(F64),
                    &r(&[4, 3, 3, 3]),
                    None,
                    1,
                    0,
                    1,
                    1,
                );
            }),
            "expected scalar type Double but found Float",
        ),
        (
            Box::new(move || {
                F::conv2d(
                    &r(&[1, 3, 5, 5]),
                    &r(&[4, 3, 3, 3]),
                    Some(&r(&[4]).to_dtype(F64)),
                    1,
                    0,
                    1,
                    1,
                );
            }),
            "Input type (float) and bias type (double) should be the same",
        ),
        (
            Box::new(move || {
                F::conv2d(&r(&[1, 3, 5, 5]), &r(&[4, 3, 3, 3]), None, 0, 0, 1, 1);
            }),
            "non-positive stride is not supported",
        ),
        (
            Box::new(move || {
                F::conv2d(&r(&[1, 3, 5, 5]), &r(&[4, 3, 3, 3]), None, 0, -1, 1, 1);
            }),
            "negative padding is not supported",
        ),
        (
            Box::new(move || {
                F::conv2d(&r(&[1, 3, 5, 5]), &r(&[4, 3, 3, 3]), None, 1, 0, 0, 1);
            }),
            "dilation should be greater than zero, but got [0, 0]",
        ),
        (
            Box::new(move || {
                F::conv2d(&r(&[1, 3, 5, 5]), &r(&[4, 3, 3, 3]), None, 1, 0, 1, 0);
            }),
            "non-positive groups is not supported",
        ),
        (
            Box::new(move || {
                F::conv2d(&r(&[1, 3, 5, 5]), &r(&[4, 3, 3]), None, 1, 0, 1, 1);
            }),
            "expected stride to be a single integer value or a list of 1 values to match the convolution dimensions, but got stride=[1, 1]",
        ),
        (
            Box::new(move || {
                F::conv_transpose2d(&r(&[2, 3, 4, 4]), &r(&[2, 3, 3, 3]), None, 1, 0, 0, 1, 1);
            }),
            "Given transposed=1, weight of size [2, 3, 3, 3], expected input[2, 3, 4, 4] to have 2 channels, but got 3 channels instead",
        ),
        (
            Box::new(move || {
                F::conv_transpose2d(
                    &r(&[1, 2, 4, 4]),
                    &r(&[2, 3, 3, 3]),
                    Some(&r(&[4])),
                    1,
                    0,
                    0,
                    1,
                    1,
                );
            }),
            "Given transposed=1, weight of size [2, 3, 3, 3], expected bias to be 1-dimensional with 3 elements, but got bias of size [4] instead",
        ),
        (
            Box::new(move || {
                F::conv_transpose2d(&r(&[2, 2, 4, 4]), &r(&[2, 3, 3, 3]), None, 1, 0, 1, 1, 1);
            }),
            "output padding must be smaller than either stride or dilation, but got output_padding_height: 1 output_padding_width: 1 stride_height: 1 stride_width: 1 dilation_height: 1 dilation_width: 1",
        ),
        (
            Box::new(move || {
                F::conv_transpose1d(&r(&[2, 2, 4]), &r(&[2, 3, 3]), None, 2, 0, 2, 1, 1);
            }),
            "output padding must be smaller than either stride or dilation, but got output_padding_height: 0 output_padding_width: 2 stride_height: 1 stride_width: 2 dilation_height: 1 dilation_width: 1",
        ),
        (
            Box::new(move || {
                F::conv_transpose2d(&r(&[1, 2, 2, 2]), &r(&[2, 3, 3, 3]), None, 1, 3, 0, 1, 1);
            }),
            "Given input size per channel: (2 x 2). Calculated output size per channel: (-2 x -2). Output size is too small",
        ),
        (
            Box::new(move || {
                F::unfold(&r(&[2, 2, 4, 4]), 5, 1, 0, 1);
            }),
            "Given input with spatial size (4, 4), kernel_size=(5, 5), dilation=(1, 1), padding=(0, 0), calculated shape of the array of sliding blocks as (0, 0), but its components must be at least one.",
        ),
        (
            Box::new(move || {
                F::unfold(&r(&[1, 2, 4, 4]), 0, 1, 0, 1);
            }),
            "kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 0",
        ),
        (
            Box::new(move || {
                F::unfold(&r(&[1, 2, 4, 4]), 2, 0, 0, 1);
            }),
            "dilation should be greater than zero, but got dilation_height: 0 dilation_width: 0",
        ),
        (
            Box::new(move || {
                F::unfold(&r(&[1, 2, 4, 4]), 2, 1, -1, 1);
            }),
            "padding should be non-negative, but got pad_height: -1 pad_width: -1",
        ),
        (
            Box::new(move || {
                F::unfold(&r(&[1, 2, 4, 4]), 2, 1, 0, 0);
            }),
            "stride should be greater than zero, but got stride_height: 0 stride_width: 0",
        ),
        (
            Box::new(move || {
                F::fold(&r(&[2, 8, 6]), [4, 4], 2, 1, 0, 1);
            }),
            "Given output_size=(4, 4), kernel_size=(2, 2), dilation=(1, 1), padding=(0, 0), stride=(1, 1), expected size of input's dimension 2 to match the calculated number of sliding blocks 3 * 3 = 9, but got input.size(2)=6.",
        ),
        (
            Box::new(move || {
                F::fold(&r(&[1, 8, 4]), [0, 4], 2, 1, 0, 1);
            }),
            "Given output_size=(0, 4), kernel_size=(2, 2), dilation=(1, 1), padding=(0, 0), stride=(1, 1), expected size of input's dimension 2 to match the calculated number of sliding blocks -1 * 3 = -3, but got input.size(2)=4.",
        ),
        (
            Box::new(move || {
                F::fold(&r(&[2, 7, 9]), [4, 4], 2, 1, 0, 1);
            }),
            "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)=7 and kernel_size=(2, 2).",
        ),
        (
            Box::new(move || {
                F::fold(&r(&[2, 8, 9, 1]), [4, 4], 2, 1, 0, 1);
            }),
            "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for input, but got: [2, 8, 9, 1]",
        ),
    ];
    for (f, want) in cases {
        assert_eq!(panic_message(f), want);
    }
}
