//! Regression tests for behaviours that once diverged from PyTorch 2.15: lock ordering of
//! in-place ops on shared tensors (no deadlock), element-count overflow and allocation failure
//! messages, overlapping in-place writes, softmax of integer/bool tensors, and error texts of
//! losses, `linear`/matmul and dim wrapping.
//!
//! Every expected message and value was printed by PyTorch 2.15.0 (CPU); most are recorded in
//! the PyTorch behaviour notes this battery was written from (sections "Sizes / allocation",
//! "Overlapping in-place writes", "softmax on integer / bool tensors", "Loss dtype errors",
//! "Linear / matmul errors", "Dim out of range wording"); the remaining ones (noted inline)
//! were printed by the same PyTorch for this file.

mod common;

use common::panic_message;
use flambeau::nn::functional::{self as F, CrossEntropyOptions};
use flambeau::nn::{Forward, Linear};
use flambeau::{DType, Tensor, s, tensor};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// 1. Deadlock freedom
// ---------------------------------------------------------------------------------------------

/// Runs `a` and `b` on two threads started together, each `iters` times, and fails if they
/// have not both finished within `deadline` (a lock-order inversion would hang forever).
fn race(
    iters: usize,
    deadline: Duration,
    a: impl Fn() + Send + 'static,
    b: impl Fn() + Send + 'static,
) {
    let (tx, rx) = mpsc::channel();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let spawn = |f: Box<dyn Fn() + Send>, tx: mpsc::Sender<()>| {
        let barrier = barrier.clone();
        std::thread::spawn(move || {
            barrier.wait();
            for _ in 0..iters {
                f();
            }
            let _ = tx.send(());
        })
    };
    let ha = spawn(Box::new(a), tx.clone());
    let hb = spawn(Box::new(b), tx);
    let end = Instant::now() + deadline;
    for _ in 0..2 {
        match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            Ok(()) => {}
            Err(RecvTimeoutError::Timeout) => {
                panic!("deadlock: the two threads did not finish within {deadline:?}")
            }
            // A thread panicked without reporting: joining it below re-raises its panic.
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    ha.join().expect("thread a panicked");
    hb.join().expect("thread b panicked");
}

/// The deadline of one race: the loops take a tenth of a second; a deadlock never ends.
const DEADLINE: Duration = Duration::from_millis(1500);

/// Loop counts are for release builds: with them, the mul_ and fused-update races deadlocked on
/// every one of 8 runs against fdb5b08 (before storage locks were ordered), and take about
/// 0.1-0.3 s each once fixed. Unoptimised builds run a tenth as many, to stay inside the deadline.
const fn iters(release: usize) -> usize {
    if cfg!(debug_assertions) {
        release / 10
    } else {
        release
    }
}

/// Two shared tensors filled with `value`, and a second handle to each for the other thread.
fn shared(value: f32) -> [Tensor; 4] {
    let (p, q) = (Tensor::full([8, 8], value), Tensor::full([8, 8], value));
    [p.clone(), q.clone(), p, q]
}

// Two threads doing `p op= q` and `q op= p` on the same two tensors lock both storages in
// opposite argument orders; Flambeau must take the locks in one global order. Values stay 1
// under mul_ and copy_, and the additive updates are clamped every iteration.

#[test]
fn mul_both_ways_on_shared_tensors_does_not_deadlock() {
    let [p1, q1, p2, q2] = shared(1.0);
    race(
        iters(100000),
        DEADLINE,
        move || drop(p1.mul_(&q1)),
        move || drop(q2.mul_(&p2)),
    );
}

#[test]
fn copy_both_ways_on_shared_tensors_does_not_deadlock() {
    let [p1, q1, p2, q2] = shared(1.0);
    let p = p1.clone();
    race(
        iters(100000),
        DEADLINE,
        move || drop(p1.copy_(&q1)),
        move || drop(q2.copy_(&p2)),
    );
    assert_eq!(p.to_vec::<f32>(), vec![1.0; 64]);
}

#[test]
fn fused_updates_both_ways_on_shared_tensors_do_not_deadlock() {
    let [p1, q1, p2, q2] = shared(0.5);
    let (p, q) = (p1.clone(), q1.clone());
    race(
        iters(60000),
        DEADLINE,
        move || {
            p1.add_(&q1).mul_(0.5);
            p1.add_alpha_(&q1, 0.5).mul_(2.0 / 3.0);
            p1.addcmul_(&q1, &q1, 1e-3).clamp_(Some(-1.0), Some(1.0));
            p1.lerp_(&q1, 0.5);
        },
        move || {
            q2.add_(&p2).mul_(0.5);
            q2.add_alpha_(&p2, 0.5).mul_(2.0 / 3.0);
            q2.addcmul_(&p2, &p2, 1e-3).clamp_(Some(-1.0), Some(1.0));
            q2.lerp_(&p2, 0.5);
        },
    );
    // Each thread clamps its tensor every iteration, so however the updates interleave (each
    // op is atomic, a sequence of them is not) the values stay finite.
    assert!(p.isfinite().all_true() && q.isfinite().all_true());
}

/// Out-of-place reads of both (`&p + &q`, `Tensor::where_`) while the other thread writes.
#[test]
fn reads_of_both_while_writing_do_not_deadlock() {
    let [p1, q1, p2, q2] = shared(1.0);
    let cond = Tensor::from_vec((0..64).map(|i| i % 3 == 0).collect::<Vec<_>>(), [8, 8]);
    race(
        iters(100000),
        DEADLINE,
        move || {
            drop(&p1 + &q1);
            drop(Tensor::where_(&cond, &p1, &q1));
            p1.mul_(&q1.clamp(Some(0.5), Some(1.0)));
        },
        move || {
            drop(&q2 + &p2);
            q2.copy_(&p2);
        },
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Element counts and allocation failures
// ---------------------------------------------------------------------------------------------

#[test]
fn storage_size_overflow_uses_pytorchs_message() {
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([1usize << 32, 1 << 32]))),
        "Storage size calculation overflowed with sizes=[4294967296, 4294967296]"
    );
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([1usize << 62, 4]))),
        "Storage size calculation overflowed with sizes=[4611686018427387904, 4]"
    );
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([1usize << 31, 1 << 31, 4]))),
        "Storage size calculation overflowed with sizes=[2147483648, 2147483648, 4]"
    );
    assert_eq!(
        panic_message(|| drop(Tensor::empty([1usize << 61]))),
        "Storage size calculation overflowed with sizes=[2305843009213693952]"
    );
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([1usize << 60, 1 << 4]))),
        "Storage size calculation overflowed with sizes=[1152921504606846976, 16]"
    );
}

/// A valid but huge request fails with PyTorch's allocator text (Linux), and does not abort.
#[test]
fn huge_allocation_panics_with_the_allocators_message() {
    let oom = |bytes: u64| {
        format!(
            "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to allocate {bytes} bytes. Error code 12 (Cannot allocate memory)"
        )
    };
    assert_eq!(
        panic_message(|| drop(Tensor::zeros([1usize << 50]))),
        oom(4503599627370496)
    );
    assert_eq!(
        panic_message(|| drop(Tensor::ones([1usize << 50]))),
        oom(4503599627370496)
    );
    assert_eq!(
        panic_message(|| drop(Tensor::empty([1usize << 50]))),
        oom(4503599627370496)
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Overlapping in-place writes
// ---------------------------------------------------------------------------------------------

const PARTIAL_OVERLAP: &str = "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single memory location. Please clone() the tensor before performing the operation.";
const INTERNAL_OVERLAP: &str = "unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation.";

#[test]
fn partially_overlapping_inplace_writes_are_refused() {
    let t = Tensor::arange(0, 16, 1)
        .to_dtype(DType::F32)
        .reshape([4, 4]);
    assert_eq!(panic_message(|| drop(t.copy_(&t.t()))), PARTIAL_OVERLAP);
    let t = Tensor::arange(0, 5, 1).to_dtype(DType::F32);
    assert_eq!(
        panic_message(|| drop(t.index(s![1..]).add_(&t.index(s![..4])))),
        PARTIAL_OVERLAP
    );
    assert_eq!(
        panic_message(|| drop(t.index(s![1..]).copy_(&t.index(s![..-1])))),
        PARTIAL_OVERLAP
    );
    // `t[1:] += t[:4]` is the same add_.
    assert_eq!(
        panic_message(|| {
            let mut v = t.index(s![1..]);
            v += &t.index(s![..4]);
        }),
        PARTIAL_OVERLAP
    );
    // Nothing was written by the refused ops.
    assert_eq!(t.to_vec::<f32>(), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn writes_into_expanded_tensors_are_refused() {
    let x = Tensor::zeros([1]).expand([3]);
    assert_eq!(panic_message(|| drop(x.add_(1.0))), INTERNAL_OVERLAP);
    assert_eq!(
        panic_message(|| drop(x.add_(&Tensor::ones([3])))),
        INTERNAL_OVERLAP
    );
    assert_eq!(panic_message(|| drop(x.mul_(2.0))), INTERNAL_OVERLAP);
    assert_eq!(
        panic_message(|| drop(x.copy_(&Tensor::ones([3])))),
        INTERNAL_OVERLAP
    );
    assert_eq!(
        panic_message(|| drop(x.clamp_(Some(0.0), Some(1.0)))),
        INTERNAL_OVERLAP
    );
}

/// What PyTorch lets through: exact self-aliasing, fills of expanded tensors, and overlapping
/// strided views (which it cannot prove overlapping).
#[test]
fn allowed_aliasing_inplace_ops_give_pytorchs_values() {
    let t = Tensor::arange(0, 5, 1).to_dtype(DType::F32);
    t.add_(&t);
    assert_eq!(format!("{t}"), "tensor([0., 2., 4., 6., 8.])");

    let t = Tensor::arange(0, 5, 1).to_dtype(DType::F32);
    t.copy_(&t);
    assert_eq!(format!("{t}"), "tensor([0., 1., 2., 3., 4.])");

    let x = Tensor::zeros([1]).expand([3]);
    x.fill_(1.0);
    assert_eq!(format!("{x}"), "tensor([1., 1., 1.])");
    x.zero_();
    assert_eq!(format!("{x}"), "tensor([0., 0., 0.])");

    let t = Tensor::arange(0, 6, 1).to_dtype(DType::F32).reshape([2, 3]);
    t.index(s![.., ..2]).mul_(&t.index(s![.., 1..]));
    assert_eq!(
        format!("{t}"),
        "tensor([[ 0.,  2.,  2.],\n        [12., 20.,  5.]])"
    );

    let t = Tensor::arange(0, 5, 1).to_dtype(DType::F32);
    let r = &t.index(s![1..]) + &t.index(s![..4]);
    assert_eq!(format!("{r}"), "tensor([1., 3., 5., 7.])");
}

// ---------------------------------------------------------------------------------------------
// 7. softmax / log_softmax of integer and bool tensors
// ---------------------------------------------------------------------------------------------

#[test]
fn softmax_of_integer_and_bool_tensors_is_not_implemented() {
    let long = tensor!([1, 2, 3]);
    let boolean = tensor!([true, false, true]);
    assert_eq!(long.dtype(), DType::I64);
    assert_eq!(
        panic_message(|| drop(long.softmax(0))),
        "\"softmax_lastdim_kernel_impl\" not implemented for 'Long'"
    );
    assert_eq!(
        panic_message(|| drop(long.log_softmax(0))),
        "\"log_softmax_lastdim_kernel_impl\" not implemented for 'Long'"
    );
    assert_eq!(
        panic_message(|| drop(F::softmax(&tensor!([[1, 2]]), 1))),
        "\"softmax_lastdim_kernel_impl\" not implemented for 'Long'"
    );
    assert_eq!(
        panic_message(|| drop(F::log_softmax(&tensor!([[1, 2]]), 1))),
        "\"log_softmax_lastdim_kernel_impl\" not implemented for 'Long'"
    );
    assert_eq!(
        panic_message(|| drop(boolean.softmax(0))),
        "\"softmax_lastdim_kernel_impl\" not implemented for 'Bool'"
    );
    assert_eq!(
        panic_message(|| drop(boolean.log_softmax(-1))),
        "\"log_softmax_lastdim_kernel_impl\" not implemented for 'Bool'"
    );
    // Over a dim that is not the last one the kernel is another (printed for this file).
    assert_eq!(
        panic_message(|| drop(tensor!([[1, 2]]).softmax(0))),
        "\"softmax_kernel_impl\" not implemented for 'Long'"
    );
    // Casting first works: torch.softmax(t, 0, dtype=torch.float64).
    let r = long.to_dtype(DType::F64).softmax(0);
    assert_eq!(
        format!("{r}"),
        "tensor([0.0900, 0.2447, 0.6652], dtype=torch.float64)"
    );
}

// ---------------------------------------------------------------------------------------------
// 8. Error texts
// ---------------------------------------------------------------------------------------------

#[test]
fn loss_targets_must_be_class_indices() {
    let opts = CrossEntropyOptions::default();
    let x = Tensor::zeros([3, 5]);
    let float_t = tensor!([1.0, 2.0, 0.0]);
    let msg = "expected target dtype to be Long or Byte, but got Float";
    assert_eq!(
        panic_message(|| drop(F::cross_entropy(&x, &float_t, &opts))),
        msg
    );
    assert_eq!(
        panic_message(|| drop(F::nll_loss(&x, &float_t, &opts))),
        msg
    );
    // Double input, float target; float input, double or bool target (printed for this file).
    assert_eq!(
        panic_message(|| drop(F::cross_entropy(&x.double(), &float_t, &opts))),
        msg
    );
    assert_eq!(
        panic_message(|| drop(F::cross_entropy(&x, &float_t.double(), &opts))),
        "expected target dtype to be Long or Byte, but got Double"
    );
    assert_eq!(
        panic_message(|| drop(F::cross_entropy(&x, &tensor!([true, false, true]), &opts))),
        "expected target dtype to be Long or Byte, but got Bool"
    );
    assert_eq!(
        panic_message(|| drop(F::nll_loss(&x, &tensor!([1, 2, 7]), &opts))),
        "Target 7 is out of bounds."
    );
    assert_eq!(
        panic_message(|| drop(F::cross_entropy(&x, &tensor!([1, 2]), &opts))),
        "Expected input batch_size (3) to match target batch_size (2)."
    );
}

#[test]
fn linear_shape_mismatch_names_addmm_or_mm() {
    let w = Tensor::zeros([4, 5]);
    let b = Tensor::zeros([4]);
    let cases: [(&[usize], bool, &str); 6] = [
        (
            &[2, 3],
            false,
            "mm: mat1 and mat2 shapes cannot be multiplied (2x3 and 5x4)",
        ),
        (
            &[2, 3],
            true,
            "addmm: mat1 and mat2 shapes cannot be multiplied (2x3 and 5x4)",
        ),
        (
            &[2, 6, 3],
            true,
            "addmm: mat1 and mat2 shapes cannot be multiplied (12x3 and 5x4)",
        ),
        (
            &[2, 6, 3],
            false,
            "mm: mat1 and mat2 shapes cannot be multiplied (12x3 and 5x4)",
        ),
        (
            &[3],
            false,
            "mm: mat1 and mat2 shapes cannot be multiplied (1x3 and 5x4)",
        ),
        (
            &[3],
            true,
            "addmm: mat1 and mat2 shapes cannot be multiplied (1x3 and 5x4)",
        ),
    ];
    for (shape, bias, want) in cases {
        let x = Tensor::zeros(shape);
        let bias_arg = if bias { Some(&b) } else { None };
        assert_eq!(
            panic_message(|| drop(F::linear(&x, &w, bias_arg))),
            want,
            "F.linear(x{shape:?}, w[4, 5], bias={bias})"
        );
        // nn.Linear(5, 4, bias=...) on the same input (bias=False ones printed for this file).
        let m = Linear::with_bias(5, 4, bias);
        assert_eq!(
            panic_message(|| drop(m.forward(&x))),
            want,
            "nn.Linear(5, 4, bias={bias})(x{shape:?})"
        );
    }
    assert_eq!(
        panic_message(|| drop(F::linear(
            &Tensor::zeros([2, 3]),
            &Tensor::zeros([4, 3]),
            Some(&Tensor::zeros([5]))
        ))),
        "The expanded size of the tensor (4) must match the existing size (5) at non-singleton dimension 1.  Target sizes: [2, 4].  Tensor sizes: [5]"
    );
}

/// Mismatched messages, collected so that one run reports all of them.
#[derive(Default)]
struct Mismatches(Vec<String>);

impl Mismatches {
    fn check(&mut self, what: &str, got: String, want: &str) {
        if got != want {
            self.0
                .push(format!("{what}:\n   got {got:?}\n  want {want:?}"));
        }
    }

    fn assert_none(self) {
        assert!(self.0.is_empty(), "{}", self.0.join("\n"));
    }
}

#[test]
fn linear_and_matmul_dtype_mismatch_messages() {
    let (f, d) = (DType::F32, DType::F64);
    let z = |shape: &[usize], dt: DType| Tensor::zeros_dtype(shape, dt);
    let mut m = Mismatches::default();
    let lin = |x: Tensor, w: Tensor, b: Option<Tensor>| {
        panic_message(move || drop(F::linear(&x, &w, b.as_ref())))
    };
    let mixed = "expected m1 and m2 to have the same dtype, but got: double != float";
    let mixed_fd = "expected m1 and m2 to have the same dtype, but got: float != double";
    let addmm_mixed = "mat1 and mat2 must have the same dtype, but got Double and Float";
    let addmm_mixed_fd = "mat1 and mat2 must have the same dtype, but got Float and Double";
    let self_df = "self and mat2 must have the same dtype, but got Double and Float";
    let self_fd = "self and mat2 must have the same dtype, but got Float and Double";
    m.check(
        "F.linear(x f64, w f32)",
        lin(z(&[2, 3], d), z(&[4, 3], f), None),
        mixed,
    );
    m.check(
        "F.linear(x f64, w f32, b f32)",
        lin(z(&[2, 3], d), z(&[4, 3], f), Some(z(&[4], f))),
        addmm_mixed,
    );
    m.check(
        "F.linear(x f32, w f64, b f64)",
        lin(z(&[2, 3], f), z(&[4, 3], d), Some(z(&[4], d))),
        addmm_mixed_fd,
    );
    m.check(
        "F.linear(x f32, w f32, b f64)",
        lin(z(&[2, 3], f), z(&[4, 3], f), Some(z(&[4], d))),
        self_df,
    );
    m.check(
        "F.linear(x[2, 6, 3] f64, w f32, b f32)",
        lin(z(&[2, 6, 3], d), z(&[4, 3], f), Some(z(&[4], f))),
        addmm_mixed,
    );
    m.check(
        "F.linear(x[2, 6, 3] f64, w f32)",
        lin(z(&[2, 6, 3], d), z(&[4, 3], f), None),
        mixed,
    );
    m.check(
        "F.linear(x[3] f64, w f32)",
        lin(z(&[3], d), z(&[4, 3], f), None),
        mixed,
    );
    m.check(
        "F.linear(x[3] f64, w f32, b f32)",
        lin(z(&[3], d), z(&[4, 3], f), Some(z(&[4], f))),
        addmm_mixed,
    );
    m.check(
        "F.linear(x[2, 6, 3] f32, w f64)",
        lin(z(&[2, 6, 3], f), z(&[4, 3], d), None),
        mixed_fd,
    );
    // nn.Linear(3, 4) (float32) on a float64 input (printed for this file).
    let lin_mod = Linear::new(3, 4);
    let fwd = |l: &Linear, x: Tensor| panic_message(|| drop(l.forward(&x)));
    m.check(
        "nn.Linear(3, 4)(x f64)",
        fwd(&lin_mod, z(&[2, 3], d)),
        addmm_mixed,
    );
    m.check(
        "nn.Linear(3, 4)(x[3] f64)",
        fwd(&lin_mod, z(&[3], d)),
        addmm_mixed,
    );
    let lin_nobias = Linear::with_bias(3, 4, false);
    m.check(
        "nn.Linear(3, 4, bias=False)(x f64)",
        fwd(&lin_nobias, z(&[2, 3], d)),
        mixed,
    );

    let two = |a: Tensor, b: Tensor, op: fn(&Tensor, &Tensor) -> Tensor| {
        panic_message(move || drop(op(&a, &b)))
    };
    m.check(
        "mm(f64, f32)",
        two(z(&[2, 3], d), z(&[3, 4], f), Tensor::mm),
        mixed,
    );
    m.check(
        "mm(f32, f64)",
        two(z(&[2, 3], f), z(&[3, 4], d), Tensor::mm),
        mixed_fd,
    );
    m.check(
        "matmul(2-D f64, 2-D f32)",
        two(z(&[2, 3], d), z(&[3, 4], f), Tensor::matmul),
        mixed,
    );
    m.check(
        "bmm(f64, f32)",
        two(z(&[2, 2, 3], d), z(&[2, 3, 4], f), Tensor::bmm),
        "expected scalar type Double but found Float",
    );
    m.check(
        "bmm(f32, f64)",
        two(z(&[2, 2, 3], f), z(&[2, 3, 4], d), Tensor::bmm),
        "expected scalar type Float but found Double",
    );
    m.check(
        "matmul(3-D f64, 3-D f32)",
        two(z(&[2, 2, 3], d), z(&[2, 3, 5], f), Tensor::matmul),
        "expected scalar type Double but found Float",
    );
    m.check(
        "mv(f64, f32)",
        two(z(&[2, 3], d), z(&[3], f), Tensor::mv),
        "addmv input tensors must have the same dtype, but got Float, Double, and Float",
    );
    m.check(
        "mv(f32, f64)",
        two(z(&[2, 3], f), z(&[3], d), Tensor::mv),
        "addmv input tensors must have the same dtype, but got Double, Float, and Double",
    );
    m.check(
        "dot(f64, f32)",
        two(z(&[3], d), z(&[3], f), Tensor::dot),
        "dot : expected both vectors to have same dtype, but found Double and Float",
    );
    m.check(
        "dot(f32, f64)",
        two(z(&[3], f), z(&[3], d), Tensor::dot),
        "dot : expected both vectors to have same dtype, but found Float and Double",
    );
    m.check(
        "matmul(1-D f64, 1-D f32)",
        two(z(&[3], d), z(&[3], f), Tensor::matmul),
        "dot : expected both vectors to have same dtype, but found Double and Float",
    );
    let addmm = |b: Tensor, m1: Tensor, m2: Tensor| {
        panic_message(move || drop(Tensor::addmm(&b, &m1, &m2)))
    };
    m.check(
        "addmm(b f32, m1 f32, m2 f64)",
        addmm(z(&[4], f), z(&[2, 3], f), z(&[3, 4], d)),
        self_fd,
    );
    m.check(
        "addmm(b f64, m1 f32, m2 f32)",
        addmm(z(&[4], d), z(&[2, 3], f), z(&[3, 4], f)),
        self_df,
    );
    m.assert_none();
}

#[test]
fn matmul_shape_messages() {
    let z = |shape: &[usize]| Tensor::zeros(shape);
    assert_eq!(
        panic_message(|| drop(z(&[2, 3]).mm(&z(&[3])))),
        "mm: mat2 must be a matrix, got 1-D tensor"
    );
    assert_eq!(
        panic_message(|| drop(z(&[2, 2, 3]).bmm(&z(&[2, 4, 4])))),
        "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4]."
    );
    assert_eq!(
        panic_message(|| drop(z(&[2, 2, 3]).bmm(&z(&[3, 3, 4])))),
        "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [3, 3]."
    );
    assert_eq!(
        panic_message(|| drop(z(&[2, 3]).mv(&z(&[4])))),
        "size mismatch, got input (2), mat (2x3), vec (4)"
    );
    assert_eq!(
        panic_message(|| drop(z(&[3]).dot(&z(&[4])))),
        "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of elements, but got 3 and 4 elements respectively"
    );
    assert_eq!(
        panic_message(|| drop(Tensor::addmm(&z(&[5]), &z(&[2, 3]), &z(&[3, 4])))),
        "The expanded size of the tensor (4) must match the existing size (5) at non-singleton dimension 1.  Target sizes: [2, 4].  Tensor sizes: [5]"
    );
}

#[test]
fn dim_out_of_range_for_many_ops() {
    let t = Tensor::zeros([2, 3]);
    let range = |got: i64| {
        format!("Dimension out of range (expected to be in range of [-2, 1], but got {got})")
    };
    type Case<'a> = (&'static str, String, Box<dyn Fn() + 'a>);
    let cases: Vec<Case> = vec![
        (
            "sum(dim=5)",
            range(5),
            Box::new(|| drop(t.sum_dim(5, false))),
        ),
        (
            "sum(dim=-3)",
            range(-3),
            Box::new(|| drop(t.sum_dim(-3, false))),
        ),
        (
            "mean(dim=[0, 4])",
            range(4),
            Box::new(|| drop(t.mean_dim([0, 4], false))),
        ),
        (
            "transpose(0, 2)",
            range(2),
            Box::new(|| drop(t.transpose(0, 2))),
        ),
        ("softmax(3)", range(3), Box::new(|| drop(t.softmax(3)))),
        (
            "log_softmax(2)",
            range(2),
            Box::new(|| drop(t.log_softmax(2))),
        ),
        (
            "size(2)",
            range(2),
            Box::new(|| {
                let _ = t.size(2);
            }),
        ),
        ("select(2, 0)", range(2), Box::new(|| drop(t.select(2, 0)))),
        (
            "cat(dim=2)",
            range(2),
            Box::new(|| drop(Tensor::cat(&[&t, &t], 2))),
        ),
        ("squeeze(3)", range(3), Box::new(|| drop(t.squeeze_dim(3)))),
        (
            "flatten(0, 3)",
            range(3),
            Box::new(|| drop(t.flatten(0, 3))),
        ),
        (
            "argmax(dim=2)",
            range(2),
            Box::new(|| drop(t.argmax(Some(2), false))),
        ),
        (
            "var(dim=2)",
            range(2),
            Box::new(|| drop(t.var_dim(2, true, false))),
        ),
        (
            "std(dim=-3)",
            range(-3),
            Box::new(|| drop(t.std_dim(-3, true, false))),
        ),
        (
            "max(dim=2)",
            range(2),
            Box::new(|| drop(t.max_dim(2, false))),
        ),
        ("amax(dim=2)", range(2), Box::new(|| drop(t.amax(2, false)))),
        (
            "logsumexp(dim=2)",
            range(2),
            Box::new(|| drop(t.logsumexp(2, false))),
        ),
        (
            "norm(2, dim=2)",
            range(2),
            Box::new(|| drop(t.norm(2.0, 2, false))),
        ),
        (
            "narrow(2, 0, 1)",
            range(2),
            Box::new(|| drop(t.narrow(2, 0, 1))),
        ),
        (
            "chunk(2, dim=2)",
            range(2),
            Box::new(|| drop(t.chunk(2, 2))),
        ),
        (
            "split(1, dim=2)",
            range(2),
            Box::new(|| drop(t.split(1, 2))),
        ),
        ("unbind(2)", range(2), Box::new(|| drop(t.unbind(2)))),
        (
            "movedim(2, 0)",
            range(2),
            Box::new(|| drop(t.movedim(2, 0))),
        ),
        (
            "permute(0, 2)",
            range(2),
            Box::new(|| drop(t.permute([0, 2]))),
        ),
        (
            "index_select(2, ..)",
            range(2),
            Box::new(|| drop(t.index_select(2, &tensor!([0])))),
        ),
        (
            "gather(2, ..)",
            range(2),
            Box::new(|| drop(t.gather(2, &tensor!([[0]])))),
        ),
        (
            "unsqueeze(4)",
            "Dimension out of range (expected to be in range of [-3, 2], but got 4)".into(),
            Box::new(|| drop(t.unsqueeze(4))),
        ),
        (
            "unsqueeze(-4)",
            "Dimension out of range (expected to be in range of [-3, 2], but got -4)".into(),
            Box::new(|| drop(t.unsqueeze(-4))),
        ),
        (
            "stack(dim=3)",
            "Dimension out of range (expected to be in range of [-3, 2], but got 3)".into(),
            Box::new(|| drop(Tensor::stack(&[&t], 3))),
        ),
        (
            "tensor(1.).sum(dim=1)",
            "Dimension out of range (expected to be in range of [-1, 0], but got 1)".into(),
            Box::new(|| drop(Tensor::scalar(1.0f32).sum_dim(1, false))),
        ),
        (
            "tensor(1.).unsqueeze(2)",
            "Dimension out of range (expected to be in range of [-1, 0], but got 2)".into(),
            Box::new(|| drop(Tensor::scalar(1.0f32).unsqueeze(2))),
        ),
        (
            "select(1, 5)",
            "select(): index 5 out of range for tensor of size [2, 3] at dimension 1".into(),
            Box::new(|| drop(t.select(1, 5))),
        ),
    ];
    let mut m = Mismatches::default();
    for (what, want, f) in &cases {
        m.check(what, panic_message(f), want);
    }
    m.assert_none();
}

#[test]
fn a_tensor_without_elements_is_contiguous_whatever_its_strides() {
    // torch.zeros(3, 0).t().is_contiguous() is True (c10's compute_contiguous).
    let t = Tensor::zeros([3, 0]).t();
    assert!(t.is_contiguous());
    assert!(Tensor::zeros([3, 0, 2]).permute([2, 0, 1]).is_contiguous());
    assert!(!Tensor::zeros([3, 2]).t().is_contiguous());
    assert_eq!(t.contiguous().dims(), &[0, 3]);
}
