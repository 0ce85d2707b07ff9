//! Tensor gradient hooks (`tensor.register_hook`): functions run on a tensor's gradient when it
//! is complete, before it flows on (or is accumulated into a leaf's `.grad`), which may replace it.

use super::{Node, grad_fn_of};
use crate::tensor::{Tensor, TensorImpl};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// A gradient hook: returns a replacement gradient, or `None` to keep it.
pub(crate) type TensorHook = Arc<dyn Fn(&Tensor) -> Option<Tensor> + Send + Sync>;

static NEXT_HOOK: AtomicU64 = AtomicU64::new(0);

enum HookOwner {
    Node(Weak<Node>),
    Leaf(Weak<TensorImpl>),
    /// A module's forward hooks (`nn::Hooked`): removal calls back into their list.
    Module(Weak<dyn Fn(u64) + Send + Sync>),
}

/// Removes a hook again (PyTorch's `RemovableHandle`).
///
/// ```
/// use flambeau::Tensor;
/// let x = Tensor::ones(3).requires_grad_(true);
/// let handle = x.register_hook(|g| Some(g * 2.0));
/// (&x * &x).sum().backward();
/// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![4.0; 3]);
/// handle.remove();
/// x.set_grad(None);
/// (&x * &x).sum().backward();
/// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2.0; 3]);
/// ```
pub struct RemovableHandle {
    owner: HookOwner,
    id: u64,
}

impl RemovableHandle {
    /// A handle whose `remove` calls `remove(id)` while the owner is alive (module hooks).
    pub(crate) fn for_module(remove: Weak<dyn Fn(u64) + Send + Sync>, id: u64) -> RemovableHandle {
        RemovableHandle {
            owner: HookOwner::Module(remove),
            id,
        }
    }

    /// A fresh hook id, unique across tensors and modules.
    pub(crate) fn next_id() -> u64 {
        NEXT_HOOK.fetch_add(1, Ordering::Relaxed)
    }

    /// Unregisters the hook; later backward passes no longer run it.
    pub fn remove(&self) {
        match &self.owner {
            HookOwner::Node(n) => {
                if let Some(n) = n.upgrade() {
                    n.hooks
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .retain(|(id, _)| *id != self.id);
                }
            }
            HookOwner::Module(remove) => {
                if let Some(remove) = remove.upgrade() {
                    remove(self.id);
                }
            }
            HookOwner::Leaf(t) => {
                if let Some(t) = t.upgrade() {
                    t.meta
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .hooks
                        .retain(|(id, _)| *id != self.id);
                }
            }
        }
    }
}

/// Runs hooks in registration order, each seeing the previous one's result, with PyTorch's
/// checks that a hook keeps the gradient's shape and dtype.
#[track_caller]
pub(crate) fn run_hooks(hooks: &[(u64, TensorHook)], mut grad: Tensor) -> Tensor {
    for (_, hook) in hooks {
        if let Some(g) = hook(&grad) {
            if g.dims() != grad.dims() {
                panic!("hook 'hook' has changed the size of value");
            }
            if g.dtype() != grad.dtype() {
                panic!(
                    "hook 'hook' has changed the type of value (was {} got {})",
                    grad.dtype().legacy_type_name(),
                    g.dtype().legacy_type_name()
                );
            }
            grad = g;
        }
    }
    grad
}

impl Tensor {
    /// Registers a hook run on this tensor's gradient each time it is computed
    /// (`tensor.register_hook(hook)`): returning `Some(g)` replaces the gradient (for the rest
    /// of the backward pass and for `.grad`), `None` keeps it. Hooks run in registration order,
    /// before `retain_grad` stores a non-leaf's gradient; they also run under `autograd::grad`.
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let x = Tensor::ones(3).requires_grad_(true);
    /// let y = &x * 2.0;
    /// y.register_hook(|g| Some(g + 1.0));
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![4.0; 3]);
    /// ```
    #[track_caller]
    pub fn register_hook(
        &self,
        hook: impl Fn(&Tensor) -> Option<Tensor> + Send + Sync + 'static,
    ) -> RemovableHandle {
        if !self.requires_grad() {
            panic!("cannot register a hook on a tensor that doesn't require gradient");
        }
        let id = NEXT_HOOK.fetch_add(1, Ordering::Relaxed);
        let hook: TensorHook = Arc::new(hook);
        let owner = match grad_fn_of(self) {
            Some(node) => {
                node.hooks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((id, hook));
                HookOwner::Node(Arc::downgrade(&node))
            }
            None => {
                self.meta().hooks.push((id, hook));
                HookOwner::Leaf(Arc::downgrade(&self.0))
            }
        };
        RemovableHandle { owner, id }
    }
}
