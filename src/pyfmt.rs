//! Python's `repr` of numbers, for reprs that must read exactly as PyTorch prints them.

/// `repr(float)`: the shortest round-trip digits, positional for exponents -4..16, else
/// `1e-05` style; integral values keep a `.0`.
pub(crate) fn float(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let sci = format!("{v:e}"); // shortest round-trip digits, e.g. "1.5e-5"
    let (mantissa, exp) = sci.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    if (-4..16).contains(&exp) {
        let s = format!("{v}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// A bool as Python prints it (`True`, `False`), for module reprs.
pub(crate) fn bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_python_repr() {
        for (v, s) in [
            (1.0, "1.0"),
            (0.01, "0.01"),
            (1e-5, "1e-05"),
            (20.0, "20.0"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (123456.75, "123456.75"),
            (-2.5e-7, "-2.5e-07"),
        ] {
            assert_eq!(super::float(v), s);
        }
    }
}
