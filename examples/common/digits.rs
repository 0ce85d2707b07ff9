//! The digits programs (`digits_mlp`, `digits_cnn`): scikit-learn's 8x8 digits, pixels / 16,
//! the first 80% of the rows (`int(n * 0.8)` = 1437) for training and the last 20% (360 rows, by
//! later writers, so harder than a random split) for testing, in file order; Adam (lr 1e-3),
//! `CrossEntropyLoss`, batches of 32 shuffled by the DataLoader.

use super::flags::Options;
use super::program::{self, Names};
use super::train::{History, Loader, Progress, accuracy, fit};
use flambeau::nn::functional::Padding;
use flambeau::nn::{
    Conv2d, ConvOptions, CrossEntropyLoss, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential,
};
use flambeau::optim::Adam;
use flambeau::utils::data::{CsvOptions, DataLoader, TensorDataset};
use flambeau::{Tensor, manual_seed, sequential};

/// The train and test rows, features shaped for the model.
pub struct Split {
    /// Training images, `[1437, *shape]`, in [0, 1].
    pub train_x: Tensor,
    /// Training labels, int64 `[1437]`.
    pub train_y: Tensor,
    /// Test images, `[360, *shape]`.
    pub test_x: Tensor,
    /// Test labels, `[360]`.
    pub test_y: Tensor,
}

/// Reads `examples/datasets/digits.csv.gz` and splits it; each image is reshaped to `shape`
/// (`[64]` for the MLP, `[1, 8, 8]` for the CNN).
pub fn load(shape: &[i64]) -> Result<Split, String> {
    let data = CsvOptions::new()
        .label_column(-1)
        .read(super::dataset("digits.csv.gz"))
        .map_err(|e| e.to_string())?;
    let x = data.features / 16.0;
    let y = data.labels.expect("a label column was asked for");
    let n = x.size(0);
    let n_train = (n as f64 * 0.8) as usize;
    let mut dims = vec![-1i64];
    dims.extend_from_slice(shape);
    let rows = |t: &Tensor, lo: usize, hi: usize| t.narrow(0, lo as i64, hi - lo);
    Ok(Split {
        train_x: rows(&x, 0, n_train).reshape(dims.as_slice()),
        train_y: rows(&y, 0, n_train),
        test_x: rows(&x, n_train, n).reshape(dims.as_slice()),
        test_y: rows(&y, n_train, n),
    })
}

/// `nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))`.
pub fn mlp() -> Sequential {
    sequential![Linear::new(64, 128), ReLU::new(), Linear::new(128, 10)]
}

/// The CNN on 1x8x8 images: two 3x3 convolutions (padding 1) with ReLU and 2x2 max pooling
/// (8x8 -> 4x4 -> 2x2), then `Linear(32 * 2 * 2, 64)`, ReLU, `Linear(64, 10)`.
pub fn cnn() -> Sequential {
    let pad1 = || ConvOptions {
        padding: Padding::Explicit(vec![1]),
        ..ConvOptions::default()
    };
    sequential![
        Conv2d::with_options(1, 16, 3, pad1()),
        ReLU::new(),
        MaxPool2d::new(2),
        Conv2d::with_options(16, 32, 3, pad1()),
        ReLU::new(),
        MaxPool2d::new(2),
        Flatten::new(),
        Linear::new(128, 64),
        ReLU::new(),
        Linear::new(64, 10),
    ]
}

/// `DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)`.
pub fn loader(split: &Split) -> Loader {
    DataLoader::new(TensorDataset::new([
        split.train_x.clone(),
        split.train_y.clone(),
    ]))
    .batch_size(32)
    .shuffle(true)
}

/// Trains `model` for `epochs` epochs as the examples do, reporting to `progress`; the test
/// accuracy after each epoch is the history's metric.
pub fn train(model: &Sequential, split: &Split, epochs: usize, progress: &Progress) -> History {
    let loader = loader(split);
    let mut optimizer = Adam::new(model.parameters(), 1e-3);
    let loss = CrossEntropyLoss::new();
    fit(
        model,
        &loader,
        &mut optimizer,
        &|out, y| loss.forward(out, y),
        epochs,
        |_| {},
        |m| accuracy(m, &split.test_x, &split.test_y),
        progress,
    )
}

/// The whole example: seed, data, model (`build`), then [`program::run`]'s outline.
pub fn run(
    o: &Options,
    title: &'static str,
    build: fn() -> Sequential,
    shape: &[i64],
) -> Result<(), String> {
    manual_seed(o.seed);
    let split = load(shape)?;
    let model = build();
    let names = Names {
        title,
        loss: "cross entropy",
        metric: "test accuracy",
    };
    program::run(
        o,
        &names,
        &model,
        |m| accuracy(m, &split.test_x, &split.test_y),
        |progress| train(&model, &split, o.epochs, progress),
    )
}
