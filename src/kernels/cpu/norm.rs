//! Layer normalization over the rows of a row-major buffer, forward and backward, each one pass
//! over the data (ATen's `LayerNormKernelImpl` and `LayerNormBackwardKernelImpl`,
//! aten/src/ATen/native/cpu/layer_norm_kernel.cpp), instead of the dozen elementwise and
//! reduction passes (and their buffers) of the composed formula.
//!
//! The statistics are accumulated in float64 whatever the element type, and the mean and
//! `rstd = 1 / sqrt(var + eps)` are rounded to the element type once, as ATen stores them (its
//! backward reads the stored values; so does this one). The output and the gradients are
//! computed in float64 from the rounded statistics and rounded once. ATen's float32 kernel keeps
//! float32 accumulators (`RowwiseMoments`'s Welford cascade); the results agree to within its
//! rounding, closer to the exact values.
//!
//! The loops are plain Rust that LLVM vectorises; like `vmath.rs` they are compiled for
//! AVX-512, AVX2 and the baseline and picked at run time (no fused multiply-adds, so every
//! machine gets the same bits).

use super::strided::contiguous_cow;
use crate::backend::LayerNormBackwardArgs;
use crate::dtype::Float;
use crate::shape::Layout;
use crate::storage::CpuStorage;
use rayon::prelude::*;

/// What a layer norm's forward returns: the output and each row's mean and `rstd`.
pub(crate) struct LayerNormOut<T> {
    /// The normalised, scaled and shifted rows.
    pub y: Vec<T>,
    /// Each row's mean.
    pub mean: Vec<T>,
    /// Each row's `1 / sqrt(var + eps)` (biased variance).
    pub rstd: Vec<T>,
}

/// Layer norm of each row of `n` values of `x` (`x.len()` a multiple of `n`, `n > 0`), with
/// the optional per-column `weight` and `bias` (each `n` long).
pub(crate) fn layer_norm<T: Float>(
    x: &[T],
    n: usize,
    weight: Option<&[T]>,
    bias: Option<&[T]>,
    eps: f64,
) -> LayerNormOut<T> {
    let rows = x.len() / n;
    let mut out = LayerNormOut {
        y: super::alloc::filled(x.len(), T::zero()),
        mean: super::alloc::filled(rows, T::zero()),
        rstd: super::alloc::filled(rows, T::zero()),
    };
    let LayerNormOut { y, mean, rstd } = &mut out;
    match row_chunk(x.len(), n) {
        Some(r) => (x.par_chunks(r * n), y.par_chunks_mut(r * n))
            .into_par_iter()
            .zip(mean.par_chunks_mut(r).zip(rstd.par_chunks_mut(r)))
            .for_each(|((x, y), (mean, rstd))| {
                dispatch(Forward {
                    x,
                    n,
                    weight,
                    bias,
                    eps,
                    y,
                    mean,
                    rstd,
                })
            }),
        None => dispatch(Forward {
            x,
            n,
            weight,
            bias,
            eps,
            y,
            mean,
            rstd,
        }),
    }
    out
}

/// The first `len` values of `s` (nothing when `s` is empty: a gradient not asked for), `s`
/// left with the rest.
fn split_front<'a>(s: &mut &'a mut [f64], len: usize) -> &'a mut [f64] {
    if s.is_empty() {
        return &mut [];
    }
    let (head, tail) = std::mem::take(s).split_at_mut(len);
    *s = tail;
    head
}

/// Rows per task when `len` values in rows of `n` are worth threading, `None` to stay on the
/// calling thread. Rows are computed independently (ATen's kernels `parallel_for` over rows
/// too), so the bits do not depend on the split.
pub(super) fn row_chunk(len: usize, n: usize) -> Option<usize> {
    let rows = len / n.max(1);
    let tasks = super::parallel::tasks(len).min(rows);
    (tasks > 1).then(|| rows.div_ceil(tasks))
}

/// The gradients of a layer norm, each `None` unless asked for.
pub(crate) struct LayerNormGrads<T> {
    /// The input's gradient (shaped like the input).
    pub input: Option<Vec<T>>,
    /// The weight's gradient (`n` values).
    pub weight: Option<Vec<T>>,
    /// The bias's gradient (`n` values).
    pub bias: Option<Vec<T>>,
}

/// The gradients of [`layer_norm`] given the output's gradient `dy` (shaped like `x`), the
/// input, the forward's `mean` and `rstd`, and the weight; `needs` says which of (input,
/// weight, bias) to compute. With `a = rstd`, `g = dy · weight` and sums over the row, ATen's
/// formula: `dx = a·g + b·x + c` with `b = (Σg·mean - Σg·x)·a³/n` and `c = -b·mean - Σg·a/n`;
/// `dweight = Σ_rows dy·(x - mean)·a`, `dbias = Σ_rows dy`.
pub(crate) fn layer_norm_backward<T: Float>(
    dy: &[T],
    x: &[T],
    mean: &[T],
    rstd: &[T],
    weight: Option<&[T]>,
    n: usize,
    needs: [bool; 3],
) -> LayerNormGrads<T> {
    let mut dx = needs[0].then(|| super::alloc::filled(x.len(), T::zero()));
    let mut dw = vec![0.0f64; if needs[1] { n } else { 0 }];
    let mut db = vec![0.0f64; if needs[2] { n } else { 0 }];
    match row_chunk(x.len(), n) {
        Some(r) => {
            // The input's gradient by rows; the parameters' by columns, each column summed
            // over the rows in order by one task, so both have the serial loop's bits.
            if let Some(dx) = dx.as_deref_mut() {
                (
                    dy.par_chunks(r * n),
                    x.par_chunks(r * n),
                    dx.par_chunks_mut(r * n),
                )
                    .into_par_iter()
                    .zip(mean.par_chunks(r).zip(rstd.par_chunks(r)))
                    .for_each(|((dy, x, dx), (mean, rstd))| {
                        dispatch(Backward {
                            dy,
                            x,
                            mean,
                            rstd,
                            weight,
                            n,
                            dx: Some(dx),
                            cols: 0,
                            dw: &mut [],
                            db: &mut [],
                        })
                    });
            }
            if needs[1] || needs[2] {
                let tasks = rayon::current_num_threads().min(n);
                let c = n.div_ceil(tasks);
                let (mut w, mut b) = (&mut dw[..], &mut db[..]);
                let mut pieces = Vec::with_capacity(tasks);
                for j in (0..n).step_by(c) {
                    let len = c.min(n - j);
                    pieces.push((j, split_front(&mut w, len), split_front(&mut b, len)));
                }
                pieces.into_par_iter().for_each(|(cols, dw, db)| {
                    dispatch(Backward {
                        dy,
                        x,
                        mean,
                        rstd,
                        weight,
                        n,
                        dx: None,
                        cols,
                        dw,
                        db,
                    })
                });
            }
        }
        None => dispatch(Backward {
            dy,
            x,
            mean,
            rstd,
            weight,
            n,
            dx: dx.as_deref_mut(),
            cols: 0,
            dw: &mut dw,
            db: &mut db,
        }),
    }
    let round = |v: Vec<f64>| {
        let mut out = super::alloc::buffer(v.len());
        out.extend(v.into_iter().map(T::from_f64));
        out
    };
    LayerNormGrads {
        input: dx,
        weight: needs[1].then(|| round(dw)),
        bias: needs[2].then(|| round(db)),
    }
}

/// A kernel's loop with its operands, compiled by [`dispatch`] once per vector width: every
/// implementation's `run` is `#[inline(always)]`, so that it is compiled into each wrapper
/// (a closure would be compiled once, for the baseline, and called).
pub(super) trait Body {
    /// Runs the loop.
    fn run(self);
}

/// Runs `body` compiled for the best vector width the CPU has.
#[inline(always)]
pub(super) fn dispatch(body: impl Body) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, the only feature `run_avx512` is compiled for.
            unsafe { run_avx512(body) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above, for AVX2.
            unsafe { run_avx2(body) };
            return;
        }
    }
    body.run()
}

/// `body` compiled for 512-bit vectors.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn run_avx512(body: impl Body) {
    body.run()
}

/// `body` compiled for 256-bit vectors.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2(body: impl Body) {
    body.run()
}

/// The forward's operands.
struct Forward<'a, T> {
    x: &'a [T],
    n: usize,
    weight: Option<&'a [T]>,
    bias: Option<&'a [T]>,
    eps: f64,
    y: &'a mut [T],
    mean: &'a mut [T],
    rstd: &'a mut [T],
}

impl<T: Float> Body for Forward<'_, T> {
    #[inline(always)]
    fn run(self) {
        forward_body(self)
    }
}

/// The backward's operands: `dw`, `db` (empty when not wanted) hold columns `cols..` of the
/// parameters' gradients.
struct Backward<'a, T> {
    dy: &'a [T],
    x: &'a [T],
    mean: &'a [T],
    rstd: &'a [T],
    weight: Option<&'a [T]>,
    n: usize,
    dx: Option<&'a mut [T]>,
    cols: usize,
    dw: &'a mut [f64],
    db: &'a mut [f64],
}

impl<T: Float> Body for Backward<'_, T> {
    #[inline(always)]
    fn run(self) {
        backward_body(self)
    }
}

/// The eight partial sums' total, in the fixed order of the kernels' reductions.
#[inline(always)]
fn fold8(acc: [f64; 8]) -> f64 {
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

/// Eight partial sums of `f` over a row (lane `l` takes elements `8i + l`, the tail goes to
/// lane 0), added together at the end: whole 8-element blocks over zipped slices, so the loop
/// vectorises with no bounds checks.
#[inline(always)]
fn sum8<T: Float>(xs: &[T], f: impl Fn(T) -> f64) -> f64 {
    let mut acc = [0.0f64; 8];
    let mut blocks = xs.chunks_exact(8);
    for b in &mut blocks {
        for (a, &v) in acc.iter_mut().zip(b) {
            *a += f(v);
        }
    }
    for &v in blocks.remainder() {
        acc[0] += f(v);
    }
    fold8(acc)
}

/// `(Σ g·w·x, Σ g·w)` over a row, each summed as [`sum8`] sums (one pass for both).
#[inline(always)]
fn grad_sums<T: Float>(g: &[T], x: &[T], w: &[f64]) -> (f64, f64) {
    let (mut p, mut q) = ([0.0f64; 8], [0.0f64; 8]);
    let (mut gb, mut xb, mut wb) = (g.chunks_exact(8), x.chunks_exact(8), w.chunks_exact(8));
    for ((g, x), w) in (&mut gb).zip(&mut xb).zip(&mut wb) {
        let lanes = p.iter_mut().zip(q.iter_mut()).zip(g).zip(x).zip(w);
        for ((((pl, ql), &g), &x), &w) in lanes {
            let gw = g.to_f64() * w;
            *pl += gw * x.to_f64();
            *ql += gw;
        }
    }
    let tail = gb
        .remainder()
        .iter()
        .zip(xb.remainder())
        .zip(wb.remainder());
    for ((&g, &x), &w) in tail {
        let gw = g.to_f64() * w;
        p[0] += gw * x.to_f64();
        q[0] += gw;
    }
    (fold8(p), fold8(q))
}

#[inline(always)]
fn forward_body<T: Float>(f: Forward<'_, T>) {
    let Forward {
        x,
        n,
        weight,
        bias,
        eps,
        y,
        mean: means,
        rstd: rstds,
    } = f;
    let inv_n = 1.0 / n as f64;
    let rows = x.chunks_exact(n).zip(y.chunks_exact_mut(n));
    for (i, (xr, yr)) in rows.enumerate() {
        let mean = sum8(xr, |v| v.to_f64()) * inv_n;
        let var = sum8(xr, |v| {
            let d = v.to_f64() - mean;
            d * d
        }) * inv_n;
        let (mean_t, rstd_t) = (T::from_f64(mean), T::from_f64(1.0 / (var + eps).sqrt()));
        means[i] = mean_t;
        rstds[i] = rstd_t;
        let (m, a) = (mean_t.to_f64(), rstd_t.to_f64());
        match (weight, bias) {
            (Some(w), Some(b)) => {
                for (((y, &x), &w), &b) in yr.iter_mut().zip(xr).zip(&w[..n]).zip(&b[..n]) {
                    *y = T::from_f64((x.to_f64() - m) * a * w.to_f64() + b.to_f64());
                }
            }
            (Some(w), None) => {
                for ((y, &x), &w) in yr.iter_mut().zip(xr).zip(&w[..n]) {
                    *y = T::from_f64((x.to_f64() - m) * a * w.to_f64());
                }
            }
            (None, Some(b)) => {
                for ((y, &x), &b) in yr.iter_mut().zip(xr).zip(&b[..n]) {
                    *y = T::from_f64((x.to_f64() - m) * a + b.to_f64());
                }
            }
            (None, None) => {
                for (y, &x) in yr.iter_mut().zip(xr) {
                    *y = T::from_f64((x.to_f64() - m) * a);
                }
            }
        }
    }
}

#[inline(always)]
fn backward_body<T: Float>(b: Backward<'_, T>) {
    let Backward {
        dy,
        x,
        mean,
        rstd,
        weight,
        n,
        mut dx,
        cols,
        dw,
        db,
    } = b;
    let inv_n = 1.0 / n as f64;
    // The weight in float64 once (ones without it: `g · 1.0` is `g` exactly, so the bits are
    // those of the formula without the factor).
    let w: Vec<f64> = if dx.is_some() {
        match weight {
            Some(w) => w[..n].iter().map(|v| v.to_f64()).collect(),
            None => vec![1.0; n],
        }
    } else {
        Vec::new()
    };
    for (i, (gr, xr)) in dy.chunks_exact(n).zip(x.chunks_exact(n)).enumerate() {
        let (m, a) = (mean[i].to_f64(), rstd[i].to_f64());
        if let Some(dx) = dx.as_deref_mut() {
            let (ds, dsum) = grad_sums(gr, xr, &w);
            let b = (dsum * m - ds) * a * a * a * inv_n;
            let c = -b * m - dsum * a * inv_n;
            let dxr = &mut dx[i * n..(i + 1) * n];
            for (((d, &g), &x), &w) in dxr.iter_mut().zip(gr).zip(xr).zip(&w) {
                *d = T::from_f64(a * g.to_f64() * w + b * x.to_f64() + c);
            }
        }
        if !dw.is_empty() {
            let (gr, xr) = (&gr[cols..cols + dw.len()], &xr[cols..cols + dw.len()]);
            for ((d, &g), &x) in dw.iter_mut().zip(gr).zip(xr) {
                *d += g.to_f64() * ((x.to_f64() - m) * a);
            }
        }
        if !db.is_empty() {
            let gr = &gr[cols..cols + db.len()];
            for (d, &g) in db.iter_mut().zip(gr) {
                *d += g.to_f64();
            }
        }
    }
}

/// [`layer_norm`] on storages (the backend's `layer_norm`): the dtype matched once.
pub(crate) fn layer_norm_storage<'a>(
    x: &CpuStorage,
    layout: &Layout,
    weight: Option<(&'a CpuStorage, &Layout)>,
    bias: Option<(&'a CpuStorage, &Layout)>,
    n: usize,
    eps: f64,
) -> (CpuStorage, CpuStorage, CpuStorage) {
    macro_rules! go {
        ($v:ident, $x:expr) => {{
            let param = |p: Option<(&'a CpuStorage, &Layout)>| {
                p.map(|(s, l)| match s {
                    CpuStorage::$v(s) => contiguous_cow(s, l),
                    _ => unreachable!("the parameters have the input's dtype"),
                })
            };
            let (w, b) = (param(weight), param(bias));
            let o = layer_norm(
                &contiguous_cow($x, layout),
                n,
                w.as_deref(),
                b.as_deref(),
                eps,
            );
            (
                CpuStorage::$v(o.y),
                CpuStorage::$v(o.mean),
                CpuStorage::$v(o.rstd),
            )
        }};
    }
    match x {
        CpuStorage::F32(x) => go!(F32, x),
        CpuStorage::F64(x) => go!(F64, x),
        other => panic!(
            "\"LayerNormKernelImpl\" not implemented for '{}'",
            other.dtype().scalar_name()
        ),
    }
}

/// [`layer_norm_backward`] on storages (the backend's `layer_norm_backward`).
pub(crate) fn layer_norm_backward_storage<'a>(
    grad: &CpuStorage,
    layout: &Layout,
    a: LayerNormBackwardArgs<'a, CpuStorage>,
) -> [Option<CpuStorage>; 3] {
    macro_rules! go {
        ($v:ident, $g:expr) => {{
            let get = |(s, l): (&'a CpuStorage, &Layout)| match s {
                CpuStorage::$v(s) => contiguous_cow(s, l),
                _ => unreachable!("the operands have the gradient's dtype"),
            };
            let (x, mean, rstd) = (get(a.input), get(a.mean), get(a.rstd));
            let w = a.weight.map(get);
            let g = layer_norm_backward(
                &contiguous_cow($g, layout),
                &x,
                &mean,
                &rstd,
                w.as_deref(),
                a.n,
                a.needs,
            );
            [
                g.input.map(CpuStorage::$v),
                g.weight.map(CpuStorage::$v),
                g.bias.map(CpuStorage::$v),
            ]
        }};
    }
    match grad {
        CpuStorage::F32(g) => go!(F32, g),
        CpuStorage::F64(g) => go!(F64, g),
        other => panic!(
            "\"LayerNormBackwardKernelImpl\" not implemented for '{}'",
            other.dtype().scalar_name()
        ),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The composed formula in float64, row by row.
    fn reference(x: &[f64], n: usize, w: &[f64], b: &[f64], eps: f64) -> Vec<f64> {
        let mut y = Vec::new();
        for r in x.chunks(n) {
            let m = r.iter().sum::<f64>() / n as f64;
            let v = r.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64;
            let a = 1.0 / (v + eps).sqrt();
            y.extend(r.iter().enumerate().map(|(j, v)| (v - m) * a * w[j] + b[j]));
        }
        y
    }

    #[test]
    fn forward_and_backward_match_the_formula_at_every_row_length() {
        let mut state = 0x2545f4914f6cdd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for n in [1usize, 2, 7, 8, 9, 16, 31, 128, 133] {
            let rows = 5;
            let x: Vec<f64> = (0..rows * n).map(|_| next() * 4.0 + 1.0).collect();
            let w: Vec<f64> = (0..n).map(|_| next() + 1.0).collect();
            let b: Vec<f64> = (0..n).map(|_| next()).collect();
            let dy: Vec<f64> = (0..rows * n).map(|_| next()).collect();
            let out = layer_norm(&x, n, Some(&w), Some(&b), 1e-5);
            let want = reference(&x, n, &w, &b, 1e-5);
            for (g, r) in out.y.iter().zip(&want) {
                assert!((g - r).abs() < 1e-12, "n {n}: {g} vs {r}");
            }
            // float32 agrees to float32 rounding.
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let w32: Vec<f32> = w.iter().map(|&v| v as f32).collect();
            let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
            let o32 = layer_norm(&x32, n, Some(&w32), Some(&b32), 1e-5);
            for (g, r) in o32.y.iter().zip(&want) {
                assert!((*g as f64 - r).abs() < 1e-5 * (1.0 + r.abs()), "n {n} f32");
            }
            // Backward against central differences of the reference loss Σ dy·y.
            let loss = |x: &[f64], w: &[f64], b: &[f64]| -> f64 {
                reference(x, n, w, b, 1e-5)
                    .iter()
                    .zip(&dy)
                    .map(|(y, g)| y * g)
                    .sum()
            };
            let g = layer_norm_backward(&dy, &x, &out.mean, &out.rstd, Some(&w), n, [true; 3]);
            let h = 1e-6;
            let numeric = |f: &dyn Fn(f64) -> f64| (f(h) - f(-h)) / (2.0 * h);
            for k in [0, n / 2, rows * n - 1] {
                let d = numeric(&|e| {
                    let mut xe = x.clone();
                    xe[k] += e;
                    loss(&xe, &w, &b)
                });
                assert!((g.input.as_ref().unwrap()[k] - d).abs() < 1e-6, "dx n {n}");
            }
            for k in [0, n - 1] {
                let d = numeric(&|e| {
                    let mut we = w.clone();
                    we[k] += e;
                    loss(&x, &we, &b)
                });
                assert!((g.weight.as_ref().unwrap()[k] - d).abs() < 1e-6, "dw n {n}");
                let d = numeric(&|e| {
                    let mut be = b.clone();
                    be[k] += e;
                    loss(&x, &w, &be)
                });
                assert!((g.bias.as_ref().unwrap()[k] - d).abs() < 1e-6, "db n {n}");
            }
            // Without the affine parameters, only what was asked for.
            let g =
                layer_norm_backward(&dy, &x, &out.mean, &out.rstd, None, n, [true, false, false]);
            assert!(g.weight.is_none() && g.bias.is_none() && g.input.is_some());
        }
    }

    /// `f` on a pool of 2 threads and on a pool of 1 (the serial loops).
    pub(in crate::kernels::cpu) fn two_and_one<R: Send>(f: impl Fn() -> R + Sync) -> (R, R) {
        let pool = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        };
        (pool(2).install(&f), pool(1).install(&f))
    }

    #[test]
    fn threaded_rows_match_the_serial_loop_bit_for_bit() {
        // 2051 rows of 128 (the transformer's layer norm; an odd row count) and of 67.
        for n in [128usize, 67] {
            let len = 2051 * n;
            assert!(row_chunk(len, n).is_some() || rayon::current_num_threads() < 2);
            let x: Vec<f32> = (0..len)
                .map(|i| ((i * 7919) % 1013) as f32 * 0.01 - 5.0)
                .collect();
            let dy: Vec<f32> = (0..len)
                .map(|i| ((i * 104729) % 997) as f32 * 0.003 - 1.5)
                .collect();
            let w: Vec<f32> = (0..n).map(|j| 1.0 + j as f32 * 0.01).collect();
            let b: Vec<f32> = (0..n).map(|j| j as f32 * -0.02).collect();
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let (two, one) = two_and_one(|| {
                let o = layer_norm(&x, n, Some(&w), Some(&b), 1e-5);
                let g = layer_norm_backward(&dy, &x, &o.mean, &o.rstd, Some(&w), n, [true; 3]);
                let only_w =
                    layer_norm_backward(&dy, &x, &o.mean, &o.rstd, None, n, [false, true, false]);
                let sm = super::super::softmax::softmax_rows(&x, n, true);
                let smb = super::super::softmax::softmax_backward_rows(&dy, &sm, n);
                [
                    bits(&o.y),
                    bits(&o.mean),
                    bits(&o.rstd),
                    bits(&g.input.unwrap()),
                    bits(&g.weight.unwrap()),
                    bits(&g.bias.unwrap()),
                    bits(&only_w.weight.unwrap()),
                    bits(&sm),
                    bits(&smb),
                ]
            });
            assert!(only_w_none_check(n));
            for (k, (a, b)) in two.iter().zip(&one).enumerate() {
                assert_eq!(a, b, "n {n}, output {k}");
            }
        }
    }

    /// Without `dx`, only the parameter gradient asked for is returned.
    fn only_w_none_check(n: usize) -> bool {
        let x = vec![0.5f64; 2051 * n];
        let o = layer_norm(&x, n, None, None, 1e-5);
        let g = layer_norm_backward(&x, &x, &o.mean, &o.rstd, None, n, [false, true, false]);
        g.input.is_none() && g.bias.is_none() && g.weight.map(|w| w.len()) == Some(n)
    }
}
