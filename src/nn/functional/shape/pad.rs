//! `F.pad`: constant, reflect, replicate and circular padding.
//!
//! Every mode is built from differentiable operations (`narrow` and `cat` for constant padding,
//! one `index_select` per padded dim for the others), so backward and double backward come from
//! those operations' own formulas. The index maps are ATen's (`ReflectionPad.cpp`,
//! `ReplicationPadding.cpp`, `_pad_circular_symint` in `PadNd.cpp`), negative pads included.

use crate::dtype::DType;
use crate::tensor::Tensor;

/// How `F.pad` fills the new border.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Constant,
    Reflect,
    Replicate,
    Circular,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Constant => "constant",
            Mode::Reflect => "reflect",
            Mode::Replicate => "replicate",
            Mode::Circular => "circular",
        }
    }
}

/// Pads (or, with negative amounts, crops) the last dims of `input` (`F.pad(input, pad, mode,
/// value)`). `pad` lists `(left, right)` pairs starting from the last dim: `[1, 2]` pads the last
/// dim by 1 before and 2 after, `[1, 1, 2, 0]` also pads the second-to-last dim.
///
/// `mode` is `"constant"` (fill with `value`, PyTorch's default 0, any number of dims),
/// `"reflect"` (mirror without repeating the edge), `"replicate"` (repeat the edge) or
/// `"circular"` (wrap around). The last three pad 1, 2 or 3 trailing dims of an input with one or
/// two more dims than that, and take no `value` but 0. Errors are PyTorch's.
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// let x = tensor!([[[1.0, 2.0, 3.0]]]);
/// assert_eq!(F::pad(&x, &[2, 1], "reflect", None).to_vec::<f32>(), vec![3.0, 2.0, 1.0, 2.0, 3.0, 2.0]);
/// assert_eq!(F::pad(&x, &[1, -1], "constant", Some(9.0)).to_vec::<f32>(), vec![9.0, 1.0, 2.0]);
/// ```
#[track_caller]
pub fn pad(input: &Tensor, pad: &[i64], mode: &str, value: Option<f64>) -> Tensor {
    let mode = match mode {
        "constant" => Mode::Constant,
        "reflect" => Mode::Reflect,
        "replicate" => Mode::Replicate,
        "circular" => Mode::Circular,
        other => panic!("Unrecognised padding mode {other}"),
    };
    // The order of the checks is `at::pad`'s (PadNd.cpp).
    if !pad.len().is_multiple_of(2) {
        panic!("Padding length must be divisible by 2");
    }
    let nd = input.ndim();
    if pad.len() / 2 > nd {
        panic!(
            "Padding length should be less than or equal to two times the input dimension but got padding length {} and input of dimension {nd}",
            pad.len()
        );
    }
    if mode == Mode::Constant {
        return constant_pad_nd(input, pad, value.unwrap_or(0.0));
    }
    if value.is_some_and(|v| v != 0.0) {
        panic!(
            "Padding mode \"{}\" doesn't take in value argument",
            mode.name()
        );
    }
    let k = pad.len() / 2;
    if !(1..=3).contains(&k) || !(nd == k + 1 || nd == k + 2) {
        panic!(
            "Padding size {} is not supported for {nd}D input tensor.",
            pad.len()
        );
    }
    match mode {
        Mode::Circular => circular_checks(input, pad),
        _ => border_checks(input, pad, mode),
    }
    let mut out = input.clone();
    for (j, pair) in pad.chunks(2).enumerate() {
        let dim = nd - 1 - j;
        let n = input.dims()[dim] as i64;
        let idx: Vec<i64> = match mode {
            Mode::Reflect => reflect_index(n, pair[0], pair[1]),
            Mode::Replicate => replicate_index(n, pair[0], pair[1]),
            _ => circular_index(n, pair[0], pair[1]),
        };
        if idx.len() as i64 == n && idx.iter().enumerate().all(|(i, &s)| s == i as i64) {
            continue;
        }
        let len = idx.len();
        out = out.index_select(dim as i64, &Tensor::from_vec(idx, [len]));
    }
    if out.is_same(input) {
        out = input.clone_tensor();
    }
    out
}

/// `constant_pad_nd`: crops negative pads with `narrow`, then concatenates filled blocks.
#[track_caller]
fn constant_pad_nd(input: &Tensor, pad: &[i64], value: f64) -> Tensor {
    let nd = input.ndim();
    let mut out = input.clone();
    for (j, pair) in pad.chunks(2).enumerate() {
        let dim = nd - 1 - j;
        let (l, r) = (pair[0], pair[1]);
        if l < 0 || r < 0 {
            let n = out.dims()[dim] as i64;
            let start = (-l).max(0);
            let len = n - start - (-r).max(0);
            if len < 0 {
                panic!("narrow(): length must be non-negative.");
            }
            out = out.narrow(dim as i64, start, len as usize);
        }
        if l > 0 || r > 0 {
            let block = |w: i64| {
                let mut shape = out.dims().to_vec();
                shape[dim] = w as usize;
                Tensor::full_dtype(shape, fill_value(value, out.dtype()), out.dtype())
            };
            let (lb, rb) = (block(l.max(0)), block(r.max(0)));
            out = Tensor::cat(&[&lb, &out, &rb], dim as i64);
        }
    }
    if out.is_same(input) {
        out = input.clone_tensor();
    }
    out
}

/// The fill value in the input's dtype, as `fill_` casts it (truncation for integers).
fn fill_value(value: f64, dtype: DType) -> f64 {
    match dtype {
        DType::I64 => value.trunc(),
        DType::Bool => (value != 0.0) as u8 as f64,
        _ => value,
    }
}

/// The shape checks of `reflection_padNd` / `replication_padNd`, in ATen's order.
#[track_caller]
fn border_checks(input: &Tensor, pad: &[i64], mode: Mode) {
    let k = pad.len() / 2;
    let dims = input.dims();
    let nd = dims.len();
    if input.dtype() == DType::Bool {
        let op = if mode == Mode::Reflect {
            "reflection"
        } else {
            "replication"
        };
        panic!("\"{op}_pad{k}d\" not implemented for 'Bool'");
    }
    // padding::check_valid_input: a zero-size batch is allowed, no other zero-size dim.
    let batch = nd == k + 2;
    let first = if batch { 1 } else { 0 };
    if dims[first..].contains(&0) {
        panic!(
            "Expected {}D or {}D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: {:?}",
            k + 1,
            k + 2,
            dims
        );
    }
    if mode == Mode::Reflect {
        for (j, pair) in pad.chunks(2).enumerate() {
            let dim = nd - 1 - j;
            let n = dims[dim] as i64;
            if !(pair[0] < n && pair[1] < n) {
                panic!(
                    "Argument #{}: Padding size should be less than the corresponding input dimension, but got: padding ({}, {}) at dimension {dim} of input {:?}",
                    4 + 2 * j,
                    pair[0],
                    pair[1],
                    dims
                );
            }
        }
    }
    let sizes: Vec<i64> = (0..k).map(|j| dims[nd - k + j] as i64).collect();
    let outs: Vec<i64> = (0..k)
        .map(|j| sizes[j] + pad[2 * (k - 1 - j)] + pad[2 * (k - 1 - j) + 1])
        .collect();
    if outs.iter().any(|&o| o < 1) {
        const NAMES: [&str; 3] = ["D", "H", "W"];
        let names = &NAMES[3 - k..];
        if k == 1 {
            panic!(
                "input (W: {}) is too small. Calculated output W: {}",
                sizes[0], outs[0]
            );
        }
        let o: Vec<String> = (0..k)
            .map(|j| format!("{}: {}", names[j], outs[j]))
            .collect();
        let i: Vec<String> = (0..k)
            .map(|j| format!("{}: {}", names[j], sizes[j]))
            .collect();
        panic!(
            "Calculated output {} must be >= 1 in every dimension (input {})",
            o.join(" "),
            i.join(", ")
        );
    }
}

/// `_pad_circular_symint`'s checks, outermost padded dim first.
#[track_caller]
fn circular_checks(input: &Tensor, pad: &[i64]) {
    let k = pad.len() / 2;
    let nd = input.ndim();
    for i in 0..k {
        let (l, r) = (pad[2 * (k - i - 1)], pad[2 * (k - i - 1) + 1]);
        let n = input.dims()[nd - k + i] as i64;
        if !(l <= n && r <= n) {
            panic!("Padding value causes wrapping around more than once.");
        }
        if n + l + r < 0 {
            panic!("Negative padding value is resulting in an empty dimension");
        }
    }
}

/// ATen's reflection index: output `j` reads input `ip - o_start + i_start`.
fn reflect_index(n: i64, l: i64, r: i64) -> Vec<i64> {
    let (i_start, o_start) = ((-l).max(0), l.max(0));
    (0..n + l + r)
        .map(|j| {
            let ip = if j < l {
                2 * l - j
            } else if j < n + l {
                j
            } else {
                2 * (n + l - 1) - j
            };
            ip - o_start + i_start
        })
        .collect()
}

/// ATen's replication index: the nearest edge outside the input.
fn replicate_index(n: i64, l: i64, r: i64) -> Vec<i64> {
    let (i_start, o_start) = ((-l).max(0), l.max(0));
    (0..n + l + r)
        .map(|j| {
            let ip = if j < l {
                l
            } else if j < n + l {
                j
            } else {
                n + l - 1
            };
            ip - o_start + i_start
        })
        .collect()
}

/// `_pad_circular_symint`'s copies as an index map: the core is the (cropped) input, the left
/// border copies the output's last `l` core positions, the right border its first `r`.
fn circular_index(n: i64, l: i64, r: i64) -> Vec<i64> {
    let o = n + l + r;
    let (lo, hi) = (l.max(0), o - r.max(0));
    let core = |j: i64| j - lo + (-l).max(0);
    (0..o)
        .map(|j| {
            let mut p = j;
            // A border reads a core position (PyTorch's checks rule out wrapping twice).
            for _ in 0..3 {
                if p < lo {
                    p = o - l - r.max(0) + p;
                } else if p >= hi {
                    p = lo + (p - (o - r));
                } else {
                    break;
                }
            }
            core(p.clamp(lo, (hi - 1).max(lo)))
        })
        .collect()
}
