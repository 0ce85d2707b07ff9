//! Reverse-mode automatic differentiation with PyTorch's semantics.
//!
//! Each differentiable operation records a [`Node`] holding its backward function, the tensors it
//! saved, and edges to the nodes (or leaf tensors) of its inputs. [`Tensor::backward`] sorts the
//! graph once, iteratively, and runs the nodes in PyTorch's order (most recently created first).

mod engine;
mod gradcheck;
mod mode;

pub use engine::grad;
pub use gradcheck::{GradcheckOptions, gradcheck};
pub use mode::{
    GradModeGuard, NoGradGuard, enable_grad, is_grad_enabled, no_grad, set_grad_enabled,
};

use crate::tensor::{Tensor, TensorImpl};
use smallvec::SmallVec;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// Gradients returned by a backward function, one per input (None: no gradient flows there).
pub(crate) type Grads = SmallVec<[Option<Tensor>; 2]>;

/// The derivative of one recorded operation.
pub(crate) trait Backward: Send {
    /// Given the gradient of the output, returns the gradients of the inputs. `needs[i]` says
    /// whether input `i` wants one, so that unneeded work can be skipped.
    fn backward(&mut self, grad: &Tensor, needs: &[bool]) -> Grads;

    /// Frees the saved tensors (after a backward pass without `retain_graph`).
    fn release(&mut self) {}
}

/// Where a gradient flows: into another node, or into a leaf tensor's `.grad` (PyTorch's
/// `AccumulateGrad`).
#[derive(Clone)]
pub(crate) enum Edge {
    Node(Arc<Node>),
    Leaf(Arc<TensorImpl>),
}

/// A recorded operation in the graph (PyTorch's `grad_fn`).
pub struct Node {
    pub(crate) name: &'static str,
    /// Creation order: the engine runs ready nodes newest first, as PyTorch does.
    pub(crate) seq: u64,
    pub(crate) edges: SmallVec<[Option<Edge>; 2]>,
    pub(crate) backward: Mutex<Box<dyn Backward>>,
    /// The non-leaf tensor whose gradient is retained (`retain_grad`).
    pub(crate) retained: Mutex<Option<Weak<TensorImpl>>>,
}

impl Node {
    /// PyTorch's name for the node, as printed in `grad_fn=<MulBackward0>`.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{}>", self.name)
    }
}

static NEXT_SEQ: AtomicU64 = AtomicU64::new(0);

/// What a dropped node still owns: its edges and its backward function (with saved tensors).
type Remains = (SmallVec<[Option<Edge>; 2]>, Box<dyn Backward>);

struct Released;
impl Backward for Released {
    fn backward(&mut self, _grad: &Tensor, needs: &[bool]) -> Grads {
        needs.iter().map(|_| None).collect()
    }
}

thread_local! {
    /// Nodes being torn down on this thread, dropped one by one instead of recursively, so that
    /// freeing a graph 100,000 nodes deep does not overflow the stack.
    static DROP_QUEUE: std::cell::RefCell<(bool, Vec<Remains>)> = const { std::cell::RefCell::new((false, Vec::new())) };
}

impl Drop for Node {
    fn drop(&mut self) {
        let edges = std::mem::take(&mut self.edges);
        let backward: Box<dyn Backward> = std::mem::replace(
            self.backward.get_mut().unwrap_or_else(|e| e.into_inner()),
            Box::new(Released),
        );
        let queued = DROP_QUEUE.try_with(|q| {
            let mut q = q.borrow_mut();
            q.1.push((edges, backward));
            if q.0 {
                return None; // an outer drop is draining the queue
            }
            q.0 = true;
            Some(())
        });
        match queued {
            Ok(Some(())) => loop {
                let next = DROP_QUEUE.with(|q| q.borrow_mut().1.pop());
                match next {
                    Some(remains) => drop(remains),
                    None => {
                        DROP_QUEUE.with(|q| q.borrow_mut().0 = false);
                        break;
                    }
                }
            },
            Ok(None) => {}
            Err(_) => {} // thread-local already gone: the remains were dropped in place
        }
    }
}

/// The edge a gradient for `t` should follow, if `t` takes part in autograd.
pub(crate) fn edge_of(t: &Tensor) -> Option<Edge> {
    if !t.0.requires_grad() {
        return None;
    }
    match &t.meta().grad_fn {
        Some(n) => {
            if t.0.is_view && t.0.view_rebases != t.0.storage.rebases() {
                // PyTorch regenerates such a view's grad_fn from its base; Flambeau refuses
                // rather than send gradients along the base's old graph.
                panic!(
                    "a view of a tensor was used after its base was modified by an in-place operation under autograd; Flambeau cannot yet rebase the view's grad_fn. Take the view after the in-place operation, or use the out-of-place operation."
                );
            }
            Some(Edge::Node(n.clone()))
        }
        None => Some(Edge::Leaf(t.0.clone())),
    }
}

/// Whether an operation on these inputs must be recorded.
#[inline]
pub(crate) fn needs_grad(inputs: &[&Tensor]) -> bool {
    inputs.iter().any(|t| t.0.requires_grad()) && is_grad_enabled()
}

/// Records `out = op(inputs)` in the graph when grad mode is on and an input requires grad.
/// `make` builds the backward function; it sees the output so it can save it.
#[inline]
pub(crate) fn record<B: Backward + 'static>(
    out: Tensor,
    name: &'static str,
    inputs: &[&Tensor],
    make: impl FnOnce(&Tensor) -> B,
) -> Tensor {
    if !needs_grad(inputs) {
        return out;
    }
    attach(&out, name, inputs, Box::new(make(&out)));
    out
}

/// Attaches a new node to `out` (which must not have one yet).
pub(crate) fn attach(
    out: &Tensor,
    name: &'static str,
    inputs: &[&Tensor],
    backward: Box<dyn Backward>,
) {
    let edges = inputs.iter().map(|t| edge_of(t)).collect();
    let node = Arc::new(Node {
        name,
        seq: NEXT_SEQ.fetch_add(1, Ordering::Relaxed),
        edges,
        backward: Mutex::new(backward),
        retained: Mutex::new(None),
    });
    out.meta().grad_fn = Some(node);
    out.0.requires_grad.store(true, Ordering::Relaxed);
}

/// A tensor kept by a node for its backward, with the version it had when saved so that a later
/// in-place change is detected, as PyTorch's `SavedVariable` does.
pub(crate) struct SavedTensor {
    tensor: Option<Tensor>,
    version: u64,
    /// For a saved output: the node that produced it (its name goes in the error message).
    output_of: Option<&'static str>,
}

/// PyTorch's message when a freed graph is walked again.
pub(crate) const SECOND_BACKWARD_MSG: &str = "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.";

impl SavedTensor {
    /// Saves an input of the operation.
    pub fn input(t: &Tensor) -> SavedTensor {
        SavedTensor {
            tensor: Some(t.clone()),
            version: t.version(),
            output_of: None,
        }
    }

    /// Saves an input only when `cond` holds (the gradient that needs it is wanted).
    pub fn input_if(t: &Tensor, cond: bool) -> Option<SavedTensor> {
        cond.then(|| SavedTensor::input(t))
    }

    /// Saves the output of the operation `name` (without its `grad_fn`, to avoid a cycle).
    pub fn output(t: &Tensor, name: &'static str) -> SavedTensor {
        SavedTensor {
            tensor: Some(t.alias_with_layout(t.layout().clone())),
            version: t.version(),
            output_of: Some(name),
        }
    }

    /// The saved tensor, checking that it was neither freed nor modified in place since.
    pub fn get(&self) -> &Tensor {
        let t = self
            .tensor
            .as_ref()
            .unwrap_or_else(|| panic!("{SECOND_BACKWARD_MSG}"));
        let now = t.version();
        if now != self.version {
            // PyTorch names the operation without its "Backward0" suffix here.
            let op = |name: &'static str| name.rfind("Backward").map_or(name, |p| &name[..p]);
            let origin = match self.output_of {
                Some(name) => format!(", which is output 0 of {},", op(name)),
                None => match &t.meta().grad_fn {
                    Some(n) => format!(", which is output 0 of {},", op(n.name)),
                    None => String::new(),
                },
            };
            panic!(
                "one of the variables needed for gradient computation has been modified by an inplace operation: [{} {:?}]{} is at version {}; expected version {} instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).",
                t.dtype().legacy_type_name(),
                t.dims(),
                origin,
                now,
                self.version
            );
        }
        t
    }

    /// Frees the tensor.
    pub fn release(&mut self) {
        self.tensor = None;
    }
}

/// Something holding saved tensors that a finished backward pass frees.
pub(crate) trait Releasable {
    fn release(&mut self);
}

impl Releasable for SavedTensor {
    fn release(&mut self) {
        SavedTensor::release(self)
    }
}

impl Releasable for Option<SavedTensor> {
    fn release(&mut self) {
        if let Some(s) = self {
            s.release();
        }
    }
}

impl Releasable for Vec<SavedTensor> {
    fn release(&mut self) {
        for s in self {
            s.release();
        }
    }
}

/// Reads an optionally saved tensor (saved only when a gradient needed it).
pub(crate) trait SavedOpt {
    fn get(&self) -> &Tensor;
}

impl SavedOpt for Option<SavedTensor> {
    fn get(&self) -> &Tensor {
        self.as_ref()
            .expect("a saved tensor needed by this gradient was not saved")
            .get()
    }
}

/// Implements `Backward` for a struct from a closure-like body, releasing the listed saved fields.
macro_rules! backward_fn {
    (
        $(#[$m:meta])*
        struct $name:ident { $($field:ident : $ty:ty),* $(,)? }
        saved [$($saved:ident),* $(,)?]
        fn backward(&mut $self_:ident, $grad:ident, $needs:ident) $body:block
    ) => {
        $(#[$m])*
        pub(crate) struct $name { $(pub(crate) $field: $ty),* }
        impl $crate::autograd::Backward for $name {
            #[allow(unused_variables)]
            fn backward(&mut $self_, $grad: &$crate::Tensor, $needs: &[bool]) -> $crate::autograd::Grads $body
            fn release(&mut self) {
                $($crate::autograd::Releasable::release(&mut self.$saved);)*
            }
        }
    };
}
pub(crate) use backward_fn;

impl Tensor {
    /// Whether gradients are tracked for this tensor (`tensor.requires_grad`).
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad()
    }

    /// Sets `requires_grad` on a leaf and returns the tensor, for chaining
    /// (`torch.ones(3).requires_grad_()`).
    ///
    /// Panics, as PyTorch does, when asked to stop tracking a non-leaf, or to track an integer tensor.
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let w = Tensor::randn([2, 2]).requires_grad_(true);
    /// assert!(w.requires_grad() && w.is_leaf());
    /// ```
    pub fn requires_grad_(&self, requires_grad: bool) -> Tensor {
        if !self.is_leaf() {
            if !requires_grad {
                panic!(
                    "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
                );
            }
            return self.clone();
        }
        if requires_grad && !self.dtype().is_float() {
            panic!("only Tensors of floating point dtype can require gradients");
        }
        self.0.requires_grad.store(requires_grad, Ordering::Relaxed);
        self.clone()
    }

    /// Whether the tensor is a leaf of the graph: created by the user rather than by a recorded
    /// operation (`tensor.is_leaf`).
    pub fn is_leaf(&self) -> bool {
        self.meta().grad_fn.is_none()
    }

    /// The node that produced this tensor, if it was recorded (`tensor.grad_fn`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let a = Tensor::ones(2).requires_grad_(true);
    /// assert_eq!((&a * 2.0).grad_fn().unwrap().name(), "MulBackward0");
    /// assert!(a.grad_fn().is_none());
    /// ```
    pub fn grad_fn(&self) -> Option<Arc<Node>> {
        self.meta().grad_fn.clone()
    }

    /// The accumulated gradient (`tensor.grad`), if any.
    pub fn grad(&self) -> Option<Tensor> {
        let meta = self.meta();
        if meta.grad.is_none() && meta.grad_fn.is_some() && !meta.retains_grad {
            crate::warn_once(
                "non_leaf_grad",
                "UserWarning: The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.",
            );
        }
        meta.grad.clone()
    }

    /// Replaces the gradient (`tensor.grad = g`); `None` clears it, as `zero_grad()` does.
    pub fn set_grad(&self, grad: Option<Tensor>) {
        if let Some(g) = &grad {
            if g.dims() != self.dims() {
                panic!(
                    "assigned grad has data of a different size: {:?} vs {:?}",
                    g.dims(),
                    self.dims()
                );
            }
            if g.dtype() != self.dtype() {
                panic!("assigned grad has data of a different type");
            }
        }
        self.meta().grad = grad;
    }

    /// Keeps the gradient of a non-leaf tensor after backward (`tensor.retain_grad()`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let x = Tensor::ones(2).requires_grad_(true);
    /// let y = &x * 3.0;
    /// y.retain_grad();
    /// y.sum().backward();
    /// assert_eq!(y.grad().unwrap().to_vec::<f32>(), vec![1.0, 1.0]);
    /// ```
    pub fn retain_grad(&self) {
        if !self.requires_grad() {
            panic!("can't retain_grad on Tensor that has requires_grad=False");
        }
        let mut meta = self.meta();
        if let Some(node) = &meta.grad_fn {
            *node.retained.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(Arc::downgrade(&self.0));
            meta.retains_grad = true;
        }
    }

    /// Whether `retain_grad` was called on this non-leaf (`tensor.retains_grad`).
    pub fn retains_grad(&self) -> bool {
        self.meta().retains_grad
    }

    /// A tensor sharing this one's data but cut from the graph (`tensor.detach()`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let x = Tensor::ones(2).requires_grad_(true);
    /// let y = (&x * 2.0).detach();
    /// assert!(!y.requires_grad() && y.is_leaf());
    /// ```
    pub fn detach(&self) -> Tensor {
        let mut t = self.alias_with_layout(self.layout().clone());
        if let Some(inner) = Arc::get_mut(&mut t.0) {
            inner.is_view = self.0.is_view;
        }
        t
    }

    /// Detaches in place: the tensor becomes a leaf that does not require grad (`detach_()`).
    pub fn detach_(&self) -> Tensor {
        self.meta().grad_fn = None;
        self.0.requires_grad.store(false, Ordering::Relaxed);
        self.clone()
    }

    /// Computes the gradient of this scalar with respect to the graph's leaves and accumulates it
    /// into their `.grad` (`tensor.backward()`); the graph is freed afterwards.
    ///
    /// ```
    /// use flambeau::tensor;
    /// let w = tensor!([2.0]).requires_grad_(true);
    /// let loss = (&w * &w).sum();
    /// loss.backward();
    /// assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![4.0]);
    /// ```
    pub fn backward(&self) {
        self.backward_with(None, false);
    }

    /// `tensor.backward(gradient, retain_graph=...)`: `gradient` is the gradient of some scalar with
    /// respect to this tensor (required when it is not a scalar).
    pub fn backward_with(&self, gradient: Option<&Tensor>, retain_graph: bool) {
        engine::backward(
            std::slice::from_ref(self),
            &[gradient.cloned()],
            retain_graph,
        );
    }
}

/// Computes and accumulates gradients of several outputs at once (`torch.autograd.backward`).
pub fn backward(tensors: &[Tensor], grad_tensors: &[Option<Tensor>], retain_graph: bool) {
    engine::backward(tensors, grad_tensors, retain_graph);
}
