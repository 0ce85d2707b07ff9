//! Attention and transformers against PyTorch: `F.scaled_dot_product_attention`,
//! `nn.MultiheadAttention`, the Transformer layers, stacks and `nn.Transformer`.
//!
//! - float64 `gradcheck` + `gradgradcheck` of SDPA (masks, causal, scale, non-contiguous inputs),
//!   multi-head attention (self, cross, kdim/vdim, masks, bias_kv, zero_attn, both paths) and the
//!   encoder/decoder layers (norm_first both ways, gelu);
//! - numbers from PyTorch 2.15 (tests/data/gen_attention.py wrote tests/data/attention_reference.json):
//!   mask semantics, fully masked rows, dropout streams, init bit for bit (state dicts), outputs and
//!   gradients of modules built after the same seed;
//! - reprs, state_dict keys and error messages against PyTorch's text; train/eval behaviour.

use flambeau::autograd::{GradcheckOptions, gradcheck, gradgradcheck};
use flambeau::nn::functional::{self as F, MhaOptions, MhaParams};
use flambeau::nn::{
    DecoderMasks, EncoderMasks, Forward, LayerNorm, Module, MultiheadAttention,
    MultiheadAttentionOptions, Transformer, TransformerActivation, TransformerDecoder,
    TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer, TransformerLayerOptions,
    TransformerMasks, TransformerOptions,
};
use flambeau::{DType, Generator, Tensor, manual_seed, no_grad};
use serde_json::Value as Json;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{LazyLock, Mutex};

const REFERENCE: &str = include_str!("data/attention_reference.json");
static REF: LazyLock<Json> = LazyLock::new(|| serde_json::from_str(REFERENCE).unwrap());
/// Tests that seed the default generator run one at a time.
pub(crate) static RNG_LOCK: Mutex<()> = Mutex::new(());

fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn case(name: &str) -> &'static Json {
    &REF["cases"][name]
}

/// A stored tensor: bool when its values are bools, else float64.
fn t(j: &Json) -> Tensor {
    let shape: Vec<usize> = j["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let vals = j["values"].as_array().unwrap();
    if vals.first().is_some_and(|v| v.is_boolean()) {
        Tensor::from_vec(
            vals.iter()
                .map(|v| v.as_bool().unwrap())
                .collect::<Vec<_>>(),
            shape,
        )
    } else {
        Tensor::from_vec(
            vals.iter()
                .map(|v| match v.as_str() {
                    // The generator writes JSON's missing infinities as strings.
                    Some(s) => s.parse::<f64>().unwrap(),
                    None => v.as_f64().unwrap(),
                })
                .collect::<Vec<_>>(),
            shape,
        )
    }
}

fn input(c: &Json, name: &str) -> Tensor {
    t(&c["inputs"][name])
}

#[track_caller]
fn assert_close(what: &str, got: &Tensor, want: &Tensor, rtol: f64, atol: f64) {
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    let (g, w) = (got.to_vec::<f64>(), want.to_vec::<f64>());
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        assert!(
            (a - b).abs() <= atol + rtol * b.abs(),
            "{what}: element {i} is {a}, PyTorch has {b}"
        );
    }
}

#[track_caller]
fn close64(what: &str, got: &Tensor, want: &Json) {
    assert_close(what, got, &t(want), 1e-10, 1e-12);
}

/// The module's state dict equals PyTorch's: keys in order, float32 values bit for bit.
#[track_caller]
fn check_init(m: &dyn Module, c: &Json) {
    let sd = m.state_dict();
    let keys: Vec<&str> = c["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(sd.keys(), keys);
    for k in keys {
        let got = sd.get(k).unwrap();
        assert_eq!(got.dtype(), DType::F32, "{k}");
        let want = t(&c["state_dict"][k]).to_dtype(DType::F32);
        let bits =
            |x: &Tensor| -> Vec<u32> { x.to_vec::<f32>().iter().map(|v| v.to_bits()).collect() };
        assert_eq!(bits(got), bits(&want), "{k} differs from PyTorch's init");
    }
}

/// Builds a module after `manual_seed(seed)`, checks its init, converts it to float64.
fn built<M: Module>(c: &Json, make: impl FnOnce() -> M) -> M {
    manual_seed(c["seed"].as_u64().unwrap());
    let mut m = make();
    check_init(&m, c);
    m.to_dtype(DType::F64);
    m
}

/// `sum(out * g)`'s gradients with respect to `wrt`.
fn grads(out: &Tensor, g: &Tensor, wrt: &[&Tensor]) -> Vec<Tensor> {
    flambeau::autograd::grad(&[&out.mul(g).sum()], wrt, &[None], false, false, true)
        .into_iter()
        .map(|g| g.unwrap())
        .collect()
}

fn layer_opts(ff: usize) -> TransformerLayerOptions {
    TransformerLayerOptions {
        dim_feedforward: ff,
        dropout: 0.0,
        ..Default::default()
    }
}

#[path = "layers_attention/gradchecks.rs"]
mod gradchecks;
#[path = "layers_attention/text.rs"]
mod text;

// ---------------------------------------------------------------------------------------------
// Numbers from PyTorch
// ---------------------------------------------------------------------------------------------

#[test]
fn sdpa_matches_pytorch() {
    let c = case("sdpa_bool_mask_full_row");
    let (q, k, v) = (
        input(c, "q").requires_grad_(true),
        input(c, "k").requires_grad_(true),
        input(c, "v").requires_grad_(true),
    );
    let mask = input(c, "mask");
    let out = F::scaled_dot_product_attention(&q, &k, &v, Some(&mask), 0.0, false, None);
    close64("bool mask output", &out, &c["output"]);
    // The fully masked row is 0, not NaN, and so is its gradient.
    assert_eq!(out.select(1, 1).abs().sum().item::<f64>(), 0.0);
    let gr = grads(&out, &input(c, "g"), &[&q, &k, &v]);
    for (g, n) in gr.iter().zip(["q", "k", "v"]) {
        close64(&format!("grad {n}"), g, &c["grads"][n]);
    }

    let c = case("sdpa_causal_rect_scale");
    let q = input(c, "q").requires_grad_(true);
    let out = F::scaled_dot_product_attention(
        &q,
        &input(c, "k"),
        &input(c, "v"),
        None,
        0.0,
        true,
        Some(0.3),
    );
    close64("causal, scale 0.3", &out, &c["output"]);
    close64(
        "causal grad q",
        &grads(&out, &input(c, "g"), &[&q])[0],
        &c["grads"]["q"],
    );

    let c = case("sdpa_float_mask_broadcast_neg_scale");
    let m = input(c, "mask");
    let out = F::scaled_dot_product_attention(
        &input(c, "q"),
        &input(c, "k"),
        &input(c, "v"),
        Some(&m),
        0.0,
        false,
        Some(-0.5),
    );
    close64("float mask, negative scale", &out, &c["output"]);
}

#[test]
fn sdpa_dropout_draws_as_pytorch() {
    let _g = rng_lock();
    let c = case("sdpa_dropout_f32");
    let f = |n: &str| input(c, n).to_dtype(DType::F32);
    manual_seed(7);
    let out = F::scaled_dot_product_attention(&f("q"), &f("k"), &f("v"), None, 0.4, false, None);
    assert_close("dropout 0.4", &out, &t(&c["output"]), 1e-5, 1e-6);
    // And a different seed draws a different mask.
    manual_seed(8);
    let other = F::scaled_dot_product_attention(&f("q"), &f("k"), &f("v"), None, 0.4, false, None);
    assert!(!other.allclose(&out, 1e-5, 1e-6));
}

#[test]
fn mha_matches_pytorch() {
    let _g = rng_lock();
    // Bool masks: True = not allowed; a padded key; per-head weights.
    let c = case("mha_self_masks_per_head");
    let m = built(c, || MultiheadAttention::new(6, 3));
    let x = input(c, "x").requires_grad_(true);
    let (am, kpm) = (input(c, "attn_mask"), input(c, "kpm"));
    let opts = MhaOptions {
        attn_mask: Some(&am),
        key_padding_mask: Some(&kpm),
        average_attn_weights: false,
        ..Default::default()
    };
    let (out, w) = m.forward(&x, &x, &x, opts);
    close64("output", &out, &c["output"]);
    let w = w.unwrap();
    close64("per-head weights", &w, &c["weights"]);
    // Batch 0's padded key 3 gets no weight from any head.
    assert_eq!(w.select(0, 0).select(2, 3).abs().sum().item::<f64>(), 0.0);
    let wi = m.in_proj_weight.as_ref().unwrap();
    let gr = grads(&out, &input(c, "g"), &[&x, wi]);
    close64("grad x", &gr[0], &c["grads"]["x"]);
    close64("grad in_proj_weight", &gr[1], &c["grads"]["in_proj_weight"]);

    let c = case("mha_kdim_vdim_bias_kv_zero_attn");
    let o = MultiheadAttentionOptions {
        kdim: Some(4),
        vdim: Some(5),
        add_bias_kv: true,
        add_zero_attn: true,
        ..Default::default()
    };
    let m = built(c, || MultiheadAttention::with_options(6, 2, o));
    let am = input(c, "attn_mask");
    let (out, w) = m.forward(
        &input(c, "q"),
        &input(c, "k"),
        &input(c, "v"),
        MhaOptions {
            attn_mask: Some(&am),
            ..Default::default()
        },
    );
    close64("kdim/vdim output", &out, &c["output"]);
    close64("kdim/vdim weights", &w.unwrap(), &c["weights"]);

    let c = case("mha_unbatched_float_kpm");
    let o = MultiheadAttentionOptions {
        batch_first: true,
        ..Default::default()
    };
    let m = built(c, || MultiheadAttention::with_options(4, 2, o));
    let (x, kpm) = (input(c, "x"), input(c, "kpm"));
    let (out, w) = m.self_attention(
        &x,
        MhaOptions {
            key_padding_mask: Some(&kpm),
            need_weights: false,
            ..Default::default()
        },
    );
    close64("unbatched, float key padding mask", &out, &c["output"]);
    assert!(w.is_none());
}

#[test]
fn mha_dropout_in_training_only() {
    let _g = rng_lock();
    let c = case("mha_dropout_train_f32");
    manual_seed(c["seed"].as_u64().unwrap());
    let m = MultiheadAttention::with_options(
        4,
        2,
        MultiheadAttentionOptions {
            dropout: 0.5,
            ..Default::default()
        },
    );
    check_init(&m, c);
    let x = input(c, "x").to_dtype(DType::F32);
    manual_seed(15);
    let (out, w) = m.self_attention(&x, MhaOptions::default());
    assert_close("dropout, weights path", &out, &t(&c["output"]), 1e-4, 1e-5);
    assert_close(
        "dropped weights",
        &w.unwrap(),
        &t(&c["weights"]),
        1e-4,
        1e-5,
    );
    manual_seed(16);
    let (out, _) = m.self_attention(
        &x,
        MhaOptions {
            need_weights: false,
            ..Default::default()
        },
    );
    assert_close(
        "dropout, SDPA path",
        &out,
        &t(&c["output_sdpa"]),
        1e-4,
        1e-5,
    );
    // In eval mode, no dropout: the two paths agree and repeat.
    m.eval();
    let (a, _) = m.self_attention(&x, MhaOptions::default());
    let (b, _) = m.self_attention(
        &x,
        MhaOptions {
            need_weights: false,
            ..Default::default()
        },
    );
    assert!(a.allclose(&b, 1e-5, 1e-6));
    m.train(true);
    let (c1, _) = m.self_attention(&x, MhaOptions::default());
    assert!(!c1.allclose(&a, 1e-5, 1e-6));
}

#[test]
fn transformer_layers_match_pytorch() {
    let _g = rng_lock();
    let c = case("encoder_layer_norm_first_gelu");
    let o = TransformerLayerOptions {
        activation: TransformerActivation::Gelu,
        norm_first: true,
        ..layer_opts(12)
    };
    let m = built(c, || TransformerEncoderLayer::with_options(6, 2, o));
    let x = input(c, "x").requires_grad_(true);
    let (sm, kpm) = (input(c, "src_mask"), input(c, "kpm"));
    let out = m.forward_with(
        &x,
        EncoderMasks {
            src_mask: Some(&sm),
            src_key_padding_mask: Some(&kpm),
            is_causal: None,
        },
    );
    close64("encoder layer", &out, &c["output"]);
    close64(
        "encoder layer grad x",
        &grads(&out, &input(c, "g"), &[&x])[0],
        &c["grads"]["x"],
    );

    let c = case("encoder_layer_bias_false");
    let m = built(c, || {
        TransformerEncoderLayer::with_options(
            4,
            2,
            TransformerLayerOptions {
                bias: false,
                ..layer_opts(8)
            },
        )
    });
    close64(
        "encoder layer, bias=False",
        &m.forward(&input(c, "x")),
        &c["output"],
    );

    let c = case("decoder_layer_norm_first");
    let o = TransformerLayerOptions {
        norm_first: true,
        batch_first: true,
        ..layer_opts(12)
    };
    let m = built(c, || TransformerDecoderLayer::with_options(6, 2, o));
    let (tm, mk) = (input(c, "tgt_mask"), input(c, "mkpm"));
    let masks = DecoderMasks {
        tgt_mask: Some(&tm),
        memory_key_padding_mask: Some(&mk),
        ..Default::default()
    };
    close64(
        "decoder layer",
        &m.forward(&input(c, "tgt"), &input(c, "memory"), masks),
        &c["output"],
    );

    let c = case("encoder_stack_causal");
    let m = built(c, || {
        let layer = TransformerEncoderLayer::with_options(
            4,
            2,
            TransformerLayerOptions {
                batch_first: true,
                ..layer_opts(8)
            },
        );
        TransformerEncoder::new(layer, 2, Some(LayerNorm::new(&[4])))
    });
    let mask = input(c, "mask");
    let out = m.forward_with(
        &input(c, "x"),
        EncoderMasks {
            src_mask: Some(&mask),
            ..Default::default()
        },
    );
    close64("encoder stack, detected causal mask", &out, &c["output"]);

    let c = case("transformer_small");
    let m = built(c, || {
        Transformer::with_options(TransformerOptions {
            d_model: 4,
            nhead: 2,
            num_encoder_layers: 2,
            num_decoder_layers: 1,
            layer: layer_opts(8),
        })
    });
    let src = input(c, "src").requires_grad_(true);
    let (tm, sk) = (input(c, "tgt_mask"), input(c, "skpm"));
    let masks = TransformerMasks {
        tgt_mask: Some(&tm),
        src_key_padding_mask: Some(&sk),
        memory_key_padding_mask: Some(&sk),
        ..Default::default()
    };
    let out = m.forward(&src, &input(c, "tgt"), masks);
    close64("transformer", &out, &c["output"]);
    close64(
        "transformer grad src",
        &grads(&out, &input(c, "g"), &[&src])[0],
        &c["grads"]["src"],
    );

    // Dropout everywhere in a training layer, drawn in PyTorch's order.
    let c = case("encoder_layer_dropout_train_f32");
    manual_seed(c["seed"].as_u64().unwrap());
    let m = TransformerEncoderLayer::with_options(
        4,
        2,
        TransformerLayerOptions {
            dim_feedforward: 8,
            dropout: 0.3,
            ..Default::default()
        },
    );
    check_init(&m, c);
    manual_seed(62);
    let out = m.forward(&input(c, "x").to_dtype(DType::F32));
    assert_close(
        "encoder layer with dropout",
        &out,
        &t(&c["output"]),
        1e-4,
        1e-5,
    );
}

#[test]
fn causal_hint_equals_the_mask() {
    let _g = rng_lock();
    manual_seed(9);
    let mut m = MultiheadAttention::new(4, 2);
    m.to_dtype(DType::F64);
    let x = Tensor::randn([3, 2, 4]).to_dtype(DType::F64);
    let mask = Transformer::generate_square_subsequent_mask_dtype(3, DType::F64);
    let bool_mask = Transformer::generate_square_subsequent_mask_dtype(3, DType::Bool);
    let with_mask = m
        .self_attention(
            &x,
            MhaOptions {
                attn_mask: Some(&mask),
                ..Default::default()
            },
        )
        .0;
    let hinted = m
        .self_attention(
            &x,
            MhaOptions {
                attn_mask: Some(&mask),
                is_causal: true,
                need_weights: false,
                ..Default::default()
            },
        )
        .0;
    let with_bool = m
        .self_attention(
            &x,
            MhaOptions {
                attn_mask: Some(&bool_mask),
                need_weights: false,
                ..Default::default()
            },
        )
        .0;
    assert!(hinted.allclose(&with_mask, 1e-12, 1e-12));
    assert!(with_bool.allclose(&with_mask, 1e-12, 1e-12));
    // SDPA's bool masks mean the opposite (True = may attend): the lower triangle.
    let q = x.transpose(0, 1);
    let tril = bool_mask.logical_not();
    let a = F::scaled_dot_product_attention(&q, &q, &q, Some(&tril), 0.0, false, None);
    let b = F::scaled_dot_product_attention(&q, &q, &q, None, 0.0, true, None);
    assert!(a.allclose(&b, 1e-12, 1e-12));
    assert!(!a.allclose(
        &F::scaled_dot_product_attention(&q, &q, &q, None, 0.0, false, None),
        1e-6,
        1e-6
    ));
}

#[test]
fn encoder_copies_start_identical_and_are_independent() {
    let _g = rng_lock();
    manual_seed(10);
    let layer = TransformerEncoderLayer::with_options(4, 2, layer_opts(8));
    let enc = TransformerEncoder::new(layer.clone(), 3, None);
    let sd = enc.state_dict();
    for (k, v) in layer.state_dict().iter() {
        for i in 0..3 {
            assert!(
                sd.get(&format!("layers.{i}.{k}")).unwrap().equal(v),
                "layers.{i}.{k}"
            );
        }
    }
    let w0 = &enc.layers[0].linear1.weight;
    no_grad(|| w0.fill_(1.0));
    assert!(!enc.layers[1].linear1.weight.equal(w0));
    assert!(!layer.linear1.weight.equal(w0));
    assert!(enc.layers[1].linear1.weight.requires_grad() && enc.layers[1].linear1.weight.is_leaf());
    assert_eq!(enc.parameters().len(), 3 * 12);
}

#[test]
fn fully_masked_rows_as_pytorch() {
    let _g = rng_lock();
    manual_seed(17);
    let mut m = MultiheadAttention::new(4, 2);
    m.to_dtype(DType::F64);
    no_grad(|| m.out_proj.bias.as_ref().unwrap().fill_(0.25));
    let x = Tensor::randn([3, 2, 4]).to_dtype(DType::F64);
    let kpm = Tensor::from_vec(vec![true, true, true, false, false, true], [2, 3]);
    // The weights path is a plain softmax: NaN for a batch whose keys are all padding, as PyTorch.
    let opts = MhaOptions {
        key_padding_mask: Some(&kpm),
        ..Default::default()
    };
    let (out, w) = m.self_attention(&x, opts);
    assert!(out.select(1, 0).isnan().all_true() && w.unwrap().select(0, 0).isnan().all_true());
    assert!(!out.select(1, 1).isnan().any_true());
    // The SDPA path (need_weights=False) gives zero attention there: the output is out_proj's bias.
    let (out, _) = m.self_attention(
        &x,
        MhaOptions {
            need_weights: false,
            ..opts
        },
    );
    assert!(out.select(1, 0).eq(0.25).all_true());
    assert!(!out.select(1, 1).eq(0.25).all_true());
}
