//! `nn.TransformerEncoderLayer`, `nn.TransformerEncoder`, `nn.TransformerDecoderLayer`,
//! `nn.TransformerDecoder`, `nn.Transformer`, after torch/nn/modules/transformer.py.

use super::functional::canonical_mask;
use super::{
    Dropout, Forward, LayerNorm, Linear, MhaOptions, Module, MultiheadAttention,
    MultiheadAttentionOptions, init,
};
use crate::DType;
use crate::tensor::Tensor;

/// The feed-forward activation of the transformer layers (`activation="relu"` or `"gelu"`, or a
/// function).
#[derive(Clone, Copy, Debug)]
pub enum TransformerActivation {
    /// `F.relu` (PyTorch's default).
    Relu,
    /// `F.gelu` (exact, erf-based).
    Gelu,
    /// Any unary function.
    Custom(fn(&Tensor) -> Tensor),
}

impl TransformerActivation {
    /// `"relu"` or `"gelu"`; panics with PyTorch's message otherwise.
    ///
    /// ```
    /// use flambeau::nn::TransformerActivation;
    /// assert!(matches!(TransformerActivation::parse("gelu"), TransformerActivation::Gelu));
    /// ```
    #[track_caller]
    pub fn parse(name: &str) -> TransformerActivation {
        match name {
            "relu" => TransformerActivation::Relu,
            "gelu" => TransformerActivation::Gelu,
            other => panic!("activation should be relu/gelu, not {other}"),
        }
    }

    #[track_caller]
    fn apply(&self, x: &Tensor) -> Tensor {
        match self {
            TransformerActivation::Relu => x.relu(),
            TransformerActivation::Gelu => x.gelu("none"),
            TransformerActivation::Custom(f) => f(x),
        }
    }
}

/// The construction options shared by the encoder and decoder layers, with PyTorch's defaults
/// (`dim_feedforward=2048, dropout=0.1, activation=relu, layer_norm_eps=1e-5, batch_first=False,
/// norm_first=False, bias=True`).
#[derive(Clone, Copy, Debug)]
pub struct TransformerLayerOptions {
    /// Hidden size of the feed-forward block.
    pub dim_feedforward: usize,
    /// Dropout probability everywhere in the layer.
    pub dropout: f64,
    /// Feed-forward activation.
    pub activation: TransformerActivation,
    /// The layer norms' eps.
    pub layer_norm_eps: f64,
    /// `(N, L, E)` inputs and outputs.
    pub batch_first: bool,
    /// Layer norm before (true) or after (false) each block.
    pub norm_first: bool,
    /// Biases in the Linear and LayerNorm layers.
    pub bias: bool,
}

impl Default for TransformerLayerOptions {
    fn default() -> Self {
        TransformerLayerOptions {
            dim_feedforward: 2048,
            dropout: 0.1,
            activation: TransformerActivation::Relu,
            layer_norm_eps: 1e-5,
            batch_first: false,
            norm_first: false,
            bias: true,
        }
    }
}

/// `LayerNorm(d_model, eps=eps, bias=bias)`.
#[track_caller]
pub(crate) fn layer_norm(d_model: usize, eps: f64, bias: bool) -> LayerNorm {
    LayerNorm::with_bias(&[d_model], eps, true, bias)
}

/// The masks of an encoder (layer) call. `is_causal` is a hint that `src_mask` is the causal mask:
/// a layer reads `None` as false; [`TransformerEncoder`] then detects a causal mask itself, as
/// PyTorch's does.
#[derive(Clone, Copy, Debug, Default)]
pub struct EncoderMasks<'a> {
    /// `(S, S)` or `(N·nhead, S, S)`; bool `true` = not allowed, float added.
    pub src_mask: Option<&'a Tensor>,
    /// `(N, S)`; bool `true` = padding.
    pub src_key_padding_mask: Option<&'a Tensor>,
    /// The causal hint.
    pub is_causal: Option<bool>,
}

/// The masks of a decoder (layer) call. `tgt_is_causal`: `None` is false for a layer and
/// detection for [`TransformerDecoder`].
#[derive(Clone, Copy, Debug, Default)]
pub struct DecoderMasks<'a> {
    /// Self-attention mask `(T, T)`.
    pub tgt_mask: Option<&'a Tensor>,
    /// Cross-attention mask `(T, S)`.
    pub memory_mask: Option<&'a Tensor>,
    /// `(N, T)`.
    pub tgt_key_padding_mask: Option<&'a Tensor>,
    /// `(N, S)`.
    pub memory_key_padding_mask: Option<&'a Tensor>,
    /// Causal hint for `tgt_mask`.
    pub tgt_is_causal: Option<bool>,
    /// Causal hint for `memory_mask`.
    pub memory_is_causal: bool,
}

/// One encoder block: self-attention then a feed-forward network, each with a residual
/// connection and layer norm (`nn.TransformerEncoderLayer(d_model, nhead, ...)`). Initialised
/// with PyTorch's draws in its order (`self_attn`, `linear1`, `linear2`). PyTorch's inference
/// fast path is not reproduced (the same computation, equal up to rounding).
///
/// ```
/// use flambeau::nn::{Forward, Module, TransformerEncoderLayer, TransformerLayerOptions};
/// use flambeau::Tensor;
/// let layer = TransformerEncoderLayer::with_options(8, 2, TransformerLayerOptions { dim_feedforward: 16, ..Default::default() });
/// assert_eq!(layer.forward(&Tensor::randn([5, 3, 8])).dims(), &[5, 3, 8]);
/// assert!(format!("{layer}").starts_with("TransformerEncoderLayer(\n  (self_attn): MultiheadAttention("));
/// ```
#[derive(Module, Clone)]
pub struct TransformerEncoderLayer {
    /// Self-attention.
    pub self_attn: MultiheadAttention,
    /// `d_model → dim_feedforward`.
    pub linear1: Linear,
    /// Dropout inside the feed-forward block.
    pub dropout: Dropout,
    /// `dim_feedforward → d_model`.
    pub linear2: Linear,
    /// Layer norm before/after the attention block.
    pub norm1: LayerNorm,
    /// Layer norm before/after the feed-forward block.
    pub norm2: LayerNorm,
    /// Dropout after the attention block.
    pub dropout1: Dropout,
    /// Dropout after the feed-forward block.
    pub dropout2: Dropout,
    /// Norm before each block instead of after.
    pub norm_first: bool,
    /// The feed-forward activation.
    #[module(skip)]
    pub activation: TransformerActivation,
}

impl TransformerEncoderLayer {
    /// `nn.TransformerEncoderLayer(d_model, nhead)` with PyTorch's defaults.
    #[track_caller]
    pub fn new(d_model: usize, nhead: usize) -> TransformerEncoderLayer {
        TransformerEncoderLayer::with_options(d_model, nhead, Default::default())
    }

    /// `nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
    /// layer_norm_eps, batch_first, norm_first, bias)`.
    #[track_caller]
    pub fn with_options(
        d_model: usize,
        nhead: usize,
        o: TransformerLayerOptions,
    ) -> TransformerEncoderLayer {
        let self_attn = MultiheadAttention::with_options(
            d_model,
            nhead,
            MultiheadAttentionOptions {
                dropout: o.dropout,
                bias: o.bias,
                batch_first: o.batch_first,
                ..Default::default()
            },
        );
        let linear1 = Linear::with_bias(d_model, o.dim_feedforward, o.bias);
        let dropout = Dropout::new(o.dropout);
        let linear2 = Linear::with_bias(o.dim_feedforward, d_model, o.bias);
        TransformerEncoderLayer {
            self_attn,
            linear1,
            dropout,
            linear2,
            norm1: layer_norm(d_model, o.layer_norm_eps, o.bias),
            norm2: layer_norm(d_model, o.layer_norm_eps, o.bias),
            dropout1: Dropout::new(o.dropout),
            dropout2: Dropout::new(o.dropout),
            norm_first: o.norm_first,
            activation: o.activation,
        }
    }

    /// `layer(src, src_mask=..., src_key_padding_mask=..., is_causal=...)`.
    ///
    /// ```
    /// use flambeau::nn::{EncoderMasks, Transformer, TransformerEncoderLayer};
    /// use flambeau::Tensor;
    /// let layer = TransformerEncoderLayer::new(4, 2);
    /// let mask = Transformer::generate_square_subsequent_mask(3);
    /// let y = layer.forward_with(&Tensor::randn([3, 2, 4]), EncoderMasks { src_mask: Some(&mask), ..Default::default() });
    /// assert_eq!(y.dims(), &[3, 2, 4]);
    /// ```
    #[track_caller]
    pub fn forward_with(&self, src: &Tensor, masks: EncoderMasks<'_>) -> Tensor {
        let kpm = canonical_mask(
            masks.src_key_padding_mask,
            "src_key_padding_mask",
            masks.src_mask.map(|m| (m.dtype(), "src_mask")),
            src.dtype(),
        );
        let mask = canonical_mask(masks.src_mask, "src_mask", None, src.dtype());
        let is_causal = masks.is_causal.unwrap_or(false);
        let sa = |x: &Tensor| {
            let opts = MhaOptions {
                attn_mask: mask.as_ref(),
                key_padding_mask: kpm.as_ref(),
                need_weights: false,
                is_causal,
                ..Default::default()
            };
            self.dropout1
                .forward(&self.self_attn.forward(x, x, x, opts).0)
        };
        let x = src.clone();
        if self.norm_first {
            let x = x.add(&sa(&self.norm1.forward(&x)));
            x.add(&self.ff_block(&self.norm2.forward(&x)))
        } else {
            let x = self.norm1.forward(&x.add(&sa(&x)));
            self.norm2.forward(&x.add(&self.ff_block(&x)))
        }
    }

    #[track_caller]
    fn ff_block(&self, x: &Tensor) -> Tensor {
        let h = self.activation.apply(&self.linear1.forward(x));
        self.dropout2
            .forward(&self.linear2.forward(&self.dropout.forward(&h)))
    }
}

impl Forward for TransformerEncoderLayer {
    #[track_caller]
    fn forward(&self, src: &Tensor) -> Tensor {
        self.forward_with(src, EncoderMasks::default())
    }
}

/// One decoder block: self-attention, attention over the encoder's output (`memory`), then a
/// feed-forward network, each with a residual connection and layer norm
/// (`nn.TransformerDecoderLayer(d_model, nhead, ...)`).
///
/// ```
/// use flambeau::nn::{DecoderMasks, TransformerDecoderLayer};
/// use flambeau::Tensor;
/// let layer = TransformerDecoderLayer::new(4, 2);
/// let y = layer.forward(&Tensor::randn([3, 2, 4]), &Tensor::randn([5, 2, 4]), DecoderMasks::default());
/// assert_eq!(y.dims(), &[3, 2, 4]);
/// ```
#[derive(Module, Clone)]
pub struct TransformerDecoderLayer {
    /// Self-attention.
    pub self_attn: MultiheadAttention,
    /// Attention over the memory.
    pub multihead_attn: MultiheadAttention,
    /// `d_model → dim_feedforward`.
    pub linear1: Linear,
    /// Dropout inside the feed-forward block.
    pub dropout: Dropout,
    /// `dim_feedforward → d_model`.
    pub linear2: Linear,
    /// Norm of the self-attention block.
    pub norm1: LayerNorm,
    /// Norm of the cross-attention block.
    pub norm2: LayerNorm,
    /// Norm of the feed-forward block.
    pub norm3: LayerNorm,
    /// Dropout after the self-attention block.
    pub dropout1: Dropout,
    /// Dropout after the cross-attention block.
    pub dropout2: Dropout,
    /// Dropout after the feed-forward block.
    pub dropout3: Dropout,
    /// Norm before each block instead of after.
    pub norm_first: bool,
    /// The feed-forward activation.
    #[module(skip)]
    pub activation: TransformerActivation,
}

impl TransformerDecoderLayer {
    /// `nn.TransformerDecoderLayer(d_model, nhead)` with PyTorch's defaults.
    #[track_caller]
    pub fn new(d_model: usize, nhead: usize) -> TransformerDecoderLayer {
        TransformerDecoderLayer::with_options(d_model, nhead, Default::default())
    }

    /// `nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
    /// layer_norm_eps, batch_first, norm_first, bias)`.
    #[track_caller]
    pub fn with_options(
        d_model: usize,
        nhead: usize,
        o: TransformerLayerOptions,
    ) -> TransformerDecoderLayer {
        let mha = || {
            MultiheadAttention::with_options(
                d_model,
                nhead,
                MultiheadAttentionOptions {
                    dropout: o.dropout,
                    bias: o.bias,
                    batch_first: o.batch_first,
                    ..Default::default()
                },
            )
        };
        let self_attn = mha();
        let multihead_attn = mha();
        let linear1 = Linear::with_bias(d_model, o.dim_feedforward, o.bias);
        let dropout = Dropout::new(o.dropout);
        let linear2 = Linear::with_bias(o.dim_feedforward, d_model, o.bias);
        TransformerDecoderLayer {
            self_attn,
            multihead_attn,
            linear1,
            dropout,
            linear2,
            norm1: layer_norm(d_model, o.layer_norm_eps, o.bias),
            norm2: layer_norm(d_model, o.layer_norm_eps, o.bias),
            norm3: layer_norm(d_model, o.layer_norm_eps, o.bias),
            dropout1: Dropout::new(o.dropout),
            dropout2: Dropout::new(o.dropout),
            dropout3: Dropout::new(o.dropout),
            norm_first: o.norm_first,
            activation: o.activation,
        }
    }

    /// `layer(tgt, memory, tgt_mask=..., memory_mask=..., tgt_key_padding_mask=...,
    /// memory_key_padding_mask=..., tgt_is_causal=..., memory_is_causal=...)`.
    #[track_caller]
    pub fn forward(&self, tgt: &Tensor, memory: &Tensor, masks: DecoderMasks<'_>) -> Tensor {
        let sa = |x: &Tensor| {
            let opts = MhaOptions {
                attn_mask: masks.tgt_mask,
                key_padding_mask: masks.tgt_key_padding_mask,
                is_causal: masks.tgt_is_causal.unwrap_or(false),
                need_weights: false,
                ..Default::default()
            };
            self.dropout1
                .forward(&self.self_attn.forward(x, x, x, opts).0)
        };
        let mha = |x: &Tensor| {
            let opts = MhaOptions {
                attn_mask: masks.memory_mask,
                key_padding_mask: masks.memory_key_padding_mask,
                is_causal: masks.memory_is_causal,
                need_weights: false,
                ..Default::default()
            };
            let out = self.multihead_attn.forward(x, memory, memory, opts).0;
            self.dropout2.forward(&out)
        };
        let x = tgt.clone();
        if self.norm_first {
            let x = x.add(&sa(&self.norm1.forward(&x)));
            let x = x.add(&mha(&self.norm2.forward(&x)));
            x.add(&self.ff_block(&self.norm3.forward(&x)))
        } else {
            let x = self.norm1.forward(&x.add(&sa(&x)));
            let x = self.norm2.forward(&x.add(&mha(&x)));
            self.norm3.forward(&x.add(&self.ff_block(&x)))
        }
    }

    #[track_caller]
    fn ff_block(&self, x: &Tensor) -> Tensor {
        let h = self.activation.apply(&self.linear1.forward(x));
        self.dropout3
            .forward(&self.linear2.forward(&self.dropout.forward(&h)))
    }
}

/// `_get_seq_len`: the sequence length of `src` (dim 0 unbatched or sequence first).
fn seq_len(src: &Tensor, batch_first: bool) -> usize {
    if src.ndim() == 2 {
        src.dims()[0]
    } else {
        src.dims()[if batch_first { 1 } else { 0 }]
    }
}

/// `_detect_is_causal_mask`: the hint if given, else whether `mask` equals the square subsequent
/// mask of size `size` in its own dtype.
fn detect_is_causal_mask(mask: Option<&Tensor>, is_causal: Option<bool>, size: usize) -> bool {
    match (is_causal, mask) {
        (Some(c), _) => c,
        (None, Some(m)) => {
            let causal = Transformer::generate_square_subsequent_mask_dtype(size, m.dtype());
            m.dims() == causal.dims() && m.eq(&causal).all_true()
        }
        (None, None) => false,
    }
}

/// A stack of `num_layers` copies of an encoder layer, then an optional norm
/// (`nn.TransformerEncoder(encoder_layer, num_layers, norm)`). As in PyTorch, the layers are deep
/// copies of `encoder_layer`: they all start with the same weights (children `layers.0`, ...).
/// PyTorch's nested-tensor fast path (eval mode without grad, with a padding mask) is not
/// reproduced: padded positions are computed and masked instead, which gives the same values
/// at the positions that are not padding (the fast path fills padded ones with zeros before the
/// final norm).
///
/// ```
/// use flambeau::nn::{Forward, Module, TransformerEncoder, TransformerEncoderLayer};
/// use flambeau::Tensor;
/// let enc = TransformerEncoder::new(TransformerEncoderLayer::new(4, 2), 2, None);
/// assert_eq!(enc.state_dict().keys()[0], "layers.0.self_attn.in_proj_weight");
/// assert_eq!(enc.forward(&Tensor::randn([3, 1, 4])).dims(), &[3, 1, 4]);
/// ```
#[derive(Module, Clone)]
pub struct TransformerEncoder {
    /// The layers (a ModuleList).
    pub layers: Vec<TransformerEncoderLayer>,
    /// Applied after the last layer.
    pub norm: Option<LayerNorm>,
    /// Number of layers.
    pub num_layers: usize,
}

impl TransformerEncoder {
    /// `nn.TransformerEncoder(encoder_layer, num_layers, norm)`.
    #[track_caller]
    pub fn new(
        encoder_layer: TransformerEncoderLayer,
        num_layers: usize,
        norm: Option<LayerNorm>,
    ) -> TransformerEncoder {
        TransformerEncoder {
            layers: (0..num_layers)
                .map(|_| encoder_layer.deep_clone())
                .collect(),
            norm,
            num_layers,
        }
    }

    /// `encoder(src, mask=..., src_key_padding_mask=..., is_causal=...)`; with `is_causal:
    /// None`, a mask equal to the square subsequent mask is detected as causal.
    #[track_caller]
    pub fn forward_with(&self, src: &Tensor, masks: EncoderMasks<'_>) -> Tensor {
        let kpm = canonical_mask(
            masks.src_key_padding_mask,
            "src_key_padding_mask",
            masks.src_mask.map(|m| (m.dtype(), "mask")),
            src.dtype(),
        );
        let mask = canonical_mask(masks.src_mask, "mask", None, src.dtype());
        let batch_first = self.layers.first().is_some_and(|l| l.self_attn.batch_first);
        let is_causal =
            detect_is_causal_mask(mask.as_ref(), masks.is_causal, seq_len(src, batch_first));
        let mut output = src.clone();
        for layer in &self.layers {
            output = layer.forward_with(
                &output,
                EncoderMasks {
                    src_mask: mask.as_ref(),
                    src_key_padding_mask: kpm.as_ref(),
                    is_causal: Some(is_causal),
                },
            );
        }
        match &self.norm {
            Some(n) => n.forward(&output),
            None => output,
        }
    }
}

impl Forward for TransformerEncoder {
    #[track_caller]
    fn forward(&self, src: &Tensor) -> Tensor {
        self.forward_with(src, EncoderMasks::default())
    }
}

/// A stack of `num_layers` copies of a decoder layer, then an optional norm
/// (`nn.TransformerDecoder(decoder_layer, num_layers, norm)`); the layers start identical.
///
/// ```
/// use flambeau::nn::{DecoderMasks, TransformerDecoder, TransformerDecoderLayer};
/// use flambeau::Tensor;
/// let dec = TransformerDecoder::new(TransformerDecoderLayer::new(4, 2), 2, None);
/// let y = dec.forward(&Tensor::randn([3, 1, 4]), &Tensor::randn([6, 1, 4]), DecoderMasks::default());
/// assert_eq!(y.dims(), &[3, 1, 4]);
/// ```
#[derive(Module, Clone)]
pub struct TransformerDecoder {
    /// The layers (a ModuleList).
    pub layers: Vec<TransformerDecoderLayer>,
    /// Applied after the last layer.
    pub norm: Option<LayerNorm>,
    /// Number of layers.
    pub num_layers: usize,
}

impl TransformerDecoder {
    /// `nn.TransformerDecoder(decoder_layer, num_layers, norm)`.
    #[track_caller]
    pub fn new(
        decoder_layer: TransformerDecoderLayer,
        num_layers: usize,
        norm: Option<LayerNorm>,
    ) -> TransformerDecoder {
        TransformerDecoder {
            layers: (0..num_layers)
                .map(|_| decoder_layer.deep_clone())
                .collect(),
            norm,
            num_layers,
        }
    }

    /// `decoder(tgt, memory, tgt_mask=..., ...)`; with `tgt_is_causal: None`, a `tgt_mask`
    /// equal to the square subsequent mask is detected as causal.
    #[track_caller]
    pub fn forward(&self, tgt: &Tensor, memory: &Tensor, masks: DecoderMasks<'_>) -> Tensor {
        let batch_first = self.layers.first().is_some_and(|l| l.self_attn.batch_first);
        let tgt_is_causal = detect_is_causal_mask(
            masks.tgt_mask,
            masks.tgt_is_causal,
            seq_len(tgt, batch_first),
        );
        let mut output = tgt.clone();
        for layer in &self.layers {
            output = layer.forward(
                &output,
                memory,
                DecoderMasks {
                    tgt_is_causal: Some(tgt_is_causal),
                    ..masks
                },
            );
        }
        match &self.norm {
            Some(n) => n.forward(&output),
            None => output,
        }
    }
}

/// The construction options of [`Transformer`], with PyTorch's defaults (`d_model=512, nhead=8,
/// num_encoder_layers=6, num_decoder_layers=6`, and the layers' defaults).
#[derive(Clone, Copy, Debug)]
pub struct TransformerOptions {
    /// Model dim.
    pub d_model: usize,
    /// Attention heads.
    pub nhead: usize,
    /// Encoder depth.
    pub num_encoder_layers: usize,
    /// Decoder depth.
    pub num_decoder_layers: usize,
    /// Options of every layer.
    pub layer: TransformerLayerOptions,
}

impl Default for TransformerOptions {
    fn default() -> Self {
        TransformerOptions {
            d_model: 512,
            nhead: 8,
            num_encoder_layers: 6,
            num_decoder_layers: 6,
            layer: TransformerLayerOptions::default(),
        }
    }
}

/// The masks of a [`Transformer`] call (`src_mask`, `tgt_mask`, `memory_mask`, the three key
/// padding masks, and the causal hints).
#[derive(Clone, Copy, Debug, Default)]
pub struct TransformerMasks<'a> {
    /// Encoder self-attention mask.
    pub src_mask: Option<&'a Tensor>,
    /// Decoder self-attention mask.
    pub tgt_mask: Option<&'a Tensor>,
    /// Decoder cross-attention mask.
    pub memory_mask: Option<&'a Tensor>,
    /// `(N, S)`.
    pub src_key_padding_mask: Option<&'a Tensor>,
    /// `(N, T)`.
    pub tgt_key_padding_mask: Option<&'a Tensor>,
    /// `(N, S)`.
    pub memory_key_padding_mask: Option<&'a Tensor>,
    /// Causal hint for `src_mask` (`None`: detect).
    pub src_is_causal: Option<bool>,
    /// Causal hint for `tgt_mask` (`None`: detect).
    pub tgt_is_causal: Option<bool>,
    /// Causal hint for `memory_mask`.
    pub memory_is_causal: bool,
}

/// The encoder-decoder transformer of "Attention Is All You Need" (`nn.Transformer`). Built as
/// PyTorch builds it (encoder layer, encoder norm, decoder layer, decoder norm, the copies), then
/// its `_reset_parameters`: `xavier_uniform_` on every parameter with more than one dim, in
/// `parameters()` order, so the same seed gives PyTorch's weights.
///
/// ```
/// use flambeau::nn::{Module, Transformer, TransformerLayerOptions, TransformerMasks, TransformerOptions};
/// use flambeau::Tensor;
/// let t = Transformer::with_options(TransformerOptions {
///     d_model: 8, nhead: 2, num_encoder_layers: 1, num_decoder_layers: 1,
///     layer: TransformerLayerOptions { dim_feedforward: 16, ..Default::default() },
/// });
/// let mask = Transformer::generate_square_subsequent_mask(3);
/// let y = t.forward(&Tensor::randn([5, 2, 8]), &Tensor::randn([3, 2, 8]),
///     TransformerMasks { tgt_mask: Some(&mask), ..Default::default() });
/// assert_eq!(y.dims(), &[3, 2, 8]);
/// assert_eq!(t.state_dict().keys().last(), Some(&"decoder.norm.bias"));
/// ```
#[derive(Module, Clone)]
pub struct Transformer {
    /// The encoder stack (with its final norm).
    pub encoder: TransformerEncoder,
    /// The decoder stack (with its final norm).
    pub decoder: TransformerDecoder,
    /// Model dim.
    pub d_model: usize,
    /// Attention heads.
    pub nhead: usize,
    /// `(N, L, E)` inputs and outputs.
    pub batch_first: bool,
}

impl Transformer {
    /// `nn.Transformer()` with PyTorch's defaults (d_model 512, 8 heads, 6 + 6 layers).
    #[track_caller]
    pub fn new() -> Transformer {
        Transformer::with_options(TransformerOptions::default())
    }

    /// `nn.Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward,
    /// dropout, activation, layer_norm_eps=..., batch_first=..., norm_first=..., bias=...)`.
    #[track_caller]
    pub fn with_options(o: TransformerOptions) -> Transformer {
        let l = o.layer;
        let encoder_layer = TransformerEncoderLayer::with_options(o.d_model, o.nhead, l);
        let encoder_norm = layer_norm(o.d_model, l.layer_norm_eps, l.bias);
        let encoder =
            TransformerEncoder::new(encoder_layer, o.num_encoder_layers, Some(encoder_norm));
        let decoder_layer = TransformerDecoderLayer::with_options(o.d_model, o.nhead, l);
        let decoder_norm = layer_norm(o.d_model, l.layer_norm_eps, l.bias);
        let decoder =
            TransformerDecoder::new(decoder_layer, o.num_decoder_layers, Some(decoder_norm));
        let t = Transformer {
            encoder,
            decoder,
            d_model: o.d_model,
            nhead: o.nhead,
            batch_first: l.batch_first,
        };
        for p in t.parameters() {
            if p.ndim() > 1 {
                init::xavier_uniform_(&p, 1.0);
            }
        }
        t
    }

    /// `transformer(src, tgt, src_mask=..., tgt_mask=..., ...)`: encodes `src`, decodes `tgt`
    /// against it. Panics with PyTorch's messages when the batch sizes or feature sizes differ.
    #[track_caller]
    pub fn forward(&self, src: &Tensor, tgt: &Tensor, masks: TransformerMasks<'_>) -> Tensor {
        let is_batched = src.ndim() == 3;
        let b = if self.batch_first { 0 } else { 1 };
        if is_batched && src.dims()[b] != tgt.dims()[b] {
            panic!("the batch number of src and tgt must be equal");
        }
        let last = |t: &Tensor| t.dims()[t.ndim() - 1];
        if last(src) != self.d_model || last(tgt) != self.d_model {
            panic!("the feature number of src and tgt must be equal to d_model");
        }
        let memory = self.encoder.forward_with(
            src,
            EncoderMasks {
                src_mask: masks.src_mask,
                src_key_padding_mask: masks.src_key_padding_mask,
                is_causal: masks.src_is_causal,
            },
        );
        self.decoder.forward(
            tgt,
            &memory,
            DecoderMasks {
                tgt_mask: masks.tgt_mask,
                memory_mask: masks.memory_mask,
                tgt_key_padding_mask: masks.tgt_key_padding_mask,
                memory_key_padding_mask: masks.memory_key_padding_mask,
                tgt_is_causal: masks.tgt_is_causal,
                memory_is_causal: masks.memory_is_causal,
            },
        )
    }

    /// The float32 causal mask of size `sz`: `-inf` above the diagonal, 0 elsewhere
    /// (`nn.Transformer.generate_square_subsequent_mask(sz)`).
    ///
    /// ```
    /// use flambeau::nn::Transformer;
    /// let m = Transformer::generate_square_subsequent_mask(2);
    /// assert_eq!(m.to_vec::<f32>(), vec![0.0, f32::NEG_INFINITY, 0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn generate_square_subsequent_mask(sz: usize) -> Tensor {
        Transformer::generate_square_subsequent_mask_dtype(sz, DType::F32)
    }

    /// [`generate_square_subsequent_mask`](Self::generate_square_subsequent_mask) in `dtype`
    /// (`torch.triu(torch.full((sz, sz), -inf, dtype=dtype), diagonal=1)`; for bool, `true`
    /// above the diagonal).
    #[track_caller]
    pub fn generate_square_subsequent_mask_dtype(sz: usize, dtype: DType) -> Tensor {
        let rows = Tensor::arange(0, sz as i64, 1).unsqueeze(1);
        let cols = Tensor::arange(0, sz as i64, 1).unsqueeze(0);
        let upper = cols.gt(&rows);
        match dtype {
            DType::Bool => upper,
            d => Tensor::zeros_dtype([sz, sz], d).masked_fill(&upper, f64::NEG_INFINITY),
        }
    }
}

impl Default for Transformer {
    #[track_caller]
    fn default() -> Self {
        Transformer::new()
    }
}
