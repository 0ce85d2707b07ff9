//! Attention: `F.scaled_dot_product_attention` and `F.multi_head_attention_forward`.
//!
//! Both follow PyTorch's reference code operation for operation: SDPA ATen's
//! `_scaled_dot_product_attention_math` (aten/src/ATen/native/transformers/attention.cpp), the
//! multi-head forward `torch.nn.functional.multi_head_attention_forward`.

use crate::DType;
use crate::autograd::{SavedTensor, backward_fn, no_grad, record};
use crate::shape::wrap_dim;
use crate::tensor::Tensor;

/// The name ATen's `TypeMeta` prints for a dtype (`float`, `double`, `long int`, `bool`).
fn type_meta_name(d: DType) -> &'static str {
    match d {
        DType::F32 => "float",
        DType::F64 => "double",
        DType::I64 => "long int",
        DType::Bool => "bool",
    }
}

backward_fn! {
    /// derivatives.yaml: `_safe_softmax: self: _softmax_backward_data(grad, result, dim, ...)`.
    /// The result is 0 on fully masked rows, so their gradient is 0 too (no NaN).
    struct SafeSoftmaxBackward0 { result: SavedTensor, dim: i64 }
    saved [result]
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(Tensor::softmax_backward_data(grad, &self.result.get(), self.dim))]
    }
}

/// ATen's `_safe_softmax`: softmax along `dim`, with 0 (not NaN) on rows that are all `-inf`.
#[track_caller]
pub(crate) fn safe_softmax(x: &Tensor, dim: i64) -> Tensor {
    let d = wrap_dim(dim, x.ndim());
    // `where(all(self == -inf, dim), 0, softmax(self))` in the row kernel's one pass: the row
    // maximum is -inf exactly when every entry is.
    let out = if x.dtype().is_float() {
        crate::ops::softmax::safe_softmax_raw(x, d)
    } else {
        no_grad(|| x.softmax(d as i64))
    };
    let d = d as i64;
    record(out, &[x], |o| SafeSoftmaxBackward0 {
        result: SavedTensor::output(o),
        dim: d,
    })
}

/// ATen's `convert_boolean_attn_mask`: a bool mask (True = take part) becomes 0 / `-inf` in
/// `dtype`; a float mask is returned as it is.
fn convert_boolean_attn_mask(mask: &Tensor, dtype: DType) -> Tensor {
    if mask.dtype() == DType::Bool {
        Tensor::zeros_dtype(mask.shape(), dtype).masked_fill(&mask.logical_not(), f64::NEG_INFINITY)
    } else {
        mask.clone()
    }
}

/// The lower-triangular `(l, s)` bool mask `ones(l, s).tril()`: row `i` may see columns `j <= i`.
fn tril_mask(l: usize, s: usize) -> Tensor {
    let rows = Tensor::arange(0, l as i64, 1).unsqueeze(1);
    let cols = Tensor::arange(0, s as i64, 1).unsqueeze(0);
    cols.le(&rows)
}

/// Scaled dot-product attention, `softmax(q·kᵀ·scale + mask)·v`, batched over any leading dims
/// (`F.scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal, scale)`).
///
/// `query` is `(..., L, E)`, `key` `(..., S, E)`, `value` `(..., S, Ev)`; the result is
/// `(..., L, Ev)`. `attn_mask` broadcasts to `(..., L, S)`: a bool mask's `true` means *may
/// attend* (the opposite of `nn.MultiheadAttention`'s masks), a float mask is added to the scores.
/// `is_causal` masks out the upper triangle and may not be combined with a mask. `scale`
/// defaults to `1/√E`. Dropout (probability `dropout_p`) is applied to the attention weights, with
/// PyTorch's random stream. Rows where nothing may be attended give 0, as PyTorch's math path does.
///
/// The scores are `(q·scale)·kᵀ`: one pass over `q`, `k` read in place by the product. ATen's
/// `_scaled_dot_product_attention_math` multiplies `q` and `k` by `√scale` each (for half
/// precision's range); its CPU flash-attention kernel, which PyTorch runs for float inputs
/// without a mask, scales `q·kᵀ` once. The three agree to rounding.
///
/// ```
/// use flambeau::{nn::functional as F, Tensor};
/// let q = Tensor::randn([2, 3, 4]);
/// let k = Tensor::randn([2, 5, 4]);
/// let v = Tensor::randn([2, 5, 6]);
/// let out = F::scaled_dot_product_attention(&q, &k, &v, None, 0.0, false, None);
/// assert_eq!(out.dims(), &[2, 3, 6]);
/// // With one key, every query attends to it alone.
/// let one = F::scaled_dot_product_attention(&q, &k.narrow(1, 0, 1), &v.narrow(1, 0, 1), None, 0.0, false, None);
/// assert!(one.allclose(&v.narrow(1, 0, 1).expand([2, 3, 6]), 1e-6, 1e-6));
/// ```
#[track_caller]
pub fn scaled_dot_product_attention(
    query: &Tensor,
    key: &Tensor,
    value: &Tensor,
    attn_mask: Option<&Tensor>,
    dropout_p: f64,
    is_causal: bool,
    scale: Option<f64>,
) -> Tensor {
    // validate_sdpa_input (aten/src/ATen/native/transformers/attention.cpp).
    if query.dtype() != key.dtype() || query.dtype() != value.dtype() {
        panic!(
            "Expected query, key, and value to have the same dtype, but got query.dtype: {} key.dtype: {} and value.dtype: {} instead.",
            type_meta_name(query.dtype()),
            type_meta_name(key.dtype()),
            type_meta_name(value.dtype())
        );
    }
    if query.ndim() < 2 || key.ndim() < 2 || value.ndim() < 2 {
        panic!(
            "Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: {} key.dim: {} and value.dim: {} instead.",
            query.ndim(),
            key.ndim(),
            value.ndim()
        );
    }
    if let Some(m) = attn_mask {
        let md = m.dtype();
        if md != DType::Bool && md != DType::F32 && md != query.dtype() {
            panic!(
                "Expected attn_mask dtype to be bool or float or to match query dtype, but got attn_mask.dtype: {} and  query.dtype: {} instead.",
                type_meta_name(md),
                type_meta_name(query.dtype())
            );
        }
    }
    if !(0.0..=1.0).contains(&dropout_p) {
        panic!("dropout probability has to be between 0 and 1, but got {dropout_p}");
    }
    let mut attn_mask = attn_mask.map(|m| convert_boolean_attn_mask(m, query.dtype()));

    let e = query.dims()[query.ndim() - 1] as f64;
    let softmax_scale = scale.unwrap_or(1.0 / e.sqrt());
    let q = query.mul(softmax_scale);
    if is_causal {
        if attn_mask.is_some() {
            panic!(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"
            );
        }
        let l = q.dims()[q.ndim() - 2];
        let s = key.dims()[key.ndim() - 2];
        attn_mask = Some(convert_boolean_attn_mask(&tril_mask(l, s), q.dtype()));
    }
    let mut attn = q.matmul(&key.transpose(-2, -1));
    if let Some(m) = &attn_mask {
        attn = attn.add(m);
    }
    attn = safe_softmax(&attn, -1);
    if dropout_p > 0.0 {
        attn = super::dropout(&attn, dropout_p, true);
    }
    attn.matmul(value)
}

/// The masks and flags of one multi-head attention call (`nn.MultiheadAttention.forward`'s
/// keyword arguments), with PyTorch's defaults: `need_weights` and `average_attn_weights` true.
///
/// Masks follow `nn.MultiheadAttention`'s convention: a bool mask's `true` means *not allowed to
/// attend*; a float mask is added to the scores. `key_padding_mask` is `(N, S)` (`(S)` unbatched);
/// `attn_mask` is `(L, S)` or `(N·num_heads, L, S)`.
///
/// ```
/// use flambeau::nn::MhaOptions;
/// let o = MhaOptions { need_weights: false, ..Default::default() };
/// assert!(o.average_attn_weights && o.attn_mask.is_none());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MhaOptions<'a> {
    /// Keys to ignore (padding), `(N, S)` or `(S)`.
    pub key_padding_mask: Option<&'a Tensor>,
    /// Whether to return the attention weights.
    pub need_weights: bool,
    /// Positions that may not attend, `(L, S)` or `(N·num_heads, L, S)`.
    pub attn_mask: Option<&'a Tensor>,
    /// Average the returned weights over the heads.
    pub average_attn_weights: bool,
    /// A hint that `attn_mask` is the causal mask.
    pub is_causal: bool,
}

impl Default for MhaOptions<'_> {
    fn default() -> Self {
        MhaOptions {
            key_padding_mask: None,
            need_weights: true,
            attn_mask: None,
            average_attn_weights: true,
            is_causal: false,
        }
    }
}

/// The weights and settings `F.multi_head_attention_forward` takes besides the inputs and masks.
/// `nn::MultiheadAttention` fills it from its parameters.
#[derive(Clone, Copy, Debug)]
pub struct MhaParams<'a> {
    /// The model dim the query must have.
    pub embed_dim_to_check: usize,
    /// Number of heads.
    pub num_heads: usize,
    /// The packed `(3E, E)` projection (when `use_separate_proj_weight` is false).
    pub in_proj_weight: Option<&'a Tensor>,
    /// The packed `(3E)` projection bias.
    pub in_proj_bias: Option<&'a Tensor>,
    /// A key appended to the sequence, `(1, 1, E)`.
    pub bias_k: Option<&'a Tensor>,
    /// A value appended to the sequence, `(1, 1, E)`.
    pub bias_v: Option<&'a Tensor>,
    /// Append a zero key and value.
    pub add_zero_attn: bool,
    /// Dropout on the attention weights (in training).
    pub dropout_p: f64,
    /// The output projection, `(E, E)`.
    pub out_proj_weight: &'a Tensor,
    /// The output projection's bias.
    pub out_proj_bias: Option<&'a Tensor>,
    /// Training mode (dropout is off otherwise).
    pub training: bool,
    /// Use `q_proj_weight`, `k_proj_weight`, `v_proj_weight` instead of `in_proj_weight`.
    pub use_separate_proj_weight: bool,
    /// `(E, E)`.
    pub q_proj_weight: Option<&'a Tensor>,
    /// `(E, kdim)`.
    pub k_proj_weight: Option<&'a Tensor>,
    /// `(E, vdim)`.
    pub v_proj_weight: Option<&'a Tensor>,
    /// Precomputed keys, `(N·num_heads, S, E/num_heads)`.
    pub static_k: Option<&'a Tensor>,
    /// Precomputed values, `(N·num_heads, S, E/num_heads)`.
    pub static_v: Option<&'a Tensor>,
}

impl<'a> MhaParams<'a> {
    /// Only the sizes and the output projection, everything else off (no input projection, no
    /// biases, no dropout, training mode); fill the rest with struct update syntax.
    ///
    /// ```
    /// use flambeau::nn::functional::{self as F, MhaOptions, MhaParams};
    /// use flambeau::Tensor;
    /// let (w_in, w_out) = (Tensor::randn([12, 4]), Tensor::randn([4, 4]));
    /// let p = MhaParams { in_proj_weight: Some(&w_in), ..MhaParams::new(4, 2, &w_out) };
    /// let x = Tensor::randn([3, 2, 4]);
    /// let (out, _) = F::multi_head_attention_forward(&x, &x, &x, &p, MhaOptions::default());
    /// assert_eq!(out.dims(), &[3, 2, 4]);
    /// ```
    pub fn new(embed_dim_to_check: usize, num_heads: usize, out_proj_weight: &'a Tensor) -> Self {
        MhaParams {
            embed_dim_to_check,
            num_heads,
            in_proj_weight: None,
            in_proj_bias: None,
            bias_k: None,
            bias_v: None,
            add_zero_attn: false,
            dropout_p: 0.0,
            out_proj_weight,
            out_proj_bias: None,
            training: true,
            use_separate_proj_weight: false,
            q_proj_weight: None,
            k_proj_weight: None,
            v_proj_weight: None,
            static_k: None,
            static_v: None,
        }
    }
}

/// `F._canonical_mask`: a bool mask becomes 0 / `-inf` in `target`; a float mask stays as it is.
/// `other` is the other mask's dtype, for PyTorch's warning about mixing mask types.
#[track_caller]
pub(crate) fn canonical_mask(
    mask: Option<&Tensor>,
    mask_name: &str,
    other: Option<(DType, &str)>,
    target: DType,
) -> Option<Tensor> {
    let mask = mask?;
    if mask.dtype() != DType::Bool && !mask.dtype().is_float() {
        panic!("only bool and floating types of {mask_name} are supported");
    }
    if let Some((other_type, other_name)) = other {
        if mask.dtype() != other_type {
            crate::warn_once(
                "mha_mismatched_masks",
                &format!(
                    "UserWarning: Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both instead."
                ),
            );
        }
    }
    if mask.dtype() == DType::Bool {
        Some(Tensor::zeros_dtype(mask.shape(), target).masked_fill(mask, f64::NEG_INFINITY))
    } else {
        Some(mask.clone())
    }
}

/// `_mha_shape_check`: whether the input is batched, with PyTorch's messages.
#[track_caller]
fn mha_shape_check(
    query: &Tensor,
    key: &Tensor,
    value: &Tensor,
    key_padding_mask: Option<&Tensor>,
    attn_mask: Option<&Tensor>,
    num_heads: usize,
) -> bool {
    match query.ndim() {
        3 => {
            if key.ndim() != 3 || value.ndim() != 3 {
                panic!(
                    "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found {}-D and {}-D tensors respectively",
                    key.ndim(),
                    value.ndim()
                );
            }
            if let Some(k) = key_padding_mask {
                if k.ndim() != 2 {
                    panic!(
                        "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but found {}-D tensor instead",
                        k.ndim()
                    );
                }
            }
            if let Some(m) = attn_mask {
                if m.ndim() != 2 && m.ndim() != 3 {
                    panic!(
                        "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found {}-D tensor instead",
                        m.ndim()
                    );
                }
            }
            true
        }
        2 => {
            if key.ndim() != 2 || value.ndim() != 2 {
                panic!(
                    "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found {}-D and {}-D tensors respectively",
                    key.ndim(),
                    value.ndim()
                );
            }
            if let Some(k) = key_padding_mask {
                if k.ndim() != 1 {
                    panic!(
                        "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but found {}-D tensor instead",
                        k.ndim()
                    );
                }
            }
            if let Some(m) = attn_mask {
                if m.ndim() != 2 && m.ndim() != 3 {
                    panic!(
                        "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found {}-D tensor instead",
                        m.ndim()
                    );
                }
                let expected = [num_heads, query.dims()[0], key.dims()[0]];
                if m.ndim() == 3 && m.dims() != expected {
                    panic!(
                        "Expected `attn_mask` shape to be ({}, {}, {}) but got {}",
                        expected[0],
                        expected[1],
                        expected[2],
                        torch_size(m.dims())
                    );
                }
            }
            false
        }
        d => panic!(
            "query should be unbatched 2D or batched 3D tensor but received {d}-D query tensor"
        ),
    }
}

/// Python's `torch.Size([..])` text.
fn torch_size(d: &[usize]) -> String {
    format!("{:?}", crate::shape::Shape::new(d))
}

/// `_in_projection_packed`: one product for self-attention (`q is k is v`), two for
/// encoder-decoder attention (`k is v`), three otherwise; the same split as PyTorch's.
fn in_projection_packed(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
) -> (Tensor, Tensor, Tensor) {
    let e = q.dims()[q.ndim() - 1];
    // reshape to (3, E) not (E, 3), as PyTorch does, so proj[i] is chunk i.
    let unpack = |proj: Tensor, n: usize| {
        proj.unflatten(-1, [n, e])
            .unsqueeze(0)
            .transpose(0, -2)
            .squeeze_dim(-2)
            .contiguous()
    };
    if k.is_same(v) {
        if q.is_same(k) {
            // One product per projection, each result contiguous, instead of PyTorch's one
            // product unpacked by a copy and three selects (whose backward writes three
            // zero-padded gradients and adds them): every element is the same dot product.
            let x = q.contiguous();
            let w = w.chunk(3, 0);
            let b = b.map(|b| b.chunk(3, 0));
            let bi = |i: usize| b.as_ref().map(|b| &b[i]);
            (
                x.linear(&w[0], bi(0)),
                x.linear(&w[1], bi(1)),
                x.linear(&w[2], bi(2)),
            )
        } else {
            let w = w.split_with_sizes(&[e, 2 * e], 0);
            let b = b.map(|b| b.split_with_sizes(&[e, 2 * e], 0));
            let q_proj = q.linear(&w[0], b.as_ref().map(|b| &b[0]));
            let kv = unpack(k.linear(&w[1], b.as_ref().map(|b| &b[1])), 2);
            (q_proj, kv.select(0, 0), kv.select(0, 1))
        }
    } else {
        let w = w.chunk(3, 0);
        let b = b.map(|b| b.chunk(3, 0));
        let bi = |i: usize| b.as_ref().map(|b| &b[i]);
        (
            q.linear(&w[0], bi(0)),
            k.linear(&w[1], bi(1)),
            v.linear(&w[2], bi(2)),
        )
    }
}

/// `_in_projection`: three separate products, with PyTorch's shape checks.
#[track_caller]
#[allow(clippy::too_many_arguments)]
fn in_projection(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    w_q: &Tensor,
    w_k: &Tensor,
    w_v: &Tensor,
    b: Option<&Tensor>,
) -> (Tensor, Tensor, Tensor) {
    let last = |t: &Tensor| t.dims()[t.ndim() - 1];
    let (eq, ek, ev) = (last(q), last(k), last(v));
    for (w, want, what) in [(w_q, eq, "query"), (w_k, ek, "key"), (w_v, ev, "value")] {
        if w.dims() != [eq, want] {
            panic!(
                "expecting {what} weights shape of ({eq}, {want}), but got {}",
                torch_size(w.dims())
            );
        }
    }
    let b = b.map(|b| b.chunk(3, 0));
    if let Some(b) = &b {
        for (t, what) in b.iter().zip(["query", "key", "value"]) {
            if t.dims() != [eq] {
                panic!(
                    "expecting {what} bias shape of ({eq},), but got {}",
                    torch_size(t.dims())
                );
            }
        }
    }
    let bi = |i: usize| b.as_ref().map(|b| &b[i]);
    (
        q.linear(w_q, bi(0)),
        k.linear(w_k, bi(1)),
        v.linear(w_v, bi(2)),
    )
}

/// `F.pad(mask, (0, 1))`: one zero column appended to the last dim.
fn pad_last(m: &Tensor) -> Tensor {
    let mut shape = m.dims().to_vec();
    *shape.last_mut().unwrap() = 1;
    Tensor::cat(&[m, &Tensor::zeros_dtype(shape, m.dtype())], -1)
}

/// Multi-head attention on `(L, N, E)` inputs (`(L, E)` unbatched), sequence first
/// (`F.multi_head_attention_forward`): projections, the heads' attention, the output projection.
/// Returns the output `(L, N, E)` and, with `need_weights`, the weights `(N, L, S)` (averaged over
/// heads) or `(N, num_heads, L, S)`. With `need_weights` the weights are computed explicitly (a
/// plain softmax, as PyTorch's); otherwise [`scaled_dot_product_attention`] runs per head.
///
/// ```
/// use flambeau::nn::{functional as F, MhaOptions, MultiheadAttention};
/// use flambeau::Tensor;
/// let mha = MultiheadAttention::new(4, 2);
/// let x = Tensor::randn([3, 1, 4]);
/// let (out, w) = F::multi_head_attention_forward(&x, &x, &x, &mha.params(), MhaOptions::default());
/// assert_eq!(out.dims(), &[3, 1, 4]);
/// assert_eq!(w.unwrap().dims(), &[1, 3, 3]);
/// ```
#[track_caller]
pub fn multi_head_attention_forward(
    query: &Tensor,
    key: &Tensor,
    value: &Tensor,
    p: &MhaParams<'_>,
    opts: MhaOptions<'_>,
) -> (Tensor, Option<Tensor>) {
    let num_heads = p.num_heads;
    let is_batched = mha_shape_check(
        query,
        key,
        value,
        opts.key_padding_mask,
        opts.attn_mask,
        num_heads,
    );
    let (mut query, mut key, mut value) = (query.clone(), key.clone(), value.clone());
    let mut key_padding_mask = opts.key_padding_mask.cloned();
    if !is_batched {
        // Three new tensors, as in PyTorch: unbatched inputs take the three-product projection.
        query = query.unsqueeze(1);
        key = key.unsqueeze(1);
        value = value.unsqueeze(1);
        key_padding_mask = key_padding_mask.map(|m| m.unsqueeze(0));
    }
    let (tgt_len, bsz, embed_dim) = (query.dims()[0], query.dims()[1], query.dims()[2]);
    let mut src_len = key.dims()[0];

    let mut key_padding_mask = canonical_mask(
        key_padding_mask.as_ref(),
        "key_padding_mask",
        opts.attn_mask.map(|m| (m.dtype(), "attn_mask")),
        query.dtype(),
    );
    let mut is_causal = opts.is_causal;
    if is_causal && opts.attn_mask.is_none() {
        panic!(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method `generate_square_subsequent_mask` to create this mask."
        );
    }
    let mut attn_mask = if is_causal && key_padding_mask.is_none() && !opts.need_weights {
        // Without a padding mask and weights, the hint goes to SDPA as is_causal.
        None
    } else {
        let m = canonical_mask(opts.attn_mask, "attn_mask", None, query.dtype());
        if key_padding_mask.is_some() {
            // The merged mask is no longer causal.
            is_causal = false;
        }
        m
    };
    if embed_dim != p.embed_dim_to_check {
        panic!(
            "was expecting embedding dimension of {}, but got {embed_dim}",
            p.embed_dim_to_check
        );
    }
    let head_dim = embed_dim / num_heads;
    if head_dim * num_heads != embed_dim {
        panic!("embed_dim {embed_dim} not divisible by num_heads {num_heads}");
    }
    if p.use_separate_proj_weight {
        if key.dims()[..2] != value.dims()[..2] {
            panic!(
                "key's sequence and batch dims {} do not match value's {}",
                torch_size(&key.dims()[..2]),
                torch_size(&value.dims()[..2])
            );
        }
    } else if key.dims() != value.dims() {
        panic!(
            "key shape {} does not match value shape {}",
            torch_size(key.dims()),
            torch_size(value.dims())
        );
    }

    // In-projection (panics inline, not in closures, so they report the caller's line).
    let (q, mut k, mut v) = if !p.use_separate_proj_weight {
        let Some(w) = p.in_proj_weight else {
            panic!("use_separate_proj_weight is False but in_proj_weight is None")
        };
        in_projection_packed(&query, &key, &value, w, p.in_proj_bias)
    } else {
        let (Some(wq), Some(wk), Some(wv)) = (p.q_proj_weight, p.k_proj_weight, p.v_proj_weight)
        else {
            let n = if p.q_proj_weight.is_none() {
                "q_proj_weight"
            } else if p.k_proj_weight.is_none() {
                "k_proj_weight"
            } else {
                "v_proj_weight"
            };
            panic!("use_separate_proj_weight is True but {n} is None")
        };
        in_projection(&query, &key, &value, wq, wk, wv, p.in_proj_bias)
    };

    // Attention mask to 3-D.
    if let Some(m) = &attn_mask {
        attn_mask = Some(match m.ndim() {
            2 => {
                if m.dims() != [tgt_len, src_len] {
                    panic!(
                        "The shape of the 2D attn_mask is {}, but should be ({tgt_len}, {src_len}).",
                        torch_size(m.dims())
                    );
                }
                m.unsqueeze(0)
            }
            3 => {
                if m.dims() != [bsz * num_heads, tgt_len, src_len] {
                    panic!(
                        "The shape of the 3D attn_mask is {}, but should be ({}, {tgt_len}, {src_len}).",
                        torch_size(m.dims()),
                        bsz * num_heads
                    );
                }
                m.clone()
            }
            d => panic!("attn_mask's dimension {d} is not supported"),
        });
    }

    // bias_k / bias_v along the sequence.
    match (p.bias_k, p.bias_v) {
        (Some(bk), Some(bv)) => {
            if p.static_k.is_some() {
                panic!("bias cannot be added to static key.");
            }
            if p.static_v.is_some() {
                panic!("bias cannot be added to static value.");
            }
            // `bias_k.repeat(1, bsz, 1)`: an expand has the same values and gradient.
            k = Tensor::cat(&[&k, &bk.expand([1, bsz, embed_dim])], 0);
            v = Tensor::cat(&[&v, &bv.expand([1, bsz, embed_dim])], 0);
            attn_mask = attn_mask.map(|m| pad_last(&m));
            key_padding_mask = key_padding_mask.map(|m| pad_last(&m));
        }
        (Some(_), None) => panic!("bias_k is set but bias_v is None"),
        (None, Some(_)) => panic!("bias_v is set but bias_k is None"),
        (None, None) => {}
    }

    // Heads into the batch: (B*H, L, head_dim).
    let bh = bsz * num_heads;
    let q = q.reshape([tgt_len, bh, head_dim]).transpose(0, 1);
    for (s, n) in [(p.static_k, "static_k"), (p.static_v, "static_v")] {
        if let Some(s) = s {
            if s.dims()[0] != bh {
                panic!("expecting {n}.size(0) of {bh}, but got {}", s.dims()[0]);
            }
            if s.dims()[2] != head_dim {
                panic!(
                    "expecting {n}.size(2) of {head_dim}, but got {}",
                    s.dims()[2]
                );
            }
        }
    }
    k = match p.static_k {
        None => k.reshape([k.dims()[0], bh, head_dim]).transpose(0, 1),
        Some(s) => s.clone(),
    };
    v = match p.static_v {
        None => v.reshape([v.dims()[0], bh, head_dim]).transpose(0, 1),
        Some(s) => s.clone(),
    };

    if p.add_zero_attn {
        let zeros = |t: &Tensor| Tensor::zeros_dtype([bh, 1, head_dim], t.dtype());
        k = Tensor::cat(&[&k, &zeros(&k)], 1);
        v = Tensor::cat(&[&v, &zeros(&v)], 1);
        attn_mask = attn_mask.map(|m| pad_last(&m));
        key_padding_mask = key_padding_mask.map(|m| pad_last(&m));
    }
    src_len = k.dims()[1];

    // Merge the key padding mask into the attention mask.
    if let Some(kpm) = &key_padding_mask {
        if kpm.dims()[0] != bsz {
            panic!(
                "Expected key_padded_mask.shape[0] to be {bsz}, but got {}",
                kpm.dims()[0]
            );
        }
        if kpm.dims()[1] != src_len {
            panic!(
                "Expected key_padded_mask.shape[1] to be {src_len}, but got {}",
                kpm.dims()[1]
            );
        }
        let kpm = kpm
            .reshape([bsz, 1, 1, src_len])
            .expand([bsz, num_heads, 1, src_len])
            .reshape([bh, 1, src_len]);
        attn_mask = Some(match &attn_mask {
            None => kpm,
            Some(m) => m.add(&kpm),
        });
    }
    let dropout_p = if p.training { p.dropout_p } else { 0.0 };

    if opts.need_weights {
        let e = q.dims()[2];
        let q_scaled = q.mul((1.0 / e as f64).sqrt());
        if is_causal && attn_mask.is_none() {
            panic!("FIXME: is_causal not implemented for need_weights");
        }
        let scores = q_scaled.bmm(&k.transpose(-2, -1));
        // torch.baddbmm(attn_mask, q_scaled, kᵀ) = attn_mask + q_scaled·kᵀ.
        let mut w = match &attn_mask {
            Some(m) => m.add(&scores),
            None => scores,
        };
        w = w.softmax(-1);
        if dropout_p > 0.0 {
            w = super::dropout(&w, dropout_p, true);
        }
        let out = w
            .bmm(&v)
            .transpose(0, 1)
            .reshape([tgt_len * bsz, embed_dim])
            .linear(p.out_proj_weight, p.out_proj_bias);
        let mut out = out.reshape([tgt_len, bsz, out.dims()[1]]);
        let mut w = w.reshape([bsz, num_heads, tgt_len, src_len]);
        if opts.average_attn_weights {
            w = w.mean_dim(1, false);
        }
        if !is_batched {
            out = out.squeeze_dim(1);
            w = w.squeeze_dim(0);
        }
        (out, Some(w))
    } else {
        // SDPA wants (N, num_heads, L, S) masks.
        let attn_mask = attn_mask.map(|m| {
            if m.dims()[0] == 1 && m.ndim() == 3 {
                m.unsqueeze(0)
            } else {
                let l = m.numel() / (bh * src_len);
                m.reshape([bsz, num_heads, l, src_len])
            }
        });
        let q = q.reshape([bsz, num_heads, tgt_len, head_dim]);
        let k = k.reshape([bsz, num_heads, src_len, head_dim]);
        let v = v.reshape([bsz, num_heads, src_len, head_dim]);
        let out = scaled_dot_product_attention(
            &q,
            &k,
            &v,
            attn_mask.as_ref(),
            dropout_p,
            is_causal,
            None,
        );
        let out = out
            .permute([2, 0, 1, 3])
            .reshape([bsz * tgt_len, embed_dim])
            .linear(p.out_proj_weight, p.out_proj_bias);
        let mut out = out.reshape([tgt_len, bsz, out.dims()[1]]);
        if !is_batched {
            out = out.squeeze_dim(1);
        }
        (out, None)
    }
}
