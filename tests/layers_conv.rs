//! Convolutions: float64 gradcheck and gradgradcheck of conv1d/conv2d/conv_transpose1d/2d,
//! unfold and fold across stride, padding, dilation, groups and bias (contiguous and
//! non-contiguous inputs), a direct-sum reference of the convolution (asymmetric 'same' padding
//! included), the transposed convolution as the adjoint of the convolution, PyTorch's reprs,
//! error messages and output shapes.

use flambeau::autograd::{GradcheckOptions, gradcheck, gradgradcheck};
use flambeau::nn::functional::{self as F, Padding};
use flambeau::nn::{
    Conv1d, Conv2d, ConvOptions, ConvTranspose1d, ConvTranspose2d, ConvTransposeOptions, Fold,
    Forward, Module, Unfold,
};
use flambeau::{DType, Generator, Tensor, manual_seed, no_grad};
use std::panic::{AssertUnwindSafe, catch_unwind};

#[path = "layers_conv/messages.rs"]
mod messages;

const F64: DType = DType::F64;

fn randn(shape: &[usize], g: &Generator) -> Tensor {
    Tensor::randn_gen(shape, F64, g)
}

/// A leaf requiring grad with `shape`, stored transposed (dims 0 and last swapped), so that it
/// is not contiguous.
fn strided_leaf(shape: &[usize], g: &Generator) -> Tensor {
    let mut s = shape.to_vec();
    let last = s.len() - 1;
    s.swap(0, last);
    randn(&s, g).transpose(0, last as i64).requires_grad_(true)
}

/// Runs gradcheck and gradgradcheck of `f` on `inputs`, with a label on failure.
fn check(label: &str, f: impl Fn(&[Tensor]) -> Tensor + Copy, inputs: &[Tensor]) {
    let opts = GradcheckOptions::default();
    gradcheck(f, inputs, opts).unwrap_or_else(|e| panic!("{label}: gradcheck: {e}"));
    gradgradcheck(f, inputs, 7, opts).unwrap_or_else(|e| panic!("{label}: gradgradcheck: {e}"));
}

/// The message of the panic `f` raises.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// (input, weight, bias, stride, padding, dilation, groups) of a 2-D convolution.
type Conv2dCase = (
    [usize; 4],
    [usize; 4],
    bool,
    [i64; 2],
    Padding,
    [i64; 2],
    i64,
);

fn conv2d_cases() -> Vec<Conv2dCase> {
    vec![
        (
            [2, 3, 5, 5],
            [2, 3, 3, 3],
            true,
            [1, 1],
            Padding::from(0),
            [1, 1],
            1,
        ),
        (
            [1, 2, 6, 5],
            [3, 2, 2, 3],
            false,
            [2, 1],
            Padding::from([1, 2]),
            [1, 1],
            1,
        ),
        (
            [2, 2, 7, 6],
            [2, 2, 2, 2],
            true,
            [1, 2],
            Padding::from(1),
            [2, 1],
            1,
        ),
        (
            [1, 4, 5, 5],
            [4, 2, 3, 1],
            true,
            [2, 2],
            Padding::from(1),
            [1, 1],
            2,
        ),
        (
            [2, 3, 4, 4],
            [3, 1, 2, 2],
            false,
            [1, 1],
            Padding::Same,
            [1, 1],
            3,
        ),
        (
            [1, 2, 5, 6],
            [2, 2, 2, 3],
            true,
            [1, 1],
            Padding::Same,
            [2, 1],
            1,
        ),
        (
            [1, 2, 4, 5],
            [2, 2, 3, 3],
            true,
            [1, 1],
            Padding::Valid,
            [1, 1],
            1,
        ),
    ]
}

#[test]
fn conv2d_gradcheck_and_gradgradcheck() {
    let g = Generator::new().manual_seed(1);
    for (i, (xs, ws, bias, stride, padding, dilation, groups)) in
        conv2d_cases().into_iter().enumerate()
    {
        for strided in [false, true] {
            let (x, w) = if strided {
                (strided_leaf(&xs, &g), strided_leaf(&ws, &g))
            } else {
                (
                    randn(&xs, &g).requires_grad_(true),
                    randn(&ws, &g).requires_grad_(true),
                )
            };
            assert_eq!(x.is_contiguous(), !strided);
            let mut inputs = vec![x, w];
            if bias {
                inputs.push(randn(&[ws[0]], &g).requires_grad_(true));
            }
            let p = padding.clone();
            let label = format!("conv2d case {i} strided={strided}");
            let f = move |v: &[Tensor]| {
                F::conv2d(&v[0], &v[1], v.get(2), stride, p.clone(), dilation, groups)
            };
            check(&label, &f, &inputs);
        }
    }
}

#[test]
fn conv1d_gradcheck_and_gradgradcheck() {
    let g = Generator::new().manual_seed(2);
    // (input, weight, bias, stride, padding, dilation, groups)
    let cases: Vec<Conv1dCase> = vec![
        ([2, 3, 8], [4, 3, 3], true, 1, Padding::from(0), 1, 1),
        ([1, 2, 9], [2, 2, 3], false, 2, Padding::from(1), 1, 1),
        ([2, 4, 9], [2, 2, 2], true, 1, Padding::from(2), 3, 2),
        ([1, 2, 7], [3, 2, 4], true, 1, Padding::Same, 1, 1),
    ];
    for (i, (xs, ws, bias, stride, padding, dilation, groups)) in cases.into_iter().enumerate() {
        for strided in [false, true] {
            let (x, w) = if strided {
                (strided_leaf(&xs, &g), strided_leaf(&ws, &g))
            } else {
                (
                    randn(&xs, &g).requires_grad_(true),
                    randn(&ws, &g).requires_grad_(true),
                )
            };
            let mut inputs = vec![x, w];
            if bias {
                inputs.push(randn(&[ws[0]], &g).requires_grad_(true));
            }
            let p = padding.clone();
            let f = move |v: &[Tensor]| {
                F::conv1d(&v[0], &v[1], v.get(2), stride, p.clone(), dilation, groups)
            };
            check(&format!("conv1d case {i} strided={strided}"), &f, &inputs);
        }
    }
}

/// A 1-D convolution case.
type Conv1dCase = ([usize; 3], [usize; 3], bool, i64, Padding, i64, i64);
/// A 1-D transposed convolution case.
type ConvT1dCase = ([usize; 3], [usize; 3], bool, i64, i64, i64, i64, i64);
/// (input, kernel, dilation, padding, stride) of an unfold.
type WindowCase = ([usize; 4], [i64; 2], [i64; 2], [i64; 2], [i64; 2]);
/// A conv / conv_transpose pair.
type AdjointCase = ([usize; 4], [usize; 4], [i64; 2], [i64; 2], [i64; 2], i64);

/// (input, weight, bias, stride, padding, output_padding, groups, dilation).
type ConvT2dCase = (
    [usize; 4],
    [usize; 4],
    bool,
    [i64; 2],
    [i64; 2],
    [i64; 2],
    i64,
    [i64; 2],
);

#[test]
fn conv_transpose2d_gradcheck_and_gradgradcheck() {
    let g = Generator::new().manual_seed(3);
    let cases: Vec<ConvT2dCase> = vec![
        (
            [2, 2, 3, 3],
            [2, 3, 3, 3],
            true,
            [1, 1],
            [0, 0],
            [0, 0],
            1,
            [1, 1],
        ),
        (
            [1, 2, 3, 4],
            [2, 2, 3, 2],
            false,
            [2, 1],
            [1, 0],
            [1, 0],
            1,
            [1, 1],
        ),
        (
            [1, 4, 3, 3],
            [4, 1, 2, 2],
            true,
            [2, 2],
            [0, 0],
            [0, 0],
            2,
            [1, 1],
        ),
        // Output padding beyond the padding: the extra rows get no window element.
        (
            [1, 2, 3, 3],
            [2, 2, 2, 2],
            true,
            [3, 2],
            [0, 0],
            [2, 1],
            1,
            [1, 1],
        ),
        (
            [1, 2, 3, 3],
            [2, 1, 2, 2],
            false,
            [1, 1],
            [1, 1],
            [1, 0],
            1,
            [2, 1],
        ),
    ];
    for (i, (xs, ws, bias, stride, padding, op, groups, dilation)) in cases.into_iter().enumerate()
    {
        for strided in [false, true] {
            let (x, w) = if strided {
                (strided_leaf(&xs, &g), strided_leaf(&ws, &g))
            } else {
                (
                    randn(&xs, &g).requires_grad_(true),
                    randn(&ws, &g).requires_grad_(true),
                )
            };
            let mut inputs = vec![x, w];
            if bias {
                inputs.push(randn(&[ws[1] * groups as usize], &g).requires_grad_(true));
            }
            let f = move |v: &[Tensor]| {
                F::conv_transpose2d(
                    &v[0],
                    &v[1],
                    v.get(2),
                    stride,
                    padding,
                    op,
                    groups,
                    dilation,
                )
            };
            check(
                &format!("conv_transpose2d case {i} strided={strided}"),
                &f,
                &inputs,
            );
        }
    }
}

#[test]
fn conv_transpose1d_gradcheck_and_gradgradcheck() {
    let g = Generator::new().manual_seed(4);
    // (input, weight, bias, stride, padding, output_padding, groups, dilation)
    let cases: Vec<ConvT1dCase> = vec![
        ([2, 2, 5], [2, 3, 3], true, 2, 0, 0, 1, 1),
        ([1, 4, 4], [4, 2, 3], false, 2, 1, 1, 2, 1),
        ([1, 2, 4], [2, 2, 2], true, 1, 1, 1, 1, 2),
    ];
    for (i, (xs, ws, bias, stride, padding, op, groups, dilation)) in cases.into_iter().enumerate()
    {
        for strided in [false, true] {
            let (x, w) = if strided {
                (strided_leaf(&xs, &g), strided_leaf(&ws, &g))
            } else {
                (
                    randn(&xs, &g).requires_grad_(true),
                    randn(&ws, &g).requires_grad_(true),
                )
            };
            let mut inputs = vec![x, w];
            if bias {
                inputs.push(randn(&[ws[1] * groups as usize], &g).requires_grad_(true));
            }
            let f = move |v: &[Tensor]| {
                F::conv_transpose1d(
                    &v[0],
                    &v[1],
                    v.get(2),
                    stride,
                    padding,
                    op,
                    groups,
                    dilation,
                )
            };
            check(
                &format!("conv_transpose1d case {i} strided={strided}"),
                &f,
                &inputs,
            );
        }
    }
}

#[test]
fn unfold_and_fold_gradcheck_and_gradgradcheck() {
    let g = Generator::new().manual_seed(5);
    // (input, kernel, dilation, padding, stride)
    let cases: Vec<WindowCase> = vec![
        ([1, 2, 4, 5], [2, 2], [1, 1], [0, 0], [1, 1]),
        ([2, 1, 5, 5], [3, 2], [1, 2], [1, 0], [2, 1]),
        ([1, 3, 4, 4], [2, 2], [1, 1], [1, 1], [2, 2]),
    ];
    for (i, (xs, k, d, p, s)) in cases.into_iter().enumerate() {
        for strided in [false, true] {
            let x = if strided {
                strided_leaf(&xs, &g)
            } else {
                randn(&xs, &g).requires_grad_(true)
            };
            check(
                &format!("unfold case {i} strided={strided}"),
                &move |v: &[Tensor]| F::unfold(&v[0], k, d, p, s),
                std::slice::from_ref(&x),
            );
            let cols_shape = no_grad(|| F::unfold(&x, k, d, p, s)).dims().to_vec();
            let cols = if strided {
                strided_leaf(&cols_shape, &g)
            } else {
                randn(&cols_shape, &g).requires_grad_(true)
            };
            let out = [xs[2] as i64, xs[3] as i64];
            check(
                &format!("fold case {i} strided={strided}"),
                &move |v: &[Tensor]| F::fold(&v[0], out, k, d, p, s),
                &[cols],
            );
        }
    }
}

/// The convolution by its definition, summed element by element (float64).
#[allow(clippy::too_many_arguments)]
fn conv2d_reference(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    stride: [usize; 2],
    pad: [usize; 2],
    out: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
) -> Vec<f64> {
    let (xd, wd) = (x.dims().to_vec(), w.dims().to_vec());
    let (xv, wv) = (x.to_vec::<f64>(), w.to_vec::<f64>());
    let bv = b.map(|b| b.to_vec::<f64>());
    let (n, c, h, wi) = (xd[0], xd[1], xd[2], xd[3]);
    let (o, cg, kh, kw) = (wd[0], wd[1], wd[2], wd[3]);
    let og = o / groups;
    let mut res = Vec::new();
    for img in 0..n {
        for oc in 0..o {
            let grp = oc / og;
            for y in 0..out[0] {
                for xx in 0..out[1] {
                    let mut acc = bv.as_ref().map_or(0.0, |b| b[oc]);
                    for ic in 0..cg {
                        let ch = grp * cg + ic;
                        for ki in 0..kh {
                            for kj in 0..kw {
                                let ih = (y * stride[0] + ki * dilation[0]) as i64 - pad[0] as i64;
                                let iw = (xx * stride[1] + kj * dilation[1]) as i64 - pad[1] as i64;
                                if ih < 0 || iw < 0 || ih as usize >= h || iw as usize >= wi {
                                    continue;
                                }
                                acc += xv[((img * c + ch) * h + ih as usize) * wi + iw as usize]
                                    * wv[((oc * cg + ic) * kh + ki) * kw + kj];
                            }
                        }
                    }
                    res.push(acc);
                }
            }
        }
    }
    res
}

fn assert_close(got: &[f64], want: &[f64], label: &str) {
    assert_eq!(got.len(), want.len(), "{label}: lengths");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 + 1e-10 * b.abs(),
            "{label}[{i}]: {a} vs {b}"
        );
    }
}

#[test]
fn conv2d_matches_the_direct_sum() {
    let g = Generator::new().manual_seed(6);
    for (i, (xs, ws, bias, stride, padding, dilation, groups)) in
        conv2d_cases().into_iter().enumerate()
    {
        let x = randn(&xs, &g);
        let w = randn(&ws, &g);
        let b = bias.then(|| randn(&[ws[0]], &g));
        let y = F::conv2d(
            &x,
            &w,
            b.as_ref(),
            stride,
            padding.clone(),
            dilation,
            groups,
        );
        let dil = [dilation[0] as usize, dilation[1] as usize];
        // 'same' pads the odd one after: the reference pads `total / 2` before.
        let pad = match &padding {
            Padding::Explicit(p) if p.len() == 1 => [p[0] as usize; 2],
            Padding::Explicit(p) => [p[0] as usize, p[1] as usize],
            Padding::Valid => [0, 0],
            Padding::Same => [0, 1].map(|d| dil[d] * (ws[2 + d] - 1) / 2),
        };
        let out = [y.dims()[2], y.dims()[3]];
        if padding == Padding::Same {
            assert_eq!(out, [xs[2], xs[3]], "case {i}: 'same' keeps the size");
        }
        let want = conv2d_reference(
            &x,
            &w,
            b.as_ref(),
            [stride[0] as usize, stride[1] as usize],
            pad,
            out,
            dil,
            groups as usize,
        );
        assert_close(&y.to_vec::<f64>(), &want, &format!("conv2d case {i}"));
    }
}

#[test]
fn same_padding_with_even_kernels_pads_after_as_pytorch() {
    // PyTorch: F.conv1d(arange(10.), arange(4.), padding='same').
    let x = Tensor::arange_dtype(0, 10, 1, F64).reshape([1, 1, 10]);
    let w = Tensor::arange_dtype(0, 4, 1, F64).reshape([1, 1, 4]);
    let y = F::conv1d(&x, &w, None, 1, "same", 1, 1);
    assert_eq!(
        y.to_vec::<f64>(),
        vec![8.0, 14.0, 20.0, 26.0, 32.0, 38.0, 44.0, 50.0, 26.0, 9.0]
    );
    let y = F::conv2d(
        &Tensor::ones([1, 1, 4, 4]),
        &Tensor::ones([1, 1, 2, 2]),
        None,
        1,
        "same",
        1,
        1,
    );
    assert_eq!(
        y.to_vec::<f32>(),
        vec![
            4.0, 4.0, 4.0, 2.0, 4.0, 4.0, 4.0, 2.0, 4.0, 4.0, 4.0, 2.0, 2.0, 2.0, 2.0, 1.0
        ]
    );
    let shape = |xs: &[usize], ws: &[usize], d: i64| {
        F::conv2d(&Tensor::ones(xs), &Tensor::ones(ws), None, 1, "same", d, 1)
            .dims()
            .to_vec()
    };
    assert_eq!(shape(&[1, 3, 6, 6], &[4, 3, 4, 4], 1), vec![1, 4, 6, 6]);
    assert_eq!(shape(&[2, 3, 5, 7], &[4, 3, 2, 3], 3), vec![2, 4, 5, 7]);
    assert_eq!(
        F::conv1d(
            &Tensor::ones([1, 3, 6]),
            &Tensor::ones([4, 3, 4]),
            None,
            1,
            "same",
            3,
            1
        )
        .dims(),
        &[1, 4, 6]
    );
}

#[test]
fn conv_transpose_is_the_adjoint_of_conv() {
    // <conv(x, w), y> == <x, conv_transpose(y, w)> for matching hyper-parameters.
    let g = Generator::new().manual_seed(8);
    // (input, weight, stride, padding, dilation, groups)
    let cases: Vec<AdjointCase> = vec![
        ([2, 4, 7, 6], [6, 2, 3, 2], [2, 1], [1, 0], [1, 2], 2),
        ([1, 3, 8, 8], [2, 3, 3, 3], [3, 2], [2, 1], [1, 1], 1),
    ];
    for (xs, ws, stride, padding, dilation, groups) in cases {
        let x = randn(&xs, &g);
        let w = randn(&ws, &g);
        let y = F::conv2d(&x, &w, None, stride, padding, dilation, groups);
        let r = randn(y.dims(), &g);
        // The output padding that gives back the input's size.
        let op: Vec<i64> = (0..2)
            .map(|d| {
                let full = (y.dims()[2 + d] as i64 - 1) * stride[d] - 2 * padding[d]
                    + dilation[d] * (ws[2 + d] as i64 - 1)
                    + 1;
                xs[2 + d] as i64 - full
            })
            .collect();
        let xt = F::conv_transpose2d(&r, &w, None, stride, padding, &op, groups, dilation);
        assert_eq!(xt.dims(), x.dims());
        let lhs = y.mul(&r).sum().item::<f64>();
        let rhs = x.mul(&xt).sum().item::<f64>();
        assert!(
            (lhs - rhs).abs() < 1e-9 * lhs.abs().max(1.0),
            "{lhs} vs {rhs}"
        );
    }
}

#[test]
fn fold_of_unfold_with_disjoint_blocks_is_the_identity() {
    let g = Generator::new().manual_seed(9);
    let x = randn(&[2, 3, 6, 4], &g);
    let cols = F::unfold(&x, [3, 2], 1, 0, [3, 2]);
    assert_eq!(cols.dims(), &[2, 18, 4]);
    assert!(cols.is_contiguous());
    assert_eq!(
        F::fold(&cols, [6, 4], [3, 2], 1, 0, [3, 2]).to_vec::<f64>(),
        x.to_vec::<f64>()
    );
    // Overlaps are summed: every pixel counts the windows that cover it.
    let ones = F::fold(
        &F::unfold(&Tensor::ones([1, 1, 3, 3]), 2, 1, 0, 1),
        3,
        2,
        1,
        0,
        1,
    );
    assert_eq!(
        ones.to_vec::<f32>(),
        vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]
    );
    // Unbatched forms.
    assert_eq!(
        F::unfold(&Tensor::ones([3, 5, 5]), 2, 1, 0, 1).dims(),
        &[12, 16]
    );
    assert_eq!(
        F::fold(&Tensor::ones([12, 16]), 5, 2, 1, 0, 1).dims(),
        &[3, 5, 5]
    );
}

#[test]
fn unbatched_inputs_match_batched_ones() {
    let g = Generator::new().manual_seed(10);
    let x = randn(&[3, 6, 6], &g);
    let w = randn(&[4, 3, 3, 3], &g);
    let b = randn(&[4], &g);
    let y = F::conv2d(&x, &w, Some(&b), 1, 1, 1, 1);
    assert_eq!(y.dims(), &[4, 6, 6]);
    let yb = F::conv2d(&x.unsqueeze(0), &w, Some(&b), 1, 1, 1, 1);
    assert_eq!(y.to_vec::<f64>(), yb.to_vec::<f64>());
    let x1 = randn(&[2, 5], &g);
    let w1 = randn(&[2, 3, 2], &g);
    let t = F::conv_transpose1d(&x1, &w1, None, 2, 0, 0, 1, 1);
    assert_eq!(t.dims(), &[3, 10]);
    assert_eq!(
        t.to_vec::<f64>(),
        F::conv_transpose1d(&x1.unsqueeze(0), &w1, None, 2, 0, 0, 1, 1).to_vec::<f64>()
    );
}

#[test]
fn empty_batch() {
    let y = F::conv2d(
        &Tensor::ones([0, 3, 5, 5]),
        &Tensor::ones([4, 3, 3, 3]),
        None,
        1,
        0,
        1,
        1,
    );
    assert_eq!(y.dims(), &[0, 4, 3, 3]);
}

#[test]
fn integer_convolution() {
    // PyTorch convolves int64 tensors too.
    let x = Tensor::arange(0, 9, 1).reshape([1, 1, 3, 3]);
    let w = Tensor::ones_dtype([1, 1, 2, 2], DType::I64);
    let y = F::conv2d(&x, &w, None, 1, 0, 1, 1);
    assert_eq!(y.to_vec::<i64>(), vec![8, 12, 20, 24]);
}
