//! `torch.optim.lr_scheduler`: learning-rate schedules with PyTorch's (chainable) formulas.
//!
//! A scheduler does not hold the optimizer (so that both can be used in the training loop);
//! it is given it at construction, which performs PyTorch's initial step, and at each `step`.
//!
//! ```
//! use flambeau::optim::lr_scheduler::{LRScheduler, StepLR};
//! use flambeau::optim::{Optimizer, SGD};
//! use flambeau::Tensor;
//! let w = Tensor::zeros([1]).requires_grad_(true);
//! let mut opt = SGD::new([&w], 0.1);
//! let mut sched = StepLR::new(&mut opt, 2, 0.5);
//! let mut lrs = vec![opt.lr(0)];
//! for _ in 0..4 {
//!     opt.step();
//!     sched.step(&mut opt);
//!     lrs.push(opt.lr(0));
//! }
//! assert_eq!(lrs, [0.1, 0.1, 0.05, 0.05, 0.025]);
//! ```

mod state;

use super::{Hyper, Optimizer, fmt};
use crate::Result;
use crate::serialization::Value;
use std::f64::consts::PI;

/// What every epoch-based scheduler offers.
pub trait LRScheduler {
    /// Advances one epoch and sets the optimizer's learning rates (`scheduler.step()`).
    fn step(&mut self, optimizer: &mut dyn Optimizer) {
        self.base_mut().last_epoch += 1;
        self.base_mut().step_count += 1;
        let lrs = self.get_lr(optimizer);
        for (g, &lr) in lrs.iter().enumerate() {
            optimizer.set_lr(g, lr);
        }
        self.base_mut().last_lr = lrs;
    }

    /// The learning rates the current epoch should have, from the optimizer's current ones.
    fn get_lr(&mut self, optimizer: &mut dyn Optimizer) -> Vec<f64>;

    /// The learning rates set by the last step (`get_last_lr()`).
    fn get_last_lr(&self) -> Vec<f64> {
        self.base().last_lr.clone()
    }

    /// The epoch count (`last_epoch`).
    fn last_epoch(&self) -> i64 {
        self.base().last_epoch
    }

    /// Shared bookkeeping.
    fn base(&self) -> &SchedulerBase;

    /// Shared bookkeeping, mutably.
    fn base_mut(&mut self) -> &mut SchedulerBase;

    /// The scheduler's state in PyTorch's layout (`scheduler.state_dict()`: its `__dict__`
    /// without the optimizer): its own fields under PyTorch's names, then `base_lrs`,
    /// `last_epoch`, `_step_count`, `_is_initial`, `_get_lr_called_within_step`, `_last_lr`.
    /// This default writes the shared fields only; a scheduler with fields of its own writes
    /// them too.
    fn state_dict(&self) -> Value {
        Value::dict(self.base().entries())
    }

    /// Restores what [`LRScheduler::state_dict`] (or PyTorch's) saved, fields included, as
    /// PyTorch's `load_state_dict` does; a malformed state is refused with
    /// [`Error::Format`](crate::Error::Format) and leaves the scheduler unchanged. To resume,
    /// build the optimizer and the scheduler, then load the optimizer's state, then the
    /// scheduler's (PyTorch's order).
    fn load_state_dict(&mut self, state: &Value) -> Result<()> {
        let base = SchedulerBase::read(&state::Reader::new(state, "scheduler")?)?;
        *self.base_mut() = base;
        Ok(())
    }
}

/// The bookkeeping all schedulers share: the initial learning rates and the epoch counter.
#[derive(Clone, Debug)]
pub struct SchedulerBase {
    /// The learning rate of each group when the scheduler was created (`base_lrs`).
    pub base_lrs: Vec<f64>,
    /// The current epoch, -1 before the initial step.
    pub last_epoch: i64,
    step_count: u64,
    last_lr: Vec<f64>,
}

impl SchedulerBase {
    /// Records `initial_lr` in each group unless one is there, and takes the base learning rates
    /// from it, as PyTorch's `LRScheduler.__init__` does.
    fn new(optimizer: &mut dyn Optimizer) -> SchedulerBase {
        let base_lrs: Vec<f64> = (0..optimizer.num_groups())
            .map(|g| {
                let initial = optimizer
                    .group_entry(g, "initial_lr")
                    .and_then(|h| h.as_f64());
                initial.unwrap_or_else(|| {
                    let lr = optimizer.lr(g);
                    optimizer.set_group_entry(g, "initial_lr", Hyper::Float(lr));
                    lr
                })
            })
            .collect();
        SchedulerBase {
            last_lr: base_lrs.clone(),
            base_lrs,
            last_epoch: -1,
            step_count: 0,
        }
    }
}

fn current_lrs(optimizer: &dyn Optimizer) -> Vec<f64> {
    (0..optimizer.num_groups())
        .map(|g| optimizer.lr(g))
        .collect()
}

macro_rules! scheduler_base {
    () => {
        fn base(&self) -> &SchedulerBase {
            &self.base
        }
        fn base_mut(&mut self) -> &mut SchedulerBase {
            &mut self.base
        }
        fn state_dict(&self) -> Value {
            self.state_value()
        }
        fn load_state_dict(&mut self, state: &Value) -> Result<()> {
            self.load_state_value(state)
        }
    };
}

/// Builds a scheduler and performs PyTorch's initial step (epoch 0).
fn started<S: LRScheduler>(mut s: S, optimizer: &mut dyn Optimizer) -> S {
    s.step(optimizer);
    s
}

/// Multiplies the learning rate by `gamma` every `step_size` epochs (`StepLR`).
pub struct StepLR {
    base: SchedulerBase,
    step_size: u64,
    gamma: f64,
}

impl StepLR {
    /// `StepLR(optimizer, step_size, gamma=0.1)`.
    pub fn new(optimizer: &mut dyn Optimizer, step_size: u64, gamma: f64) -> StepLR {
        started(
            StepLR {
                base: SchedulerBase::new(optimizer),
                step_size,
                gamma,
            },
            optimizer,
        )
    }
}

impl LRScheduler for StepLR {
    fn get_lr(&mut self, optimizer: &mut dyn Optimizer) -> Vec<f64> {
        let e = self.base.last_epoch;
        let lrs = current_lrs(optimizer);
        if e == 0 || !(e as u64).is_multiple_of(self.step_size) {
            lrs
        } else {
            lrs.iter().map(|lr| lr * self.gamma).collect()
        }
    }
    scheduler_base!();
}

/// Multiplies the learning rate by `gamma` at each milestone epoch (`MultiStepLR`).
pub struct MultiStepLR {
    base: SchedulerBase,
    milestones: Vec<u64>,
    gamma: f64,
}

impl MultiStepLR {
    /// `MultiStepLR(optimizer, milestones, gamma=0.1)`; a repeated milestone applies `gamma`
    /// as many times.
    pub fn new(optimizer: &mut dyn Optimizer, milestones: &[u64], gamma: f64) -> MultiStepLR {
        started(
            MultiStepLR {
                base: SchedulerBase::new(optimizer),
                milestones: milestones.to_vec(),
                gamma,
            },
            optimizer,
        )
    }
}

impl LRScheduler for MultiStepLR {
    fn get_lr(&mut self, optimizer: &mut dyn Optimizer) -> Vec<f64> {
        let e = self.base.last_epoch;
        let count = self.milestones.iter().filter(|&&m| m as i64 == e).count() as i32;
        let lrs = current_lrs(optimizer);
        if count == 0 {
            lrs
        } else {
            lrs.iter().map(|lr| lr * self.gamma.powi(count)).collect()
        }
    }
    scheduler_base!();
}

/// Multiplies the learning rate by `gamma` every epoch (`ExponentialLR`).
pub struct ExponentialLR {
    base: SchedulerBase,
    gamma: f64,
}

impl ExponentialLR {
    /// `ExponentialLR(optimizer, gamma)`.
    pub fn new(optimizer: &mut dyn Optimizer, gamma: f64) -> ExponentialLR {
        started(
            ExponentialLR {
                base: SchedulerBase::new(optimizer),
                gamma,
            },
            optimizer,
        )
    }
}

impl LRScheduler for ExponentialLR {
    fn get_lr(&mut self, optimizer: &mut dyn Optimizer) -> Vec<f64> {
        let lrs = current_lrs(optimizer);
        if self.base.last_epoch == 0 {
            lrs
        } else {
            lrs.iter().map(|lr| lr * self.gamma).collect()
        }
    }
    scheduler_base!();
}

/// Cosine annealing from the base learning rate to `eta_min` over `t_max` epochs, with PyTorch's
/// recursive formula (`CosineAnnealingLR`).
pub struct CosineAnnealingLR {
    base: SchedulerBase,
    t_max: f64,
    eta_min: f64,
}

impl CosineAnnealingLR {
    /// `CosineAnnealingLR(optimizer, T_max, eta_min=0)`.
    pub fn new(optimizer: &mut dyn Optimizer, t_max: u64, eta_min: f64) -> CosineAnnealingLR {
        started(
            CosineAnnealingLR {
                base: SchedulerBase::new(optimizer),
                t_max: t_max as f64,
                eta_min,
            },
            optimizer,
        )
    }
}

impl LRScheduler for CosineAnnealingLR {
    fn get_lr(&mut self, optimizer: &mut dyn Optimizer) -> Vec<f64> {
        let e = self.base.last_epoch as f64;
        let lrs = current_lrs(optimizer);
        let (t, m) = (self.t_max, self.eta_min);
        if self.base.last_epoch == 0 {
            return lrs;
        }
        if self.base.step_count == 1 && self.base.last_epoch > 0 {
            return self
                .base
                .base_lrs
                .iter()
                .map(|b| m + (b - m) * (1.0 + (e * PI / t).cos()) / 2.0)
                .collect();
        }
        if ((self.base.last_epoch - 1) as f64 - t).rem_euclid(2.0 * t) == 0.0 {
            return lrs
                .iter()
                .zip(&self.base.base_lrs)
                .map(|(lr, b)| lr + (b - m) * (1.0 - (PI / t).cos()) / 2.0)
                .collect();
        }
        lrs.iter()
            .map(|lr| {
                (1.0 + (PI * e / t).cos()) / (1.0 + (PI * (e - 1.0) / t).cos()) * (lr - m) + m
            })
            .collect()
    }
    scheduler_base!();
}

/// Scales the learning rate linearly from `start_factor` to `end_factor` over `total_iters`
/// epochs (`LinearLR`; defaults 1/3, 1, 5).
pub struct LinearLR {
    base: SchedulerBase,
    start_factor: f64,
    end_factor: f64,
    total_iters: u64,
}

impl LinearLR {
    /// `LinearLR(optimizer)` with PyTorch's defaults.
    pub fn new(optimizer: &mut dyn Optimizer) -> LinearLR {
        LinearLR::with(optimizer, 1.0 / 3.0, 1.0, 5)
    }

    /// `LinearLR(optimizer, start_factor, end_factor, total_iters)`.
    pub fn with(
        optimizer: &mut dyn Optimizer,
        start_factor: f64,
        end_factor: f64,
        total_iters: u64,
    ) -> LinearLR {
        if start_factor > 1.0 || start_factor <= 0.0 {
            panic!(
                "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."
            );
        }
        if !(0.0..=1.0).contains(&end_factor) {
            panic!("Ending multiplicative factor expected to be between 0 and 1.");
        }
        started(
            LinearLR {
                base: SchedulerBase::new(optimizer),
                start_factor,
                end_factor,
                total_iters,
            },
            optimizer,
        )
    }
}

impl LRScheduler for LinearLR {
    fn get_lr(&mut self, optimizer: &mut dyn Optimizer) -> Vec<f64> {
        let e = self.base.last_epoch;
        let lrs = current_lrs(optimizer);
        if e == 0 {
            return lrs.iter().map(|lr| lr * self.start_factor).collect();
        }
        if e as u64 > self.total_iters {
            return lrs;
        }
        let (s, f) = (self.start_factor, self.end_factor);
        let factor = 1.0 + (f - s) / (self.total_iters as f64 * s + (e - 1) as f64 * (f - s));
        lrs.iter().map(|lr| lr * factor).collect()
    }
    scheduler_base!();
}

/// The base learning rate times `lr_lambda(epoch)` (`LambdaLR`).
pub struct LambdaLR {
    base: SchedulerBase,
    lr_lambda: Box<dyn Fn(i64) -> f64 + Send>,
}

impl LambdaLR {
    /// `LambdaLR(optimizer, lr_lambda)`, one function for all groups.
    pub fn new(
        optimizer: &mut dyn Optimizer,
        lr_lambda: impl Fn(i64) -> f64 + Send + 'static,
    ) -> LambdaLR {
        started(
            LambdaLR {
                base: SchedulerBase::new(optimizer),
                lr_lambda: Box::new(lr_lambda),
            },
            optimizer,
        )
    }
}

impl LRScheduler for LambdaLR {
    fn get_lr(&mut self, _optimizer: &mut dyn Optimizer) -> Vec<f64> {
        let f = (self.lr_lambda)(self.base.last_epoch);
        self.base.base_lrs.iter().map(|b| b * f).collect()
    }
    scheduler_base!();
}

/// How `OneCycleLR` interpolates within a phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnnealStrategy {
    /// Cosine annealing (`'cos'`, the default).
    Cos,
    /// Linear (`'linear'`).
    Linear,
}

/// Options of [`OneCycleLR`], PyTorch's defaults.
#[derive(Clone, Debug)]
pub struct OneCycleOptions {
    /// Fraction of the cycle spent increasing the learning rate (0.3).
    pub pct_start: f64,
    /// Interpolation (cosine).
    pub anneal_strategy: AnnealStrategy,
    /// Cycle momentum (or Adam's beta1) inversely to the learning rate (true).
    pub cycle_momentum: bool,
    /// Lowest momentum (0.85).
    pub base_momentum: f64,
    /// Highest momentum (0.95).
    pub max_momentum: f64,
    /// `initial_lr = max_lr / div_factor` (25).
    pub div_factor: f64,
    /// `min_lr = initial_lr / final_div_factor` (1e4).
    pub final_div_factor: f64,
    /// Three phases (up, down, annihilate) instead of two (false).
    pub three_phase: bool,
}

impl Default for OneCycleOptions {
    fn default() -> Self {
        OneCycleOptions {
            pct_start: 0.3,
            anneal_strategy: AnnealStrategy::Cos,
            cycle_momentum: true,
            base_momentum: 0.85,
            max_momentum: 0.95,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
    }
}

/// The 1cycle policy (`OneCycleLR`): the learning rate rises to `max_lr` and anneals far below
/// the start, while the momentum moves the other way. Stepped once per batch.
pub struct OneCycleLR {
    base: SchedulerBase,
    total_steps: u64,
    opts: OneCycleOptions,
    /// Per group: initial, max and min learning rates.
    lrs: Vec<(f64, f64, f64)>,
    /// (end_step, start_lr, end_lr, start_momentum, end_momentum), values as indices:
    /// lr 0 = initial, 1 = max, 2 = min; momentum 0 = max, 1 = base.
    phases: Vec<(f64, usize, usize, usize, usize)>,
    /// Whether the optimizer's momentum is Adam's beta1 (PyTorch's `use_beta1`).
    use_beta1: bool,
}

impl OneCycleLR {
    /// `OneCycleLR(optimizer, max_lr, total_steps)` with PyTorch's other defaults.
    pub fn new(optimizer: &mut dyn Optimizer, max_lr: f64, total_steps: u64) -> OneCycleLR {
        OneCycleLR::with(optimizer, max_lr, total_steps, OneCycleOptions::default())
    }

    /// `OneCycleLR(optimizer, max_lr, total_steps, **options)`.
    pub fn with(
        optimizer: &mut dyn Optimizer,
        max_lr: f64,
        total_steps: u64,
        opts: OneCycleOptions,
    ) -> OneCycleLR {
        if total_steps == 0 {
            panic!("Expected positive integer total_steps, but got {total_steps}");
        }
        if !(0.0..=1.0).contains(&opts.pct_start) {
            panic!(
                "Expected float between 0 and 1 pct_start, but got {}",
                fmt(opts.pct_start)
            );
        }
        let t = total_steps as f64;
        let phases = if opts.three_phase {
            vec![
                (opts.pct_start * t - 1.0, 0, 1, 0, 1),
                (2.0 * opts.pct_start * t - 2.0, 1, 0, 1, 0),
                (t - 1.0, 0, 2, 0, 0),
            ]
        } else {
            vec![
                (opts.pct_start * t - 1.0, 0, 1, 0, 1),
                (t - 1.0, 1, 2, 1, 0),
            ]
        };
        let n = optimizer.num_groups();
        let lrs: Vec<(f64, f64, f64)> = (0..n)
            .map(|_| {
                let initial = max_lr / opts.div_factor;
                (initial, max_lr, initial / opts.final_div_factor)
            })
            .collect();
        // PyTorch keeps these in the groups (and reads them there at each step), so that a
        // checkpoint of the optimizer carries them.
        for (g, &(initial, max, min)) in lrs.iter().enumerate() {
            optimizer.set_lr(g, initial);
            optimizer.set_group_entry(g, "initial_lr", Hyper::Float(initial));
            optimizer.set_group_entry(g, "max_lr", Hyper::Float(max));
            optimizer.set_group_entry(g, "min_lr", Hyper::Float(min));
        }
        let use_beta1 = optimizer
            .state_dict()
            .param_groups
            .first()
            .is_some_and(|(h, _)| h.contains_key("betas"));
        if opts.cycle_momentum {
            if optimizer.momentum(0).is_none() {
                panic!(
                    "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"
                );
            }
            for g in 0..n {
                optimizer.set_momentum(g, opts.max_momentum);
                optimizer.set_group_entry(g, "max_momentum", Hyper::Float(opts.max_momentum));
                optimizer.set_group_entry(g, "base_momentum", Hyper::Float(opts.base_momentum));
            }
        }
        let s = OneCycleLR {
            base: SchedulerBase::new(optimizer),
            total_steps,
            opts,
            lrs,
            phases,
            use_beta1,
        };
        started(s, optimizer)
    }

    fn anneal(&self, start: f64, end: f64, pct: f64) -> f64 {
        match self.opts.anneal_strategy {
            AnnealStrategy::Cos => end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0),
            AnnealStrategy::Linear => (end - start) * pct + start,
        }
    }
}

impl LRScheduler for OneCycleLR {
    fn get_lr(&mut self, optimizer: &mut dyn Optimizer) -> Vec<f64> {
        let step = self.base.last_epoch;
        if step as u64 > self.total_steps {
            panic!(
                "Tried to step {step} times. The specified number of total steps is {}",
                self.total_steps
            );
        }
        let step = step as f64;
        let mut out = Vec::new();
        for (g, &(initial, max, min)) in self.lrs.iter().enumerate() {
            // The group's values, as PyTorch reads them (a loaded optimizer state may carry
            // others than this scheduler was built with); this scheduler's own where the
            // optimizer keeps no group entries.
            let entry = |key: &str, own: f64| {
                optimizer
                    .group_entry(g, key)
                    .and_then(|h| h.as_f64())
                    .unwrap_or(own)
            };
            let lr_of = [
                entry("initial_lr", initial),
                entry("max_lr", max),
                entry("min_lr", min),
            ];
            let moms = [
                entry("max_momentum", self.opts.max_momentum),
                entry("base_momentum", self.opts.base_momentum),
            ];
            let mut start_step = 0.0;
            let mut computed = (0.0, 0.0);
            for (i, &(end_step, sl, el, sm, em)) in self.phases.iter().enumerate() {
                if step <= end_step || i == self.phases.len() - 1 {
                    let pct = (step - start_step) / (end_step - start_step);
                    computed = (
                        self.anneal(lr_of[sl], lr_of[el], pct),
                        self.anneal(moms[sm], moms[em], pct),
                    );
                    break;
                }
                start_step = end_step;
            }
            out.push(computed.0);
            if self.opts.cycle_momentum {
                optimizer.set_momentum(g, computed.1);
            }
        }
        out
    }
    scheduler_base!();
}

/// `'min'` or `'max'`: whether the monitored quantity should go down or up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlateauMode {
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

/// Reduces the learning rate by `factor` when a metric stops improving for `patience` epochs
/// (`ReduceLROnPlateau`; defaults: min mode, factor 0.1, patience 10, relative threshold 1e-4,
/// cooldown 0, min_lr 0, eps 1e-8). Stepped with the metric.
///
/// ```
/// use flambeau::optim::lr_scheduler::ReduceLROnPlateau;
/// use flambeau::optim::{Optimizer, SGD};
/// use flambeau::Tensor;
/// let w = Tensor::zeros([1]).requires_grad_(true);
/// let mut opt = SGD::new([&w], 1.0);
/// let mut s = ReduceLROnPlateau::new(&opt).patience(1);
/// for loss in [1.0, 1.0, 1.0] {
///     s.step(&mut opt, loss);
/// }
/// assert!((opt.lr(0) - 0.1).abs() < 1e-12);
/// ```
pub struct ReduceLROnPlateau {
    mode: PlateauMode,
    factor: f64,
    patience: u64,
    threshold: f64,
    relative: bool,
    cooldown: u64,
    /// The one `min_lr` for all groups (None when given per group).
    default_min_lr: Option<f64>,
    min_lrs: Vec<f64>,
    eps: f64,
    best: f64,
    num_bad_epochs: u64,
    cooldown_counter: u64,
    last_epoch: i64,
    last_lr: Vec<f64>,
}

impl ReduceLROnPlateau {
    /// PyTorch's defaults.
    pub fn new(optimizer: &dyn Optimizer) -> ReduceLROnPlateau {
        ReduceLROnPlateau {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            relative: true,
            cooldown: 0,
            default_min_lr: Some(0.0),
            min_lrs: vec![0.0; optimizer.num_groups()],
            eps: 1e-8,
            best: f64::INFINITY,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            last_epoch: 0,
            last_lr: current_lrs(optimizer),
        }
    }
    /// Sets the mode.
    pub fn mode(mut self, mode: PlateauMode) -> Self {
        self.mode = mode;
        self.best = if mode == PlateauMode::Min {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        };
        self
    }
    /// Sets the reduction factor (must be below 1).
    pub fn factor(mut self, factor: f64) -> Self {
        if factor >= 1.0 {
            panic!("Factor should be < 1.0.");
        }
        self.factor = factor;
        self
    }
    /// Sets the patience.
    pub fn patience(mut self, patience: u64) -> Self {
        self.patience = patience;
        self
    }
    /// Sets the threshold and whether it is relative (`'rel'`) or absolute (`'abs'`).
    pub fn threshold(mut self, threshold: f64, relative: bool) -> Self {
        self.threshold = threshold;
        self.relative = relative;
        self
    }
    /// Sets the cooldown.
    pub fn cooldown(mut self, cooldown: u64) -> Self {
        self.cooldown = cooldown;
        self
    }
    /// Sets the lower bound of every group's learning rate.
    pub fn min_lr(mut self, min_lr: f64) -> Self {
        self.min_lrs.iter_mut().for_each(|m| *m = min_lr);
        self.default_min_lr = Some(min_lr);
        self
    }

    /// Sets each group's lower bound (`min_lr=[...]`); panics with PyTorch's message unless
    /// there is one per group.
    #[track_caller]
    pub fn min_lrs(mut self, min_lrs: &[f64]) -> Self {
        if min_lrs.len() != self.min_lrs.len() {
            panic!(
                "expected {} min_lrs, got {}",
                self.min_lrs.len(),
                min_lrs.len()
            );
        }
        self.min_lrs = min_lrs.to_vec();
        self.default_min_lr = None;
        self
    }

    /// The learning rates after the last step (`get_last_lr()`).
    pub fn get_last_lr(&self) -> Vec<f64> {
        self.last_lr.clone()
    }

    /// The epoch count (`last_epoch`).
    pub fn last_epoch(&self) -> i64 {
        self.last_epoch
    }

    fn is_better(&self, a: f64) -> bool {
        match (self.mode, self.relative) {
            (PlateauMode::Min, true) => a < self.best * (1.0 - self.threshold),
            (PlateauMode::Min, false) => a < self.best - self.threshold,
            (PlateauMode::Max, true) => a > self.best * (self.threshold + 1.0),
            (PlateauMode::Max, false) => a > self.best + self.threshold,
        }
    }

    /// Records this epoch's metric and reduces the learning rates when it has plateaued.
    pub fn step(&mut self, optimizer: &mut dyn Optimizer, metric: f64) {
        self.last_epoch += 1;
        if self.is_better(metric) {
            self.best = metric;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.patience {
            let n = optimizer.num_groups();
            if n != self.min_lrs.len() {
                match self.default_min_lr {
                    Some(m) => self.min_lrs = vec![m; n],
                    None => panic!(
                        "The number of param groups in the `optimizer` ({n}) differs from when \
                         `ReduceLROnPlateau` was initialized ({}), usually due to a new param \
                         group being added to the optimizer. Please modify the `min_lrs` field \
                         to match the length of the `optimizer` param groups.",
                        self.min_lrs.len()
                    ),
                }
            }
            for g in 0..n {
                let old = optimizer.lr(g);
                let new = (old * self.factor).max(self.min_lrs[g]);
                if old - new > self.eps {
                    optimizer.set_lr(g, new);
                }
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        self.last_lr = current_lrs(optimizer);
    }
}
