//! The entries of a parameter group as PyTorch's `param_groups[i]` dict holds them: values of
//! Python's simple types under string keys, in insertion order.

/// A value in a parameter group (`lr`, `betas`, `nesterov`, `foreach`, `initial_lr`, ...).
#[derive(Clone, Debug, PartialEq)]
pub enum Hyper {
    /// A number (Python `float`).
    Float(f64),
    /// A flag.
    Bool(bool),
    /// A pair (Adam's `betas`, a Python tuple).
    Pair(f64, f64),
    /// Python's `None` (`foreach: None`, `fused: None`).
    None,
    /// A Python `int` (PyTorch's integer defaults, such as `momentum: 0`).
    Int(i64),
    /// A string.
    Str(String),
    /// A list (`param_names`).
    List(Vec<Hyper>),
}

impl Hyper {
    /// The number, if this is a float or an int (Python uses either for a hyperparameter).
    ///
    /// ```
    /// use flambeau::optim::Hyper;
    /// assert_eq!(Hyper::Int(0).as_f64(), Some(0.0));
    /// assert_eq!(Hyper::Bool(true).as_f64(), None);
    /// ```
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Hyper::Float(v) => Some(*v),
            Hyper::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// A number written as PyTorch's integer default would be: `0` for zero, a float otherwise
    /// (SGD's `momentum=0`, Adam's `weight_decay=0` are Python ints).
    pub(crate) fn int_zero_or_float(v: f64) -> Hyper {
        if v == 0.0 {
            Hyper::Int(0)
        } else {
            Hyper::Float(v)
        }
    }
}

/// A parameter group's entries in order (PyTorch's `param_groups[i]` without `params`).
///
/// ```
/// use flambeau::optim::{Hyper, Hypers};
/// let mut h = Hypers::new();
/// h.insert("lr", Hyper::Float(0.1));
/// h.insert("foreach", Hyper::None);
/// h.insert("lr", Hyper::Float(0.2)); // replaced in place
/// assert_eq!(h.keys(), ["lr", "foreach"]);
/// assert_eq!(h["lr"], Hyper::Float(0.2));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hypers(Vec<(String, Hyper)>);

impl Hypers {
    /// An empty group.
    pub fn new() -> Hypers {
        Hypers(Vec::new())
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Hyper> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key`: in its place if present (as a Python dict does), at the end otherwise; returns
    /// the previous value.
    pub fn insert(&mut self, key: impl Into<String>, value: Hyper) -> Option<Hyper> {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Hyper> {
        let i = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(i).1)
    }

    /// The keys in order.
    pub fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Hyper)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Into<String>> FromIterator<(K, Hyper)> for Hypers {
    fn from_iter<I: IntoIterator<Item = (K, Hyper)>>(iter: I) -> Hypers {
        let mut h = Hypers::new();
        for (k, v) in iter {
            h.insert(k, v);
        }
        h
    }
}

impl std::ops::Index<&str> for Hypers {
    type Output = Hyper;

    #[track_caller]
    fn index(&self, key: &str) -> &Hyper {
        match self.get(key) {
            Some(v) => v,
            None => panic!("KeyError: '{key}'"),
        }
    }
}
