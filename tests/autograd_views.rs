//! In-place operations on views under autograd, pinned against PyTorch 2.15: the refusals
//! (views of leaves, outputs of multi-view ops), the grad_fn names after an in-place change
//! (the base gets `CopySlices`, the modified view `AsStridedBackward0`, a view taken afterwards
//! its own op's node) and the gradients of PyTorch's examples.
//!
//! Expected texts, names and printed gradients are PyTorch's output, recorded in the PyTorch
//! behaviour notes this battery was written from (section "In-place on views under autograd");
//! each Python case ran after `torch.manual_seed(0)`, so `x = torch.randn(3, 4)` is reproduced
//! here with a generator seeded 0 (`x0()`), whose values Flambeau's generator matches.

mod common;

use common::panic_message;
use flambeau::{DType, Generator, Tensor, no_grad, s};

/// `torch.manual_seed(0); x = torch.randn(3, 4, requires_grad=True)`.
fn x0() -> Tensor {
    let g = Generator::new();
    g.manual_seed(0);
    Tensor::randn_gen([3, 4], DType::F32, &g).requires_grad_(true)
}

fn name(t: &Tensor) -> Option<&'static str> {
    t.grad_fn().map(|n| n.name())
}

fn grad_str(x: &Tensor) -> String {
    format!("{}", x.grad().expect("x.grad is None"))
}

const ONES_COL0_TWICE: &str =
    "tensor([[2., 1., 1., 1.],\n        [2., 1., 1., 1.],\n        [2., 1., 1., 1.]])";

#[test]
fn seeded_input_is_pytorchs() {
    // print(torch.manual_seed(0) or torch.randn(3, 4)) with PyTorch's 4-digit formatting:
    // the clone case below prints 2*x.
    let x = x0();
    assert_eq!(
        format!("{}", (&x.detach() * 2.0)),
        "tensor([[ 3.0820, -0.5869, -4.3576,  1.1369],\n        [-2.1690, -2.7972,  0.8067,  1.6761],\n        [-1.4385, -0.8067, -1.1933,  0.3641]])"
    );
}

#[test]
fn inplace_on_a_leaf_or_a_view_of_a_leaf_is_refused() {
    let x = x0();
    assert_eq!(
        panic_message(|| drop(x.select(1, 0).mul_(2.0))),
        "a view of a leaf Variable that requires grad is being used in an in-place operation."
    );
    assert_eq!(
        panic_message(|| drop(x.mul_(2.0))),
        "a leaf Variable that requires grad is being used in an in-place operation."
    );
    // Detached or under no_grad it is allowed and records nothing.
    let d = x.detach();
    d.select(0, 0).mul_(2.0);
    assert!(!d.requires_grad() && d.grad_fn().is_none());
    x.detach().mul_(2.0);
    let x = x0();
    no_grad(|| x.select(0, 0).mul_(2.0));
    assert!(x.grad_fn().is_none() && x.is_leaf() && x.requires_grad());
}

/// `y = x * 1; y[:, 0].mul_(2)`: y's node becomes CopySlices, a fresh `y[:, 0]` is a
/// SelectBackward0 view, and the gradient doubles column 0.
#[test]
fn inplace_on_a_view_rebases_the_base() {
    let x = x0();
    let y = &x * 1.0;
    y.select(1, 0).mul_(2.0);
    assert_eq!(name(&y), Some("CopySlices"));
    assert_eq!(name(&y.select(1, 0)), Some("SelectBackward0"));
    y.sum().backward();
    assert_eq!(grad_str(&x), ONES_COL0_TWICE);
}

/// `v = y[:, 0]; v.mul_(2)`: the modified view's node is AsStridedBackward0 over CopySlices.
#[test]
fn the_modified_view_gets_as_strided_backward() {
    let x = x0();
    let y = &x * 1.0;
    let v = y.select(1, 0);
    v.mul_(2.0);
    assert_eq!(name(&v), Some("AsStridedBackward0"));
    assert_eq!(name(&y), Some("CopySlices"));
    assert_eq!(
        v.grad_fn().unwrap().next_functions(),
        vec![Some("CopySlices")]
    );
    // A view of the modified view, taken afterwards, has its own op's node.
    let x = x0();
    let y = &x * 1.0;
    let v = y.select(0, 0);
    v.mul_(2.0);
    let u = v.index(s![1..]);
    assert_eq!(name(&u), Some("SliceBackward0"));
    assert_eq!(name(&v), Some("AsStridedBackward0"));
    assert_eq!(name(&y), Some("CopySlices"));
}

/// `v = y[1]; y.mul_(2)`: a view taken before its base changed is regenerated.
#[test]
fn a_view_taken_before_its_base_changed() {
    let x = x0();
    let y = &x * 1.0;
    let v = y.select(0, 1);
    y.mul_(2.0);
    assert_eq!(name(&v), Some("AsStridedBackward0"));
    v.sum().backward();
    assert_eq!(
        grad_str(&x),
        "tensor([[0., 0., 0., 0.],\n        [2., 2., 2., 2.],\n        [0., 0., 0., 0.]])"
    );
}

#[test]
fn outputs_of_multi_view_ops_cannot_be_modified_in_place() {
    let msg = |op: &str| {
        format!(
            "Output 0 of {op} is a view and is being modified inplace. This view is the output of a function that returns multiple views. Such functions do not allow the output views to be modified inplace. You should replace the inplace operation by an out-of-place one."
        )
    };
    let x = x0();
    let y = &x * 1.0;
    assert_eq!(
        panic_message(|| drop(y.unbind(0)[0].mul_(2.0))),
        msg("Unbind")
    );
    assert_eq!(
        panic_message(|| drop(y.split(1, 0)[0].mul_(2.0))),
        msg("Split")
    );
    // chunk is implemented by split, whose name PyTorch reports.
    assert_eq!(
        panic_message(|| drop(y.chunk(3, 0)[0].mul_(2.0))),
        msg("Split")
    );
    assert_eq!(
        panic_message(|| drop(y.split_with_sizes(&[1, 2], 0)[0].mul_(2.0))),
        msg("SplitWithSizes")
    );
    assert_eq!(
        panic_message(|| drop(y.unbind(0)[0].copy_(&Tensor::ones([4])))),
        msg("Unbind")
    );
    // A base that does not require grad: allowed, nothing recorded.
    let y = no_grad(|| &x * 1.0);
    let parts = y.unbind(0);
    parts[0].mul_(2.0);
    assert!(parts[0].grad_fn().is_none());
}

/// `w = zeros(3, 4); w[1].copy_(z)`: a tensor that did not require grad becomes a non-leaf.
#[test]
fn copy_into_a_view_of_a_plain_tensor() {
    let g = Generator::new();
    g.manual_seed(0);
    let z = Tensor::randn_gen([4], DType::F32, &g).requires_grad_(true);
    let w = Tensor::zeros([3, 4]);
    w.select(0, 1).copy_(&z);
    assert_eq!(name(&w), Some("CopySlices"));
    assert!(w.requires_grad() && !w.is_leaf());
    w.sum().backward();
    assert_eq!(grad_str(&z), "tensor([1., 1., 1., 1.])");
}

/// `y = x.clone(); y[1:].copy_(ones(2, 4)); (y*y).sum().backward()`: rows overwritten by the
/// copy get no gradient, row 0 gets 2x.
#[test]
fn overwritten_rows_get_no_gradient() {
    let x = x0();
    let y = x.clone_tensor();
    y.index(s![1..]).copy_(&Tensor::ones([2, 4]));
    assert_eq!(name(&y), Some("CopySlices"));
    (&y * &y).sum().backward();
    assert_eq!(
        grad_str(&x),
        "tensor([[ 3.0820, -0.5869, -4.3576,  1.1369],\n        [ 0.0000,  0.0000,  0.0000,  0.0000],\n        [ 0.0000,  0.0000,  0.0000,  0.0000]])"
    );
    // Row 0 is exactly 2x.
    let two_x = (&x.detach() * 2.0).select(0, 0).to_vec::<f32>();
    assert_eq!(x.grad().unwrap().select(0, 0).to_vec::<f32>(), two_x);
}

#[test]
fn inplace_through_a_transpose_and_a_flat_view() {
    // y.t()[0].add_(1): additive, every gradient is 1.
    let x = x0();
    let y = &x * 1.0;
    y.t().select(0, 0).add_(1.0);
    assert_eq!(name(&y), Some("CopySlices"));
    y.sum().backward();
    assert_eq!(
        grad_str(&x),
        "tensor([[1., 1., 1., 1.],\n        [1., 1., 1., 1.],\n        [1., 1., 1., 1.]])"
    );

    // yv = y.view(12); yv[3:5].mul_(3): flat positions 3 and 4 get 3.
    let x = x0();
    let y = &x * 1.0;
    let yv = y.view([12]);
    yv.index(s![3..5]).mul_(3.0);
    assert_eq!(name(&y), Some("CopySlices"));
    assert_eq!(name(&yv), Some("AsStridedBackward0"));
    y.sum().backward();
    assert_eq!(
        grad_str(&x),
        "tensor([[1., 1., 1., 3.],\n        [3., 1., 1., 1.],\n        [1., 1., 1., 1.]])"
    );
}
