//! `Value`: the objects a checkpoint holds, as Python's pickle sees them (`None`, numbers,
//! strings, tuples, lists, dicts in insertion order, tensors). `torch.save` can write any such
//! tree; `torch.load(weights_only=True)` reads exactly these and nothing that runs code.

use crate::nn::StateDict;
use crate::tensor::Tensor;
use crate::{Error, Result};

/// One object of a checkpoint (what `torch.load(path, weights_only=True)` returns).
///
/// A model's `state_dict` is a [`Value::Dict`] of string keys and tensors; a training checkpoint
/// is a dict of such dicts, numbers and strings, as in PyTorch:
///
/// ```
/// use flambeau::nn::{Linear, Module};
/// use flambeau::serialization::Value;
/// let model = Linear::new(2, 1);
/// let ckpt = Value::dict([
///     ("model", Value::from(&model.state_dict())),
///     ("epoch", Value::Int(3)),
/// ]);
/// assert_eq!(ckpt.get("epoch").and_then(Value::as_int), Some(3));
/// let sd = ckpt.get("model").unwrap().to_state_dict().unwrap();
/// assert_eq!(sd.keys(), vec!["weight", "bias"]);
/// ```
#[derive(Clone, Debug)]
pub enum Value {
    /// Python's `None`.
    None,
    /// A `bool`.
    Bool(bool),
    /// An `int` (pickle's integers beyond 64 bits are refused when read).
    Int(i64),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(String),
    /// A `bytes` object.
    Bytes(Vec<u8>),
    /// A `tuple`.
    Tuple(Vec<Value>),
    /// A `list`.
    List(Vec<Value>),
    /// A `dict` or `collections.OrderedDict`, in insertion order.
    Dict(Vec<(Value, Value)>),
    /// A tensor (`torch._utils._rebuild_tensor_v2` over a storage).
    Tensor(Tensor),
}

impl Value {
    /// A dict with string keys, in the given order.
    pub fn dict<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Dict(
            entries
                .into_iter()
                .map(|(k, v)| (Value::Str(k.into()), v))
                .collect(),
        )
    }

    /// The entry of a dict under the string key `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Value::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The number, if this is an `int` (or a `bool`, as Python treats it).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }

    /// The number, if this is a `float` or an `int`.
    pub fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The flag, if this is a `bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The text, if this is a `str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The tensor, if this is one.
    pub fn as_tensor(&self) -> Option<&Tensor> {
        match self {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }

    /// The items, if this is a list or a tuple.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// The entries, if this is a dict.
    pub fn as_dict(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Dict(v) => Some(v),
            _ => None,
        }
    }

    /// Python's name of this value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Tensor(_) => "Tensor",
        }
    }

    /// This dict as a model's state dict: every key a string and every value a tensor, in order.
    pub fn to_state_dict(&self) -> Result<StateDict> {
        let entries = self.as_dict().ok_or_else(|| {
            Error::Format(format!(
                "expected a state dict (a dict of str to Tensor), got a {}",
                self.type_name()
            ))
        })?;
        let mut sd = StateDict::new();
        for (k, v) in entries {
            let key = k.as_str().ok_or_else(|| {
                Error::Format(format!(
                    "state dict key is a {}, expected a str",
                    k.type_name()
                ))
            })?;
            let t = v.as_tensor().ok_or_else(|| {
                Error::Format(format!(
                    "state dict entry '{key}' is a {}, expected a Tensor",
                    v.type_name()
                ))
            })?;
            sd.insert(key, t.clone());
        }
        Ok(sd)
    }
}

impl From<&StateDict> for Value {
    fn from(sd: &StateDict) -> Value {
        Value::dict(sd.iter().map(|(k, t)| (k, Value::Tensor(t.clone()))))
    }
}

impl From<StateDict> for Value {
    fn from(sd: StateDict) -> Value {
        Value::from(&sd)
    }
}

impl From<Tensor> for Value {
    fn from(t: Tensor) -> Value {
        Value::Tensor(t)
    }
}

impl From<&Tensor> for Value {
    fn from(t: &Tensor) -> Value {
        Value::Tensor(t.clone())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}
