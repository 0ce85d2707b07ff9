//! Flambeau -> bytes -> Flambeau for every `Value` kind, views sharing a storage, and files
//! PyTorch wrote written again.

use super::*;
use flambeau::nn::{Linear, Module};
use flambeau::{no_grad, tensor};

/// Structural equality of two values (tensors by dtype, shape, strides, offset and values).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::Tuple(x), Value::Tuple(y)) | (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Dict(x), Value::Dict(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| same(ka, kb) && same(va, vb))
        }
        (Value::Tensor(x), Value::Tensor(y)) => {
            x.dtype() == y.dtype()
                && x.dims() == y.dims()
                && x.stride() == y.stride()
                && x.storage_offset() == y.storage_offset()
                && x.requires_grad() == y.requires_grad()
                && x.to_vec::<f64>()
                    .iter()
                    .zip(y.to_vec::<f64>())
                    .all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()))
        }
        _ => false,
    }
}

fn round_trip(v: &Value) -> Value {
    let bytes = save_to_bytes(v).unwrap();
    load_from_bytes(&bytes).unwrap()
}

#[test]
fn every_value_kind_round_trips() {
    let cases = vec![
        Value::None,
        Value::Bool(true),
        Value::Bool(false),
        Value::Int(0),
        Value::Int(255),
        Value::Int(256),
        Value::Int(65535),
        Value::Int(65536),
        Value::Int(-1),
        Value::Int(i32::MIN as i64),
        Value::Int(i32::MAX as i64 + 1),
        Value::Int(i64::MAX),
        Value::Int(i64::MIN),
        Value::Int(-(1 << 40)),
        Value::Float(0.1),
        Value::Float(-0.0),
        Value::Float(f64::INFINITY),
        Value::Float(f64::MIN_POSITIVE),
        Value::Str(String::new()),
        Value::Str("héllo ✓ 🦀".into()),
        Value::Bytes(Vec::new()),
        Value::Bytes((0..=255).collect()),
        Value::Tuple(vec![]),
        Value::Tuple(vec![Value::Int(1)]),
        Value::Tuple(vec![Value::Int(1), Value::Float(2.5)]),
        Value::Tuple(vec![Value::None, Value::Bool(true), Value::Str("x".into())]),
        Value::Tuple((0..7).map(Value::Int).collect()),
        Value::List(vec![]),
        Value::List(vec![Value::Str("a".into())]),
        Value::List((0..2500).map(Value::Int).collect()),
        Value::Dict(vec![]),
        Value::Dict(vec![
            (Value::Int(1), Value::Str("one".into())),
            (Value::Tuple(vec![Value::Int(2)]), Value::None),
        ]),
        Value::Dict(
            (0..1500)
                .map(|i| (Value::Str(format!("k{i}")), Value::Int(i)))
                .collect(),
        ),
        Value::Tensor(tensor!([[1.5, -2.0], [0.25, 4.0]])),
        Value::Tensor(Tensor::scalar(3.25f64)),
        Value::Tensor(Tensor::scalar(-7i64)),
        Value::Tensor(Tensor::zeros([0, 3])),
        Value::Tensor(Tensor::from_vec(vec![true, false, true], [3])),
        Value::Tensor(Tensor::from_vec(vec![i64::MIN, 0, i64::MAX], [3])),
        Value::Tensor(Tensor::from_vec(vec![f32::NAN, f32::NEG_INFINITY], [2])),
        Value::Tensor(tensor!([1.0, 2.0]).requires_grad_(true)),
    ];
    for v in &cases {
        let back = round_trip(v);
        assert!(same(v, &back), "{v:?} came back as {back:?}");
    }
    // All of them at once, nested.
    let all = Value::dict([
        ("list", Value::List(cases.clone())),
        (
            "nested",
            Value::dict([("deeper", Value::Tuple(cases.clone()))]),
        ),
    ]);
    assert!(same(&all, &round_trip(&all)));
}

#[test]
fn a_checkpoint_round_trips_and_its_state_dict_loads() {
    let model = Linear::new(3, 2);
    let ckpt = Value::dict([
        ("model", Value::from(&model.state_dict())),
        ("epoch", Value::Int(3)),
        ("lr", Value::Float(0.1)),
        ("names", Value::List(vec![Value::Str("a".into())])),
        ("flag", Value::Bool(true)),
        ("none", Value::None),
        ("pair", Value::Tuple(vec![Value::Int(1), Value::Float(2.5)])),
    ]);
    let path = std::env::temp_dir().join(format!("flambeau_pt_ckpt_{}.pt", std::process::id()));
    save(ckpt.clone(), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    // The archive's folder is the file's stem, as torch.save names it.
    let stem = path.file_stem().unwrap().to_str().unwrap();
    assert!(
        bytes
            .windows(stem.len() + 9)
            .any(|w| w == format!("{stem}/data.pkl").as_bytes())
    );
    let back = load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(same(&ckpt, &back));
    let other = Linear::new(3, 2);
    other
        .load_state_dict(&back.get("model").unwrap().to_state_dict().unwrap(), true)
        .unwrap();
    assert_eq!(values(&other.weight), values(&model.weight));
}

#[test]
fn views_keep_sharing_one_storage_written_once() {
    let base = Tensor::from_vec((0..24).map(|i| i as f32).collect(), [4, 6]);
    let row2 = base.select(0, 2);
    let t = base.t();
    let cols = base.narrow(1, 1, 3);
    let v = Value::dict([
        ("base", Value::from(&base)),
        ("row2", Value::from(&row2)),
        ("t", Value::from(&t)),
        ("cols", Value::from(&cols)),
    ]);
    let bytes = save_to_bytes(&v).unwrap();
    // One storage record: data/0 and no data/1.
    let has = |name: &str| bytes.windows(name.len()).any(|w| w == name.as_bytes());
    assert!(has("archive/data/0") && !has("archive/data/1"));
    let back = load_from_bytes(&bytes).unwrap();
    assert!(same(&v, &back));
    let get = |k: &str| back.get(k).and_then(Value::as_tensor).unwrap().clone();
    no_grad(|| get("base").fill_(5.0));
    for k in ["row2", "t", "cols"] {
        assert!(values(&get(k)).iter().all(|&x| x == 5.0), "{k}");
    }
    // Saving the same object twice gives the same bytes.
    assert_eq!(save_to_bytes(&v).unwrap(), bytes);
}

#[test]
fn a_view_saved_alone_keeps_its_whole_storage() {
    let base = Tensor::from_vec((0..12).map(|i| i as f64).collect(), [3, 4]);
    let view = base.t().narrow(0, 1, 2);
    let back = round_trip(&Value::from(&view));
    let t = back.as_tensor().unwrap();
    assert_eq!(
        (t.dims(), t.stride(), t.storage_offset()),
        (&[2usize, 3][..], vec![1, 4], 1)
    );
    assert_eq!(values(t), values(&view));
}

#[test]
fn files_pytorch_wrote_survive_a_rewrite() {
    for path in [
        interop_path("mlp.pt"),
        interop_path("cnn_f64.pt"),
        interop_path("views.pt"),
        interop_path("legacy.pt"),
        data_path("nested.pt"),
    ] {
        let v = load(&path).unwrap();
        assert!(same(&v, &round_trip(&v)), "{path}");
    }
}

#[test]
fn too_deep_a_value_is_refused_when_saved() {
    let mut v = Value::None;
    for _ in 0..600 {
        v = Value::List(vec![v]);
    }
    let err = save_to_bytes(&v).unwrap_err();
    assert!(err.to_string().contains("nests containers"), "{err}");
    // Its own Drop recursion is the caller's; free it iteratively here.
    let mut cur = v;
    while let Value::List(mut items) = cur {
        cur = items.pop().unwrap_or(Value::None);
    }
}

/// Writes the files of the checks above to `$FLAMBEAU_PT_OUT` (when set) so that PyTorch can be
/// run on them by hand: `torch.load(path, weights_only=True)`.
#[test]
fn files_for_pytorch_to_read() {
    let Ok(dir) = std::env::var("FLAMBEAU_PT_OUT") else {
        return;
    };
    let base = Tensor::from_vec((0..24).map(|i| i as f32).collect(), [4, 6]);
    let model = Linear::new(3, 2);
    let ckpt = Value::dict([
        ("model", Value::from(&model.state_dict())),
        ("epoch", Value::Int(3)),
        ("lr", Value::Float(0.1)),
        (
            "names",
            Value::List(vec![Value::Str("a".into()), Value::Str("bé ✓".into())]),
        ),
        ("flag", Value::Bool(true)),
        ("none", Value::None),
        ("pair", Value::Tuple(vec![Value::Int(1), Value::Float(2.5)])),
        ("t4", Value::Tuple((0..5).map(Value::Int).collect())),
        ("big", Value::Int(i64::MIN)),
        ("blob", Value::Bytes(vec![0, 255, 97])),
        ("empty_blob", Value::Bytes(vec![])),
        (
            "param",
            Value::from(tensor!([[0.5, -1.5]]).requires_grad_(true)),
        ),
        ("scalar", Value::from(Tensor::scalar(3.25f64))),
        ("empty", Value::from(Tensor::zeros([0, 3]))),
        ("base", Value::from(&base)),
        ("t", Value::from(base.t())),
        ("cols", Value::from(base.narrow(1, 1, 3))),
        (
            "ints",
            Value::from(Tensor::from_vec(vec![1i64, -2, 1 << 40], [3])),
        ),
        (
            "mask",
            Value::from(Tensor::from_vec(vec![true, false], [2])),
        ),
        (
            "int_keys",
            Value::Dict(vec![(Value::Int(1), Value::Str("one".into()))]),
        ),
        ("many", Value::List((0..1500).map(Value::Int).collect())),
    ]);
    save(ckpt, format!("{dir}/checkpoint.pt")).unwrap();
    save(&model.state_dict(), format!("{dir}/state_dict.pt")).unwrap();
}
