//! The workloads of the peers' `torch_bench.py`, in its order, with its shapes, optimizers and
//! timing rules (warm-up and repetition counts), built on Flambeau's public API only.

use crate::peak;
use crate::timing::{report, timeit};
use flambeau::nn::{
    Conv2d, CrossEntropyLoss, Flatten, Forward, Linear, MSELoss, MaxPool2d, Module, ReLU,
    Sequential, TransformerEncoderLayer, TransformerLayerOptions,
};
use flambeau::optim::{Adam, AdamW, Optimizer, SGD, SgdOptions};
use flambeau::{DType, Tensor, no_grad, sequential};
use std::hint::black_box;

/// Every workload name, in the order they run (`torch_bench.py`'s, then the memory workload,
/// which `torch_bench.py` runs as a separate invocation, then this machine's FMA peak).
pub const NAMES: &[&str] = &[
    "seed_linreg_1000_epochs",
    "mlp_784_512_256_10_b128_adam_step",
    "cnn_b64_28x28_sgdm_step",
    "transformer_layer_d128_s64_b32_adamw_step",
    "sgemm_256",
    "sgemm_1024",
    "sgemm_2048",
    "mlp_infer_b1",
    "mlp_train_peak_memory",
    "peak_fma",
];

/// The MLP of W2, W6 and the memory workload: 784-512-256-10 with ReLUs.
pub fn mlp() -> Sequential {
    sequential![
        Linear::new(784, 512),
        ReLU::new(),
        Linear::new(512, 256),
        ReLU::new(),
        Linear::new(256, 10)
    ]
}

/// One training step: cross entropy of `model(xb)` against `yb`, zero_grad, backward, step.
fn train_step(model: &Sequential, xb: &Tensor, yb: &Tensor, opt: &mut impl Optimizer) {
    let loss = CrossEntropyLoss::new().forward(&model.forward(xb), yb);
    opt.zero_grad();
    loss.backward();
    opt.step();
}

/// Runs the workloads `wanted` accepts, in [`NAMES`] order, printing one JSON line each. The
/// caller seeds the default generator first (`torch.manual_seed(0)`); `peak_memory` runs the
/// memory workload (in a fresh process) and reports whether it succeeded.
pub fn run(wanted: impl Fn(&str) -> bool, peak_memory: impl Fn() -> bool) -> bool {
    let mut ok = true;

    // W1: the seed's linear regression, 1000 epochs of 11 points
    if wanted("seed_linreg_1000_epochs") {
        let x = (Tensor::randint(-5, 30, [11]).to_dtype(DType::F32) * 0.1).unsqueeze(1);
        let y = 0.5 * &x * 10.0 + 30.0 + Tensor::randn([11, 1]);
        let m = Linear::new(1, 1);
        let lf = MSELoss::new();
        let mut opt = SGD::new(m.parameters(), 1e-2);
        let t = timeit(
            || {
                for _ in 0..1000 {
                    let loss = lf.forward(&m.forward(&x), &y);
                    opt.zero_grad();
                    loss.backward();
                    opt.step();
                }
            },
            2,
            10,
        );
        report("seed_linreg_1000_epochs", t, &[]);
    }

    // W2: MLP 784-512-256-10, batch 128, cross entropy, Adam: one training step. W6 reuses this
    // model (trained by these steps), as torch_bench.py does.
    let mut trained_mlp = None;
    if wanted("mlp_784_512_256_10_b128_adam_step") {
        let model = mlp();
        let xb = Tensor::randn([128, 784]);
        let yb = Tensor::randint(0, 10, [128]);
        let mut adam = Adam::new(model.parameters(), 1e-3);
        let t = timeit(|| train_step(&model, &xb, &yb, &mut adam), 5, 30);
        report("mlp_784_512_256_10_b128_adam_step", t, &[]);
        trained_mlp = Some(model);
    }

    // W3: small CNN on 28x28, batch 64, SGD momentum: one training step
    if wanted("cnn_b64_28x28_sgdm_step") {
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
        let xc = Tensor::randn([64, 1, 28, 28]);
        let yc = Tensor::randint(0, 10, [64]);
        let mut sgdm = SGD::with_options(
            cnn.parameters(),
            SgdOptions {
                momentum: 0.9,
                ..SgdOptions::new(1e-2)
            },
        );
        let t = timeit(|| train_step(&cnn, &xc, &yc, &mut sgdm), 5, 30);
        report("cnn_b64_28x28_sgdm_step", t, &[]);
    }

    // W4: a transformer encoder layer, d 128, 4 heads, ff 512, seq 64, batch 32, AdamW
    if wanted("transformer_layer_d128_s64_b32_adamw_step") {
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
        let xt = Tensor::randn([32, 64, 128]);
        let mut opt = AdamW::new(enc.parameters(), 1e-3);
        let t = timeit(
            || {
                let loss = enc.forward(&xt).pow(2).mean();
                opt.zero_grad();
                loss.backward();
                opt.step();
            },
            5,
            30,
        );
        report("transformer_layer_d128_s64_b32_adamw_step", t, &[]);
    }

    // W5: sgemm throughput (`a @ b`; neither operand requires grad)
    for n in [256usize, 1024, 2048] {
        let name = format!("sgemm_{n}");
        if wanted(&name) {
            let a = Tensor::randn([n, n]);
            let b = Tensor::randn([n, n]);
            let t = timeit(|| drop(black_box(a.matmul(&b))), 3, 10);
            let gflops = crate::timing::round(2.0 * (n as f64).powi(3) / t / 1e9, 1);
            report(&name, t, &[("gflops", gflops)]);
        }
    }

    // W6: inference latency, MLP batch 1, under no_grad
    if wanted("mlp_infer_b1") {
        let model = trained_mlp.take().unwrap_or_else(mlp);
        no_grad(|| {
            let x1 = Tensor::randn([1, 784]);
            let t = timeit(|| drop(black_box(model.forward(&x1))), 50, 500);
            report("mlp_infer_b1", t, &[]);
        });
    }

    if wanted("mlp_train_peak_memory") {
        ok &= peak_memory();
    }

    if wanted("peak_fma") {
        match peak::kernel() {
            Some((f, flops_per_thread, unit)) => {
                let threads = rayon::current_num_threads();
                let t = timeit(
                    || {
                        rayon::broadcast(|_| black_box(f()));
                    },
                    2,
                    10,
                );
                let gflops = crate::timing::round(flops_per_thread * threads as f64 / t / 1e9, 1);
                report("peak_fma", t, &[("gflops", gflops)]);
                eprintln!("peak_fma: {unit} fused multiply-adds on {threads} thread(s)");
            }
            None => {
                eprintln!("peak_fma: unsupported on this CPU (needs x86-64 AVX-512 or AVX2+FMA)")
            }
        }
    }
    ok
}

/// The memory workload's body, run in a fresh process: 200 Adam training steps of the MLP on
/// one batch of 128, then this process's peak resident set size in MB (`ru_maxrss / 1024` in
/// `torch_bench.py`; here Linux's `VmHWM`, the same high-water mark, read from
/// /proc/self/status). Returns the JSON line, or why it cannot be measured.
pub fn mlp_train_peak_memory() -> Result<String, String> {
    let model = mlp();
    let xb = Tensor::randn([128, 784]);
    let yb = Tensor::randint(0, 10, [128]);
    let mut adam = Adam::new(model.parameters(), 1e-3);
    for _ in 0..200 {
        train_step(&model, &xb, &yb, &mut adam);
    }
    let kb = peak_rss_kb()?;
    Ok(format!(
        "{{\"workload\": \"mlp_train_peak_memory\", \"peak_rss_mb\": {}, \"framework\": \"flambeau\"}}",
        crate::timing::json_float(crate::timing::round(kb as f64 / 1024.0, 1))
    ))
}

/// This process's peak resident set size in kB, from the `VmHWM:` line of /proc/self/status.
fn peak_rss_kb() -> Result<u64, String> {
    if !cfg!(target_os = "linux") {
        return Err("unsupported on this OS (reads Linux's /proc/self/status)".into());
    }
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
    parse_vm_hwm(&status).ok_or_else(|| "no VmHWM line in /proc/self/status".into())
}

/// The kB figure of a `VmHWM:   12345 kB` line.
pub fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line["VmHWM:".len()..]
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vm_hwm() {
        let status = "Name:\tx\nVmPeak:\t  900 kB\nVmHWM:\t  123456 kB\nVmRSS:\t 1 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(123456));
        assert_eq!(parse_vm_hwm("VmRSS: 1 kB\n"), None);
        assert_eq!(parse_vm_hwm("VmHWM: lots\n"), None);
    }
}
