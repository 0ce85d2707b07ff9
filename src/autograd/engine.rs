//! The backward pass: one iterative walk to count dependencies, then nodes run newest-first as
//! their gradients become complete (PyTorch's ready queue ordered by sequence number).

use super::hooks::run_hooks;
use super::mode::{GradModeGuard, is_grad_enabled};
use super::{Edge, InputMeta, edge_of};
use crate::tensor::{Tensor, TensorImpl};
use smallvec::SmallVec;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// One node or leaf taking part in a backward pass.
struct Item {
    edge: Edge,
    /// Gradients still to arrive before this item can run.
    deps: usize,
    /// The sum of the gradients received so far.
    buffer: Option<Tensor>,
    /// `autograd::grad`: the position of this item among the requested inputs.
    capture: Option<usize>,
    /// Whether running this item's backward can reach a requested gradient.
    exec: bool,
    /// Whether the item was put on the ready heap.
    queued: bool,
}

fn key_of(edge: &Edge) -> usize {
    match edge {
        Edge::Node(n) => Arc::as_ptr(n) as *const u8 as usize,
        Edge::Leaf(l) => Arc::as_ptr(l) as *const u8 as usize,
    }
}

/// Sums gradients arriving at one place. The first gradient is kept as is (it is never
/// modified in place), later ones are added out of place; recorded when building a graph.
fn accumulate(buffer: &mut Option<Tensor>, g: Tensor) {
    *buffer = Some(match buffer.take() {
        None => g,
        Some(b) if is_grad_enabled() => b.add(&g),
        Some(b) => b.add_tensor_raw(&g),
    });
}

/// PyTorch's `AccumulateGrad`: the first gradient becomes `.grad` (stolen when nothing else
/// holds it, else copied; with `create_graph` a recorded copy), later ones are added in place
/// (out of place and recorded with `create_graph`).
fn accumulate_into(target: &Arc<TensorImpl>, g: Tensor) {
    let mut meta = target.meta.lock().unwrap_or_else(|e| e.into_inner());
    let recording = is_grad_enabled();
    match &meta.grad {
        None => {
            let owned = if recording {
                drop(meta);
                let copy = Tensor::zeros_like(&g);
                copy.copy_(&g);
                meta = target.meta.lock().unwrap_or_else(|e| e.into_inner());
                copy
            } else if stealable(&g) {
                if g.0.view.is_none() && !g.0.requires_grad() {
                    // A fresh result outside any graph: it becomes `.grad` as it is.
                    g
                } else {
                    // A plain alias of the same buffer (a view's link to its base is not kept).
                    g.alias_with_layout(g.layout().clone())
                }
            } else {
                g.clone_tensor_raw()
            };
            meta.grad = Some(owned);
        }
        Some(existing) => {
            let existing = existing.clone();
            if recording {
                drop(meta);
                let sum = existing.add(&g);
                target.meta.lock().unwrap_or_else(|e| e.into_inner()).grad = Some(sum);
            } else {
                drop(meta);
                existing.add_assign_raw(&g);
            }
        }
    }
}

/// Whether a gradient's buffer can become `.grad` without a copy (PyTorch steals it when
/// nothing else holds it): the only references are this handle and, for a view of a fresh
/// result, that result, and the buffer is exactly the gradient's elements.
fn stealable(g: &Tensor) -> bool {
    let base_refs = match &g.0.view {
        None => 0,
        Some(v) if Arc::strong_count(&v.base.0) == 1 => 1,
        Some(_) => return false,
    };
    Arc::strong_count(&g.0) == 1
        && Arc::strong_count(&g.0.storage) == 1 + base_refs
        && g.layout().offset == 0
        && g.is_contiguous()
        && g.storage().len() == g.numel()
}

/// PyTorch's `validate_outputs` for one gradient: summed back to the input's shape when it has a
/// broadcast shape, and cast to the input's dtype, once here for every node.
#[track_caller]
pub(crate) fn validate_grad(g: Tensor, meta: &InputMeta, node: &str, index: usize) -> Tensor {
    let g = if g.dims() != meta.shape.dims() {
        if !expandable(meta.shape.dims(), g.dims()) {
            panic!(
                "Function {node} returned an invalid gradient at index {index} - got {:?} but expected shape compatible with {:?}",
                g.dims(),
                meta.shape.dims()
            );
        }
        g.sum_to_size(meta.shape.dims())
    } else {
        g
    };
    if g.dtype() != meta.dtype {
        g.to_dtype(meta.dtype)
    } else {
        g
    }
}

/// Whether `shape` broadcasts to `target` (so a gradient of `target`'s shape sums back to it).
fn expandable(shape: &[usize], target: &[usize]) -> bool {
    shape.len() <= target.len()
        && shape
            .iter()
            .rev()
            .zip(target.iter().rev())
            .all(|(&s, &t)| s == t || s == 1)
}

/// A copy of registered hooks to run outside the lock, or `None` when there are none (the
/// common case costs no allocation).
fn hooks_of(hooks: &[(u64, super::TensorHook)]) -> Option<Vec<(u64, super::TensorHook)>> {
    (!hooks.is_empty()).then(|| hooks.to_vec())
}

/// Hashes the graph's keys, node and leaf addresses, with one multiply (Fibonacci hashing): they
/// are unique and need no protection against crafted collisions, and SipHash was a visible part
/// of a small model's backward pass.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        // Fold the well-mixed high bits into the low ones the table indexes with.
        self.0 ^ (self.0 >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, v: usize) {
        self.0 = (v as u64 >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Graphs with at most this many items find an item by a scan of their keys: a training step
/// of a tiny model has a handful of nodes, for which building a hash table (allocating it,
/// growing it, hashing every lookup) was a visible part of the backward pass.
const SCAN_ITEMS: usize = 32;

/// The items a graph's vectors first have room for.
const GRAPH_CAPACITY: usize = 8;

struct Graph {
    items: Vec<Item>,
    /// `key_of` each item's edge, by position.
    keys: Vec<usize>,
    /// Position by key, filled once the graph has more than [`SCAN_ITEMS`] items.
    index: HashMap<usize, usize, BuildHasherDefault<AddressHasher>>,
}

impl Graph {
    /// The position of the item with this key, if it is in the graph.
    fn find(&self, key: usize) -> Option<usize> {
        if self.keys.len() <= SCAN_ITEMS {
            self.keys.iter().position(|&k| k == key)
        } else {
            self.index.get(&key).copied()
        }
    }

    /// The position of the item an edge of the graph leads to.
    fn at(&self, edge: &Edge) -> usize {
        self.find(key_of(edge))
            .expect("every edge of the graph was discovered")
    }

    fn slot(&mut self, edge: &Edge, stack: &mut Vec<usize>) -> usize {
        let key = key_of(edge);
        if let Some(i) = self.find(key) {
            return i;
        }
        let i = self.items.len();
        self.items.push(Item {
            edge: edge.clone(),
            deps: 0,
            buffer: None,
            capture: None,
            exec: true,
            queued: false,
        });
        self.keys.push(key);
        if self.keys.len() == SCAN_ITEMS + 1 {
            self.index
                .extend(self.keys.iter().enumerate().map(|(j, &k)| (k, j)));
        } else if self.keys.len() > SCAN_ITEMS {
            self.index.insert(key, i);
        }
        if matches!(edge, Edge::Node(_)) {
            stack.push(i);
        }
        i
    }

    /// Discovers every node reachable from the roots and counts incoming edges, without recursion.
    fn build(roots: &[Edge]) -> (Graph, SmallVec<[usize; 1]>) {
        // Sized for a small model's step, so that discovering its handful of nodes does not
        // grow the vectors one reallocation at a time.
        let mut g = Graph {
            items: Vec::with_capacity(GRAPH_CAPACITY),
            keys: Vec::with_capacity(GRAPH_CAPACITY),
            index: HashMap::default(),
        };
        let mut stack = Vec::with_capacity(GRAPH_CAPACITY);
        let root_ids = roots.iter().map(|e| g.slot(e, &mut stack)).collect();
        while let Some(i) = stack.pop() {
            let node = match &g.items[i].edge {
                Edge::Node(n) => n.clone(),
                Edge::Leaf(_) => continue,
            };
            for e in node.edges.iter().flatten() {
                let j = g.slot(e, &mut stack);
                g.items[j].deps += 1;
            }
        }
        (g, root_ids)
    }

    fn children(&self, i: usize) -> Vec<usize> {
        match &self.items[i].edge {
            Edge::Node(n) => n.edges.iter().flatten().map(|e| self.at(e)).collect(),
            Edge::Leaf(_) => Vec::new(),
        }
    }

    /// For `autograd::grad`: marks which items must run so that no work is spent on parts of the
    /// graph that cannot reach a requested input.
    fn prune(&mut self) {
        // Kahn order from the roots, then a reverse sweep.
        let mut deps: Vec<usize> = self.items.iter().map(|it| it.deps).collect();
        let mut order = Vec::with_capacity(self.items.len());
        let mut ready: Vec<usize> = (0..self.items.len()).filter(|&i| deps[i] == 0).collect();
        while let Some(i) = ready.pop() {
            order.push(i);
            for c in self.children(i) {
                deps[c] -= 1;
                if deps[c] == 0 {
                    ready.push(c);
                }
            }
        }
        let mut needed = vec![false; self.items.len()];
        for &i in order.iter().rev() {
            let exec = self.children(i).iter().any(|&c| needed[c]);
            self.items[i].exec = exec;
            needed[i] = exec || self.items[i].capture.is_some();
        }
    }
}

/// Runs a backward pass. With `inputs`, returns their gradients instead of accumulating into
/// `.grad` (`autograd.grad`); otherwise accumulates into every reachable leaf.
#[track_caller]
fn run(
    outputs: &[Tensor],
    grad_outputs: &[Option<Tensor>],
    retain_graph: bool,
    create_graph: bool,
    inputs: Option<&[&Tensor]>,
) -> Vec<Option<Tensor>> {
    if outputs.len() != grad_outputs.len() {
        panic!(
            "grad can be implicitly created only for scalar outputs: got {} tensors and {} gradients",
            outputs.len(),
            grad_outputs.len()
        );
    }
    // With `create_graph` the backward formulas are recorded like any other operations.
    let _mode = GradModeGuard::new(create_graph);
    let mut roots: SmallVec<[Edge; 1]> = SmallVec::with_capacity(outputs.len());
    let mut root_grads: SmallVec<[Tensor; 1]> = SmallVec::with_capacity(outputs.len());
    for (k, (out, g)) in outputs.iter().zip(grad_outputs).enumerate() {
        let Some(edge) = edge_of(out) else {
            panic!("element {k} of tensors does not require grad and does not have a grad_fn")
        };
        let g = match g {
            Some(g) => {
                if g.dims() != out.dims() {
                    panic!(
                        "Mismatch in shape: grad_output[{k}] has a shape of {:?} and output[{k}] has a shape of {:?}.",
                        g.shape(),
                        out.shape()
                    );
                }
                if g.dtype() != out.dtype() {
                    g.to_dtype(out.dtype())
                } else {
                    g.clone()
                }
            }
            None => {
                if out.numel() != 1 {
                    panic!("grad can be implicitly created only for scalar outputs");
                }
                Tensor::ones_like(out)
            }
        };
        roots.push(edge);
        root_grads.push(g);
    }

    let (mut graph, root_ids) = Graph::build(&roots);
    let n_inputs = inputs.map_or(0, |i| i.len());
    if let Some(inputs) = inputs {
        for (k, t) in inputs.iter().enumerate() {
            let Some(edge) = edge_of(t) else {
                panic!("One of the differentiated Tensors does not require grad")
            };
            if let Some(i) = graph.find(key_of(&edge)) {
                graph.items[i].capture = Some(k);
            }
        }
        graph.prune();
    }
    for (&i, g) in root_ids.iter().zip(root_grads) {
        accumulate(&mut graph.items[i].buffer, g);
    }

    let priority = |item: &Item| match &item.edge {
        Edge::Node(n) => n.seq,
        Edge::Leaf(_) => u64::MAX,
    };
    let mut heap = BinaryHeap::with_capacity(GRAPH_CAPACITY);
    for &i in &root_ids {
        if graph.items[i].deps == 0 && !graph.items[i].queued {
            graph.items[i].queued = true;
            heap.push((priority(&graph.items[i]), i));
        }
    }
    let mut results: Vec<Option<Tensor>> = vec![None; n_inputs];

    while let Some((_, i)) = heap.pop() {
        let grad = graph.items[i].buffer.take();
        let node = match &graph.items[i].edge {
            Edge::Leaf(leaf) => {
                let hooks = hooks_of(&leaf.meta.lock().unwrap_or_else(|e| e.into_inner()).hooks);
                let grad = match (grad, hooks) {
                    (Some(g), Some(h)) => Some(run_hooks(&h, g)),
                    (g, _) => g,
                };
                if let Some(k) = graph.items[i].capture {
                    results[k] = grad;
                } else if inputs.is_none() {
                    if let Some(g) = grad {
                        accumulate_into(leaf, g);
                    }
                }
                continue;
            }
            Edge::Node(n) => n.clone(),
        };
        // The tensor's hooks, then `retain_grad` and `autograd::grad`'s capture, see the
        // complete gradient (PyTorch runs retains_grad hooks after the tensor's own).
        let hooks = hooks_of(&node.hooks.lock().unwrap_or_else(|e| e.into_inner()));
        let grad = match (grad, hooks) {
            (Some(g), Some(h)) => Some(run_hooks(&h, g)),
            (g, _) => g,
        };
        if let Some(k) = graph.items[i].capture {
            results[k] = grad.clone();
        }
        if inputs.is_none() {
            let retained = node
                .retained
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let (Some(weak), Some(g)) = (retained, &grad) {
                if let Some(t) = weak.upgrade() {
                    accumulate_into(&t, g.clone());
                }
            }
        }
        let grads = if graph.items[i].exec {
            let mut backward = node.backward.lock().unwrap_or_else(|e| e.into_inner());
            let grads = match &grad {
                Some(g) => {
                    // Freed or modified saved values are reported here, at the caller's line
                    // (the formula itself would report them inside the library).
                    if let Err(msg) = backward.check_saved() {
                        drop(backward);
                        panic!("{msg}");
                    }
                    let needs: smallvec::SmallVec<[bool; 4]> =
                        node.edges.iter().map(|e| e.is_some()).collect();
                    let grads = backward.backward(g, &needs);
                    debug_assert_eq!(
                        grads.len(),
                        node.edges.len(),
                        "{} returned a wrong number of gradients",
                        node.name
                    );
                    grads
                }
                None => smallvec::smallvec![None; node.edges.len()],
            };
            if !retain_graph {
                backward.release();
            }
            grads
        } else {
            smallvec::smallvec![None; node.edges.len()]
        };
        for (k, (edge, g)) in node.edges.iter().zip(grads).enumerate() {
            let Some(edge) = edge else { continue };
            let j = graph.at(edge);
            if let Some(g) = g {
                let g = validate_grad(g, &node.inputs[k], node.name, k);
                accumulate(&mut graph.items[j].buffer, g);
            }
            graph.items[j].deps -= 1;
            if graph.items[j].deps == 0 && !graph.items[j].queued {
                graph.items[j].queued = true;
                heap.push((priority(&graph.items[j]), j));
            }
        }
    }
    results
}

/// Computes and accumulates the gradients of several outputs into the leaves' `.grad`
/// (`torch.autograd.backward(tensors, grad_tensors, retain_graph, create_graph)`).
///
/// ```
/// use flambeau::{autograd, tensor};
/// let x = tensor!([1.0, 2.0]).requires_grad_(true);
/// let (a, b) = ((&x * 2.0).sum(), (&x * &x).sum());
/// autograd::backward(&[a, b], &[None, None], false, false);
/// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![4.0, 6.0]);
/// ```
#[track_caller]
pub fn backward(
    tensors: &[Tensor],
    grad_tensors: &[Option<Tensor>],
    retain_graph: bool,
    create_graph: bool,
) {
    if create_graph {
        crate::warn_once(
            "backward_create_graph",
            "UserWarning: Using backward() with create_graph=True will create a reference cycle between the parameter and its gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to avoid this. If you have to use this function, make sure to reset the .grad fields of your parameters to None after use to break the cycle and avoid the leak.",
        );
    }
    run(tensors, grad_tensors, retain_graph, create_graph, None);
}

/// Computes and returns the gradients of `outputs` with respect to `inputs`
/// (`torch.autograd.grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
/// allow_unused)`), without touching any `.grad`.
///
/// `grad_outputs` may be empty (every output must then be a scalar). With `create_graph` the
/// returned gradients carry a graph and can be differentiated again (Hessian-vector products,
/// gradient penalties). Inputs that the outputs do not depend on give `None` when
/// `allow_unused` is true and panic with PyTorch's message otherwise.
///
/// ```
/// use flambeau::{autograd, tensor};
/// let x = tensor!([1.0, 2.0]).requires_grad_(true);
/// let y = (&x * &x * &x).sum();
/// let g = autograd::grad(&[&y], &[&x], &[], true, true, false);
/// let g = g[0].as_ref().unwrap();
/// assert_eq!(g.to_vec::<f32>(), vec![3.0, 12.0]);
/// // Differentiate the gradient again: d/dx sum(3x²) = 6x.
/// let h = autograd::grad(&[&g.sum()], &[&x], &[], false, false, false);
/// assert_eq!(h[0].as_ref().unwrap().to_vec::<f32>(), vec![6.0, 12.0]);
/// assert!(x.grad().is_none());
/// ```
#[track_caller]
pub fn grad(
    outputs: &[&Tensor],
    inputs: &[&Tensor],
    grad_outputs: &[Option<Tensor>],
    retain_graph: bool,
    create_graph: bool,
    allow_unused: bool,
) -> Vec<Option<Tensor>> {
    let outs: Vec<Tensor> = outputs.iter().map(|t| (*t).clone()).collect();
    let gos: Vec<Option<Tensor>> = if grad_outputs.is_empty() {
        vec![None; outs.len()]
    } else {
        grad_outputs.to_vec()
    };
    let results = run(&outs, &gos, retain_graph, create_graph, Some(inputs));
    if !allow_unused && results.iter().any(|r| r.is_none()) {
        panic!(
            "One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior."
        );
    }
    results
}
