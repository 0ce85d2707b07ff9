//! PyTorch's exact error texts for the common misuses (checked against PyTorch 2.15).

mod common;

use common::panic_message;
use flambeau::{Tensor, tensor};

#[test]
fn matmul_shape_mismatch() {
    let (a, b) = (Tensor::zeros([11, 2]), Tensor::zeros([1, 1]));
    let expected = "mm: mat1 and mat2 shapes cannot be multiplied (11x2 and 1x1)";
    assert_eq!(panic_message(|| drop(a.matmul(&b))), expected);
    assert_eq!(panic_message(|| drop(a.mm(&b))), expected);
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([3]).matmul(&Tensor::zeros([4, 5])))),
        "mm: mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)"
    );
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([2, 3, 4]).matmul(&Tensor::zeros([5, 6])))),
        "mm: mat1 and mat2 shapes cannot be multiplied (6x4 and 5x6)"
    );
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([2, 3, 4]).matmul(&Tensor::zeros([2, 5, 6])))),
        "Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [2, 5]."
    );
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([3, 4]).matmul(&Tensor::zeros([5])))),
        "size mismatch, got input (3), mat (3x4), vec (5)"
    );
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([3]).matmul(&Tensor::zeros([4])))),
        "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of elements, but got 3 and 4 elements respectively"
    );
}

#[test]
fn broadcast_mismatch() {
    let (a, b) = (Tensor::zeros([3]), Tensor::zeros([4]));
    let expected =
        "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0";
    assert_eq!(panic_message(|| drop(&a + &b)), expected);
    assert_eq!(panic_message(|| drop(&a * &b)), expected);
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([2, 3]).expand([3, 3]))),
        "The expanded size of the tensor (3) must match the existing size (2) at non-singleton dimension 0.  Target sizes: [3, 3].  Tensor sizes: [2, 3]"
    );
}

#[test]
fn dim_out_of_range() {
    let t = Tensor::zeros([2, 3]);
    assert_eq!(
        panic_message(|| drop(t.sum_dim(2, false))),
        "Dimension out of range (expected to be in range of [-2, 1], but got 2)"
    );
    assert_eq!(
        panic_message(|| drop(t.unsqueeze(5))),
        "Dimension out of range (expected to be in range of [-3, 2], but got 5)"
    );
    assert_eq!(
        panic_message(|| drop(t.softmax(-3))),
        "Dimension out of range (expected to be in range of [-2, 1], but got -3)"
    );
}

#[test]
fn second_backward_through_freed_graph() {
    let x = Tensor::ones([3]).requires_grad_(true);
    let y = (&x * &x).sum();
    y.backward();
    assert_eq!(
        panic_message(|| y.backward()),
        "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward."
    );
}

#[test]
fn inplace_modification_of_a_saved_tensor() {
    // A saved input that is a non-leaf: the message names the op that produced it now.
    let x = Tensor::ones([3]).requires_grad_(true);
    let w = &x * 2.0;
    let y = w.sin();
    w.add_(1.0);
    assert_eq!(
        panic_message(|| y.sum().backward()),
        "one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [3]], which is output 0 of Add, is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False)."
    );
    // A saved output.
    let x = Tensor::ones([3]).requires_grad_(true);
    let y = x.sigmoid();
    y.mul_(2.0);
    assert_eq!(
        panic_message(|| y.sum().backward()),
        "one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [3]], which is output 0 of Sigmoid, is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False)."
    );
    // A saved leaf that does not require grad.
    let x = Tensor::ones([3]).requires_grad_(true);
    let a = Tensor::ones([3]);
    let y = &x * &a;
    a.add_(1.0);
    assert_eq!(
        panic_message(|| y.sum().backward()),
        "one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [3]] is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False)."
    );
}

#[test]
fn inplace_on_a_leaf_that_requires_grad() {
    let x = Tensor::ones([3]).requires_grad_(true);
    assert_eq!(
        panic_message(|| drop(x.add_(1.0))),
        "a leaf Variable that requires grad is being used in an in-place operation."
    );
}

#[test]
fn backward_on_a_tensor_that_does_not_require_grad() {
    assert_eq!(
        panic_message(|| Tensor::ones([3]).sum().backward()),
        "element 0 of tensors does not require grad and does not have a grad_fn"
    );
    let x = Tensor::ones([3]).requires_grad_(true);
    assert_eq!(
        panic_message(|| (&x * 2.0).backward()),
        "grad can be implicitly created only for scalar outputs"
    );
}

#[test]
fn shape_errors() {
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([2, 3]).view([-1, 4]))),
        "shape '[-1, 4]' is invalid for input of size 6"
    );
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([2, 3]).t().view([6]))),
        "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead."
    );
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([2, 3]).permute([0]))),
        "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = 2 is not equal to len(dims) = 1"
    );
    assert_eq!(
        panic_message(|| drop(Tensor::cat(
            &[&Tensor::zeros([2, 3]), &Tensor::zeros([2, 4])],
            0
        ))),
        "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1 in the list."
    );
    assert_eq!(
        panic_message(|| {
            tensor!([1.0, 2.0]).item::<f32>();
        }),
        "a Tensor with 2 elements cannot be converted to Scalar"
    );
}

#[test]
fn element_counts_that_overflow() {
    // PyTorch 2.15: torch.zeros(1).expand(2**32, 2**32) and torch.zeros(4).view(-1, 2**62, 2**62).
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([1]).expand([1i64 << 32, 1 << 32]))),
        "numel: integer multiplication overflow"
    );
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([4]).view([-1, 1i64 << 62, 1 << 62]))),
        "shape '[-1, 4611686018427387904, 4611686018427387904]' is invalid for input of size 4"
    );
    // torch.zeros(-1), torch.empty(-1)
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([-1i64]))),
        "zeros: Dimension size must be non-negative."
    );
    assert_eq!(
        panic_message(|| drop(Tensor::empty([-1i64]))),
        "Trying to create tensor with negative dimension -1: [-1]"
    );
}
