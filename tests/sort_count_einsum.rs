//! Values, edge cases and PyTorch's messages for sorting, selection, counting and einsum (the
//! fixture values are checked in torch_parity's ops_breadth; these cover what the fixtures do not).

use flambeau::{Tensor, tensor};
use std::panic::{AssertUnwindSafe, catch_unwind};

fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn sort_is_stable_and_puts_nan_last() {
    let t = tensor!([2.0, f32::NAN, 1.0, 2.0, -1.0]);
    let (v, i) = t.sort(0, false);
    let v = v.to_vec::<f32>();
    assert_eq!(&v[..4], &[-1.0, 1.0, 2.0, 2.0]);
    assert!(v[4].is_nan());
    assert_eq!(i.to_vec::<i64>(), vec![4, 2, 0, 3, 1]);
    // Descending puts NaN first, as ATen's sort does, and keeps equal values in order.
    let (v, i) = t.sort(0, true);
    assert!(v.to_vec::<f32>()[0].is_nan());
    assert_eq!(i.to_vec::<i64>(), vec![1, 0, 3, 2, 4]);
}

#[test]
fn median_takes_the_lower_middle_and_nanmedian_skips_nan() {
    assert_eq!(tensor!([4.0, 1.0, 3.0, 2.0]).median().item::<f32>(), 2.0);
    assert!(
        tensor!([1.0, f32::NAN, 3.0])
            .median()
            .item::<f32>()
            .is_nan()
    );
    assert_eq!(tensor!([1.0, f32::NAN, 3.0]).nanmedian().item::<f32>(), 1.0);
    let (v, i) = tensor!([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]]).median_dim(1, false);
    assert_eq!(v.to_vec::<f32>(), vec![2.0, 4.0]);
    assert_eq!(i.to_vec::<i64>(), vec![2, 2]);
}

#[test]
fn selection_messages() {
    let t = tensor!([[1.0, 2.0, 3.0]]);
    assert!(panic_message(|| drop(t.topk(4, 1, true))).contains("selected index k out of range"));
    assert!(
        panic_message(|| drop(t.kthvalue(0, 1, false)))
            .contains("kthvalue(): selected number k out of range")
    );
}

#[test]
fn unique_inverse_counts_and_nonzero() {
    let t = Tensor::from_vec(vec![3i64, 1, 3, 3, 0], [5]);
    let (v, inv, cnt) = t.unique_with(true, true, true);
    assert_eq!(v.to_vec::<i64>(), vec![0, 1, 3]);
    assert_eq!(inv.unwrap().to_vec::<i64>(), vec![2, 1, 2, 2, 0]);
    assert_eq!(cnt.unwrap().to_vec::<i64>(), vec![1, 1, 3]);
    let f = tensor!([1.5, -0.5, 1.5]);
    assert_eq!(f.unique().to_vec::<f32>(), vec![-0.5, 1.5]);
    assert_eq!(f.unique().dtype(), flambeau::DType::F32);
    let nz = tensor!([[[0.0, 1.0]], [[2.0, 0.0]]]).nonzero();
    assert_eq!(nz.dims(), &[2, 3]);
    assert_eq!(nz.to_vec::<i64>(), vec![0, 0, 1, 1, 0, 0]);
    assert_eq!(tensor!([0.0, 0.0]).nonzero().dims(), &[0, 1]);
}

#[test]
fn bincount_weights_and_messages() {
    let t = Tensor::from_vec(vec![0i64, 2, 2], [3]);
    let w = tensor!([0.5, 1.0, 2.0]);
    let b = t.bincount(Some(&w), 4);
    assert_eq!(b.dtype(), flambeau::DType::F32);
    assert_eq!(b.to_vec::<f32>(), vec![0.5, 0.0, 3.0, 0.0]);
    let neg = Tensor::from_vec(vec![1i64, -1], [2]);
    assert_eq!(
        panic_message(|| drop(neg.bincount(None, 0))),
        "bincount only supports 1-d non-negative integral inputs."
    );
    assert_eq!(
        panic_message(|| drop(t.bincount(Some(&tensor!([1.0])), 0))),
        "weights should be 1-d and have the same length as input"
    );
}

#[test]
fn einsum_forms_and_messages() {
    let a = Tensor::arange(0.0, 6.0, 1.0).reshape([2, 3]);
    let b = Tensor::arange(0.0, 12.0, 1.0).reshape([3, 4]);
    // Implicit output: the labels used once, alphabetically.
    assert_eq!(
        Tensor::einsum("ij,jk", &[&a, &b]).to_vec::<f32>(),
        a.matmul(&b).to_vec::<f32>()
    );
    assert_eq!(Tensor::einsum("ji", &[&a]).dims(), &[3, 2]);
    assert_eq!(Tensor::einsum("ij->", &[&a]).item::<f32>(), 15.0);
    assert_eq!(
        Tensor::einsum("i j -> j", &[&a]).to_vec::<f32>(),
        vec![3.0, 5.0, 7.0]
    );
    assert_eq!(
        panic_message(|| drop(Tensor::einsum("ij,jk->ik", &[&a]))),
        "einsum(): fewer operands were provided than specified in the equation"
    );
    assert!(
        panic_message(|| drop(Tensor::einsum("ijk", &[&a])))
            .contains("does not match the number of dimensions (2) for operand 0")
    );
    assert!(
        panic_message(|| drop(Tensor::einsum("ij->iz", &[&a])))
            .contains("output subscript z does not appear")
    );
    assert!(
        panic_message(|| drop(Tensor::einsum("ij,ij->ij", &[&a, &b])))
            .contains("subscript i has size 3")
    );
}

#[test]
fn median_of_all_shares_the_gradient_among_ties() {
    // torch: x = tensor([1., 2., 2., 3.], requires_grad=True); x.median().backward()
    // gives x.grad == [0, 0.5, 0.5, 0] (evenly_distribute_backward).
    let x = tensor!([1.0, 2.0, 2.0, 3.0]).requires_grad_(true);
    x.median().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![0.0, 0.5, 0.5, 0.0]);
    let y = tensor!([f32::NAN, 1.0, f32::NAN]).requires_grad_(true);
    y.median().backward();
    assert_eq!(y.grad().unwrap().to_vec::<f32>(), vec![0.5, 0.0, 0.5]);
    let z = tensor!([2.0, f32::NAN, 2.0, 5.0]).requires_grad_(true);
    z.nanmedian().backward();
    assert_eq!(z.grad().unwrap().to_vec::<f32>(), vec![0.5, 0.0, 0.5, 0.0]);
}
