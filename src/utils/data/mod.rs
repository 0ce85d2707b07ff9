//! `torch.utils.data`: datasets, samplers, collation and the `DataLoader`, with PyTorch's
//! batch order for the same seed; and tabular files (CSV, plain or gzipped) into tensors.
//!
//! | PyTorch | here |
//! |---|---|
//! | `Dataset`, `IterableDataset` | [`Dataset`], [`IterableDataset`] |
//! | `TensorDataset`, `Subset`, `ConcatDataset`, `random_split` | [`TensorDataset`], [`Subset`], [`ConcatDataset`], [`random_split`] |
//! | `SequentialSampler`, `RandomSampler`, `SubsetRandomSampler`, `WeightedRandomSampler`, `BatchSampler` | the same names, [`Sampler`] |
//! | `default_collate`, `collate_fn=` | [`default_collate`], [`Collate`] (`#[derive(Collate)]` for structs), [`DataLoader::collate_fn`] |
//! | `DataLoader(...)` | [`DataLoader::new`] and its options; [`DataLoader::from_iterable`] |
//! | `get_worker_info()` | [`get_worker_info`] |
//!
//! ```
//! use flambeau::{manual_seed, Tensor, utils::data::{DataLoader, TensorDataset}};
//! manual_seed(0);
//! let ds = TensorDataset::new([Tensor::arange(0.0, 10.0, 1.0)]);
//! let loader = DataLoader::new(ds).batch_size(3).shuffle(true);
//! let first: Vec<Vec<f32>> = loader.iter().map(|b| b[0].to_vec::<f32>()).collect();
//! // PyTorch: torch.manual_seed(0); list(DataLoader(TensorDataset(torch.arange(10.)), 3, True))
//! assert_eq!(first[0], vec![6.0, 7.0, 1.0]);
//! ```

mod collate;
mod dataloader;
mod dataset;
mod sampler;
mod worker;

pub use collate::{Collate, default_collate};
pub use dataloader::{DataLoader, DataLoaderIter, IterableDataLoader};
pub use dataset::{
    ConcatDataset, Dataset, IterableDataset, SplitLengths, Subset, TensorDataset, random_split,
    split_lengths,
};
/// `#[derive(Collate)]`: collates a struct field by field (see [`Collate`]).
pub use flambeau_derive::Collate;
pub use sampler::{
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
    WeightedRandomSampler,
};
pub use worker::{WorkerInfo, get_worker_info};

mod csv;
pub use csv::{CsvData, CsvOptions, Delimiter, MAX_LINE_BYTES};
