//! The examples' flags, parsed as `examples/linear_regression/main.rs` parses its own: `--flag
//! value` or `--flag=value`, a clear message and exit code 2 for anything else.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What differs between the examples' command lines.
pub struct Spec {
    /// The example's name (its `cargo run --example` name, its default output folder).
    pub name: &'static str,
    /// One line saying what it trains.
    pub about: &'static str,
    /// Default number of epochs.
    pub epochs: usize,
}

/// The parsed flags.
#[derive(Debug, Clone)]
pub struct Options {
    /// Training epochs.
    pub epochs: usize,
    /// Seed of the default generator (`torch.manual_seed`): the init and the shuffle order.
    pub seed: u64,
    /// Where to save the trained model's state dict.
    pub save: Option<PathBuf>,
    /// A state dict to start from (or to evaluate with `eval_only`).
    pub load: Option<PathBuf>,
    /// Evaluate the loaded checkpoint and stop.
    pub eval_only: bool,
    /// Where the plot goes.
    pub out: PathBuf,
}

/// The checkpoint formats, told apart by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointFormat {
    /// `.safetensors` (`safetensors.torch.save_file(model.state_dict(), path)`).
    Safetensors,
    /// `.pt` (`torch.save(model.state_dict(), path)`).
    Pt,
}

/// The format a checkpoint path names, or the message for any other extension.
pub fn checkpoint_format(flag: &str, path: &Path) -> Result<CheckpointFormat, String> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("safetensors") => Ok(CheckpointFormat::Safetensors),
        Some("pt") | Some("pth") => Ok(CheckpointFormat::Pt),
        _ => Err(format!(
            "invalid value '{}' for {flag}: expected a path ending in .safetensors or .pt",
            path.display()
        )),
    }
}

/// The help text.
pub fn usage(spec: &Spec) -> String {
    format!(
        "{about}

usage: {name} [--epochs N] [--seed N] [--save PATH] [--load PATH [--eval-only]] [--out DIR]

  --epochs N     training epochs (default {epochs})
  --seed N       seed of the random generator: init and shuffle order (default 0)
  --save PATH    save the trained model's state dict (.safetensors or .pt)
  --load PATH    start from a saved state dict (.safetensors or .pt, from PyTorch too)
  --eval-only    evaluate the --load checkpoint and stop
  --out DIR      where training.png goes (default: {name}/ in the target folder)
  -h, --help     this text",
        about = spec.about,
        name = spec.name,
        epochs = spec.epochs
    )
}

/// `<target>/<name>`, found from this binary's path (`target/<profile>/examples/`), as the
/// tutorial finds its output folder.
pub fn default_out(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(|t| t.join(name)))
        .unwrap_or_else(|| PathBuf::from(format!("{name}_output")))
}

/// The options from the command line (without the program name); `Ok(None)` for `-h/--help`.
pub fn parse_args(spec: &Spec, args: &[String]) -> Result<Option<Options>, String> {
    let mut o = Options {
        epochs: spec.epochs,
        seed: 0,
        save: None,
        load: None,
        eval_only: false,
        out: default_out(spec.name),
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
        if name == "--eval-only" {
            if inline.is_some() {
                return Err("--eval-only takes no value".to_string());
            }
            o.eval_only = true;
            i += 1;
            continue;
        }
        if !matches!(name, "--epochs" | "--seed" | "--save" | "--load" | "--out") {
            return Err(format!("unknown flag '{name}'"));
        }
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
            "--epochs" => {
                o.epochs = value.parse().map_err(|_| bad("a positive integer"))?;
                if o.epochs == 0 {
                    return Err(bad("a positive integer"));
                }
            }
            "--seed" => o.seed = value.parse().map_err(|_| bad("a non-negative integer"))?,
            "--save" | "--load" => {
                let path = PathBuf::from(&value);
                checkpoint_format(name, &path)?;
                if name == "--save" {
                    o.save = Some(path);
                } else {
                    o.load = Some(path);
                }
            }
            _ => {
                if value.is_empty() {
                    return Err(bad("a folder"));
                }
                o.out = PathBuf::from(value);
            }
        }
        i += 1;
    }
    if o.eval_only && o.load.is_none() {
        return Err("--eval-only needs --load PATH (the checkpoint to evaluate)".to_string());
    }
    Ok(Some(o))
}

/// Parses the process's flags and runs the example: help on `-h`, a message and exit code 2 on
/// bad flags, a message and exit code 1 when the run fails.
pub fn main_with(spec: &Spec, run: impl FnOnce(&Options) -> Result<(), String>) -> ExitCode {
    // args_os: `std::env::args` panics on an argument that is not UTF-8.
    let args: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect();
    let parsed = args
        .map_err(|a| format!("argument {a:?} is not valid UTF-8"))
        .and_then(|args| parse_args(spec, &args));
    let options = match parsed {
        Ok(Some(o)) => o,
        Ok(None) => {
            crate::say!("{}", usage(spec));
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("error: {msg}\n\n{}", usage(spec));
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
