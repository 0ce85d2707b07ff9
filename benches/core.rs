//! Core micro-benchmarks, printed as JSON lines (one per workload) so that `benches/compare.sh`
//! can put them beside PyTorch's figures from `benches/torch_core.py`, measured in the same run.
//!
//! Workloads: `a + b` on 11-element tensors; forward and backward of `((x @ w + b - y)^2).mean()`
//! with x 11x1; sgemm at 256, 1024 and 2048; and the peers' model workloads: the tutorial's 1000
//! epochs, one Adam training step of a 784-512-256-10 MLP on a batch of 128, and that MLP's
//! batch-1 inference; and the layers: a Conv2d forward+backward at each convolution of the peers'
//! CNN, a MultiheadAttention forward+backward at the transformer workload's shapes, an LSTM
//! forward+backward, and the CNN and transformer-layer training steps.
//!
//! `cargo bench --bench core` (add `-- quick` for fewer repetitions).

use flambeau::nn::functional::MhaOptions;
use flambeau::nn::{
    Conv2d, CrossEntropyLoss, Flatten, Forward, LSTM, Linear, MSELoss, MaxPool2d, Module,
    MultiheadAttention, MultiheadAttentionOptions, RNNOptions, ReLU, TransformerEncoderLayer,
    TransformerLayerOptions,
};
use flambeau::optim::{Adam, AdamW, Optimizer, SGD, SgdOptions};
use flambeau::{DType, Generator, Tensor, no_grad, sequential};
use std::hint::black_box;
use std::time::Instant;

/// Median seconds per call over `reps` timed batches of `inner` calls, after a warm-up.
fn time(reps: usize, inner: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..inner.max(3) {
        f();
    }
    let mut samples: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..inner {
                f();
            }
            t.elapsed().as_secs_f64() / inner as f64
        })
        .collect();
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[reps / 2]
}

fn report(name: &str, secs: f64, extra: &str) {
    println!(
        "{{\"workload\": \"{name}\", \"median_us\": {:.4}{extra}, \"framework\": \"flambeau\"}}",
        secs * 1e6
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let reps = if quick { 5 } else { 21 };
    let g = Generator::new().manual_seed(0);

    // a + b, 11 elements
    let a = Tensor::randn_gen([11], DType::F32, &g);
    let b = Tensor::randn_gen([11], DType::F32, &g);
    let t = time(reps, 20_000, || {
        black_box(&a + &b);
    });
    report("add_11", t, "");

    // forward + backward of the tutorial's loss, x 11x1
    let x = Tensor::randn_gen([11, 1], DType::F32, &g);
    let y = Tensor::randn_gen([11, 1], DType::F32, &g);
    let w = Tensor::randn_gen([1, 1], DType::F32, &g).requires_grad_(true);
    let bias = Tensor::randn_gen([1], DType::F32, &g).requires_grad_(true);
    let t = time(reps, 5_000, || {
        let loss = (x.matmul(&w) + &bias - &y).pow(2).mean();
        w.set_grad(None);
        bias.set_grad(None);
        loss.backward();
        black_box(&loss);
    });
    report("linreg_fwd_bwd_11", t, "");

    // the tutorial: 1000 epochs of nn.Linear(1, 1) + MSELoss + SGD on 11 points
    let x = (Tensor::randint_gen(-5, 30, [11], DType::F32, &g) * 0.1).unsqueeze(1);
    let y = &x * 5.0 + 30.0 + Tensor::randn_gen([11, 1], DType::F32, &g);
    let m = Linear::new(1, 1);
    let lf = MSELoss::new();
    let mut opt = SGD::new(m.parameters(), 1e-2);
    let t = time(reps.min(11), 1, || {
        for _ in 0..1000 {
            let loss = lf.forward(&m.forward(&x), &y);
            opt.zero_grad();
            loss.backward();
            opt.step();
        }
    });
    report("seed_linreg_1000_epochs", t, "");

    // MLP 784-512-256-10, batch 128, cross entropy, Adam: one training step
    let mlp = sequential![
        Linear::new(784, 512),
        ReLU::new(),
        Linear::new(512, 256),
        ReLU::new(),
        Linear::new(256, 10)
    ];
    let xb = Tensor::randn_gen([128, 784], DType::F32, &g);
    let yb = Tensor::randint_gen(0, 10, [128], DType::I64, &g);
    let ce = CrossEntropyLoss::new();
    let mut adam = Adam::new(mlp.parameters(), 1e-3);
    let t = time(reps, 3, || {
        let loss = ce.forward(&mlp.forward(&xb), &yb);
        adam.zero_grad();
        loss.backward();
        adam.step();
    });
    report("mlp_784_512_256_10_b128_adam_step", t, "");

    // the same MLP, batch-1 inference
    let x1 = Tensor::randn_gen([1, 784], DType::F32, &g);
    let t = time(reps, 200, || {
        no_grad(|| black_box(mlp.forward(&x1)));
    });
    report("mlp_infer_b1", t, "");

    // sgemm
    for n in [256usize, 1024, 2048] {
        let a = Tensor::randn_gen([n, n], DType::F32, &g);
        let b = Tensor::randn_gen([n, n], DType::F32, &g);
        let (r, inner) = match n {
            256 => (reps, 20),
            1024 => (reps.min(7), 2),
            _ => (reps.min(5), 1),
        };
        let t = time(r, inner, || {
            no_grad(|| black_box(a.mm(&b)));
        });
        let gflops = 2.0 * (n as f64).powi(3) / t / 1e9;
        report(
            &format!("sgemm_{n}"),
            t,
            &format!(", \"gflops\": {gflops:.1}"),
        );
    }

    // Conv2d forward + backward at the two convolutions of the peers' CNN (batch 64)
    for (name, cin, cout, hw) in [
        ("conv2d_1x32_28_fwd_bwd", 1, 32, 28),
        ("conv2d_32x64_13_fwd_bwd", 32, 64, 13),
    ] {
        let conv = Conv2d::new(cin, cout, 3);
        let xi = Tensor::randn_gen([64, cin, hw, hw], DType::F32, &g).requires_grad_(cin > 1);
        let t = time(reps, 3, || {
            conv.zero_grad();
            xi.set_grad(None);
            conv.forward(&xi).sum().backward();
        });
        report(name, t, "");
    }

    // MultiheadAttention forward + backward: d 128, 4 heads, seq 64, batch 32, self-attention
    let mha = MultiheadAttention::with_options(
        128,
        4,
        MultiheadAttentionOptions {
            batch_first: true,
            ..Default::default()
        },
    );
    let xa = Tensor::randn_gen([32, 64, 128], DType::F32, &g).requires_grad_(true);
    let t = time(reps, 3, || {
        mha.zero_grad();
        xa.set_grad(None);
        let opts = MhaOptions {
            need_weights: false,
            ..Default::default()
        };
        mha.forward(&xa, &xa, &xa, opts).0.sum().backward();
    });
    report("mha_d128_h4_s64_b32_fwd_bwd", t, "");

    // LSTM forward + backward: input 32, hidden 64, seq 35, batch 16
    let lstm = LSTM::with_options(32, 64, RNNOptions::default().batch_first(true));
    let xl = Tensor::randn_gen([16, 35, 32], DType::F32, &g);
    let t = time(reps, 3, || {
        lstm.zero_grad();
        lstm.forward(&xl, None).0.pow(2).mean().backward();
    });
    report("lstm_i32_h64_s35_b16_fwd_bwd", t, "");

    // the peers' CNN: one SGD-momentum training step on a batch of 64 28x28 images
    let cnn = sequential![
        Conv2d::new(1, 32, 3),
        ReLU::new(),
        MaxPool2d::new(2),
        Conv2d::new(32, 64, 3),
        ReLU::new(),
        MaxPool2d::new(2),
        Flatten::new(),
        Linear::new(64 * 5 * 5, 128),
        ReLU::new(),
        Linear::new(128, 10)
    ];
    let xc = Tensor::randn_gen([64, 1, 28, 28], DType::F32, &g);
    let yc = Tensor::randint_gen(0, 10, [64], DType::I64, &g);
    let mut sgdm = SGD::with_options(
        cnn.parameters(),
        SgdOptions {
            momentum: 0.9,
            ..SgdOptions::new(1e-2)
        },
    );
    let t = time(reps, 1, || {
        let loss = ce.forward(&cnn.forward(&xc), &yc);
        sgdm.zero_grad();
        loss.backward();
        sgdm.step();
    });
    report("cnn_b64_28x28_sgdm_step", t, "");

    // a transformer encoder layer (d 128, 4 heads, ff 512, seq 64, batch 32): one AdamW step
    let enc = TransformerEncoderLayer::with_options(
        128,
        4,
        TransformerLayerOptions {
            dim_feedforward: 512,
            dropout: 0.0,
            batch_first: true,
            ..Default::default()
        },
    );
    let xt = Tensor::randn_gen([32, 64, 128], DType::F32, &g);
    let mut adamw = AdamW::new(enc.parameters(), 1e-3);
    let t = time(reps, 1, || {
        let loss = enc.forward(&xt).pow(2).mean();
        adamw.zero_grad();
        loss.backward();
        adamw.step();
    });
    report("transformer_layer_d128_s64_b32_adamw_step", t, "");
}
