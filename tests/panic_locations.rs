//! Misuse panics point at the caller: the location a panic reports (what the default hook
//! prints after "panicked at") must be this file, the user's code, not a file under src/
//! (every public entry point that can panic on bad input carries `#[track_caller]` down to
//! the panic). The messages themselves are checked elsewhere (tests/errors.rs,
//! tests/regressions.rs); here only their location.
//!
//! The panic hook is process-wide, so the tests of this file run one at a time (a Mutex),
//! each installing a capturing hook and restoring the previous one afterwards.

use flambeau::nn::functional as F;
use flambeau::nn::{Forward, Linear};
use flambeau::{Tensor, s, tensor};
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;

static HOOK: Mutex<()> = Mutex::new(());

thread_local! {
    /// The (file, line) of the last panic on this thread, written by the capturing hook.
    static LOCATION: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
}

/// Runs `f`, which must panic, and returns the file and line its panic reported.
fn panic_location(f: impl FnOnce()) -> (String, u32) {
    LOCATION.with(|l| *l.borrow_mut() = None);
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    assert!(r.is_err(), "expected a panic");
    LOCATION
        .with(|l| l.borrow_mut().take())
        .expect("the panic reported no location")
}

/// A misuse: what it is, and the code that must panic.
type Case = (&'static str, Box<dyn FnOnce()>);

/// Checks every case under one capturing hook, and fails listing those that point elsewhere.
fn check(cases: Vec<Case>) {
    let _guard = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        let loc = info.location().map(|l| (l.file().to_string(), l.line()));
        LOCATION.with(|l| *l.borrow_mut() = loc);
    }));
    let results: Vec<(String, (String, u32))> = cases
        .into_iter()
        .map(|(what, f)| (what.to_string(), panic_location(f)))
        .collect();
    panic::set_hook(previous);
    let this_file = file!().replace('\\', "/");
    let wrong: Vec<String> = results
        .iter()
        .filter(|(_, (file, _))| file.replace('\\', "/") != this_file)
        .map(|(what, (file, line))| format!("{what}: reported {file}:{line}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "panics that do not point at the caller ({this_file}):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn shape_and_broadcast_misuse_points_at_the_caller() {
    let a = Tensor::zeros([2, 3]);
    let b = Tensor::zeros([4, 5]);
    let (a1, b1, a2, a3, a4) = (a.clone(), b.clone(), a.clone(), a.clone(), a.clone());
    check(vec![
        ("a.mm(&b)", Box::new(move || drop(a1.mm(&b1)))),
        (
            "a.matmul(&b)",
            Box::new(move || drop(a2.matmul(&Tensor::zeros([4, 4])))),
        ),
        ("&a + &b", Box::new(move || drop(&a3 + &Tensor::zeros([4])))),
        ("&a * &b", Box::new(move || drop(&a4 * &Tensor::zeros([4])))),
        (
            "a.add_(&b)",
            Box::new(|| drop(Tensor::zeros([3]).add_(&Tensor::zeros([4])))),
        ),
        (
            "t.view([7])",
            Box::new(|| drop(Tensor::zeros([2, 3]).view([7]))),
        ),
        (
            "t.reshape([7])",
            Box::new(|| drop(Tensor::zeros([2, 3]).reshape([7]))),
        ),
        (
            "t.expand([3, 3])",
            Box::new(|| drop(Tensor::zeros([2, 3]).expand([3, 3]))),
        ),
        (
            "Tensor::cat(mismatched sizes)",
            Box::new(|| {
                drop(Tensor::cat(
                    &[&Tensor::zeros([2, 3]), &Tensor::zeros([2, 4])],
                    0,
                ))
            }),
        ),
        (
            "Tensor::stack(mismatched sizes)",
            Box::new(|| {
                drop(Tensor::stack(
                    &[&Tensor::zeros([2, 3]), &Tensor::zeros([2, 4])],
                    0,
                ))
            }),
        ),
        (
            "F::linear mismatch",
            Box::new(|| {
                drop(F::linear(
                    &Tensor::zeros([2, 3]),
                    &Tensor::zeros([4, 5]),
                    Some(&Tensor::zeros([4])),
                ))
            }),
        ),
        (
            "F::linear mismatch without bias",
            Box::new(|| {
                drop(F::linear(
                    &Tensor::zeros([2, 3]),
                    &Tensor::zeros([4, 5]),
                    None,
                ))
            }),
        ),
        (
            "nn::Linear forward mismatch",
            Box::new(|| drop(Linear::new(5, 4).forward(&Tensor::zeros([2, 3])))),
        ),
    ]);
}

#[test]
fn dim_and_index_misuse_points_at_the_caller() {
    let t = Tensor::zeros([2, 3]);
    let c = || t.clone();
    let (t1, t2, t3, t4, t5, t6, t7, t8) = (c(), c(), c(), c(), c(), c(), c(), c());
    let (t9, t10, t11, t12) = (c(), c(), c(), c());
    check(vec![
        (
            "t.sum_dim(5, false)",
            Box::new(move || drop(t1.sum_dim(5, false))),
        ),
        (
            "t.mean_dim(5, false)",
            Box::new(move || drop(t2.mean_dim(5, false))),
        ),
        ("t.select(0, 99)", Box::new(move || drop(t3.select(0, 99)))),
        ("t.softmax(3)", Box::new(move || drop(t4.softmax(3)))),
        (
            "t.transpose(0, 2)",
            Box::new(move || drop(t5.transpose(0, 2))),
        ),
        ("t.unsqueeze(5)", Box::new(move || drop(t6.unsqueeze(5)))),
        (
            "t.index_select(0, &bad_index)",
            Box::new(move || drop(t7.index_select(0, &tensor!([5])))),
        ),
        (
            "t.gather(1, out of range)",
            Box::new(move || drop(t8.gather(1, &tensor!([[7]])))),
        ),
        ("t.index(s![5])", Box::new(move || drop(t9.index(s![5])))),
        (
            "t.narrow(1, 2, 5)",
            Box::new(move || drop(t10.narrow(1, 2, 5))),
        ),
        (
            "t.size(2)",
            Box::new(move || {
                let _ = t11.size(2);
            }),
        ),
        (
            "t.item() of 6 elements",
            Box::new(move || {
                let _ = t12.item::<f32>();
            }),
        ),
    ]);
}

#[test]
fn autograd_misuse_points_at_the_caller() {
    check(vec![
        (
            "backward of a non-scalar",
            Box::new(|| Tensor::ones([3]).requires_grad_(true).mul(2.0).backward()),
        ),
        (
            "backward of a tensor that does not require grad",
            Box::new(|| Tensor::ones([3]).sum().backward()),
        ),
        (
            "second backward",
            Box::new(|| {
                let x = Tensor::ones([3]).requires_grad_(true);
                let y = (&x * &x).sum();
                y.backward();
                y.backward();
            }),
        ),
        (
            "in-place on a leaf",
            Box::new(|| drop(Tensor::ones([3]).requires_grad_(true).mul_(2.0))),
        ),
        (
            "register_hook without requires_grad",
            Box::new(|| drop(Tensor::ones([3]).register_hook(|_| None))),
        ),
    ]);
}
