//! Samplers (`torch/utils/data/sampler.py`): which indices an epoch visits, in which order.
//!
//! Every random sampler draws exactly what PyTorch's draws, at the same moment: nothing when the
//! epoch's iterator is created, the first permutation (or batch of integers) when its first index
//! is asked for, the next one when the previous one runs out. So a loader consumed the way Python
//! consumes it leaves the generators in PyTorch's state.

use crate::random::{Generator, default_generator, generator};
use crate::tensor::Tensor;

/// An index sampler (`torch.utils.data.Sampler`): each call of [`iter`](Self::iter) is one epoch.
/// `T` is `usize` for samplers of dataset indices and `Vec<usize>` for batch samplers.
///
/// ```
/// use flambeau::utils::data::{Sampler, SequentialSampler};
/// let s = SequentialSampler::new(3);
/// assert_eq!(s.iter().collect::<Vec<_>>(), vec![0, 1, 2]);
/// assert_eq!(Sampler::len(&s), 3);
/// ```
pub trait Sampler<T = usize>: Send + Sync {
    /// One epoch's indices.
    fn iter(&self) -> Box<dyn Iterator<Item = T> + '_>;
    /// The number of indices an epoch yields (`len(sampler)`).
    fn len(&self) -> usize;
    /// Whether an epoch yields nothing.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T, S: Sampler<T> + ?Sized> Sampler<T> for Box<S> {
    fn iter(&self) -> Box<dyn Iterator<Item = T> + '_> {
        (**self).iter()
    }
    fn len(&self) -> usize {
        (**self).len()
    }
}

impl<T, S: Sampler<T> + ?Sized> Sampler<T> for std::sync::Arc<S> {
    fn iter(&self) -> Box<dyn Iterator<Item = T> + '_> {
        (**self).iter()
    }
    fn len(&self) -> usize {
        (**self).len()
    }
}

/// `0, 1, ..., n-1` (`torch.utils.data.SequentialSampler`).
#[derive(Clone, Debug)]
pub struct SequentialSampler {
    n: usize,
}

impl SequentialSampler {
    /// The indices of a dataset of `n` samples, in order.
    pub fn new(n: usize) -> SequentialSampler {
        SequentialSampler { n }
    }
}

impl Sampler for SequentialSampler {
    fn iter(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        Box::new(0..self.n)
    }
    fn len(&self) -> usize {
        self.n
    }
}

/// Where a random sampler draws from.
fn seeded_or_fresh(generator: &Option<Generator>) -> Generator {
    match generator {
        Some(g) => g.clone(),
        // RandomSampler.__iter__: `seed = int(torch.empty((), dtype=torch.int64).random_())`,
        // then a new generator with that seed.
        None => Generator::new().manual_seed(draw_int64_seed(&default_generator())),
    }
}

/// `torch.empty((), dtype=torch.int64).random_(generator=g).item()`: ATen's `random_` for int64
/// is `random64() % (INT64_MAX + 1)`.
pub(crate) fn draw_int64_seed(g: &Generator) -> u64 {
    g.lock().random64() % (1u64 << 63)
}

/// Random indices (`torch.utils.data.RandomSampler`): a shuffled dataset, or with `replacement`
/// `num_samples` independent draws.
///
/// Without a generator each epoch draws a seed from the default generator (when its first index
/// is read) and shuffles with a new generator of that seed, as PyTorch does.
///
/// ```
/// use flambeau::{Generator, utils::data::{RandomSampler, Sampler}};
/// let s = RandomSampler::new(10).generator(Generator::new().manual_seed(0));
/// assert_eq!(s.iter().collect::<Vec<_>>(), vec![4, 1, 7, 5, 3, 9, 0, 8, 6, 2]);
/// ```
#[derive(Clone)]
pub struct RandomSampler {
    n: usize,
    replacement: bool,
    num_samples: Option<usize>,
    generator: Option<Generator>,
}

impl RandomSampler {
    /// A shuffle of `0..n` (a dataset of `n` samples); panics with PyTorch's message for an
    /// empty dataset (its `num_samples` would be 0).
    #[track_caller]
    pub fn new(n: usize) -> RandomSampler {
        if n == 0 {
            panic!("num_samples should be a positive integer value, but got num_samples=0");
        }
        RandomSampler {
            n,
            replacement: false,
            num_samples: None,
            generator: None,
        }
    }

    /// Draws with replacement (`replacement=True`).
    pub fn replacement(mut self, replacement: bool) -> RandomSampler {
        self.replacement = replacement;
        self
    }

    /// The number of indices per epoch (`num_samples`, default `n`); panics with PyTorch's
    /// message for 0.
    #[track_caller]
    pub fn num_samples(mut self, num_samples: usize) -> RandomSampler {
        if num_samples == 0 {
            panic!(
                "num_samples should be a positive integer value, but got num_samples={num_samples}"
            );
        }
        self.num_samples = Some(num_samples);
        self
    }

    /// The generator to draw from (`generator=g`).
    pub fn generator(mut self, generator: Generator) -> RandomSampler {
        self.generator = Some(generator);
        self
    }

    fn total(&self) -> usize {
        self.num_samples.unwrap_or(self.n)
    }
}

impl Sampler for RandomSampler {
    fn iter(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        let total = self.total();
        let n = self.n;
        let replacement = self.replacement;
        // The chunks PyTorch's generator function yields from, in order: `total // 32` blocks of
        // 32 `randint(0, n)` and one of `total % 32` (with replacement), or `total // n`
        // permutations and one more cut to `total % n` (drawn even when cut to nothing).
        let chunk_lens: Vec<usize> = if replacement {
            let mut v = vec![32; total / 32];
            v.push(total % 32);
            v
        } else {
            let mut v = vec![n; total / n];
            v.push(total % n);
            v
        };
        let mut generator: Option<Generator> = None;
        let mut chunks = chunk_lens.into_iter();
        let gen_opt = self.generator.clone();
        let mut current = Vec::<usize>::new().into_iter();
        Box::new(std::iter::from_fn(move || {
            loop {
                if let Some(i) = current.next() {
                    return Some(i);
                }
                let keep = chunks.next()?;
                let g = generator.get_or_insert_with(|| seeded_or_fresh(&gen_opt));
                let drawn: Vec<usize> = if replacement {
                    let mut v = vec![0i64; keep];
                    if keep > 0 {
                        generator::randint(&mut g.lock(), &mut v, 0, n as i64);
                    }
                    v.into_iter().map(|i| i as usize).collect()
                } else {
                    let perm = generator::randperm(&mut g.lock(), n);
                    perm[..keep].iter().map(|&i| i as usize).collect()
                };
                current = drawn.into_iter();
            }
        }))
    }

    fn len(&self) -> usize {
        self.total()
    }
}

/// A shuffle of given indices (`torch.utils.data.SubsetRandomSampler`): `indices[i]` for `i` in
/// `randperm(len(indices), generator)` (the default generator when none is given).
///
/// ```
/// use flambeau::{Generator, utils::data::{Sampler, SubsetRandomSampler}};
/// let s = SubsetRandomSampler::new(vec![10, 20, 30]).generator(Generator::new().manual_seed(0));
/// let mut got = s.iter().collect::<Vec<_>>();
/// got.sort();
/// assert_eq!(got, vec![10, 20, 30]);
/// ```
#[derive(Clone)]
pub struct SubsetRandomSampler {
    indices: Vec<usize>,
    generator: Option<Generator>,
}

impl SubsetRandomSampler {
    /// Samples from `indices`, without replacement.
    pub fn new(indices: Vec<usize>) -> SubsetRandomSampler {
        SubsetRandomSampler {
            indices,
            generator: None,
        }
    }

    /// The generator to draw from.
    pub fn generator(mut self, generator: Generator) -> SubsetRandomSampler {
        self.generator = Some(generator);
        self
    }
}

impl Sampler for SubsetRandomSampler {
    fn iter(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        let mut perm: Option<std::vec::IntoIter<i64>> = None;
        Box::new(std::iter::from_fn(move || {
            let p = perm.get_or_insert_with(|| {
                let g = self.generator.clone().unwrap_or_else(default_generator);
                generator::randperm(&mut g.lock(), self.indices.len()).into_iter()
            });
            p.next().map(|i| self.indices[i as usize])
        }))
    }
    fn len(&self) -> usize {
        self.indices.len()
    }
}

/// Indices `0..weights.len()` drawn with the given (unnormalised) weights
/// (`torch.utils.data.WeightedRandomSampler`): one `torch.multinomial(weights, num_samples,
/// replacement, generator)` per epoch, weights as float64.
///
/// ```
/// use flambeau::{Generator, utils::data::{Sampler, WeightedRandomSampler}};
/// let s = WeightedRandomSampler::new(&[0.0, 1.0, 0.0], 4, true)
///     .generator(Generator::new().manual_seed(0));
/// assert_eq!(s.iter().collect::<Vec<_>>(), vec![1, 1, 1, 1]);
/// ```
#[derive(Clone)]
pub struct WeightedRandomSampler {
    weights: Tensor,
    num_samples: usize,
    replacement: bool,
    generator: Option<Generator>,
}

impl WeightedRandomSampler {
    /// `num_samples` indices per epoch, drawn with probabilities proportional to `weights`;
    /// panics with PyTorch's message for `num_samples == 0`.
    #[track_caller]
    pub fn new(weights: &[f64], num_samples: usize, replacement: bool) -> WeightedRandomSampler {
        if num_samples == 0 {
            panic!(
                "num_samples should be a positive integer value, but got num_samples={num_samples}"
            );
        }
        WeightedRandomSampler {
            weights: Tensor::from_vec(weights.to_vec(), [weights.len()]),
            num_samples,
            replacement,
            generator: None,
        }
    }

    /// The generator to draw from.
    pub fn generator(mut self, generator: Generator) -> WeightedRandomSampler {
        self.generator = Some(generator);
        self
    }

    /// The weights, a float64 tensor (`sampler.weights`).
    pub fn weights(&self) -> &Tensor {
        &self.weights
    }
}

impl Sampler for WeightedRandomSampler {
    fn iter(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        let mut drawn: Option<std::vec::IntoIter<i64>> = None;
        Box::new(std::iter::from_fn(move || {
            let d = drawn.get_or_insert_with(|| {
                let g = self.generator.clone().unwrap_or_else(default_generator);
                self.weights
                    .multinomial_gen(self.num_samples, self.replacement, &g)
                    .to_vec::<i64>()
                    .into_iter()
            });
            d.next().map(|i| i as usize)
        }))
    }
    fn len(&self) -> usize {
        self.num_samples
    }
}

/// Groups another sampler's indices into batches (`torch.utils.data.BatchSampler`); with
/// `drop_last` a last incomplete batch is dropped.
///
/// ```
/// use flambeau::utils::data::{BatchSampler, Sampler, SequentialSampler};
/// let b = BatchSampler::new(SequentialSampler::new(10), 3, false);
/// let batches: Vec<Vec<usize>> = b.iter().collect();
/// assert_eq!(batches, vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8], vec![9]]);
/// assert_eq!(BatchSampler::new(SequentialSampler::new(10), 3, true).len(), 3);
/// ```
pub struct BatchSampler<S> {
    sampler: S,
    batch_size: usize,
    drop_last: bool,
}

impl<S: Sampler> BatchSampler<S> {
    /// Batches of `batch_size` indices of `sampler`; panics with PyTorch's message for a
    /// `batch_size` of 0.
    #[track_caller]
    pub fn new(sampler: S, batch_size: usize, drop_last: bool) -> BatchSampler<S> {
        if batch_size == 0 {
            panic!(
                "batch_size should be a positive integer value, but got batch_size={batch_size}"
            );
        }
        BatchSampler {
            sampler,
            batch_size,
            drop_last,
        }
    }

    /// The wrapped index sampler.
    pub fn sampler(&self) -> &S {
        &self.sampler
    }
}

impl<S: Sampler> Sampler<Vec<usize>> for BatchSampler<S> {
    fn iter(&self) -> Box<dyn Iterator<Item = Vec<usize>> + '_> {
        let mut it = self.sampler.iter();
        let (bs, drop_last) = (self.batch_size, self.drop_last);
        let mut done = false;
        Box::new(std::iter::from_fn(move || {
            if done {
                return None;
            }
            // `zip(*[it] * bs)` and `islice(it, bs)` both pull until the batch is full or the
            // sampler is exhausted.
            let mut batch = Vec::with_capacity(bs);
            while batch.len() < bs {
                match it.next() {
                    Some(i) => batch.push(i),
                    None => {
                        done = true;
                        break;
                    }
                }
            }
            if batch.is_empty() || (drop_last && batch.len() < bs) {
                done = true;
                return None;
            }
            Some(batch)
        }))
    }
    fn len(&self) -> usize {
        if self.drop_last {
            self.sampler.len() / self.batch_size
        } else {
            self.sampler.len().div_ceil(self.batch_size)
        }
    }
}
