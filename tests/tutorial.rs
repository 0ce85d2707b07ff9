//! The tutorial's code path (the example's own `tutorial.rs`) against PyTorch's recorded run
//! (`seed_linreg.json`): the same data, initial parameters, every epoch's loss bit for bit, the
//! same parameters at the checkpoints and the same printed fit. Also the example binary itself:
//! its output, its pictures, and its refusal of bad flags.

#[path = "../examples/linear_regression/tutorial.rs"]
#[allow(dead_code)]
mod tutorial;

// Shared with the parity harness: fixture loading and exact comparison.
#[allow(dead_code)]
mod parity;

use flambeau::nn::{Linear, MSELoss, Module};
use flambeau::optim::SGD;
use flambeau::{Tensor, manual_seed};
use parity::{compare_exact, load, tensor};
use std::path::PathBuf;
use std::process::Command;

fn bits(t: &Tensor) -> Vec<u32> {
    t.to_vec::<f32>().iter().map(|v| v.to_bits()).collect()
}

#[test]
fn tutorial_matches_pytorch_bit_for_bit() {
    let fx = load("seed_linreg.json");
    let run = &fx["seed_linear_regression"];
    let (seed, num, epochs) = (
        run["seed"].as_u64().unwrap(),
        run["num"].as_u64().unwrap() as usize,
        run["epochs"].as_u64().unwrap() as usize,
    );
    let lr = run["lr"].as_f64().unwrap();

    manual_seed(seed);
    let (x, y) = tutorial::get_fake_data(num);
    compare_exact(
        "x_int",
        &x.to_dtype(flambeau::DType::I64),
        &tensor(&run["x_int"]),
    )
    .unwrap();
    let x = (&x * 0.1).unsqueeze(1);
    let y = y.unsqueeze(1);
    compare_exact("x", &x, &tensor(&run["x"])).unwrap();
    compare_exact("y", &y, &tensor(&run["y"])).unwrap();

    let model = Linear::new(1, 1);
    compare_exact(
        "initial weight",
        &model.weight,
        &tensor(&run["initial_weight"]),
    )
    .unwrap();
    compare_exact(
        "initial bias",
        model.bias.as_ref().unwrap(),
        &tensor(&run["initial_bias"]),
    )
    .unwrap();
    assert_eq!(
        format!("{}", model.weight),
        "Parameter containing:\ntensor([[-0.9366]], requires_grad=True)"
    );

    let loss_fn = MSELoss::new();
    let mut optimizer = SGD::new(model.parameters(), lr);
    let want: Vec<u32> = run["losses_every_epoch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v.as_f64().unwrap() as f32).to_bits())
        .collect();
    let checkpoints = &run["checkpoints"];
    let mut got = Vec::new();
    let params = tutorial::training_loop(epochs, &mut optimizer, &model, &loss_fn, &x, &y, |e| {
        got.push(e.loss.to_bits());
        if let Some(cp) = checkpoints.get(e.epoch.to_string()) {
            assert_eq!(
                e.loss.to_bits(),
                (cp["loss"]["values"][0].as_f64().unwrap() as f32).to_bits(),
                "loss at epoch {}",
                e.epoch
            );
            assert_eq!(
                bits(&e.model.weight),
                bits(&tensor(&cp["weight"])),
                "weight after epoch {}",
                e.epoch
            );
            assert_eq!(
                bits(e.model.bias.as_ref().unwrap()),
                bits(&tensor(&cp["bias"])),
                "bias after epoch {}",
                e.epoch
            );
        }
    });
    let first_diff = got.iter().zip(&want).position(|(a, b)| a != b);
    assert_eq!(
        first_diff,
        None,
        "losses differ from PyTorch's from epoch {:?}",
        first_diff.map(|i| i + 1)
    );
    assert_eq!(got.len(), want.len());
    for (k, v) in run["loss_at_epoch"].as_object().unwrap() {
        let e: usize = k.parse().unwrap();
        assert_eq!(
            got[e - 1],
            (v.as_f64().unwrap() as f32).to_bits(),
            "loss_at_epoch {k}"
        );
    }
    assert_eq!(params.len(), 2);
    compare_exact("final weight", &params[0], &tensor(&run["final_weight"])).unwrap();
    compare_exact("final bias", &params[1], &tensor(&run["final_bias"])).unwrap();
    let (w, b) = tutorial::fit_label(&model);
    assert_eq!(
        format!("fit: y = {w:.3}x + {b:.3}"),
        "fit: y = 0.536x + 30.005"
    );
}

/// The example binary, built by `cargo test` beside this test's binary.
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    let bin = dir.join(format!("linear_regression{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} not found: cargo test builds the examples",
        bin.display()
    );
    bin
}

#[test]
fn example_prints_pytorchs_numbers_and_draws_its_pictures() {
    let out_dir = std::env::temp_dir().join(format!("flambeau-tutorial-{}", std::process::id()));
    let output = Command::new(example_binary())
        .args(["--out", out_dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let expected_start = "Parameter containing:\ntensor([[-0.9366]], requires_grad=True)\nParameter containing:\ntensor([-0.5837], requires_grad=True)\nepoch 100 loss 57.01447677612305\n";
    assert!(stdout.starts_with(expected_start), "{stdout}");
    assert!(
        stdout.contains("epoch 500 loss 1.1289325952529907\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "epoch 1000 loss 0.7316370010375977\nfit: y = 0.536x + 30.005\nfinal loss: 0.7316\n"
        ),
        "{stdout}"
    );
    let png = std::fs::read(out_dir.join("fit.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(
        &std::fs::read(out_dir.join("loss.png")).unwrap()[..4],
        b"\x89PNG"
    );
    assert_eq!(
        &std::fs::read(out_dir.join("training.gif")).unwrap()[..6],
        b"GIF89a"
    );
    std::fs::remove_dir_all(&out_dir).ok();
}

#[test]
fn example_refuses_bad_flags_clearly() {
    for (args, message) in [
        (
            vec!["--epochs", "abc"],
            "error: invalid value 'abc' for --epochs: expected a positive integer",
        ),
        (
            vec!["--lr", "-1"],
            "error: invalid value '-1' for --lr: expected a non-negative number",
        ),
        (
            vec!["--num=0"],
            "error: invalid value '0' for --num: expected a positive integer",
        ),
        (vec!["--seed"], "error: --seed needs a value"),
        (
            vec!["--frobnicate", "1"],
            "error: unknown flag '--frobnicate'",
        ),
    ] {
        let output = Command::new(example_binary()).args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.starts_with(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
