//! `StateDict` (what `module.state_dict()` returns and `load_state_dict` reads) and the
//! `IncompatibleKeys` a non-strict load reports.

use crate::tensor::Tensor;
use std::collections::HashMap;

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
    /// Each key's position in `entries`, so that building and reading a dict of many tensors
    /// (a checkpoint's header) stays linear.
    index: HashMap<String, usize>,
}

impl StateDict {
    /// An empty state dict.
    pub fn new() -> StateDict {
        StateDict::default()
    }
    /// Adds or replaces an entry, keeping the first insertion's position.
    pub fn insert(&mut self, key: impl Into<String>, t: Tensor) {
        let key = key.into();
        match self.index.get(&key) {
            Some(&i) => self.entries[i].1 = t,
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, t));
            }
        }
    }
    /// A copy whose tensors are new copies of these (`copy.deepcopy(model.state_dict())`),
    /// detached, with entries that share a tensor (tied weights) still sharing one. A state dict
    /// from `state_dict()` holds the module's own tensors, which training keeps changing; this is
    /// the snapshot to keep the best model and restore it with `load_state_dict`.
    ///
    /// ```
    /// use flambeau::nn::{init, Linear, Module};
    /// let m = Linear::new(2, 1);
    /// let best = m.state_dict().deep_clone();
    /// init::constant_(&m.weight, 0.0);
    /// assert!(!best.get("weight").unwrap().eq(0.0).all_true());
    /// m.load_state_dict(&best, true).unwrap();
    /// assert!(!m.weight.eq(0.0).all_true());
    /// ```
    pub fn deep_clone(&self) -> StateDict {
        let mut copies: Vec<(usize, Tensor)> = Vec::new();
        let mut out = StateDict::new();
        for (k, t) in &self.entries {
            let key = std::sync::Arc::as_ptr(&t.0) as usize;
            let copy = match copies.iter().find(|(p, _)| *p == key) {
                Some((_, c)) => c.clone(),
                None => {
                    let c = crate::autograd::no_grad(|| t.detach().clone_tensor());
                    copies.push((key, c.clone()));
                    c
                }
            };
            out.insert(k.clone(), copy);
        }
        out
    }

    /// The tensor stored under `key`.
    pub fn get(&self, key: &str) -> Option<&Tensor> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }
    /// Removes and returns the tensor stored under `key`.
    pub fn remove(&mut self, key: &str) -> Option<Tensor> {
        let i = self.index.remove(key)?;
        for later in self.index.values_mut() {
            if *later > i {
                *later -= 1;
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_replace_and_remove_keep_order_and_lookups() {
        let mut sd = StateDict::new();
        for (i, k) in ["a", "b", "c", "d"].iter().enumerate() {
            sd.insert(*k, Tensor::scalar(i as f32));
        }
        assert_eq!(sd.remove("b").map(|t| t.item::<f32>()), Some(1.0));
        assert!(sd.remove("b").is_none());
        sd.insert("a", Tensor::scalar(10.0f32)); // replaced in place
        sd.insert("b", Tensor::scalar(11.0f32)); // a new key goes last
        assert_eq!(sd.keys(), ["a", "c", "d", "b"]);
        let values: Vec<f32> = ["a", "c", "d", "b"]
            .iter()
            .map(|k| sd.get(k).unwrap().item::<f32>())
            .collect();
        assert_eq!(values, [10.0, 2.0, 3.0, 11.0]);
        assert_eq!(sd.len(), 4);
    }
}
