//! Grad mode: the thread-local switch that decides whether operations are recorded.

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether operations are currently recorded for autograd (`torch.is_grad_enabled()`).
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Turns recording on or off for this thread (`torch.set_grad_enabled(mode)`).
pub fn set_grad_enabled(enabled: bool) {
    GRAD_ENABLED.with(|g| g.set(enabled));
}

/// Restores the previous grad mode when dropped. Made by [`NoGradGuard::new`] and
/// [`GradModeGuard::new`].
pub struct GradModeGuard {
    previous: bool,
}

impl GradModeGuard {
    /// Sets grad mode to `enabled` until the guard is dropped (`torch.set_grad_enabled` as a
    /// context manager).
    pub fn new(enabled: bool) -> GradModeGuard {
        let previous = is_grad_enabled();
        set_grad_enabled(enabled);
        GradModeGuard { previous }
    }
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.previous);
    }
}

/// Disables recording until dropped: `with torch.no_grad():` as a guard.
///
/// ```
/// use flambeau::{NoGradGuard, Tensor};
/// let w = Tensor::ones(2).requires_grad_(true);
/// {
///     let _guard = NoGradGuard::new();
///     assert!(!(&w * 2.0).requires_grad());
/// }
/// assert!((&w * 2.0).requires_grad());
/// ```
pub struct NoGradGuard {
    _guard: GradModeGuard,
}

impl NoGradGuard {
    /// Disables grad mode on this thread until the guard is dropped.
    pub fn new() -> NoGradGuard {
        NoGradGuard {
            _guard: GradModeGuard::new(false),
        }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `f` with recording disabled (`with torch.no_grad(): ...` as a closure).
///
/// ```
/// use flambeau::{no_grad, Tensor};
/// let w = Tensor::ones(2).requires_grad_(true);
/// let y = no_grad(|| &w * 2.0);
/// assert!(!y.requires_grad());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = GradModeGuard::new(false);
    f()
}

/// Runs `f` with recording enabled, even inside a `no_grad` region (`torch.enable_grad()`).
pub fn enable_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = GradModeGuard::new(true);
    f()
}
