//! Autograd behaviours pinned against PyTorch 2.15: which graphs survive a second `backward()`
//! (nodes with saved tensors refuse it, the others accumulate), tensor hooks, `create_graph`
//! (the grad_fn of accumulated and returned gradients), and the node names of first-order
//! gradients computed with `create_graph`.
//!
//! Expected texts and printed tensors are PyTorch's output, recorded in the PyTorch behaviour
//! notes this battery was written from (sections "Second backward", "Tensor hooks",
//! "create_graph", "grad_fn names of first-order gradients"); PyTorch's hook messages name the
//! Python function (`'<lambda>'`), for which Flambeau, having no names for closures, says
//! `'hook'`.

mod common;

use common::panic_message;
use flambeau::nn::functional::{self as F, CrossEntropyOptions, Reduction};
use flambeau::{DType, Tensor, autograd, no_grad, tensor};
use std::sync::{Arc, Mutex};

const SECOND_BACKWARD: &str = "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.";

fn grad_str(x: &Tensor) -> String {
    format!("{}", x.grad().expect("x.grad is None"))
}

// ---------------------------------------------------------------------------------------------
// 6. A second backward without retain_graph
// ---------------------------------------------------------------------------------------------

/// Graphs whose nodes saved tensors: the first backward frees them, the second one panics.
#[test]
fn second_backward_through_saved_tensors_panics() {
    type F1 = fn(&Tensor) -> Tensor;
    let cases: [(&str, F1, &str, &str); 6] = [
        (
            "(x * 3.0).sum()",
            |x| (x * 3.0).sum(),
            "MulBackward0",
            "tensor([3., 3., 3.])",
        ),
        (
            "(3.0 * x).sum()",
            |x| (3.0 * x).sum(),
            "MulBackward0",
            "tensor([3., 3., 3.])",
        ),
        (
            "(x / 2.0).sum()",
            |x| (x / 2.0).sum(),
            "DivBackward0",
            "tensor([0.5000, 0.5000, 0.5000])",
        ),
        (
            "(2.0 / x).sum()",
            |x| (2.0 / x).sum(),
            "MulBackward0",
            "tensor([-2., -2., -2.])",
        ),
        (
            "x.pow(2).sum()",
            |x| x.pow(2).sum(),
            "PowBackward0",
            "tensor([2., 2., 2.])",
        ),
        (
            "(x * x).sum()",
            |x| (x * x).sum(),
            "MulBackward0",
            "tensor([2., 2., 2.])",
        ),
    ];
    let mut failures = Vec::new();
    for (what, f, inner, first) in cases {
        let x = Tensor::ones([3]).requires_grad_(true);
        let y = f(&x);
        let node = y.grad_fn().unwrap();
        assert_eq!(node.name(), "SumBackward0", "{what}");
        assert_eq!(node.next_functions(), vec![Some(inner)], "{what}");
        y.backward();
        assert_eq!(grad_str(&x), first, "{what}: after the first backward");
        let second = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| y.backward()));
        match second {
            Ok(()) => failures.push(format!(
                "{what}: second backward did not panic; x.grad = {}",
                grad_str(&x)
            )),
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                if msg != SECOND_BACKWARD {
                    failures.push(format!("{what}: panicked with {msg:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Graphs without saved tensors can be run again: the gradient accumulates.
#[test]
fn second_backward_without_saved_tensors_accumulates() {
    type F1 = fn(&Tensor) -> Tensor;
    let cases: [(&str, F1, &str, &str, &str); 7] = [
        (
            "(x + 1).sum()",
            |x| (x + 1.0).sum(),
            "AddBackward0",
            "tensor([1., 1., 1.])",
            "tensor([2., 2., 2.])",
        ),
        (
            "(x - 1).sum()",
            |x| (x - 1.0).sum(),
            "SubBackward0",
            "tensor([1., 1., 1.])",
            "tensor([2., 2., 2.])",
        ),
        (
            "(1 - x).sum()",
            |x| (1.0 - x).sum(),
            "RsubBackward1",
            "tensor([-1., -1., -1.])",
            "tensor([-2., -2., -2.])",
        ),
        (
            "x.sum()",
            |x| x.sum(),
            "AccumulateGrad",
            "tensor([1., 1., 1.])",
            "tensor([2., 2., 2.])",
        ),
        (
            "(-x).sum()",
            |x| (-x).sum(),
            "NegBackward0",
            "tensor([-1., -1., -1.])",
            "tensor([-2., -2., -2.])",
        ),
        (
            "x.mean()",
            |x| x.mean(),
            "AccumulateGrad",
            "tensor([0.3333, 0.3333, 0.3333])",
            "tensor([0.6667, 0.6667, 0.6667])",
        ),
        (
            "x.view(3).sum()",
            |x| x.view([3]).sum(),
            "ViewBackward0",
            "tensor([1., 1., 1.])",
            "tensor([2., 2., 2.])",
        ),
    ];
    let mut failures = Vec::new();
    for (what, f, inner, first, second) in cases {
        let x = Tensor::ones([3]).requires_grad_(true);
        let y = f(&x);
        assert_eq!(
            y.grad_fn().unwrap().next_functions(),
            vec![Some(inner)],
            "{what}"
        );
        y.backward();
        assert_eq!(grad_str(&x), first, "{what}: after the first backward");
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| y.backward()));
        match r {
            Ok(()) if grad_str(&x) == second => {}
            Ok(()) => failures.push(format!("{what}: x.grad = {}, want {second}", grad_str(&x))),
            Err(e) => failures.push(format!(
                "{what}: second backward panicked: {:?}",
                e.downcast_ref::<String>()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 11. Tensor hooks
// ---------------------------------------------------------------------------------------------

/// A log the hooks write what they saw into, as the Python cases print it.
fn log() -> Arc<Mutex<Vec<String>>> {
    Arc::new(Mutex::new(Vec::new()))
}

#[test]
fn hooks_replace_or_keep_the_gradient() {
    // Returning Some replaces it.
    let x = Tensor::ones([3]).requires_grad_(true);
    let _h = x.register_hook(|g| Some(g * 2.0));
    (&x * &x).sum().backward();
    assert_eq!(grad_str(&x), "tensor([4., 4., 4.])");

    // Returning None keeps it; the hook saw the incoming gradient.
    let x = Tensor::ones([3]).requires_grad_(true);
    let seen = log();
    let s = seen.clone();
    x.register_hook(move |g| {
        s.lock().unwrap().push(format!("hook saw {g}"));
        None
    });
    (&x * &x).sum().backward();
    assert_eq!(*seen.lock().unwrap(), ["hook saw tensor([2., 2., 2.])"]);
    assert_eq!(grad_str(&x), "tensor([2., 2., 2.])");
}

#[test]
fn hooks_chain_in_registration_order_and_can_be_removed() {
    let x = Tensor::ones([3]).requires_grad_(true);
    let seen = log();
    let (s1, s2) = (seen.clone(), seen.clone());
    x.register_hook(move |g| {
        s1.lock().unwrap().push(format!("h1 saw {g}"));
        Some(g * 2.0)
    });
    x.register_hook(move |g| {
        s2.lock().unwrap().push(format!("h2 saw {g}"));
        Some(g + 1.0)
    });
    (&x * &x).sum().backward();
    assert_eq!(
        *seen.lock().unwrap(),
        ["h1 saw tensor([2., 2., 2.])", "h2 saw tensor([4., 4., 4.])"]
    );
    assert_eq!(grad_str(&x), "tensor([5., 5., 5.])");

    let x = Tensor::ones([3]).requires_grad_(true);
    let h = x.register_hook(|g| Some(g * 2.0));
    h.remove();
    (&x * &x).sum().backward();
    assert_eq!(grad_str(&x), "tensor([2., 2., 2.])");
}

#[test]
fn hooks_on_non_leaves_and_retain_grad() {
    let x = Tensor::ones([3]).requires_grad_(true);
    let y = &x * 2.0;
    y.register_hook(|g| Some(g + 1.0));
    y.sum().backward();
    assert_eq!(grad_str(&x), "tensor([4., 4., 4.])");

    // retain_grad stores the hooked gradient, whichever was registered first.
    for retain_first in [true, false] {
        let x = Tensor::ones([3]).requires_grad_(true);
        let y = &x * 2.0;
        if retain_first {
            y.retain_grad();
        }
        y.register_hook(|g| Some(g + 1.0));
        if !retain_first {
            y.retain_grad();
        }
        y.sum().backward();
        assert_eq!(
            grad_str(&y),
            "tensor([2., 2., 2.])",
            "retain_grad first: {retain_first}"
        );
        assert_eq!(
            grad_str(&x),
            "tensor([4., 4., 4.])",
            "retain_grad first: {retain_first}"
        );
    }
}

#[test]
fn hooks_fire_under_autograd_grad() {
    let x = Tensor::ones([3]).requires_grad_(true);
    let seen = log();
    let s = seen.clone();
    x.register_hook(move |g| {
        s.lock().unwrap().push(format!("hook fired {g}"));
        Some(g * 10.0)
    });
    let g = autograd::grad(&[&(&x * &x).sum()], &[&x], &[], false, false, false);
    assert_eq!(*seen.lock().unwrap(), ["hook fired tensor([2., 2., 2.])"]);
    assert_eq!(
        format!("{}", g[0].as_ref().unwrap()),
        "tensor([20., 20., 20.])"
    );
    assert!(x.grad().is_none());

    // On a non-leaf: the hook fires with the gradient flowing through it, towards x or y itself.
    for (wrt_y, want) in [
        (false, "tensor([20., 20., 20.])"),
        (true, "tensor([10., 10., 10.])"),
    ] {
        let x = Tensor::ones([3]).requires_grad_(true);
        let y = &x * 2.0;
        let seen = log();
        let s = seen.clone();
        y.register_hook(move |g| {
            s.lock().unwrap().push(format!("hook fired {g}"));
            Some(g * 10.0)
        });
        let input = if wrt_y { &y } else { &x };
        let g = autograd::grad(&[&y.sum()], &[input], &[], false, false, false);
        assert_eq!(*seen.lock().unwrap(), ["hook fired tensor([1., 1., 1.])"]);
        assert_eq!(
            format!("{}", g[0].as_ref().unwrap()),
            want,
            "wrt y: {wrt_y}"
        );
    }
}

#[test]
fn hook_errors_use_pytorchs_messages() {
    let no_grad_msg = "cannot register a hook on a tensor that doesn't require gradient";
    let x = Tensor::ones([3]);
    assert_eq!(
        panic_message(|| drop(x.register_hook(|g| Some(g.clone())))),
        no_grad_msg
    );
    let x = Tensor::ones([3]).requires_grad_(true);
    let y = no_grad(|| &x * 2.0);
    assert_eq!(
        panic_message(|| drop(y.register_hook(|g| Some(g.clone())))),
        no_grad_msg
    );

    // A hook may not change the gradient's size or dtype (leaf and non-leaf).
    let size_msg = "hook 'hook' has changed the size of value";
    let x = Tensor::ones([3]).requires_grad_(true);
    x.register_hook(|_| Some(Tensor::ones([2])));
    assert_eq!(panic_message(|| (&x * &x).sum().backward()), size_msg);
    let x = Tensor::ones([3]).requires_grad_(true);
    let y = &x * 2.0;
    y.register_hook(|_| Some(Tensor::ones([2])));
    assert_eq!(panic_message(|| y.sum().backward()), size_msg);

    let x = Tensor::ones([3]).requires_grad_(true);
    x.register_hook(|g| Some(g.to_dtype(DType::F64)));
    assert_eq!(
        panic_message(|| (&x * &x).sum().backward()),
        "hook 'hook' has changed the type of value (was torch.FloatTensor got torch.DoubleTensor)"
    );
}

// ---------------------------------------------------------------------------------------------
// 12. create_graph
// ---------------------------------------------------------------------------------------------

#[test]
fn backward_with_create_graph_records_the_accumulated_gradient() {
    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    x.pow(3).sum().backward_with(None, true, true);
    let g = x.grad().unwrap();
    assert_eq!(
        format!("{g}"),
        "tensor([ 3., 12.], grad_fn=<CopyBackwards>)"
    );
    assert_eq!(g.grad_fn().unwrap().name(), "CopyBackwards");
    // d/dx sum(3x²) = 6x, accumulated onto 3x²: [3 + 6, 12 + 12].
    x.grad().unwrap().sum().backward();
    let g = x.grad().unwrap();
    assert_eq!(
        format!("{g}"),
        "tensor([ 9., 24.], grad_fn=<CopyBackwards>)"
    );
}

#[test]
fn autograd_grad_with_and_without_create_graph() {
    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    let y = x.pow(3).sum();
    let g = autograd::grad(&[&y], &[&x], &[], true, true, false);
    let g = g[0].clone().unwrap();
    assert_eq!(format!("{g}"), "tensor([ 3., 12.], grad_fn=<MulBackward0>)");
    assert_eq!(g.grad_fn().unwrap().name(), "MulBackward0");
    assert!(g.requires_grad());
    let r = autograd::grad(&[&g.sum()], &[&x], &[], false, false, false);
    assert_eq!(format!("{}", r[0].as_ref().unwrap()), "tensor([ 6., 12.])");

    let x = tensor!([1.0, 2.0]).requires_grad_(true);
    let g = autograd::grad(&[&x.pow(3).sum()], &[&x], &[], false, false, false);
    let g = g[0].clone().unwrap();
    assert_eq!(format!("{g}"), "tensor([ 3., 12.])");
    assert!(g.grad_fn().is_none() && !g.requires_grad());
    assert_eq!(
        panic_message(|| drop(autograd::grad(&[&g.sum()], &[&x], &[], false, false, false))),
        "element 0 of tensors does not require grad and does not have a grad_fn"
    );
}

/// `g = autograd.grad(f(x).sum(), x, create_graph=True)` for x = [0.5, -1, 2], t = [1, 0, 1]:
/// the printed gradient (values and grad_fn name) of each f.
#[test]
fn first_order_gradient_node_names() {
    type F1 = fn(&Tensor) -> Tensor;
    let cases: Vec<(&str, F1, &str)> = vec![
        (
            "tanh",
            |x| x.tanh(),
            "tensor([0.7864, 0.4200, 0.0707], grad_fn=<TanhBackwardBackward0>)",
        ),
        (
            "relu",
            |x| F::relu(x),
            "tensor([1., 0., 1.], grad_fn=<ThresholdBackwardBackward0>)",
        ),
        (
            "sigmoid",
            |x| x.sigmoid(),
            "tensor([0.2350, 0.1966, 0.1050], grad_fn=<SigmoidBackwardBackward0>)",
        ),
        (
            "gelu",
            |x| F::gelu(x, "none"),
            "tensor([ 0.8675, -0.0833,  1.0852], grad_fn=<GeluBackwardBackward0>)",
        ),
        (
            "gelu tanh",
            |x| F::gelu(x, "tanh"),
            "tensor([ 0.8674, -0.0830,  1.0861], grad_fn=<GeluBackwardBackward0>)",
        ),
        (
            "softplus",
            |x| F::softplus(x, 1.0, 20.0),
            "tensor([0.6225, 0.2689, 0.8808], grad_fn=<SoftplusBackwardBackward0>)",
        ),
        (
            "silu",
            |x| F::silu(x),
            "tensor([0.7400, 0.0723, 1.0908], grad_fn=<MulBackward0>)",
        ),
        (
            "mse_loss",
            |x| F::mse_loss(x, &tensor!([1.0, 0.0, 1.0]), Reduction::Mean),
            "tensor([-0.3333, -0.6667,  0.6667], grad_fn=<MseLossBackwardBackward0>)",
        ),
        (
            "softmax",
            |x| x.softmax(0),
            "tensor([0., 0., 0.], grad_fn=<SoftmaxBackwardDataBackward0>)",
        ),
        (
            "log_softmax",
            |x| x.log_softmax(0),
            "tensor([ 0.4741,  0.8827, -1.3568], grad_fn=<LogSoftmaxBackwardDataBackward0>)",
        ),
        (
            "leaky_relu",
            |x| F::leaky_relu(x, 0.01),
            "tensor([1.0000, 0.0100, 1.0000], grad_fn=<LeakyReluBackwardBackward0>)",
        ),
        (
            "elu",
            |x| x.elu(1.0),
            "tensor([1.0000, 0.3679, 1.0000], grad_fn=<EluBackwardBackward0>)",
        ),
        (
            "exp",
            |x| x.exp(),
            "tensor([1.6487, 0.3679, 7.3891], grad_fn=<MulBackward0>)",
        ),
        (
            "log",
            |x| x.log(),
            "tensor([ 2.0000, -1.0000,  0.5000], grad_fn=<DivBackward0>)",
        ),
        (
            "x ** 3",
            |x| x.pow(3),
            "tensor([ 0.7500,  3.0000, 12.0000], grad_fn=<MulBackward0>)",
        ),
        (
            "x * x",
            |x| x * x,
            "tensor([ 1., -2.,  4.], grad_fn=<AddBackward0>)",
        ),
        (
            "sqrt",
            |x| x.sqrt(),
            "tensor([0.7071,    nan, 0.3536], grad_fn=<DivBackward0>)",
        ),
        (
            "abs",
            |x| x.abs(),
            "tensor([ 1., -1.,  1.], grad_fn=<MulBackward0>)",
        ),
        (
            "cross_entropy",
            |x| {
                F::cross_entropy(
                    &x.view([1, 3]),
                    &tensor!([1]),
                    &CrossEntropyOptions::default(),
                )
            },
            "tensor([ 0.1753, -0.9609,  0.7856], grad_fn=<ViewBackward0>)",
        ),
    ];
    let mut failures = Vec::new();
    for (what, f, want) in cases {
        let x = tensor!([0.5, -1.0, 2.0]).requires_grad_(true);
        let out = f(&x);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            autograd::grad(&[&out.sum()], &[&x], &[], true, true, false)
        }));
        match r {
            Ok(g) => {
                let got = format!("{}", g[0].as_ref().unwrap());
                if got != want {
                    failures.push(format!("{what}: got {got}, want {want}"));
                }
            }
            Err(e) => failures.push(format!(
                "{what}: panicked: {:?}",
                e.downcast_ref::<String>()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
