//! Iris (150 flowers, 4 measurements, 3 species) with a small MLP, `Linear(4, 16)`, ReLU,
//! `Linear(16, 3)`, trained with Adam (lr 1e-2) on batches of 16 for 50 epochs.
//!
//! The file is sorted by species, so the rows are shuffled first: `randperm(150)` right after
//! `manual_seed(seed)` (PyTorch's permutation for the same seed), the first 120 of it for
//! training, the other 30 for testing; the features are standardised with the training rows'
//! mean and standard deviation. `examples/torch_twin.py iris` is the same program in PyTorch.
//!
//! ```sh
//! cargo run --release --example iris -- --seed 0
//! ```

#[path = "common/mod.rs"]
mod common;

use common::flags::{Options, Spec, main_with};
use common::program::{self, Names};
use common::train::{Progress, accuracy, fit};
use flambeau::nn::{CrossEntropyLoss, Linear, Module, ReLU};
use flambeau::optim::Adam;
use flambeau::utils::data::{CsvOptions, DataLoader, TensorDataset};
use flambeau::{manual_seed, randperm, sequential};
use std::process::ExitCode;

const SPEC: Spec = Spec {
    name: "iris",
    about: "Iris: an MLP 4-16-3 trained with Adam on a seeded 80/20 shuffle split.",
    epochs: 50,
};

fn run(o: &Options) -> Result<(), String> {
    manual_seed(o.seed);
    let data = CsvOptions::new()
        .skip_rows(1)
        .label_column(-1)
        .read(common::dataset("iris.csv"))
        .map_err(|e| e.to_string())?;
    let (x, y) = (data.features, data.labels.expect("a label column"));
    let n = x.size(0);
    let perm = randperm(n);
    let n_train = (n as f64 * 0.8) as i64;
    let train_idx = perm.narrow(0, 0, n_train as usize);
    let test_idx = perm.narrow(0, n_train, n - n_train as usize);
    let train_rows = x.index_select(0, &train_idx);
    let (mean, std) = (
        train_rows.mean_dim([0], false),
        train_rows.std_dim([0], true, false),
    );
    let x = (&x - &mean) / &std;
    let (train_x, train_y) = (x.index_select(0, &train_idx), y.index_select(0, &train_idx));
    let (test_x, test_y) = (x.index_select(0, &test_idx), y.index_select(0, &test_idx));

    let model = sequential![Linear::new(4, 16), ReLU::new(), Linear::new(16, 3)];
    let names = Names {
        title: "iris, MLP 4-16-3",
        loss: "cross entropy",
        metric: "test accuracy",
    };
    program::run(
        o,
        &names,
        &model,
        |m| accuracy(m, &test_x, &test_y),
        |progress: &Progress| {
            let loader = DataLoader::new(TensorDataset::new([train_x.clone(), train_y.clone()]))
                .batch_size(16)
                .shuffle(true);
            let mut optimizer = Adam::new(model.parameters(), 1e-2);
            let loss = CrossEntropyLoss::new();
            fit(
                &model,
                &loader,
                &mut optimizer,
                &|out, t| loss.forward(out, t),
                o.epochs,
                |_| {},
                |m| accuracy(m, &test_x, &test_y),
                progress,
            )
        },
    )
}

fn main() -> ExitCode {
    main_with(&SPEC, run)
}
