//! `torch.optim.RMSprop`.

use super::{
    GroupOptions, Groups, Hyper, Hypers, Optimizer, OptimizerState, ParamState, StateValue,
    check_nonneg, get_bool, get_f64, get_step, get_tensor, zeros_like,
};
use crate::Result;
use crate::autograd::no_grad;
use crate::tensor::Tensor;
use std::collections::BTreeMap;

/// Hyperparameters of [`RMSprop`], per group (defaults: lr 1e-2, alpha 0.99, eps 1e-8).
#[derive(Clone, Debug, PartialEq)]
pub struct RMSpropOptions {
    /// Learning rate.
    pub lr: f64,
    /// Smoothing constant of the squared-gradient average.
    pub alpha: f64,
    /// Added to the denominator.
    pub eps: f64,
    /// L2 penalty.
    pub weight_decay: f64,
    /// Momentum factor.
    pub momentum: f64,
    /// Normalise by the estimated variance instead of the second moment.
    pub centered: bool,
    /// Maximise instead of minimise.
    pub maximize: bool,
}

impl Default for RMSpropOptions {
    fn default() -> Self {
        RMSpropOptions {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

impl RMSpropOptions {
    fn validate(&self) {
        check_nonneg(self.lr, "learning rate");
        check_nonneg(self.eps, "epsilon value");
        check_nonneg(self.momentum, "momentum value");
        check_nonneg(self.weight_decay, "weight_decay value");
        check_nonneg(self.alpha, "alpha value");
    }
}

impl GroupOptions for RMSpropOptions {
    const KEYS: &'static [&'static str] = &[
        "lr",
        "momentum",
        "alpha",
        "eps",
        "centered",
        "weight_decay",
        "maximize",
    ];
    fn to_map(&self) -> Hypers {
        Hypers::from_iter([
            ("lr", Hyper::Float(self.lr)),
            ("momentum", Hyper::int_zero_or_float(self.momentum)),
            ("alpha", Hyper::Float(self.alpha)),
            ("eps", Hyper::Float(self.eps)),
            ("centered", Hyper::Bool(self.centered)),
            ("weight_decay", Hyper::int_zero_or_float(self.weight_decay)),
            ("capturable", Hyper::Bool(false)),
            ("foreach", Hyper::None),
            ("maximize", Hyper::Bool(self.maximize)),
            ("differentiable", Hyper::Bool(false)),
        ])
    }
    fn required_state(&self) -> Vec<&'static str> {
        let mut keys = vec!["step", "square_avg"];
        if self.momentum > 0.0 {
            keys.push("momentum_buffer");
        }
        if self.centered {
            keys.push("grad_avg");
        }
        keys
    }
    fn from_map(m: &Hypers, d: &Self) -> Result<Self> {
        Ok(RMSpropOptions {
            lr: get_f64(m, "lr", d.lr)?,
            alpha: get_f64(m, "alpha", d.alpha)?,
            eps: get_f64(m, "eps", d.eps)?,
            weight_decay: get_f64(m, "weight_decay", d.weight_decay)?,
            momentum: get_f64(m, "momentum", d.momentum)?,
            centered: get_bool(m, "centered", d.centered)?,
            maximize: get_bool(m, "maximize", d.maximize)?,
        })
    }
}

pub(crate) struct RMSpropState {
    step: f64,
    square_avg: Tensor,
    momentum_buffer: Option<Tensor>,
    grad_avg: Option<Tensor>,
}

impl ParamState for RMSpropState {
    fn to_map(&self) -> BTreeMap<String, StateValue> {
        let mut m = BTreeMap::from([
            ("step".into(), StateValue::Float(self.step)),
            (
                "square_avg".into(),
                StateValue::Tensor(self.square_avg.clone()),
            ),
        ]);
        if let Some(t) = &self.momentum_buffer {
            m.insert("momentum_buffer".into(), StateValue::Tensor(t.clone()));
        }
        if let Some(t) = &self.grad_avg {
            m.insert("grad_avg".into(), StateValue::Tensor(t.clone()));
        }
        m
    }
    fn from_map(m: &BTreeMap<String, StateValue>) -> Result<Self> {
        let opt = |k: &str| -> Result<Option<Tensor>> {
            match m.get(k) {
                Some(_) => Ok(Some(get_tensor(m, k)?.clone_tensor_raw())),
                None => Ok(None),
            }
        };
        Ok(RMSpropState {
            step: get_step(m)?,
            square_avg: get_tensor(m, "square_avg")?.clone_tensor_raw(),
            momentum_buffer: opt("momentum_buffer")?,
            grad_avg: opt("grad_avg")?,
        })
    }
}

/// RMSprop (`torch.optim.RMSprop`), with momentum and the centered variant, updating as
/// PyTorch's `_single_tensor_rmsprop`.
pub struct RMSprop {
    inner: Groups<RMSpropOptions, RMSpropState>,
}

impl RMSprop {
    /// `RMSprop(params, lr=lr)` with PyTorch's other defaults.
    pub fn new<P: Into<Tensor>>(params: impl IntoIterator<Item = P>, lr: f64) -> RMSprop {
        RMSprop::with_options(
            params,
            RMSpropOptions {
                lr,
                ..RMSpropOptions::default()
            },
        )
    }

    /// `RMSprop(params, **options)`; panics with PyTorch's message on invalid values.
    pub fn with_options<P: Into<Tensor>>(
        params: impl IntoIterator<Item = P>,
        options: RMSpropOptions,
    ) -> RMSprop {
        options.validate();
        RMSprop {
            inner: Groups::new(super::params_of(params), options),
        }
    }

    /// The options new groups start from.
    pub fn defaults(&self) -> &RMSpropOptions {
        &self.inner.defaults
    }

    /// Adds a parameter group with its own options (`add_param_group`).
    pub fn add_param_group<P: Into<Tensor>>(
        &mut self,
        params: impl IntoIterator<Item = P>,
        options: RMSpropOptions,
    ) {
        options.validate();
        self.inner.add(super::params_of(params), options);
    }
}

impl Optimizer for RMSprop {
    fn step(&mut self) {
        no_grad(|| {
            for (g, (params, o)) in self.inner.groups.iter().enumerate() {
                for (k, p) in params.iter().enumerate() {
                    let Some(grad) = p.grad() else { continue };
                    let st = self.inner.state[g][k].get_or_insert_with(|| RMSpropState {
                        step: 0.0,
                        square_avg: zeros_like(p),
                        momentum_buffer: (o.momentum > 0.0).then(|| zeros_like(p)),
                        grad_avg: o.centered.then(|| zeros_like(p)),
                    });
                    st.step += 1.0;
                    let mut d = if o.maximize { grad.neg() } else { grad };
                    if o.weight_decay != 0.0 {
                        d = d.clone_tensor_raw().add_alpha_(p, o.weight_decay);
                    }
                    st.square_avg.mul_(o.alpha).addcmul_(&d, &d, 1.0 - o.alpha);
                    // Only what the group's options call for is read, as in PyTorch (a loaded
                    // state may carry more).
                    let avg = match st.grad_avg.as_ref().filter(|_| o.centered) {
                        Some(ga) => {
                            ga.lerp_(&d, 1.0 - o.alpha);
                            st.square_avg
                                .clone_tensor_raw()
                                .addcmul_(ga, ga, -1.0)
                                .sqrt()
                        }
                        None => st.square_avg.sqrt(),
                    };
                    avg.add_(o.eps);
                    match &st.momentum_buffer {
                        Some(buf) if o.momentum > 0.0 => {
                            buf.mul_(o.momentum).addcdiv_(&d, &avg, 1.0);
                            p.add_alpha_(buf, -o.lr);
                        }
                        _ => {
                            p.addcdiv_(&d, &avg, -o.lr);
                        }
                    }
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
