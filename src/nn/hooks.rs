//! Forward hooks and forward pre-hooks on modules, with removable handles
//! (`register_forward_hook`, `register_forward_pre_hook`).
//!
//! PyTorch keeps hook dictionaries on every module instance and runs them in `Module.__call__`.
//! A Rust module is a plain struct whose `forward` is called directly, so hooks live in a
//! wrapper, [`Hooked`], around the module that should have them: it is the same module to
//! everything else (its `state_dict` keys, parameters, repr and `downcast_ref` are the inner
//! module's), and its `forward` runs the hooks around the inner `forward`.

use super::{FieldSink, Forward, Module, ModuleField};
use crate::autograd::RemovableHandle;
use crate::tensor::Tensor;
use std::sync::{Arc, Mutex, Weak};

type PreHook<M> = Arc<dyn Fn(&M, &Tensor) -> Option<Tensor> + Send + Sync>;
type PostHook<M> = Arc<dyn Fn(&M, &Tensor, &Tensor) -> Option<Tensor> + Send + Sync>;

/// The registered hooks of one module, in registration order.
struct HookLists<M> {
    pre: Mutex<Vec<(u64, PreHook<M>)>>,
    post: Mutex<Vec<(u64, PostHook<M>)>>,
}

impl<M> HookLists<M> {
    fn remove(&self, id: u64) {
        lock(&self.pre).retain(|(i, _)| *i != id);
        lock(&self.post).retain(|(i, _)| *i != id);
    }
}

/// A lock that survives a panicking hook on another thread (the lists stay consistent: each
/// change is one `push` or `retain`).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A module with forward hooks and forward pre-hooks.
///
/// A pre-hook sees the module and its input and may return a replacement input; a forward hook
/// sees the module, the input (after the pre-hooks) and the output, and may return a replacement
/// output. Each kind runs in registration order; each handle's `remove` unregisters its hook.
/// Hooks are called without any lock held, so a hook may register or remove hooks.
///
/// ```
/// use flambeau::nn::{Forward, Hooked, Linear, Module};
/// use flambeau::Tensor;
/// use std::sync::{Arc, Mutex};
///
/// let fc = Hooked::new(Linear::new(3, 2));
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// let handle = fc.register_forward_hook(move |m: &Linear, _input, output| {
///     log.lock().unwrap().push((m.out_features, output.dims().to_vec()));
///     None
/// });
/// let doubled = fc.register_forward_pre_hook(|_m: &Linear, input| Some(input * 2.0));
/// let x = Tensor::ones([4, 3]);
/// let y = fc.forward(&x);
/// assert!(y.allclose(&fc.module.forward(&(&x * 2.0)), 1e-6, 1e-6));
/// assert_eq!(*seen.lock().unwrap(), vec![(2, vec![4, 2])]);
/// handle.remove();
/// doubled.remove();
/// assert!(fc.forward(&x).equal(&fc.module.forward(&x)));
/// assert_eq!(seen.lock().unwrap().len(), 1);
/// // The wrapper is invisible to the state_dict and the repr.
/// assert_eq!(fc.state_dict().keys(), ["weight", "bias"]);
/// assert_eq!(format!("{fc}"), "Linear(in_features=3, out_features=2, bias=True)");
/// ```
pub struct Hooked<M> {
    /// The wrapped module.
    pub module: M,
    hooks: Arc<HookLists<M>>,
    remover: Arc<dyn Fn(u64) + Send + Sync>,
}

impl<M: Send + Sync + 'static> Hooked<M> {
    /// Wraps `module`, with no hooks yet.
    pub fn new(module: M) -> Hooked<M> {
        let hooks = Arc::new(HookLists {
            pre: Mutex::new(Vec::new()),
            post: Mutex::new(Vec::new()),
        });
        let weak = Arc::downgrade(&hooks);
        let remover: Arc<dyn Fn(u64) + Send + Sync> = Arc::new(move |id| {
            if let Some(h) = weak.upgrade() {
                h.remove(id);
            }
        });
        Hooked {
            module,
            hooks,
            remover,
        }
    }

    /// Registers `hook(module, input) -> Option<new input>`, run before each `forward`
    /// (`register_forward_pre_hook`).
    pub fn register_forward_pre_hook(
        &self,
        hook: impl Fn(&M, &Tensor) -> Option<Tensor> + Send + Sync + 'static,
    ) -> RemovableHandle {
        let id = RemovableHandle::next_id();
        lock(&self.hooks.pre).push((id, Arc::new(hook)));
        RemovableHandle::for_module(Arc::downgrade(&self.remover) as Weak<_>, id)
    }

    /// Registers `hook(module, input, output) -> Option<new output>`, run after each `forward`
    /// (`register_forward_hook`).
    pub fn register_forward_hook(
        &self,
        hook: impl Fn(&M, &Tensor, &Tensor) -> Option<Tensor> + Send + Sync + 'static,
    ) -> RemovableHandle {
        let id = RemovableHandle::next_id();
        lock(&self.hooks.post).push((id, Arc::new(hook)));
        RemovableHandle::for_module(Arc::downgrade(&self.remover) as Weak<_>, id)
    }

    /// The number of registered (pre-hooks, forward hooks).
    ///
    /// ```
    /// use flambeau::nn::{Hooked, ReLU};
    /// let m = Hooked::new(ReLU::new());
    /// let h = m.register_forward_hook(|_, _, _| None);
    /// assert_eq!(m.num_hooks(), (0, 1));
    /// h.remove();
    /// assert_eq!(m.num_hooks(), (0, 0));
    /// ```
    pub fn num_hooks(&self) -> (usize, usize) {
        (lock(&self.hooks.pre).len(), lock(&self.hooks.post).len())
    }

    /// The wrapped module, without its hooks.
    pub fn into_inner(self) -> M {
        self.module
    }
}

impl<M> std::ops::Deref for Hooked<M> {
    type Target = M;
    fn deref(&self) -> &M {
        &self.module
    }
}

impl<M: Forward + Send + Sync + 'static> Forward for Hooked<M> {
    /// Runs the pre-hooks, the module's `forward`, then the forward hooks. The lists are copied
    /// before any hook runs, so hooks registered or removed meanwhile count from the next call.
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        let pre: Vec<PreHook<M>> = lock(&self.hooks.pre)
            .iter()
            .map(|(_, h)| h.clone())
            .collect();
        let mut x = input.clone();
        for h in pre {
            if let Some(new) = h(&self.module, &x) {
                x = new;
            }
        }
        let mut y = self.module.forward(&x);
        let post: Vec<PostHook<M>> = lock(&self.hooks.post)
            .iter()
            .map(|(_, h)| h.clone())
            .collect();
        for h in post {
            if let Some(new) = h(&self.module, &x, &y) {
                y = new;
            }
        }
        y
    }
}

impl<M: Module + 'static> Module for Hooked<M> {
    fn visit_fields<'a>(&'a self, sink: &mut FieldSink<'a>) {
        self.module.visit_fields(sink)
    }
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
        self.module.map_tensors(f)
    }
    fn type_name(&self) -> String {
        self.module.type_name()
    }
    fn extra_repr(&self) -> String {
        self.module.extra_repr()
    }
    fn repr(&self) -> String {
        self.module.repr()
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
    /// The inner module's: `downcast_ref::<Linear>()` matches a `Hooked<Linear>`.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        self.module.as_any()
    }
}

impl<M: Module + 'static> ModuleField for Hooked<M> {
    fn collect<'a>(&'a self, name: &str, sink: &mut FieldSink<'a>) {
        sink.child(name, self);
    }
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
        self.module.map_tensors(f)
    }
}

impl<M: Module + 'static> std::fmt::Display for Hooked<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.module.repr())
    }
}
