//! `torch.optim.Adagrad`.

use super::{
    GroupOptions, Groups, Hyper, Hypers, Optimizer, OptimizerState, ParamState, StateValue,
    check_nonneg, fmt, get_bool, get_f64, get_step, get_tensor,
};
use crate::Result;
use crate::autograd::no_grad;
use crate::tensor::Tensor;
use std::collections::BTreeMap;

/// Hyperparameters of [`Adagrad`], per group (defaults: lr 1e-2, eps 1e-10, the rest 0).
#[derive(Clone, Debug, PartialEq)]
pub struct AdagradOptions {
    /// Learning rate.
    pub lr: f64,
    /// Learning-rate decay per step.
    pub lr_decay: f64,
    /// L2 penalty.
    pub weight_decay: f64,
    /// Starting value of the squared-gradient sum.
    pub initial_accumulator_value: f64,
    /// Added to the denominator.
    pub eps: f64,
    /// Maximise instead of minimise.
    pub maximize: bool,
}

impl Default for AdagradOptions {
    fn default() -> Self {
        AdagradOptions {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

impl AdagradOptions {
    fn validate(&self) {
        check_nonneg(self.lr, "learning rate");
        check_nonneg(self.lr_decay, "lr_decay value");
        check_nonneg(self.weight_decay, "weight_decay value");
        if self.initial_accumulator_value < 0.0 {
            panic!(
                "Invalid initial_accumulator_value value: {}",
                fmt(self.initial_accumulator_value)
            );
        }
        check_nonneg(self.eps, "epsilon value");
    }
}

impl GroupOptions for AdagradOptions {
    const KEYS: &'static [&'static str] = &[
        "lr",
        "lr_decay",
        "eps",
        "weight_decay",
        "initial_accumulator_value",
        "maximize",
    ];
    fn to_map(&self) -> Hypers {
        Hypers::from_iter([
            ("lr", Hyper::Float(self.lr)),
            ("lr_decay", Hyper::int_zero_or_float(self.lr_decay)),
            ("eps", Hyper::Float(self.eps)),
            ("weight_decay", Hyper::int_zero_or_float(self.weight_decay)),
            (
                "initial_accumulator_value",
                Hyper::int_zero_or_float(self.initial_accumulator_value),
            ),
            ("foreach", Hyper::None),
            ("maximize", Hyper::Bool(self.maximize)),
            ("differentiable", Hyper::Bool(false)),
            ("fused", Hyper::None),
        ])
    }
    fn required_state(&self) -> Vec<&'static str> {
        vec!["step", "sum"]
    }
    fn from_map(m: &Hypers, d: &Self) -> Result<Self> {
        Ok(AdagradOptions {
            lr: get_f64(m, "lr", d.lr)?,
            lr_decay: get_f64(m, "lr_decay", d.lr_decay)?,
            weight_decay: get_f64(m, "weight_decay", d.weight_decay)?,
            initial_accumulator_value: get_f64(
                m,
                "initial_accumulator_value",
                d.initial_accumulator_value,
            )?,
            eps: get_f64(m, "eps", d.eps)?,
            maximize: get_bool(m, "maximize", d.maximize)?,
        })
    }
}

pub(crate) struct AdagradState {
    step: f64,
    sum: Tensor,
}

impl ParamState for AdagradState {
    const EAGER: bool = true;
    fn to_map(&self) -> BTreeMap<String, StateValue> {
        BTreeMap::from([
            ("step".into(), StateValue::Float(self.step)),
            ("sum".into(), StateValue::Tensor(self.sum.clone())),
        ])
    }
    fn from_map(m: &BTreeMap<String, StateValue>) -> Result<Self> {
        Ok(AdagradState {
            step: get_step(m)?,
            sum: get_tensor(m, "sum")?.clone_tensor_raw(),
        })
    }
}

/// Adagrad (`torch.optim.Adagrad`), updating as PyTorch's `_single_tensor_adagrad`.
pub struct Adagrad {
    inner: Groups<AdagradOptions, AdagradState>,
}

impl Adagrad {
    /// `Adagrad(params, lr=lr)` with PyTorch's other defaults.
    pub fn new<P: Into<Tensor>>(params: impl IntoIterator<Item = P>, lr: f64) -> Adagrad {
        Adagrad::with_options(
            params,
            AdagradOptions {
                lr,
                ..AdagradOptions::default()
            },
        )
    }

    /// `Adagrad(params, **options)`; panics with PyTorch's message on invalid values. The state
    /// (sum of squared gradients) is created at construction, as PyTorch does.
    pub fn with_options<P: Into<Tensor>>(
        params: impl IntoIterator<Item = P>,
        options: AdagradOptions,
    ) -> Adagrad {
        options.validate();
        let mut a = Adagrad {
            inner: Groups::new(super::params_of(params), options),
        };
        a.init_state(0);
        a
    }

    fn init_state(&mut self, g: usize) {
        let (params, o) = &self.inner.groups[g];
        self.inner.state[g] = params
            .iter()
            .map(|p| {
                Some(AdagradState {
                    step: 0.0,
                    sum: Tensor::full_like(p, o.initial_accumulator_value),
                })
            })
            .collect();
    }

    /// The options new groups start from.
    pub fn defaults(&self) -> &AdagradOptions {
        &self.inner.defaults
    }

    /// Adds a parameter group with its own options (`add_param_group`).
    pub fn add_param_group<P: Into<Tensor>>(
        &mut self,
        params: impl IntoIterator<Item = P>,
        options: AdagradOptions,
    ) {
        options.validate();
        self.inner.add(super::params_of(params), options);
        let g = self.inner.groups.len() - 1;
        self.init_state(g);
    }
}

impl Optimizer for Adagrad {
    fn step(&mut self) {
        no_grad(|| {
            for (g, (params, o)) in self.inner.groups.iter().enumerate() {
                for (k, p) in params.iter().enumerate() {
                    let Some(grad) = p.grad() else { continue };
                    let st = self.inner.state[g][k]
                        .as_mut()
                        .expect("created at construction");
                    st.step = (st.step as f32 + 1.0) as f64;
                    let mut d = if o.maximize { grad.neg() } else { grad };
                    if o.weight_decay != 0.0 {
                        d = d.clone_tensor_raw().add_alpha_(p, o.weight_decay);
                    }
                    let clr = o.lr / (1.0 + (st.step - 1.0) * o.lr_decay);
                    st.sum.addcmul_(&d, &d, 1.0);
                    let std = st.sum.sqrt();
                    std.add_(o.eps);
                    p.addcdiv_(&d, &std, -clr);
                }
            }
        });
    }

    super::delegate_to_groups!(with_load);
}
