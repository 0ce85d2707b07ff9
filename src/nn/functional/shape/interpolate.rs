//! `F.interpolate`: nearest and (bi/tri)linear resampling of the spatial dims.
//!
//! Both modes are separable: nearest is one `index_select` per spatial dim, linear is
//! `x[i0] * λ0 + x[i1] * λ1` per dim, the last dim first, which is exactly the order of ATen's CPU
//! kernel (`h0λ * (w0λ * x00 + w1λ * x01) + h1λ * (w0λ * x10 + w1λ * x11)`). The indices and weights
//! follow `UpSample.h` (`nearest_idx`, `area_pixel_compute_source_index`,
//! `compute_source_index_and_lambda`), in float32 for float32 inputs as there. Backward and
//! double backward come from `index_select` and `mul`.

use crate::dtype::DType;
use crate::tensor::Tensor;

/// Resamples the spatial dims of an `(N, C, d1, ..., dk)` input (`F.interpolate(input, size,
/// scale_factor, mode, align_corners)`), k = 1, 2 or 3.
///
/// Exactly one of `size` and `scale_factor` is given; either holds one value per spatial dim, or
/// one value for all of them (a Python scalar). With `scale_factor` the output size is
/// `floor(in * scale)` and the scale itself is used for the source positions, as in PyTorch.
/// `mode` is `"nearest"` (PyTorch's legacy rule `src = floor(dst * in / out)`), `"linear"` (3-D
/// input), `"bilinear"` (4-D) or `"trilinear"` (5-D); `align_corners` applies to the linear modes
/// only (None means false).
///
/// ```
/// use flambeau::{nn::functional as F, tensor};
/// let x = tensor!([[[1.0, 3.0]]]);
/// let n = F::interpolate(&x, None, Some(&[2.0]), "nearest", None);
/// assert_eq!(n.to_vec::<f32>(), vec![1.0, 1.0, 3.0, 3.0]);
/// let l = F::interpolate(&x, Some(&[3]), None, "linear", Some(true));
/// assert_eq!(l.to_vec::<f32>(), vec![1.0, 2.0, 3.0]);
/// ```
#[track_caller]
pub fn interpolate(
    input: &Tensor,
    size: Option<&[usize]>,
    scale_factor: Option<&[f64]>,
    mode: &str,
    align_corners: Option<bool>,
) -> Tensor {
    let linear = match mode {
        "nearest" => false,
        "linear" | "bilinear" | "trilinear" => true,
        other => panic!(
            "Input Error: Only 3D, 4D and 5D input Tensors supported (got {}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got {other})",
            input.ndim()
        ),
    };
    if !linear && align_corners.is_some() {
        panic!(
            "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"
        );
    }
    let align_corners = align_corners.unwrap_or(false);
    let nd = input.ndim();
    let k = nd.saturating_sub(2);
    let spatial = || format!("{:?}", &input.dims()[2.min(nd)..]);
    let (out_size, scales): (Vec<usize>, Vec<Option<f64>>) = match (size, scale_factor) {
        (Some(_), Some(_)) => panic!("only one of size or scale_factor should be defined"),
        (None, None) => panic!("either size or scale_factor should be defined"),
        (Some(s), None) => {
            if s.len() != 1 && s.len() != k {
                panic!(
                    "Input and output must have the same number of spatial dimensions, but got input with spatial dimensions of {} and output size of {:?}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.",
                    spatial(),
                    s
                );
            }
            (
                (0..k).map(|i| s[i.min(s.len() - 1)]).collect(),
                vec![None; k],
            )
        }
        (None, Some(f)) => {
            if f.len() != 1 && f.len() != k {
                panic!(
                    "Input and scale_factor must have the same number of spatial dimensions, but got input with spatial dimensions of {} and scale_factor of shape {:?}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.",
                    spatial(),
                    f
                );
            }
            let f: Vec<f64> = (0..k).map(|i| f[i.min(f.len() - 1)]).collect();
            let out = (0..k)
                .map(|i| (input.dims()[2 + i] as f64 * f[i]).floor().max(0.0) as usize)
                .collect();
            (out, f.into_iter().map(Some).collect())
        }
    };
    let wanted = match mode {
        "linear" => 3,
        "bilinear" => 4,
        "trilinear" => 5,
        _ => nd,
    };
    if !(3..=5).contains(&nd) || nd != wanted {
        if (3..=5).contains(&nd) {
            panic!("Got {nd}D input, but {mode} mode needs {wanted}D input");
        }
        panic!(
            "Input Error: Only 3D, 4D and 5D input Tensors supported (got {nd}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got {mode})"
        );
    }
    check_sizes(input, &out_size);
    let kernel = || match (mode, k) {
        ("nearest", _) => format!("upsample_nearest{k}d"),
        ("linear", _) => "upsample_linear1d".into(),
        ("bilinear", _) => "upsample_bilinear2d".into(),
        _ => "upsample_trilinear3d".into(),
    };
    if !input.dtype().is_float() && (linear || input.dtype() == DType::Bool) {
        panic!(
            "\"{}\" not implemented for '{}'",
            kernel(),
            input.dtype().scalar_name()
        );
    }
    let mut out = input.clone();
    for i in (0..k).rev() {
        let dim = 2 + i;
        let (n, o) = (input.dims()[dim], out_size[i]);
        if n == o {
            continue;
        }
        out = if linear {
            linear_along(&out, dim, o, align_corners, scales[i])
        } else {
            let idx: Vec<i64> = (0..o).map(|j| nearest_idx(j, n, o, scales[i])).collect();
            out.index_select(dim as i64, &Tensor::from_vec(idx, [o]))
        };
    }
    if out.is_same(input) {
        out = input.clone_tensor();
    }
    out
}

/// `upsample_{1,2,3}d_common_check`: every input and output size is positive.
#[track_caller]
fn check_sizes(input: &Tensor, out: &[usize]) {
    let k = out.len();
    let sp = &input.dims()[2..];
    if sp.contains(&0) || out.contains(&0) {
        const NAMES: [&str; 3] = ["D", "H", "W"];
        let names = &NAMES[3 - k..];
        let list = |v: &[usize]| {
            (0..k)
                .map(|j| format!("{}: {}", names[j], v[j]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let sep = if k == 1 { " and" } else { "" };
        panic!(
            "Input and output sizes should be greater than 0, but got input ({}){sep} output ({})",
            list(sp),
            list(out)
        );
    }
}

/// ATen's `nearest_idx` (float32 arithmetic, `compute_scales_value<float>`).
fn nearest_idx(j: usize, n: usize, o: usize, scale: Option<f64>) -> i64 {
    if o == n {
        return j as i64;
    }
    if o == 2 * n {
        return (j >> 1) as i64;
    }
    let s: f32 = match scale {
        Some(s) if s > 0.0 => (1.0 / s) as f32,
        _ => n as f32 / o as f32,
    };
    ((j as f32 * s).floor() as i64).min(n as i64 - 1)
}

/// The indices and weights of one linear dim (`compute_indices_weights_linear`), computed in the
/// input's float type as ATen's `opmath_t` is for float32 and float64.
macro_rules! linear_weights {
    ($name:ident, $t:ty) => {
        fn $name(
            n: usize,
            o: usize,
            align_corners: bool,
            scale: Option<f64>,
        ) -> (Vec<i64>, Vec<i64>, Vec<$t>, Vec<$t>) {
            // area_pixel_compute_scale
            let ratio: $t = if align_corners {
                if o > 1 {
                    (n as $t - 1.0) / (o as $t - 1.0)
                } else {
                    0.0
                }
            } else {
                match scale {
                    Some(s) if s > 0.0 => (1.0 / s) as $t,
                    _ => n as $t / o as $t,
                }
            };
            let mut v = (
                Vec::with_capacity(o),
                Vec::with_capacity(o),
                Vec::with_capacity(o),
                Vec::with_capacity(o),
            );
            for j in 0..o {
                // area_pixel_compute_source_index (cubic = false)
                let real: $t = if align_corners {
                    ratio * j as $t
                } else {
                    let s = ratio * (j as $t + 0.5) - 0.5;
                    if s < 0.0 { 0.0 } else { s }
                };
                // guard_index_and_lambda: ATen floors through `floorf`
                let i0 = ((real as f32).floor() as i64).min(n as i64 - 1);
                let l1 = (real - i0 as $t).max(0.0).min(1.0);
                let i1 = i0 + if i0 < n as i64 - 1 { 1 } else { 0 };
                v.0.push(i0);
                v.1.push(i1);
                v.2.push(1.0 - l1);
                v.3.push(l1);
            }
            v
        }
    };
}
linear_weights!(linear_weights_f32, f32);
linear_weights!(linear_weights_f64, f64);

/// `x[i0] * λ0 + x[i1] * λ1` along `dim`.
#[track_caller]
fn linear_along(
    x: &Tensor,
    dim: usize,
    o: usize,
    align_corners: bool,
    scale: Option<f64>,
) -> Tensor {
    let n = x.dims()[dim];
    // The weights broadcast over the dims after `dim`.
    let mut wshape = vec![1usize; x.ndim() - dim];
    wshape[0] = o;
    let (i0, i1, l0, l1) = if x.dtype() == DType::F32 {
        let (i0, i1, l0, l1) = linear_weights_f32(n, o, align_corners, scale);
        (
            i0,
            i1,
            Tensor::from_vec(l0, wshape.as_slice()),
            Tensor::from_vec(l1, wshape.as_slice()),
        )
    } else {
        let (i0, i1, l0, l1) = linear_weights_f64(n, o, align_corners, scale);
        (
            i0,
            i1,
            Tensor::from_vec(l0, wshape.as_slice()),
            Tensor::from_vec(l1, wshape.as_slice()),
        )
    };
    let a = x.index_select(dim as i64, &Tensor::from_vec(i0, [o])) * l0;
    let b = x.index_select(dim as i64, &Tensor::from_vec(i1, [o])) * l1;
    a + b
}
