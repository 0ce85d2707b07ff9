//! Timing and reporting with the same rules and output format as the peers' `torch_bench.py`.

use std::time::Instant;

/// Calls `f` `warm` times, then returns the median wall-clock seconds of `reps` timed calls
/// (`torch_bench.py`'s `timeit`: for an even count the median is the mean of the two middle
/// samples, as Python's `statistics.median` takes it).
pub fn timeit(mut f: impl FnMut(), warm: usize, reps: usize) -> f64 {
    for _ in 0..warm {
        f();
    }
    let samples: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    median(samples)
}

/// The median of `samples` (the mean of the two middle values for an even count).
pub fn median(mut samples: Vec<f64>) -> f64 {
    assert!(!samples.is_empty(), "median of no samples");
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        0.5 * (samples[n / 2 - 1] + samples[n / 2])
    }
}

/// `x` rounded to `digits` decimals, as Python's `round(x, digits)` is used in `torch_bench.py`.
pub fn round(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (x * p).round() / p
}

/// A float the way Python's `json.dumps` writes it (`5.0`, not `5`).
pub fn json_float(x: f64) -> String {
    if x.is_finite() && x == x.trunc() && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

/// One JSON line: `{"workload": NAME, "median_ms": .., EXTRA.., "framework": "flambeau"}`, the
/// median in milliseconds rounded to 4 decimals; `extra` holds further `(key, value)` fields.
pub fn json_line(name: &str, secs: f64, extra: &[(&str, f64)]) -> String {
    let mut s = format!(
        "{{\"workload\": \"{name}\", \"median_ms\": {}",
        json_float(round(secs * 1e3, 4))
    );
    for (k, v) in extra {
        s += &format!(", \"{k}\": {}", json_float(*v));
    }
    s + ", \"framework\": \"flambeau\"}"
}

/// Prints [`json_line`] and flushes, so that a pipe sees each workload as it finishes.
pub fn report(name: &str, secs: f64, extra: &[(&str, f64)]) {
    use std::io::Write;
    println!("{}", json_line(name, secs, extra));
    let _ = std::io::stdout().flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_count_is_mean_of_middle_pair() {
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
    }

    #[test]
    fn json_line_matches_torch_bench_format() {
        assert_eq!(
            json_line("sgemm_256", 0.000_123_456, &[("gflops", 271.8)]),
            r#"{"workload": "sgemm_256", "median_ms": 0.1235, "gflops": 271.8, "framework": "flambeau"}"#
        );
        assert_eq!(
            json_line("w", 0.005, &[]),
            r#"{"workload": "w", "median_ms": 5.0, "framework": "flambeau"}"#
        );
    }
}
