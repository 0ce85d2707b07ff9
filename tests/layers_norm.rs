//! Normalization layers against PyTorch: gradients (float64 `gradcheck` and `gradgradcheck`),
//! running statistics, train/eval behaviour and state dicts (reprs and error texts are in
//! `layers_norm_messages.rs`).
//!
//! The PyTorch values were printed by `tests/data/gen_norm.py` (PyTorch 2.15 CPU); its inputs are
//! rebuilt here by [`x_of`].

use flambeau::autograd::{GradcheckOptions, gradcheck, gradgradcheck};
use flambeau::nn::functional as F;
use flambeau::nn::{
    BatchNorm1d, BatchNorm2d, BatchNorm3d, BatchNormOptions, Forward, GroupNorm, InstanceNorm1d,
    InstanceNorm2d, InstanceNormOptions, LayerNorm, Module, RMSNorm,
};
use flambeau::{DType, Generator, Tensor};

const F64: DType = DType::F64;

/// `gen_norm.py`'s `x_of`: `sin(arange(n) * 0.7 + 0.3) * scale`, float64.
fn x_of(shape: &[usize], scale: f64) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|i| (i as f64 * 0.7 + 0.3).sin() * scale)
        .collect();
    Tensor::from_vec(v, shape)
}

#[track_caller]
fn assert_close(got: &Tensor, want: &[f64], tol: f64) {
    let got = got.to_dtype(F64).to_vec::<f64>();
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "got {got:?}, expected {want:?}"
        );
    }
}

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn_gen(shape, F64, &Generator::new().manual_seed(seed))
}

fn leaf(t: Tensor) -> Tensor {
    t.requires_grad_(true)
}

/// First- and second-order checks of `f` at `inputs`.
#[track_caller]
fn check(label: &str, f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) {
    let opts = GradcheckOptions::default();
    if let Err(e) = gradcheck(&f, inputs, opts) {
        panic!("{label}: gradcheck: {e}");
    }
    if let Err(e) = gradgradcheck(&f, inputs, 7, opts) {
        panic!("{label}: gradgradcheck: {e}");
    }
}

/// A non-contiguous leaf with the given shape: a transposed copy of a random tensor.
fn transposed(shape: &[usize], seed: u64) -> Tensor {
    let mut swapped = shape.to_vec();
    swapped.swap(0, 1);
    leaf(randn(&swapped, seed)).transpose(0, 1)
}

#[test]
fn batch_norm_training_gradients() {
    for (shape, seed) in [(vec![5, 3], 1), (vec![4, 3, 2], 2), (vec![2, 3, 2, 2], 3)] {
        let c = shape[1];
        let (w, b) = (leaf(randn(&[c], 10)), leaf(randn(&[c], 11)));
        let x = leaf(randn(&shape, seed));
        check(
            &format!("batch_norm train affine {shape:?}"),
            |v| F::batch_norm(&v[0], None, None, Some(&v[1]), Some(&v[2]), true, 0.1, 1e-5),
            &[x.clone(), w.clone(), b.clone()],
        );
        check(
            &format!("batch_norm train no affine {shape:?}"),
            |v| F::batch_norm(&v[0], None, None, None, None, true, 0.1, 1e-5),
            std::slice::from_ref(&x),
        );
        // With running statistics (updated on every call; the output does not depend on them).
        let (rm, rv) = (Tensor::zeros_dtype([c], F64), Tensor::ones_dtype([c], F64));
        check(
            &format!("batch_norm train with running stats {shape:?}"),
            |v| {
                F::batch_norm(
                    &v[0],
                    Some(&rm),
                    Some(&rv),
                    Some(&v[1]),
                    None,
                    true,
                    0.1,
                    1e-5,
                )
            },
            &[x.clone(), w.clone()],
        );
    }
    // A non-contiguous input.
    let x = transposed(&[4, 3], 4);
    check(
        "batch_norm train transposed",
        |v| F::batch_norm(&v[0], None, None, Some(&v[1]), Some(&v[2]), true, 0.1, 1e-5),
        &[x, leaf(randn(&[3], 5)), leaf(randn(&[3], 6))],
    );
}

#[test]
fn batch_norm_eval_gradients() {
    let rm = randn(&[3], 20);
    let rv = randn(&[3], 21).abs() + 0.5;
    for shape in [vec![4, 3], vec![2, 3, 4]] {
        check(
            &format!("batch_norm eval {shape:?}"),
            |v| {
                F::batch_norm(
                    &v[0],
                    Some(&rm),
                    Some(&rv),
                    Some(&v[1]),
                    Some(&v[2]),
                    false,
                    0.1,
                    1e-5,
                )
            },
            &[
                leaf(randn(&shape, 22)),
                leaf(randn(&[3], 23)),
                leaf(randn(&[3], 24)),
            ],
        );
    }
}

#[test]
fn group_and_instance_norm_gradients() {
    let (w, b) = (leaf(randn(&[4], 30)), leaf(randn(&[4], 31)));
    for (shape, groups) in [(vec![2, 4, 3], 2), (vec![2, 4, 2, 2], 4), (vec![3, 4], 1)] {
        let x = leaf(randn(&shape, 32));
        check(
            &format!("group_norm affine {shape:?} groups {groups}"),
            |v| F::group_norm(&v[0], groups, Some(&v[1]), Some(&v[2]), 1e-5),
            &[x.clone(), w.clone(), b.clone()],
        );
        check(
            &format!("group_norm {shape:?} groups {groups}"),
            |v| F::group_norm(&v[0], groups, None, None, 1e-3),
            std::slice::from_ref(&x),
        );
    }
    check(
        "group_norm transposed",
        |v| F::group_norm(&v[0], 2, Some(&v[1]), None, 1e-5),
        &[transposed(&[2, 4, 3], 33), w.clone()],
    );
    for shape in [vec![2, 4, 3], vec![2, 4, 2, 3]] {
        let x = leaf(randn(&shape, 34));
        check(
            &format!("instance_norm affine {shape:?}"),
            |v| F::instance_norm(&v[0], None, None, Some(&v[1]), Some(&v[2]), true, 0.1, 1e-5),
            &[x.clone(), w.clone(), b.clone()],
        );
        let (rm, rv) = (Tensor::zeros_dtype([4], F64), Tensor::ones_dtype([4], F64));
        check(
            &format!("instance_norm with running stats {shape:?}"),
            |v| F::instance_norm(&v[0], Some(&rm), Some(&rv), None, None, true, 0.1, 1e-5),
            std::slice::from_ref(&x),
        );
        let rv_eval = randn(&[4], 35).abs() + 0.5;
        check(
            &format!("instance_norm eval stats {shape:?}"),
            |v| {
                F::instance_norm(
                    &v[0],
                    Some(&rm),
                    Some(&rv_eval),
                    Some(&v[1]),
                    None,
                    false,
                    0.1,
                    1e-5,
                )
            },
            &[x.clone(), w.clone()],
        );
    }
}

#[test]
fn layer_and_rms_norm_gradients() {
    let x = leaf(randn(&[3, 2, 4], 40));
    let w = leaf(randn(&[2, 4], 41));
    check(
        "layer_norm weight without bias",
        |v| F::layer_norm(&v[0], &[2, 4], Some(&v[1]), None, 1e-5),
        &[x.clone(), w.clone()],
    );
    let ln = LayerNorm::with_bias(&[4], 1e-5, true, false).to_f64();
    check(
        "nn.LayerNorm bias=False",
        |v| ln.forward(&v[0]),
        &[transposed(&[3, 4], 42)],
    );
    check(
        "rms_norm weight",
        |v| F::rms_norm(&v[0], &[2, 4], Some(&v[1]), Some(1e-6)),
        &[x.clone(), w.clone()],
    );
    check(
        "rms_norm eps None",
        |v| F::rms_norm(&v[0], &[4], None, None),
        &[transposed(&[3, 4], 43)],
    );
}

/// `Module::double` for a builder chain.
trait ToF64: Module + Sized {
    fn to_f64(mut self) -> Self {
        self.double();
        self
    }
}
impl<M: Module + Sized> ToF64 for M {}

#[test]
fn batch_norm_running_statistics_match_pytorch() {
    let m = BatchNorm1d::new(3).to_f64();
    m.forward(&x_of(&[4, 3], 1.0));
    m.forward(&x_of(&[5, 3, 2], 2.0));
    let rm = m.running_mean.as_ref().unwrap();
    let rv = m.running_var.as_ref().unwrap();
    assert_close(
        rm,
        &[
            -0.007155217895202805,
            0.051859354783553975,
            0.04753886084962583,
        ],
        1e-12,
    );
    assert_close(
        rv,
        &[1.1011131224888666, 1.066245586245394, 1.0965496328372397],
        1e-12,
    );
    let nbt = m.num_batches_tracked.as_ref().unwrap();
    assert_eq!(nbt.dtype(), DType::I64);
    assert_eq!(nbt.item::<i64>(), 2);
    // Eval mode normalises with the running statistics and leaves them (and the count) alone.
    m.eval();
    let before = rm.to_vec::<f64>();
    let y = m.forward(&x_of(&[2, 3], 1.0));
    assert_close(
        &y,
        &[
            0.28844247873263873,
            0.7646855377383234,
            0.9015998013368102,
            0.6505190937283661,
            -0.00995421937600561,
            -0.6296956255340764,
        ],
        1e-12,
    );
    assert_eq!(rm.to_vec::<f64>(), before);
    assert_eq!(nbt.item::<i64>(), 2);
    // Back in training mode the count moves again.
    m.train(true);
    m.forward(&x_of(&[2, 3], 1.0));
    assert_eq!(nbt.item::<i64>(), 3);
}

#[test]
fn batch_norm_momentum_none_is_a_cumulative_average() {
    let opts = BatchNormOptions {
        momentum: None,
        ..Default::default()
    };
    let m = BatchNorm2d::with_options(2, opts).to_f64();
    for k in 0..3 {
        m.forward(&x_of(&[2, 2, 2, 2], k as f64 + 1.0));
    }
    assert_close(
        m.running_mean.as_ref().unwrap(),
        &[1.145394687101986, -0.8373810563296278],
        1e-12,
    );
    assert_close(
        m.running_var.as_ref().unwrap(),
        &[1.0334074696386726, 1.668555632106905],
        1e-12,
    );
    assert_eq!(
        format!("{m}"),
        "BatchNorm2d(2, eps=1e-05, momentum=None, affine=True, bias=True, track_running_stats=True)"
    );
}

#[test]
fn functional_batch_norm_updates_running_stats_in_place() {
    let rm = Tensor::full_dtype([3], 0.5, F64);
    let rv = Tensor::full_dtype([3], 2.0, F64);
    let view_of_rm = rm.view([3]);
    F::batch_norm(
        &x_of(&[2, 3, 2, 2], 1.0),
        Some(&rm),
        Some(&rv),
        None,
        None,
        true,
        0.3,
        1e-3,
    );
    let want_rm = [0.42071963596433837, 0.2570634798190345, 0.4544140951926803];
    assert_close(&rm, &want_rm, 1e-12);
    assert_close(&view_of_rm, &want_rm, 1e-12);
    assert_close(
        &rv,
        &[1.5535824020834053, 1.5321949453949206, 1.5188710176287334],
        1e-12,
    );
    // The update records no autograd, even from an input that requires grad.
    let x = leaf(x_of(&[4, 3], 1.0));
    let (rm, rv) = (Tensor::zeros_dtype([3], F64), Tensor::ones_dtype([3], F64));
    let y = F::batch_norm(&x, Some(&rm), Some(&rv), None, None, true, 0.1, 1e-5);
    assert!(y.requires_grad());
    assert!(!rm.requires_grad() && !rv.requires_grad());
}

#[test]
fn instance_norm_running_statistics_match_pytorch() {
    let opts = InstanceNormOptions {
        affine: true,
        track_running_stats: true,
        ..Default::default()
    };
    let m = InstanceNorm1d::with_options(2, opts).to_f64();
    m.forward(&x_of(&[3, 2, 4], 1.0));
    m.forward(&x_of(&[2, 2, 5], 3.0));
    assert_close(
        m.running_mean.as_ref().unwrap(),
        &[0.1764540631550991, -0.12446434135513759],
        1e-12,
    );
    assert_close(
        m.running_var.as_ref().unwrap(),
        &[1.1145306422331969, 1.2473688247901786],
        1e-12,
    );
    // Instance norm never counts batches (PyTorch's `_InstanceNorm.forward`).
    assert_eq!(m.num_batches_tracked.as_ref().unwrap().item::<i64>(), 0);
    m.eval();
    let want = [
        0.11278214037250837,
        0.6299190483481832,
        0.772186032295995,
        0.7162282644150745,
        0.1486711253474196,
        -0.43639583155773837,
    ];
    assert_close(&m.forward(&x_of(&[1, 2, 3], 1.0)), &want, 1e-12);
    // An unbatched (C, L) input is a batch of one.
    let y = m.forward(&x_of(&[2, 3], 1.0));
    assert_eq!(y.dims(), &[2, 3]);
    assert_close(&y, &want, 1e-12);
}

#[test]
fn group_and_rms_norm_values_match_pytorch() {
    let y = F::group_norm(&x_of(&[2, 4, 3], 1.0), 2, None, None, 1e-5);
    let want = [
        -0.1409964978998922,
        0.8614826015549981,
        1.1372696818244155,
        0.5566577697656542,
        -0.6072822800686686,
        -1.8071312751765067,
        -1.2314443276868818,
        -1.111220602130211,
        -0.4600054684503686,
        0.41592442046586237,
        1.104605551079118,
        1.282140426722481,
        1.8078413504725659,
        0.6785116608339498,
        -0.47143755542512045,
        -1.1011672134458492,
        -0.9145056152637506,
        0.0007573728282048129,
        -0.0686953312993078,
        0.8895074021882622,
        1.1194853922202592,
        0.513076396579414,
        -0.6445159586824497,
        -1.808857901006178,
    ];
    assert_close(&y, &want, 1e-12);
    // eps=None is float32's machine epsilon, which dominates the mean square of tiny inputs.
    let x = x_of(&[2, 3], 1e-4).to_dtype(DType::F32);
    let y = RMSNorm::with_options(&[3], None, false).forward(&x);
    assert_eq!(y.dtype(), DType::F32);
    assert_close(
        &y,
        &[
            0.08353941887617111,
            0.23787204921245575,
            0.28032973408699036,
            0.1933973878622055,
            0.011905299499630928,
            -0.17518605291843414,
        ],
        1e-6,
    );
}

#[test]
fn empty_batches_leave_the_running_stats_alone() {
    // As PyTorch: no checks, a copy of the input scaled by weight[0], zero gradients.
    let (rm, rv) = (
        Tensor::full_dtype([3], 0.5, F64),
        Tensor::ones_dtype([2], F64),
    );
    let x = leaf(Tensor::zeros_dtype([0, 3], F64));
    let w = leaf(Tensor::from_vec(vec![2.0f64, 3.0, 4.0], [3]));
    let y = F::batch_norm(&x, Some(&rm), Some(&rv), Some(&w), None, true, 0.1, 1e-5);
    assert_eq!(y.dims(), &[0, 3]);
    assert_eq!(rm.to_vec::<f64>(), [0.5, 0.5, 0.5]);
    y.sum().backward();
    assert_eq!(w.grad().unwrap().to_vec::<f64>(), [0.0, 0.0, 0.0]);
}

#[test]
fn without_running_stats_batch_statistics_are_always_used() {
    let opts = BatchNormOptions {
        track_running_stats: false,
        ..Default::default()
    };
    let mut m = BatchNorm1d::with_options(3, opts);
    assert!(m.running_mean.is_none() && m.num_batches_tracked.is_none());
    assert_eq!(m.state_dict().keys(), vec!["weight", "bias"]);
    m.eval();
    m.double();
    let x = x_of(&[4, 3], 3.0) + 5.0;
    let y = m.forward(&x);
    let batch = F::batch_norm(&x, None, None, None, None, true, 0.1, 1e-5);
    assert_close(&y, &batch.to_vec::<f64>(), 1e-12);
    assert!(y.mean_dim([0], false).abs().max().item::<f64>() < 1e-12);
}

#[test]
fn state_dict_keys_follow_pytorch() {
    let keys = |m: &dyn Module| -> Vec<String> {
        m.state_dict()
            .keys()
            .iter()
            .map(|k| k.to_string())
            .collect()
    };
    let all = [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ];
    assert_eq!(keys(&BatchNorm2d::new(3)), all);
    assert_eq!(keys(&BatchNorm3d::new(3)), all);
    let no_affine = BatchNormOptions {
        affine: false,
        ..Default::default()
    };
    assert_eq!(keys(&BatchNorm2d::with_options(3, no_affine)), all[2..]);
    let no_bias = BatchNormOptions {
        bias: false,
        ..Default::default()
    };
    let m = BatchNorm1d::with_options(3, no_bias);
    assert_eq!(
        keys(&m),
        [
            "weight",
            "running_mean",
            "running_var",
            "num_batches_tracked"
        ]
    );
    assert_eq!(
        m.named_parameters()
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["weight"]
    );
    let tracked = InstanceNormOptions {
        affine: true,
        track_running_stats: true,
        ..Default::default()
    };
    assert_eq!(keys(&InstanceNorm2d::with_options(3, tracked)), all);
    assert!(keys(&InstanceNorm2d::new(3)).is_empty());
    assert_eq!(keys(&GroupNorm::new(2, 4)), ["weight", "bias"]);
    assert!(keys(&GroupNorm::with_options(2, 4, 1e-5, false)).is_empty());
    assert_eq!(keys(&RMSNorm::new(&[6])), ["weight"]);
    assert_eq!(
        keys(&LayerNorm::with_bias(&[6], 1e-5, true, false)),
        ["weight"]
    );
    assert_eq!(
        keys(&LayerNorm::with_options(&[6], 1e-5, true)),
        ["weight", "bias"]
    );
    // Initial values: ones, zeros, zeros, ones, 0.
    let sd = BatchNorm1d::new(2).state_dict();
    assert_eq!(sd.get("weight").unwrap().to_vec::<f32>(), [1.0, 1.0]);
    assert_eq!(sd.get("bias").unwrap().to_vec::<f32>(), [0.0, 0.0]);
    assert_eq!(sd.get("running_mean").unwrap().to_vec::<f32>(), [0.0, 0.0]);
    assert_eq!(sd.get("running_var").unwrap().to_vec::<f32>(), [1.0, 1.0]);
    let nbt = sd.get("num_batches_tracked").unwrap();
    assert_eq!((nbt.ndim(), nbt.dtype()), (0, DType::I64));
    // `double()` converts the float buffers, not the count.
    let mut m = BatchNorm1d::new(2);
    m.double();
    let sd = m.state_dict();
    assert_eq!(sd.get("running_var").unwrap().dtype(), F64);
    assert_eq!(sd.get("num_batches_tracked").unwrap().dtype(), DType::I64);
}

#[test]
fn eval_mode_batch_norm_is_an_affine_map_of_the_running_stats() {
    let mut m = BatchNorm2d::new(2);
    m.double();
    let rm = m.running_mean.as_ref().unwrap();
    let rv = m.running_var.as_ref().unwrap();
    rm.copy_(&Tensor::from_vec(vec![1.0f64, -2.0], [2]));
    rv.copy_(&Tensor::from_vec(vec![4.0f64, 0.25], [2]));
    m.eval();
    let x = x_of(&[2, 2, 2, 2], 1.0);
    let y = m.forward(&x);
    let mean = Tensor::from_vec(vec![1.0f64, -2.0], [1, 2, 1, 1]);
    let var = Tensor::from_vec(vec![4.0f64, 0.25], [1, 2, 1, 1]);
    let want = (&x - &mean) / (var + 1e-5).sqrt();
    assert!(y.allclose(&want, 1e-12, 1e-12));
    assert_eq!(m.num_batches_tracked.as_ref().unwrap().item::<i64>(), 0);
}

#[test]
fn running_statistics_round_trip_through_the_state_dict() {
    let trained = BatchNorm1d::new(3).to_f64();
    trained.forward(&x_of(&[4, 3], 2.0));
    trained.forward(&x_of(&[6, 3], 1.0));
    let fresh = BatchNorm1d::new(3).to_f64();
    fresh
        .load_state_dict(&trained.state_dict(), true)
        .expect("a BatchNorm1d state dict loads into a BatchNorm1d");
    assert_eq!(fresh.num_batches_tracked.as_ref().unwrap().item::<i64>(), 2);
    for key in ["running_mean", "running_var"] {
        let (a, b) = (fresh.state_dict(), trained.state_dict());
        assert_eq!(
            a.get(key).unwrap().to_vec::<f64>(),
            b.get(key).unwrap().to_vec::<f64>()
        );
    }
    trained.eval();
    fresh.eval();
    let x = x_of(&[2, 3], 1.0);
    assert_eq!(
        trained.forward(&x).to_vec::<f64>(),
        fresh.forward(&x).to_vec::<f64>()
    );
}
