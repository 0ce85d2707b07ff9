//! The reference tutorial, ported line for line: linear regression on fake data
//! `y = 0.5 x + 30 + noise` with `nn.Linear(1, 1)`, `nn.MSELoss` and `optim.SGD`, printing the same
//! numbers as PyTorch for the same seed and drawing the tutorial's pictures.
//!
//! ```sh
//! cargo run --release --example linear_regression -- --epochs 1000 --lr 0.01 --seed 0 --num 11
//! ```

/// Prints a line to stdout as `println!` does, but a closed pipe (`linear_regression | head`)
/// ends the program quietly instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            panic!("failed printing to stdout: {e}");
        }
    }};
}

mod plots;
mod pyfmt;
mod tutorial;

use flambeau::manual_seed;
use flambeau::nn::{Linear, MSELoss, Module};
use flambeau::optim::SGD;
use indicatif::{ProgressBar, ProgressStyle};
use pyfmt::{py_fixed, py_repr};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use tutorial::{fit_label, get_fake_data, training_loop};

const USAGE: &str =
    "usage: linear_regression [--seed N] [--epochs N] [--lr X] [--num N] [--out DIR]

  --seed N     seed of the random generator (default 0)
  --epochs N   training epochs (default 1000)
  --lr X       SGD learning rate (default 0.01)
  --num N      number of fake data points (default 11)
  --out DIR    where fit.png, training.gif and loss.png go
               (default: linear_regression/ in the target folder)";

struct Options {
    seed: u64,
    epochs: usize,
    lr: f64,
    num: usize,
    out: PathBuf,
}

/// `<target>/linear_regression`, found from this binary's path (`target/<profile>/examples/`).
fn default_out() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(|t| t.join("linear_regression")))
        .unwrap_or_else(|| PathBuf::from("linear_regression_output"))
}

fn parse_args(args: &[String]) -> Result<Option<Options>, String> {
    let mut o = Options {
        seed: 0,
        epochs: 1000,
        lr: 0.01,
        num: 11,
        out: default_out(),
    };
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))?
            }
        };
        let bad = |what: &str| format!("invalid value '{value}' for {name}: expected {what}");
        match name {
            "--seed" => o.seed = value.parse().map_err(|_| bad("a non-negative integer"))?,
            "--epochs" => {
                o.epochs = value.parse().map_err(|_| bad("a positive integer"))?;
                if o.epochs == 0 {
                    return Err(bad("a positive integer"));
                }
            }
            "--lr" => {
                o.lr = value.parse().map_err(|_| bad("a non-negative number"))?;
                if !(o.lr.is_finite() && o.lr >= 0.0) {
                    return Err(bad("a non-negative number"));
                }
            }
            "--num" => {
                o.num = value.parse().map_err(|_| bad("a positive integer"))?;
                if o.num == 0 {
                    return Err(bad("a positive integer"));
                }
            }
            "--out" => o.out = PathBuf::from(value),
            other => return Err(format!("unknown flag '{other}'")),
        }
        i += 1;
    }
    Ok(Some(o))
}

fn run(o: &Options) -> Result<(), String> {
    manual_seed(o.seed);
    let (x, y) = get_fake_data(o.num);
    let x = &x * 0.1;
    // add the batch dimension
    let x = x.unsqueeze(1);
    let y = y.unsqueeze(1);

    let linear_model = Linear::new(1, 1);
    for p in linear_model.parameters() {
        say!("{p}");
    }
    let loss_fn = MSELoss::new();
    let mut optimizer = SGD::new(linear_model.parameters(), o.lr);

    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(o.epochs as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} epochs  loss {msg}")
                .expect("valid progress template"),
        );
        bar
    });
    // The pictures show x in its original units, so that the label's slope (rescaled by 0.1, as
    // the tutorial prints it) is the slope of the drawn line.
    let xs: Vec<f32> = x.to_vec::<f32>().iter().map(|v| v / 0.1).collect();
    let ys = y.to_vec::<f32>();
    let mut losses = Vec::with_capacity(o.epochs);
    let mut frames: Vec<(usize, Vec<f32>, String)> = Vec::new();
    let mut last_loss = f32::NAN;
    let label_of = |m: &Linear| {
        let (w, b) = fit_label(m);
        format!("y = {}x + {}", py_fixed(w, 3), py_fixed(b, 3))
    };
    training_loop(
        o.epochs,
        &mut optimizer,
        &linear_model,
        &loss_fn,
        &x,
        &y,
        |e| {
            losses.push(e.loss);
            last_loss = e.loss;
            if e.epoch % 100 == 0 || e.epoch == o.epochs && o.epochs < 100 {
                let line = format!("epoch {} loss {}", e.epoch, py_repr(f64::from(e.loss)));
                match &bar {
                    Some(b) => b.println(line),
                    None => say!("{line}"),
                }
            }
            if e.epoch % 10 == 0 || e.epoch == o.epochs {
                frames.push((e.epoch, e.y_p.to_vec::<f32>(), label_of(e.model)));
            }
            if let Some(b) = &bar {
                b.set_position(e.epoch as u64);
                b.set_message(py_fixed(f64::from(e.loss), 4));
            }
        },
    );
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    // Printed as the tutorial's f-strings print them: `nan` and `inf` once training diverges.
    say!("fit: {}", label_of(&linear_model));
    say!("final loss: {}", py_fixed(f64::from(last_loss), 4));

    std::fs::create_dir_all(&o.out)
        .map_err(|e| format!("cannot create {}: {e}", o.out.display()))?;
    plots::register_font()?;
    let gif_frames: Vec<plots::Frame<'_>> = frames
        .iter()
        .map(|(epoch, y_p, label)| plots::Frame {
            x: &xs,
            y: &ys,
            y_p,
            label: label.clone(),
            epoch: *epoch,
        })
        .collect();
    plots::fit_png(
        &o.out.join("fit.png"),
        gif_frames.last().expect("at least one epoch"),
    )?;
    plots::training_gif(&o.out.join("training.gif"), &gif_frames, 100)?;
    plots::loss_png(&o.out.join("loss.png"), &losses)?;
    say!("pictures: {}", o.out.display());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            say!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("error: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}
