//! `nn.Embedding` and `nn.EmbeddingBag`.

use super::functional::{self as F, BagMode, EmbeddingBagOptions};
use super::{Forward, Parameter, init};
use crate::autograd::no_grad;
use crate::nn::Module;
use crate::tensor::Tensor;

/// `reset_parameters` of both modules: `normal_(weight)`, then the padding row zeroed.
#[track_caller]
fn init_table(rows: usize, cols: usize, padding_idx: Option<usize>) -> Tensor {
    let w = Tensor::empty([rows, cols]);
    init::normal_(&w, 0.0, 1.0);
    if let Some(p) = padding_idx {
        no_grad(|| w.select(0, p as i64).fill_(0.0));
    }
    w
}

/// A lookup table of `num_embeddings` vectors of size `embedding_dim`, initialised `N(0, 1)`
/// (`nn.Embedding`). The input holds int64 indices.
///
/// ```
/// use flambeau::{nn::{Embedding, Forward}, tensor};
/// let e = Embedding::new(10, 4);
/// assert_eq!(e.forward(&tensor!([[1, 2], [3, 9]])).dims(), &[2, 2, 4]);
/// ```
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct Embedding {
    /// The table, (num_embeddings, embedding_dim).
    pub weight: Parameter,
    /// Number of rows.
    pub num_embeddings: usize,
    /// Size of each row.
    pub embedding_dim: usize,
    /// The row that is zero at initialisation and never receives a gradient.
    pub padding_idx: Option<usize>,
}

impl Embedding {
    /// `nn.Embedding(num_embeddings, embedding_dim)`.
    #[track_caller]
    pub fn new(num_embeddings: usize, embedding_dim: usize) -> Embedding {
        Embedding::with_padding_idx(num_embeddings, embedding_dim, None)
    }

    /// `nn.Embedding(num_embeddings, embedding_dim, padding_idx=...)`: a negative `padding_idx`
    /// counts from the end; that row is zeroed after the `normal_` draw, as PyTorch's
    /// `reset_parameters` does, and gets no gradient.
    ///
    /// ```
    /// use flambeau::nn::Embedding;
    /// let e = Embedding::with_padding_idx(6, 3, Some(-4));
    /// assert_eq!(format!("{e}"), "Embedding(6, 3, padding_idx=2)");
    /// assert_eq!(e.weight.select(0, 2).to_vec::<f32>(), vec![0.0; 3]);
    /// ```
    #[track_caller]
    pub fn with_padding_idx(
        num_embeddings: usize,
        embedding_dim: usize,
        padding_idx: Option<i64>,
    ) -> Embedding {
        let padding_idx = F::wrap_padding_idx(padding_idx, num_embeddings);
        Embedding {
            weight: Parameter::new(init_table(num_embeddings, embedding_dim, padding_idx)),
            num_embeddings,
            embedding_dim,
            padding_idx,
        }
    }

    /// `nn.Embedding.from_pretrained(embeddings, freeze, padding_idx)`: the table is the given 2-D
    /// tensor (not copied, no random draw, the padding row left as it is); `freeze` (PyTorch's
    /// default true) makes it a parameter that does not require grad.
    ///
    /// ```
    /// use flambeau::{nn::{Embedding, Forward}, tensor};
    /// let e = Embedding::from_pretrained(&tensor!([[1.0, 2.0], [3.0, 4.0]]), true, None);
    /// assert!(!e.weight.requires_grad());
    /// assert_eq!(e.forward(&tensor!([1])).to_vec::<f32>(), vec![3.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn from_pretrained(
        embeddings: &Tensor,
        freeze: bool,
        padding_idx: Option<i64>,
    ) -> Embedding {
        if embeddings.ndim() != 2 {
            panic!("Embeddings parameter is expected to be 2-dimensional");
        }
        let (rows, cols) = (embeddings.dims()[0], embeddings.dims()[1]);
        let padding_idx = F::wrap_padding_idx(padding_idx, rows);
        let weight = if freeze {
            Parameter::frozen(embeddings.clone())
        } else {
            Parameter::new(embeddings.clone())
        };
        Embedding {
            weight,
            num_embeddings: rows,
            embedding_dim: cols,
            padding_idx,
        }
    }

    #[track_caller]
    fn describe(&self) -> String {
        let mut s = format!("{}, {}", self.num_embeddings, self.embedding_dim);
        if let Some(p) = self.padding_idx {
            s += &format!(", padding_idx={p}");
        }
        s
    }
}

impl Forward for Embedding {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        F::embedding_with(input, &self.weight, self.padding_idx.map(|p| p as i64))
    }
}

/// Sums, averages or takes the maximum of bags of embeddings (`nn.EmbeddingBag`), initialised
/// `N(0, 1)` like [`Embedding`].
///
/// ```
/// use flambeau::{nn::{EmbeddingBag, Forward}, tensor};
/// let bag = EmbeddingBag::new(10, 3, "mean");
/// assert_eq!(format!("{bag}"), "EmbeddingBag(10, 3, mode='mean')");
/// assert_eq!(bag.forward(&tensor!([[1, 2], [3, 9]])).dims(), &[2, 3]);
/// ```
#[derive(Module, Clone)]
#[module(extra_repr = "describe")]
pub struct EmbeddingBag {
    /// The table, (num_embeddings, embedding_dim).
    pub weight: Parameter,
    /// Number of rows.
    pub num_embeddings: usize,
    /// Size of each row.
    pub embedding_dim: usize,
    /// `"sum"`, `"mean"` or `"max"`.
    #[module(skip)]
    pub mode: BagMode,
    /// `offsets` ends with the input's length.
    pub include_last_offset: bool,
    /// The row left out of the bags, zero at initialisation.
    pub padding_idx: Option<usize>,
}

impl EmbeddingBag {
    /// `nn.EmbeddingBag(num_embeddings, embedding_dim, mode=mode)`.
    #[track_caller]
    pub fn new(num_embeddings: usize, embedding_dim: usize, mode: &str) -> EmbeddingBag {
        EmbeddingBag::with_options(num_embeddings, embedding_dim, mode, false, None)
    }

    /// `nn.EmbeddingBag(num_embeddings, embedding_dim, mode=..., include_last_offset=...,
    /// padding_idx=...)`.
    #[track_caller]
    pub fn with_options(
        num_embeddings: usize,
        embedding_dim: usize,
        mode: &str,
        include_last_offset: bool,
        padding_idx: Option<i64>,
    ) -> EmbeddingBag {
        let mode = BagMode::parse(mode);
        let padding_idx = F::wrap_padding_idx(padding_idx, num_embeddings);
        EmbeddingBag {
            weight: Parameter::new(init_table(num_embeddings, embedding_dim, padding_idx)),
            num_embeddings,
            embedding_dim,
            mode,
            include_last_offset,
            padding_idx,
        }
    }

    /// `bag(input, offsets, per_sample_weights)`.
    ///
    /// ```
    /// use flambeau::{nn::EmbeddingBag, tensor};
    /// let bag = EmbeddingBag::new(10, 3, "sum");
    /// let y = bag.forward_with(&tensor!([1, 2, 4, 5]), Some(&tensor!([0, 1])), None);
    /// assert_eq!(y.dims(), &[2, 3]);
    /// ```
    #[track_caller]
    pub fn forward_with(
        &self,
        input: &Tensor,
        offsets: Option<&Tensor>,
        per_sample_weights: Option<&Tensor>,
    ) -> Tensor {
        let opts = EmbeddingBagOptions {
            offsets: offsets.cloned(),
            per_sample_weights: per_sample_weights.cloned(),
            include_last_offset: self.include_last_offset,
            padding_idx: self.padding_idx.map(|p| p as i64),
        };
        F::embedding_bag(input, &self.weight, self.mode, &opts)
    }

    #[track_caller]
    fn describe(&self) -> String {
        let mut s = format!(
            "{}, {}, mode='{}'",
            self.num_embeddings,
            self.embedding_dim,
            self.mode.name()
        );
        if let Some(p) = self.padding_idx {
            s += &format!(", padding_idx={p}");
        }
        s
    }
}

impl Forward for EmbeddingBag {
    /// A 2-D input of fixed-length bags (`bag(input)`).
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        self.forward_with(input, None, None)
    }
}
