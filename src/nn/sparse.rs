//! `nn.Embedding`.

use super::{Forward, Parameter, functional as F, init};
use crate::nn::Module;
use crate::tensor::Tensor;

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
}

impl Embedding {
    /// `nn.Embedding(num_embeddings, embedding_dim)`.
    #[track_caller]
    pub fn new(num_embeddings: usize, embedding_dim: usize) -> Embedding {
        let w = Tensor::empty([num_embeddings, embedding_dim]);
        init::normal_(&w, 0.0, 1.0);
        Embedding {
            weight: Parameter::new(w),
            num_embeddings,
            embedding_dim,
        }
    }
    #[track_caller]
    fn describe(&self) -> String {
        format!("{}, {}", self.num_embeddings, self.embedding_dim)
    }
}

impl Forward for Embedding {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        F::embedding(input, &self.weight)
    }
}
