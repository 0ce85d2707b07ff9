//! The harness's attention: F.scaled_dot_product_attention, nn.MultiheadAttention, the Transformer layers.

use crate::parity::eval::{Args, EvalResult, Value, unsupported};
use crate::parity::modules::{CaseModule, delegate_module, pair};
use flambeau::Tensor;
use flambeau::nn::functional as F;
use flambeau::nn::{
    DecoderMasks, EncoderMasks, FieldSink, MhaOptions, Module, MultiheadAttention,
    MultiheadAttentionOptions, TransformerActivation, TransformerDecoderLayer,
    TransformerEncoderLayer, TransformerLayerOptions,
};

/// `F.*` calls of this family; `None` when `name` is not one.
pub fn functional(name: &str, a: &Args) -> Option<EvalResult> {
    match name {
        "F.scaled_dot_product_attention" => Some(sdpa(a)),
        _ => None,
    }
}

fn sdpa(a: &Args) -> EvalResult {
    a.only(&["attn_mask", "dropout_p", "is_causal", "scale"], 7)?;
    let mask = a.opt_tensor(3, "attn_mask")?;
    Ok(Value::Tensor(F::scaled_dot_product_attention(
        &a.tensor(0, "query")?,
        &a.tensor(1, "key")?,
        &a.tensor(2, "value")?,
        mask.as_ref(),
        a.f64_or(4, "dropout_p", 0.0)?,
        a.bool_or(5, "is_causal", false)?,
        a.opt_f64(6, "scale")?,
    )))
}

/// `nn.*` constructors of this family; `None` when `name` is not one.
pub fn module(name: &str, a: &Args) -> Option<Result<Box<dyn CaseModule>, String>> {
    match name {
        "nn.MultiheadAttention" => Some(mha(a)),
        "nn.TransformerEncoderLayer" => Some(layer_options(a).map(|(d, h, o)| {
            Box::new(EncoderLayer(TransformerEncoderLayer::with_options(d, h, o)))
                as Box<dyn CaseModule>
        })),
        "nn.TransformerDecoderLayer" => Some(layer_options(a).map(|(d, h, o)| {
            Box::new(DecoderLayer(TransformerDecoderLayer::with_options(d, h, o)))
                as Box<dyn CaseModule>
        })),
        _ => None,
    }
}

fn usize_arg(a: &Args, i: usize, n: &str) -> Result<usize, String> {
    Ok(a.req(i, n)?.i64()? as usize)
}

fn mha(a: &Args) -> Result<Box<dyn CaseModule>, String> {
    a.only(
        &[
            "embed_dim",
            "num_heads",
            "dropout",
            "bias",
            "add_bias_kv",
            "add_zero_attn",
            "kdim",
            "vdim",
            "batch_first",
        ],
        9,
    )?;
    let opt_usize = |i: usize, n: &str| -> Result<Option<usize>, String> {
        a.get(i, n).map(|v| v.i64().map(|x| x as usize)).transpose()
    };
    let o = MultiheadAttentionOptions {
        dropout: a.f64_or(2, "dropout", 0.0)?,
        bias: a.bool_or(3, "bias", true)?,
        add_bias_kv: a.bool_or(4, "add_bias_kv", false)?,
        add_zero_attn: a.bool_or(5, "add_zero_attn", false)?,
        kdim: opt_usize(6, "kdim")?,
        vdim: opt_usize(7, "vdim")?,
        batch_first: a.bool_or(8, "batch_first", false)?,
    };
    Ok(Box::new(Mha(MultiheadAttention::with_options(
        usize_arg(a, 0, "embed_dim")?,
        usize_arg(a, 1, "num_heads")?,
        o,
    ))))
}

/// `(d_model, nhead, options)` of `nn.TransformerEncoderLayer(...)` / `nn.TransformerDecoderLayer(...)`.
fn layer_options(a: &Args) -> Result<(usize, usize, TransformerLayerOptions), String> {
    a.only(
        &[
            "d_model",
            "nhead",
            "dim_feedforward",
            "dropout",
            "activation",
            "layer_norm_eps",
            "batch_first",
            "norm_first",
            "bias",
        ],
        9,
    )?;
    let activation = match a.get(4, "activation") {
        None => TransformerActivation::Relu,
        Some(Value::Str(s)) if s == "relu" || s == "gelu" => TransformerActivation::parse(s),
        Some(other) => return unsupported(format!("activation {other:?}")),
    };
    let o = TransformerLayerOptions {
        dim_feedforward: a.i64_or(2, "dim_feedforward", 2048)? as usize,
        dropout: a.f64_or(3, "dropout", 0.1)?,
        activation,
        layer_norm_eps: a.f64_or(5, "layer_norm_eps", 1e-5)?,
        batch_first: a.bool_or(6, "batch_first", false)?,
        norm_first: a.bool_or(7, "norm_first", false)?,
        bias: a.bool_or(8, "bias", true)?,
    };
    Ok((usize_arg(a, 0, "d_model")?, usize_arg(a, 1, "nhead")?, o))
}

/// `m(query, key, value, key_padding_mask=..., need_weights=..., attn_mask=...,
/// average_attn_weights=..., is_causal=...)`, returning `(output, weights or None)`.
struct Mha(MultiheadAttention);
delegate_module!(Mha, s => s.0);

impl CaseModule for Mha {
    fn call(&self, a: &Args) -> EvalResult {
        a.only(
            &[
                "key_padding_mask",
                "need_weights",
                "attn_mask",
                "average_attn_weights",
                "is_causal",
            ],
            8,
        )?;
        let kpm = a.opt_tensor(3, "key_padding_mask")?;
        let mask = a.opt_tensor(5, "attn_mask")?;
        let opts = MhaOptions {
            key_padding_mask: kpm.as_ref(),
            need_weights: a.bool_or(4, "need_weights", true)?,
            attn_mask: mask.as_ref(),
            average_attn_weights: a.bool_or(6, "average_attn_weights", true)?,
            is_causal: a.bool_or(7, "is_causal", false)?,
        };
        let (out, w) = self.0.forward(
            &a.tensor(0, "query")?,
            &a.tensor(1, "key")?,
            &a.tensor(2, "value")?,
            opts,
        );
        Ok(pair(out, w))
    }
}

/// `m(src, src_mask=..., src_key_padding_mask=..., is_causal=...)`.
struct EncoderLayer(TransformerEncoderLayer);
delegate_module!(EncoderLayer, s => s.0);

impl CaseModule for EncoderLayer {
    fn call(&self, a: &Args) -> EvalResult {
        a.only(&["src_mask", "src_key_padding_mask", "is_causal"], 4)?;
        let mask = a.opt_tensor(1, "src_mask")?;
        let kpm = a.opt_tensor(2, "src_key_padding_mask")?;
        let masks = EncoderMasks {
            src_mask: mask.as_ref(),
            src_key_padding_mask: kpm.as_ref(),
            is_causal: Some(a.bool_or(3, "is_causal", false)?),
        };
        Ok(Value::Tensor(
            self.0.forward_with(&a.tensor(0, "src")?, masks),
        ))
    }
}

/// `m(tgt, memory, tgt_mask=..., memory_mask=..., tgt_key_padding_mask=...,
/// memory_key_padding_mask=..., tgt_is_causal=..., memory_is_causal=...)`.
struct DecoderLayer(TransformerDecoderLayer);
delegate_module!(DecoderLayer, s => s.0);

impl CaseModule for DecoderLayer {
    fn call(&self, a: &Args) -> EvalResult {
        a.only(
            &[
                "tgt_mask",
                "memory_mask",
                "tgt_key_padding_mask",
                "memory_key_padding_mask",
                "tgt_is_causal",
                "memory_is_causal",
            ],
            8,
        )?;
        let t = |i: usize, n: &str| a.opt_tensor(i, n);
        let (tm, mm) = (t(2, "tgt_mask")?, t(3, "memory_mask")?);
        let (tk, mk) = (
            t(4, "tgt_key_padding_mask")?,
            t(5, "memory_key_padding_mask")?,
        );
        let masks = DecoderMasks {
            tgt_mask: tm.as_ref(),
            memory_mask: mm.as_ref(),
            tgt_key_padding_mask: tk.as_ref(),
            memory_key_padding_mask: mk.as_ref(),
            tgt_is_causal: Some(a.bool_or(6, "tgt_is_causal", false)?),
            memory_is_causal: a.bool_or(7, "memory_is_causal", false)?,
        };
        Ok(Value::Tensor(self.0.forward(
            &a.tensor(0, "tgt")?,
            &a.tensor(1, "memory")?,
            masks,
        )))
    }
}
