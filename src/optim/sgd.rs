//! `torch.optim.SGD`.

use super::Optimizer;
use super::{
    GroupOptions, Groups, Hyper, Hypers, OptimizerState, ParamState, StateValue, check_nonneg,
    get_bool, get_f64,
};
use crate::Result;
use crate::autograd::no_grad;
use crate::tensor::Tensor;
use std::collections::BTreeMap;

/// Hyperparameters of [`SGD`], per group (PyTorch's defaults: momentum, dampening and weight
/// decay 0, no Nesterov, minimising).
#[derive(Clone, Debug, PartialEq)]
pub struct SgdOptions {
    /// Learning rate.
    pub lr: f64,
    /// Momentum factor.
    pub momentum: f64,
    /// Dampening of the momentum.
    pub dampening: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// Maximise instead of minimise.
    pub maximize: bool,
}

impl SgdOptions {
    /// PyTorch's defaults with a learning rate.
    pub fn new(lr: f64) -> SgdOptions {
        SgdOptions {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }

    fn validate(&self) {
        check_nonneg(self.lr, "learning rate");
        check_nonneg(self.momentum, "momentum value");
        check_nonneg(self.weight_decay, "weight_decay value");
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            panic!("Nesterov momentum requires a momentum and zero dampening");
        }
    }
}

impl Default for SgdOptions {
    fn default() -> Self {
        SgdOptions::new(1e-3)
    }
}

impl GroupOptions for SgdOptions {
    const KEYS: &'static [&'static str] = &[
        "lr",
        "momentum",
        "dampening",
        "weight_decay",
        "nesterov",
        "maximize",
    ];
    fn to_map(&self) -> Hypers {
        Hypers::from_iter([
            ("lr", Hyper::Float(self.lr)),
            ("momentum", Hyper::int_zero_or_float(self.momentum)),
            ("dampening", Hyper::int_zero_or_float(self.dampening)),
            ("weight_decay", Hyper::int_zero_or_float(self.weight_decay)),
            ("nesterov", Hyper::Bool(self.nesterov)),
            ("maximize", Hyper::Bool(self.maximize)),
            ("foreach", Hyper::None),
            ("differentiable", Hyper::Bool(false)),
            ("fused", Hyper::None),
        ])
    }
    fn required_state(&self) -> Vec<&'static str> {
        if self.momentum != 0.0 {
            vec!["momentum_buffer"]
        } else {
            vec![]
        }
    }
    fn from_map(m: &Hypers, d: &Self) -> Result<Self> {
        Ok(SgdOptions {
            lr: get_f64(m, "lr", d.lr)?,
            momentum: get_f64(m, "momentum", d.momentum)?,
            dampening: get_f64(m, "dampening", d.dampening)?,
            weight_decay: get_f64(m, "weight_decay", d.weight_decay)?,
            nesterov: get_bool(m, "nesterov", d.nesterov)?,
            maximize: get_bool(m, "maximize", d.maximize)?,
        })
    }
}

/// SGD's per-parameter state: the momentum buffer.
pub(crate) struct SgdState {
    momentum_buffer: Tensor,
}

impl ParamState for SgdState {
    fn to_map(&self) -> BTreeMap<String, StateValue> {
        BTreeMap::from([(
            "momentum_buffer".into(),
            StateValue::Tensor(self.momentum_buffer.clone()),
        )])
    }
    fn from_map(m: &BTreeMap<String, StateValue>) -> Result<Self> {
        Ok(SgdState {
            momentum_buffer: super::get_tensor(m, "momentum_buffer")?.clone_tensor_raw(),
        })
    }
}

/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight
/// decay (`torch.optim.SGD`), updating as PyTorch's `_single_tensor_sgd` does.
///
/// ```
/// use flambeau::optim::{Optimizer, SGD};
/// use flambeau::tensor;
/// let w = tensor!([1.0]).requires_grad_(true);
/// let mut opt = SGD::new([&w], 0.1).momentum(0.9);
/// (&w * &w).sum().backward();
/// opt.step();
/// assert!((w.item::<f32>() - 0.8).abs() < 1e-6);
/// ```
pub struct SGD {
    inner: Groups<SgdOptions, SgdState>,
}

impl SGD {
    /// `SGD(params, lr=lr)` with PyTorch's other defaults.
    pub fn new<P: Into<Tensor>>(params: impl IntoIterator<Item = P>, lr: f64) -> SGD {
        SGD::with_options(params, SgdOptions::new(lr))
    }

    /// `SGD(params, **options)`; panics with PyTorch's message on invalid values.
    pub fn with_options<P: Into<Tensor>>(
        params: impl IntoIterator<Item = P>,
        options: SgdOptions,
    ) -> SGD {
        options.validate();
        SGD {
            inner: Groups::new(super::params_of(params), options),
        }
    }

    fn update_defaults(mut self, f: impl Fn(&mut SgdOptions)) -> SGD {
        f(&mut self.inner.defaults);
        for (_, o) in &mut self.inner.groups {
            f(o);
        }
        self.inner.defaults.validate();
        self
    }

    /// Sets the momentum factor.
    pub fn momentum(self, momentum: f64) -> SGD {
        self.update_defaults(|o| o.momentum = momentum)
    }

    /// Sets the dampening.
    pub fn dampening(self, dampening: f64) -> SGD {
        self.update_defaults(|o| o.dampening = dampening)
    }

    /// Sets the weight decay.
    pub fn weight_decay(self, weight_decay: f64) -> SGD {
        self.update_defaults(|o| o.weight_decay = weight_decay)
    }

    /// Enables Nesterov momentum.
    pub fn nesterov(self, nesterov: bool) -> SGD {
        self.update_defaults(|o| o.nesterov = nesterov)
    }

    /// Maximises the objective instead.
    pub fn maximize(self, maximize: bool) -> SGD {
        self.update_defaults(|o| o.maximize = maximize)
    }

    /// The options new groups start from.
    pub fn defaults(&self) -> &SgdOptions {
        &self.inner.defaults
    }

    /// The options of group `g`.
    pub fn group_options(&self, g: usize) -> &SgdOptions {
        &self.inner.groups[g].1
    }

    /// Adds a parameter group with its own options (`add_param_group`).
    pub fn add_param_group<P: Into<Tensor>>(
        &mut self,
        params: impl IntoIterator<Item = P>,
        options: SgdOptions,
    ) {
        options.validate();
        self.inner.add(super::params_of(params), options);
    }
}

impl Optimizer for SGD {
    fn step(&mut self) {
        no_grad(|| {
            for (g, (params, o)) in self.inner.groups.iter().enumerate() {
                for (k, p) in params.iter().enumerate() {
                    let Some(grad) = p.grad() else { continue };
                    let mut d = if o.maximize { grad.neg() } else { grad };
                    if o.weight_decay != 0.0 {
                        d = d.clone_tensor_raw().add_alpha_(p, o.weight_decay);
                    }
                    if o.momentum != 0.0 {
                        let slot = &mut self.inner.state[g][k];
                        let buf = match slot {
                            None => {
                                let b = d.clone_tensor_raw();
                                *slot = Some(SgdState {
                                    momentum_buffer: b.clone(),
                                });
                                b
                            }
                            Some(s) => {
                                s.momentum_buffer
                                    .mul_(o.momentum)
                                    .add_alpha_(&d, 1.0 - o.dampening);
                                s.momentum_buffer.clone()
                            }
                        };
                        d = if o.nesterov {
                            d.clone_tensor_raw().add_alpha_(&buf, o.momentum)
                        } else {
                            buf
                        };
                    }
                    p.add_alpha_(&d, -o.lr);
                }
            }
        });
    }

    super::delegate_to_groups!(with_load);
    fn momentum(&self, g: usize) -> Option<f64> {
        Some(self.inner.groups[g].1.momentum)
    }
    fn set_momentum(&mut self, g: usize, m: f64) {
        self.inner.groups[g].1.momentum = m;
    }
}
