//! `flambeau-bench`: the workloads of the peers' `torch_bench.py` (PyTorch) and Rust benchmarks,
//! timed in Flambeau by the same rules and printed in the same JSON-lines format, so that
//! `benches/compare.sh` can set them side by side.
//!
//! Usage: `cargo run --release -p flambeau-bench -- [--threads N] [WORKLOAD]`

mod peak;
mod timing;
mod workloads;

use std::process::ExitCode;

/// Hidden argument: this process is the fresh child that measures `mlp_train_peak_memory`.
const CHILD_FLAG: &str = "--peak-memory-child";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
struct Args {
    /// Size of the global thread pool (`torch.set_num_threads`); the pool's default otherwise.
    threads: Option<usize>,
    /// One workload to run; all of them otherwise.
    workload: Option<String>,
    /// Run the memory workload's body here (in the child process).
    child: bool,
}

fn usage() -> String {
    format!(
        "usage: flambeau-bench [--threads N] [WORKLOAD]\nworkloads: {}",
        workloads::NAMES.join(", ")
    )
}

/// Parses the arguments after the program name.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut out = Args {
        threads: None,
        workload: None,
        child: false,
    };
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        if a == "--threads" || a.starts_with("--threads=") {
            let v = match a.strip_prefix("--threads=") {
                Some(v) => v.to_string(),
                None => args.next().ok_or("--threads needs a value")?,
            };
            match v.parse::<usize>() {
                Ok(n) if n > 0 => out.threads = Some(n),
                _ => return Err(format!("--threads: expected a positive integer, got '{v}'")),
            }
        } else if a == CHILD_FLAG {
            out.child = true;
        } else if a.starts_with('-') {
            return Err(format!("unknown option '{a}'"));
        } else if out.workload.is_some() {
            return Err(format!("more than one workload given ('{a}')"));
        } else if workloads::NAMES.contains(&a.as_str()) {
            out.workload = Some(a);
        } else {
            return Err(format!("unknown workload '{a}'"));
        }
    }
    Ok(out)
}

/// Runs the memory workload in a fresh copy of this program, so that its peak RSS is that of
/// the 200 training steps alone, and prints the child's JSON line.
fn run_peak_memory_child() -> bool {
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("mlp_train_peak_memory: cannot find this program to re-run it: {e}");
            return false;
        }
    };
    let threads = rayon::current_num_threads().to_string();
    let result = std::process::Command::new(&exe)
        .args(["--threads", &threads, CHILD_FLAG])
        .stderr(std::process::Stdio::inherit())
        .output();
    match result {
        Ok(o) if o.status.success() => {
            print!("{}", String::from_utf8_lossy(&o.stdout));
            true
        }
        Ok(o) => {
            eprintln!(
                "mlp_train_peak_memory: the child process failed ({})",
                o.status
            );
            false
        }
        Err(e) => {
            eprintln!("mlp_train_peak_memory: cannot start {}: {e}", exe.display());
            false
        }
    }
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("flambeau-bench: {e}\n{}", usage());
            return ExitCode::from(2);
        }
    };
    if let Some(n) = args.threads
        && let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
    {
        eprintln!("flambeau-bench: cannot size the thread pool: {e}");
        return ExitCode::FAILURE;
    }
    // torch_bench.py: torch.manual_seed(0) before anything is built
    flambeau::manual_seed(0);
    if args.child {
        return match workloads::mlp_train_peak_memory() {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("mlp_train_peak_memory: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let wanted = |name: &str| args.workload.as_deref().is_none_or(|w| w == name);
    if workloads::run(wanted, run_peak_memory_child) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_threads_and_workload() {
        let a = parse(&["--threads", "1", "sgemm_256"]).unwrap();
        assert_eq!(a.threads, Some(1));
        assert_eq!(a.workload.as_deref(), Some("sgemm_256"));
        assert!(!a.child);
        assert_eq!(parse(&["--threads=2"]).unwrap().threads, Some(2));
        let all = parse(&[]).unwrap();
        assert_eq!((all.threads, all.workload, all.child), (None, None, false));
        assert!(parse(&[CHILD_FLAG]).unwrap().child);
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(
            parse(&["sgemm_3"])
                .unwrap_err()
                .contains("unknown workload 'sgemm_3'")
        );
        assert!(parse(&["--threads", "0"]).is_err());
        assert!(parse(&["--threads"]).is_err());
        assert!(parse(&["--fast"]).is_err());
        assert!(parse(&["sgemm_256", "mlp_infer_b1"]).is_err());
        assert!(usage().contains("mlp_train_peak_memory"));
    }
}
