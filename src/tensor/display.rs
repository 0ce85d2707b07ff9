//! Printing tensors exactly as PyTorch does (a port of `torch/_tensor_str.py` with its default
//! print options: precision 4, threshold 1000, edgeitems 3, linewidth 80).

use super::Tensor;
use crate::dtype::DType;
use std::fmt;

const PRECISION: usize = 4;
const THRESHOLD: usize = 1000;
const EDGEITEMS: usize = 3;
const LINEWIDTH: usize = 80;

/// One element, as the printer sees it.
#[derive(Clone, Copy)]
enum Value {
    Float(f64),
    Int(i64),
    Bool(bool),
}

/// Python's `'{:.Ne}'` formatting: mantissa, `e`, sign, at least two exponent digits.
#[track_caller]
fn python_sci(v: f64, precision: usize) -> String {
    if !v.is_finite() {
        return python_special(v);
    }
    let s = format!("{v:.precision$e}");
    let (mantissa, exp) = s.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

#[track_caller]
fn python_special(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v > 0.0 {
        "inf".into()
    } else {
        "-inf".into()
    }
}

#[track_caller]
fn python_fixed(v: f64, precision: usize) -> String {
    if !v.is_finite() {
        return python_special(v);
    }
    format!("{v:.precision$}")
}

/// PyTorch's `_Formatter`: decides between integer, fixed and scientific notation and the common
/// width from the (summarised) values.
struct Formatter {
    floating: bool,
    int_mode: bool,
    sci_mode: bool,
    max_width: usize,
}

impl Formatter {
    #[track_caller]
    fn new(values: &[Value], floating: bool) -> Formatter {
        let mut f = Formatter {
            floating,
            int_mode: true,
            sci_mode: false,
            max_width: 1,
        };
        if !floating {
            for v in values {
                f.max_width = f.max_width.max(plain(*v).len());
            }
            return f;
        }
        let finite: Vec<f64> = values
            .iter()
            .filter_map(|v| match v {
                Value::Float(x) if x.is_finite() && *x != 0.0 => Some(*x),
                _ => None,
            })
            .collect();
        if finite.is_empty() {
            return f;
        }
        let min = finite.iter().fold(f64::INFINITY, |a, &b| a.min(b.abs()));
        let max = finite.iter().fold(0.0f64, |a, &b| a.max(b.abs()));
        f.int_mode = finite.iter().all(|v| *v == v.ceil());
        if f.int_mode {
            if max / min > 1000.0 || max > 1.0e8 {
                f.sci_mode = true;
                for &v in &finite {
                    f.max_width = f.max_width.max(python_sci(v, PRECISION).len());
                }
            } else {
                for &v in &finite {
                    f.max_width = f.max_width.max(format!("{v:.0}").len() + 1);
                }
            }
        } else if max / min > 1000.0 || max > 1.0e8 || min < 1.0e-4 {
            f.sci_mode = true;
            for &v in &finite {
                f.max_width = f.max_width.max(python_sci(v, PRECISION).len());
            }
        } else {
            for &v in &finite {
                f.max_width = f.max_width.max(python_fixed(v, PRECISION).len());
            }
        }
        f
    }

    #[track_caller]
    fn format(&self, v: Value) -> String {
        let s = match v {
            Value::Float(x) if self.floating => {
                if self.sci_mode {
                    python_sci(x, PRECISION)
                } else if self.int_mode {
                    if x.is_finite() {
                        format!("{x:.0}.")
                    } else {
                        python_special(x)
                    }
                } else {
                    python_fixed(x, PRECISION)
                }
            }
            other => plain(other),
        };
        let pad = self.max_width.saturating_sub(s.chars().count());
        format!("{}{}", " ".repeat(pad), s)
    }
}

#[track_caller]
fn plain(v: Value) -> String {
    match v {
        Value::Float(x) => format!("{x}"),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => if b { "True" } else { "False" }.to_string(),
    }
}

/// The values of a tensor held on the host, in row-major order, with its dims.
struct HostTensor {
    dims: Vec<usize>,
    values: Vec<Value>,
}

impl HostTensor {
    #[track_caller]
    fn of(t: &Tensor) -> HostTensor {
        let values = match t.dtype() {
            DType::F32 | DType::F64 => t.to_vec::<f64>().into_iter().map(Value::Float).collect(),
            DType::I64 => t.to_vec::<i64>().into_iter().map(Value::Int).collect(),
            DType::Bool => t.to_vec::<bool>().into_iter().map(Value::Bool).collect(),
        };
        HostTensor {
            dims: t.dims().to_vec(),
            values,
        }
    }

    #[track_caller]
    fn row_len(&self) -> usize {
        self.dims[1..].iter().product()
    }

    #[track_caller]
    fn sub(&self, i: usize) -> HostTensor {
        let n = self.row_len();
        HostTensor {
            dims: self.dims[1..].to_vec(),
            values: self.values[i * n..(i + 1) * n].to_vec(),
        }
    }

    /// `get_summarized_data`: the values that remain visible when the tensor is summarised.
    #[track_caller]
    fn summarized_values(&self) -> Vec<Value> {
        if self.dims.is_empty() {
            return self.values.clone();
        }
        let n0 = self.dims[0];
        let idx: Vec<usize> = if n0 > 2 * EDGEITEMS {
            (0..EDGEITEMS).chain(n0 - EDGEITEMS..n0).collect()
        } else {
            (0..n0).collect()
        };
        if self.dims.len() == 1 {
            return idx.iter().map(|&i| self.values[i]).collect();
        }
        idx.iter()
            .flat_map(|&i| self.sub(i).summarized_values())
            .collect()
    }
}

#[track_caller]
fn vector_str(t: &HostTensor, indent: usize, summarize: bool, f: &Formatter) -> String {
    let element_length = f.max_width + 2;
    let per_line = ((LINEWIDTH.saturating_sub(indent)) / element_length).max(1);
    let n = t.dims[0];
    let data: Vec<String> = if summarize && n > 2 * EDGEITEMS {
        let mut d: Vec<String> = t.values[..EDGEITEMS].iter().map(|&v| f.format(v)).collect();
        d.push(" ...".to_string());
        d.extend(t.values[n - EDGEITEMS..].iter().map(|&v| f.format(v)));
        d
    } else {
        t.values.iter().map(|&v| f.format(v)).collect()
    };
    let lines: Vec<String> = data.chunks(per_line).map(|c| c.join(", ")).collect();
    format!(
        "[{}]",
        lines.join(&format!(",\n{}", " ".repeat(indent + 1)))
    )
}

#[track_caller]
fn tensor_str_with_formatter(
    t: &HostTensor,
    indent: usize,
    summarize: bool,
    f: &Formatter,
) -> String {
    let dim = t.dims.len();
    if dim == 0 {
        return f.format(t.values[0]);
    }
    if dim == 1 {
        return vector_str(t, indent, summarize, f);
    }
    let n = t.dims[0];
    let slices: Vec<String> = if summarize && n > 2 * EDGEITEMS {
        let mut s: Vec<String> = (0..EDGEITEMS)
            .map(|i| tensor_str_with_formatter(&t.sub(i), indent + 1, summarize, f))
            .collect();
        s.push("...".to_string());
        s.extend(
            (n - EDGEITEMS..n)
                .map(|i| tensor_str_with_formatter(&t.sub(i), indent + 1, summarize, f)),
        );
        s
    } else {
        (0..n)
            .map(|i| tensor_str_with_formatter(&t.sub(i), indent + 1, summarize, f))
            .collect()
    };
    let sep = format!(",{}{}", "\n".repeat(dim - 1), " ".repeat(indent + 1));
    format!("[{}]", slices.join(&sep))
}

#[track_caller]
fn add_suffixes(tensor_str: String, suffixes: &[String], indent: usize) -> String {
    let mut out = tensor_str.clone();
    let mut last_line_len = tensor_str.len() - tensor_str.rfind('\n').map_or(0, |p| p) + 1;
    if tensor_str.rfind('\n').is_none() {
        // Python's rfind gives -1 when there is no newline.
        last_line_len = tensor_str.len() + 2;
    }
    for suffix in suffixes {
        if last_line_len + suffix.len() + 2 > LINEWIDTH {
            out.push_str(&format!(",\n{}{}", " ".repeat(indent), suffix));
            last_line_len = indent + suffix.len();
        } else {
            out.push_str(&format!(", {suffix}"));
            last_line_len += suffix.len() + 2;
        }
    }
    out.push(')');
    out
}

/// The PyTorch `repr` of a tensor, with an indentation prefix of `prefix`.
#[track_caller]
pub(crate) fn tensor_repr(t: &Tensor) -> String {
    let prefix = "tensor(";
    let indent = prefix.len();
    let mut suffixes = Vec::new();
    let default_dtype = matches!(t.dtype(), DType::F32 | DType::I64 | DType::Bool);
    let body = if t.numel() == 0 {
        if t.ndim() != 1 {
            let dims: Vec<String> = t.dims().iter().map(|d| d.to_string()).collect();
            let tuple = if dims.len() == 1 {
                format!("({},)", dims[0])
            } else {
                format!("({})", dims.join(", "))
            };
            suffixes.push(format!("size={tuple}"));
        }
        if t.dtype() != DType::F32 {
            suffixes.push(format!("dtype={}", t.dtype()));
        }
        "[]".to_string()
    } else {
        if !default_dtype {
            suffixes.push(format!("dtype={}", t.dtype()));
        }
        let host = HostTensor::of(t);
        let summarize = t.numel() > THRESHOLD;
        let f = if summarize {
            Formatter::new(&host.summarized_values(), t.dtype().is_float())
        } else {
            Formatter::new(&host.values, t.dtype().is_float())
        };
        tensor_str_with_formatter(&host, indent, summarize, &f)
    };
    if let Some(node) = t.grad_fn() {
        suffixes.push(format!("grad_fn=<{}>", node.name()));
    } else if t.requires_grad() {
        suffixes.push("requires_grad=True".to_string());
    }
    add_suffixes(format!("{prefix}{body}"), &suffixes, indent)
}

impl fmt::Display for Tensor {
    #[track_caller]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&tensor_repr(self))
    }
}

impl fmt::Debug for Tensor {
    #[track_caller]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&tensor_repr(self))
    }
}
