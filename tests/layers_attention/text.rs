//! Reprs, state_dict keys and error messages against PyTorch's text.

use super::*;

fn text(section: &str, name: &str) -> &'static str {
    REF[section][name].as_str().unwrap()
}

#[test]
fn reprs_match_pytorch() {
    // Module construction draws from the default generator: not between another test's seed
    // and its draws.
    let _g = crate::rng_lock();
    let sep = MultiheadAttentionOptions {
        kdim: Some(4),
        vdim: Some(5),
        add_bias_kv: true,
        bias: false,
        ..Default::default()
    };
    let d = TransformerLayerOptions {
        dim_feedforward: 16,
        ..Default::default()
    };
    assert_eq!(
        format!("{}", MultiheadAttention::new(8, 2)),
        text("reprs", "mha")
    );
    assert_eq!(
        format!("{}", MultiheadAttention::with_options(6, 2, sep)),
        text("reprs", "mha_separate_no_bias")
    );
    assert_eq!(
        format!("{}", TransformerEncoderLayer::with_options(8, 2, d)),
        text("reprs", "encoder_layer")
    );
    assert_eq!(
        format!(
            "{}",
            TransformerEncoderLayer::with_options(
                8,
                2,
                TransformerLayerOptions { bias: false, ..d }
            )
        ),
        text("reprs", "encoder_layer_bias_false")
    );
    assert_eq!(
        format!(
            "{}",
            TransformerDecoderLayer::with_options(
                8,
                2,
                TransformerLayerOptions { dropout: 0.2, ..d }
            )
        ),
        text("reprs", "decoder_layer")
    );
    let enc = TransformerEncoder::new(
        TransformerEncoderLayer::with_options(8, 2, d),
        2,
        Some(LayerNorm::new(&[8])),
    );
    assert_eq!(format!("{enc}"), text("reprs", "encoder"));
    let tr = Transformer::with_options(TransformerOptions {
        d_model: 8,
        nhead: 2,
        num_encoder_layers: 2,
        num_decoder_layers: 1,
        layer: d,
    });
    assert_eq!(format!("{tr}"), text("reprs", "transformer"));
}

#[test]
fn state_dict_keys_match_pytorch() {
    // Module construction draws from the default generator: not between another test's seed
    // and its draws.
    let _g = crate::rng_lock();
    let keys = |name: &str| -> Vec<&'static str> {
        REF["keys"][name]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect()
    };
    let d = TransformerLayerOptions {
        dim_feedforward: 16,
        ..Default::default()
    };
    let sep = MultiheadAttentionOptions {
        kdim: Some(4),
        vdim: Some(5),
        add_bias_kv: true,
        ..Default::default()
    };
    assert_eq!(
        MultiheadAttention::with_options(6, 2, sep)
            .state_dict()
            .keys(),
        keys("mha_separate")
    );
    let enc = TransformerEncoder::new(
        TransformerEncoderLayer::with_options(8, 2, d),
        2,
        Some(LayerNorm::new(&[8])),
    );
    assert_eq!(enc.state_dict().keys(), keys("encoder"));
    let dec = TransformerDecoder::new(TransformerDecoderLayer::with_options(8, 2, d), 2, None);
    assert_eq!(dec.state_dict().keys(), keys("decoder"));
    let tr = Transformer::with_options(TransformerOptions {
        d_model: 8,
        nhead: 2,
        num_encoder_layers: 2,
        num_decoder_layers: 1,
        layer: d,
    });
    assert_eq!(tr.state_dict().keys(), keys("transformer"));
}

#[track_caller]
fn panic_message(f: impl FnOnce()) -> String {
    let e = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap()
}

/// A named call that must panic with PyTorch's message.
type ErrorCase<'a> = (&'a str, Box<dyn FnOnce() + 'a>);

#[test]
fn errors_match_pytorch() {
    // Module construction draws from the default generator: not between another test's seed
    // and its draws.
    let _g = crate::rng_lock();
    let err = |n: &str| text("errors", n).to_string();
    let (q4, k4) = (Tensor::randn([1, 2, 3, 4]), Tensor::randn([1, 2, 5, 4]));
    let x3 = Tensor::randn([3, 2, 4]);
    let mha = MultiheadAttention::new(4, 2);
    let sd = |q: &Tensor, k: &Tensor, m: Option<&Tensor>, causal: bool| {
        F::scaled_dot_product_attention(q, k, k, m, 0.0, causal, None);
    };
    let cases: Vec<ErrorCase<'_>> = vec![
        (
            "divisible",
            Box::new(|| drop(MultiheadAttention::new(6, 4))),
        ),
        (
            "zero_heads",
            Box::new(|| drop(MultiheadAttention::new(6, 0))),
        ),
        (
            "sdpa_mask_and_causal",
            Box::new(|| {
                sd(
                    &q4,
                    &k4,
                    Some(&Tensor::ones_dtype([3, 5], DType::Bool)),
                    true,
                )
            }),
        ),
        (
            "sdpa_dtypes",
            Box::new(|| {
                drop(F::scaled_dot_product_attention(
                    &q4,
                    &k4.to_dtype(DType::F64),
                    &k4,
                    None,
                    0.0,
                    false,
                    None,
                ))
            }),
        ),
        (
            "sdpa_mask_dtype",
            Box::new(|| {
                sd(
                    &q4,
                    &k4,
                    Some(&Tensor::ones_dtype([3, 5], DType::I64)),
                    false,
                )
            }),
        ),
        (
            "sdpa_dims",
            Box::new(|| sd(&q4.flatten(0, -1).narrow(0, 0, 4), &k4, None, false)),
        ),
        (
            "mha_causal_needs_mask",
            Box::new(|| {
                drop(mha.self_attention(
                    &x3,
                    MhaOptions {
                        is_causal: true,
                        ..Default::default()
                    },
                ))
            }),
        ),
        (
            "mha_mask_shape",
            Box::new(|| {
                drop(mha.self_attention(
                    &x3,
                    MhaOptions {
                        attn_mask: Some(&Tensor::zeros([3, 4])),
                        ..Default::default()
                    },
                ))
            }),
        ),
        (
            "mha_mask_3d_shape",
            Box::new(|| {
                drop(mha.self_attention(
                    &x3,
                    MhaOptions {
                        attn_mask: Some(&Tensor::zeros([2, 3, 3])),
                        ..Default::default()
                    },
                ))
            }),
        ),
        (
            "mha_query_dims",
            Box::new(|| drop(mha.self_attention(&Tensor::zeros([4]), MhaOptions::default()))),
        ),
        (
            "mha_kpm_dims",
            Box::new(|| {
                drop(mha.self_attention(
                    &x3,
                    MhaOptions {
                        key_padding_mask: Some(&Tensor::zeros_dtype([2, 3, 1], DType::Bool)),
                        ..Default::default()
                    },
                ))
            }),
        ),
        (
            "mha_embed_dim",
            Box::new(|| {
                drop(mha.forward(&Tensor::randn([3, 2, 5]), &x3, &x3, MhaOptions::default()))
            }),
        ),
        (
            "activation",
            Box::new(|| {
                TransformerActivation::parse("tanh");
            }),
        ),
    ];
    for (name, f) in cases {
        assert_eq!(panic_message(f), err(name), "{name}");
    }
    let small = Transformer::with_options(TransformerOptions {
        d_model: 4,
        nhead: 2,
        num_encoder_layers: 1,
        num_decoder_layers: 1,
        layer: layer_opts(8),
    });
    let m = TransformerMasks::default();
    assert_eq!(
        panic_message(|| drop(small.forward(
            &Tensor::randn([3, 2, 4]),
            &Tensor::randn([3, 1, 4]),
            m
        ))),
        err("batch_number")
    );
    assert_eq!(
        panic_message(|| drop(small.forward(
            &Tensor::randn([3, 2, 4]),
            &Tensor::randn([3, 2, 5]),
            m
        ))),
        err("feature_number")
    );
}

thread_local! {
    static LOCATION: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Misuse panics point at the caller's line, not at a file under src/.
#[test]
fn panics_point_at_the_caller() {
    static HOOK: Mutex<()> = Mutex::new(());
    let _g = crate::rng_lock();
    let _h = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let loc = info.location().map(|l| l.file().replace('\\', "/"));
        LOCATION.with(|l| *l.borrow_mut() = loc);
    }));
    let x3 = Tensor::randn([3, 2, 4]);
    let mha = MultiheadAttention::new(4, 2);
    let q = Tensor::randn([2, 3, 4]);
    let cases: Vec<ErrorCase<'_>> = vec![
        (
            "MultiheadAttention::new",
            Box::new(|| drop(MultiheadAttention::new(6, 4))),
        ),
        (
            "scaled_dot_product_attention",
            Box::new(|| {
                drop(F::scaled_dot_product_attention(
                    &q,
                    &q.to_dtype(DType::F64),
                    &q,
                    None,
                    0.0,
                    false,
                    None,
                ))
            }),
        ),
        (
            "MultiheadAttention::forward",
            Box::new(|| {
                drop(mha.self_attention(
                    &x3,
                    MhaOptions {
                        is_causal: true,
                        ..Default::default()
                    },
                ))
            }),
        ),
        (
            "TransformerActivation::parse",
            Box::new(|| {
                TransformerActivation::parse("tanh");
            }),
        ),
    ];
    let mut wrong = Vec::new();
    for (what, f) in cases {
        LOCATION.with(|l| *l.borrow_mut() = None);
        assert!(catch_unwind(AssertUnwindSafe(f)).is_err());
        let loc = LOCATION.with(|l| l.borrow_mut().take()).unwrap_or_default();
        if loc != file!().replace('\\', "/") {
            wrong.push(format!("{what}: {loc}"));
        }
    }
    std::panic::set_hook(previous);
    assert!(wrong.is_empty(), "{wrong:?}");
}
