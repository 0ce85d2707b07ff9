//! The training loop the examples share, with PyTorch's bookkeeping: per epoch, one pass over
//! the shuffled batches (forward, `zero_grad`, backward, `step`), the mean of the batches'
//! `loss.item()`, then the model evaluated in `eval()` mode under `no_grad`.

use flambeau::nn::{Forward, Module};
use flambeau::optim::Optimizer;
use flambeau::utils::data::{DataLoader, TensorDataset};
use flambeau::{DType, Tensor, no_grad};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

/// A loader of `(features, targets)` batches.
pub type Loader = DataLoader<TensorDataset, Vec<Tensor>>;

/// What training produced, epoch by epoch.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Mean training loss of each epoch (the mean of its batches' losses).
    pub losses: Vec<f64>,
    /// The evaluation metric after each epoch.
    pub metrics: Vec<f64>,
    /// Wall time of the epochs (training and evaluation), in seconds.
    pub seconds: f64,
}

/// One epoch over `loader`; returns the mean of the batches' losses, as a PyTorch loop summing
/// `loss.item()` does.
pub fn train_epoch<M: Forward>(
    model: &M,
    loader: &Loader,
    optimizer: &mut dyn Optimizer,
    loss_fn: &dyn Fn(&Tensor, &Tensor) -> Tensor,
) -> f64 {
    let mut total = 0.0;
    let mut batches = 0usize;
    for batch in loader {
        let loss = loss_fn(&model.forward(&batch[0]), &batch[1]);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        total += loss.item::<f64>();
        batches += 1;
    }
    total / batches.max(1) as f64
}

/// `(model(x).argmax(1) == y).float().mean().item()` in `eval()` mode without grad.
pub fn accuracy<M: Module + Forward>(model: &M, x: &Tensor, y: &Tensor) -> f64 {
    evaluate(model, |m| {
        m.forward(x)
            .argmax(Some(1), false)
            .eq(y)
            .to_dtype(DType::F32)
            .mean()
            .item::<f64>()
    })
}

/// Runs `f` on the model in `eval()` mode under `no_grad`, then puts it back in training mode.
pub fn evaluate<M: Module, R>(model: &M, f: impl FnOnce(&M) -> R) -> R {
    model.eval();
    let r = no_grad(|| f(model));
    model.train(true);
    r
}

/// The per-epoch report: a progress bar when stdout is a terminal, plain lines otherwise (and
/// the same lines above the bar).
pub struct Progress {
    bar: Option<ProgressBar>,
    epochs: usize,
    metric_name: &'static str,
    quiet: bool,
}

impl Progress {
    /// A report for `epochs` epochs whose metric is called `metric_name` ("test accuracy").
    pub fn new(epochs: usize, metric_name: &'static str) -> Progress {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::new(epochs as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} epochs  {msg}")
                    .expect("valid progress template"),
            );
            bar
        });
        Progress {
            bar,
            epochs,
            metric_name,
            quiet: false,
        }
    }

    /// A report that prints nothing (for tests).
    pub fn quiet(epochs: usize, metric_name: &'static str) -> Progress {
        Progress {
            bar: None,
            epochs,
            metric_name,
            quiet: true,
        }
    }

    /// Reports one epoch: `epoch   1/30  train loss 2.059372  test accuracy 0.7472`.
    pub fn epoch(&self, epoch: usize, loss: f64, metric: f64) {
        if self.quiet {
            return;
        }
        let line = format!(
            "epoch {epoch:>3}/{}  train loss {loss:.6}  {} {metric:.4}",
            self.epochs, self.metric_name
        );
        match &self.bar {
            Some(b) => {
                b.println(line);
                b.set_position(epoch as u64);
                b.set_message(format!("loss {loss:.4}"));
            }
            None => crate::say!("{line}"),
        }
    }

    /// Removes the bar.
    pub fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

/// `epochs` epochs of [`train_epoch`], each followed by `after_epoch` (a scheduler's step) and
/// `metric`; every epoch is reported to `progress`.
pub fn fit<M: Module + Forward>(
    model: &M,
    loader: &Loader,
    optimizer: &mut dyn Optimizer,
    loss_fn: &dyn Fn(&Tensor, &Tensor) -> Tensor,
    epochs: usize,
    mut after_epoch: impl FnMut(&mut dyn Optimizer),
    metric: impl Fn(&M) -> f64,
    progress: &Progress,
) -> History {
    let start = Instant::now();
    let mut h = History::default();
    for epoch in 1..=epochs {
        let loss = train_epoch(model, loader, optimizer, loss_fn);
        after_epoch(optimizer);
        let m = metric(model);
        progress.epoch(epoch, loss, m);
        h.losses.push(loss);
        h.metrics.push(m);
    }
    h.seconds = start.elapsed().as_secs_f64();
    h
}
