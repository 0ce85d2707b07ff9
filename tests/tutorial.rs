//! The tutorial's code path (the example's own `tutorial.rs`) against PyTorch's recorded run
//! (`seed_linreg.json`): the same data, initial parameters, every epoch's loss bit for bit, the
//! same parameters at the checkpoints and the same printed fit. Also the example binary itself:
//! its output, its pictures, its refusal of bad flags, and a diverging run (`--lr 0.3`,
//! `--lr 10`) that prints PyTorch's `nan`/`inf` lines and exits; with the example's number
//! formatting and axis ranges, unit-tested on non-finite values.

#[path = "../examples/linear_regression/tutorial.rs"]
#[allow(dead_code)]
mod tutorial;

#[path = "../examples/linear_regression/plots.rs"]
mod plots;

#[path = "../examples/linear_regression/pyfmt.rs"]
mod pyfmt;

// Shared with the parity harness: fixture loading and exact comparison.
#[allow(dead_code)]
mod parity;

use flambeau::nn::{Linear, MSELoss, Module};
use flambeau::optim::SGD;
use flambeau::{Tensor, manual_seed};
use parity::{compare_exact, load, tensor};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

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

/// The example binary, beside this test's binary (`target/<profile>/examples/`). A plain `cargo
/// test` builds it, but `cargo test --test tutorial` does not, and a stale binary would test old
/// code: so it is brought up to date once here, by the cargo running these tests, with the same
/// profile and target folder (a no-op when it is fresh).
fn example_binary() -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let bin = profile_dir
        .join("examples")
        .join(format!("linear_regression{}", std::env::consts::EXE_SUFFIX));
    let built = BUILT.get_or_init(|| {
        // Run by something other than cargo: use whatever binary is there.
        let Some(cargo) = std::env::var_os("CARGO") else {
            return Ok(());
        };
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(name) => name,
        };
        let output = Command::new(cargo)
            .args([
                "build",
                "--example",
                "linear_regression",
                "--profile",
                profile,
            ])
            .env("CARGO_TARGET_DIR", profile_dir.parent().unwrap())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .map_err(|e| e.to_string())?;
        match output.status.success() {
            true => Ok(()),
            false => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
        }
    });
    if let Err(e) = built {
        panic!("cannot build the linear_regression example:\n{e}");
    }
    assert!(bin.exists(), "{} not found", bin.display());
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

/// How long one run of the example may take before it counts as hung: a few seconds in a release
/// build, far more in a debug build, and forever when an axis range is not finite.
const EXAMPLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the example with `args`, killing it and failing if it is still running after `timeout`.
fn run_example_with_timeout(args: &[&str], timeout: Duration) -> Output {
    let mut child = Command::new(example_binary())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain both pipes while waiting, so that a full pipe cannot block the child.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            pipe.read_to_end(&mut buf).ok();
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > timeout {
            child.kill().ok();
            child.wait().ok();
            panic!(
                "linear_regression {args:?} still running after {timeout:?} (killed); stdout:\n{}",
                String::from_utf8_lossy(&stdout.join().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Runs the example on a diverging learning rate: it must exit normally, print `expected` (the
/// lines after the parameters and before `pictures:`) and draw all three pictures.
fn check_diverging_run(lr: &str, epochs: &str, expected: &[&str]) -> Vec<String> {
    let out_dir = std::env::temp_dir().join(format!(
        "flambeau-tutorial-lr{lr}-e{epochs}-{}",
        std::process::id()
    ));
    let args = [
        "--lr",
        lr,
        "--epochs",
        epochs,
        "--out",
        out_dir.to_str().unwrap(),
    ];
    let output = run_example_with_timeout(&args, EXAMPLE_TIMEOUT);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<String> = stdout.lines().map(str::to_string).collect();
    // The initial parameters (as PyTorch prints them), the epochs, the fit, the pictures.
    assert_eq!(
        lines[..4],
        [
            "Parameter containing:",
            "tensor([[-0.9366]], requires_grad=True)",
            "Parameter containing:",
            "tensor([-0.5837], requires_grad=True)",
        ],
        "{stdout}"
    );
    assert_eq!(lines.len(), 4 + expected.len() + 1, "{stdout}");
    for (got, want) in lines[4..].iter().zip(expected) {
        if !want.is_empty() {
            assert_eq!(got, want, "{args:?}:\n{stdout}");
        }
    }
    assert_eq!(
        lines.last().unwrap(),
        &format!("pictures: {}", out_dir.display())
    );
    check_pictures(&out_dir);
    std::fs::remove_dir_all(&out_dir).ok();
    lines[4..4 + expected.len()].to_vec()
}

fn check_pictures(dir: &Path) {
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    assert_eq!(&read("fit.png")[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&read("loss.png")[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&read("training.gif")[..6], b"GIF89a");
}

// What PyTorch 2.15 (CPU) prints for the same program (the example's printing on the seed's
// tutorial: `print(f"epoch {epoch} loss {loss.item()}")` every 100 epochs and at the last one below
// 100, then `print(f"fit: y = {w*0.1:.3f}x + {b:.3f}")` and `print(f"final loss: {loss.item():.4f}")`)
// with `lr=0.3` and `lr=10`: Python writes `nan`, `inf` and `-inf`, and `e+32` exponents.

#[test]
fn example_lr_0_3_diverges_prints_pytorchs_nan_and_inf_and_exits() {
    // PyTorch: epoch 100 loss 7.555200672210345e+32 / epoch 200 loss inf / epoch 300 loss nan /
    // fit: y = nanx + nan / final loss: nan. The loss first overflows at epoch 116, as here.
    let lines = check_diverging_run(
        "0.3",
        "300",
        &[
            "",
            "epoch 200 loss inf",
            "epoch 300 loss nan",
            "fit: y = nanx + nan",
            "final loss: nan",
        ],
    );
    // After 100 epochs of exponential growth the last digits depend on the machine's summation
    // order (PyTorch's own value differs between machines too): the number is compared with a
    // tolerance, its spelling exactly (Python's repr: `e+32`, not Rust's `e32`).
    let value = lines[0]
        .strip_prefix("epoch 100 loss ")
        .unwrap_or_else(|| panic!("{lines:?}"));
    let v: f64 = value.parse().unwrap();
    assert!(
        (v / 7.555200672210345e32 - 1.0).abs() < 1e-5,
        "{value} is not PyTorch's 7.555200672210345e+32"
    );
    assert!(value.ends_with("e+32"), "{value}");
    assert_eq!(value, pyfmt::py_repr(v));
}

#[test]
fn example_lr_10_diverges_prints_pytorchs_nan_and_inf_and_exits() {
    // PyTorch: the loss is inf from epoch 11 and nan from epoch 21, as here.
    check_diverging_run(
        "10",
        "20",
        &[
            "epoch 20 loss inf",
            "fit: y = -infx + -inf",
            "final loss: inf",
        ],
    );
    check_diverging_run(
        "10",
        "30",
        &[
            "epoch 30 loss nan",
            "fit: y = nanx + nan",
            "final loss: nan",
        ],
    );
}

#[test]
fn py_repr_and_py_fixed_print_as_python() {
    use pyfmt::{py_fixed, py_repr};
    // Python's repr(v) for each v.
    for (v, python) in [
        (57.01447677612305, "57.01447677612305"),
        (2.0, "2.0"),
        (-0.0, "-0.0"),
        (0.0001, "0.0001"),
        (1e-5, "1e-05"),
        (1.5e-7, "1.5e-07"),
        (-2.5e-10, "-2.5e-10"),
        (5e-324, "5e-324"),
        (1e15, "1000000000000000.0"),
        (1e16, "1e+16"),
        (123456789012345678.0, "1.2345678901234568e+17"),
        (7.555200672210345e32, "7.555200672210345e+32"),
        (3.4e38, "3.4e+38"),
        (1e100, "1e+100"),
        (f64::NAN, "nan"),
        (-f64::NAN, "nan"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
    ] {
        assert_eq!(py_repr(v), python, "repr({v:?})");
    }
    // Python's f"{v:.{d}f}".
    for (v, d, python) in [
        (0.7316370010375977, 4, "0.7316"),
        (-0.0001, 3, "-0.000"),
        (0.0015, 3, "0.002"),
        (-1.074204924188686e23, 3, "-107420492418868607713280.000"),
        (f64::NAN, 3, "nan"),
        (-f64::NAN, 4, "nan"),
        (f64::INFINITY, 4, "inf"),
        (f64::NEG_INFINITY, 3, "-inf"),
    ] {
        assert_eq!(py_fixed(v, d), python, "{v:?} with {d} decimals");
    }
}

#[test]
fn axis_ranges_ignore_nan_and_inf() {
    use plots::{finite_min_max, linear_axis, log_axis};
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    let close = |r: std::ops::Range<f64>, lo: f64, hi: f64| {
        assert!(
            (r.start - lo).abs() < 1e-12 && (r.end - hi).abs() < 1e-12,
            "{r:?} is not {lo}..{hi}"
        );
    };

    assert_eq!(finite_min_max([nan, 3.0, -inf, 1.0, inf]), Some((1.0, 3.0)));
    assert_eq!(finite_min_max([nan, inf, -inf]), None);
    assert_eq!(finite_min_max([]), None);

    close(linear_axis([1.0, nan, 3.0, inf, -inf], 0.0..1.0), 0.9, 3.1);
    close(linear_axis([nan, nan], -2.0..5.0), -2.0, 5.0);
    close(linear_axis([inf, -inf], 0.0..1.0), 0.0, 1.0);
    close(linear_axis([], 0.0..1.0), 0.0, 1.0);
    // One value: 5% of its magnitude (or of 1) on each side, never an empty range.
    close(linear_axis([30.0, nan], 0.0..1.0), 28.5, 31.5);
    close(linear_axis([0.0], 0.0..1.0), -0.05, 0.05);
    // The largest values still give a finite axis of finite width.
    for values in [
        vec![f64::from(f32::MAX), -f64::from(f32::MAX), nan],
        vec![f64::MAX, -f64::MAX],
        vec![f64::MAX],
    ] {
        let r = linear_axis(values.iter().copied(), 0.0..1.0);
        assert!(
            r.start.is_finite() && r.end.is_finite(),
            "{values:?}: {r:?}"
        );
        assert!((r.end - r.start).is_finite() && r.end > r.start, "{r:?}");
    }

    // A log scale shows positive finite values only.
    close(
        log_axis([nan, 2.0, inf, 0.0, -1.0, 100.0], 0.1..10.0),
        1.6,
        125.0,
    );
    close(log_axis([nan, inf, 0.0, -3.0], 0.1..10.0), 0.1, 10.0);
    close(log_axis([], 0.1..10.0), 0.1, 10.0);
    for values in [
        vec![f64::from(f32::MAX), 1.0],
        vec![f64::MAX, f64::MIN_POSITIVE],
    ] {
        let r = log_axis(values.iter().copied(), 0.1..10.0);
        assert!(
            r.start > 0.0 && r.end.is_finite() && r.end > r.start,
            "{r:?}"
        );
    }
}

#[test]
fn lines_break_at_nan_and_inf_and_labels_stay_short() {
    use plots::{drawable_runs, loss_note, tick_label};
    let finite = |v: &f64| v.is_finite();
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    assert_eq!(
        drawable_runs([1.0, nan, 2.0, 3.0, inf, nan, 4.0], finite),
        vec![vec![1.0], vec![2.0, 3.0], vec![4.0]]
    );
    assert!(drawable_runs([nan, -inf], finite).is_empty());
    assert_eq!(drawable_runs([1.0, 2.0], finite), vec![vec![1.0, 2.0]]);

    assert_eq!(tick_label(46.0), "46.0");
    assert_eq!(tick_label(0.0), "0.0");
    assert_eq!(tick_label(10000.0), "10000.0");
    assert_eq!(tick_label(7.555205e32), "7.56e32");
    assert_eq!(tick_label(1e37), "1e37");
    assert_eq!(tick_label(-2.5e21), "-2.5e21");
    assert_eq!(tick_label(1e-5), "1e-5");

    assert_eq!(loss_note(&[3.0, 2.0]), None);
    assert_eq!(
        loss_note(&[3.0, f32::INFINITY, f32::NAN]).as_deref(),
        Some("2 of 3 epochs not drawn: loss nan or inf (first at epoch 2)")
    );
    assert_eq!(
        loss_note(&[f32::NAN, f32::NAN]).as_deref(),
        Some("no finite, positive loss to draw")
    );
}

/// Runs `f` on its own thread, failing if it has not finished after `timeout`.
fn within<T: Send + 'static>(
    timeout: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(f()).ok());
    rx.recv_timeout(timeout)
        .unwrap_or_else(|e| panic!("{what}: not done after {timeout:?} ({e})"))
}

#[test]
fn pictures_of_non_finite_values_are_drawn_without_hanging() {
    plots::register_font().unwrap();
    let dir = std::env::temp_dir().join(format!("flambeau-plots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (nan, inf, big) = (f32::NAN, f32::INFINITY, f32::MAX);
    let loss_cases: Vec<Vec<f32>> = vec![
        vec![],
        vec![nan],
        vec![inf, nan, nan],
        vec![1626.1, 9.0e6, 3.4e38, big, inf, nan],
        vec![0.0, 1.0, 0.5],
    ];
    for (i, losses) in loss_cases.into_iter().enumerate() {
        let path = dir.join(format!("loss{i}.png"));
        let what = format!("loss_png({losses:?})");
        within(Duration::from_secs(60), &what.clone(), move || {
            plots::loss_png(&path, &losses).unwrap_or_else(|e| panic!("{what}: {e}"));
        });
    }
    let x: Vec<f32> = vec![-1.0, 19.0, 23.0, 25.0];
    let y: Vec<f32> = vec![29.7, 40.4, 42.1, 43.3];
    let fit_cases: Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> = vec![
        (x.clone(), y.clone(), vec![nan; 4]),
        (x.clone(), y.clone(), vec![inf, -inf, inf, nan]),
        (x.clone(), y.clone(), vec![-big, 1.0, big, nan]),
        (x.clone(), y.clone(), vec![1e20, 1e20, 1e20, 1e20]),
        (vec![nan; 4], vec![inf; 4], vec![nan; 4]),
    ];
    for (i, (x, y, y_p)) in fit_cases.into_iter().enumerate() {
        let (fit, gif) = (
            dir.join(format!("fit{i}.png")),
            dir.join(format!("fit{i}.gif")),
        );
        let what = format!("fit_png / training_gif(x {x:?}, y {y:?}, y_p {y_p:?})");
        within(Duration::from_secs(60), &what.clone(), move || {
            let frame = plots::Frame {
                x: &x,
                y: &y,
                y_p: &y_p,
                label: "y = nanx + nan".to_string(),
                epoch: 1,
            };
            plots::fit_png(&fit, &frame).unwrap_or_else(|e| panic!("{what}: {e}"));
            plots::training_gif(&gif, std::slice::from_ref(&frame), 100)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
        });
    }
    std::fs::remove_dir_all(&dir).ok();
}
