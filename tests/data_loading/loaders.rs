//! DataLoader options against PyTorch, and its error messages.

use crate::{data, f32s, nested, panic_message, rng_lock};
use flambeau::utils::data::{
    BatchSampler, DataLoader, IterableDataset, RandomSampler, SequentialSampler, TensorDataset,
    WeightedRandomSampler,
};
use flambeau::{DType, Generator, Tensor};

fn arange_ds(n: usize) -> TensorDataset {
    TensorDataset::new([Tensor::arange_dtype(0.0, n as f64, 1.0, DType::I64)])
}

fn indices(b: &[Tensor]) -> Vec<usize> {
    b[0].to_vec::<i64>().iter().map(|&i| i as usize).collect()
}

fn rand3() -> Vec<u32> {
    flambeau::rand([3])
        .to_vec::<f32>()
        .iter()
        .map(|x| x.to_bits())
        .collect()
}

fn case(name: &str) -> &'static serde_json::Value {
    data()["loaders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

#[test]
fn weighted_sampler_in_a_loader() {
    let _g = rng_lock();
    let c = case("weighted_sampler_default");
    for workers in [0, 2] {
        flambeau::manual_seed(10);
        let mut w = vec![1.0; 10];
        w.extend([5.0; 10]);
        let loader = DataLoader::new(arange_ds(20))
            .batch_size(3)
            .sampler(WeightedRandomSampler::new(&w, 13, true))
            .num_workers(workers);
        assert_eq!(loader.len() as u64, c["len"].as_u64().unwrap());
        let epochs: Vec<Vec<Vec<usize>>> = (0..2)
            .map(|_| loader.iter().map(|b| indices(&b)).collect())
            .collect();
        assert_eq!(
            epochs,
            vec![nested(&c["epochs"][0]), nested(&c["epochs"][1])]
        );
        assert_eq!(rand3(), f32s(&c["rand3_after"]), "num_workers={workers}");
    }
}

#[test]
fn batch_sampler_in_a_loader() {
    let _g = rng_lock();
    let c = case("batch_sampler_default");
    flambeau::manual_seed(11);
    let loader = DataLoader::new(arange_ds(20)).batch_sampler(BatchSampler::new(
        RandomSampler::new(20),
        6,
        true,
    ));
    assert_eq!(loader.len() as u64, c["len"].as_u64().unwrap());
    let epochs: Vec<Vec<Vec<usize>>> = (0..2)
        .map(|_| (&loader).into_iter().map(|b| indices(&b)).collect())
        .collect();
    assert_eq!(
        epochs,
        vec![nested(&c["epochs"][0]), nested(&c["epochs"][1])]
    );
    assert_eq!(rand3(), f32s(&c["rand3_after"]));
}

/// An epoch stopped after two batches draws only what PyTorch's draws by then.
#[test]
fn early_stop_leaves_pytorchs_generator_state() {
    let _g = crate::rng_lock();
    let c = case("early_stop_explicit");
    let g = Generator::new().manual_seed(12);
    let loader = DataLoader::new(arange_ds(20))
        .batch_size(5)
        .shuffle(true)
        .generator(g.clone());
    let first: Vec<Vec<usize>> = loader.iter().take(2).map(|b| indices(&b)).collect();
    let second: Vec<Vec<usize>> = loader.iter().map(|b| indices(&b)).collect();
    assert_eq!(
        vec![first, second],
        vec![nested(&c["epochs"][0]), nested(&c["epochs"][1])]
    );
    let after: Vec<u32> = Tensor::rand_gen([3], DType::F32, &g)
        .to_vec::<f32>()
        .iter()
        .map(|x| x.to_bits())
        .collect();
    assert_eq!(after, f32s(&c["generator_rand3_after"]));
}

#[test]
fn len_rules_and_defaults() {
    let _g = crate::rng_lock();
    let l = DataLoader::new(arange_ds(10));
    assert_eq!(l.len(), 10);
    assert_eq!(l.iter().next().unwrap()[0].dims(), &[1]);
    assert_eq!(DataLoader::new(arange_ds(10)).batch_size(4).len(), 3);
    assert_eq!(
        DataLoader::new(arange_ds(10))
            .batch_size(4)
            .drop_last(true)
            .len(),
        2
    );
    assert_eq!(
        DataLoader::new(arange_ds(10))
            .batch_size(4)
            .drop_last(true)
            .iter()
            .count(),
        2
    );
    let seq = DataLoader::new(arange_ds(5))
        .sampler(SequentialSampler::new(3))
        .batch_size(2);
    assert_eq!(seq.len(), 2);
    let got: Vec<Vec<usize>> = seq.iter().map(|b| indices(&b)).collect();
    assert_eq!(got, vec![vec![0, 1], vec![2]]);
}

#[test]
fn user_collate_fn() {
    let _g = crate::rng_lock();
    let loader =
        DataLoader::new(arange_ds(7))
            .batch_size(3)
            .collate_fn(|items: Vec<Vec<Tensor>>| {
                items.iter().map(|row| row[0].item::<i64>()).sum::<i64>()
            });
    assert_eq!(loader.iter().collect::<Vec<_>>(), vec![3, 12, 6]);
    let with = DataLoader::with_collate_fn(vec![(1, 'a'), (2, 'b')], |items: Vec<(i32, char)>| {
        items.into_iter().map(|(_, c)| c).collect::<String>()
    })
    .batch_size(2);
    assert_eq!(with.iter().collect::<Vec<_>>(), vec!["ab".to_string()]);
}

#[test]
fn mutually_exclusive_options() {
    let _g = crate::rng_lock();
    let bs = || BatchSampler::new(SequentialSampler::new(4), 2, false);
    let msg = "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last";
    assert_eq!(
        panic_message(|| {
            DataLoader::new(arange_ds(4))
                .batch_size(2)
                .batch_sampler(bs());
        }),
        msg
    );
    assert_eq!(
        panic_message(|| {
            DataLoader::new(arange_ds(4))
                .batch_sampler(bs())
                .shuffle(true);
        }),
        msg
    );
    assert_eq!(
        panic_message(|| {
            DataLoader::new(arange_ds(4))
                .batch_sampler(bs())
                .drop_last(true);
        }),
        msg
    );
    assert_eq!(
        panic_message(|| {
            DataLoader::new(arange_ds(4))
                .sampler(SequentialSampler::new(4))
                .batch_sampler(bs());
        }),
        msg
    );
    assert_eq!(
        panic_message(|| {
            DataLoader::new(arange_ds(4))
                .shuffle(true)
                .sampler(SequentialSampler::new(4));
        }),
        "sampler option is mutually exclusive with shuffle"
    );
    assert_eq!(
        panic_message(|| {
            DataLoader::new(arange_ds(4)).batch_size(0);
        }),
        "batch_size should be a positive integer value, but got batch_size=0"
    );
    assert_eq!(
        panic_message(|| {
            DataLoader::new(arange_ds(4)).prefetch_factor(2).iter();
        }),
        "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
    );
    assert_eq!(
        panic_message(|| {
            DataLoader::new(arange_ds(4))
                .num_workers(1)
                .prefetch_factor(0)
                .iter();
        }),
        "prefetch_factor must be greater than 0 for MultiProcessingDataLoaderIter"
    );
}

struct Stream(i64);

impl IterableDataset for Stream {
    type Item = (i64, f64);
    fn iter(&self) -> Box<dyn Iterator<Item = (i64, f64)> + Send + '_> {
        Box::new((0..self.0).map(|i| (i, i as f64 / 2.0)))
    }
    fn len(&self) -> Option<usize> {
        Some(self.0 as usize)
    }
}

#[test]
fn iterable_dataset_loader() {
    let _g = crate::rng_lock();
    let l = DataLoader::from_iterable(Stream(7)).batch_size(3);
    assert_eq!(l.len(), Some(3));
    let got: Vec<Vec<i64>> = l.iter().map(|(i, _)| i.to_vec::<i64>()).collect();
    assert_eq!(got, vec![vec![0, 1, 2], vec![3, 4, 5], vec![6]]);
    let l = l.drop_last(true);
    assert_eq!(l.len(), Some(2));
    let halves: Vec<Vec<f64>> = l.iter().map(|(_, h)| h.to_vec::<f64>()).collect();
    assert_eq!(halves, vec![vec![0.0, 0.5, 1.0], vec![1.5, 2.0, 2.5]]);
    assert_eq!(
        panic_message(|| {
            DataLoader::from_iterable(Stream(3)).shuffle(true);
        }),
        "DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle=True"
    );
}
