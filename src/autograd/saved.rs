//! What nodes keep for their backward: saved tensors (PyTorch's `SavedVariable`) with the version
//! they had, and saved scalars, freed after a backward pass without `retain_graph`.

use super::{Node, is_grad_enabled};
use crate::tensor::Tensor;
use std::sync::Weak;
use std::sync::atomic::Ordering;

/// PyTorch's message when a freed graph is walked again.
pub(crate) const SECOND_BACKWARD_MSG: &str = "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.";

/// A tensor kept by a node for its backward, with the version it had when saved so that a later
/// in-place change is detected, as PyTorch's `SavedVariable` does.
pub(crate) struct SavedTensor {
    tensor: Option<Tensor>,
    version: u64,
    /// Whether this is the output of the node that saved it.
    is_output: bool,
    /// For a saved output: the node that produced it, held weakly (the node owns this), so that
    /// a gradient computed with `create_graph` flows back through it.
    node: Weak<Node>,
}

impl SavedTensor {
    /// Saves an input of the operation.
    pub fn input(t: &Tensor) -> SavedTensor {
        SavedTensor {
            tensor: Some(t.clone()),
            version: t.version(),
            is_output: false,
            node: Weak::new(),
        }
    }

    /// Saves an input only when `cond` holds (the gradient that needs it is wanted).
    pub fn input_if(t: &Tensor, cond: bool) -> Option<SavedTensor> {
        cond.then(|| SavedTensor::input(t))
    }

    /// Saves the output of the operation (without its `grad_fn`, which would be a cycle; the
    /// node is bound once it exists).
    pub fn output(t: &Tensor) -> SavedTensor {
        SavedTensor {
            tensor: Some(t.alias_with_layout(t.layout().clone())),
            version: t.version(),
            is_output: true,
            node: Weak::new(),
        }
    }

    /// PyTorch's error for a freed or since-modified saved tensor.
    fn error(&self) -> Option<String> {
        let Some(t) = self.tensor.as_ref() else {
            return Some(SECOND_BACKWARD_MSG.to_string());
        };
        let now = t.version();
        if now == self.version {
            return None;
        }
        // PyTorch names the operation without its "Backward0" suffix here.
        let op = |name: &'static str| name.rfind("Backward").map_or(name, |p| &name[..p]);
        let origin = if self.is_output {
            self.node
                .upgrade()
                .map(|n| format!(", which is output 0 of {},", op(n.name)))
                .unwrap_or_default()
        } else {
            match &t.meta().grad_fn {
                Some(n) => format!(", which is output 0 of {},", op(n.name)),
                None => String::new(),
            }
        };
        Some(format!(
            "one of the variables needed for gradient computation has been modified by an inplace operation: [{} {:?}]{} is at version {}; expected version {} instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).",
            t.dtype().legacy_type_name(),
            t.dims(),
            origin,
            now,
            self.version
        ))
    }

    /// The saved tensor, checking that it was neither freed nor modified in place since. A saved
    /// output unpacked while grad mode is on (a backward with `create_graph`) comes back with its
    /// node as `grad_fn`, so second derivatives flow through the operation that produced it.
    #[track_caller]
    pub fn get(&self) -> Tensor {
        if let Some(msg) = self.error() {
            panic!("{msg}");
        }
        let t = self.tensor.as_ref().expect("checked");
        if self.is_output && is_grad_enabled() {
            if let Some(node) = self.node.upgrade() {
                let out = t.alias_with_layout(t.layout().clone());
                out.meta().grad_fn = Some(node);
                out.0.requires_grad.store(true, Ordering::Relaxed);
                return out;
            }
        }
        t.clone()
    }

    /// Frees the tensor.
    pub fn release(&mut self) {
        self.tensor = None;
    }
}

/// A number a backward formula multiplies by, freed with the graph: PyTorch saves the scalar
/// operand of `mul` and `div` as a tensor, so a second backward through `x * 3.0` fails as in
/// PyTorch while one through `x + 1` does not.
pub(crate) struct SavedScalar(Option<f64>);

impl SavedScalar {
    pub fn new(v: f64) -> SavedScalar {
        SavedScalar(Some(v))
    }

    #[track_caller]
    pub fn get(&self) -> f64 {
        self.0.unwrap_or_else(|| panic!("{SECOND_BACKWARD_MSG}"))
    }
}

/// Something holding saved values that a finished backward pass frees.
pub(crate) trait Releasable {
    fn release(&mut self);
    /// Learns the node that owns it (saved outputs need it for double backward).
    fn bind(&mut self, _node: &Weak<Node>) {}
    /// PyTorch's error when the value cannot be used by a backward pass any more.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

impl Releasable for SavedTensor {
    fn release(&mut self) {
        SavedTensor::release(self)
    }
    fn bind(&mut self, node: &Weak<Node>) {
        if self.is_output {
            self.node = node.clone();
        }
    }
    fn check(&self) -> Result<(), String> {
        self.error().map_or(Ok(()), Err)
    }
}

impl Releasable for SavedScalar {
    fn release(&mut self) {
        self.0 = None;
    }
    fn check(&self) -> Result<(), String> {
        match self.0 {
            Some(_) => Ok(()),
            None => Err(SECOND_BACKWARD_MSG.to_string()),
        }
    }
}

impl<T: Releasable> Releasable for Option<T> {
    fn release(&mut self) {
        if let Some(s) = self {
            s.release();
        }
    }
    fn bind(&mut self, node: &Weak<Node>) {
        if let Some(s) = self {
            s.bind(node);
        }
    }
    fn check(&self) -> Result<(), String> {
        self.as_ref().map_or(Ok(()), |s| s.check())
    }
}

impl Releasable for Vec<SavedTensor> {
    fn release(&mut self) {
        for s in self {
            s.release();
        }
    }
    fn bind(&mut self, node: &Weak<Node>) {
        for s in self {
            s.bind(node);
        }
    }
    fn check(&self) -> Result<(), String> {
        self.iter().try_for_each(|s| s.check())
    }
}

/// Reads an optionally saved tensor (saved only when a gradient needed it).
pub(crate) trait SavedOpt {
    fn get(&self) -> Tensor;
}

impl SavedOpt for Option<SavedTensor> {
    #[track_caller]
    fn get(&self) -> Tensor {
        self.as_ref()
            .expect("a saved tensor needed by this gradient was not saved")
            .get()
    }
}
