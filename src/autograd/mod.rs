//! Reverse-mode automatic differentiation with PyTorch's semantics.
//!
//! Each differentiable operation records a [`Node`] holding its backward function (a struct named
//! as PyTorch names the node, `MulBackward0`), the tensors it saved, and edges to the nodes (or
//! leaf tensors) of its inputs with their shapes and dtypes. [`Tensor::backward`] sorts the graph
//! once, iteratively, and runs the nodes in PyTorch's order (most recently created first).
//! Backward formulas are tensor operations, so with `create_graph` they are recorded too and a
//! gradient can be differentiated again.

mod engine;
mod gradcheck;
mod hooks;
mod mode;
mod saved;
mod views;

pub use engine::{backward, grad};
pub use gradcheck::{GradcheckOptions, gradcheck, gradgradcheck};
pub use hooks::RemovableHandle;
pub(crate) use hooks::TensorHook;
pub use mode::{
    GradModeGuard, NoGradGuard, enable_grad, is_grad_enabled, no_grad, set_grad_enabled,
};
pub(crate) use saved::{Releasable, SECOND_BACKWARD_MSG, SavedOpt, SavedScalar, SavedTensor};
pub(crate) use views::{check_inplace, grad_fn_of, rebase_history, tracks_grad};

use crate::dtype::DType;
use crate::shape::Shape;
use crate::tensor::{Tensor, TensorImpl};
use smallvec::SmallVec;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// Gradients returned by a backward function, one per input (None: no gradient flows there).
/// A gradient may still have a broadcast shape or another dtype: the engine sums it to the
/// input's shape and casts it, once, for every node.
pub(crate) type Grads = SmallVec<[Option<Tensor>; 2]>;

/// The derivative of one recorded operation.
pub(crate) trait Backward: Send {
    /// Given the gradient of the output, returns the gradients of the inputs. `needs[i]` says
    /// whether input `i` wants one, so that unneeded work can be skipped.
    fn backward(&mut self, grad: &Tensor, needs: &[bool]) -> Grads;

    /// Frees the saved tensors (after a backward pass without `retain_graph`).
    fn release(&mut self) {}

    /// Tells saved outputs which node produced them, once the node exists.
    fn bind(&mut self, _node: &Weak<Node>) {}

    /// PyTorch's error, if a saved value was freed by an earlier backward pass or modified in
    /// place since it was saved.
    fn check_saved(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A backward function with PyTorch's name for its node.
pub(crate) trait NamedBackward: Backward {
    /// The node's name, as printed in `grad_fn=<MulBackward0>`.
    const NAME: &'static str;
}

/// Where a gradient flows: into another node, or into a leaf tensor's `.grad` (PyTorch's
/// `AccumulateGrad`).
#[derive(Clone)]
pub(crate) enum Edge {
    Node(Arc<Node>),
    Leaf(Arc<TensorImpl>),
}

/// The shape and dtype of an operation's input: what its gradient must have (PyTorch's
/// `InputMetadata`).
#[derive(Clone, Debug)]
pub(crate) struct InputMeta {
    pub shape: Shape,
    pub dtype: DType,
}

impl InputMeta {
    pub fn of(t: &Tensor) -> InputMeta {
        InputMeta {
            shape: t.shape().clone(),
            dtype: t.dtype(),
        }
    }
}

/// A recorded operation in the graph (PyTorch's `grad_fn`).
pub struct Node {
    pub(crate) name: &'static str,
    /// Creation order: the engine runs ready nodes newest first, as PyTorch does.
    pub(crate) seq: u64,
    pub(crate) edges: SmallVec<[Option<Edge>; 2]>,
    pub(crate) inputs: SmallVec<[InputMeta; 2]>,
    pub(crate) backward: Mutex<Box<dyn Backward>>,
    /// The non-leaf tensor whose gradient is retained (`retain_grad`).
    pub(crate) retained: Mutex<Option<Weak<TensorImpl>>>,
    /// Hooks registered on the tensor this node produced, run on its gradient first.
    pub(crate) hooks: Mutex<Vec<(u64, TensorHook)>>,
}

impl Node {
    /// PyTorch's name for the node, as printed in `grad_fn=<MulBackward0>`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The nodes the gradient flows to next, one per input (`grad_fn.next_functions`); `None`
    /// for inputs that take no gradient, and the name `AccumulateGrad` for leaves.
    pub fn next_functions(&self) -> Vec<Option<&'static str>> {
        self.edges
            .iter()
            .map(|e| {
                e.as_ref().map(|e| match e {
                    Edge::Node(n) => n.name,
                    Edge::Leaf(_) => "AccumulateGrad",
                })
            })
            .collect()
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
        if let Ok(Some(())) = queued {
            loop {
                let next = DROP_QUEUE.with(|q| q.borrow_mut().1.pop());
                match next {
                    Some(remains) => drop(remains),
                    None => {
                        DROP_QUEUE.with(|q| q.borrow_mut().0 = false);
                        break;
                    }
                }
            }
        }
    }
}

/// The edge a gradient for `t` should follow, if `t` takes part in autograd.
pub(crate) fn edge_of(t: &Tensor) -> Option<Edge> {
    if !tracks_grad(t) {
        return None;
    }
    match grad_fn_of(t) {
        Some(n) => Some(Edge::Node(n)),
        None => Some(Edge::Leaf(t.0.clone())),
    }
}

/// Whether an operation on these inputs must be recorded.
#[inline]
pub(crate) fn needs_grad(inputs: &[&Tensor]) -> bool {
    is_grad_enabled() && inputs.iter().any(|t| tracks_grad(t))
}

/// Records `out = op(inputs)` in the graph when grad mode is on and an input requires grad.
/// `make` builds the backward function; it sees the output so it can save it.
#[inline]
#[track_caller]
pub(crate) fn record<B: NamedBackward + 'static>(
    out: Tensor,
    inputs: &[&Tensor],
    make: impl FnOnce(&Tensor) -> B,
) -> Tensor {
    if !needs_grad(inputs) {
        return out;
    }
    attach(&out, B::NAME, inputs, Box::new(make(&out)));
    out
}

/// Attaches a new node to `out` (which must not have one yet).
pub(crate) fn attach(
    out: &Tensor,
    name: &'static str,
    inputs: &[&Tensor],
    backward: Box<dyn Backward>,
) -> Arc<Node> {
    let edges = inputs.iter().map(|t| edge_of(t)).collect();
    let metas = inputs.iter().map(|t| InputMeta::of(t)).collect();
    let node = new_node(name, edges, metas, backward);
    out.meta().grad_fn = Some(node.clone());
    out.0.requires_grad.store(true, Ordering::Relaxed);
    node
}

/// A node with the next sequence number; saved outputs learn their node through `bind`.
pub(crate) fn new_node(
    name: &'static str,
    edges: SmallVec<[Option<Edge>; 2]>,
    inputs: SmallVec<[InputMeta; 2]>,
    mut backward: Box<dyn Backward>,
) -> Arc<Node> {
    Arc::new_cyclic(|weak| {
        backward.bind(weak);
        Node {
            name,
            seq: NEXT_SEQ.fetch_add(1, Ordering::Relaxed),
            edges,
            inputs,
            backward: Mutex::new(backward),
            retained: Mutex::new(None),
            hooks: Mutex::new(Vec::new()),
        }
    })
}

/// Declares a backward function: a struct per PyTorch node name (several names may share one
/// body, listed after `names`, as PyTorch's `SqueezeBackward0/1` do), its saved fields (freed after a backward pass
/// without `retain_graph`, and told their node for double backward), and the formula.
macro_rules! backward_fn {
    (
        $(#[$m:meta])*
        struct $name:ident $fields:tt
        $(names [$($alias:ident),* $(,)?])?
        saved $saved:tt
        fn backward(&mut $self_:ident, $grad:ident, $needs:ident) $body:block
    ) => {
        $crate::autograd::backward_fn!(@one [$(#[$m])*] $name $fields $saved $self_ $grad $needs $body);
        $($(
            $crate::autograd::backward_fn!(@one [#[doc = concat!("Like [`", stringify!($name), "`], under PyTorch's name `", stringify!($alias), "`.")]] $alias $fields $saved $self_ $grad $needs $body);
        )*)?
    };
    (@one [$(#[$m:meta])*] $name:ident { $($field:ident : $ty:ty),* $(,)? } [$($saved:ident),* $(,)?] $self_:ident $grad:ident $needs:ident $body:block) => {
        $(#[$m])*
        #[allow(non_camel_case_types)]
        pub(crate) struct $name { $(pub(crate) $field: $ty),* }
        impl $crate::autograd::Backward for $name {
            #[allow(unused_variables)]
            fn backward(&mut $self_, $grad: &$crate::Tensor, $needs: &[bool]) -> $crate::autograd::Grads $body
            fn release(&mut self) {
                $($crate::autograd::Releasable::release(&mut self.$saved);)*
            }
            #[allow(unused_variables)]
            fn bind(&mut self, node: &std::sync::Weak<$crate::autograd::Node>) {
                $($crate::autograd::Releasable::bind(&mut self.$saved, node);)*
            }
            fn check_saved(&self) -> Result<(), String> {
                $($crate::autograd::Releasable::check(&self.$saved)?;)*
                Ok(())
            }
        }
        impl $crate::autograd::NamedBackward for $name {
            const NAME: &'static str = stringify!($name);
        }
    };
}
pub(crate) use backward_fn;

impl Tensor {
    /// Whether gradients are tracked for this tensor (`tensor.requires_grad`).
    pub fn requires_grad(&self) -> bool {
        tracks_grad(self)
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
    #[track_caller]
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
        self.grad_fn().is_none()
    }

    /// The node that produced this tensor, if it was recorded (`tensor.grad_fn`). For a view
    /// whose base was changed in place, this is the regenerated node (`AsStridedBackward0`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let a = Tensor::ones(2).requires_grad_(true);
    /// assert_eq!((&a * 2.0).grad_fn().unwrap().name(), "MulBackward0");
    /// assert!(a.grad_fn().is_none());
    /// ```
    pub fn grad_fn(&self) -> Option<Arc<Node>> {
        grad_fn_of(self)
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
    #[track_caller]
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
                panic!(
                    "attempting to assign a gradient with dtype '{}' to a tensor with grad_dtype '{}'. The gradient must match the tensor's grad_dtype (defaults to the tensor's dtype). You can set the tensor's grad_dtype attribute with a specific dtype, or None to allow any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its gradient may break downstream systems that assume they match.",
                    g.dtype().scalar_name().to_lowercase(),
                    self.dtype().scalar_name()
                );
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
    #[track_caller]
    pub fn retain_grad(&self) {
        if !self.requires_grad() {
            panic!("can't retain_grad on Tensor that has requires_grad=False");
        }
        if let Some(node) = grad_fn_of(self) {
            *node.retained.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(Arc::downgrade(&self.0));
            self.meta().retains_grad = true;
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
        self.alias_with_layout(self.layout().clone())
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
    #[track_caller]
    pub fn backward(&self) {
        self.backward_with(None, false, false);
    }

    /// `tensor.backward(gradient, retain_graph, create_graph)`: `gradient` is the gradient of
    /// some scalar with respect to this tensor (required when it is not a scalar); with
    /// `create_graph` the backward pass is itself recorded, so the accumulated gradients can be
    /// differentiated again (PyTorch's default `retain_graph` is `create_graph`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let x = tensor!([1.0, 2.0]).requires_grad_(true);
    /// x.pow(3).sum().backward_with(None, true, true);
    /// let g = x.grad().unwrap(); // 3x², recorded
    /// assert_eq!(g.grad_fn().unwrap().name(), "CopyBackwards");
    /// ```
    #[track_caller]
    pub fn backward_with(&self, gradient: Option<&Tensor>, retain_graph: bool, create_graph: bool) {
        engine::backward(
            std::slice::from_ref(self),
            &[gradient.cloned()],
            retain_graph,
            create_graph,
        );
    }
}
