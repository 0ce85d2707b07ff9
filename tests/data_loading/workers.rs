//! Worker threads: the same batches in the same order, early drops, panics, rayon inside.

use crate::panic_message;
use flambeau::utils::data::{DataLoader, Dataset, TensorDataset, get_worker_info};
use flambeau::{DType, Generator, Tensor};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn epochs(workers: usize, prefetch: Option<usize>) -> Vec<Vec<Vec<i64>>> {
    let ds = TensorDataset::new([Tensor::arange_dtype(0.0, 37.0, 1.0, DType::I64)]);
    let mut loader = DataLoader::new(ds)
        .batch_size(4)
        .shuffle(true)
        .generator(Generator::new().manual_seed(3))
        .num_workers(workers);
    if let Some(p) = prefetch {
        loader = loader.prefetch_factor(p);
    }
    (0..6)
        .map(|_| loader.iter().map(|b| b[0].to_vec::<i64>()).collect())
        .collect()
}

#[test]
fn same_batches_with_any_number_of_workers() {
    let _g = crate::rng_lock();
    let reference = epochs(0, None);
    assert_eq!(reference[0].len(), 10);
    assert_ne!(reference[0], reference[1]);
    for workers in [1, 2, 4] {
        assert_eq!(epochs(workers, None), reference, "num_workers={workers}");
    }
    assert_eq!(epochs(3, Some(1)), reference);
    assert_eq!(epochs(2, Some(5)), reference);
}

/// Samples that take longer the earlier they are, so later batches finish first.
struct Slow {
    n: usize,
    calls: Arc<AtomicUsize>,
}

impl Dataset for Slow {
    type Item = i64;
    fn len(&self) -> usize {
        self.n
    }
    fn get(&self, index: usize) -> i64 {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(((self.n - index) % 5) as u64 * 2));
        index as i64
    }
}

#[test]
fn results_in_sampler_order_whatever_finishes_first() {
    let _g = crate::rng_lock();
    let calls = Arc::new(AtomicUsize::new(0));
    let loader = DataLoader::new(Slow {
        n: 40,
        calls: calls.clone(),
    })
    .batch_size(2)
    .num_workers(4);
    let got: Vec<i64> = loader.iter().flat_map(|b| b.to_vec::<i64>()).collect();
    assert_eq!(got, (0..40).collect::<Vec<_>>());
}

#[test]
fn dropping_an_epoch_early_joins_its_workers() {
    let _g = crate::rng_lock();
    let calls = Arc::new(AtomicUsize::new(0));
    let loader = DataLoader::new(Slow {
        n: 400,
        calls: calls.clone(),
    })
    .batch_size(2)
    .num_workers(2)
    .prefetch_factor(2);
    let first = loader.iter().next().unwrap();
    assert_eq!(first.to_vec::<i64>(), vec![0, 1]);
    // The iterator is gone and its workers joined: nothing is loading any more, and at most
    // prefetch_factor * num_workers + 1 batches were ever requested.
    let done = calls.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(calls.load(Ordering::SeqCst), done);
    assert!(done <= 2 * (2 * 2 + 1), "{done} samples loaded");
}

struct Faulty;

impl Dataset for Faulty {
    type Item = i64;
    fn len(&self) -> usize {
        8
    }
    fn get(&self, index: usize) -> i64 {
        if index == 5 {
            panic!("sample {index} is corrupt");
        }
        index as i64
    }
}

#[test]
fn a_worker_panic_is_raised_on_the_reading_thread() {
    let _g = crate::rng_lock();
    for workers in [0, 1, 3] {
        let loader = DataLoader::new(Faulty).batch_size(2).num_workers(workers);
        let mut seen = Vec::new();
        let msg = panic_message(|| {
            for b in &loader {
                seen.push(b.to_vec::<i64>());
            }
        });
        assert!(msg.contains("sample 5 is corrupt"), "{msg}");
        if workers > 0 {
            let w = 2 % workers;
            let head = format!("Caught panic in DataLoader worker {w}.");
            assert!(msg.starts_with(&head), "{msg}");
        }
        // The batches before the faulty one were delivered, in order.
        assert_eq!(seen, vec![vec![0, 1], vec![2, 3]]);
    }
    let loader = DataLoader::new(vec![1i64, 2, 3])
        .batch_size(2)
        .num_workers(2)
        .collate_fn(|items: Vec<i64>| -> i64 {
            assert!(items.len() == 2, "collate got {} items", items.len());
            items[0]
        });
    let msg = panic_message(|| {
        loader.iter().for_each(drop);
    });
    assert!(msg.contains("collate got 1 items"), "{msg}");
}

/// A dataset whose samples run multi-threaded tensor operations (GEMM on the rayon pool).
struct Products;

impl Dataset for Products {
    type Item = Tensor;
    fn len(&self) -> usize {
        6
    }
    fn get(&self, index: usize) -> Tensor {
        let a = Tensor::full([300, 300], index as f64);
        a.matmul(&a).sum()
    }
}

#[test]
fn datasets_may_use_rayon_inside_workers() {
    let _g = crate::rng_lock();
    let want: Vec<f32> = DataLoader::new(Products)
        .batch_size(2)
        .iter()
        .flat_map(|b| b.to_vec::<f32>())
        .collect();
    let got: Vec<f32> = DataLoader::new(Products)
        .batch_size(2)
        .num_workers(3)
        .iter()
        .flat_map(|b| b.to_vec::<f32>())
        .collect();
    assert_eq!(got, want);
    assert_eq!(want[1], 300.0 * 300.0 * 300.0);
}

struct WhoAmI;

impl Dataset for WhoAmI {
    type Item = (usize, usize, u64);
    fn len(&self) -> usize {
        9
    }
    fn get(&self, _index: usize) -> (usize, usize, u64) {
        let w = get_worker_info().expect("inside a worker");
        (w.id, w.num_workers, w.seed)
    }
}

#[test]
fn worker_info_inside_workers() {
    let _g = crate::rng_lock();
    let g = Generator::new().manual_seed(21);
    let loader = DataLoader::new(WhoAmI)
        .batch_size(2)
        .num_workers(3)
        .generator(g.clone());
    let mut it = loader.iter();
    let base = it.base_seed();
    // PyTorch: torch.empty((), dtype=torch.int64).random_(generator=Generator().manual_seed(21))
    assert_eq!(base, crate::data()["base_seed_21"].as_u64().unwrap());
    let mut batches = 0;
    for (k, (ids, counts, seeds)) in it.by_ref().enumerate() {
        let ids = ids.to_vec::<i64>();
        assert!(
            ids.iter().all(|&i| i as usize == k % 3),
            "batch {k} ran on {ids:?}"
        );
        assert!(counts.to_vec::<i64>().iter().all(|&c| c == 3));
        assert!(
            seeds
                .to_vec::<i64>()
                .iter()
                .all(|&s| s as u64 == base + (k % 3) as u64)
        );
        batches += 1;
    }
    assert_eq!(batches, 5);
    assert_eq!(get_worker_info(), None);
}
