//! Schedulers' state dicts in PyTorch's layout: each scheduler's `__dict__` without the
//! optimizer, its own fields first under PyTorch's names (`step_size`, `T_max`,
//! `_schedule_phases`, ...), then `LRScheduler`'s (`torch/optim/lr_scheduler.py`).

use super::{
    AnnealStrategy, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, MultiStepLR, OneCycleLR,
    PlateauMode, ReduceLROnPlateau, SchedulerBase, StepLR,
};
use crate::serialization::Value;
use crate::{Error, Result};

/// Typed reads from a state dict, each failure an [`Error::Format`] naming the entry.
pub(super) struct Reader<'a> {
    dict: &'a Value,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(super) fn new(dict: &'a Value, what: &'static str) -> Result<Reader<'a>> {
        if dict.as_dict().is_none() {
            return Err(Error::Format(format!(
                "{what} state dict is a {}, expected a dict",
                dict.type_name()
            )));
        }
        Ok(Reader { dict, what })
    }

    fn fail(&self, key: &str, want: &str, got: &Value) -> Error {
        Error::Format(format!(
            "{} state dict: '{key}' is a {}, expected {want}",
            self.what,
            got.type_name()
        ))
    }

    fn get(&self, key: &str) -> Result<&'a Value> {
        self.dict
            .get(key)
            .ok_or_else(|| Error::Format(format!("{} state dict has no '{key}'", self.what)))
    }

    fn float(&self, key: &str) -> Result<f64> {
        let v = self.get(key)?;
        match v {
            Value::Float(_) | Value::Int(_) => Ok(v.as_float().unwrap()),
            _ => Err(self.fail(key, "a number", v)),
        }
    }

    fn int(&self, key: &str) -> Result<i64> {
        match self.get(key)? {
            Value::Int(i) => Ok(*i),
            v => Err(self.fail(key, "an int", v)),
        }
    }

    fn count(&self, key: &str) -> Result<u64> {
        let i = self.int(key)?;
        u64::try_from(i).map_err(|_| {
            Error::Format(format!(
                "{} state dict: '{key}' is {i}, expected a count",
                self.what
            ))
        })
    }

    fn bool(&self, key: &str) -> Result<bool> {
        match self.get(key)? {
            Value::Bool(b) => Ok(*b),
            v => Err(self.fail(key, "a bool", v)),
        }
    }

    fn str(&self, key: &str) -> Result<&'a str> {
        match self.get(key)? {
            Value::Str(s) => Ok(s),
            v => Err(self.fail(key, "a str", v)),
        }
    }

    fn floats(&self, key: &str) -> Result<Vec<f64>> {
        let v = self.get(key)?;
        v.as_seq()
            .and_then(|items| {
                items
                    .iter()
                    .map(Value::as_float)
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| self.fail(key, "a list of numbers", v))
    }
}

fn floats(v: &[f64]) -> Value {
    Value::List(v.iter().map(|&x| Value::Float(x)).collect())
}

/// `0` as PyTorch's integer default writes it, any other number as a float.
fn int_zero_or_float(v: f64) -> Value {
    if v == 0.0 {
        Value::Int(0)
    } else {
        Value::Float(v)
    }
}

fn int(v: u64) -> Value {
    Value::Int(v as i64)
}

impl SchedulerBase {
    /// `LRScheduler`'s fields, in PyTorch's order.
    pub(super) fn entries(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("base_lrs", floats(&self.base_lrs)),
            ("last_epoch", Value::Int(self.last_epoch)),
            ("_step_count", int(self.step_count)),
            // True only while the constructor's initial step runs.
            ("_is_initial", Value::Bool(false)),
            ("_get_lr_called_within_step", Value::Bool(false)),
            ("_last_lr", floats(&self.last_lr)),
        ]
    }

    pub(super) fn read(r: &Reader) -> Result<SchedulerBase> {
        Ok(SchedulerBase {
            base_lrs: r.floats("base_lrs")?,
            last_epoch: r.int("last_epoch")?,
            step_count: r.count("_step_count")?,
            last_lr: r.floats("_last_lr")?,
        })
    }
}

/// Own fields, then the base's.
fn with_base(own: Vec<(&'static str, Value)>, base: &SchedulerBase) -> Value {
    Value::dict(own.into_iter().chain(base.entries()))
}

impl StepLR {
    pub(super) fn state_value(&self) -> Value {
        with_base(
            vec![
                ("step_size", int(self.step_size)),
                ("gamma", Value::Float(self.gamma)),
            ],
            &self.base,
        )
    }

    pub(super) fn load_state_value(&mut self, v: &Value) -> Result<()> {
        let r = Reader::new(v, "StepLR")?;
        let (step_size, gamma, base) = (
            r.count("step_size")?,
            r.float("gamma")?,
            SchedulerBase::read(&r)?,
        );
        if step_size == 0 {
            return Err(Error::Format("StepLR state dict: 'step_size' is 0".into()));
        }
        (self.step_size, self.gamma, self.base) = (step_size, gamma, base);
        Ok(())
    }
}

impl MultiStepLR {
    /// `milestones` is a `collections.Counter` in PyTorch: milestone to multiplicity, in order
    /// of first appearance; written as the dict it holds.
    pub(super) fn state_value(&self) -> Value {
        let mut counts: Vec<(u64, i64)> = Vec::new();
        for &m in &self.milestones {
            match counts.iter_mut().find(|(k, _)| *k == m) {
                Some((_, c)) => *c += 1,
                None => counts.push((m, 1)),
            }
        }
        let milestones = counts
            .into_iter()
            .map(|(m, c)| (int(m), Value::Int(c)))
            .collect();
        with_base(
            vec![
                ("milestones", Value::Dict(milestones)),
                ("gamma", Value::Float(self.gamma)),
            ],
            &self.base,
        )
    }

    pub(super) fn load_state_value(&mut self, v: &Value) -> Result<()> {
        let r = Reader::new(v, "MultiStepLR")?;
        let m = r.get("milestones")?;
        let bad = || r.fail("milestones", "a dict of epochs to counts", m);
        let mut milestones = Vec::new();
        for (k, c) in m.as_dict().ok_or_else(bad)? {
            let (Value::Int(k), Value::Int(c)) = (k, c) else {
                return Err(bad());
            };
            // A count is at most the number of milestones PyTorch was given; more would only
            // be a corrupt file asking for memory.
            if *k < 0 || !(0..=1 << 16).contains(c) {
                return Err(bad());
            }
            milestones.extend(std::iter::repeat_n(*k as u64, *c as usize));
        }
        let (gamma, base) = (r.float("gamma")?, SchedulerBase::read(&r)?);
        (self.milestones, self.gamma, self.base) = (milestones, gamma, base);
        Ok(())
    }
}

impl ExponentialLR {
    pub(super) fn state_value(&self) -> Value {
        with_base(vec![("gamma", Value::Float(self.gamma))], &self.base)
    }

    pub(super) fn load_state_value(&mut self, v: &Value) -> Result<()> {
        let r = Reader::new(v, "ExponentialLR")?;
        let (gamma, base) = (r.float("gamma")?, SchedulerBase::read(&r)?);
        (self.gamma, self.base) = (gamma, base);
        Ok(())
    }
}

impl CosineAnnealingLR {
    pub(super) fn state_value(&self) -> Value {
        let t_max = if self.t_max.fract() == 0.0 && self.t_max.abs() < 9e15 {
            Value::Int(self.t_max as i64)
        } else {
            Value::Float(self.t_max)
        };
        with_base(
            vec![("T_max", t_max), ("eta_min", Value::Float(self.eta_min))],
            &self.base,
        )
    }

    pub(super) fn load_state_value(&mut self, v: &Value) -> Result<()> {
        let r = Reader::new(v, "CosineAnnealingLR")?;
        let (t_max, eta_min, base) = (
            r.float("T_max")?,
            r.float("eta_min")?,
            SchedulerBase::read(&r)?,
        );
        (self.t_max, self.eta_min, self.base) = (t_max, eta_min, base);
        Ok(())
    }
}

impl LinearLR {
    pub(super) fn state_value(&self) -> Value {
        with_base(
            vec![
                ("start_factor", Value::Float(self.start_factor)),
                ("end_factor", Value::Float(self.end_factor)),
                ("total_iters", int(self.total_iters)),
            ],
            &self.base,
        )
    }

    pub(super) fn load_state_value(&mut self, v: &Value) -> Result<()> {
        let r = Reader::new(v, "LinearLR")?;
        let (s, e, t, base) = (
            r.float("start_factor")?,
            r.float("end_factor")?,
            r.count("total_iters")?,
            SchedulerBase::read(&r)?,
        );
        (
            self.start_factor,
            self.end_factor,
            self.total_iters,
            self.base,
        ) = (s, e, t, base);
        Ok(())
    }
}

impl LambdaLR {
    /// PyTorch writes `lr_lambdas` last, one entry per group: None for a plain function (only
    /// a callable object's `__dict__` is saved). A closure has no such state.
    pub(super) fn state_value(&self) -> Value {
        let mut entries = self.base.entries();
        let n = self.base.base_lrs.len();
        entries.push(("lr_lambdas", Value::List(vec![Value::None; n])));
        Value::dict(entries)
    }

    pub(super) fn load_state_value(&mut self, v: &Value) -> Result<()> {
        let r = Reader::new(v, "LambdaLR")?;
        let lambdas = r.get("lr_lambdas")?;
        let items = lambdas
            .as_seq()
            .ok_or_else(|| r.fail("lr_lambdas", "a list", lambdas))?;
        if let Some(i) = items.iter().position(|x| !matches!(x, Value::None)) {
            return Err(Error::Format(format!(
                "LambdaLR state dict: lr_lambdas[{i}] holds the state of a callable object, \
                 which a Rust closure cannot take"
            )));
        }
        self.base = SchedulerBase::read(&r)?;
        Ok(())
    }
}

const LR_NAMES: [&str; 3] = ["initial_lr", "max_lr", "min_lr"];
const MOMENTUM_NAMES: [&str; 2] = ["max_momentum", "base_momentum"];

impl OneCycleLR {
    pub(super) fn state_value(&self) -> Value {
        let last = self.phases.len() - 1;
        let phases = self
            .phases
            .iter()
            .enumerate()
            .map(|(i, &(end, sl, el, sm, em))| {
                // PyTorch's last phase ends at the int `total_steps - 1`, the others at floats.
                let end = if i == last {
                    Value::Int(end as i64)
                } else {
                    Value::Float(end)
                };
                Value::dict([
                    ("end_step", end),
                    ("start_lr", Value::from(LR_NAMES[sl])),
                    ("end_lr", Value::from(LR_NAMES[el])),
                    ("start_momentum", Value::from(MOMENTUM_NAMES[sm])),
                    ("end_momentum", Value::from(MOMENTUM_NAMES[em])),
                ])
            })
            .collect();
        let anneal = match self.opts.anneal_strategy {
            AnnealStrategy::Cos => "cos",
            AnnealStrategy::Linear => "linear",
        };
        let mut own = vec![
            ("total_steps", int(self.total_steps)),
            ("_schedule_phases", Value::List(phases)),
            ("_anneal_func_type", Value::from(anneal)),
            ("cycle_momentum", Value::Bool(self.opts.cycle_momentum)),
        ];
        if self.opts.cycle_momentum {
            own.push(("use_beta1", Value::Bool(self.use_beta1)));
        }
        with_base(own, &self.base)
    }

    pub(super) fn load_state_value(&mut self, v: &Value) -> Result<()> {
        let r = Reader::new(v, "OneCycleLR")?;
        let total_steps = r.count("total_steps")?;
        let pv = r.get("_schedule_phases")?;
        let bad = || r.fail("_schedule_phases", "a list of phases", pv);
        let items = pv.as_seq().filter(|p| !p.is_empty()).ok_or_else(bad)?;
        let mut phases = Vec::new();
        for p in items {
            let pr = Reader::new(p, "OneCycleLR phase")?;
            let index = |key: &str, names: &[&str]| -> Result<usize> {
                let name = pr.str(key)?;
                names.iter().position(|n| *n == name).ok_or_else(|| {
                    Error::Format(format!(
                        "OneCycleLR state dict: phase {key} '{name}' is none of {names:?}"
                    ))
                })
            };
            phases.push((
                pr.float("end_step")?,
                index("start_lr", &LR_NAMES)?,
                index("end_lr", &LR_NAMES)?,
                index("start_momentum", &MOMENTUM_NAMES)?,
                index("end_momentum", &MOMENTUM_NAMES)?,
            ));
        }
        let anneal = match r.str("_anneal_func_type")? {
            "cos" => AnnealStrategy::Cos,
            "linear" => AnnealStrategy::Linear,
            other => {
                return Err(Error::Format(format!(
                    "OneCycleLR state dict: unknown _anneal_func_type '{other}'"
                )));
            }
        };
        let cycle_momentum = r.bool("cycle_momentum")?;
        let use_beta1 = match cycle_momentum {
            true => r.bool("use_beta1")?,
            false => self.use_beta1,
        };
        let base = SchedulerBase::read(&r)?;
        self.total_steps = total_steps;
        self.phases = phases;
        self.opts.anneal_strategy = anneal;
        self.opts.cycle_momentum = cycle_momentum;
        self.use_beta1 = use_beta1;
        self.base = base;
        Ok(())
    }
}

impl ReduceLROnPlateau {
    /// The scheduler's state in PyTorch's layout (`scheduler.state_dict()`).
    ///
    /// ```
    /// use flambeau::optim::lr_scheduler::ReduceLROnPlateau;
    /// use flambeau::optim::SGD;
    /// use flambeau::serialization::Value;
    /// use flambeau::Tensor;
    /// let w = Tensor::zeros([1]).requires_grad_(true);
    /// let mut opt = SGD::new([&w], 1.0);
    /// let mut s = ReduceLROnPlateau::new(&opt).patience(0);
    /// s.step(&mut opt, 2.0);
    /// s.step(&mut opt, 3.0);
    /// let sd = s.state_dict();
    /// assert_eq!(sd.get("best").and_then(Value::as_float), Some(2.0));
    /// let mut fresh = ReduceLROnPlateau::new(&opt);
    /// fresh.load_state_dict(&sd).unwrap();
    /// assert_eq!(fresh.get_last_lr(), s.get_last_lr());
    /// ```
    pub fn state_dict(&self) -> Value {
        let (mode, worse) = match self.mode {
            PlateauMode::Min => ("min", f64::INFINITY),
            PlateauMode::Max => ("max", f64::NEG_INFINITY),
        };
        Value::dict([
            ("factor", Value::Float(self.factor)),
            (
                "default_min_lr",
                self.default_min_lr.map_or(Value::None, int_zero_or_float),
            ),
            (
                "min_lrs",
                Value::List(self.min_lrs.iter().map(|&m| int_zero_or_float(m)).collect()),
            ),
            ("patience", int(self.patience)),
            ("cooldown", int(self.cooldown)),
            ("eps", Value::Float(self.eps)),
            ("last_epoch", Value::Int(self.last_epoch)),
            ("_last_lr", floats(&self.last_lr)),
            ("mode_worse", Value::Float(worse)),
            ("mode", Value::from(mode)),
            ("threshold", Value::Float(self.threshold)),
            (
                "threshold_mode",
                Value::from(if self.relative { "rel" } else { "abs" }),
            ),
            ("best", Value::Float(self.best)),
            ("cooldown_counter", int(self.cooldown_counter)),
            ("num_bad_epochs", int(self.num_bad_epochs)),
        ])
    }

    /// Restores what [`ReduceLROnPlateau::state_dict`] (or PyTorch's) saved; a malformed state
    /// is refused with [`Error::Format`] and leaves the scheduler unchanged.
    pub fn load_state_dict(&mut self, v: &Value) -> Result<()> {
        let r = Reader::new(v, "ReduceLROnPlateau")?;
        let mode = match r.str("mode")? {
            "min" => PlateauMode::Min,
            "max" => PlateauMode::Max,
            other => return Err(Error::Format(format!("mode {other} is unknown!"))),
        };
        let relative = match r.str("threshold_mode")? {
            "rel" => true,
            "abs" => false,
            other => return Err(Error::Format(format!("threshold mode {other} is unknown!"))),
        };
        let default_min_lr = match r.get("default_min_lr")? {
            Value::None => None,
            _ => Some(r.float("default_min_lr")?),
        };
        let loaded = ReduceLROnPlateau {
            mode,
            factor: r.float("factor")?,
            patience: r.count("patience")?,
            threshold: r.float("threshold")?,
            relative,
            cooldown: r.count("cooldown")?,
            default_min_lr,
            min_lrs: r.floats("min_lrs")?,
            eps: r.float("eps")?,
            best: r.float("best")?,
            num_bad_epochs: r.count("num_bad_epochs")?,
            cooldown_counter: r.count("cooldown_counter")?,
            last_epoch: r.int("last_epoch")?,
            last_lr: r.floats("_last_lr")?,
        };
        *self = loaded;
        Ok(())
    }
}
