//! Values and PyTorch's error messages of advanced indexing (issue 11): `index_tensors`
//! (`a[i]`, `a[i, j]`, `a[:, i]`, `a[m]`), `index_put`/`index_put_`, `masked_scatter`,
//! `scatter_reduce`. Gradients are checked in `tests/gradcheck_breadth.rs`.
//!
//! Run: `cargo test --release --test indexing_advanced`

use flambeau::Tensor;
use std::panic::{AssertUnwindSafe, catch_unwind};

fn panic_msg(f: impl FnOnce()) -> String {
    let e = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

fn ints(v: &[i64]) -> Tensor {
    Tensor::from_vec(v.to_vec(), [v.len()])
}

fn a34() -> Tensor {
    Tensor::arange(0, 12, 1).reshape([3, 4])
}

#[test]
fn index_by_tensors() {
    let a = a34();
    let r = a.index_tensors(&[Some(ints(&[2, 0, -1]))]);
    assert_eq!(r.dims(), &[3, 4]);
    assert_eq!(
        r.to_vec::<i64>(),
        vec![8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11]
    );
    let r = a.index_tensors(&[Some(ints(&[0, 1, 2])), Some(ints(&[3, 0, 1]))]);
    assert_eq!(r.to_vec::<i64>(), vec![3, 4, 9]);
    // Broadcasting index tensors: [2, 1] with [3] gives [2, 3].
    let rows = Tensor::from_vec(vec![0i64, 2], [2, 1]);
    let r = a.index_tensors(&[Some(rows), Some(ints(&[0, 1, 3]))]);
    assert_eq!(r.dims(), &[2, 3]);
    assert_eq!(r.to_vec::<i64>(), vec![0, 1, 3, 8, 9, 11]);
    // a[:, i]
    let r = a.index_tensors(&[None, Some(ints(&[3, 3]))]);
    assert_eq!(r.dims(), &[3, 2]);
    assert_eq!(r.to_vec::<i64>(), vec![3, 3, 7, 7, 11, 11]);
    // a[i, :, j] on [2, 3, 4]: separated advanced dims go to the front: [2, 3].
    let b = Tensor::arange(0, 24, 1).reshape([2, 3, 4]);
    let r = b.index_tensors(&[Some(ints(&[0, 1])), None, Some(ints(&[1, 2]))]);
    assert_eq!(r.dims(), &[2, 3]);
    assert_eq!(r.to_vec::<i64>(), vec![1, 5, 9, 14, 18, 22]);
    // a[:, i, j] on [2, 3, 4]: adjacent, stay in place: [2, 2].
    let r = b.index_tensors(&[None, Some(ints(&[0, 2])), Some(ints(&[1, 3]))]);
    assert_eq!(r.dims(), &[2, 2]);
    assert_eq!(r.to_vec::<i64>(), vec![1, 11, 13, 23]);
    // 2-D index tensor
    let r = a.index_tensors(&[Some(Tensor::from_vec(vec![0i64, 1, 1, 0], [2, 2]))]);
    assert_eq!(r.dims(), &[2, 2, 4]);
}

#[test]
fn index_by_mask() {
    let a = a34();
    let m = a.remainder(3).eq(0);
    assert_eq!(
        a.index_tensors(&[Some(m)]).to_vec::<i64>(),
        vec![0, 3, 6, 9]
    );
    let rows = Tensor::from_vec(vec![true, false, true], [3]);
    let r = a.index_mask(&rows);
    assert_eq!(r.dims(), &[2, 4]);
    assert_eq!(r.to_vec::<i64>(), vec![0, 1, 2, 3, 8, 9, 10, 11]);
    let bad = Tensor::from_vec(vec![true, false], [2]);
    assert_eq!(
        panic_msg(|| {
            a.index_mask(&bad);
        }),
        "The shape of the mask [2] at index 0 does not match the shape of the indexed tensor [3, 4] at index 0"
    );
}

#[test]
fn index_errors() {
    let a = Tensor::zeros([3, 2]);
    assert_eq!(
        panic_msg(|| {
            a.index_tensors(&[Some(ints(&[0, 5]))]);
        }),
        "index 5 is out of bounds for dimension 0 with size 3"
    );
    assert_eq!(
        panic_msg(|| {
            a.index_tensors(&[Some(ints(&[-4]))]);
        }),
        "index -4 is out of bounds for dimension 0 with size 3"
    );
    assert_eq!(
        panic_msg(|| {
            a.index_tensors(&[None, None, Some(ints(&[0]))]);
        }),
        "too many indices for tensor of dimension 2"
    );
    assert_eq!(
        panic_msg(|| {
            a.index_tensors(&[Some(Tensor::zeros([1]))]);
        }),
        "tensors used as indices must be long, int, byte or bool tensors"
    );
    assert_eq!(
        panic_msg(|| {
            a.index_tensors(&[Some(ints(&[0, 1])), Some(ints(&[0, 1, 0]))]);
        }),
        "shape mismatch: indexing tensors could not be broadcast together with shapes [2], [3]"
    );
}

#[test]
fn index_put_values() {
    let a = Tensor::zeros([3, 2]);
    let i = ints(&[0, 2, 0]);
    let v = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [3, 1]);
    let r = a.index_put(&[Some(i.clone())], &v, true);
    assert_eq!(r.to_vec::<f32>(), vec![4.0, 4.0, 0.0, 0.0, 2.0, 2.0]);
    let r = a.index_put(
        &[Some(ints(&[1])), Some(ints(&[1]))],
        &Tensor::from_vec(vec![9.0f32], ()),
        false,
    );
    assert_eq!(r.to_vec::<f32>(), vec![0.0, 0.0, 0.0, 9.0, 0.0, 0.0]);
    let m = Tensor::from_vec(vec![true, false, false, true, true, false], [3, 2]);
    let r = a.index_put(
        &[Some(m)],
        &Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [3]),
        false,
    );
    assert_eq!(r.to_vec::<f32>(), vec![1.0, 0.0, 0.0, 2.0, 3.0, 0.0]);
    assert_eq!(a.to_vec::<f32>(), vec![0.0; 6], "out of place");
    assert_eq!(
        panic_msg(|| {
            a.index_put(&[Some(i.clone())], &Tensor::zeros([2]).double(), false);
        }),
        "Index put requires the source and destination dtypes match, got Float for the destination and Double for the source."
    );
    assert_eq!(
        panic_msg(|| {
            a.index_put(&[Some(i.clone())], &Tensor::zeros([4]), false);
        }),
        "shape mismatch: value tensor of shape [4] cannot be broadcast to indexing result of shape [3, 2]"
    );
}

#[test]
fn index_put_inplace_bumps_version() {
    let a = Tensor::zeros([3]);
    let v0 = a.version();
    a.index_put_(
        &[Some(ints(&[1]))],
        &Tensor::from_vec(vec![2.0f32], ()),
        false,
    );
    assert_eq!(a.to_vec::<f32>(), vec![0.0, 2.0, 0.0]);
    assert!(a.version() > v0);
    // A tensor saved for backward and then changed by index_put_ fails the backward.
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], [3]).requires_grad_(true);
    let y = x.exp();
    let loss = y.sum();
    y.index_put_(
        &[Some(ints(&[0]))],
        &Tensor::from_vec(vec![0.0f64], ()),
        false,
    );
    let msg = panic_msg(|| loss.backward());
    assert!(
        msg.contains("modified by an inplace operation"),
        "unexpected message: {msg}"
    );
    // Through index_put_ the gradient flows: written positions get none.
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], [3]).requires_grad_(true);
    let v = Tensor::from_vec(vec![5.0f64], [1]).requires_grad_(true);
    let t = x.mul(2.0);
    t.index_put_(&[Some(ints(&[2, 2]))], &v, true);
    t.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![2.0, 2.0, 2.0]);
    assert_eq!(v.grad().unwrap().to_vec::<f64>(), vec![2.0]);
}

#[test]
fn masked_scatter_values() {
    let a = Tensor::zeros([2, 3]);
    let m = Tensor::from_vec(vec![true, false, true], [3]);
    let s = Tensor::arange(1, 7, 1).float().reshape([2, 3]);
    let r = a.masked_scatter(&m, &s);
    assert_eq!(r.to_vec::<f32>(), vec![1.0, 0.0, 2.0, 3.0, 0.0, 4.0]);
    assert_eq!(
        panic_msg(|| {
            a.masked_scatter(&m, &Tensor::zeros([3]));
        }),
        "Number of elements of source < number of ones in mask"
    );
}

#[test]
fn scatter_reduce_values() {
    let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [3]);
    let i = ints(&[0, 0, 2, 2]);
    let s = Tensor::from_vec(vec![4.0f32, -1.0, 2.0, 6.0], [4]);
    let r = |red: &str, inc: bool| a.scatter_reduce(0, &i, &s, red, inc).to_vec::<f32>();
    assert_eq!(r("sum", true), vec![4.0, 2.0, 11.0]);
    assert_eq!(r("sum", false), vec![3.0, 2.0, 8.0]);
    assert_eq!(r("prod", true), vec![-4.0, 2.0, 36.0]);
    assert_eq!(r("mean", true), vec![4.0 / 3.0, 2.0, 11.0 / 3.0]);
    assert_eq!(r("mean", false), vec![1.5, 2.0, 4.0]);
    assert_eq!(r("amax", true), vec![4.0, 2.0, 6.0]);
    assert_eq!(r("amin", true), vec![-1.0, 2.0, 2.0]);
    assert_eq!(r("amin", false), vec![-1.0, 2.0, 2.0]);
    assert_eq!(
        panic_msg(|| {
            r("max", true);
        }),
        "reduce argument must be either sum, prod, mean, amax or amin, got max"
    );
    assert_eq!(
        panic_msg(|| {
            a.scatter_reduce(0, &ints(&[3]), &s, "sum", true);
        }),
        "index 3 is out of bounds for dimension 0 with size 3"
    );
    // amax ties share the gradient evenly between self and src.
    let x = Tensor::from_vec(vec![2.0f64], [1]).requires_grad_(true);
    let src = Tensor::from_vec(vec![2.0f64, 1.0, 2.0], [3]).requires_grad_(true);
    x.scatter_reduce(0, &ints(&[0, 0, 0]), &src, "amax", true)
        .sum()
        .backward();
    let third = 1.0 / 3.0;
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![third]);
    assert_eq!(src.grad().unwrap().to_vec::<f64>(), vec![third, 0.0, third]);
}
