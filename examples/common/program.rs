//! The outline every example follows after building its data and model: `--load`, then either
//! `--eval-only` (the metric line and stop) or training with the per-epoch report, the final
//! metric line (`test accuracy: 0.9056`), the training time, `--save` and the plot.

use super::checkpoint;
use super::flags::Options;
use super::plot;
use super::train::{History, Progress};
use flambeau::nn::Module;

/// How an example names what it prints and plots.
pub struct Names {
    /// The plot's title.
    pub title: &'static str,
    /// The loss, as the plot names it ("cross entropy").
    pub loss: &'static str,
    /// The metric, as the lines and the plot name it ("test accuracy").
    pub metric: &'static str,
}

/// Runs the outline on `model`: `metric` evaluates it, `train` trains it (reporting to the
/// progress it is given) and returns its history.
pub fn run<M: Module>(
    o: &Options,
    names: &Names,
    model: &M,
    metric: impl Fn(&M) -> f64,
    train: impl FnOnce(&Progress) -> History,
) -> Result<(), String> {
    if let Some(path) = &o.load {
        checkpoint::load(model, path)?;
        crate::say!("loaded {}", path.display());
    }
    if o.eval_only {
        crate::say!("{}: {:.4}", names.metric, metric(model));
        return Ok(());
    }
    let progress = Progress::new(o.epochs, names.metric);
    let h = train(&progress);
    progress.finish();
    let last = h.metrics.last().expect("at least one epoch");
    crate::say!("{}: {last:.4}", names.metric);
    crate::say!("train time: {:.2}s", h.seconds);
    if let Some(path) = &o.save {
        checkpoint::save(model, path)?;
        crate::say!("saved {}", path.display());
    }
    let png = plot::training_png(
        &o.out,
        names.title,
        names.loss,
        &h.losses,
        names.metric,
        &h.metrics,
    )?;
    crate::say!("plot: {}", png.display());
    Ok(())
}
