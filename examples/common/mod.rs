//! What the examples on real data share: flags, the training loop and its progress output,
//! checkpoints, the plot, and the digits programs (which `tests/examples_digits.rs` also runs).
//! Each example includes this folder with `#[path]` and uses the part it needs.
#![allow(dead_code)]

pub mod checkpoint;
pub mod digits;
pub mod flags;
pub mod plot;
pub mod program;
pub mod train;

/// The tutorial's plotting helpers (finite-only axes, tick labels, the bundled font), shared
/// rather than copied.
#[path = "../linear_regression/plots.rs"]
pub mod lr_plots;

/// Prints a line to stdout as `println!` does, but a closed pipe (`example | head`) ends the
/// program quietly instead of panicking.
#[macro_export]
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

/// `examples/datasets/<name>`, found from the crate's folder so the examples run from anywhere.
pub fn dataset(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/datasets")
        .join(name)
}
