//! `new_*`, `type_as` and `randint_like`: the dtype comes from the tensor, as in PyTorch.

use flambeau::{DType, Tensor, manual_seed, tensor};

#[test]
fn new_factories_take_the_tensors_dtype() {
    let i = Tensor::from_vec(vec![1i64, 2], [2]);
    // torch: torch.tensor([1, 2]).new_full((2,), 2.7) -> tensor([2, 2])
    assert_eq!(i.new_full([2], 2.7).to_vec::<i64>(), vec![2, 2]);
    assert_eq!(i.new_zeros([2, 2]).dtype(), DType::I64);
    let b = Tensor::from_vec(vec![true], [1]);
    assert_eq!(b.new_ones([3]).to_vec::<bool>(), vec![true; 3]);
    let d = Tensor::zeros_dtype([1], DType::F64);
    let t = d.new_tensor(vec![0.1f32], [1]);
    assert_eq!(t.dtype(), DType::F64);
    assert_eq!(t.to_vec::<f64>(), vec![0.1f32 as f64]);
    assert!(
        !tensor!([1.0])
            .requires_grad_(true)
            .new_tensor(vec![1.0f32], [1])
            .requires_grad()
    );
    assert_eq!(d.new_empty([2, 0]).dims(), &[2, 0]);
}

#[test]
fn type_as_casts_and_carries_the_gradient() {
    let x = Tensor::from_vec(vec![1.5f32, -2.0], [2]).requires_grad_(true);
    let y = x.type_as(&Tensor::zeros_dtype([1], DType::F64));
    assert_eq!(y.dtype(), DType::F64);
    y.mul(2.0).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2.0, 2.0]);
    assert_eq!(
        x.type_as(&Tensor::from_vec(vec![0i64], [1]))
            .to_vec::<i64>(),
        vec![1, -2]
    );
}

#[test]
fn randint_like_follows_randint() {
    let like = Tensor::from_vec(vec![0i64; 6], [2, 3]);
    manual_seed(3);
    let a = Tensor::randint_like(&like, -5, 5);
    manual_seed(3);
    let b = Tensor::randint(-5, 5, [2, 3]);
    assert_eq!(a.dims(), &[2, 3]);
    assert_eq!(a.to_vec::<i64>(), b.to_vec::<i64>());
    assert!(a.to_vec::<i64>().iter().all(|v| (-5..5).contains(v)));
}
