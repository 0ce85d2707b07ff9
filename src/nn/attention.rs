//! `nn.MultiheadAttention` and its output projection `NonDynamicallyQuantizableLinear`.

use super::functional::{self as F, MhaParams, canonical_mask};
use super::{Linear, Parameter, TrainingFlag, init};
use crate::nn::{Forward, Module};
use crate::tensor::Tensor;

pub use super::functional::MhaOptions;

/// `nn.MultiheadAttention`'s output projection: a [`Linear`] under PyTorch's class name
/// `NonDynamicallyQuantizableLinear` (so reprs and quantisation tools see the same name).
///
/// ```
/// use flambeau::nn::NonDynamicallyQuantizableLinear;
/// let l = NonDynamicallyQuantizableLinear::new(8, 8, true);
/// assert_eq!(format!("{l}"), "NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)");
/// ```
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct NonDynamicallyQuantizableLinear {
    /// The weight, (out_features, in_features).
    pub weight: Parameter,
    /// The bias, (out_features), if any.
    pub bias: Option<Parameter>,
    /// Size of each input sample.
    pub in_features: usize,
    /// Size of each output sample.
    pub out_features: usize,
}

impl NonDynamicallyQuantizableLinear {
    /// Initialised as [`Linear::with_bias`] is (the same random draws).
    #[track_caller]
    pub fn new(in_features: usize, out_features: usize, bias: bool) -> Self {
        let l = Linear::with_bias(in_features, out_features, bias);
        NonDynamicallyQuantizableLinear {
            weight: l.weight,
            bias: l.bias,
            in_features,
            out_features,
        }
    }

    #[track_caller]
    fn describe(&self) -> String {
        format!(
            "in_features={}, out_features={}, bias={}",
            self.in_features,
            self.out_features,
            if self.bias.is_some() { "True" } else { "False" }
        )
    }
}

impl Forward for NonDynamicallyQuantizableLinear {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        input.linear(&self.weight, self.bias.as_deref())
    }
}

/// The construction options of [`MultiheadAttention`], with PyTorch's defaults (`dropout=0.0,
/// bias=True, add_bias_kv=False, add_zero_attn=False, kdim=None, vdim=None, batch_first=False`).
#[derive(Clone, Copy, Debug)]
pub struct MultiheadAttentionOptions {
    /// Dropout on the attention weights, in training.
    pub dropout: f64,
    /// Biases on the input and output projections.
    pub bias: bool,
    /// Learned key and value appended to the sequences.
    pub add_bias_kv: bool,
    /// A zero key and value appended to the sequences.
    pub add_zero_attn: bool,
    /// Key feature size (`None`: `embed_dim`).
    pub kdim: Option<usize>,
    /// Value feature size (`None`: `embed_dim`).
    pub vdim: Option<usize>,
    /// Inputs and outputs are `(N, L, E)` instead of `(L, N, E)`.
    pub batch_first: bool,
}

impl Default for MultiheadAttentionOptions {
    fn default() -> Self {
        MultiheadAttentionOptions {
            dropout: 0.0,
            bias: true,
            add_bias_kv: false,
            add_zero_attn: false,
            kdim: None,
            vdim: None,
            batch_first: false,
        }
    }
}

/// Multi-head attention (`nn.MultiheadAttention(embed_dim, num_heads, ...)`): queries attend to
/// keys/values in `num_heads` heads of `embed_dim / num_heads` features each.
///
/// Parameters are PyTorch's: a packed `in_proj_weight` `(3E, E)` when `kdim == vdim ==
/// embed_dim`, else `q_proj_weight`, `k_proj_weight`, `v_proj_weight`; `in_proj_bias` `(3E)`;
/// `bias_k`/`bias_v` with `add_bias_kv`; the child `out_proj`. Initialisation draws what
/// PyTorch's `__init__` draws, in its order: `out_proj`'s Linear init, then `xavier_uniform_` on
/// the input projections, biases set to 0, `xavier_normal_` on `bias_k` and `bias_v`.
///
/// Call it with [`forward`](Self::forward) (query, key, value and [`MhaOptions`]) or
/// [`self_attention`](Self::self_attention). Masks follow PyTorch's MHA convention: a bool
/// mask's `true` means *not allowed to attend*; float masks are added. PyTorch's inference fast
/// path (`_native_multi_head_attention`, eval mode without grad) is not reproduced: the same
/// computation is done the general way, equal up to rounding.
///
/// ```
/// use flambeau::nn::{MhaOptions, Module, MultiheadAttention, MultiheadAttentionOptions};
/// use flambeau::Tensor;
/// let mha = MultiheadAttention::with_options(8, 2, MultiheadAttentionOptions { batch_first: true, ..Default::default() });
/// assert_eq!(mha.state_dict().keys(), ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]);
/// let (q, kv) = (Tensor::randn([2, 4, 8]), Tensor::randn([2, 5, 8]));
/// let (out, weights) = mha.forward(&q, &kv, &kv, MhaOptions::default());
/// assert_eq!(out.dims(), &[2, 4, 8]);
/// assert_eq!(weights.unwrap().dims(), &[2, 4, 5]);
/// ```
#[derive(Module, Clone)]
pub struct MultiheadAttention {
    /// Packed q/k/v projection `(3E, E)` (when kdim == vdim == embed_dim).
    pub in_proj_weight: Option<Parameter>,
    /// Query projection `(E, E)` (separate projections only).
    pub q_proj_weight: Option<Parameter>,
    /// Key projection `(E, kdim)` (separate projections only).
    pub k_proj_weight: Option<Parameter>,
    /// Value projection `(E, vdim)` (separate projections only).
    pub v_proj_weight: Option<Parameter>,
    /// Packed q/k/v projection bias `(3E)`.
    pub in_proj_bias: Option<Parameter>,
    /// Learned key appended to the sequence, `(1, 1, E)`.
    pub bias_k: Option<Parameter>,
    /// Learned value appended to the sequence, `(1, 1, E)`.
    pub bias_v: Option<Parameter>,
    /// The output projection.
    pub out_proj: NonDynamicallyQuantizableLinear,
    /// Model dim `E`.
    pub embed_dim: usize,
    /// Key feature size.
    pub kdim: usize,
    /// Value feature size.
    pub vdim: usize,
    /// Number of heads.
    pub num_heads: usize,
    /// Dropout on the attention weights.
    pub dropout: f64,
    /// `(N, L, E)` inputs and outputs.
    pub batch_first: bool,
    /// `E / num_heads`.
    pub head_dim: usize,
    /// A zero key and value appended to the sequences.
    pub add_zero_attn: bool,
    /// Train/eval mode (dropout).
    pub training: TrainingFlag,
}

impl MultiheadAttention {
    /// `nn.MultiheadAttention(embed_dim, num_heads)`.
    #[track_caller]
    pub fn new(embed_dim: usize, num_heads: usize) -> MultiheadAttention {
        MultiheadAttention::with_options(embed_dim, num_heads, Default::default())
    }

    /// `nn.MultiheadAttention(embed_dim, num_heads, dropout, bias, add_bias_kv, add_zero_attn,
    /// kdim, vdim, batch_first)`. Panics with PyTorch's messages when a size is 0 or `embed_dim`
    /// is not divisible by `num_heads`.
    #[track_caller]
    pub fn with_options(
        embed_dim: usize,
        num_heads: usize,
        o: MultiheadAttentionOptions,
    ) -> MultiheadAttention {
        if embed_dim == 0 || num_heads == 0 {
            panic!(
                "embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and num_heads={num_heads} instead"
            );
        }
        let kdim = o.kdim.unwrap_or(embed_dim);
        let vdim = o.vdim.unwrap_or(embed_dim);
        let same = kdim == embed_dim && vdim == embed_dim;
        let head_dim = embed_dim / num_heads;
        if head_dim * num_heads != embed_dim {
            panic!("embed_dim must be divisible by num_heads");
        }
        let empty = |shape: &[usize]| Tensor::empty(shape);
        let (in_proj_weight, q, k, v) = if same {
            (Some(empty(&[3 * embed_dim, embed_dim])), None, None, None)
        } else {
            (
                None,
                Some(empty(&[embed_dim, embed_dim])),
                Some(empty(&[embed_dim, kdim])),
                Some(empty(&[embed_dim, vdim])),
            )
        };
        let in_proj_bias = o.bias.then(|| empty(&[3 * embed_dim]));
        // The Linear's own init draws first, as in PyTorch's __init__.
        let out_proj = NonDynamicallyQuantizableLinear::new(embed_dim, embed_dim, o.bias);
        let (bias_k, bias_v) = if o.add_bias_kv {
            (
                Some(empty(&[1, 1, embed_dim])),
                Some(empty(&[1, 1, embed_dim])),
            )
        } else {
            (None, None)
        };
        // _reset_parameters.
        for w in [&in_proj_weight, &q, &k, &v].into_iter().flatten() {
            init::xavier_uniform_(w, 1.0);
        }
        if let Some(b) = &in_proj_bias {
            init::constant_(b, 0.0);
            if let Some(ob) = &out_proj.bias {
                init::constant_(ob, 0.0);
            }
        }
        for b in [&bias_k, &bias_v].into_iter().flatten() {
            init::xavier_normal_(b, 1.0);
        }
        let p = |t: Option<Tensor>| t.map(Parameter::new);
        MultiheadAttention {
            in_proj_weight: p(in_proj_weight),
            q_proj_weight: p(q),
            k_proj_weight: p(k),
            v_proj_weight: p(v),
            in_proj_bias: p(in_proj_bias),
            bias_k: p(bias_k),
            bias_v: p(bias_v),
            out_proj,
            embed_dim,
            kdim,
            vdim,
            num_heads,
            dropout: o.dropout,
            batch_first: o.batch_first,
            head_dim,
            add_zero_attn: o.add_zero_attn,
            training: TrainingFlag::new(),
        }
    }

    /// Whether q, k and v share one packed projection (`_qkv_same_embed_dim`).
    pub fn qkv_same_embed_dim(&self) -> bool {
        self.in_proj_weight.is_some()
    }

    /// The weights and settings for [`F::multi_head_attention_forward`].
    pub fn params(&self) -> MhaParams<'_> {
        MhaParams {
            embed_dim_to_check: self.embed_dim,
            num_heads: self.num_heads,
            in_proj_weight: self.in_proj_weight.as_deref(),
            in_proj_bias: self.in_proj_bias.as_deref(),
            bias_k: self.bias_k.as_deref(),
            bias_v: self.bias_v.as_deref(),
            add_zero_attn: self.add_zero_attn,
            dropout_p: self.dropout,
            out_proj_weight: &self.out_proj.weight,
            out_proj_bias: self.out_proj.bias.as_deref(),
            training: self.training.get(),
            use_separate_proj_weight: !self.qkv_same_embed_dim(),
            q_proj_weight: self.q_proj_weight.as_deref(),
            k_proj_weight: self.k_proj_weight.as_deref(),
            v_proj_weight: self.v_proj_weight.as_deref(),
            static_k: None,
            static_v: None,
        }
    }

    /// Attention of `query` over `key`/`value` (`mha(query, key, value, key_padding_mask=...,
    /// need_weights=..., attn_mask=..., average_attn_weights=..., is_causal=...)`). Returns the
    /// output, `(L, N, E)` (`(N, L, E)` with `batch_first`, `(L, E)` unbatched), and with
    /// `need_weights` the attention weights, `(N, L, S)` averaged over heads or
    /// `(N, num_heads, L, S)`.
    ///
    /// ```
    /// use flambeau::nn::{MhaOptions, MultiheadAttention};
    /// use flambeau::{Tensor, DType};
    /// let mha = MultiheadAttention::new(4, 2);
    /// let x = Tensor::randn([3, 4]); // unbatched (L, E)
    /// // Key 2 is padding: no query attends to it.
    /// let kpm = Tensor::from_vec(vec![false, false, true], [3]);
    /// let opts = MhaOptions { key_padding_mask: Some(&kpm), ..Default::default() };
    /// let (out, w) = mha.forward(&x, &x, &x, opts);
    /// assert_eq!(out.dims(), &[3, 4]);
    /// assert_eq!(w.unwrap().select(1, 2).abs().sum().item::<f32>(), 0.0);
    /// ```
    #[track_caller]
    pub fn forward(
        &self,
        query: &Tensor,
        key: &Tensor,
        value: &Tensor,
        opts: MhaOptions<'_>,
    ) -> (Tensor, Option<Tensor>) {
        let is_batched = query.ndim() == 3;
        let key_padding_mask = canonical_mask(
            opts.key_padding_mask,
            "key_padding_mask",
            opts.attn_mask.map(|m| (m.dtype(), "attn_mask")),
            query.dtype(),
        );
        let attn_mask = canonical_mask(opts.attn_mask, "attn_mask", None, query.dtype());
        let transposed = self.batch_first && is_batched;
        let (q, k, v) = if transposed {
            // Keep `is` identities: they select the packed projection paths.
            if key.is_same(value) {
                if query.is_same(key) {
                    let t = query.transpose(1, 0);
                    (t.clone(), t.clone(), t)
                } else {
                    let (q, k) = (query.transpose(1, 0), key.transpose(1, 0));
                    (q, k.clone(), k)
                }
            } else {
                (
                    query.transpose(1, 0),
                    key.transpose(1, 0),
                    value.transpose(1, 0),
                )
            }
        } else {
            (query.clone(), key.clone(), value.clone())
        };
        let (out, w) = F::multi_head_attention_forward(
            &q,
            &k,
            &v,
            &self.params(),
            MhaOptions {
                key_padding_mask: key_padding_mask.as_ref(),
                attn_mask: attn_mask.as_ref(),
                ..opts
            },
        );
        if transposed {
            (out.transpose(1, 0), w)
        } else {
            (out, w)
        }
    }

    /// Self-attention, `forward(x, x, x, opts)`.
    ///
    /// ```
    /// use flambeau::nn::{MhaOptions, MultiheadAttention};
    /// use flambeau::Tensor;
    /// let mha = MultiheadAttention::new(4, 1);
    /// let (out, w) = mha.self_attention(&Tensor::randn([5, 2, 4]), MhaOptions { need_weights: false, ..Default::default() });
    /// assert_eq!(out.dims(), &[5, 2, 4]);
    /// assert!(w.is_none());
    /// ```
    #[track_caller]
    pub fn self_attention(&self, x: &Tensor, opts: MhaOptions<'_>) -> (Tensor, Option<Tensor>) {
        self.forward(x, x, x, opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separate_projections_when_kdim_differs() {
        let m = MultiheadAttention::with_options(
            4,
            2,
            MultiheadAttentionOptions {
                kdim: Some(3),
                ..Default::default()
            },
        );
        assert!(!m.qkv_same_embed_dim());
        assert_eq!(m.k_proj_weight.as_ref().unwrap().dims(), &[4, 3]);
        assert_eq!(m.repr().lines().count(), 3);
    }
}
