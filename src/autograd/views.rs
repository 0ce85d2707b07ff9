//! Views under in-place operations, as PyTorch handles them. An in-place operation on a view
//! records the operation's node as usual, then gives the view's *base* a `CopySlices` node that
//! routes the base's gradient through it: the view's part of the gradient goes through the
//! operation, the rest flows to the base's previous graph. Every view whose graph position
//! predates such a change regenerates its `grad_fn` from the base's (`AsStridedBackward0`), so
//! views taken before the change see it, as in PyTorch.

use super::engine::validate_grad;
use super::{Backward, Grads, InputMeta, NamedBackward, Node, edge_of, is_grad_enabled, new_node};
use crate::shape::Shape;
use crate::tensor::Tensor;
use smallvec::smallvec;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The tensor's `grad_fn`; for a view whose base (or a sibling view) was modified in place under
/// autograd since the view's graph position was set, a regenerated one, as PyTorch's
/// `VariableHooks::grad_fn` does.
pub(crate) fn grad_fn_of(t: &Tensor) -> Option<Arc<Node>> {
    if let Some(view) = &t.0.view {
        let now = t.0.storage.rebases();
        if view.rebases.load(Ordering::Acquire) != now {
            let base = &view.base;
            if base.requires_grad() {
                let rel = view_positions(t, base);
                let node = new_node(
                    AsStridedBackward0::NAME,
                    smallvec![edge_of(base)],
                    smallvec![InputMeta::of(base)],
                    Box::new(AsStridedBackward0 {
                        base: InputMeta::of(base),
                        positions: rel,
                    }),
                );
                let mut meta = t.meta();
                meta.grad_fn = Some(node);
                t.0.requires_grad.store(true, Ordering::Relaxed);
            }
            view.rebases.store(now, Ordering::Release);
        }
    }
    t.meta().grad_fn.clone()
}

/// Whether `t` takes part in autograd, after bringing a stale view's graph position up to date
/// (a view of a constant becomes part of the graph when its base is changed in place by an
/// operation that records).
#[inline]
pub(crate) fn tracks_grad(t: &Tensor) -> bool {
    if let Some(view) = &t.0.view {
        if view.rebases.load(Ordering::Acquire) != t.0.storage.rebases() {
            let _ = grad_fn_of(t);
        }
    }
    t.0.requires_grad()
}

/// For every element of the view `v` (row-major), the row-major index of the element of `base`
/// at the same storage position, as an int64 tensor.
fn view_positions(v: &Tensor, base: &Tensor) -> Tensor {
    let bl = base.layout();
    if bl.is_contiguous() {
        // The usual base, a fresh tensor: an element's index is its offset from the base's.
        let mut rel = Vec::with_capacity(v.numel());
        v.layout()
            .for_each_offset(|o| rel.push((o - bl.offset) as i64));
        let n = rel.len();
        return Tensor::from_vec(rel, [n]);
    }
    let mut index_of = std::collections::HashMap::with_capacity(base.numel());
    let mut k = 0i64;
    bl.for_each_offset(|o| {
        index_of.entry(o).or_insert(k);
        k += 1;
    });
    let mut rel = Vec::with_capacity(v.numel());
    v.layout().for_each_offset(|o| {
        rel.push(
            *index_of
                .get(&o)
                .expect("a view's elements lie inside its base"),
        )
    });
    let n = rel.len();
    Tensor::from_vec(rel, [n])
}

/// The gradient of a view with respect to its base: added into zeros at the view's positions
/// (ATen's `as_strided_backward` for a view of a base without overlap). Written with tensor
/// operations, so it is differentiable again.
pub(crate) struct AsStridedBackward0 {
    base: InputMeta,
    positions: Tensor,
}

impl NamedBackward for AsStridedBackward0 {
    const NAME: &'static str = "AsStridedBackward0";
}

impl Backward for AsStridedBackward0 {
    fn backward(&mut self, grad: &Tensor, _needs: &[bool]) -> Grads {
        let n = self.base.shape.numel();
        let g = Tensor::zeros_dtype([n], grad.dtype())
            .index_add(0, &self.positions, &grad.reshape([-1]))
            .reshape(self.base.shape.dims());
        smallvec![Some(g)]
    }
}

/// The node an in-place operation on a view gives the view's base (PyTorch's `CopySlices`):
/// its first edge goes to the base's previous graph position, the others are those of `fn_`,
/// the in-place operation's own node, whose gradient for the view's old values replaces the
/// view's part of the base's gradient.
pub(crate) struct CopySlices {
    base: InputMeta,
    positions: Tensor,
    view_shape: Shape,
    fn_: Option<Arc<Node>>,
}

impl CopySlices {
    /// Rebases `base` after the in-place operation whose node is `fn_` changed the view `view`.
    pub(crate) fn rebase(base: &Tensor, view: &Tensor, fn_: Arc<Node>) {
        let mut edges = fn_.edges.clone();
        edges[0] = edge_of(base);
        let mut inputs = fn_.inputs.clone();
        inputs[0] = InputMeta::of(base);
        let node = new_node(
            CopySlices::NAME,
            edges,
            inputs,
            Box::new(CopySlices {
                base: InputMeta::of(base),
                positions: view_positions(view, base),
                view_shape: view.shape().clone(),
                fn_: Some(fn_),
            }),
        );
        base.meta().grad_fn = Some(node);
        base.0.requires_grad.store(true, Ordering::Relaxed);
        base.0.storage.bump_rebases();
    }
}

impl NamedBackward for CopySlices {
    const NAME: &'static str = "CopySlices";
}

impl Backward for CopySlices {
    fn backward(&mut self, grad: &Tensor, needs: &[bool]) -> Grads {
        let fn_ = self
            .fn_
            .as_ref()
            .unwrap_or_else(|| panic!("{}", super::SECOND_BACKWARD_MSG));
        let flat = grad.reshape([-1]);
        let slice = flat
            .index_select(0, &self.positions)
            .reshape(self.view_shape.dims());
        let mut fn_needs: smallvec::SmallVec<[bool; 4]> = needs.into();
        fn_needs[0] = true;
        let mut res = fn_
            .backward
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .backward(&slice, &fn_needs);
        let view_grad = res[0]
            .take()
            .map(|g| validate_grad(g, &fn_.inputs[0], fn_.name, 0));
        res[0] = needs[0].then(|| {
            let view_grad = view_grad
                .unwrap_or_else(|| Tensor::zeros_dtype(self.view_shape.dims(), self.base.dtype));
            flat.scatter(0, &self.positions, &view_grad.reshape([-1]))
                .reshape(self.base.shape.dims())
        });
        res
    }

    fn release(&mut self) {
        if let Some(f) = self.fn_.take() {
            f.backward
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .release();
        }
    }
}

/// PyTorch's checks before an in-place operation that autograd records (`check_inplace`):
/// leaves and views of leaves that require grad, outputs of multi-view ops and views made in
/// no-grad mode may not be modified.
#[track_caller]
pub(crate) fn check_inplace(t: &Tensor, records: bool) {
    if !records || !is_grad_enabled() {
        return;
    }
    if let Some(view) = &t.0.view {
        // Bring a stale view's graph position up to date first (it may require grad now).
        let _ = grad_fn_of(t);
        if let Some((op, k)) = view.multi_output {
            if view.base.requires_grad() || t.requires_grad() {
                panic!(
                    "Output {k} of {op} is a view and is being modified inplace. This view is the output of a function that returns multiple views. Such functions do not allow the output views to be modified inplace. You should replace the inplace operation by an out-of-place one."
                );
            }
        }
        if t.requires_grad() && view.base.is_leaf() {
            panic!(
                "a view of a leaf Variable that requires grad is being used in an in-place operation."
            );
        }
        if !t.requires_grad() && view.base.requires_grad() {
            panic!(
                "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked)."
            );
        }
    }
    if t.requires_grad() && t.is_leaf() {
        panic!("a leaf Variable that requires grad is being used in an in-place operation.");
    }
}

/// Makes `result` (computed out of place from a snapshot of `t`'s values that kept `t`'s graph
/// position) the graph position of the in-place-modified `t`: for a plain tensor its new
/// `grad_fn`; for a view, a `CopySlices` on its base. Views of the storage regenerate theirs.
pub(crate) fn rebase_history(t: &Tensor, result: &Tensor) {
    let Some(node) = result.grad_fn() else { return };
    match &t.0.view {
        Some(view) => CopySlices::rebase(&view.base, t, node),
        None => {
            let mut meta = t.meta();
            if meta.retains_grad {
                // PyTorch moves the retains_grad hook to the new grad_fn.
                if let Some(old) = &meta.grad_fn {
                    *old.retained.lock().unwrap_or_else(|e| e.into_inner()) = None;
                }
                *node.retained.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(Arc::downgrade(&t.0));
            }
            meta.grad_fn = Some(node);
            drop(meta);
            t.0.requires_grad.store(true, Ordering::Relaxed);
            t.0.storage.bump_rebases();
        }
    }
}
