//! Worker threads of a [`DataLoader`](super::DataLoader) with `num_workers > 0`: PyTorch's
//! `_MultiProcessingDataLoaderIter` on threads instead of processes.
//!
//! Batch `i` goes to worker `i % num_workers` (PyTorch's round-robin `_worker_queue_idx_cycle`),
//! at most `prefetch_factor * num_workers` batches are in flight, and results are handed out in
//! sampler order whatever order they finish in. A panic in a worker (in the dataset's `get` or
//! the collate function) is caught there and raised again on the thread that reads the batch,
//! as PyTorch re-raises a worker's exception. Dropping the iterator closes the task queues and
//! joins the workers (each finishes at most the batch it is loading).
//!
//! The workers are plain `std::thread`s, not the rayon pool the kernels use, so a dataset may
//! run tensor operations (which may use rayon) without waiting on itself.
//!
//! Random numbers: Flambeau's default generator is one global generator shared by all threads
//! (PyTorch's workers are processes, each with its own copy seeded `base_seed + id`). Draws from
//! the default generator inside a worker's dataset therefore interleave in thread order and are
//! not reproducible; a dataset that needs reproducible randomness should draw from its own
//! [`Generator`](crate::Generator), for example one seeded with [`get_worker_info`]'s `seed`.

use std::cell::Cell;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

/// What a worker thread knows about itself (`torch.utils.data.get_worker_info()`).
///
/// ```
/// use flambeau::utils::data::{DataLoader, Dataset, get_worker_info};
/// struct WorkerIds;
/// impl Dataset for WorkerIds {
///     type Item = usize;
///     fn len(&self) -> usize { 4 }
///     fn get(&self, _: usize) -> usize { get_worker_info().unwrap().id }
/// }
/// let loader = DataLoader::new(WorkerIds).num_workers(2);
/// // Batch i is loaded by worker i % 2.
/// let ids: Vec<i64> = loader.iter().map(|b| b.to_vec::<i64>()[0]).collect();
/// assert_eq!(ids, vec![0, 1, 0, 1]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerInfo {
    /// This worker's number, `0..num_workers`.
    pub id: usize,
    /// The loader's `num_workers`.
    pub num_workers: usize,
    /// `base_seed + id`: the epoch's base seed (drawn from the loader's generator when the
    /// epoch's iterator is created) plus the worker's number, as PyTorch computes it.
    pub seed: u64,
}

thread_local! {
    static WORKER_INFO: Cell<Option<WorkerInfo>> = const { Cell::new(None) };
}

/// The current worker's [`WorkerInfo`] inside a [`DataLoader`](super::DataLoader) worker thread,
/// `None` elsewhere (`torch.utils.data.get_worker_info()`).
///
/// ```
/// assert_eq!(flambeau::utils::data::get_worker_info(), None);
/// ```
pub fn get_worker_info() -> Option<WorkerInfo> {
    WORKER_INFO.with(|w| w.get())
}

type Task = (usize, Vec<usize>);
type Outcome<B> = Result<B, String>;
/// Loads one batch from its dataset indices.
pub(crate) type LoadFn<B> = Arc<dyn Fn(Vec<usize>) -> B + Send + Sync>;

/// The running workers of one epoch.
pub(crate) struct WorkerPool<B> {
    tasks: Vec<Sender<Task>>,
    results: Receiver<(usize, usize, Outcome<B>)>,
    handles: Vec<JoinHandle<()>>,
    /// Which worker each outstanding batch went to.
    worker_of: HashMap<usize, usize>,
    /// Batches that arrived before their turn.
    early: HashMap<usize, (usize, Outcome<B>)>,
    send_idx: usize,
    rcvd_idx: usize,
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_string()
    }
}

impl<B: Send + 'static> WorkerPool<B> {
    /// Starts `num_workers` threads that load batches with `load`.
    pub(crate) fn start(num_workers: usize, base_seed: u64, load: LoadFn<B>) -> WorkerPool<B> {
        let (result_tx, results) = channel();
        let mut tasks = Vec::with_capacity(num_workers);
        let mut handles = Vec::with_capacity(num_workers);
        for id in 0..num_workers {
            let (task_tx, task_rx) = channel::<Task>();
            let result_tx = result_tx.clone();
            let load = load.clone();
            let info = WorkerInfo {
                id,
                num_workers,
                seed: base_seed.wrapping_add(id as u64),
            };
            let handle = std::thread::Builder::new()
                .name(format!("DataLoader worker {id}"))
                .spawn(move || {
                    WORKER_INFO.with(|w| w.set(Some(info)));
                    while let Ok((idx, indices)) = task_rx.recv() {
                        let out = catch_unwind(AssertUnwindSafe(|| load(indices)))
                            .map_err(|p| panic_message(&*p));
                        if result_tx.send((idx, id, out)).is_err() {
                            break;
                        }
                    }
                })
                .expect("failed to spawn a DataLoader worker thread");
            tasks.push(task_tx);
            handles.push(handle);
        }
        WorkerPool {
            tasks,
            results,
            handles,
            worker_of: HashMap::new(),
            early: HashMap::new(),
            send_idx: 0,
            rcvd_idx: 0,
        }
    }

    /// Hands the next batch's indices to the next worker in turn.
    pub(crate) fn put(&mut self, indices: Vec<usize>) {
        let worker = self.send_idx % self.tasks.len();
        // A worker only stops when its queue closes, so the send cannot fail.
        let _ = self.tasks[worker].send((self.send_idx, indices));
        self.worker_of.insert(self.send_idx, worker);
        self.send_idx += 1;
    }

    /// Whether batches are still in flight.
    pub(crate) fn outstanding(&self) -> bool {
        self.rcvd_idx < self.send_idx
    }

    /// The next batch in sampler order (waiting for it); re-raises a worker's panic.
    #[track_caller]
    pub(crate) fn next_in_order(&mut self) -> B {
        let idx = self.rcvd_idx;
        let (worker, outcome) = loop {
            if let Some(r) = self.early.remove(&idx) {
                break r;
            }
            match self.results.recv() {
                Ok((i, w, out)) if i == idx => break (w, out),
                Ok((i, w, out)) => {
                    self.early.insert(i, (w, out));
                }
                Err(_) => panic!(
                    "DataLoader worker {} exited unexpectedly",
                    self.worker_of[&idx]
                ),
            }
        };
        self.worker_of.remove(&idx);
        self.rcvd_idx += 1;
        match outcome {
            Ok(batch) => batch,
            Err(msg) => {
                self.shutdown();
                panic!("Caught panic in DataLoader worker {worker}.\nOriginal panic: {msg}");
            }
        }
    }
}

impl<B> WorkerPool<B> {
    /// Closes the task queues and joins every worker (each finishes the batch it is loading;
    /// its result, if any, is discarded).
    fn shutdown(&mut self) {
        self.tasks.clear();
        for h in self.handles.drain(..) {
            // A worker catches the panics of the code it runs, so joining cannot fail.
            let _ = h.join();
        }
    }
}

impl<B> Drop for WorkerPool<B> {
    fn drop(&mut self) {
        self.shutdown();
    }
}
