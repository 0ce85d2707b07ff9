//! `torch.optim.Adam` and `torch.optim.AdamW`.

use super::{
    GroupOptions, Groups, Hyper, Hypers, Optimizer, OptimizerState, ParamState, StateValue,
    check_nonneg, fmt, get_bool, get_f64, get_step, get_tensor, zeros_like,
};
use crate::autograd::no_grad;
use crate::ops::fused::AdamScalars;
use crate::tensor::Tensor;
use crate::{Error, Result};
use std::collections::BTreeMap;

/// Hyperparameters of [`Adam`] and [`AdamW`], per group.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamOptions {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// Decay rates of the first and second moment estimates (default (0.9, 0.999)).
    pub betas: (f64, f64),
    /// Added to the denominator (default 1e-8).
    pub eps: f64,
    /// Weight decay: an L2 penalty for Adam, decoupled for AdamW (defaults 0 and 1e-2).
    pub weight_decay: f64,
    /// Use the maximum of past second moments (AMSGrad).
    pub amsgrad: bool,
    /// Maximise instead of minimise.
    pub maximize: bool,
    /// Decay weights the AdamW way, `p *= 1 - lr * weight_decay`, instead of adding an L2
    /// penalty to the gradient (`decoupled_weight_decay`; always true for [`AdamW`]).
    pub decoupled_weight_decay: bool,
}

impl Default for AdamOptions {
    fn default() -> Self {
        AdamOptions {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: false,
        }
    }
}

impl AdamOptions {
    fn validate(&self) {
        check_nonneg(self.lr, "learning rate");
        check_nonneg(self.eps, "epsilon value");
        if !(0.0..1.0).contains(&self.betas.0) {
            panic!("Invalid beta parameter at index 0: {}", fmt(self.betas.0));
        }
        if !(0.0..1.0).contains(&self.betas.1) {
            panic!("Invalid beta parameter at index 1: {}", fmt(self.betas.1));
        }
        check_nonneg(self.weight_decay, "weight_decay value");
    }
}

impl GroupOptions for AdamOptions {
    const KEYS: &'static [&'static str] = &[
        "lr",
        "betas",
        "eps",
        "weight_decay",
        "amsgrad",
        "maximize",
        "decoupled_weight_decay",
    ];
    fn to_map(&self) -> Hypers {
        Hypers::from_iter([
            ("lr", Hyper::Float(self.lr)),
            ("betas", Hyper::Pair(self.betas.0, self.betas.1)),
            ("eps", Hyper::Float(self.eps)),
            ("weight_decay", Hyper::int_zero_or_float(self.weight_decay)),
            ("amsgrad", Hyper::Bool(self.amsgrad)),
            ("maximize", Hyper::Bool(self.maximize)),
            ("foreach", Hyper::None),
            ("capturable", Hyper::Bool(false)),
            ("differentiable", Hyper::Bool(false)),
            ("fused", Hyper::None),
            (
                "decoupled_weight_decay",
                Hyper::Bool(self.decoupled_weight_decay),
            ),
        ])
    }
    fn required_state(&self) -> Vec<&'static str> {
        let mut keys = vec!["step", "exp_avg", "exp_avg_sq"];
        if self.amsgrad {
            keys.push("max_exp_avg_sq");
        }
        keys
    }
    fn from_map(m: &Hypers, d: &Self) -> Result<Self> {
        let betas = match m.get("betas") {
            None => d.betas,
            Some(Hyper::Pair(a, b)) => (*a, *b),
            Some(other) => {
                return Err(Error::InvalidArgument(format!(
                    "optimizer state: betas should be a pair, got {other:?}"
                )));
            }
        };
        Ok(AdamOptions {
            lr: get_f64(m, "lr", d.lr)?,
            betas,
            eps: get_f64(m, "eps", d.eps)?,
            weight_decay: get_f64(m, "weight_decay", d.weight_decay)?,
            amsgrad: get_bool(m, "amsgrad", d.amsgrad)?,
            maximize: get_bool(m, "maximize", d.maximize)?,
            // PyTorch's `Adam.__setstate__` defaults a missing flag to False.
            decoupled_weight_decay: get_bool(m, "decoupled_weight_decay", false)?,
        })
    }
}

pub(crate) struct AdamState {
    step: f64,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    max_exp_avg_sq: Option<Tensor>,
}

impl ParamState for AdamState {
    fn to_map(&self) -> BTreeMap<String, StateValue> {
        let mut m = BTreeMap::from([
            ("step".into(), StateValue::Float(self.step)),
            ("exp_avg".into(), StateValue::Tensor(self.exp_avg.clone())),
            (
                "exp_avg_sq".into(),
                StateValue::Tensor(self.exp_avg_sq.clone()),
            ),
        ]);
        if let Some(t) = &self.max_exp_avg_sq {
            m.insert("max_exp_avg_sq".into(), StateValue::Tensor(t.clone()));
        }
        m
    }
    fn from_map(m: &BTreeMap<String, StateValue>) -> Result<Self> {
        Ok(AdamState {
            step: get_step(m)?,
            exp_avg: get_tensor(m, "exp_avg")?.clone_tensor_raw(),
            exp_avg_sq: get_tensor(m, "exp_avg_sq")?.clone_tensor_raw(),
            max_exp_avg_sq: match m.get("max_exp_avg_sq") {
                Some(_) => Some(get_tensor(m, "max_exp_avg_sq")?.clone_tensor_raw()),
                None => None,
            },
        })
    }
}

/// Adam (`torch.optim.Adam`), updating as PyTorch's `_single_tensor_adam`: the step count is kept
/// as a float32 value, bias corrections are computed in double precision.
///
/// ```
/// use flambeau::optim::{Adam, Optimizer};
/// use flambeau::tensor;
/// let w = tensor!([1.0]).requires_grad_(true);
/// let mut opt = Adam::new([&w], 0.1);
/// (&w * &w).sum().backward();
/// opt.step();
/// assert!((w.item::<f32>() - 0.9).abs() < 1e-6); // the first Adam step moves by lr
/// ```
pub struct Adam {
    inner: Groups<AdamOptions, AdamState>,
    /// Built as AdamW: every group decays weights decoupled, whatever a loaded state says (as
    /// PyTorch's `AdamW.__setstate__`).
    adamw: bool,
}

/// AdamW (`torch.optim.AdamW`): Adam with decoupled weight decay (default 1e-2).
pub struct AdamW;

impl AdamW {
    /// `AdamW(params, lr=lr)` with PyTorch's other defaults; returns an [`Adam`] that decays
    /// weights the AdamW way.
    #[allow(clippy::new_ret_no_self)]
    pub fn new<P: Into<Tensor>>(params: impl IntoIterator<Item = P>, lr: f64) -> Adam {
        AdamW::with_options(
            params,
            AdamOptions {
                lr,
                weight_decay: 1e-2,
                decoupled_weight_decay: true,
                ..AdamOptions::default()
            },
        )
    }

    /// `AdamW(params, **options)` (`decoupled_weight_decay` is set).
    pub fn with_options<P: Into<Tensor>>(
        params: impl IntoIterator<Item = P>,
        options: AdamOptions,
    ) -> Adam {
        let options = AdamOptions {
            decoupled_weight_decay: true,
            ..options
        };
        Adam::build(super::params_of(params), options, true)
    }
}

impl Adam {
    /// `Adam(params, lr=lr)` with PyTorch's other defaults.
    pub fn new<P: Into<Tensor>>(params: impl IntoIterator<Item = P>, lr: f64) -> Adam {
        Adam::with_options(
            params,
            AdamOptions {
                lr,
                ..AdamOptions::default()
            },
        )
    }

    /// `Adam(params, **options)`; panics with PyTorch's message on invalid values.
    pub fn with_options<P: Into<Tensor>>(
        params: impl IntoIterator<Item = P>,
        options: AdamOptions,
    ) -> Adam {
        Adam::build(super::params_of(params), options, false)
    }

    fn build(params: Vec<Tensor>, options: AdamOptions, adamw: bool) -> Adam {
        options.validate();
        Adam {
            inner: Groups::new(params, options),
            adamw,
        }
    }

    fn update_defaults(mut self, f: impl Fn(&mut AdamOptions)) -> Adam {
        f(&mut self.inner.defaults);
        for (_, o) in &mut self.inner.groups {
            f(o);
        }
        self.inner.defaults.validate();
        self
    }

    /// Sets `betas`.
    pub fn betas(self, beta1: f64, beta2: f64) -> Adam {
        self.update_defaults(|o| o.betas = (beta1, beta2))
    }
    /// Sets `eps`.
    pub fn eps(self, eps: f64) -> Adam {
        self.update_defaults(|o| o.eps = eps)
    }
    /// Sets the weight decay.
    pub fn weight_decay(self, weight_decay: f64) -> Adam {
        self.update_defaults(|o| o.weight_decay = weight_decay)
    }
    /// Enables AMSGrad.
    pub fn amsgrad(self, amsgrad: bool) -> Adam {
        self.update_defaults(|o| o.amsgrad = amsgrad)
    }
    /// Maximises the objective instead.
    pub fn maximize(self, maximize: bool) -> Adam {
        self.update_defaults(|o| o.maximize = maximize)
    }
    /// Decays weights the AdamW way (`Adam(..., decoupled_weight_decay=True)`); no effect on
    /// an [`AdamW`].
    pub fn decoupled_weight_decay(self, decoupled: bool) -> Adam {
        let decoupled = decoupled || self.adamw;
        self.update_defaults(|o| o.decoupled_weight_decay = decoupled)
    }
    /// The options new groups start from.
    pub fn defaults(&self) -> &AdamOptions {
        &self.inner.defaults
    }
    /// Adds a parameter group with its own options (`add_param_group`).
    pub fn add_param_group<P: Into<Tensor>>(
        &mut self,
        params: impl IntoIterator<Item = P>,
        options: AdamOptions,
    ) {
        options.validate();
        let options = AdamOptions {
            decoupled_weight_decay: options.decoupled_weight_decay || self.adamw,
            ..options
        };
        self.inner.add(super::params_of(params), options);
    }
}

/// The scalars of one Adam step, in the order PyTorch's `_single_tensor_adam` computes them.
fn adam_scalars(o: &AdamOptions, step_size: f64, bc2_sqrt: f64) -> AdamScalars {
    let decoupled = o.decoupled_weight_decay;
    AdamScalars {
        beta1_complement: 1.0 - o.betas.0,
        beta2: o.betas.1,
        beta2_complement: 1.0 - o.betas.1,
        weight_decay: o.weight_decay,
        decay_factor: (decoupled && o.weight_decay != 0.0).then_some(1.0 - o.lr * o.weight_decay),
        bias_correction2_sqrt: bc2_sqrt,
        eps: o.eps,
        neg_step_size: -step_size,
        maximize: o.maximize,
    }
}

impl Optimizer for Adam {
    fn step(&mut self) {
        no_grad(|| {
            for (g, (params, o)) in self.inner.groups.iter().enumerate() {
                let (beta1, beta2) = o.betas;
                for (k, p) in params.iter().enumerate() {
                    let Some(grad) = p.grad() else { continue };
                    let st = self.inner.state[g][k].get_or_insert_with(|| AdamState {
                        step: 0.0,
                        exp_avg: zeros_like(p),
                        exp_avg_sq: zeros_like(p),
                        max_exp_avg_sq: o.amsgrad.then(|| zeros_like(p)),
                    });
                    // PyTorch keeps `step` in a float32 tensor.
                    st.step = (st.step as f32 + 1.0) as f64;
                    let step = st.step;
                    let bias_correction1 = 1.0 - beta1.powf(step);
                    let bias_correction2 = 1.0 - beta2.powf(step);
                    let step_size = o.lr / bias_correction1;
                    let bias_correction2_sqrt = bias_correction2.sqrt();
                    // The whole update in one pass (the op-by-op form below is its reference and
                    // runs for unusual layouts).
                    let scalars = adam_scalars(o, step_size, bias_correction2_sqrt);
                    // Only with amsgrad set is the maximum read, as in PyTorch (a loaded state
                    // may carry one regardless).
                    let max_exp_avg_sq = st.max_exp_avg_sq.as_ref().filter(|_| o.amsgrad);
                    if crate::ops::fused::adam_step(
                        p,
                        &grad,
                        &st.exp_avg,
                        &st.exp_avg_sq,
                        max_exp_avg_sq,
                        &scalars,
                    ) {
                        continue;
                    }
                    let mut d = if o.maximize { grad.neg() } else { grad };
                    if o.weight_decay != 0.0 {
                        if o.decoupled_weight_decay {
                            p.mul_(1.0 - o.lr * o.weight_decay);
                        } else {
                            d = d.clone_tensor_raw().add_alpha_(p, o.weight_decay);
                        }
                    }
                    st.exp_avg.lerp_(&d, 1.0 - beta1);
                    st.exp_avg_sq.mul_(beta2).addcmul_(&d, &d, 1.0 - beta2);
                    let second = match max_exp_avg_sq {
                        Some(m) => {
                            m.copy_(&m.maximum(&st.exp_avg_sq));
                            m.clone()
                        }
                        None => st.exp_avg_sq.clone(),
                    };
                    let denom = second.sqrt().div(bias_correction2_sqrt);
                    denom.add_(o.eps);
                    p.addcdiv_(&st.exp_avg, &denom, -step_size);
                }
            }
        });
    }

    super::delegate_to_groups!();
    fn load_state_dict(&mut self, state: &OptimizerState) -> Result<()> {
        self.inner.load_state_dict(state)?;
        if self.adamw {
            for (_, o) in &mut self.inner.groups {
                o.decoupled_weight_decay = true;
            }
        }
        Ok(())
    }
    fn momentum(&self, g: usize) -> Option<f64> {
        Some(self.inner.groups[g].1.betas.0)
    }
    fn set_momentum(&mut self, g: usize, m: f64) {
        self.inner.groups[g].1.betas.0 = m;
    }
}
