//! Float64 `gradcheck` and `gradgradcheck` of the shape and resampling family: `F.pad` in every
//! mode (negative pads too), `F.interpolate` (nearest, linear, bilinear with both
//! `align_corners`, trilinear), pixel (un)shuffle, `F.normalize`, `F.embedding` with
//! `padding_idx` and `F.embedding_bag` (sum, mean, max, per-sample weights), on contiguous and
//! non-contiguous inputs. Values against PyTorch are in `tests/layers_shape.rs`.

use flambeau::autograd::{GradcheckOptions, gradcheck, gradgradcheck};
use flambeau::nn::functional::{self as F, BagMode, EmbeddingBagOptions};
use flambeau::{DType, Tensor, manual_seed, tensor};
use std::sync::Mutex;

/// Tests drawing from the default generator run one at a time.
static RNG: Mutex<()> = Mutex::new(());

/// Float64 first- and second-order checks with PyTorch's default tolerances.
fn grads(label: &str, f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) {
    let opts = GradcheckOptions::default();
    if let Err(e) = gradcheck(&f, inputs, opts) {
        panic!("gradcheck {label}: {e}");
    }
    if let Err(e) = gradgradcheck(&f, inputs, 1, opts) {
        panic!("gradgradcheck {label}: {e}");
    }
}

fn leaf(t: Tensor) -> Tensor {
    t.requires_grad_(true)
}

/// A non-contiguous float64 leaf of `shape`: every other element of a last dim twice as long.
fn strided(shape: &[usize]) -> Tensor {
    let mut s = shape.to_vec();
    *s.last_mut().unwrap() *= 2;
    let n = *shape.last().unwrap() as i64;
    let base = Tensor::randn_dtype(s.as_slice(), DType::F64);
    let t = base.unflatten(-1, [n, 2]).select(-1, 0).detach();
    assert!(!t.is_contiguous());
    t.requires_grad_(true)
}

#[test]
fn pad_gradients() {
    let _g = RNG.lock().unwrap_or_else(|e| e.into_inner());
    manual_seed(11);
    let cases: Vec<(&str, Vec<i64>, Vec<usize>)> = vec![
        ("constant", vec![1, 2], vec![2, 3, 4]),
        ("constant", vec![1, -1, -2, 2, 0, 1], vec![2, 3, 4]),
        ("reflect", vec![2, 1], vec![2, 3, 4]),
        ("reflect", vec![2, -1, 1, 2], vec![1, 2, 3, 4]),
        ("reflect", vec![1, 1, 1, 1, 1, 1], vec![1, 2, 3, 3]),
        ("replicate", vec![3, 1], vec![3, 4]),
        ("replicate", vec![1, 2, -1, 3], vec![1, 2, 3, 4]),
        ("replicate", vec![1, 0, 2, 1, 0, 2], vec![1, 2, 2, 3, 2]),
        ("circular", vec![2, 1], vec![2, 3, 4]),
        ("circular", vec![1, -1, 2, 3], vec![1, 2, 3, 4]),
    ];
    for (mode, p, shape) in cases {
        let label = format!("{mode} {p:?} {shape:?}");
        let f = |v: &[Tensor]| F::pad(&v[0], &p, mode, None);
        grads(
            &label,
            f,
            &[leaf(Tensor::randn_dtype(shape.as_slice(), DType::F64))],
        );
        grads(&format!("{label} strided"), f, &[strided(&shape)]);
    }
}

#[test]
fn interpolate_gradients() {
    let _g = RNG.lock().unwrap_or_else(|e| e.into_inner());
    manual_seed(12);
    type Case = (
        Vec<usize>,
        Option<Vec<usize>>,
        Option<Vec<f64>>,
        &'static str,
        Option<bool>,
    );
    let cases: Vec<Case> = vec![
        (vec![1, 2, 3, 3], None, Some(vec![2.0]), "nearest", None),
        (vec![1, 2, 5, 4], Some(vec![3, 7]), None, "nearest", None),
        (vec![2, 1, 5], None, Some(vec![1.6]), "nearest", None),
        (
            vec![1, 2, 3, 4],
            None,
            Some(vec![2.0]),
            "bilinear",
            Some(false),
        ),
        (
            vec![1, 2, 5, 4],
            Some(vec![3, 7]),
            None,
            "bilinear",
            Some(false),
        ),
        (
            vec![2, 1, 3, 4],
            Some(vec![6, 5]),
            None,
            "bilinear",
            Some(true),
        ),
        (
            vec![1, 1, 4, 3],
            Some(vec![2, 2]),
            None,
            "bilinear",
            Some(true),
        ),
        (vec![1, 2, 4], None, Some(vec![2.5]), "linear", None),
        (
            vec![1, 1, 2, 3, 2],
            Some(vec![3, 2, 4]),
            None,
            "trilinear",
            Some(false),
        ),
    ];
    for (shape, size, scale, mode, ac) in cases {
        let label = format!("{mode} {shape:?} {size:?} {scale:?} {ac:?}");
        let f = |v: &[Tensor]| F::interpolate(&v[0], size.as_deref(), scale.as_deref(), mode, ac);
        grads(
            &label,
            f,
            &[leaf(Tensor::randn_dtype(shape.as_slice(), DType::F64))],
        );
        grads(&format!("{label} strided"), f, &[strided(&shape)]);
    }
}

#[test]
fn shuffle_normalize_gradients() {
    let _g = RNG.lock().unwrap_or_else(|e| e.into_inner());
    manual_seed(13);
    grads(
        "pixel_shuffle",
        |v| F::pixel_shuffle(&v[0], 2),
        &[strided(&[2, 8, 2, 3])],
    );
    grads(
        "pixel_unshuffle",
        |v| F::pixel_unshuffle(&v[0], 2),
        &[strided(&[1, 2, 4, 6])],
    );
    for (p, dim) in [(2.0, 1), (1.0, 0), (3.0, -1)] {
        grads(
            &format!("normalize p={p} dim={dim}"),
            |v| F::normalize(&v[0], p, dim, 1e-12),
            &[strided(&[3, 4])],
        );
    }
    // A zero row: the clamp holds the denominator at eps (PyTorch's gradient there too).
    let x = leaf(Tensor::from_vec(vec![0.0f64, 0.0, 1.0, -2.0], [2, 2]));
    let y = F::normalize(&x, 2.0, 1, 1e-12);
    assert_eq!(y.to_vec::<f64>()[..2], [0.0, 0.0]);
}

#[test]
fn embedding_gradients() {
    let _g = RNG.lock().unwrap_or_else(|e| e.into_inner());
    manual_seed(14);
    let idx = tensor!([[1, 2, 4], [2, 0, 4]]);
    let w = || leaf(Tensor::randn_dtype([5, 3], DType::F64));
    // The padding row gets no gradient although the forward reads it, so the finite differences
    // see it: the checked table has a constant padding row and the other rows from the input.
    for p in [None, Some(2), Some(-1)] {
        grads(
            &format!("embedding padding_idx={p:?}"),
            |v| {
                let row = Tensor::full_dtype([1, 3], 0.5, DType::F64);
                let w = match p {
                    Some(2) => {
                        Tensor::cat(&[&v[0].narrow(0, 0, 2), &row, &v[0].narrow(0, 2, 2)], 0)
                    }
                    Some(_) => Tensor::cat(&[&v[0].narrow(0, 0, 4), &row], 0),
                    None => v[0].clone(),
                };
                F::embedding_with(&idx, &w, p)
            },
            &[leaf(Tensor::randn_dtype(
                [if p.is_some() { 4 } else { 5 }, 3],
                DType::F64,
            ))],
        );
    }
    // The padding row gets exactly no gradient, and the forward still reads it.
    let wt = w();
    let y = F::embedding_with(&idx, &wt, Some(2));
    assert!(y.select(0, 0).select(0, 1).equal(&wt.select(0, 2)));
    y.sum().backward();
    let g = wt.grad().unwrap();
    assert_eq!(g.select(0, 2).to_vec::<f64>(), vec![0.0; 3]);
    assert_eq!(g.select(0, 4).to_vec::<f64>(), vec![2.0; 3]);
    assert_eq!(y.grad_fn().unwrap().name(), "EmbeddingBackward0");

    let flat = tensor!([1, 2, 4, 0, 4, 3]);
    let offsets = tensor!([0, 2, 2, 5]);
    for mode in [BagMode::Sum, BagMode::Mean, BagMode::Max] {
        let opts = EmbeddingBagOptions {
            offsets: Some(offsets.clone()),
            padding_idx: Some(3),
            ..Default::default()
        };
        grads(
            &format!("embedding_bag {mode:?}"),
            |v| F::embedding_bag(&flat, &v[0], mode, &opts),
            &[w()],
        );
        grads(
            &format!("embedding_bag 2-D {mode:?}"),
            |v| F::embedding_bag(&idx, &v[0], mode, &Default::default()),
            &[w()],
        );
    }
    let psw = leaf(Tensor::randn_dtype([2, 3], DType::F64));
    grads(
        "embedding_bag per_sample_weights",
        |v| {
            let o = EmbeddingBagOptions {
                per_sample_weights: Some(v[1].clone()),
                ..Default::default()
            };
            F::embedding_bag(&idx, &v[0], BagMode::Sum, &o)
        },
        &[w(), psw],
    );
}
