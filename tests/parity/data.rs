//! data.json: `torch.utils.data` index orders. Each dataloader case runs over
//! `TensorDataset(arange(n))` with the case's options, on the calling thread and with two worker
//! threads, checking every epoch's batches of indices and `torch.rand(3)` after the epochs (the
//! default generator's state); each random_split case checks its subsets' indices.
//!
//! The fixture's cases ran one after the other in one process, so the default generator's state
//! carries from case to case (an unseeded loader draws its base seeds from it, and
//! `default_rand3_after` draws three more). The harness replays them in file order the same way.
//! Before the first `torch.manual_seed` of the file the state is the generating script's own,
//! unknown here: there a case's `default_rand3_after` cannot be reproduced, and the check is that
//! the loader left the default generator exactly as it found it (which is what makes the later
//! values match).

use flambeau::utils::data::{DataLoader, TensorDataset, random_split};
use flambeau::{DType, Generator, Tensor};
use serde_json::Value as Json;

fn usizes(j: &Json) -> Vec<usize> {
    j.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

/// One dataloader case with `num_workers` workers. `state_known`: whether the default generator
/// is in the fixture script's state (a seeded case came before in file order).
pub fn run_dataloader(case: &Json, num_workers: usize, state_known: bool) -> Result<(), String> {
    let n = case["n"].as_u64().unwrap() as usize;
    let seed = case["seed"].as_u64();
    let generator = case["generator"].as_str();
    let ds = TensorDataset::new([Tensor::arange_dtype(0.0, n as f64, 1.0, DType::I64)]);
    let mut loader = DataLoader::new(ds)
        .batch_size(case["batch_size"].as_u64().unwrap() as usize)
        .shuffle(case["shuffle"].as_bool().unwrap())
        .drop_last(case["drop_last"].as_bool().unwrap())
        .num_workers(num_workers);
    match (generator, seed) {
        (Some("explicit"), Some(s)) => loader = loader.generator(Generator::new().manual_seed(s)),
        (Some("default"), Some(s)) => {
            flambeau::manual_seed(s);
        }
        (None, _) => {}
        (other, _) => return Err(format!("unknown generator option {other:?}")),
    }
    let default_before = flambeau::random::get_rng_state();
    let epochs = case["epochs"].as_array().unwrap();
    for (e, want) in epochs.iter().enumerate() {
        let want: Vec<Vec<usize>> = want.as_array().unwrap().iter().map(usizes).collect();
        if loader.len() != want.len() {
            return Err(format!(
                "epoch {e}: len(loader) {}, expected {}",
                loader.len(),
                want.len()
            ));
        }
        let got: Vec<Vec<usize>> = loader
            .iter()
            .map(|b| {
                b[0].to_vec::<i64>()
                    .into_iter()
                    .map(|i| i as usize)
                    .collect()
            })
            .collect();
        if got != want {
            return Err(format!("epoch {e}: batches {got:?}, expected {want:?}"));
        }
    }
    if generator == Some("explicit") && flambeau::random::get_rng_state() != default_before {
        return Err("a loader with its own generator drew from the default generator".into());
    }
    if let Some(after) = case.get("default_rand3_after") {
        let got = flambeau::rand([3]).to_vec::<f32>();
        let want: Vec<f32> = after
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        if state_known
            && got
                .iter()
                .map(|x| x.to_bits())
                .ne(want.iter().map(|x| x.to_bits()))
        {
            return Err(format!(
                "torch.rand(3) after the epochs: {got:?}, expected {want:?}"
            ));
        }
    }
    Ok(())
}

/// One random_split case.
pub fn run_random_split(case: &Json) -> Result<(), String> {
    let n = case["n"].as_u64().unwrap() as usize;
    let g = Generator::new().manual_seed(case["seed"].as_u64().unwrap());
    let lengths = case["lengths"].as_array().unwrap();
    let ds: Vec<usize> = (0..n).collect();
    let parts = if lengths.iter().all(|l| l.is_u64()) {
        random_split(ds, usizes(&case["lengths"]), Some(&g))
    } else {
        let fr: Vec<f64> = lengths.iter().map(|l| l.as_f64().unwrap()).collect();
        random_split(ds, fr, Some(&g))
    };
    let got: Vec<Vec<usize>> = parts.iter().map(|p| p.indices().to_vec()).collect();
    let want: Vec<Vec<usize>> = case["indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(usizes)
        .collect();
    if got != want {
        return Err(format!("indices {got:?}, expected {want:?}"));
    }
    Ok(())
}
