//! `F.embedding` (with `padding_idx`) and `F.embedding_bag`.

use crate::autograd::{backward_fn, record};
use crate::dtype::DType;
use crate::shape::Shape;
use crate::tensor::Tensor;

backward_fn! {
    /// ATen's `embedding_dense_backward`: the output gradient's rows are summed into the rows
    /// they were read from, in index order, skipping `padding_idx` (that row gets no gradient).
    struct EmbeddingBackward0 { shape: Shape, indices: Tensor, padding_idx: Option<usize> }
    saved []
    fn backward(&mut self, grad, needs) {
        let (rows, dim) = (self.shape.dims()[0], self.shape.dims()[1]);
        let g = grad.reshape([-1, dim as i64]);
        let idx = self.indices.reshape([-1]);
        let (g, idx) = match self.padding_idx {
            Some(p) => {
                let all = idx.to_vec::<i64>();
                let keep: Vec<i64> = (0..all.len() as i64)
                    .filter(|&i| all[i as usize] != p as i64)
                    .collect();
                let kept: Vec<i64> = keep.iter().map(|&i| all[i as usize]).collect();
                let n = keep.len();
                (g.index_select(0, &Tensor::from_vec(keep, [n])), Tensor::from_vec(kept, [n]))
            }
            None => (g, idx),
        };
        let z = Tensor::zeros_dtype([rows, dim], grad.dtype());
        smallvec::smallvec![Some(z.index_add(0, &idx, &g))]
    }
}

/// `F.embedding`'s `padding_idx` after PyTorch's checks: a negative one counts from the end.
#[track_caller]
pub(crate) fn wrap_padding_idx(padding_idx: Option<i64>, num_embeddings: usize) -> Option<usize> {
    let n = num_embeddings as i64;
    padding_idx.map(|p| {
        if p >= n || p < -n {
            panic!("Padding_idx must be within num_embeddings");
        }
        if p < 0 { (p + n) as usize } else { p as usize }
    })
}

#[track_caller]
fn check_indices(indices: &Tensor, weight: &Tensor, op: &str) {
    if indices.dtype() != DType::I64 {
        let name = match indices.dtype() {
            DType::F32 => "torch.FloatTensor",
            DType::F64 => "torch.DoubleTensor",
            _ => "torch.BoolTensor",
        };
        panic!(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got {name} instead (while checking arguments for {op})"
        );
    }
    let n = weight.dims()[0] as i64;
    if indices.to_vec::<i64>().iter().any(|&i| i < 0 || i >= n) {
        panic!("index out of range in self");
    }
}

/// Rows of `weight` picked by int64 `indices` (`F.embedding(input, weight)`): the output has the
/// indices' shape plus the embedding dim. See [`embedding_with`] for `padding_idx`.
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// let w = tensor!([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]);
/// let e = F::embedding(&tensor!([[2, 0]]), &w);
/// assert_eq!(e.to_vec::<f32>(), vec![4.0, 5.0, 0.0, 1.0]);
/// ```
#[track_caller]
pub fn embedding(indices: &Tensor, weight: &Tensor) -> Tensor {
    embedding_with(indices, weight, None)
}

/// `F.embedding(input, weight, padding_idx)`: like [`embedding`], and the row `padding_idx`
/// (negative counts from the end) receives no gradient, as in PyTorch. The forward still reads
/// that row as it is.
///
/// ```
/// use flambeau::{nn::functional as F, tensor, Tensor};
/// let w = Tensor::ones([3, 2]).requires_grad_(true);
/// F::embedding_with(&tensor!([0, 1, 1]), &w, Some(-2)).sum().backward();
/// assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
/// ```
#[track_caller]
pub fn embedding_with(indices: &Tensor, weight: &Tensor, padding_idx: Option<i64>) -> Tensor {
    if weight.ndim() != 2 {
        panic!("'weight' must be 2-D");
    }
    let padding_idx = wrap_padding_idx(padding_idx, weight.dims()[0]);
    check_indices(indices, weight, "embedding");
    let mut shape = indices.dims().to_vec();
    shape.push(weight.dims()[1]);
    let flat = indices.reshape([-1]);
    let out = crate::autograd::no_grad(|| weight.index_select(0, &flat)).reshape(shape);
    record(out, &[weight], |_| EmbeddingBackward0 {
        shape: weight.shape().clone(),
        indices: indices.clone(),
        padding_idx,
    })
}

/// How `F.embedding_bag` reduces each bag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BagMode {
    /// The sum of the bag's rows (optionally weighted by `per_sample_weights`).
    Sum,
    /// Their mean (PyTorch's default).
    Mean,
    /// Their elementwise maximum.
    Max,
}

impl BagMode {
    /// Parses PyTorch's mode names `"sum"`, `"mean"`, `"max"`.
    #[track_caller]
    pub fn parse(mode: &str) -> BagMode {
        match mode {
            "sum" => BagMode::Sum,
            "mean" => BagMode::Mean,
            "max" => BagMode::Max,
            _ => panic!("mode has to be one of sum, mean or max"),
        }
    }
    /// PyTorch's name of the mode.
    pub fn name(self) -> &'static str {
        match self {
            BagMode::Sum => "sum",
            BagMode::Mean => "mean",
            BagMode::Max => "max",
        }
    }
}

/// The optional arguments of [`embedding_bag`] (`F.embedding_bag`'s keywords).
#[derive(Clone, Debug, Default)]
pub struct EmbeddingBagOptions {
    /// Start of each bag in a 1-D input; must be None for a 2-D input (fixed-length bags).
    pub offsets: Option<Tensor>,
    /// One weight per index, multiplying its row (mode `sum` only).
    pub per_sample_weights: Option<Tensor>,
    /// `offsets` ends with the input's length (so it has one entry more than there are bags).
    pub include_last_offset: bool,
    /// Entries equal to this index are left out of their bag (and of a mean's count).
    pub padding_idx: Option<i64>,
}

/// Sums, averages or takes the maximum of bags of embedding rows without building the
/// intermediate embeddings (`F.embedding_bag(input, weight, offsets, mode=..., ...)`).
///
/// A 2-D input `(B, L)` is `B` bags of `L` indices; a 1-D input is cut into bags at `offsets`.
/// An empty bag gives zeros. The result is `(B, embedding_dim)`; its gradient flows to `weight`
/// (and to `per_sample_weights`).
///
/// ```
/// use flambeau::{nn::functional::{self as F, BagMode, EmbeddingBagOptions}, tensor};
/// let w = tensor!([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
/// let opts = EmbeddingBagOptions { offsets: Some(tensor!([0, 2])), ..Default::default() };
/// let y = F::embedding_bag(&tensor!([0, 1, 2]), &w, BagMode::Mean, &opts);
/// assert_eq!(y.to_vec::<f32>(), vec![2.0, 3.0, 5.0, 6.0]);
/// ```
#[track_caller]
pub fn embedding_bag(
    input: &Tensor,
    weight: &Tensor,
    mode: BagMode,
    opts: &EmbeddingBagOptions,
) -> Tensor {
    if weight.ndim() != 2 {
        panic!(
            "weight has to be a 2D Tensor, but got Tensor of dimension {}",
            weight.ndim()
        );
    }
    let psw = opts.per_sample_weights.as_ref();
    if let Some(w) = psw
        && w.dims() != input.dims()
    {
        panic!(
            "embedding_bag: If per_sample_weights ({:?}) is not None, then it must have the same shape as the input ({:?})",
            w.dims(),
            input.dims()
        );
    }
    let (flat, offsets): (Tensor, Vec<i64>) = match input.ndim() {
        2 => {
            if opts.offsets.is_some() {
                panic!(
                    "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length sequences. However, found offsets of type Tensor"
                );
            }
            let (b, l) = (input.dims()[0], input.dims()[1]);
            let mut off: Vec<i64> = (0..b as i64).map(|i| i * l as i64).collect();
            if opts.include_last_offset {
                off.push((b * l) as i64);
            }
            (input.reshape([-1]), off)
        }
        1 => {
            let off = match &opts.offsets {
                None => panic!("offsets has to be a 1D Tensor but got None"),
                Some(o) if o.ndim() != 1 => panic!("offsets has to be a 1D Tensor"),
                Some(o) => o.to_dtype(DType::I64).to_vec::<i64>(),
            };
            (input.clone(), off)
        }
        d => panic!("input has to be 1D or 2D Tensor, but got Tensor of dimension {d}"),
    };
    if psw.is_some() && mode != BagMode::Sum {
        panic!(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' (got mode='{}'). Please open a feature request on GitHub.",
            mode.name()
        );
    }
    check_indices(&flat, weight, "embedding_bag");
    let n = flat.numel() as i64;
    if let Some(&first) = offsets.first()
        && first != 0
    {
        panic!(
            "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. However, got {first}"
        );
    }
    if let Some(&last) = offsets.last()
        && last > n
    {
        panic!(
            "offsets[-1] can not be greater than input's length {n}, but got offsets[-1] of {last}"
        );
    }
    let bags = if opts.include_last_offset {
        offsets.len().saturating_sub(1)
    } else {
        offsets.len()
    };
    let padding_idx = wrap_padding_idx(opts.padding_idx, weight.dims()[0]).map(|p| p as i64);
    let idx = flat.to_vec::<i64>();
    // Each kept position with its bag (positions of padding_idx are left out, as in ATen).
    let mut pos = Vec::new();
    let mut bag_of = Vec::new();
    let mut count = vec![0usize; bags];
    for b in 0..bags {
        let end = if b + 1 < offsets.len() {
            offsets[b + 1]
        } else {
            n
        };
        for p in offsets[b].max(0)..end.min(n) {
            if Some(idx[p as usize]) != padding_idx {
                pos.push(p);
                bag_of.push(b as i64);
                count[b] += 1;
            }
        }
    }
    let dim = weight.dims()[1];
    let kept = pos.len();
    let pos_t = Tensor::from_vec(pos.clone(), [kept]);
    let rows = weight.index_select(0, &flat.index_select(0, &pos_t));
    match mode {
        BagMode::Max => {
            let mut parts = Vec::with_capacity(bags);
            let mut start = 0;
            for &c in &count {
                parts.push(if c == 0 {
                    Tensor::zeros_dtype([1, dim], weight.dtype())
                } else {
                    rows.narrow(0, start as i64, c).amax(0, true)
                });
                start += c;
            }
            let refs: Vec<&Tensor> = parts.iter().collect();
            if refs.is_empty() {
                return Tensor::zeros_dtype([0, dim], weight.dtype());
            }
            Tensor::cat(&refs, 0)
        }
        _ => {
            let rows = match psw {
                Some(w) => rows * w.reshape([-1]).index_select(0, &pos_t).unsqueeze(1),
                None => rows,
            };
            let z = Tensor::zeros_dtype([bags, dim], weight.dtype());
            let sum = z.index_add(0, &Tensor::from_vec(bag_of, [kept]), &rows);
            if mode == BagMode::Mean {
                // ATen divides by max(bag_size, 1): an empty bag stays zero.
                let c: Vec<f64> = count.iter().map(|&c| c.max(1) as f64).collect();
                sum / Tensor::from_vec(c, [bags, 1]).to_dtype(weight.dtype())
            } else {
                sum
            }
        }
    }
}
