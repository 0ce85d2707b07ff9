//! The shape and resampling family against PyTorch: `F.pad` (every mode), `F.interpolate`
//! (nearest, linear, bilinear, trilinear), pixel (un)shuffle, `F.normalize`, `F.one_hot`,
//! feature dropout masks, embeddings with `padding_idx` and embedding bags.
//!
//! Gradients are in `tests/layers_shape_grad.rs`.
//! Values, masks, reprs and error texts: `tests/data/layers_shape.json`, written by PyTorch 2.15
//! with `tests/data/gen_layers_shape.py` (its inputs are `seq`, the same formula here).

use flambeau::nn::functional::{self as F, BagMode, EmbeddingBagOptions};
use flambeau::nn::{self, Forward, Module};
use flambeau::{DType, Tensor, manual_seed, tensor};
use serde_json::Value as Json;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, OnceLock};

/// Tests drawing from the default generator run one at a time.
static RNG: Mutex<()> = Mutex::new(());

fn data() -> &'static Json {
    static D: OnceLock<Json> = OnceLock::new();
    D.get_or_init(|| {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/layers_shape.json");
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    })
}

/// The generator's input: `x_k = ((37 k + 11) mod 101) / 50 - 1`.
fn seq(shape: &[usize], dtype: DType) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|k| ((k * 37 + 11) % 101) as f64 / 50.0 - 1.0)
        .collect();
    Tensor::from_vec(v, shape).to_dtype(dtype)
}

/// Checks a tensor against a recorded one: float32 bit for bit, float64 to 1e-14 relative,
/// int64 exactly.
fn check(name: &str, got: &Tensor, want: &Json) {
    check_tol(name, got, want, None)
}

/// Like [`check`], floats within `rtol` (relative to the largest recorded magnitude) when given.
fn check_tol(name: &str, got: &Tensor, want: &Json, rtol: Option<f64>) {
    let shape: Vec<usize> = want["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(got.dims(), shape.as_slice(), "{name}: shape");
    if let Some(bits) = want.get("f32_bits") {
        assert_eq!(got.dtype(), DType::F32, "{name}: dtype");
        let w: Vec<u32> = bits
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap() as u32)
            .collect();
        let g: Vec<u32> = got.to_vec::<f32>().iter().map(|x| x.to_bits()).collect();
        match rtol {
            None => assert_eq!(g, w, "{name}: float32 bits"),
            Some(rtol) => {
                let w: Vec<f64> = w.iter().map(|&b| f32::from_bits(b) as f64).collect();
                let g: Vec<f64> = g.iter().map(|&b| f32::from_bits(b) as f64).collect();
                close(name, &g, &w, rtol);
            }
        }
    } else if let Some(v) = want.get("f64") {
        assert_eq!(got.dtype(), DType::F64, "{name}: dtype");
        let w: Vec<f64> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_f64().unwrap())
            .collect();
        close(name, &got.to_vec::<f64>(), &w, rtol.unwrap_or(1e-14));
    } else {
        assert_eq!(got.dtype(), DType::I64, "{name}: dtype");
        let w: Vec<i64> = want["i64"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(got.to_vec::<i64>(), w, "{name}: values");
    }
}

fn close(name: &str, got: &[f64], want: &[f64], rtol: f64) {
    let scale = want.iter().fold(0.0f64, |m, b| m.max(b.abs()));
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= rtol * b.abs().max(scale),
            "{name}[{i}]: {a} vs {b}"
        );
    }
}

fn value(name: &str) -> &'static Json {
    let v = &data()["values"][name];
    assert!(!v.is_null(), "no recorded value {name}");
    v
}

#[test]
fn resampling_values_match_pytorch() {
    let _g = RNG.lock().unwrap_or_else(|e| e.into_inner());
    for (dt, tag) in [(DType::F64, "f64"), (DType::F32, "f32")] {
        let n = |s: &str| format!("{s}_{tag}");
        let pairs: Vec<(String, Tensor)> = vec![
            (
                n("pad_reflect_neg"),
                F::pad(&seq(&[1, 2, 4, 5], dt), &[2, -1, 1, 3], "reflect", None),
            ),
            (
                n("pad_replicate_3d"),
                F::pad(
                    &seq(&[1, 2, 3, 3, 3], dt),
                    &[1, 2, 0, 1, 2, 0],
                    "replicate",
                    None,
                ),
            ),
            (
                n("pad_circular"),
                F::pad(&seq(&[1, 1, 3, 4], dt), &[2, 1, -1, 2], "circular", None),
            ),
            (
                n("pad_constant_4d"),
                F::pad(
                    &seq(&[2, 3, 2, 2], dt),
                    &[1, -1, 0, 2, -1, 1, 1, 0],
                    "constant",
                    Some(-2.5),
                ),
            ),
            (
                n("nearest_size"),
                F::interpolate(
                    &seq(&[1, 1, 5, 7], dt),
                    Some(&[3, 10]),
                    None,
                    "nearest",
                    None,
                ),
            ),
            (
                n("nearest_scale"),
                F::interpolate(&seq(&[1, 2, 4, 3], dt), None, Some(&[1.7]), "nearest", None),
            ),
            (
                n("nearest_1d"),
                F::interpolate(&seq(&[2, 1, 5], dt), None, Some(&[0.6]), "nearest", None),
            ),
            (
                n("bilinear_scale"),
                F::interpolate(
                    &seq(&[1, 2, 3, 4], dt),
                    None,
                    Some(&[1.5, 2.3]),
                    "bilinear",
                    Some(false),
                ),
            ),
            (
                n("bilinear_down"),
                F::interpolate(
                    &seq(&[1, 1, 7, 6], dt),
                    Some(&[3, 4]),
                    None,
                    "bilinear",
                    None,
                ),
            ),
            (
                n("bilinear_ac"),
                F::interpolate(
                    &seq(&[1, 2, 3, 4], dt),
                    Some(&[7, 2]),
                    None,
                    "bilinear",
                    Some(true),
                ),
            ),
            (
                n("linear"),
                F::interpolate(&seq(&[1, 2, 4], dt), None, Some(&[2.5]), "linear", None),
            ),
            (
                n("trilinear"),
                F::interpolate(
                    &seq(&[1, 1, 2, 3, 2], dt),
                    Some(&[3, 4, 3]),
                    None,
                    "trilinear",
                    Some(true),
                ),
            ),
            (
                n("normalize_p1_dim0"),
                F::normalize(&seq(&[3, 4], dt), 1.0, 0, 1e-12),
            ),
        ];
        for (name, got) in &pairs {
            // The linear modes: ATen's separable CPU kernel rounds its weights differently from
            // the textbook formula in the last bits, so these are compared to a few ulps.
            let linear = ["bilinear", "linear", "trilinear"]
                .iter()
                .any(|m| name.starts_with(m));
            let rtol = match (linear, dt) {
                (false, _) => None,
                (true, DType::F32) => Some(4.0 * f32::EPSILON as f64),
                (true, _) => Some(16.0 * f64::EPSILON),
            };
            check_tol(name, got, value(name), rtol);
        }
    }
    let ints = Tensor::arange(0.0, 12.0, 1.0).long().reshape([3, 4]);
    check(
        "pad_constant_int",
        &F::pad(&ints, &[1, -2, -1, 2], "constant", Some(7.9)),
        value("pad_constant_int"),
    );
    check(
        "one_hot",
        &F::one_hot(&tensor!([[3, 0], [1, 3]]), 6),
        value("one_hot"),
    );
    let ps = F::pixel_shuffle(&seq(&[2, 8, 2, 3], DType::F64), 2);
    check("pixel_shuffle", &ps, value("pixel_shuffle"));
    let pu = F::pixel_unshuffle(&seq(&[1, 2, 6, 4], DType::F64), 2);
    check("pixel_unshuffle", &pu, value("pixel_unshuffle"));
}

/// The recorded output and gradients of `f` for the output gradient `seq(out.shape)`.
fn check_grads(name: &str, f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) {
    let rec = &data()["grads"][name];
    let xs: Vec<Tensor> = inputs
        .iter()
        .map(|x| x.clone_tensor().requires_grad_(true))
        .collect();
    let y = f(&xs);
    check(&format!("{name} out"), &y, &rec["out"]);
    y.backward_with(Some(&seq(y.dims(), y.dtype())), false, false);
    for (i, x) in xs.iter().enumerate() {
        check(
            &format!("{name} grad {i}"),
            &x.grad().unwrap(),
            &rec["grads"][i],
        );
    }
}

#[test]
fn embedding_bags_match_pytorch() {
    let _g = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let w = seq(&[7, 3], DType::F64);
    let idx = tensor!([1, 2, 4, 5, 4, 3, 2, 0, 6]);
    let off = tensor!([0, 2, 2, 6]);
    let psw = seq(&[9], DType::F64) + 1.5;
    let opts = |o: Tensor| EmbeddingBagOptions {
        offsets: Some(o),
        ..Default::default()
    };
    check_grads(
        "bag_sum_psw",
        |v| {
            let o = EmbeddingBagOptions {
                per_sample_weights: Some(v[1].clone()),
                ..opts(off.clone())
            };
            F::embedding_bag(&idx, &v[0], BagMode::Sum, &o)
        },
        &[w.clone(), psw],
    );
    check_grads(
        "bag_mean",
        |v| F::embedding_bag(&idx, &v[0], BagMode::Mean, &opts(off.clone())),
        std::slice::from_ref(&w),
    );
    check_grads(
        "bag_max",
        |v| F::embedding_bag(&idx, &v[0], BagMode::Max, &opts(off.clone())),
        std::slice::from_ref(&w),
    );
    check_grads(
        "bag_mean_pad_last",
        |v| {
            let o = EmbeddingBagOptions {
                include_last_offset: true,
                padding_idx: Some(4),
                ..opts(tensor!([0, 3, 9]))
            };
            F::embedding_bag(&idx, &v[0], BagMode::Mean, &o)
        },
        std::slice::from_ref(&w),
    );
    check_grads(
        "bag_2d_sum",
        |v| {
            F::embedding_bag(
                &idx.reshape([3, 3]),
                &v[0],
                BagMode::Sum,
                &Default::default(),
            )
        },
        std::slice::from_ref(&w),
    );
    check_grads(
        "embedding_pad",
        |v| F::embedding_with(&idx.reshape([3, 3]), &v[0], Some(-3)),
        &[w],
    );
}

#[test]
fn feature_dropout_masks_match_pytorch() {
    let _g = RNG.lock().unwrap_or_else(|e| e.into_inner());
    manual_seed(0);
    check(
        "dropout2d_seed0",
        &F::dropout2d(&Tensor::ones([2, 5, 3, 3]), 0.3, true),
        value("dropout2d_seed0"),
    );
    manual_seed(7);
    check(
        "dropout1d_seed7",
        &F::dropout1d(&Tensor::ones([3, 6, 4]), 0.6, true),
        value("dropout1d_seed7"),
    );
    manual_seed(7);
    check(
        "dropout1d_2d_seed7",
        &F::dropout1d(&Tensor::ones([6, 4]), 0.6, true),
        value("dropout1d_2d_seed7"),
    );
    manual_seed(3);
    let d = nn::Dropout2d::new(0.5);
    check(
        "dropout2d_module_seed3",
        &d.forward(&Tensor::ones([4, 6, 2, 2])),
        value("dropout2d_module_seed3"),
    );
    // 32 channels: the vectorised bernoulli path.
    manual_seed(5);
    check(
        "dropout2d_16ch_seed5",
        &F::dropout2d(&Tensor::ones([2, 16, 1, 1]), 0.25, true),
        value("dropout2d_16ch_seed5"),
    );
    // Eval mode and p = 0 are the identity and draw nothing.
    d.eval();
    let x = Tensor::randn([2, 3, 2, 2]);
    assert!(d.forward(&x).equal(&x));
    assert!(F::dropout1d(&x.reshape([2, 3, 4]), 0.0, true).equal(&x.reshape([2, 3, 4])));
    // p = 1 zeroes everything, and gradients flow through the mask.
    let y = F::dropout2d(&x.requires_grad_(true), 1.0, true);
    assert_eq!(y.to_vec::<f32>(), vec![0.0; 24]);
    manual_seed(0);
    let x = Tensor::ones([2, 5, 3, 3]).requires_grad_(true);
    let y = F::dropout2d(&x, 0.3, true);
    y.sum().backward();
    assert!(x.grad().unwrap().equal(&y.detach()));
    // EmbeddingBag's initialisation: normal_ then the padding row zeroed.
    manual_seed(0);
    let bag = nn::EmbeddingBag::with_options(10, 3, "mean", false, Some(4));
    check(
        "embedding_bag_init_seed0",
        &bag.weight,
        value("embedding_bag_init_seed0"),
    );
}

#[test]
fn reprs_match_pytorch() {
    let _g = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let r = &data()["reprs"];
    let cases: Vec<(&str, String)> = vec![
        (
            "nn.Embedding(6, 3, padding_idx=2)",
            format!("{}", nn::Embedding::with_padding_idx(6, 3, Some(2))),
        ),
        (
            "nn.Embedding(6, 3, padding_idx=-1)",
            format!("{}", nn::Embedding::with_padding_idx(6, 3, Some(-1))),
        ),
        (
            "nn.Embedding(6, 3)",
            format!("{}", nn::Embedding::new(6, 3)),
        ),
        (
            "nn.EmbeddingBag(10, 3)",
            format!("{}", nn::EmbeddingBag::new(10, 3, "mean")),
        ),
        (
            "nn.EmbeddingBag(10, 3, mode='sum', padding_idx=1)",
            format!(
                "{}",
                nn::EmbeddingBag::with_options(10, 3, "sum", false, Some(1))
            ),
        ),
        (
            "nn.Upsample(scale_factor=2)",
            format!("{}", nn::Upsample::scale_factor(&[2.0], "nearest")),
        ),
        (
            "nn.Upsample(size=(4, 5), mode='bilinear', align_corners=True)",
            format!(
                "{}",
                nn::Upsample::size(&[4, 5], "bilinear").align_corners(true)
            ),
        ),
        (
            "nn.Upsample(size=4)",
            format!("{}", nn::Upsample::size(&[4], "nearest")),
        ),
        (
            "nn.Upsample(scale_factor=(2, 1.5))",
            format!("{}", nn::Upsample::scale_factor(&[2.0, 1.5], "nearest")),
        ),
        (
            "nn.PixelShuffle(2)",
            format!("{}", nn::PixelShuffle::new(2)),
        ),
        (
            "nn.PixelUnshuffle(3)",
            format!("{}", nn::PixelUnshuffle::new(3)),
        ),
        ("nn.Dropout2d()", format!("{}", nn::Dropout2d::default())),
        (
            "nn.Dropout1d(0.25)",
            format!("{}", nn::Dropout1d::new(0.25)),
        ),
    ];
    for (py, got) in cases {
        assert_eq!(got, r[py].as_str().unwrap(), "repr of {py}");
    }
}

fn panic_message(f: impl FnOnce()) -> String {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(prev);
    match r {
        Ok(()) => "did not panic".into(),
        Err(e) => e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    }
}

#[test]
fn error_messages_match_pytorch() {
    let _g = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let x4 = || Tensor::randn([1, 2, 3, 2]);
    let r = || Tensor::randn([2, 3, 4]);
    let w = || Tensor::randn([6, 3]);
    type Case = (&'static str, Box<dyn Fn()>);
    let cases: Vec<Case> = vec![
        (
            "reflect_too_big",
            Box::new(move || drop(F::pad(&x4(), &[2, 2], "reflect", None))),
        ),
        (
            "reflect_too_big_w",
            Box::new(move || drop(F::pad(&x4(), &[2, 2, 1, 1], "reflect", None))),
        ),
        (
            "reflect_too_big_h",
            Box::new(move || drop(F::pad(&x4(), &[1, 1, 3, 3], "reflect", None))),
        ),
        (
            "pad_odd",
            Box::new(move || drop(F::pad(&x4(), &[1], "constant", None))),
        ),
        (
            "pad_too_long",
            Box::new(move || drop(F::pad(&x4(), &[1; 10], "constant", None))),
        ),
        (
            "pad_dims",
            Box::new(|| {
                drop(F::pad(
                    &Tensor::randn([2, 3]),
                    &[1, 1, 1, 1],
                    "replicate",
                    None,
                ))
            }),
        ),
        (
            "pad_mode",
            Box::new(move || drop(F::pad(&x4(), &[1, 1], "foo", None))),
        ),
        (
            "pad_value",
            Box::new(move || drop(F::pad(&r(), &[1, 1], "reflect", Some(1.0)))),
        ),
        (
            "pad_empty_dim",
            Box::new(|| drop(F::pad(&Tensor::randn([2, 0, 4]), &[1, 1], "reflect", None))),
        ),
        (
            "pad_out_small_1d",
            Box::new(move || drop(F::pad(&r(), &[-3, -2], "replicate", None))),
        ),
        (
            "pad_out_small_2d",
            Box::new(|| {
                drop(F::pad(
                    &Tensor::randn([2, 2, 4, 4]),
                    &[-4, -1, 0, 0],
                    "reflect",
                    None,
                ))
            }),
        ),
        (
            "pad_circular_wrap",
            Box::new(move || drop(F::pad(&r(), &[5, 1], "circular", None))),
        ),
        (
            "pad_circular_empty",
            Box::new(move || drop(F::pad(&r(), &[-3, -2], "circular", None))),
        ),
        (
            "pad_constant_neg",
            Box::new(|| drop(F::pad(&Tensor::randn([2, 4]), &[-5, 0], "constant", None))),
        ),
        (
            "interp_both",
            Box::new(move || {
                drop(F::interpolate(
                    &x4(),
                    Some(&[2, 2]),
                    Some(&[2.0]),
                    "nearest",
                    None,
                ))
            }),
        ),
        (
            "interp_none",
            Box::new(move || drop(F::interpolate(&x4(), None, None, "nearest", None))),
        ),
        (
            "interp_ac_nearest",
            Box::new(move || {
                drop(F::interpolate(
                    &x4(),
                    None,
                    Some(&[2.0]),
                    "nearest",
                    Some(true),
                ))
            }),
        ),
        (
            "interp_size_len",
            Box::new(move || {
                drop(F::interpolate(
                    &x4(),
                    Some(&[6, 6, 6]),
                    None,
                    "nearest",
                    None,
                ))
            }),
        ),
        (
            "interp_bilinear_3d",
            Box::new(|| {
                drop(F::interpolate(
                    &Tensor::randn([1, 2, 3]),
                    None,
                    Some(&[2.0]),
                    "bilinear",
                    None,
                ))
            }),
        ),
        (
            "interp_zero",
            Box::new(move || drop(F::interpolate(&x4(), None, Some(&[0.1]), "nearest", None))),
        ),
        (
            "pixel_shuffle_div",
            Box::new(|| drop(F::pixel_shuffle(&Tensor::randn([1, 6, 2, 2]), 2))),
        ),
        (
            "pixel_shuffle_dims",
            Box::new(|| drop(F::pixel_shuffle(&Tensor::randn([4, 2]), 2))),
        ),
        (
            "pixel_unshuffle_h",
            Box::new(|| drop(F::pixel_unshuffle(&Tensor::randn([1, 1, 3, 4]), 2))),
        ),
        (
            "one_hot_big",
            Box::new(|| drop(F::one_hot(&tensor!([1, 5]), 5))),
        ),
        (
            "one_hot_neg",
            Box::new(|| drop(F::one_hot(&tensor!([1, -1]), 5))),
        ),
        (
            "one_hot_dtype",
            Box::new(|| drop(F::one_hot(&tensor!([1.0]), 5))),
        ),
        (
            "dropout1d_dims",
            Box::new(|| drop(F::dropout1d(&Tensor::randn([2, 3, 4, 5]), 0.5, true))),
        ),
        (
            "dropout_p",
            Box::new(|| drop(F::dropout2d(&Tensor::randn([2, 3, 4, 5]), 1.5, true))),
        ),
        (
            "embedding_padding_idx",
            Box::new(|| drop(nn::Embedding::with_padding_idx(6, 3, Some(6)))),
        ),
        (
            "embedding_index",
            Box::new(move || drop(F::embedding(&tensor!([6]), &w()))),
        ),
        (
            "bag_mode",
            Box::new(move || drop(nn::EmbeddingBag::new(6, 3, "min"))),
        ),
        (
            "bag_psw_mean",
            Box::new(move || {
                let o = EmbeddingBagOptions {
                    per_sample_weights: Some(Tensor::ones([1, 1])),
                    ..Default::default()
                };
                drop(F::embedding_bag(&tensor!([[1]]), &w(), BagMode::Mean, &o))
            }),
        ),
        (
            "bag_no_offsets",
            Box::new(move || {
                drop(F::embedding_bag(
                    &tensor!([1]),
                    &w(),
                    BagMode::Mean,
                    &Default::default(),
                ))
            }),
        ),
        (
            "bag_3d",
            Box::new(move || {
                drop(F::embedding_bag(
                    &tensor!([[[1]]]),
                    &w(),
                    BagMode::Mean,
                    &Default::default(),
                ))
            }),
        ),
        (
            "from_pretrained_dims",
            Box::new(|| {
                drop(nn::Embedding::from_pretrained(
                    &Tensor::randn([6]),
                    true,
                    None,
                ))
            }),
        ),
    ];
    let want = data()["errors"].as_object().unwrap();
    assert_eq!(cases.len(), want.len(), "every recorded error has a case");
    for (name, f) in cases {
        assert_eq!(
            panic_message(f),
            want[name].as_str().unwrap(),
            "error {name}"
        );
    }
}

#[test]
fn embedding_modules() {
    let _g = RNG.lock().unwrap_or_else(|e| e.into_inner());
    manual_seed(2);
    let e = nn::Embedding::with_padding_idx(6, 3, Some(-4));
    assert_eq!(e.padding_idx, Some(2));
    assert_eq!(e.weight.select(0, 2).to_vec::<f32>(), vec![0.0; 3]);
    let y = e.forward(&tensor!([2, 3]));
    y.sum().backward();
    let g = e.weight.grad().unwrap();
    assert_eq!(g.select(0, 2).to_vec::<f32>(), vec![0.0; 3]);
    assert_eq!(g.select(0, 3).to_vec::<f32>(), vec![1.0; 3]);

    // from_pretrained: no random draw, the table as given (padding row included), frozen.
    let table = Tensor::randn([4, 2]);
    manual_seed(9);
    let before = Tensor::rand([3]);
    manual_seed(9);
    let p = nn::Embedding::from_pretrained(&table, true, Some(1));
    assert!(Tensor::rand([3]).equal(&before));
    assert!(p.weight.equal(&table));
    assert!(!p.weight.requires_grad());
    assert_eq!(format!("{p}"), "Embedding(4, 2, padding_idx=1)");
    let q = nn::Embedding::from_pretrained(&table, false, None);
    assert!(q.weight.requires_grad());
    assert_eq!(q.named_parameters().len(), 1);

    // EmbeddingBag as a module: offsets through forward_with, 2-D input through forward.
    let bag = nn::EmbeddingBag::new(5, 2, "sum");
    let a = bag.forward_with(&tensor!([1, 2, 3, 4]), Some(&tensor!([0, 2])), None);
    let b = bag.forward(&tensor!([[1, 2], [3, 4]]));
    assert!(a.equal(&b));
    assert_eq!(bag.state_dict().keys(), vec!["weight"]);
}
