//! safetensors: files Python wrote (`tests/data/gen_safetensors.py`) read with their values and
//! `load_file`'s key order and written back byte for byte, round trips of every dtype and of
//! views, the interop fixtures, and every class of malformed input refused with its message.

use flambeau::nn::{self, Module, StateDict};
use flambeau::serialization::{
    load_safetensors, safetensors, safetensors_from_bytes, safetensors_to_bytes, save_safetensors,
};
use flambeau::{DType, Error, Tensor};
use serde_json::Value as Json;
use std::path::PathBuf;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/safetensors")
}

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch/interop")
}

/// A `{dtype, shape, values}` JSON tensor.
fn json_tensor(j: &Json) -> Tensor {
    let shape: Vec<usize> = j["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let vals = j["values"].as_array().unwrap();
    match j["dtype"].as_str().unwrap() {
        "float32" => Tensor::from_vec(
            vals.iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect::<Vec<_>>(),
            shape,
        ),
        "float64" => Tensor::from_vec(
            vals.iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>(),
            shape,
        ),
        "int64" => Tensor::from_vec(
            vals.iter().map(|v| v.as_i64().unwrap()).collect::<Vec<_>>(),
            shape,
        ),
        "bool" => Tensor::from_vec(
            vals.iter()
                .map(|v| v.as_bool().unwrap())
                .collect::<Vec<_>>(),
            shape,
        ),
        other => panic!("dtype {other}"),
    }
}

/// Same dtype, shape and bits (so -0.0 and 0.0 differ).
fn assert_identical(what: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.dtype(), want.dtype(), "{what}: dtype");
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    let bits = |t: &Tensor| -> Vec<u64> {
        match t.dtype() {
            DType::F32 => t
                .to_vec::<f32>()
                .iter()
                .map(|v| v.to_bits() as u64)
                .collect(),
            DType::F64 => t.to_vec::<f64>().iter().map(|v| v.to_bits()).collect(),
            DType::I64 => t.to_vec::<i64>().iter().map(|v| *v as u64).collect(),
            DType::Bool => t.to_vec::<bool>().iter().map(|v| *v as u64).collect(),
        }
    };
    assert_eq!(bits(got), bits(want), "{what}: values");
}

fn mixed() -> Json {
    let text = std::fs::read_to_string(data_dir().join("mixed.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The tensors of mixed.json in the order Python gave them to `save_file`.
fn mixed_state_dict() -> StateDict {
    mixed()["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| (kv[0].as_str().unwrap().to_string(), json_tensor(&kv[1])))
        .collect()
}

#[test]
fn python_file_reads_with_load_files_order_and_values() {
    let fx = mixed();
    let want_keys: Vec<&str> = fx["load_file_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    let want = mixed_state_dict();
    for file in ["mixed.safetensors", "mixed_nometa.safetensors"] {
        let sd = load_safetensors(data_dir().join(file)).unwrap();
        assert_eq!(sd.keys(), want_keys, "{file}");
        for (k, t) in want.iter() {
            assert_identical(&format!("{file} {k:?}"), sd.get(k).unwrap(), t);
        }
    }
    let bytes = std::fs::read(data_dir().join("mixed.safetensors")).unwrap();
    let file = safetensors::read(&bytes).unwrap();
    assert_eq!(
        file.metadata,
        Some(vec![("format".to_string(), "pt".to_string())])
    );
    let bytes = std::fs::read(data_dir().join("mixed_nometa.safetensors")).unwrap();
    assert_eq!(safetensors::read(&bytes).unwrap().metadata, None);
}

#[test]
fn writes_the_bytes_python_writes() {
    let sd = mixed_state_dict();
    let python = std::fs::read(data_dir().join("mixed.safetensors")).unwrap();
    assert_eq!(safetensors_to_bytes(&sd).unwrap(), python);
    let python = std::fs::read(data_dir().join("mixed_nometa.safetensors")).unwrap();
    assert_eq!(safetensors::write(&sd, None).unwrap(), python);
    // The interop fixtures were written by `save_file(model.state_dict(), path)`.
    for name in ["mlp", "cnn"] {
        let python = std::fs::read(interop_dir().join(format!("{name}.safetensors"))).unwrap();
        let sd = safetensors_from_bytes(&python).unwrap();
        assert_eq!(safetensors::write(&sd, None).unwrap(), python, "{name}");
    }
}

/// Tensors of every dtype, 0-d and empty ones, and views of every kind.
fn assorted() -> StateDict {
    flambeau::manual_seed(3);
    let base = Tensor::randn([4, 6]);
    let f64s = Tensor::randn_dtype([3, 2], DType::F64);
    let ints = Tensor::randint(-1000, 1000, [5]);
    let mut sd = StateDict::new();
    sd.insert("f32", base.clone());
    sd.insert("f64", f64s.clone());
    sd.insert("i64", ints.clone());
    sd.insert("bool", base.gt(0.0));
    sd.insert("scalar_f32", Tensor::from_vec(vec![-0.0f32], ()));
    sd.insert("scalar_i64", Tensor::from_vec(vec![i64::MIN], ()));
    sd.insert("empty", Tensor::zeros_dtype([0, 5], DType::F64));
    sd.insert("empty_bool", Tensor::zeros_dtype([3, 0], DType::Bool));
    sd.insert("transposed", base.t());
    sd.insert("narrowed", base.narrow(1, 2, 3));
    sd.insert("row", base.select(0, 2));
    sd.insert("strided", base.slice(1, Some(1), None, 2));
    sd.insert("expanded", ints.narrow(0, 0, 1).expand([3, 4]));
    sd.insert("permuted_f64", f64s.reshape([3, 1, 2]).permute([2, 0, 1]));
    sd.insert("bool_view", base.gt(0.0).t());
    sd
}

#[test]
fn round_trip_every_dtype_and_views() {
    let sd = assorted();
    assert!(!sd.get("transposed").unwrap().is_contiguous());
    let bytes = safetensors_to_bytes(&sd).unwrap();
    let back = safetensors_from_bytes(&bytes).unwrap();
    assert_eq!(back.len(), sd.len());
    for (k, t) in sd.iter() {
        let got = back.get(k).unwrap();
        assert_identical(k, got, t);
        // (Flambeau's `is_contiguous` is false for some empty shapes, PyTorch's never.)
        assert!(got.is_contiguous() || got.numel() == 0, "{k}");
    }
    // 8-byte dtypes first, then by name (the reference writer's order).
    assert_eq!(
        back.keys(),
        vec![
            "expanded",
            "i64",
            "scalar_i64",
            "empty",
            "f64",
            "permuted_f64",
            "f32",
            "narrowed",
            "row",
            "scalar_f32",
            "strided",
            "transposed",
            "bool",
            "bool_view",
            "empty_bool"
        ]
    );
    // Written again, the same bytes.
    assert_eq!(safetensors_to_bytes(&back).unwrap(), bytes);
}

#[test]
fn files_round_trip_and_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("flambeau-st-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.safetensors");
    let sd = assorted();
    save_safetensors(&sd, &path).unwrap();
    let back = load_safetensors(&path).unwrap();
    for (k, t) in sd.iter() {
        assert_identical(k, back.get(k).unwrap(), t);
    }
    std::fs::write(&path, b"\x01\0").unwrap();
    let err = load_safetensors(&path).unwrap_err();
    assert!(matches!(err, Error::Format(_)));
    assert_eq!(
        err.to_string(),
        format!(
            "{}: invalid safetensors file: 2 bytes is too short for the 8-byte header length",
            path.display()
        )
    );
    let missing = dir.join("missing.safetensors");
    let err = load_safetensors(&missing).unwrap_err();
    assert!(matches!(err, Error::Io(_)));
    assert!(
        err.to_string()
            .starts_with(&format!("{}: ", missing.display())),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn interop_fixtures_load_into_models() {
    let fx: Json =
        serde_json::from_str(&std::fs::read_to_string(interop_dir().join("interop.json")).unwrap())
            .unwrap();
    let (mlp, cnn) = interop_models();
    let sd = load_safetensors(interop_dir().join("mlp.safetensors")).unwrap();
    // Data order: the reference writer sorts names within a dtype.
    assert_eq!(sd.keys(), vec!["0.bias", "0.weight", "2.bias", "2.weight"]);
    mlp.load_state_dict(&sd, true).unwrap();
    let m = &fx["models"]["mlp"];
    let out = nn::Forward::forward(&mlp, &json_tensor(&m["input"]));
    let want = json_tensor(&m["output_eval"]);
    let (g, w) = (out.to_vec::<f32>(), want.to_vec::<f32>());
    assert_eq!(out.dims(), want.dims());
    for (a, b) in g.iter().zip(&w) {
        assert!((a - b).abs() <= 1e-6 + 1e-5 * b.abs(), "{a} vs {b}");
    }
    let sd = load_safetensors(interop_dir().join("cnn.safetensors")).unwrap();
    assert_eq!(sd.keys()[0], "1.num_batches_tracked");
    cnn.load_state_dict(&sd, true).unwrap();
    for (k, dt) in fx["models"]["cnn"]["dtypes"].as_object().unwrap() {
        let want = if dt == "torch.int64" {
            DType::I64
        } else {
            DType::F32
        };
        assert_eq!(sd.get(k).unwrap().dtype(), want, "{k}");
    }
}

fn interop_models() -> (nn::Sequential, nn::Sequential) {
    let mlp = nn::Sequential::new()
        .add(nn::Linear::new(4, 8))
        .add(nn::ReLU::new())
        .add(nn::Linear::new(8, 3));
    let conv = nn::ConvOptions {
        padding: nn::functional::Padding::Explicit(vec![1]),
        ..Default::default()
    };
    let cnn = nn::Sequential::new()
        .add(nn::Conv2d::with_options(1, 4, 3, conv))
        .add(nn::BatchNorm2d::new(4))
        .add(nn::ReLU::new())
        .add(nn::MaxPool2d::new(2))
        .add(nn::Flatten::new())
        .add(nn::Linear::new(64, 5));
    (mlp, cnn)
}

/// Files for PyTorch: each interop model, loaded from its fixture, after one training step in
/// Flambeau (a train-mode forward, which moves the batch-norm statistics, and an SGD step on
/// `out.sum()`), saved with `save_safetensors`. `tests/data/check_safetensors_in_torch.py DIR`
/// loads them with `load_state_dict(strict=True)` and compares them with the same step taken in
/// PyTorch. Here, they must read back as the models' state.
#[test]
fn trained_models_saved_for_pytorch() {
    let fx: Json =
        serde_json::from_str(&std::fs::read_to_string(interop_dir().join("interop.json")).unwrap())
            .unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("safetensors-for-pytorch");
    std::fs::create_dir_all(&dir).unwrap();
    let (mlp, cnn) = interop_models();
    for (name, m) in [("mlp", &mlp), ("cnn", &cnn)] {
        let sd = load_safetensors(interop_dir().join(format!("{name}.safetensors"))).unwrap();
        m.load_state_dict(&sd, true).unwrap();
        m.train(true);
        let params = m.parameters();
        let mut opt = flambeau::optim::SGD::new(params.iter().cloned(), 0.1);
        let out = nn::Forward::forward(m, &json_tensor(&fx["models"][name]["input"]));
        out.sum().backward();
        flambeau::optim::Optimizer::step(&mut opt);
        let path = dir.join(format!("{name}.safetensors"));
        save_safetensors(&m.state_dict(), &path).unwrap();
        let back = load_safetensors(&path).unwrap();
        for (k, t) in m.state_dict().iter() {
            assert_identical(k, back.get(k).unwrap(), t);
        }
        // The step changed every weight (a bias may not move: a conv bias before a train-mode
        // batch norm gets a gradient of rounding size) and the batch-norm buffers, so the check
        // in PyTorch compares something new.
        for (k, t) in sd.iter().filter(|(k, _)| k.ends_with("weight")) {
            assert!(!back.get(k).unwrap().equal(t), "{name} {k} did not change");
        }
        for k in ["1.running_mean", "1.running_var", "1.num_batches_tracked"] {
            if let Some(t) = sd.get(k) {
                assert!(!back.get(k).unwrap().equal(t), "{name} {k} did not change");
            }
        }
    }
}

#[test]
fn unsupported_dtypes_are_refused_by_name() {
    let bytes = std::fs::read(data_dir().join("float16.safetensors")).unwrap();
    let err = safetensors_from_bytes(&bytes).unwrap_err();
    assert!(matches!(err, Error::Format(_)));
    assert_eq!(
        err.to_string(),
        "invalid safetensors file: tensor 'half' has dtype F16, which Flambeau does not support (it reads F32, F64, I64 and BOOL)"
    );
    for dtype in ["BF16", "I32", "U8", "F8_E4M3", "U64"] {
        let h = format!(r#"{{"x":{{"dtype":"{dtype}","shape":[],"data_offsets":[0,1]}}}}"#);
        let err = safetensors_from_bytes(&file(&h, &[0]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("tensor 'x' has dtype {dtype}")),
            "{err}"
        );
    }
}

/// A safetensors file from its header text and data.
fn file(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn err_of(bytes: &[u8]) -> String {
    match safetensors_from_bytes(bytes) {
        Ok(sd) => panic!("accepted, with keys {:?}", sd.keys()),
        Err(e @ Error::Format(_)) => e
            .to_string()
            .strip_prefix("invalid safetensors file: ")
            .unwrap()
            .to_string(),
        Err(e) => panic!("not a format error: {e:?}"),
    }
}

fn one(info: &str) -> String {
    format!(r#"{{"a":{info}}}"#)
}

#[test]
fn malformed_lengths() {
    assert_eq!(
        err_of(b""),
        "0 bytes is too short for the 8-byte header length"
    );
    assert_eq!(
        err_of(b"\x04\0\0\0\0\0\0"),
        "7 bytes is too short for the 8-byte header length"
    );
    let mut huge = (1u64 << 40).to_le_bytes().to_vec();
    huge.extend_from_slice(b"{}");
    assert_eq!(
        err_of(&huge),
        "the header length 1099511627776 is larger than the format's limit of 100000000 bytes"
    );
    assert_eq!(
        err_of(&u64::MAX.to_le_bytes()),
        "the header length 18446744073709551615 is larger than the format's limit of 100000000 bytes"
    );
    let mut past = 3u64.to_le_bytes().to_vec();
    past.extend_from_slice(b"{}");
    assert_eq!(
        err_of(&past),
        "the header length 3 goes past the end of the file (10 bytes)"
    );
}

#[test]
fn malformed_json() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "expected `{`, found the end at byte 0 of the header"),
        (b"[]", "expected `{` at byte 0 of the header"),
        (b"{", "expected a string key at byte 1 of the header"),
        (b"{\"a\" 1}", "expected `:` at byte 5 of the header"),
        (b"{}x", "trailing characters at byte 2 of the header"),
        (b"{} {}", "trailing characters at byte 3 of the header"),
        (b"{\"a", "unterminated string at byte 3 of the header"),
        (b"{\"a\\q\":1}", "invalid escape at byte 4 of the header"),
        (
            b"{\"\\ud800\":1}",
            "lone leading surrogate in a \\u escape at byte 8 of the header",
        ),
        (
            b"{\"__metadata__\":{}, }",
            "trailing comma at byte 20 of the header",
        ),
        (
            b"{\"__metadata__\":{} \"b\":{}}",
            "expected `,` or `}` at byte 19 of the header",
        ),
        (
            b"{\"__metadata__\"\n:\t{} ,\"b\x01\":{}}",
            "control character in a string at byte 24 of the header",
        ),
    ];
    for (header, want) in cases {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        assert_eq!(
            err_of(&bytes),
            format!("the header is not valid JSON: {want}"),
            "{:?}",
            String::from_utf8_lossy(header)
        );
    }
    let mut bytes = 3u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"{\xff}");
    assert_eq!(err_of(&bytes), "the header is not UTF-8 (at byte 1)");
    // Unknown keys of any nesting are skipped (as the reference reader does), up to a depth.
    let skipped =
        one(r#"{"dtype":"F32","x":[1,{"y":-2.5e3},null,true],"shape":[1],"data_offsets":[0,4]}"#);
    assert_eq!(
        safetensors_from_bytes(&file(&skipped, &[0; 4]))
            .unwrap()
            .keys(),
        vec!["a"]
    );
    let deep = one(&format!(
        r#"{{"x":{}{},"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
        "[".repeat(1000),
        "]".repeat(1000)
    ));
    assert_eq!(
        err_of(&file(&deep, &[0; 4])),
        "the header is not valid JSON: nested too deeply at byte 138 of the header"
    );
}

#[test]
fn malformed_entries() {
    let cases: &[(&str, &str)] = &[
        (
            "[]",
            "tensor 'a': expected an object with dtype, shape and data_offsets",
        ),
        (
            r#"{"shape":[],"data_offsets":[0,4]}"#,
            "tensor 'a': missing `dtype`",
        ),
        (
            r#"{"dtype":"F32","data_offsets":[0,4]}"#,
            "tensor 'a': missing `shape`",
        ),
        (
            r#"{"dtype":"F32","shape":[1]}"#,
            "tensor 'a': missing `data_offsets`",
        ),
        (
            r#"{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}"#,
            "tensor 'a': `dtype` appears twice",
        ),
        (
            r#"{"dtype":3,"shape":[1],"data_offsets":[0,4]}"#,
            "tensor 'a': `dtype` must be a string",
        ),
        (
            r#"{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}"#,
            "tensor 'a' has an unknown dtype 'Q7'",
        ),
        (
            r#"{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}"#,
            "tensor 'a': `shape` must be a list of non-negative integers",
        ),
        (
            r#"{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}"#,
            "tensor 'a': `shape` must be a list of non-negative integers",
        ),
        (
            r#"{"dtype":"F32","shape":1,"data_offsets":[0,4]}"#,
            "tensor 'a': `shape` must be a list of non-negative integers",
        ),
        (
            r#"{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}"#,
            "tensor 'a': `data_offsets` must be [begin, end], got 3 numbers",
        ),
        (
            r#"{"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,4]}"#,
            "tensor 'a': shape dimension 9223372036854775808 is too large",
        ),
        (
            r#"{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551616]}"#,
            "the header is not valid JSON: integer too large at byte 50 of the header",
        ),
    ];
    for (info, want) in cases {
        assert_eq!(err_of(&file(&one(info), &[0; 4])), *want, "{info}");
    }
    let meta = |m: &str| format!(r#"{{"__metadata__":{m}}}"#);
    assert_eq!(
        err_of(&file(&meta(r#"{"a":1}"#), &[])),
        "`__metadata__` must map strings to strings"
    );
    assert_eq!(
        err_of(&file(&meta("[]"), &[])),
        "`__metadata__` must map strings to strings"
    );
    assert_eq!(
        err_of(&file(r#"{"__metadata__":{},"__metadata__":{}}"#, &[])),
        "the header has two `__metadata__` entries"
    );
    let read = safetensors::read(&file(&meta("null"), &[])).unwrap();
    assert!(read.tensors.is_empty() && read.metadata.is_none());
    let dup = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#;
    assert_eq!(
        err_of(&file(dup, &[0; 8])),
        "the header names tensor 'a' twice"
    );
    let bools = one(r#"{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}"#);
    assert_eq!(
        err_of(&file(&bools, &[1, 0, 2])),
        "tensor 'a': BOOL element 2 is the byte 2, not 0 or 1"
    );
}

#[test]
fn malformed_ranges() {
    let two = |a: &str, b: &str| {
        format!(
            r#"{{"a":{{"dtype":"F32","shape":[1],"data_offsets":{a}}},"b":{{"dtype":"F32","shape":[1],"data_offsets":{b}}}}}"#
        )
    };
    assert_eq!(
        err_of(&file(&two("[0,4]", "[4,8]"), &[0; 4])),
        "tensor 'b': data_offsets [4, 8] go past the end of the data (4 bytes)"
    );
    assert_eq!(
        err_of(&file(&two("[0,4]", "[2,6]"), &[0; 8])),
        "tensor 'b': data_offsets [2, 6] overlap those of 'a' [0, 4]"
    );
    assert_eq!(
        err_of(&file(&two("[0,4]", "[0,4]"), &[0; 4])),
        "tensor 'b': data_offsets [0, 4] overlap those of 'a' [0, 4]"
    );
    assert_eq!(
        err_of(&file(&two("[0,4]", "[8,12]"), &[0; 12])),
        "tensor 'b': data_offsets [8, 12] leave bytes 4..8 of the data unused"
    );
    assert_eq!(
        err_of(&file(&two("[4,8]", "[8,12]"), &[0; 12])),
        "tensor 'a': data_offsets [4, 8] leave bytes 0..4 of the data unused"
    );
    assert_eq!(
        err_of(&file(&two("[0,4]", "[4,8]"), &[0; 12])),
        "the tensors cover 8 bytes of data, but 12 follow the header"
    );
    assert_eq!(
        err_of(&file(&two("[0,4]", "[8,4]"), &[0; 8])),
        "tensor 'b': data_offsets [8, 4] end before they begin"
    );
    assert_eq!(
        err_of(&file(
            &one(r#"{"dtype":"F32","shape":[2],"data_offsets":[0,4]}"#),
            &[0; 4]
        )),
        "tensor 'a': shape [2] of F32 is 8 bytes, but data_offsets [0, 4] hold 4"
    );
    assert_eq!(
        err_of(&file(
            &one(r#"{"dtype":"F64","shape":[4611686018427387904,4],"data_offsets":[0,0]}"#),
            &[]
        )),
        "tensor 'a': shape [4611686018427387904, 4] has too many elements"
    );
    // Zero elements, but strides that overflow.
    assert_eq!(
        err_of(&file(
            &one(r#"{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}"#),
            &[]
        )),
        "tensor 'a': shape [0, 4294967296, 4294967296] has too many elements"
    );
    // The ranges in any header order: the tensors come back in data order.
    let sd = safetensors_from_bytes(&file(&two("[4,8]", "[0,4]"), &[0; 8])).unwrap();
    assert_eq!(sd.keys(), vec!["b", "a"]);
}

#[test]
fn writing_refuses_a_tensor_named_metadata() {
    let mut sd = StateDict::new();
    sd.insert("__metadata__", Tensor::zeros([1]));
    let err = safetensors_to_bytes(&sd).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)));
    assert_eq!(
        err.to_string(),
        "a tensor cannot be named `__metadata__` in a safetensors file"
    );
}

#[test]
fn every_truncation_and_byte_flip_is_an_error_or_a_file() {
    let bytes = std::fs::read(data_dir().join("mixed.safetensors")).unwrap();
    for n in 0..bytes.len() {
        assert!(safetensors_from_bytes(&bytes[..n]).is_err(), "prefix {n}");
    }
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= bit;
            // Data bytes may flip into other valid values; the loader must only never panic.
            let _ = safetensors_from_bytes(&b);
        }
    }
}
