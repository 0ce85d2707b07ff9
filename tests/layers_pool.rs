//! Pooling against PyTorch: float64 `gradcheck` and `gradgradcheck` of every pool over
//! kernel/stride/padding/dilation/ceil_mode/count_include_pad/divisor_override combinations, on
//! batched and unbatched, contiguous and non-contiguous inputs; the values and indices of
//! `return_indices` (and NaN propagation) against PyTorch's; float32 results bit for bit; graph
//! node names; the layers' reprs against PyTorch's text; and PyTorch's error messages.
//!
//! Expected numbers were printed by PyTorch 2.15 for the inputs `input(shape)` builds (element
//! `i` is `(37 i + 11) mod 97 - 48`: distinct values, no ties), e.g.
//! `F.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)`.

mod common;
#[path = "layers_pool/reprs_errors.rs"]
mod reprs_errors;

use flambeau::autograd::{GradcheckOptions, gradcheck, gradgradcheck};
use flambeau::nn;
use flambeau::nn::functional::{
    self as F, AdaptiveSize, AvgPool1dOptions, AvgPool2dOptions, MaxPool1dOptions, MaxPool2dOptions,
};
use flambeau::{DType, Generator, Tensor};

const F64: DType = DType::F64;

/// PyTorch's test input: element `i` is `(37 i + 11) mod 97 - 48` (distinct for up to 97).
fn input(shape: &[usize], dtype: DType) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|i| ((i * 37 + 11) % 97) as f64 - 48.0).collect();
    Tensor::from_vec(v, shape).to_dtype(dtype)
}

/// Distinct float64 values in random order, spaced far wider than gradcheck's perturbation, so
/// no window of a max pooling has a tie.
fn distinct(g: &Generator, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::randperm_gen(n, g)
        .to_dtype(F64)
        .mul(0.1)
        .sub(n as f64 * 0.05)
        .reshape(shape)
}

/// The three layouts every check runs on: contiguous, the transpose of a contiguous tensor
/// (height and width swapped in memory), and every other column of a wider tensor from offset 1.
fn layouts(g: &Generator, shape: &[usize]) -> Vec<(&'static str, Tensor)> {
    let nd = shape.len();
    let mut swapped = shape.to_vec();
    swapped.swap(nd - 1, nd - 2);
    let mut wide = shape.to_vec();
    wide[nd - 1] *= 2;
    let t = distinct(g, &swapped).transpose(-1, -2);
    let s = distinct(g, &wide).slice(-1, Some(1), None, 2);
    assert!(!t.is_contiguous() && !s.is_contiguous());
    vec![
        ("contiguous", distinct(g, shape).requires_grad_(true)),
        ("transposed", t.requires_grad_(true)),
        ("strided", s.requires_grad_(true)),
    ]
}

/// gradcheck and gradgradcheck of `f` on every layout of `shape`; returns the failures.
fn check_all(label: &str, shape: &[usize], f: impl Fn(&Tensor) -> Tensor + Copy) -> Vec<String> {
    let g = Generator::new().manual_seed(shape.iter().product::<usize>() as u64);
    let mut failures = Vec::new();
    for (layout, x) in layouts(&g, shape) {
        let opts = GradcheckOptions::default();
        // The forward on a view equals the forward on its contiguous copy.
        let (a, b) = (f(&x).detach(), f(&x.contiguous()).detach());
        if a.to_vec::<f64>() != b.to_vec::<f64>() {
            failures.push(format!(
                "{label} {shape:?} {layout}: forward differs from contiguous"
            ));
        }
        if let Err(e) = gradcheck(|v| f(&v[0]), std::slice::from_ref(&x), opts) {
            failures.push(format!("{label} {shape:?} {layout}: gradcheck: {e}"));
        }
        if let Err(e) = gradgradcheck(|v| f(&v[0]), std::slice::from_ref(&x), 7, opts) {
            failures.push(format!("{label} {shape:?} {layout}: gradgradcheck: {e}"));
        }
    }
    failures
}

fn assert_none(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn max_pool2d_gradchecks() {
    let combos: Vec<(&str, MaxPool2dOptions)> = vec![
        ("k2", MaxPool2dOptions::new(2)),
        ("k3 s2 p1", MaxPool2dOptions::new(3).stride(2).padding(1)),
        (
            "k(2,3) s(1,2)",
            MaxPool2dOptions::new((2, 3)).stride((1, 2)),
        ),
        (
            "k3 s2 ceil",
            MaxPool2dOptions::new(3).stride(2).ceil_mode(true),
        ),
        (
            "k2 s2 p1 ceil",
            MaxPool2dOptions::new(2)
                .stride(2)
                .padding(1)
                .ceil_mode(true),
        ),
        ("k3 d2 p2", MaxPool2dOptions::new(3).dilation(2).padding(1)),
        (
            "k(3,2) d(2,1) s1 ceil",
            MaxPool2dOptions::new((3, 2))
                .dilation((2, 1))
                .stride(1)
                .ceil_mode(true),
        ),
    ];
    let mut failures = Vec::new();
    for (label, o) in combos {
        for shape in [&[2, 2, 7, 6][..], &[2, 7, 6]] {
            failures.extend(check_all(label, shape, move |x| F::max_pool2d(x, o)));
        }
    }
    assert_none(failures);
}

#[test]
fn max_pool1d_gradchecks() {
    let combos: Vec<(&str, MaxPool1dOptions)> = vec![
        ("k2", MaxPool1dOptions::new(2)),
        ("k3 s2 p1", MaxPool1dOptions::new(3).stride(2).padding(1)),
        (
            "k3 s2 ceil",
            MaxPool1dOptions::new(3).stride(2).ceil_mode(true),
        ),
        (
            "k3 d2 p1 ceil",
            MaxPool1dOptions::new(3)
                .dilation(2)
                .padding(1)
                .ceil_mode(true),
        ),
    ];
    let mut failures = Vec::new();
    for (label, o) in combos {
        for shape in [&[2, 3, 9][..], &[3, 9]] {
            failures.extend(check_all(label, shape, move |x| F::max_pool1d(x, o)));
            failures.extend(check_all(label, shape, move |x| {
                F::max_pool1d_with_indices(x, o).0
            }));
        }
    }
    assert_none(failures);
}

#[test]
fn avg_pool2d_gradchecks() {
    let combos: Vec<(&str, AvgPool2dOptions)> = vec![
        ("k2", AvgPool2dOptions::new(2)),
        ("k3 s2 p1", AvgPool2dOptions::new(3).stride(2).padding(1)),
        (
            "k3 s2 p1 no-pad-count",
            AvgPool2dOptions::new(3)
                .stride(2)
                .padding(1)
                .count_include_pad(false),
        ),
        (
            "k(2,3) s(1,2) p(1,1) ceil",
            AvgPool2dOptions::new((2, 3))
                .stride((1, 2))
                .padding((1, 1))
                .ceil_mode(true),
        ),
        (
            "k2 s2 p1 ceil no-pad-count",
            AvgPool2dOptions::new(2)
                .stride(2)
                .padding(1)
                .ceil_mode(true)
                .count_include_pad(false),
        ),
        (
            "k3 s2 p1 divisor 5",
            AvgPool2dOptions::new(3)
                .stride(2)
                .padding(1)
                .divisor_override(Some(5)),
        ),
    ];
    let mut failures = Vec::new();
    for (label, o) in combos {
        for shape in [&[2, 2, 7, 6][..], &[2, 7, 6]] {
            failures.extend(check_all(label, shape, move |x| F::avg_pool2d(x, o)));
        }
    }
    assert_none(failures);
}

#[test]
fn avg_pool1d_gradchecks() {
    let combos: Vec<(&str, AvgPool1dOptions)> = vec![
        ("k3 s2", AvgPool1dOptions::new(3).stride(2)),
        (
            "k4 s3 p2 ceil",
            AvgPool1dOptions::new(4)
                .stride(3)
                .padding(2)
                .ceil_mode(true),
        ),
        (
            "k3 s2 p1 no-pad-count",
            AvgPool1dOptions::new(3)
                .stride(2)
                .padding(1)
                .count_include_pad(false),
        ),
    ];
    let mut failures = Vec::new();
    for (label, o) in combos {
        for shape in [&[2, 3, 9][..], &[3, 9]] {
            failures.extend(check_all(label, shape, move |x| F::avg_pool1d(x, o)));
        }
    }
    assert_none(failures);
}

#[test]
fn adaptive_pool_gradchecks() {
    let mut failures = Vec::new();
    let sizes2: Vec<AdaptiveSize<2>> = vec![
        (3, 4).into(),
        2.into(),
        (1, 1).into(),
        [None, Some(3)].into(),
        8.into(),
    ];
    for s in sizes2 {
        for shape in [&[2, 2, 7, 6][..], &[2, 7, 6]] {
            let label = format!("{s}");
            failures.extend(check_all(
                &format!("adaptive_avg_pool2d {label}"),
                shape,
                move |x| F::adaptive_avg_pool2d(x, s),
            ));
            failures.extend(check_all(
                &format!("adaptive_max_pool2d {label}"),
                shape,
                move |x| F::adaptive_max_pool2d(x, s),
            ));
        }
    }
    for l in [1usize, 4, 9, 11] {
        for shape in [&[2, 3, 9][..], &[3, 9]] {
            failures.extend(check_all(
                &format!("adaptive_avg_pool1d {l}"),
                shape,
                move |x| F::adaptive_avg_pool1d(x, l),
            ));
            failures.extend(check_all(
                &format!("adaptive_max_pool1d {l}"),
                shape,
                move |x| F::adaptive_max_pool1d(x, l),
            ));
        }
    }
    assert_none(failures);
}

/// Values and indices of `return_indices` against PyTorch's.
#[test]
fn indices_match_pytorch() {
    let x = input(&[1, 2, 5, 6], F64);
    let (v, i) = F::max_pool2d_with_indices(&x, MaxPool2dOptions::new(3).stride(2).padding(1));
    assert_eq!(v.dims(), &[1, 2, 3, 3]);
    assert_eq!(
        v.to_vec::<f64>(),
        [
            28., 37., 42., 47., 33., 42., 47., 24., 38., 43., 48., 48., 34., 48., 48., 30., 35.,
            44.
        ]
    );
    assert_eq!(i.dtype(), DType::I64);
    assert_eq!(
        i.to_vec::<i64>(),
        [
            7, 2, 10, 18, 15, 10, 18, 20, 23, 1, 9, 9, 6, 9, 9, 19, 27, 22
        ]
    );

    let o = MaxPool2dOptions::new((2, 3))
        .stride((1, 2))
        .dilation((2, 1))
        .ceil_mode(true);
    let (v, i) = F::max_pool2d_with_indices(&x, o);
    assert_eq!(v.dims(), &[1, 2, 3, 3]);
    assert_eq!(
        v.to_vec::<f64>(),
        [
            37., 37., 14., 47., 42., 42., 19., 33., 29., 43., 39., 16., 34., 48., 44., 39., 39.,
            16.
        ]
    );
    assert_eq!(
        i.to_vec::<i64>(),
        [
            2, 2, 4, 18, 10, 10, 12, 15, 28, 1, 14, 16, 6, 9, 22, 14, 14, 16
        ]
    );

    let o = MaxPool1dOptions::new(3)
        .stride(2)
        .padding(1)
        .ceil_mode(true);
    let (v, i) = F::max_pool1d_with_indices(&input(&[2, 9], F64), o);
    assert_eq!(v.dims(), &[2, 5]);
    assert_eq!(
        v.to_vec::<f64>(),
        [0., 37., 14., 28., 28., 42., 42., 19., 33., 10.]
    );
    assert_eq!(i.to_vec::<i64>(), [1, 2, 4, 7, 7, 1, 1, 3, 6, 8]);

    let (v, i) = F::adaptive_max_pool2d_with_indices(&x, (3, 4));
    assert_eq!(
        v.to_vec::<f64>(),
        [
            28., 37., 42., 42., 47., 28., 42., 42., 47., 24., 29., 38., 43., 43., 48., 25., 34.,
            39., 48., 44., 30., 30., 44., 44.
        ]
    );
    assert_eq!(
        i.to_vec::<i64>(),
        [
            7, 2, 10, 10, 18, 7, 10, 10, 18, 20, 28, 23, 1, 1, 9, 11, 6, 14, 9, 22, 19, 19, 22, 22
        ]
    );
    let (v, i) = F::adaptive_max_pool1d_with_indices(&input(&[2, 9], F64), 4);
    assert_eq!(v.to_vec::<f64>(), [37., 37., 14., 28., 42., 19., 33., 33.]);
    assert_eq!(i.to_vec::<i64>(), [2, 2, 4, 7, 1, 3, 6, 6]);
    // The layers return the same pair.
    let m = nn::MaxPool2d::with_options(MaxPool2dOptions::new(3).stride(2).padding(1))
        .return_indices(true);
    let (mv, mi) = m.forward_with_indices(&x);
    let (fv, fi) = F::max_pool2d_with_indices(&x, m.options);
    assert_eq!(
        (mv.to_vec::<f64>(), mi.to_vec::<i64>()),
        (fv.to_vec::<f64>(), fi.to_vec::<i64>())
    );
}

#[test]
fn nan_propagates_through_max_pooling() {
    // PyTorch: F.max_pool1d(x, 3, stride=1, return_indices=True) → all NaN, indices [1, 3, 3, 3]
    // (a later NaN replaces an earlier one); windows of -inf keep their first position.
    let nan = f64::NAN;
    let x = Tensor::from_vec(vec![1.0, nan, 3.0, nan, 2.0, 0.0], [1, 1, 6]);
    let (v, i) = F::max_pool1d_with_indices(&x, MaxPool1dOptions::new(3).stride(1));
    assert!(v.to_vec::<f64>().iter().all(|v| v.is_nan()));
    assert_eq!(i.to_vec::<i64>(), [1, 3, 3, 3]);
    let inf = f64::NEG_INFINITY;
    let x = Tensor::from_vec(vec![inf, inf, 3.0], [1, 1, 3]);
    let (v, i) = F::max_pool1d_with_indices(&x, MaxPool1dOptions::new(2).stride(1));
    assert_eq!(v.to_vec::<f64>(), [inf, 3.0]);
    assert_eq!(i.to_vec::<i64>(), [0, 2]);
    let x = Tensor::from_vec(vec![1.0, 2.0, nan, 0.0], [1, 2, 2]);
    let (v, i) = F::adaptive_max_pool2d_with_indices(&x, 1);
    assert!(v.to_vec::<f64>()[0].is_nan());
    assert_eq!(i.to_vec::<i64>(), [2]);
}

#[test]
fn average_values_match_pytorch() {
    let x = input(&[1, 2, 5, 6], F64);
    let o = AvgPool2dOptions::new(3)
        .stride(2)
        .padding(1)
        .ceil_mode(true)
        .count_include_pad(false);
    let y = F::avg_pool2d(&x, o);
    assert_eq!(y.dims(), &[1, 2, 3, 4]);
    let expected = [
        -4.5,
        2.5,
        -4.333333333333333,
        -32.0,
        5.166666666666667,
        -4.0,
        5.333333333333333,
        10.0,
        6.75,
        -10.5,
        -1.1666666666666667,
        3.5,
        14.25,
        13.166666666666666,
        6.333333333333333,
        11.0,
        -0.3333333333333333,
        6.666666666666667,
        5.222222222222222,
        -11.666666666666666,
        1.25,
        0.16666666666666666,
        9.5,
        -2.0,
    ];
    assert_eq!(y.to_vec::<f64>(), expected);
    let y = F::avg_pool2d(&x, AvgPool2dOptions::new(2).divisor_override(Some(3)));
    assert_eq!(
        y.to_vec::<f64>(),
        [
            -6.0,
            -4.333333333333333,
            -2.6666666666666665,
            4.0,
            5.666666666666667,
            7.333333333333333,
            19.0,
            20.666666666666668,
            -10.0,
            -3.3333333333333335,
            -1.6666666666666667,
            0.0
        ]
    );
    let y = F::avg_pool1d(
        &input(&[2, 9], F64),
        AvgPool1dOptions::new(4)
            .stride(3)
            .padding(2)
            .ceil_mode(true),
    );
    assert_eq!(y.dims(), &[2, 4]);
    assert_eq!(
        y.to_vec::<f64>(),
        [-9.25, 7.0, -3.25, -1.0, 11.75, 0.5, -9.75, -4.25]
    );
    let y = F::adaptive_avg_pool2d(&x, [None, Some(4)]);
    assert_eq!(y.dims(), &[1, 2, 5, 4]);
    assert_eq!(
        &y.to_vec::<f64>()[..6],
        &[-18.5, 18.5, -4.5, -16.0, 9.5, -2.0]
    );
}

#[test]
fn int64_pooling_matches_pytorch() {
    let x = input(&[1, 2, 5, 6], DType::I64);
    let y = F::max_pool2d(&x, 2);
    assert_eq!(y.dtype(), DType::I64);
    assert_eq!(
        y.to_vec::<i64>(),
        [28, 37, 42, 47, 33, 38, 43, 48, 25, 30, 39, 44]
    );
    // Integer division truncates toward zero, as in C++.
    let y = F::avg_pool2d(&x, AvgPool2dOptions::new(2).stride(1));
    assert_eq!(
        y.to_vec::<i64>(),
        [
            -4, 8, -3, 9, -2, 0, -12, 0, 13, 1, 3, -8, 4, -7, 5, 6, -4, -16, -3, 9, 14, 2, 15, 4,
            -7, -6, 6, 19, 7, -3, -2, 10, -1, 11, 0, 1, -10, 2, 15, 3
        ]
    );
}

#[test]
fn float32_results_are_bit_identical() {
    let x = input(&[1, 2, 5, 6], DType::F32).div(7.0);
    let bits = |t: &Tensor| -> Vec<i32> {
        t.to_vec::<f32>()
            .iter()
            .map(|v| v.to_bits() as i32)
            .collect()
    };
    let y = F::avg_pool2d(&x, AvgPool2dOptions::new(3).stride(1).padding(1));
    assert_eq!(
        bits(&y),
        [
            -1097709276,
            -1101837003,
            1047777084,
            1060027115,
            -1093448394,
            -1107163102,
            -1088255447,
            -1088521752,
            1027804203,
            1060559724,
            -1105032661,
            -1093981005,
            1056698304,
            1050306983,
            -1089320667,
            1036192812,
            1061358641,
            1060826030,
            1034062377,
            -1096644057,
            -1080532602,
            -1090119583,
            1041385764,
            1050839593,
            1054567863,
            1036192818,
            -1082130432,
            -1089586973,
            -1109160391,
            1058429284,
            1063755387,
            1062157556,
            1067483656,
            1042450986,
            1058695590,
            -1091317956,
            1052970035,
            1063755387,
            1070146706,
            1060293422,
            -1103967445,
            -1083461957,
            -1123940324,
            1049774373,
            1064554300,
            1070546164,
            1061092336,
            1045646644,
            -1092383173,
            -1096111444,
            1051372202,
            1065353217,
            1040320543,
            -1101837004,
            1034062372,
            -1092915784,
            1015154716,
            1055633084,
            1063755387,
            1047777084
        ]
    );
    let y = F::adaptive_avg_pool2d(&x, (3, 4));
    assert_eq!(
        bits(&y),
        [
            -1088122296,
            1066851181,
            1068349147,
            -1097709274,
            1060959184,
            -1083728261,
            1054567864,
            1066152131,
            1064754030,
            -1087523110,
            -1090519040,
            1068049553,
            1073891621,
            1053369490,
            1058162980,
            -1081531246,
            -1119679445,
            1058961896,
            1073342367,
            1050573287,
            1043782504,
            -1078235721,
            1074490807,
            1057563794
        ]
    );
    let xg = x.detach().requires_grad_(true);
    let y = F::avg_pool2d(
        &xg,
        AvgPool2dOptions::new(3)
            .stride(2)
            .padding(1)
            .count_include_pad(false),
    );
    y.backward_with(
        Some(&input(&[1, 2, 3, 3], DType::F32).div(5.0)),
        false,
        false,
    );
    assert_eq!(
        bits(&xg.grad().unwrap()),
        [
            -1075000115,
            -1075000115,
            0,
            1067310558,
            1067310558,
            1067310558,
            -1071155336,
            -1072460230,
            1050626548,
            1057337436,
            1045966216,
            1045966216,
            -1086045116,
            -1092010348,
            1050626548,
            -1086977184,
            -1081944019,
            -1081944019,
            -1080312900,
            1021546048,
            1067403764,
            -1084740221,
            -1073368997,
            -1073368997,
            -1092196762,
            1056405368,
            1064234735,
            -1106737012,
            -1081571191,
            -1081571191,
            1048576000,
            1070805811,
            1068708659,
            1061997773,
            -1088841319,
            -1088841319,
            1063395874,
            1068475642,
            1056591780,
            -1102263092,
            -1087350011,
            -1087350011,
            1059201570,
            -1097975580,
            -1083621740,
            -1082130432,
            -1112143007,
            -1112143007,
            1074930210,
            1056032538,
            -1075326338,
            -1077376887,
            1048203174,
            1048203174,
            1070805811,
            1061158911,
            -1083808153,
            -1089400558,
            1051372203,
            1051372203
        ]
    );
}

/// Inputs large enough to be split over threads give the same values, indices and gradients as
/// each sample pooled alone (small enough to run on one thread).
#[test]
fn large_inputs_match_per_sample_results() {
    let g = Generator::new().manual_seed(11);
    let x = distinct(&g, &[8, 8, 32, 32]).requires_grad_(true);
    let gy = Tensor::randn_gen([8, 8, 16, 16], F64, &g);
    let pools: Vec<(&str, PoolFn)> = vec![
        ("max", |x| {
            F::max_pool2d_with_indices(x, MaxPool2dOptions::new(3).stride(2).padding(1))
        }),
        ("adaptive max", |x| {
            F::adaptive_max_pool2d_with_indices(x, 16)
        }),
        ("avg", |x| {
            let y = F::avg_pool2d(x, AvgPool2dOptions::new(3).stride(2).padding(1));
            (y.clone(), y.detach())
        }),
        ("adaptive avg", |x| {
            let y = F::adaptive_avg_pool2d(x, 16);
            (y.clone(), y.detach())
        }),
    ];
    for (name, pool) in pools {
        let (y, i) = pool(&x);
        let gx = flambeau::autograd::grad(&[&y], &[&x], &[Some(gy.clone())], false, false, false);
        let gx = gx[0].as_ref().unwrap();
        for n in 0..8 {
            let xn = x.detach().select(0, n).requires_grad_(true);
            let (yn, in_) = pool(&xn);
            assert_eq!(
                y.select(0, n).to_vec::<f64>(),
                yn.to_vec::<f64>(),
                "{name} values"
            );
            assert_eq!(
                i.select(0, n).to_vec::<f64>(),
                in_.to_vec::<f64>(),
                "{name} indices"
            );
            let gn = flambeau::autograd::grad(
                &[&yn],
                &[&xn],
                &[Some(gy.select(0, n))],
                false,
                false,
                false,
            );
            assert_eq!(
                gx.select(0, n).to_vec::<f64>(),
                gn[0].as_ref().unwrap().to_vec::<f64>(),
                "{name} grads"
            );
        }
    }
}

type PoolFn = fn(&Tensor) -> (Tensor, Tensor);

/// Broadcast inputs (stride 0 along the width or the height, as `expand` makes) pool as their
/// contiguous copies do.
#[test]
fn broadcast_inputs_match_contiguous() {
    let g = Generator::new().manual_seed(5);
    let wide = distinct(&g, &[2, 3, 7, 1]).expand([2, 3, 7, 6]);
    let tall = distinct(&g, &[2, 3, 1, 6]).expand([2, 3, 7, 6]);
    for x in [wide, tall] {
        let c = x.contiguous();
        let pairs: Vec<(Tensor, Tensor)> = vec![
            (
                F::max_pool2d(&x, MaxPool2dOptions::new(3).stride(2).padding(1)),
                F::max_pool2d(&c, MaxPool2dOptions::new(3).stride(2).padding(1)),
            ),
            (
                F::max_pool2d_with_indices(&x, MaxPool2dOptions::new(2).dilation(2)).1,
                F::max_pool2d_with_indices(&c, MaxPool2dOptions::new(2).dilation(2)).1,
            ),
            (
                F::avg_pool2d(&x, AvgPool2dOptions::new(3).padding(1)),
                F::avg_pool2d(&c, AvgPool2dOptions::new(3).padding(1)),
            ),
            (
                F::adaptive_avg_pool2d(&x, (3, 4)),
                F::adaptive_avg_pool2d(&c, (3, 4)),
            ),
            (
                F::adaptive_max_pool2d_with_indices(&x, (3, 4)).1,
                F::adaptive_max_pool2d_with_indices(&c, (3, 4)).1,
            ),
        ];
        for (a, b) in pairs {
            assert_eq!(a.to_vec::<f64>(), b.to_vec::<f64>());
        }
    }
}
