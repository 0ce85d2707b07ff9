//! Loading what PyTorch wrote: the interop fixtures and tests/data/pt/nested*.pt.

use super::*;
use flambeau::nn::functional::Padding;
use flambeau::nn::{
    BatchNorm2d, Conv2d, ConvOptions, Flatten, Forward, Linear, MaxPool2d, Module, ReLU, Sequential,
};
use flambeau::{DType, no_grad};

fn check_model_file(name: &str, file: &str, mut model: Sequential, cast_f64: bool) {
    let fx = interop_json();
    let m = &fx["models"][name];
    let v = load(interop_path(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let sd = v.to_state_dict().unwrap();
    // The float64 files hold the float tensors only (cast), without `num_batches_tracked`.
    let keys: Vec<&str> = m["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .filter(|k| !cast_f64 || m["dtypes"][*k] == "torch.float32")
        .collect();
    assert_eq!(sd.keys(), keys, "{file}");
    for (k, t) in sd.iter() {
        let want = m["dtypes"][k].as_str().unwrap();
        let want = if cast_f64 && want == "torch.float32" {
            "torch.float64"
        } else {
            want
        };
        assert_eq!(t.dtype().torch_name(), want, "{file} {k}");
        assert!(
            !t.requires_grad(),
            "{file} {k}: a state dict holds detached tensors"
        );
    }
    // The values: the model with this state dict reproduces PyTorch's eval-mode output.
    if cast_f64 {
        model.to_dtype(DType::F64);
    }
    model.load_state_dict(&sd, !cast_f64).unwrap();
    model.eval();
    let input = &m["input"];
    let dtype = if cast_f64 { DType::F64 } else { DType::F32 };
    let x = Tensor::from_vec(json_values(&input["values"]), dims(&input["shape"])).to_dtype(dtype);
    let y = no_grad(|| model.forward(&x));
    let want = json_values(&m["output_eval"]["values"]);
    assert_eq!(y.dims(), dims(&m["output_eval"]["shape"]).as_slice());
    for (a, b) in values(&y).iter().zip(&want) {
        assert!((a - b).abs() <= 1e-5 + 1e-4 * b.abs(), "{file}: {a} vs {b}");
    }
}

fn mlp() -> Sequential {
    Sequential::new()
        .add(Linear::new(4, 8))
        .add(ReLU::new())
        .add(Linear::new(8, 3))
}

fn cnn() -> Sequential {
    let conv = ConvOptions {
        padding: Padding::Explicit(vec![1]),
        ..Default::default()
    };
    Sequential::new()
        .add(Conv2d::with_options(1, 4, [3], conv))
        .add(BatchNorm2d::new(4))
        .add(ReLU::new())
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(64, 5))
}

#[test]
fn mlp_and_cnn_state_dicts_load_with_pytorchs_keys_dtypes_and_outputs() {
    check_model_file("mlp", "mlp.pt", mlp(), false);
    check_model_file("mlp", "mlp_f64.pt", mlp(), true);
    check_model_file("cnn", "cnn.pt", cnn(), false);
    check_model_file("cnn", "cnn_f64.pt", cnn(), true);
}

#[test]
fn f64_files_hold_the_f32_values_cast() {
    for name in ["mlp", "cnn"] {
        let a = load(interop_path(&format!("{name}.pt")))
            .unwrap()
            .to_state_dict()
            .unwrap();
        let b = load(interop_path(&format!("{name}_f64.pt")))
            .unwrap()
            .to_state_dict()
            .unwrap();
        let floats: Vec<_> = a.iter().filter(|(_, t)| t.dtype() == DType::F32).collect();
        assert_eq!(floats.len(), b.len(), "{name}");
        for ((ka, ta), (kb, tb)) in floats.into_iter().zip(b.iter()) {
            assert_eq!(ka, kb);
            assert_eq!(tb.dtype(), DType::F64);
            assert_eq!(values(ta), values(tb), "{name} {ka}");
        }
    }
}

#[test]
fn views_share_one_storage_with_their_offsets_and_strides() {
    let fx = interop_json();
    let v = load(interop_path("views.pt")).unwrap();
    let get = |k: &str| v.get(k).and_then(Value::as_tensor).unwrap().clone();
    for (k, want) in fx["views"]["tensors"].as_object().unwrap() {
        let t = get(k);
        assert_eq!(t.dims(), dims(&want["shape"]).as_slice(), "{k}");
        assert_eq!(values(&t), json_values(&want["values"]), "{k}");
    }
    let (base, row2, cols, t) = (get("base"), get("row2"), get("cols"), get("t"));
    assert_eq!((row2.storage_offset(), row2.stride()), (12, vec![1]));
    assert_eq!((cols.storage_offset(), cols.stride()), (1, vec![6, 1]));
    assert_eq!((t.storage_offset(), t.stride()), (0, vec![1, 6]));
    assert!(!cols.is_contiguous() && !t.is_contiguous());
    // One storage: writing into the base shows in every view.
    base.fill_(-1.0);
    for view in [&row2, &cols, &t] {
        assert!(values(view).iter().all(|&x| x == -1.0));
    }
}

#[test]
fn legacy_format_loads() {
    let fx = interop_json();
    let v = load(interop_path("legacy.pt")).unwrap();
    for (k, want) in fx["legacy"]["tensors"].as_object().unwrap() {
        let t = v.get(k).and_then(Value::as_tensor).unwrap();
        assert_eq!(
            t.dtype().torch_name(),
            format!("torch.{}", want["dtype"].as_str().unwrap())
        );
        assert_eq!(t.dims(), dims(&want["shape"]).as_slice(), "{k}");
        assert_eq!(values(t), json_values(&want["values"]), "{k}");
    }
}

/// Compares a loaded value with PyTorch's description of it (gen_serialization_pt.py's
/// `describe`); `storages` maps PyTorch's storage numbers to the tensors seen with them.
fn check_described(v: &Value, j: &Json, storages: &mut Vec<Tensor>, path: &str) {
    let items = |j: &Json| j["items"].as_array().unwrap().clone();
    match j["type"].as_str().unwrap() {
        "none" => assert!(matches!(v, Value::None), "{path}"),
        "bool" => assert_eq!(v.as_bool(), j["value"].as_bool(), "{path}"),
        "int" => {
            assert!(matches!(v, Value::Int(_)), "{path}: {v:?}");
            assert_eq!(
                v.as_int().unwrap().to_string(),
                j["value"].as_str().unwrap(),
                "{path}"
            );
        }
        "float" => {
            let want = j["value"].as_f64().unwrap();
            assert!(matches!(v, Value::Float(f) if *f == want), "{path}: {v:?}");
        }
        "str" => assert_eq!(v.as_str(), j["value"].as_str(), "{path}"),
        "bytes" => {
            let want: Vec<u8> = j["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_u64().unwrap() as u8)
                .collect();
            assert!(matches!(v, Value::Bytes(b) if *b == want), "{path}: {v:?}");
        }
        "list" | "tuple" => {
            let is_tuple = j["type"] == "tuple";
            assert_eq!(matches!(v, Value::Tuple(_)), is_tuple, "{path}: {v:?}");
            let got = v.as_seq().unwrap();
            let want = items(j);
            assert_eq!(got.len(), want.len(), "{path}");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                check_described(g, w, storages, &format!("{path}[{i}]"));
            }
        }
        "dict" => {
            let got = v.as_dict().unwrap();
            let want = items(j);
            assert_eq!(got.len(), want.len(), "{path}");
            for ((gk, gv), kv) in got.iter().zip(&want) {
                check_described(gk, &kv[0], storages, &format!("{path} key"));
                check_described(gv, &kv[1], storages, &format!("{path}[{gk:?}]"));
            }
        }
        "tensor" => {
            let t = v.as_tensor().unwrap_or_else(|| panic!("{path}: {v:?}"));
            assert_eq!(
                t.dtype().torch_name(),
                j["dtype"].as_str().unwrap(),
                "{path}"
            );
            assert_eq!(t.dims(), dims(&j["shape"]).as_slice(), "{path}");
            assert_eq!(t.stride(), dims(&j["stride"]), "{path}");
            assert_eq!(
                t.storage_offset() as u64,
                j["offset"].as_u64().unwrap(),
                "{path}"
            );
            assert_eq!(values(t), json_values(&j["values"]), "{path}");
            assert_eq!(
                t.requires_grad(),
                j["requires_grad"].as_bool().unwrap(),
                "{path}"
            );
            if j["parameter"].as_bool().unwrap() {
                assert!(t.is_leaf() && t.requires_grad(), "{path}");
            }
            let s = j["storage"].as_u64().unwrap() as usize;
            if s < storages.len() {
                assert!(shares(&storages[s], t), "{path}");
            } else {
                assert_eq!(s, storages.len());
                for other in storages.iter() {
                    assert!(!shares(other, t), "{path} shares a storage it should not");
                }
                storages.push(t.clone());
            }
        }
        other => panic!("{path}: unknown type {other}"),
    }
}

/// Whether two tensors share a storage: an in-place change of one shows in the other.
fn shares(a: &Tensor, b: &Tensor) -> bool {
    let before = b.version();
    no_grad(|| a.copy_(&a.clone_tensor()));
    b.version() != before
}

#[test]
fn a_nested_checkpoint_pytorch_wrote_loads_as_pytorch_describes_it() {
    let want = &data_json()["nested"];
    for file in ["nested.pt", "nested_p4.pt"] {
        let v = load(data_path(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        check_described(&v, want, &mut Vec::new(), file);
    }
}

#[test]
fn a_state_dict_inside_a_checkpoint_loads_into_a_module() {
    let v = load(data_path("nested.pt")).unwrap();
    let sd = v.get("model").unwrap().to_state_dict().unwrap();
    let model = Sequential::new()
        .add(Linear::new(3, 2))
        .add(flambeau::nn::BatchNorm1d::new(2));
    model.load_state_dict(&sd, true).unwrap();
    assert_eq!(
        values(&model.state_dict().get("0.weight").unwrap().clone()),
        values(sd.get("0.weight").unwrap())
    );
}
