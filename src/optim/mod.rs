//! `torch.optim`: optimizers with PyTorch's update rules (the single-tensor CPU implementations,
//! operation for operation), parameter groups, state dicts, and learning-rate schedulers.
//!
//! ```
//! use flambeau::nn::{Forward, Linear, MSELoss, Module};
//! use flambeau::optim::{Optimizer, SGD};
//! use flambeau::Tensor;
//!
//! let model = Linear::new(1, 1);
//! let mut opt = SGD::new(model.parameters(), 0.01);
//! let (x, y) = (Tensor::ones([4, 1]), Tensor::full([4, 1], 2.0));
//! let before = MSELoss::new().forward(&model.forward(&x), &y).item::<f32>();
//! for _ in 0..50 {
//!     let loss = MSELoss::new().forward(&model.forward(&x), &y);
//!     opt.zero_grad();
//!     loss.backward();
//!     opt.step();
//! }
//! assert!(MSELoss::new().forward(&model.forward(&x), &y).item::<f32>() < before);
//! ```
//!
//! ## Checkpoints
//!
//! Optimizer and scheduler state dicts are [`Value`](crate::serialization::Value)s in exactly
//! PyTorch's layout, so a training checkpoint is written and read as in PyTorch (and loads there
//! with `opt.load_state_dict(torch.load(path, weights_only=True)["optimizer"])`). To resume,
//! build the model, the optimizer and the scheduler, then load their states in that order:
//!
//! ```
//! use flambeau::nn::{Forward, Linear, MSELoss, Module};
//! use flambeau::optim::lr_scheduler::{LRScheduler, StepLR};
//! use flambeau::optim::{Adam, Optimizer, OptimizerState};
//! use flambeau::serialization::{self, Value};
//! use flambeau::Tensor;
//!
//! let (x, y) = (Tensor::ones([4, 1]), Tensor::full([4, 1], 2.0));
//! let train = |model: &Linear, opt: &mut Adam, sched: &mut StepLR| {
//!     let loss = MSELoss::new().forward(&model.forward(&x), &y);
//!     opt.zero_grad();
//!     loss.backward();
//!     opt.step();
//!     sched.step(opt);
//! };
//! let model = Linear::new(1, 1);
//! let mut opt = Adam::new(model.parameters(), 0.1);
//! let mut sched = StepLR::new(&mut opt, 2, 0.5);
//! for _ in 0..3 {
//!     train(&model, &mut opt, &mut sched);
//! }
//! let path = std::env::temp_dir().join(format!("ckpt-{}.pt", std::process::id()));
//! serialization::save(
//!     Value::dict([
//!         ("model", Value::from(&model.state_dict())),
//!         ("optimizer", opt.state_dict().to_value()),
//!         ("scheduler", sched.state_dict()),
//!         ("epoch", Value::Int(3)),
//!     ]),
//!     &path,
//! )?;
//!
//! // later, in another process:
//! let ckpt = serialization::load(&path)?;
//! let resumed = Linear::new(1, 1);
//! resumed.load_state_dict(&ckpt.get("model").unwrap().to_state_dict()?, true)?;
//! let mut opt2 = Adam::new(resumed.parameters(), 0.1);
//! let mut sched2 = StepLR::new(&mut opt2, 2, 0.5);
//! opt2.load_state_dict(&OptimizerState::from_value(ckpt.get("optimizer").unwrap())?)?;
//! sched2.load_state_dict(ckpt.get("scheduler").unwrap())?;
//! assert_eq!(ckpt.get("epoch").and_then(Value::as_int), Some(3));
//! # std::fs::remove_file(&path)?;
//!
//! // both continue alike, bit for bit
//! train(&model, &mut opt, &mut sched);
//! train(&resumed, &mut opt2, &mut sched2);
//! assert_eq!(model.weight.to_vec::<f32>(), resumed.weight.to_vec::<f32>());
//! assert_eq!(opt.lr(0), opt2.lr(0));
//! # Ok::<(), flambeau::Error>(())
//! ```

mod adagrad;
mod adam;
mod hyper;
pub mod lr_scheduler;
mod rmsprop;
mod sgd;
mod state_value;

pub use adagrad::{Adagrad, AdagradOptions};
pub use adam::{Adam, AdamOptions, AdamW};
pub use hyper::{Hyper, Hypers};
pub use rmsprop::{RMSprop, RMSpropOptions};
pub use sgd::{SGD, SgdOptions};

use crate::nn::Parameter;
use crate::pyfmt;
use crate::tensor::Tensor;
use crate::{Error, Result};
use std::collections::BTreeMap;

/// One entry of a parameter's optimizer state: a tensor (`momentum_buffer`, `exp_avg`) or a
/// number (`step`).
#[derive(Clone, Debug)]
pub enum StateValue {
    /// A tensor.
    Tensor(Tensor),
    /// A number.
    Float(f64),
}

/// An optimizer's `state_dict()`: per-parameter state keyed by the parameter's position across
/// all groups, and each group's hyperparameters with the positions of its parameters, as in
/// PyTorch.
#[derive(Clone, Debug, Default)]
pub struct OptimizerState {
    /// `state[i]`: the named state of parameter `i`.
    pub state: BTreeMap<usize, BTreeMap<String, StateValue>>,
    /// The groups: every entry of PyTorch's `param_groups[i]` in its order (hyperparameters,
    /// implementation flags, what schedulers record such as `initial_lr`) and `params`
    /// (positions).
    pub param_groups: Vec<(Hypers, Vec<usize>)>,
}

/// What every optimizer offers (`torch.optim.Optimizer`).
pub trait Optimizer {
    /// Applies one update to every parameter that has a gradient (`optimizer.step()`).
    fn step(&mut self);

    /// Clears the gradients of all parameters, setting them to None as PyTorch does by default
    /// (`optimizer.zero_grad()`).
    fn zero_grad(&mut self) {
        for g in 0..self.num_groups() {
            for p in self.group_params(g) {
                p.set_grad(None);
            }
        }
    }

    /// The number of parameter groups.
    fn num_groups(&self) -> usize;

    /// The parameters of group `g`.
    fn group_params(&self, g: usize) -> &[Tensor];

    /// The learning rate of group `g` (`param_groups[g]["lr"]`).
    fn lr(&self, g: usize) -> f64;

    /// Sets the learning rate of group `g` (what schedulers do).
    fn set_lr(&mut self, g: usize, lr: f64);

    /// The momentum-like hyperparameter that `OneCycleLR` cycles: SGD's and RMSprop's `momentum`,
    /// Adam's `beta1`; None when there is none.
    fn momentum(&self, _g: usize) -> Option<f64> {
        None
    }

    /// Sets the momentum-like hyperparameter of group `g`.
    fn set_momentum(&mut self, _g: usize, _m: f64) {}

    /// An entry of group `g` that the update does not read: what schedulers record there
    /// (`initial_lr`, OneCycleLR's `max_lr`, ...) and PyTorch's implementation flags (`foreach`,
    /// ...). None when absent (and for optimizers that keep no such entries).
    fn group_entry(&self, _g: usize, _key: &str) -> Option<Hyper> {
        None
    }

    /// Sets such an entry of group `g`, kept in the state dict in PyTorch's place. Panics if
    /// `key` is a hyperparameter the update reads (those have their own setters).
    fn set_group_entry(&mut self, _g: usize, _key: &str, _value: Hyper) {}

    /// The optimizer's state and hyperparameters (`optimizer.state_dict()`);
    /// [`OptimizerState::to_value`] gives PyTorch's layout for a checkpoint.
    fn state_dict(&self) -> OptimizerState;

    /// Restores state and hyperparameters saved by [`Optimizer::state_dict`] or by PyTorch
    /// (through [`OptimizerState::from_value`]), casting state tensors to the parameters' dtype
    /// as PyTorch does. A state dict that does not fit (group count or sizes, shapes, state the
    /// group's update reads but that is missing, `differentiable=True`) is refused with an
    /// error and leaves the optimizer unchanged. Group entries the update does not read
    /// (`foreach`, `fused`, `capturable`, `initial_lr`, ...) are kept as they came: Flambeau
    /// always runs the single-tensor update, whichever implementation they name.
    fn load_state_dict(&mut self, state: &OptimizerState) -> Result<()>;
}

/// Parameters as an optimizer takes them: `Vec<Parameter>` from `module.parameters()`, tensors, or
/// references to either.
pub fn params_of<P: Into<Tensor>>(params: impl IntoIterator<Item = P>) -> Vec<Tensor> {
    params.into_iter().map(Into::into).collect()
}

impl From<Parameter> for Tensor {
    fn from(p: Parameter) -> Tensor {
        p.tensor().clone()
    }
}

impl From<&Parameter> for Tensor {
    fn from(p: &Parameter) -> Tensor {
        p.tensor().clone()
    }
}

impl From<&Tensor> for Tensor {
    fn from(t: &Tensor) -> Tensor {
        t.clone()
    }
}

/// Rejects an empty parameter list as PyTorch does.
pub(crate) fn check_nonempty(params: &[Tensor]) {
    if params.is_empty() {
        panic!("optimizer got an empty parameter list");
    }
}

/// Python's `f"{x}"` for messages.
pub(crate) fn fmt(x: f64) -> String {
    pyfmt::float(x)
}

/// Panics with PyTorch's message unless `0 <= value`.
pub(crate) fn check_nonneg(value: f64, what: &str) {
    if value < 0.0 || value.is_nan() {
        panic!("Invalid {what}: {}", fmt(value));
    }
}

/// Per-group hyperparameters of one optimizer, convertible to and from the state-dict form.
pub(crate) trait GroupOptions: Clone {
    /// The keys the update reads (the rest of a group is kept as it came).
    const KEYS: &'static [&'static str];
    /// Every key PyTorch writes for this optimizer, in its order, the implementation flags
    /// (`foreach`, `fused`, ...) at PyTorch's defaults.
    fn to_map(&self) -> Hypers;
    fn from_map(map: &Hypers, defaults: &Self) -> Result<Self>;
    /// The state entries the update reads for a parameter that has state (PyTorch's step raises
    /// `KeyError` without them; refusing them at load time keeps the numbers PyTorch's).
    fn required_state(&self) -> Vec<&'static str>;
}

/// Per-parameter state of one optimizer, convertible to and from the state-dict form.
pub(crate) trait ParamState: Sized {
    /// Whether every parameter has state from construction on (Adagrad's `sum`).
    const EAGER: bool = false;
    fn to_map(&self) -> BTreeMap<String, StateValue>;
    fn from_map(map: &BTreeMap<String, StateValue>) -> Result<Self>;
}

fn wrong_type(key: &str, want: &str, got: &Hyper) -> Error {
    Error::InvalidArgument(format!(
        "optimizer state: {key} should be {want}, got {got:?}"
    ))
}

pub(crate) fn get_f64(map: &Hypers, key: &str, default: f64) -> Result<f64> {
    match map.get(key) {
        None => Ok(default),
        Some(h) => h.as_f64().ok_or_else(|| wrong_type(key, "a number", h)),
    }
}

pub(crate) fn get_bool(map: &Hypers, key: &str, default: bool) -> Result<bool> {
    match map.get(key) {
        None => Ok(default),
        Some(Hyper::Bool(v)) => Ok(*v),
        Some(other) => Err(wrong_type(key, "a bool", other)),
    }
}

/// Refuses implementation flags Flambeau cannot honour. `foreach`, `fused` and `capturable` pick
/// among PyTorch's implementations of the same update (multi-tensor, fused kernels, CUDA-graph
/// capture) and are kept as they came; Flambeau runs the single-tensor update whatever they say.
/// `differentiable=True` asks for the step itself to be recorded by autograd, which Flambeau's
/// steps never are: gradients through the update would silently be lost, so it is refused.
fn check_flags(map: &Hypers, group: usize) -> Result<()> {
    for (key, value) in map.iter() {
        let ok = match key {
            "foreach" | "fused" => matches!(value, Hyper::None | Hyper::Bool(_)),
            "capturable" => matches!(value, Hyper::Bool(_)),
            "differentiable" => match value {
                Hyper::Bool(true) => {
                    return Err(Error::InvalidArgument(format!(
                        "optimizer state: param_groups[{group}] has differentiable=True, but \
                         Flambeau's optimizer steps are not recorded by autograd"
                    )));
                }
                v => matches!(v, Hyper::Bool(false)),
            },
            _ => true,
        };
        if !ok {
            return Err(wrong_type(key, "None or a bool", value));
        }
    }
    Ok(())
}

pub(crate) fn get_tensor(map: &BTreeMap<String, StateValue>, key: &str) -> Result<Tensor> {
    match map.get(key) {
        Some(StateValue::Tensor(t)) => Ok(t.clone()),
        _ => Err(Error::InvalidArgument(format!(
            "optimizer state: missing tensor {key}"
        ))),
    }
}

pub(crate) fn get_step(map: &BTreeMap<String, StateValue>) -> Result<f64> {
    match map.get("step") {
        Some(StateValue::Float(v)) => Ok(*v),
        Some(StateValue::Tensor(t)) if t.numel() == 1 => Ok(t.item::<f64>()),
        _ => Err(Error::InvalidArgument(
            "optimizer state: missing step".into(),
        )),
    }
}

/// Groups, their options, and lazily created per-parameter state: the part all optimizers share.
pub(crate) struct Groups<O, S> {
    pub groups: Vec<(Vec<Tensor>, O)>,
    /// Per group, the entries the update does not read, in their order; for a loaded group, the
    /// whole group as loaded (its hyperparameters are stale: `groups` holds them).
    pub extra: Vec<Hypers>,
    pub state: Vec<Vec<Option<S>>>,
    pub defaults: O,
}

impl<O: GroupOptions, S: ParamState> Groups<O, S> {
    pub fn new(params: Vec<Tensor>, defaults: O) -> Self {
        check_nonempty(&params);
        let n = params.len();
        Groups {
            groups: vec![(params, defaults.clone())],
            extra: vec![Hypers::new()],
            state: vec![(0..n).map(|_| None).collect()],
            defaults,
        }
    }

    pub fn add(&mut self, params: Vec<Tensor>, options: O) {
        check_nonempty(&params);
        for (existing, _) in &self.groups {
            for p in &params {
                if existing.iter().any(|q| q.is_same(p)) {
                    panic!("some parameters appear in more than one parameter group");
                }
            }
        }
        let n = params.len();
        self.groups.push((params, options));
        self.extra.push(Hypers::new());
        self.state.push((0..n).map(|_| None).collect());
    }

    pub fn group_entry(&self, g: usize, key: &str) -> Option<Hyper> {
        if O::KEYS.contains(&key) {
            return None;
        }
        self.extra[g].get(key).cloned()
    }

    #[track_caller]
    pub fn set_group_entry(&mut self, g: usize, key: &str, value: Hyper) {
        if O::KEYS.contains(&key) {
            panic!("set_group_entry: '{key}' is a hyperparameter of the update");
        }
        self.extra[g].insert(key, value);
    }

    /// Group `g` as PyTorch's dict: a loaded group in its file's order (PyTorch keeps the
    /// order it loaded, e.g. `param_names` first), the hyperparameters updated in place; a group
    /// built here in PyTorch's order for this optimizer, with the entries schedulers recorded
    /// after it.
    fn group_map(&self, g: usize, opts: &O) -> Hypers {
        let extra = &self.extra[g];
        let fresh = opts.to_map();
        if extra.iter().any(|(k, _)| O::KEYS.contains(&k)) {
            let mut map = extra.clone();
            for (k, v) in fresh.iter() {
                if O::KEYS.contains(&k) || !map.contains_key(k) {
                    map.insert(k, v.clone());
                }
            }
            map
        } else {
            let mut map = fresh;
            for (k, v) in extra.iter() {
                map.insert(k, v.clone());
            }
            map
        }
    }

    pub fn state_dict(&self) -> OptimizerState {
        let mut out = OptimizerState::default();
        let mut index = 0;
        for (g, (params, opts)) in self.groups.iter().enumerate() {
            let ids: Vec<usize> = (index..index + params.len()).collect();
            for (k, s) in self.state[g].iter().enumerate() {
                if let Some(s) = s {
                    out.state.insert(index + k, s.to_map());
                }
            }
            index += params.len();
            out.param_groups.push((self.group_map(g, opts), ids));
        }
        out
    }

    pub fn load_state_dict(&mut self, sd: &OptimizerState) -> Result<()> {
        if sd.param_groups.len() != self.groups.len() {
            return Err(Error::InvalidArgument(
                "loaded state dict has a different number of parameter groups".into(),
            ));
        }
        for ((_, ids), (params, _)) in sd.param_groups.iter().zip(&self.groups) {
            if ids.len() != params.len() {
                return Err(Error::InvalidArgument(
                    "loaded state dict contains a parameter group that doesn't match the size of optimizer's group".into(),
                ));
            }
        }
        let mut new_opts = Vec::new();
        let mut new_extra = Vec::new();
        let mut new_state = Vec::new();
        for (g, ((map, ids), (params, _))) in sd.param_groups.iter().zip(&self.groups).enumerate() {
            check_flags(map, g)?;
            let opts = O::from_map(map, &self.defaults)?;
            let required = opts.required_state();
            let mut states = Vec::new();
            for (&id, p) in ids.iter().zip(params) {
                let s = match sd.state.get(&id).filter(|m| !m.is_empty()) {
                    Some(m) => {
                        for key in &required {
                            if !m.contains_key(*key) {
                                return Err(Error::InvalidArgument(format!(
                                    "optimizer state for parameter {id} has no '{key}', which \
                                     this group's update reads"
                                )));
                            }
                        }
                        Some(S::from_map(&fit_to_param(m, p, id)?)?)
                    }
                    None if S::EAGER => {
                        return Err(Error::InvalidArgument(format!(
                            "optimizer state: parameter {id} has no state"
                        )));
                    }
                    None => None,
                };
                states.push(s);
            }
            new_opts.push(opts);
            // Kept whole, for its order; the hyperparameters in it are read from `opts`.
            new_extra.push(map.clone());
            new_state.push(states);
        }
        for (g, o) in new_opts.into_iter().enumerate() {
            self.groups[g].1 = o;
        }
        self.extra = new_extra;
        self.state = new_state;
        Ok(())
    }
}

/// A parameter's loaded state checked against it and cast as PyTorch's `load_state_dict` casts
/// it: tensors take a floating parameter's dtype, except `step`, which stays as it is.
fn fit_to_param(
    m: &BTreeMap<String, StateValue>,
    p: &Tensor,
    id: usize,
) -> Result<BTreeMap<String, StateValue>> {
    let mut out = BTreeMap::new();
    for (key, v) in m {
        let v = match v {
            StateValue::Tensor(t) if key == "step" => {
                if t.numel() != 1 {
                    return Err(Error::InvalidArgument(format!(
                        "optimizer state for parameter {id}: step has shape {:?}, expected one number",
                        t.dims()
                    )));
                }
                StateValue::Tensor(t.clone())
            }
            StateValue::Tensor(t) => {
                if t.dims() != p.dims() {
                    return Err(Error::InvalidArgument(format!(
                        "optimizer state for parameter {id} has shape {:?}, the parameter has shape {:?}",
                        t.dims(),
                        p.dims()
                    )));
                }
                if p.is_floating_point() && t.dtype() != p.dtype() {
                    StateValue::Tensor(t.cast_raw(p.dtype()))
                } else {
                    StateValue::Tensor(t.clone())
                }
            }
            other => other.clone(),
        };
        out.insert(key.clone(), v);
    }
    Ok(out)
}

/// The `Optimizer` methods every optimizer answers from its `inner: Groups<..>` field the same way.
macro_rules! delegate_to_groups {
    () => {
        fn num_groups(&self) -> usize {
            self.inner.groups.len()
        }
        fn group_params(&self, g: usize) -> &[Tensor] {
            &self.inner.groups[g].0
        }
        fn lr(&self, g: usize) -> f64 {
            self.inner.groups[g].1.lr
        }
        fn set_lr(&mut self, g: usize, lr: f64) {
            self.inner.groups[g].1.lr = lr;
        }
        fn state_dict(&self) -> OptimizerState {
            self.inner.state_dict()
        }
        fn group_entry(&self, g: usize, key: &str) -> Option<Hyper> {
            self.inner.group_entry(g, key)
        }
        fn set_group_entry(&mut self, g: usize, key: &str, value: Hyper) {
            self.inner.set_group_entry(g, key, value)
        }
    };
    (with_load) => {
        $crate::optim::delegate_to_groups!();
        fn load_state_dict(&mut self, state: &OptimizerState) -> Result<()> {
            self.inner.load_state_dict(state)
        }
    };
}
pub(crate) use delegate_to_groups;

/// A detached zero tensor shaped like `p` (fresh optimizer state).
pub(crate) fn zeros_like(p: &Tensor) -> Tensor {
    Tensor::zeros_like(p)
}
