//! `torch.utils.data.DataLoader` (`torch/utils/data/dataloader.py`): batches of a map-style
//! dataset in the order of a sampler, on the calling thread or on worker threads.
//!
//! Each epoch (each [`DataLoader::iter`] or `for batch in &loader`) first draws its base seed
//! from the loader's generator (the default generator when none was given), as PyTorch's
//! `_BaseDataLoaderIter.__init__` does; then the sampler draws when the first batch is asked for
//! (with workers: when the iterator is created, as PyTorch's workers are primed then). So the
//! same seed gives PyTorch's batches, epoch after epoch.

use super::collate::Collate;
use super::dataset::{Dataset, IterableDataset};
use super::sampler::{BatchSampler, RandomSampler, Sampler, SequentialSampler, draw_int64_seed};
use super::worker::{LoadFn, WorkerPool};
use crate::random::{Generator, default_generator};
use std::sync::Arc;

/// A boxed index sampler shared by the loader's epochs.
type SharedSampler = Arc<dyn Sampler>;
type SharedBatchSampler = Arc<dyn Sampler<Vec<usize>>>;
type CollateFn<T, B> = Arc<dyn Fn(Vec<T>) -> B + Send + Sync>;

/// Batches of a [`Dataset`] (`torch.utils.data.DataLoader`), built with PyTorch's options.
///
/// ```
/// use flambeau::{Generator, Tensor, utils::data::{DataLoader, TensorDataset}};
/// let x = Tensor::arange(0.0, 10.0, 1.0).reshape([5, 2]);
/// let y = Tensor::arange(0.0, 5.0, 1.0);
/// let loader = DataLoader::new(TensorDataset::new([x, y]))
///     .batch_size(2)
///     .shuffle(true)
///     .generator(Generator::new().manual_seed(0));
/// assert_eq!(loader.len(), 3);
/// for batch in &loader {
///     let (xb, yb) = (&batch[0], &batch[1]);
///     assert_eq!(xb.size(0), yb.size(0));
/// }
/// ```
pub struct DataLoader<D: Dataset, B> {
    dataset: Arc<D>,
    collate: CollateFn<D::Item, B>,
    batch_size: usize,
    shuffle: bool,
    drop_last: bool,
    sampler: Option<SharedSampler>,
    batch_sampler: Option<SharedBatchSampler>,
    generator: Option<Generator>,
    num_workers: usize,
    prefetch_factor: Option<usize>,
    /// The batch sampler the options above make (rebuilt by every option).
    index_sampler: SharedBatchSampler,
}

impl<D> DataLoader<D, <D::Item as Collate>::Output>
where
    D: Dataset + 'static,
    D::Item: Collate,
{
    /// A loader with PyTorch's defaults: `batch_size=1`, no shuffle, `default_collate`, no
    /// workers.
    pub fn new(dataset: D) -> Self {
        DataLoader::with_collate_fn(dataset, <D::Item as Collate>::collate)
    }
}

impl<D: Dataset + 'static, B: Send + 'static> DataLoader<D, B> {
    /// A loader whose batches are made by `collate_fn` (`collate_fn=...`), for samples that
    /// have no [`Collate`] rule.
    ///
    /// ```
    /// use flambeau::utils::data::DataLoader;
    /// let loader = DataLoader::with_collate_fn(vec!["a", "bb", "ccc"], |items: Vec<&str>| {
    ///     items.iter().map(|s| s.len()).sum::<usize>()
    /// })
    /// .batch_size(2);
    /// assert_eq!(loader.iter().collect::<Vec<_>>(), vec![3, 3]);
    /// ```
    pub fn with_collate_fn(
        dataset: D,
        collate_fn: impl Fn(Vec<D::Item>) -> B + Send + Sync + 'static,
    ) -> Self {
        let n = dataset.len();
        DataLoader {
            dataset: Arc::new(dataset),
            collate: Arc::new(collate_fn),
            batch_size: 1,
            shuffle: false,
            drop_last: false,
            sampler: None,
            batch_sampler: None,
            generator: None,
            num_workers: 0,
            prefetch_factor: None,
            index_sampler: Arc::new(BatchSampler::new(SequentialSampler::new(n), 1, false)),
        }
    }

    /// Replaces the collate function (`collate_fn=f`); the batch type follows it.
    ///
    /// ```
    /// use flambeau::utils::data::DataLoader;
    /// let sums = DataLoader::new(vec![1i64, 2, 3, 4])
    ///     .batch_size(2)
    ///     .collate_fn(|items: Vec<i64>| items.iter().sum::<i64>());
    /// assert_eq!(sums.iter().collect::<Vec<_>>(), vec![3, 7]);
    /// ```
    pub fn collate_fn<B2: Send + 'static>(
        self,
        collate_fn: impl Fn(Vec<D::Item>) -> B2 + Send + Sync + 'static,
    ) -> DataLoader<D, B2> {
        DataLoader {
            dataset: self.dataset,
            collate: Arc::new(collate_fn),
            batch_size: self.batch_size,
            shuffle: self.shuffle,
            drop_last: self.drop_last,
            sampler: self.sampler,
            batch_sampler: self.batch_sampler,
            generator: self.generator,
            num_workers: self.num_workers,
            prefetch_factor: self.prefetch_factor,
            index_sampler: self.index_sampler,
        }
    }

    #[track_caller]
    fn batch_sampler_conflict(&self) {
        if self.batch_sampler.is_some()
            && (self.batch_size != 1 || self.shuffle || self.sampler.is_some() || self.drop_last)
        {
            panic!(
                "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
            );
        }
        if self.sampler.is_some() && self.shuffle {
            panic!("sampler option is mutually exclusive with shuffle");
        }
    }

    /// Rebuilds the index sampler after an option changed (`DataLoader.__init__`'s choice).
    #[track_caller]
    fn rebuilt(mut self) -> Self {
        self.batch_sampler_conflict();
        self.index_sampler = if let Some(b) = &self.batch_sampler {
            b.clone()
        } else {
            let n = self.dataset.len();
            let sampler: SharedSampler = match (&self.sampler, self.shuffle) {
                (Some(s), _) => s.clone(),
                (None, true) => {
                    let mut r = RandomSampler::new(n);
                    if let Some(g) = &self.generator {
                        r = r.generator(g.clone());
                    }
                    Arc::new(r)
                }
                (None, false) => Arc::new(SequentialSampler::new(n)),
            };
            Arc::new(BatchSampler::new(sampler, self.batch_size, self.drop_last))
        };
        self
    }

    /// Samples per batch (`batch_size`, default 1); panics with PyTorch's message for 0.
    #[track_caller]
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        if batch_size == 0 {
            panic!(
                "batch_size should be a positive integer value, but got batch_size={batch_size}"
            );
        }
        self.batch_size = batch_size;
        self.rebuilt()
    }

    /// Reshuffles every epoch (`shuffle=True`: a [`RandomSampler`] on the loader's generator).
    #[track_caller]
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self.rebuilt()
    }

    /// Drops the last incomplete batch (`drop_last=True`).
    #[track_caller]
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self.rebuilt()
    }

    /// The index sampler (`sampler=s`); mutually exclusive with `shuffle` and `batch_sampler`.
    #[track_caller]
    pub fn sampler(mut self, sampler: impl Sampler + 'static) -> Self {
        self.sampler = Some(Arc::new(sampler));
        self.rebuilt()
    }

    /// A sampler of whole batches (`batch_sampler=b`); mutually exclusive with `batch_size`,
    /// `shuffle`, `sampler` and `drop_last`.
    ///
    /// ```
    /// use flambeau::utils::data::{BatchSampler, DataLoader, SequentialSampler};
    /// let loader = DataLoader::new(vec![0i64, 1, 2, 3, 4])
    ///     .batch_sampler(BatchSampler::new(SequentialSampler::new(5), 2, true));
    /// assert_eq!(loader.len(), 2);
    /// ```
    #[track_caller]
    pub fn batch_sampler(mut self, batch_sampler: impl Sampler<Vec<usize>> + 'static) -> Self {
        self.batch_sampler = Some(Arc::new(batch_sampler));
        self.rebuilt()
    }

    /// The generator of the base seeds and of the shuffle (`generator=g`).
    #[track_caller]
    pub fn generator(mut self, generator: Generator) -> Self {
        self.generator = Some(generator);
        self.rebuilt()
    }

    /// Loads batches on `num_workers` background threads (`num_workers`, default 0: on the
    /// calling thread). The batches are the same, in the same order.
    pub fn num_workers(mut self, num_workers: usize) -> Self {
        self.num_workers = num_workers;
        self
    }

    /// Batches each worker keeps in flight (`prefetch_factor`, default 2 with workers); only
    /// meaningful with `num_workers > 0`, as in PyTorch.
    pub fn prefetch_factor(mut self, prefetch_factor: usize) -> Self {
        self.prefetch_factor = Some(prefetch_factor);
        self
    }

    /// The dataset (`loader.dataset`).
    pub fn dataset(&self) -> &D {
        &self.dataset
    }

    /// The number of batches per epoch (`len(loader)`: the batch sampler's length).
    pub fn len(&self) -> usize {
        self.index_sampler.len()
    }

    /// Whether an epoch has no batches.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One epoch's batches.
    #[track_caller]
    pub fn iter(&self) -> DataLoaderIter<'_, B> {
        if self.num_workers == 0 && self.prefetch_factor.is_some() {
            panic!(
                "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            );
        }
        let prefetch = self.prefetch_factor.unwrap_or(2);
        if self.num_workers > 0 && prefetch == 0 {
            panic!("prefetch_factor must be greater than 0 for MultiProcessingDataLoaderIter");
        }
        let batches = self.index_sampler.iter();
        // `_BaseDataLoaderIter.__init__`: `iter(index_sampler)` (lazy), then the base seed.
        let g = self.generator.clone().unwrap_or_else(default_generator);
        let base_seed = draw_int64_seed(&g);
        let dataset = self.dataset.clone();
        let collate = self.collate.clone();
        let load: LoadFn<B> = Arc::new(move |indices: Vec<usize>| {
            collate(indices.into_iter().map(|i| dataset.get(i)).collect())
        });
        let mut it = DataLoaderIter {
            batches,
            load,
            pool: None,
            base_seed,
        };
        if self.num_workers > 0 {
            // `_MultiProcessingDataLoaderIter._reset`: prime the workers with
            // `prefetch_factor * num_workers` batches.
            it.pool = Some(WorkerPool::start(
                self.num_workers,
                base_seed,
                it.load.clone(),
            ));
            for _ in 0..prefetch * self.num_workers {
                it.try_put_index();
            }
        }
        it
    }
}

impl<'a, D: Dataset + 'static, B: Send + 'static> IntoIterator for &'a DataLoader<D, B> {
    type Item = B;
    type IntoIter = DataLoaderIter<'a, B>;
    #[track_caller]
    fn into_iter(self) -> DataLoaderIter<'a, B> {
        self.iter()
    }
}

/// One epoch of a [`DataLoader`]. Dropping it early stops its workers.
///
/// ```
/// use flambeau::{Generator, utils::data::DataLoader};
/// let loader = DataLoader::new(vec![1.0f64, 2.0, 3.0])
///     .batch_size(2)
///     .num_workers(2)
///     .generator(Generator::new().manual_seed(1));
/// let mut epoch = loader.iter();
/// assert!(epoch.base_seed() < 1 << 63);
/// assert_eq!(epoch.next().unwrap().to_vec::<f64>(), vec![1.0, 2.0]);
/// drop(epoch); // stops and joins the workers
/// ```
pub struct DataLoaderIter<'a, B> {
    batches: Box<dyn Iterator<Item = Vec<usize>> + 'a>,
    load: LoadFn<B>,
    pool: Option<WorkerPool<B>>,
    base_seed: u64,
}

impl<B: Send + 'static> DataLoaderIter<'_, B> {
    /// The epoch's base seed (drawn from the loader's generator; worker `i`'s seed is
    /// `base_seed + i`).
    pub fn base_seed(&self) -> u64 {
        self.base_seed
    }

    fn try_put_index(&mut self) {
        if let Some(indices) = self.batches.next() {
            self.pool.as_mut().unwrap().put(indices);
        }
    }
}

impl<B: Send + 'static> Iterator for DataLoaderIter<'_, B> {
    type Item = B;
    #[track_caller]
    fn next(&mut self) -> Option<B> {
        match &mut self.pool {
            None => {
                let indices = self.batches.next()?;
                Some((self.load)(indices))
            }
            Some(pool) => {
                if !pool.outstanding() {
                    return None;
                }
                let batch = pool.next_in_order();
                // `_process_data`: one more batch goes out for each one handed back.
                self.try_put_index();
                Some(batch)
            }
        }
    }
}

impl DataLoader<Vec<()>, ()> {
    /// A loader over an [`IterableDataset`], batched in stream order with `default_collate`.
    ///
    /// ```
    /// use flambeau::utils::data::{DataLoader, IterableDataset};
    /// struct Count;
    /// impl IterableDataset for Count {
    ///     type Item = i64;
    ///     fn iter(&self) -> Box<dyn Iterator<Item = i64> + Send + '_> { Box::new(0..5) }
    /// }
    /// let loader = DataLoader::from_iterable(Count).batch_size(2);
    /// let sizes: Vec<usize> = loader.iter().map(|b| b.size(0)).collect();
    /// assert_eq!(sizes, vec![2, 2, 1]);
    /// ```
    pub fn from_iterable<I>(dataset: I) -> IterableDataLoader<I, <I::Item as Collate>::Output>
    where
        I: IterableDataset + 'static,
        I::Item: Collate,
    {
        IterableDataLoader::new(dataset)
    }
}

impl<I> IterableDataLoader<I, <I::Item as Collate>::Output>
where
    I: IterableDataset + 'static,
    I::Item: Collate,
{
    /// The same as [`DataLoader::from_iterable`].
    pub fn new(dataset: I) -> Self {
        IterableDataLoader {
            dataset,
            collate: Arc::new(<I::Item as Collate>::collate),
            batch_size: 1,
            drop_last: false,
            generator: None,
        }
    }
}

/// A [`DataLoader`] over an [`IterableDataset`] (`DataLoader(iterable_dataset, ...)`): batches
/// of consecutive samples, with no sampler and no shuffle. Batches load on the calling thread.
/// Each epoch draws a base seed from the loader's generator first, as PyTorch's does.
///
/// ```
/// use flambeau::utils::data::{IterableDataLoader, IterableDataset};
/// struct Letters;
/// impl IterableDataset for Letters {
///     type Item = String;
///     fn iter(&self) -> Box<dyn Iterator<Item = String> + Send + '_> {
///         Box::new("abcde".chars().map(String::from))
///     }
/// }
/// let l = IterableDataLoader::new(Letters).batch_size(2).drop_last(true);
/// assert_eq!(l.iter().collect::<Vec<_>>(), vec![vec!["a", "b"], vec!["c", "d"]]);
/// ```
pub struct IterableDataLoader<I: IterableDataset, B> {
    dataset: I,
    collate: CollateFn<I::Item, B>,
    batch_size: usize,
    drop_last: bool,
    generator: Option<Generator>,
}

impl<I: IterableDataset, B: Send> IterableDataLoader<I, B> {
    /// Samples per batch (default 1).
    #[track_caller]
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        if batch_size == 0 {
            panic!(
                "batch_size should be a positive integer value, but got batch_size={batch_size}"
            );
        }
        self.batch_size = batch_size;
        self
    }

    /// Drops a last incomplete batch.
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// An iterable dataset cannot be shuffled by the loader: `shuffle(true)` panics with
    /// PyTorch's message.
    #[track_caller]
    pub fn shuffle(self, shuffle: bool) -> Self {
        if shuffle {
            panic!(
                "DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle=True"
            );
        }
        self
    }

    /// The generator the base seed is drawn from.
    pub fn generator(mut self, generator: Generator) -> Self {
        self.generator = Some(generator);
        self
    }

    /// Replaces the collate function.
    pub fn collate_fn<B2: Send>(
        self,
        collate_fn: impl Fn(Vec<I::Item>) -> B2 + Send + Sync + 'static,
    ) -> IterableDataLoader<I, B2> {
        IterableDataLoader {
            dataset: self.dataset,
            collate: Arc::new(collate_fn),
            batch_size: self.batch_size,
            drop_last: self.drop_last,
            generator: self.generator,
        }
    }

    /// The number of batches, when the dataset knows its length (PyTorch's rule:
    /// `len // batch_size` with `drop_last`, else rounded up).
    pub fn len(&self) -> Option<usize> {
        let n = self.dataset.len()?;
        Some(if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        })
    }

    /// Whether the dataset is known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// One epoch's batches.
    pub fn iter(&self) -> impl Iterator<Item = B> + '_ {
        let g = self.generator.clone().unwrap_or_else(default_generator);
        let _base_seed = draw_int64_seed(&g);
        let mut samples = self.dataset.iter();
        let (bs, drop_last) = (self.batch_size, self.drop_last);
        std::iter::from_fn(move || {
            let batch: Vec<I::Item> = samples.by_ref().take(bs).collect();
            if batch.is_empty() || (drop_last && batch.len() < bs) {
                return None;
            }
            Some((self.collate)(batch))
        })
    }
}
