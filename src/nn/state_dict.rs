//! `StateDict` (what `module.state_dict()` returns and `load_state_dict` reads) and the
//! `IncompatibleKeys` a non-strict load reports.

use crate::tensor::Tensor;

/// An ordered map from dotted names to tensors (`module.state_dict()`).
///
/// ```
/// use flambeau::nn::{Linear, Module};
/// let m = Linear::new(3, 2);
/// let sd = m.state_dict();
/// assert_eq!(sd.keys(), vec!["weight", "bias"]);
/// assert_eq!(sd.get("weight").unwrap().dims(), &[2, 3]);
/// ```
#[derive(Clone, Default, Debug)]
pub struct StateDict {
    entries: Vec<(String, Tensor)>,
}

impl StateDict {
    /// An empty state dict.
    pub fn new() -> StateDict {
        StateDict::default()
    }
    /// Adds or replaces an entry, keeping the first insertion's position.
    pub fn insert(&mut self, key: impl Into<String>, t: Tensor) {
        let key = key.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(e) => e.1 = t,
            None => self.entries.push((key, t)),
        }
    }
    /// The tensor stored under `key`.
    pub fn get(&self, key: &str) -> Option<&Tensor> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, t)| t)
    }
    /// Removes and returns the tensor stored under `key`.
    pub fn remove(&mut self, key: &str) -> Option<Tensor> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(i).1)
    }
    /// The keys in order.
    pub fn keys(&self) -> Vec<&str> {
        self.entries.iter().map(|(k, _)| k.as_str()).collect()
    }
    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.entries.iter().map(|(k, t)| (k.as_str(), t))
    }
    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl FromIterator<(String, Tensor)> for StateDict {
    fn from_iter<I: IntoIterator<Item = (String, Tensor)>>(iter: I) -> Self {
        let mut sd = StateDict::new();
        for (k, t) in iter {
            sd.insert(k, t);
        }
        sd
    }
}

/// Keys that did not line up in a non-strict `load_state_dict` (PyTorch's `_IncompatibleKeys`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IncompatibleKeys {
    /// Keys the module expects but the state dict lacks.
    pub missing_keys: Vec<String>,
    /// Keys in the state dict that the module does not have.
    pub unexpected_keys: Vec<String>,
}
