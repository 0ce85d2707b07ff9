//! A long training-style loop must not grow memory: graphs are freed when the loss is dropped and
//! gradients are replaced, not accumulated forever. Alone in its binary so that no other test's
//! allocations move the resident set size.

use flambeau::{Tensor, no_grad, tensor};

/// Resident set size in bytes (Linux); `None` elsewhere.
fn rss_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn step(x: &Tensor, y: &Tensor, w: &Tensor, b: &Tensor) {
    let pred = x.matmul(w) + b;
    let loss = (&pred - y).pow(2).mean();
    w.set_grad(None);
    b.set_grad(None);
    loss.backward();
    no_grad(|| {
        w.add_alpha_(&w.grad().unwrap(), -0.01);
        b.add_alpha_(&b.grad().unwrap(), -0.01);
    });
}

#[test]
fn hundred_thousand_steps_keep_memory_flat() {
    let x = Tensor::linspace(-1.0, 1.0, 11).unsqueeze(1);
    let y = &x * 3.0 + 1.0;
    let w = tensor!([[0.0]]).requires_grad_(true);
    let b = tensor!([0.0]).requires_grad_(true);
    for _ in 0..10_000 {
        step(&x, &y, &w, &b);
    }
    let Some(before) = rss_bytes() else {
        eprintln!("no /proc/self/statm: memory check skipped on this platform");
        return;
    };
    for _ in 0..90_000 {
        step(&x, &y, &w, &b);
    }
    let after = rss_bytes().unwrap();
    let growth = after.saturating_sub(before);
    // A leak of even one small tensor per step would be > 90_000 * 44 bytes = 4 MB.
    assert!(
        growth < 2 << 20,
        "resident memory grew by {growth} bytes over 90,000 steps"
    );
    assert!(
        (w.item::<f32>() - 3.0).abs() < 1e-3,
        "the loop did not train: w = {}",
        w.item::<f32>()
    );
}
