//! An optimizer's state dict as the objects of a checkpoint, in exactly PyTorch's layout:
//! `{'state': {0: {'step': tensor(3.), 'exp_avg': ..., ...}, ...}, 'param_groups': [{'lr': ...,
//! 'betas': (0.9, 0.999), ..., 'params': [0, 1]}]}`, so that what Flambeau saves loads with
//! `opt.load_state_dict(torch.load(path, weights_only=True))` and the other way round.

use super::{Hyper, Hypers, OptimizerState, StateValue};
use crate::serialization::Value;
use crate::tensor::Tensor;
use crate::{Error, Result};
use std::collections::BTreeMap;

/// The order PyTorch's optimizers create their per-parameter state in (`step` first, then the
/// buffers); other keys follow in name order.
const STATE_ORDER: &[&str] = &[
    "step",
    "exp_avg",
    "exp_avg_sq",
    "max_exp_avg_sq",
    "square_avg",
    "momentum_buffer",
    "grad_avg",
    "sum",
];

fn bad(what: impl std::fmt::Display) -> Error {
    Error::Format(format!("optimizer state dict: {what}"))
}

fn hyper_to_value(h: &Hyper) -> Value {
    match h {
        Hyper::Float(v) => Value::Float(*v),
        Hyper::Bool(b) => Value::Bool(*b),
        Hyper::Pair(a, b) => Value::Tuple(vec![Value::Float(*a), Value::Float(*b)]),
        Hyper::None => Value::None,
        Hyper::Int(i) => Value::Int(*i),
        Hyper::Str(s) => Value::Str(s.clone()),
        Hyper::List(items) => Value::List(items.iter().map(hyper_to_value).collect()),
    }
}

fn value_to_hyper(v: &Value, key: &str, group: usize) -> Result<Hyper> {
    Ok(match v {
        Value::Float(f) => Hyper::Float(*f),
        Value::Int(i) => Hyper::Int(*i),
        Value::Bool(b) => Hyper::Bool(*b),
        Value::None => Hyper::None,
        Value::Str(s) => Hyper::Str(s.clone()),
        Value::Tuple(items) if items.len() == 2 => match (items[0].as_float(), items[1].as_float())
        {
            (Some(a), Some(b)) => Hyper::Pair(a, b),
            _ => {
                return Err(bad(format!(
                    "param_groups[{group}]['{key}'] is a pair that is not two numbers"
                )));
            }
        },
        Value::List(items) => Hyper::List(
            items
                .iter()
                .map(|i| value_to_hyper(i, key, group))
                .collect::<Result<_>>()?,
        ),
        other => {
            // A tensor `lr` (PyTorch allows one) or a nested container: Flambeau keeps
            // hyperparameters as plain numbers and would compute something else.
            return Err(bad(format!(
                "param_groups[{group}]['{key}'] is a {}, which Flambeau's optimizers do not support",
                other.type_name()
            )));
        }
    })
}

impl OptimizerState {
    /// This state dict as the checkpoint object PyTorch's `optimizer.state_dict()` is: integer
    /// parameter ids, `step` as a 0-d float32 tensor, every group entry in PyTorch's order with
    /// `params` last.
    ///
    /// ```
    /// use flambeau::optim::{Adam, Optimizer, OptimizerState};
    /// use flambeau::serialization::Value;
    /// use flambeau::tensor;
    /// let w = tensor!([1.0, 2.0]).requires_grad_(true);
    /// let mut opt = Adam::new([&w], 0.1);
    /// (&w * &w).sum().backward();
    /// opt.step();
    /// let v = opt.state_dict().to_value();
    /// let group = &v.get("param_groups").unwrap().as_seq().unwrap()[0];
    /// assert_eq!(group.get("lr").and_then(Value::as_float), Some(0.1));
    /// let state = v.get("state").unwrap().as_dict().unwrap();
    /// assert_eq!(state[0].0.as_int(), Some(0));
    /// let step = state[0].1.get("step").and_then(Value::as_tensor).unwrap();
    /// assert_eq!((step.dims(), step.item::<f32>()), (&[][..], 1.0));
    /// // and back
    /// let back = OptimizerState::from_value(&v).unwrap();
    /// opt.load_state_dict(&back).unwrap();
    /// ```
    pub fn to_value(&self) -> Value {
        let state = self
            .state
            .iter()
            .map(|(&id, entries)| {
                let mut keys: Vec<&String> = entries.keys().collect();
                keys.sort_by_key(|k| {
                    STATE_ORDER
                        .iter()
                        .position(|o| o == k)
                        .unwrap_or(STATE_ORDER.len())
                });
                let dict = keys
                    .into_iter()
                    .map(|k| {
                        let v = match &entries[k] {
                            StateValue::Tensor(t) => Value::Tensor(t.clone()),
                            // PyTorch 2.x keeps every optimizer's `step` in a 0-d float32 tensor.
                            StateValue::Float(s) if k == "step" => {
                                Value::Tensor(Tensor::scalar(*s as f32))
                            }
                            StateValue::Float(f) => Value::Float(*f),
                        };
                        (Value::Str(k.clone()), v)
                    })
                    .collect();
                (Value::Int(id as i64), Value::Dict(dict))
            })
            .collect();
        let groups = self
            .param_groups
            .iter()
            .map(|(hypers, ids)| {
                let mut dict: Vec<(Value, Value)> = hypers
                    .iter()
                    .filter(|(k, _)| *k != "params")
                    .map(|(k, h)| (Value::Str(k.to_string()), hyper_to_value(h)))
                    .collect();
                dict.push((
                    Value::Str("params".into()),
                    Value::List(ids.iter().map(|&i| Value::Int(i as i64)).collect()),
                ));
                Value::Dict(dict)
            })
            .collect();
        Value::dict([
            ("state", Value::Dict(state)),
            ("param_groups", Value::List(groups)),
        ])
    }

    /// Reads what [`OptimizerState::to_value`] writes, or what PyTorch's
    /// `optimizer.state_dict()` saved (as `torch.load(path, weights_only=True)` returns it).
    /// Anything else is refused with [`Error::Format`] naming the entry;
    /// whether the state fits a given optimizer is checked by its `load_state_dict`.
    pub fn from_value(value: &Value) -> Result<OptimizerState> {
        // Other top-level keys are ignored, as PyTorch's `load_state_dict` ignores them.
        if value.as_dict().is_none() {
            return Err(bad(format_args!(
                "expected a dict with 'state' and 'param_groups', got a {}",
                value.type_name()
            )));
        }
        let state_v = value.get("state").ok_or_else(|| bad("missing 'state'"))?;
        let groups_v = value
            .get("param_groups")
            .ok_or_else(|| bad("missing 'param_groups'"))?;
        let mut out = OptimizerState::default();
        let state = state_v.as_dict().ok_or_else(|| {
            bad(format_args!(
                "'state' is a {}, expected a dict",
                state_v.type_name()
            ))
        })?;
        for (id, entries) in state {
            let id = match id {
                Value::Int(i) if *i >= 0 => *i as usize,
                other => {
                    return Err(bad(format_args!(
                        "state key {} is not a parameter index",
                        describe(other)
                    )));
                }
            };
            let dict = entries.as_dict().ok_or_else(|| {
                bad(format_args!(
                    "state[{id}] is a {}, expected a dict",
                    entries.type_name()
                ))
            })?;
            let mut map = BTreeMap::new();
            for (k, v) in dict {
                let key = k
                    .as_str()
                    .ok_or_else(|| bad(format_args!("state[{id}] has a key {}", describe(k))))?;
                let sv = match v {
                    Value::Tensor(t) => StateValue::Tensor(t.clone()),
                    Value::Float(_) | Value::Int(_) => StateValue::Float(v.as_float().unwrap()),
                    // Older PyTorch wrote `momentum_buffer: None` for SGD without momentum.
                    Value::None => continue,
                    other => {
                        return Err(bad(format_args!(
                            "state[{id}]['{key}'] is a {}, expected a tensor or a number",
                            other.type_name()
                        )));
                    }
                };
                if map.insert(key.to_string(), sv).is_some() {
                    return Err(bad(format_args!("state[{id}] repeats '{key}'")));
                }
            }
            if out.state.insert(id, map).is_some() {
                return Err(bad(format_args!("state repeats parameter {id}")));
            }
        }
        let groups = groups_v.as_seq().ok_or_else(|| {
            bad(format_args!(
                "'param_groups' is a {}, expected a list",
                groups_v.type_name()
            ))
        })?;
        for (g, group) in groups.iter().enumerate() {
            let dict = group.as_dict().ok_or_else(|| {
                bad(format_args!(
                    "param_groups[{g}] is a {}, expected a dict",
                    group.type_name()
                ))
            })?;
            let mut hypers = Hypers::new();
            let mut params = None;
            for (k, v) in dict {
                let key = k.as_str().ok_or_else(|| {
                    bad(format_args!("param_groups[{g}] has a key {}", describe(k)))
                })?;
                if hypers.contains_key(key) || (key == "params" && params.is_some()) {
                    return Err(bad(format_args!("param_groups[{g}] repeats '{key}'")));
                }
                if key == "params" {
                    let ids = v
                        .as_seq()
                        .and_then(|items| {
                            items
                                .iter()
                                .map(|i| match i {
                                    Value::Int(i) if *i >= 0 => Some(*i as usize),
                                    _ => None,
                                })
                                .collect::<Option<Vec<usize>>>()
                        })
                        .ok_or_else(|| {
                            bad(format_args!(
                                "param_groups[{g}]['params'] is not a list of parameter indices"
                            ))
                        })?;
                    params = Some(ids);
                } else {
                    hypers.insert(key, value_to_hyper(v, key, g)?);
                }
            }
            let params =
                params.ok_or_else(|| bad(format_args!("param_groups[{g}] has no 'params'")))?;
            out.param_groups.push((hypers, params));
        }
        Ok(out)
    }
}

/// A key for a message: a string quoted, anything else by its type.
fn describe(k: &Value) -> String {
    match k {
        Value::Str(s) => format!("'{s}'"),
        Value::Int(i) => i.to_string(),
        other => format!("of type {}", other.type_name()),
    }
}

impl From<&OptimizerState> for Value {
    fn from(s: &OptimizerState) -> Value {
        s.to_value()
    }
}

impl From<OptimizerState> for Value {
    fn from(s: OptimizerState) -> Value {
        s.to_value()
    }
}

impl TryFrom<&Value> for OptimizerState {
    type Error = Error;

    fn try_from(v: &Value) -> Result<OptimizerState> {
        OptimizerState::from_value(v)
    }
}
