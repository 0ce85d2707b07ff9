//! Autograd engine behaviour, checked against what PyTorch does.

mod common;

use common::panic_message;
use flambeau::{DType, Generator, NoGradGuard, Tensor, autograd, no_grad, tensor};

#[test]
fn grad_accumulates_across_backward_calls() {
    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    (&x * &x).sum().backward();
    (&x * 3.0).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![5.0, 7.0]);
    // zero_grad the PyTorch way: set to None
    x.set_grad(None);
    (&x * 3.0).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![3.0, 3.0]);
}

#[test]
fn accumulation_is_in_place_like_pytorch() {
    // PyTorch adds into the existing .grad tensor, so a handle taken earlier sees the update.
    let x = tensor!([1.0]).requires_grad_(true);
    (&x * 2.0).sum().backward();
    let g = x.grad().unwrap();
    (&x * 2.0).sum().backward();
    assert_eq!(g.to_vec::<f32>(), vec![4.0]);
}

#[test]
fn backward_with_gradient_for_non_scalar() {
    let x = tensor!([1.0, 2.0, 3.0]).requires_grad_(true);
    let y = &x * &x;
    y.backward_with(Some(&tensor!([1.0, 0.5, 0.0])), false, false);
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2.0, 2.0, 0.0]);
}

#[test]
fn retain_graph_allows_a_second_backward() {
    let x = tensor!([2.0]).requires_grad_(true);
    let y = (&x * &x).sum();
    y.backward_with(None, true, false);
    y.backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![8.0]);
}

#[test]
fn nodes_without_saved_tensors_can_run_twice() {
    // As in PyTorch, only nodes that saved tensors refuse a second pass.
    let x = tensor!([2.0]).requires_grad_(true);
    let y = (&x + 1.0).sum();
    y.backward();
    y.backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2.0]);
}

#[test]
fn retain_grad_keeps_non_leaf_gradients() {
    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    let y = &x * 3.0;
    y.retain_grad();
    assert!(y.retains_grad());
    let z = (&y * &y).sum();
    z.backward();
    assert_eq!(y.grad().unwrap().to_vec::<f32>(), vec![6.0, 12.0]);
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![18.0, 36.0]);
}

#[test]
fn non_leaf_without_retain_grad_has_no_grad() {
    let x = tensor!([1.0]).requires_grad_(true);
    let y = &x * 2.0;
    y.sum().backward();
    assert!(y.grad().is_none());
    assert!(!y.is_leaf() && x.is_leaf());
}

#[test]
fn no_grad_guard_and_closure() {
    let w = tensor!([1.0]).requires_grad_(true);
    {
        let _g = NoGradGuard::new();
        assert!(!autograd::is_grad_enabled());
        let y = &w * 2.0;
        assert!(!y.requires_grad() && y.grad_fn().is_none());
    }
    assert!(autograd::is_grad_enabled());
    let y = no_grad(|| &w * 2.0);
    assert!(!y.requires_grad());
    let z = no_grad(|| autograd::enable_grad(|| &w * 2.0));
    assert!(z.requires_grad());
}

#[test]
fn grad_mode_is_thread_local() {
    let _g = NoGradGuard::new();
    let handle = std::thread::spawn(autograd::is_grad_enabled);
    assert!(handle.join().unwrap());
    assert!(!autograd::is_grad_enabled());
}

#[test]
fn detach_shares_data_but_not_graph() {
    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    let y = &x * 2.0;
    let d = y.detach();
    assert!(!d.requires_grad() && d.is_leaf() && d.grad_fn().is_none());
    no_grad(|| d.add_(1.0));
    // same storage: y sees the change
    assert_eq!(y.detach().to_vec::<f32>(), vec![3.0, 5.0]);
}

#[test]
fn grad_fn_names_match_pytorch() {
    let x = Tensor::ones([3]).requires_grad_(true);
    let m = Tensor::ones([3, 3]).requires_grad_(true);
    let cases: Vec<(Tensor, &str)> = vec![
        (&x * 2.0, "MulBackward0"),
        (&x + &x, "AddBackward0"),
        (&x - 1.0, "SubBackward0"),
        (3.0 - &x, "RsubBackward1"),
        (2.0 / &x, "MulBackward0"),
        (&x / 2.0, "DivBackward0"),
        (-&x, "NegBackward0"),
        (x.pow(2), "PowBackward0"),
        (x.pow(&x), "PowBackward1"),
        (x.rpow(2.0), "PowBackward2"),
        (x.exp(), "ExpBackward0"),
        (x.sum(), "SumBackward0"),
        (x.sum_dim(0, false), "SumBackward1"),
        (x.mean(), "MeanBackward0"),
        (x.max(), "MaxBackward1"),
        (x.reshape([3, 1]), "ViewBackward0"),
        (m.t(), "TBackward0"),
        (m.t().reshape([9]), "UnsafeViewBackward0"),
        (x.clamp(Some(0.0), Some(1.0)), "ClampBackward1"),
        (x.clamp(Some(0.0), None), "ClampBackward1"),
        (x.chunk(2, 0)[0].clone(), "SplitBackward0"),
        (x.slice(0, Some(1), None, 1), "SliceBackward0"),
        (x.select(0, 0), "SelectBackward0"),
        (m.mm(&m), "MmBackward0"),
        (x.matmul(&x), "DotBackward0"),
        (x.to_dtype(DType::F64), "ToCopyBackward0"),
        (x.clone_tensor(), "CloneBackward0"),
        (x.softmax(0), "SoftmaxBackward0"),
        (x.sigmoid(), "SigmoidBackward0"),
        (x.var(true), "VarBackward0"),
        (x.std(true), "StdBackward0"),
        (x.logsumexp(0, false), "LogsumexpBackward0"),
    ];
    for (t, name) in cases {
        assert_eq!(t.grad_fn().unwrap().name(), name);
    }
}

#[test]
fn autograd_grad_returns_without_touching_dot_grad() {
    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    let u = tensor!([1.0]).requires_grad_(true);
    let y = (&x * &x).sum();
    let g = autograd::grad(&[&y], &[&x, &u], &[], false, false, true);
    assert_eq!(g[0].as_ref().unwrap().to_vec::<f32>(), vec![2.0, 4.0]);
    assert!(g[1].is_none());
    assert!(x.grad().is_none());
    let y = (&x * &x).sum();
    let msg = panic_message(|| {
        autograd::grad(&[&y], &[&x, &u], &[], false, false, false);
    });
    assert_eq!(
        msg,
        "One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior."
    );
}

#[test]
fn autograd_grad_of_a_non_leaf() {
    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    let h = &x * 3.0;
    let y = (&h * &h).sum();
    let g = autograd::grad(&[&y], &[&h], &[], false, false, false);
    assert_eq!(g[0].as_ref().unwrap().to_vec::<f32>(), vec![6.0, 12.0]);
}

#[test]
fn diamond_graph_sums_both_paths() {
    let x = tensor!([2.0]).requires_grad_(true);
    let a = &x * 3.0;
    let y = (&a * &a + a.exp()).sum();
    y.backward();
    let expected = 2.0 * 6.0 * 3.0 + 3.0 * (6.0f32).exp();
    assert!((x.grad().unwrap().item::<f32>() - expected).abs() < 1e-2);
}

#[test]
fn inplace_on_non_leaf_rebases_the_graph() {
    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    let y = &x * 2.0;
    y.mul_(3.0);
    assert_eq!(y.grad_fn().unwrap().name(), "MulBackward0");
    y.add_(1.0);
    assert_eq!(y.grad_fn().unwrap().name(), "AddBackward0");
    assert_eq!(y.version(), 2);
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![6.0, 6.0]);
    assert_eq!(y.detach().to_vec::<f32>(), vec![7.0, 13.0]);
}

#[test]
fn inplace_with_grad_requiring_operand() {
    let w = tensor!([2.0]).requires_grad_(true);
    let acc = Tensor::zeros([1]);
    acc.add_(&(&w * 5.0));
    assert!(acc.requires_grad());
    acc.sum().backward();
    assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![5.0]);
}

#[test]
fn fill_and_copy_under_autograd() {
    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    let src = tensor!([5.0]).requires_grad_(true);
    let y = &x * 1.0;
    y.copy_(&src);
    assert_eq!(y.grad_fn().unwrap().name(), "CopyBackwards");
    y.sum().backward();
    assert_eq!(src.grad().unwrap().to_vec::<f32>(), vec![2.0]);
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![0.0, 0.0]);

    let z = &x * 1.0;
    z.fill_(1.0);
    assert_eq!(z.grad_fn().unwrap().name(), "FillBackward0");
}

#[test]
fn optimizer_style_update_under_no_grad() {
    let w = tensor!([1.0, 2.0]).requires_grad_(true);
    (&w * &w).sum().backward();
    let g = w.grad().unwrap();
    no_grad(|| w.add_alpha_(&g, -0.1));
    assert_eq!(w.detach().to_vec::<f32>(), vec![0.8, 1.6]);
    assert!(w.is_leaf() && w.requires_grad());
    assert_eq!(w.version(), 1);
}

#[test]
fn chain_of_100k_ops_backpropagates_without_stack_overflow() {
    let x = Tensor::ones([1]).requires_grad_(true);
    let mut y = x.clone();
    for _ in 0..100_000 {
        y = &y * 1.0;
    }
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![1.0]);
    // Dropping the deep graph must not overflow the stack either.
    drop(y);
}

#[test]
fn tensors_cross_threads() {
    let g = Generator::new().manual_seed(7);
    let x = Tensor::randn_gen([4], DType::F32, &g).requires_grad_(true);
    let x2 = x.clone();
    let s = std::thread::spawn(move || (&x2 * &x2).sum())
        .join()
        .unwrap();
    s.backward();
    let expected: Vec<f32> = x.to_vec::<f32>().iter().map(|v| 2.0 * v).collect();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), expected);
}

#[test]
fn leaf_requires_grad_rules() {
    let i = Tensor::arange(0, 3, 1);
    assert_eq!(
        panic_message(|| {
            i.requires_grad_(true);
        }),
        "only Tensors of floating point dtype can require gradients"
    );
    let x = Tensor::ones([2]).requires_grad_(true);
    let y = &x * 2.0;
    assert!(
        panic_message(|| {
            y.requires_grad_(false);
        })
        .starts_with("you can only change requires_grad flags of leaf variables.")
    );
}

#[test]
fn printing_shows_autograd_state() {
    let w = tensor!([[-0.1188]]).requires_grad_(true);
    assert_eq!(format!("{w}"), "tensor([[-0.1188]], requires_grad=True)");
    assert_eq!(
        format!("{}", &w * 2.0),
        "tensor([[-0.2376]], grad_fn=<MulBackward0>)"
    );
    assert_eq!(format!("{}", w.detach()), "tensor([[-0.1188]])");
}

#[test]
fn stale_view_after_inplace_on_its_base_is_regenerated() {
    // As in PyTorch, a view taken before an in-place change of its base sees the change: its
    // grad_fn is regenerated from the base's (AsStridedBackward0), so the gradient goes through
    // the in-place operation.
    let x = tensor!([1.0, 2.0, 3.0]).requires_grad_(true);
    let y = &x * 1.0;
    let z = y.narrow(0, 0, 2);
    assert_eq!(z.grad_fn().unwrap().name(), "SliceBackward0");
    y.mul_(2.0);
    assert_eq!(z.grad_fn().unwrap().name(), "AsStridedBackward0");
    z.sum().backward_with(None, true, false);
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2.0, 2.0, 0.0]);
    // A view taken after the in-place operation records as usual.
    let z = y.narrow(0, 0, 2);
    assert_eq!(z.grad_fn().unwrap().name(), "SliceBackward0");
    z.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![4.0, 4.0, 0.0]);
}

#[test]
fn retain_grad_follows_an_inplace_rebase() {
    // PyTorch 2.15: x = [1, 2]; y = x * 2; y.retain_grad(); y.add_(1); (y * y).sum().backward()
    // gives y.grad = [6, 10] and x.grad = [12, 20].
    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    let y = &x * 2.0;
    y.retain_grad();
    y.add_(1.0);
    (&y * &y).sum().backward();
    assert_eq!(y.grad().unwrap().to_vec::<f32>(), vec![6.0, 10.0]);
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![12.0, 20.0]);
}
