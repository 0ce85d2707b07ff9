//! `nn.Sequential`. (`nn.ModuleList` is a `Vec` of modules; see [`Module`].)

use super::{FieldSink, Forward, ForwardModule, Module, TrainingFlag};
use crate::tensor::Tensor;

/// Modules applied one after another (`nn.Sequential`); children are named `0`, `1`, ...
///
/// ```
/// use flambeau::nn::{Forward, Linear, Module, ReLU, Sequential};
/// use flambeau::Tensor;
/// let net = Sequential::new().add(Linear::new(4, 8)).add(ReLU::new()).add(Linear::new(8, 3));
/// assert_eq!(net.forward(&Tensor::ones([2, 4])).dims(), &[2, 3]);
/// assert_eq!(net.state_dict().keys(), ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// ```
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn ForwardModule>>,
    training: TrainingFlag,
}

impl Sequential {
    /// An empty container.
    #[track_caller]
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a module and returns the container, for chaining.
    #[allow(clippy::should_implement_trait)]
    #[track_caller]
    pub fn add(mut self, m: impl ForwardModule + 'static) -> Sequential {
        self.layers.push(Box::new(m));
        self
    }

    /// Appends a module (`seq.append(m)`).
    #[track_caller]
    pub fn push(&mut self, m: impl ForwardModule + 'static) {
        self.layers.push(Box::new(m));
    }

    /// The number of modules.
    #[track_caller]
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no modules.
    #[track_caller]
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The module at `index` (`seq[index]`).
    #[track_caller]
    pub fn get(&self, index: usize) -> Option<&dyn ForwardModule> {
        self.layers.get(index).map(|b| &**b)
    }
}

impl Module for Sequential {
    #[track_caller]
    fn visit_fields<'a>(&'a self, sink: &mut FieldSink<'a>) {
        sink.flag(&self.training);
        for (i, m) in self.layers.iter().enumerate() {
            sink.child(&i.to_string(), (**m).as_dyn());
        }
    }
    #[track_caller]
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
        for m in self.layers.iter_mut() {
            m.map_tensors(f);
        }
    }
    #[track_caller]
    fn type_name(&self) -> String {
        "Sequential".into()
    }
    #[track_caller]
    fn as_dyn(&self) -> &dyn Module {
        self
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl super::ModuleField for Sequential {
    #[track_caller]
    fn collect<'a>(&'a self, name: &str, sink: &mut FieldSink<'a>) {
        sink.child(name, self);
    }
    #[track_caller]
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
        Module::map_tensors(self, f);
    }
}

impl Forward for Sequential {
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        let mut x = input.clone();
        for m in &self.layers {
            x = m.forward(&x);
        }
        x
    }
}

impl std::fmt::Display for Sequential {
    #[track_caller]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.repr())
    }
}

/// Builds a [`Sequential`] from modules: `sequential![Linear::new(4, 8), ReLU::new()]`.
///
/// ```
/// use flambeau::{nn::{Linear, Module, ReLU}, sequential};
/// let net = sequential![Linear::new(4, 8), ReLU::new(), Linear::new(8, 3)];
/// assert_eq!(net.len(), 3);
/// ```
#[macro_export]
macro_rules! sequential {
    ($($m:expr),* $(,)?) => {
        $crate::nn::Sequential::new()$(.add($m))*
    };
}
