//! Diabetes (442 patients, 10 raw measurements, disease progression a year later): regression
//! with `Linear(10, 16)`, ReLU, `Linear(16, 1)`, MSE loss, SGD (lr 0.005, momentum 0.9) halved
//! every 10 epochs by `StepLR`, batches of 32, 40 epochs.
//!
//! The first 80% of the rows (353) train, the last 89 test, in file order. Features and targets
//! are standardised with the training rows' mean and standard deviation; the reported metric is
//! the test RMSE in the target's own units. `examples/torch_twin.py diabetes` is the same program
//! in PyTorch.
//!
//! ```sh
//! cargo run --release --example diabetes -- --seed 0
//! ```

#[path = "common/mod.rs"]
mod common;

use common::flags::{Options, Spec, main_with};
use common::program::{self, Names};
use common::train::{Progress, evaluate, fit};
use flambeau::nn::{Forward, Linear, MSELoss, Module, ReLU, Sequential};
use flambeau::optim::SGD;
use flambeau::optim::lr_scheduler::{LRScheduler, StepLR};
use flambeau::utils::data::{CsvOptions, DataLoader, TensorDataset};
use flambeau::{DType, Tensor, manual_seed, sequential};
use std::process::ExitCode;

const SPEC: Spec = Spec {
    name: "diabetes",
    about: "Diabetes: regression with an MLP 10-16-1, SGD with momentum and StepLR, tested on the last 20% of the rows.",
    epochs: 40,
};

fn run(o: &Options) -> Result<(), String> {
    manual_seed(o.seed);
    let read = |options: CsvOptions, name: &str| {
        options
            .read(common::dataset(name))
            .map_err(|e| e.to_string())
    };
    let x = read(CsvOptions::new().whitespace(), "diabetes_data_raw.csv.gz")?.features;
    let y = read(
        CsvOptions::new().label_column(0).label_dtype(DType::F32),
        "diabetes_target.csv.gz",
    )?
    .labels
    .expect("a label column");
    if x.size(0) != y.size(0) {
        return Err(format!(
            "diabetes: {} feature rows but {} targets",
            x.size(0),
            y.size(0)
        ));
    }
    let n = x.size(0) as i64;
    let n_train = (n as f64 * 0.8) as i64;
    let train = |t: &Tensor| t.narrow(0, 0, n_train as usize);
    let test = |t: &Tensor| t.narrow(0, n_train, (n - n_train) as usize);
    let (mean, std) = (
        train(&x).mean_dim([0], false),
        train(&x).std_dim([0], true, false),
    );
    let x = (&x - &mean) / &std;
    let (y_mean, y_std) = (train(&y).mean(), train(&y).std(true));
    let targets = ((&y - &y_mean) / &y_std).unsqueeze(1);
    let (test_x, test_y) = (test(&x), test(&y));
    // The RMSE of the predictions mapped back to the target's units.
    let rmse = |m: &Sequential| {
        evaluate(m, |m| {
            let pred = m.forward(&test_x).squeeze_dim(1) * &y_std + &y_mean;
            (pred - &test_y).pow(2).mean().sqrt().item::<f64>()
        })
    };

    let model = sequential![Linear::new(10, 16), ReLU::new(), Linear::new(16, 1)];
    let names = Names {
        title: "diabetes, MLP 10-16-1",
        loss: "MSE, standardised targets",
        metric: "test rmse",
    };
    program::run(o, &names, &model, rmse, |progress: &Progress| {
        let loader = DataLoader::new(TensorDataset::new([train(&x), train(&targets)]))
            .batch_size(32)
            .shuffle(true);
        let mut optimizer = SGD::new(model.parameters(), 0.005).momentum(0.9);
        let mut scheduler = StepLR::new(&mut optimizer, 10, 0.5);
        let loss = MSELoss::new();
        fit(
            &model,
            &loader,
            &mut optimizer,
            &|out, t| loss.forward(out, t),
            o.epochs,
            |opt| scheduler.step(opt),
            rmse,
            progress,
        )
    })
}

fn main() -> ExitCode {
    main_with(&SPEC, run)
}
