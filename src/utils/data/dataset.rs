//! Datasets (`torch/utils/data/dataset.py`): the map-style [`Dataset`] trait, [`IterableDataset`],
//! [`TensorDataset`], [`Subset`], [`ConcatDataset`] and [`random_split`].

use crate::random::{Generator, default_generator, generator};
use crate::tensor::Tensor;
use std::sync::Arc;

/// A map-style dataset (`torch.utils.data.Dataset`): `len` items, item `i` by [`get`](Self::get).
///
/// Datasets are `Send + Sync` so that [`DataLoader`](super::DataLoader) workers (threads) can share
/// one dataset without copying it.
///
/// ```
/// use flambeau::utils::data::Dataset;
/// struct Squares(usize);
/// impl Dataset for Squares {
///     type Item = i64;
///     fn len(&self) -> usize { self.0 }
///     fn get(&self, index: usize) -> i64 { (index * index) as i64 }
/// }
/// assert_eq!(Squares(5).get(3), 9);
/// ```
pub trait Dataset: Send + Sync {
    /// One sample.
    type Item: Send;
    /// The number of samples (`len(dataset)`).
    fn len(&self) -> usize;
    /// Sample `index` (`dataset[index]`), for `index < len()`.
    fn get(&self, index: usize) -> Self::Item;
    /// Whether the dataset has no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<D: Dataset + ?Sized> Dataset for Arc<D> {
    type Item = D::Item;
    fn len(&self) -> usize {
        (**self).len()
    }
    fn get(&self, index: usize) -> D::Item {
        (**self).get(index)
    }
}

impl<D: Dataset + ?Sized> Dataset for &D {
    type Item = D::Item;
    fn len(&self) -> usize {
        (**self).len()
    }
    fn get(&self, index: usize) -> D::Item {
        (**self).get(index)
    }
}

impl<D: Dataset + ?Sized> Dataset for Box<D> {
    type Item = D::Item;
    fn len(&self) -> usize {
        (**self).len()
    }
    fn get(&self, index: usize) -> D::Item {
        (**self).get(index)
    }
}

/// A `Vec` is a dataset of its clones (as a Python list is).
///
/// ```
/// use flambeau::utils::data::Dataset;
/// assert_eq!(vec![10, 20, 30].get(1), 20);
/// ```
impl<T: Clone + Send + Sync> Dataset for Vec<T> {
    type Item = T;
    fn len(&self) -> usize {
        self.as_slice().len()
    }
    fn get(&self, index: usize) -> T {
        self[index].clone()
    }
}

/// `range(n)` as a dataset: item `i` is `start + i`.
///
/// ```
/// use flambeau::utils::data::Dataset;
/// assert_eq!((5..9).get(2), 7);
/// ```
impl Dataset for std::ops::Range<usize> {
    type Item = usize;
    fn len(&self) -> usize {
        ExactSizeIterator::len(self)
    }
    fn get(&self, index: usize) -> usize {
        assert!(
            index < Dataset::len(self),
            "range object index out of range"
        );
        self.start + index
    }
}

/// An iterable-style dataset (`torch.utils.data.IterableDataset`): a stream of samples, read in
/// order; [`DataLoader::from_iterable`](super::DataLoader::from_iterable) batches it without a
/// sampler. Each call of [`iter`](Self::iter) starts the stream again (one epoch).
///
/// ```
/// use flambeau::utils::data::IterableDataset;
/// struct Count(i64);
/// impl IterableDataset for Count {
///     type Item = i64;
///     fn iter(&self) -> Box<dyn Iterator<Item = i64> + Send + '_> { Box::new(0..self.0) }
/// }
/// assert_eq!(Count(3).iter().collect::<Vec<_>>(), vec![0, 1, 2]);
/// ```
pub trait IterableDataset: Send + Sync {
    /// One sample.
    type Item: Send;
    /// The stream of samples of one epoch (`iter(dataset)`).
    fn iter(&self) -> Box<dyn Iterator<Item = Self::Item> + Send + '_>;
    /// The number of samples, if the dataset knows it (`len(dataset)`; used by
    /// `len(dataloader)`).
    fn len(&self) -> Option<usize> {
        None
    }
    /// Whether the dataset is known to be empty.
    fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }
}

/// Rows of tensors that share their first dimension (`torch.utils.data.TensorDataset`): item `i`
/// is `[t[i] for t in tensors]`.
///
/// ```
/// use flambeau::{Tensor, utils::data::{Dataset, TensorDataset}};
/// let x = Tensor::arange(0.0, 6.0, 1.0).reshape([3, 2]);
/// let y = Tensor::arange(0.0, 3.0, 1.0);
/// let ds = TensorDataset::new([x, y]);
/// assert_eq!(ds.len(), 3);
/// let row = ds.get(1);
/// assert_eq!(row[0].to_vec::<f32>(), vec![2.0, 3.0]);
/// assert_eq!(row[1].item::<f32>(), 1.0);
/// ```
#[derive(Clone, Debug)]
pub struct TensorDataset {
    tensors: Vec<Tensor>,
}

impl TensorDataset {
    /// Wraps tensors with the same size of dim 0; panics with PyTorch's "Size mismatch between
    /// tensors" otherwise (and for 0-d tensors, which have no rows to index).
    #[track_caller]
    pub fn new(tensors: impl IntoIterator<Item = Tensor>) -> TensorDataset {
        let tensors: Vec<Tensor> = tensors.into_iter().collect();
        assert!(
            !tensors.is_empty(),
            "TensorDataset needs at least one tensor"
        );
        let rows = tensors[0].size(0);
        if tensors.iter().any(|t| t.size(0) != rows) {
            panic!("Size mismatch between tensors");
        }
        TensorDataset { tensors }
    }

    /// The wrapped tensors (`dataset.tensors`).
    pub fn tensors(&self) -> &[Tensor] {
        &self.tensors
    }
}

impl Dataset for TensorDataset {
    type Item = Vec<Tensor>;
    fn len(&self) -> usize {
        self.tensors[0].size(0)
    }
    #[track_caller]
    fn get(&self, index: usize) -> Vec<Tensor> {
        self.tensors
            .iter()
            .map(|t| t.select(0, index as i64))
            .collect()
    }
}

/// The samples of a dataset at given indices (`torch.utils.data.Subset`).
///
/// ```
/// use flambeau::utils::data::{Dataset, Subset};
/// let s = Subset::new(vec!['a', 'b', 'c', 'd'], vec![3, 0]);
/// assert_eq!((s.len(), s.get(0), s.get(1)), (2, 'd', 'a'));
/// ```
#[derive(Clone, Debug)]
pub struct Subset<D> {
    dataset: D,
    indices: Vec<usize>,
}

impl<D: Dataset> Subset<D> {
    /// The samples `dataset[indices[i]]`.
    pub fn new(dataset: D, indices: Vec<usize>) -> Subset<D> {
        Subset { dataset, indices }
    }

    /// The underlying dataset (`subset.dataset`).
    pub fn dataset(&self) -> &D {
        &self.dataset
    }

    /// The indices into the underlying dataset (`subset.indices`).
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }
}

impl<D: Dataset> Dataset for Subset<D> {
    type Item = D::Item;
    fn len(&self) -> usize {
        self.indices.len()
    }
    #[track_caller]
    fn get(&self, index: usize) -> D::Item {
        self.dataset.get(self.indices[index])
    }
}

/// Datasets one after the other (`torch.utils.data.ConcatDataset`).
///
/// ```
/// use flambeau::utils::data::{ConcatDataset, Dataset};
/// let c = ConcatDataset::new([vec![1, 2, 3], vec![4, 5]]);
/// assert_eq!(c.cumulative_sizes(), &[3, 5]);
/// assert_eq!((c.get(3), c.get_signed(-1)), (4, 5));
/// ```
#[derive(Clone, Debug)]
pub struct ConcatDataset<D> {
    datasets: Vec<D>,
    cumulative_sizes: Vec<usize>,
}

impl<D: Dataset> ConcatDataset<D> {
    /// Concatenates `datasets`; panics with PyTorch's "datasets should not be an empty iterable"
    /// when there are none.
    #[track_caller]
    pub fn new(datasets: impl IntoIterator<Item = D>) -> ConcatDataset<D> {
        let datasets: Vec<D> = datasets.into_iter().collect();
        if datasets.is_empty() {
            panic!("datasets should not be an empty iterable");
        }
        let cumulative_sizes = datasets
            .iter()
            .scan(0, |s, d| {
                *s += d.len();
                Some(*s)
            })
            .collect();
        ConcatDataset {
            datasets,
            cumulative_sizes,
        }
    }

    /// The running totals of the datasets' lengths (`cumulative_sizes`).
    pub fn cumulative_sizes(&self) -> &[usize] {
        &self.cumulative_sizes
    }

    /// The concatenated datasets (`datasets`).
    pub fn datasets(&self) -> &[D] {
        &self.datasets
    }

    /// Python indexing: a negative `index` counts from the end; panics with PyTorch's "absolute
    /// value of index should not exceed dataset length" below `-len`.
    #[track_caller]
    pub fn get_signed(&self, index: i64) -> D::Item {
        let len = self.len();
        let index = if index < 0 {
            if index.unsigned_abs() as usize > len {
                panic!("absolute value of index should not exceed dataset length");
            }
            len - index.unsigned_abs() as usize
        } else {
            index as usize
        };
        self.get(index)
    }
}

impl<D: Dataset> Dataset for ConcatDataset<D> {
    type Item = D::Item;
    fn len(&self) -> usize {
        *self.cumulative_sizes.last().unwrap()
    }
    #[track_caller]
    fn get(&self, index: usize) -> D::Item {
        // bisect.bisect_right(cumulative_sizes, idx)
        let d = self.cumulative_sizes.partition_point(|&c| c <= index);
        if d == self.datasets.len() {
            panic!("list index out of range");
        }
        let sample = if d == 0 {
            index
        } else {
            index - self.cumulative_sizes[d - 1]
        };
        self.datasets[d].get(sample)
    }
}

/// The lengths given to [`random_split`]: sample counts, or fractions of the dataset.
#[derive(Clone, Debug, PartialEq)]
pub enum SplitLengths {
    /// Numbers of samples.
    Counts(Vec<usize>),
    /// Fractions summing to 1.
    Fractions(Vec<f64>),
}

impl From<Vec<usize>> for SplitLengths {
    fn from(v: Vec<usize>) -> Self {
        SplitLengths::Counts(v)
    }
}
impl From<&[usize]> for SplitLengths {
    fn from(v: &[usize]) -> Self {
        SplitLengths::Counts(v.to_vec())
    }
}
impl<const N: usize> From<[usize; N]> for SplitLengths {
    fn from(v: [usize; N]) -> Self {
        SplitLengths::Counts(v.to_vec())
    }
}
impl From<Vec<f64>> for SplitLengths {
    fn from(v: Vec<f64>) -> Self {
        SplitLengths::Fractions(v)
    }
}
impl From<&[f64]> for SplitLengths {
    fn from(v: &[f64]) -> Self {
        SplitLengths::Fractions(v.to_vec())
    }
}
impl<const N: usize> From<[f64; N]> for SplitLengths {
    fn from(v: [f64; N]) -> Self {
        SplitLengths::Fractions(v.to_vec())
    }
}

/// Python's `math.isclose(a, b)` with its default `rel_tol=1e-9`.
fn isclose(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// The subset sizes `random_split` uses for `lengths` over `n` samples
/// (`torch.utils.data.random_split`'s rule): lengths summing to 1 (counts too, as in Python) are
/// fractions, each `floor(n * frac)`, and the remainder is handed out one by one, round-robin from
/// the first split. Prints PyTorch's warning for a split of length 0; panics with PyTorch's
/// messages for a fraction outside `[0, 1]` or lengths not summing to `n`.
///
/// ```
/// use flambeau::utils::data::split_lengths;
/// assert_eq!(split_lengths(&[0.3, 0.3, 0.4].into(), 11), vec![4, 3, 4]);
/// assert_eq!(split_lengths(&[7, 3].into(), 10), vec![7, 3]);
/// ```
#[track_caller]
pub fn split_lengths(lengths: &SplitLengths, n: usize) -> Vec<usize> {
    let as_f64: Vec<f64> = match lengths {
        SplitLengths::Counts(c) => c.iter().map(|&c| c as f64).collect(),
        SplitLengths::Fractions(f) => f.clone(),
    };
    // Python's sum() adds left to right.
    let total: f64 = as_f64.iter().fold(0.0, |s, x| s + x);
    let counts: Vec<usize> = if isclose(total, 1.0) && total <= 1.0 {
        let mut out = Vec::with_capacity(as_f64.len());
        for (i, &frac) in as_f64.iter().enumerate() {
            if !(0.0..=1.0).contains(&frac) {
                panic!("Fraction at index {i} is not between 0 and 1");
            }
            out.push((n as f64 * frac).floor() as usize);
        }
        let remainder = n - out.iter().sum::<usize>().min(n);
        let k = out.len();
        for i in 0..remainder {
            out[i % k] += 1;
        }
        for (i, &len) in out.iter().enumerate() {
            if len == 0 {
                eprintln!(
                    "UserWarning: Length of split at index {i} is 0. This might result in an empty dataset."
                );
            }
        }
        out
    } else {
        match lengths {
            SplitLengths::Counts(c) => c.clone(),
            SplitLengths::Fractions(_) => {
                panic!("Sum of input lengths does not equal the length of the input dataset!")
            }
        }
    };
    if counts.iter().sum::<usize>() != n {
        panic!("Sum of input lengths does not equal the length of the input dataset!");
    }
    counts
}

/// Splits a dataset into non-overlapping random subsets of the given lengths
/// (`torch.utils.data.random_split`): one `randperm(n, generator)` (the default generator when
/// `None`), cut in order. The subsets share the dataset through an `Arc`.
///
/// ```
/// use flambeau::{Generator, utils::data::{Dataset, random_split}};
/// let g = Generator::new().manual_seed(0);
/// let parts = random_split((0..10).collect::<Vec<i64>>(), [7, 3], Some(&g));
/// assert_eq!(parts[1].indices(), &[8, 6, 2]);
/// assert_eq!(parts[0].get(0), 4);
/// ```
#[track_caller]
pub fn random_split<D: Dataset>(
    dataset: D,
    lengths: impl Into<SplitLengths>,
    generator: Option<&Generator>,
) -> Vec<Subset<Arc<D>>> {
    let counts = split_lengths(&lengths.into(), dataset.len());
    let n: usize = counts.iter().sum();
    let perm = match generator {
        Some(g) => generator::randperm(&mut g.lock(), n),
        None => generator::randperm(&mut default_generator().lock(), n),
    };
    let dataset = Arc::new(dataset);
    let mut offset = 0;
    counts
        .iter()
        .map(|&len| {
            let idx = perm[offset..offset + len]
                .iter()
                .map(|&i| i as usize)
                .collect();
            offset += len;
            Subset::new(dataset.clone(), idx)
        })
        .collect()
}
