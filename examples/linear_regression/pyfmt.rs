//! Numbers printed the way the PyTorch tutorial's Python prints them, `nan` and `inf` included:
//! Rust writes `NaN`, `1e-5` and `7.5e32` where Python writes `nan`, `1e-05` and `7.5e+32`.

/// Python's `repr` of a float (what `print(loss.item())` or `f"{loss.item()}"` writes): the
/// shortest decimal that round-trips, `.0` on integral values, exponent form below `1e-4` and
/// from `1e16` on with a signed exponent of at least two digits, and `nan`, `inf`, `-inf`.
pub fn py_repr(v: f64) -> String {
    if let Some(s) = non_finite(v) {
        return s.to_string();
    }
    // Rust's `{:?}` is also the shortest round-trip decimal and switches to exponent form at the
    // same magnitudes as Python's repr; only the spelling of the exponent differs.
    let s = format!("{v:?}");
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None if s.contains('.') => s,
        None => format!("{s}.0"),
    }
}

/// Python's `f"{v:.{decimals}f}"`: fixed point with `decimals` digits, and `nan`, `inf`, `-inf`
/// (Python drops a NaN's sign, as Rust does, but spells it in lower case).
pub fn py_fixed(v: f64, decimals: usize) -> String {
    match non_finite(v) {
        Some(s) => s.to_string(),
        None => format!("{v:.decimals$}"),
    }
}

fn non_finite(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("nan")
    } else if v == f64::INFINITY {
        Some("inf")
    } else if v == f64::NEG_INFINITY {
        Some("-inf")
    } else {
        None
    }
}
