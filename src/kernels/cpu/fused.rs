//! Fused in-place update kernels (`add_(x, alpha)`, `addcmul_`, `addcdiv_`, `lerp_`) with the
//! rounding of PyTorch's CPU kernels, which use fused multiply-adds (`vec::fmadd`). A plain
//! `f32::mul_add` without the `fma` target feature becomes a slow library call, so each kernel is
//! compiled twice and the FMA version is chosen at run time when the CPU has it.

use crate::dtype::Float;

/// Generates `$name` dispatching to an FMA-enabled copy of the same body when available.
macro_rules! fma_dispatch {
    ($(#[$m:meta])* fn $name:ident<$t:ident>($($arg:ident : $ty:ty),*) $body:block) => {
        $(#[$m])*
        pub(crate) fn $name<$t: Float>($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "fma,avx2")]
                unsafe fn with_fma<$t: Float>($($arg: $ty),*) $body
                if std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports the features this copy was compiled for.
                    unsafe { with_fma($($arg),*) };
                    return;
                }
            }
            fn portable<$t: Float>($($arg: $ty),*) $body
            portable($($arg),*)
        }
    };
}

fma_dispatch! {
    /// `y = fma(alpha, x, y)`: ATen's `add(self, other, alpha)`.
    fn axpy<T>(y: &mut [T], x: &[T], alpha: T) {
        for (a, &b) in y.iter_mut().zip(x) {
            *a = alpha.mul_add(b, *a);
        }
    }
}

fma_dispatch! {
    /// `y = fma(value * a, b, y)`: ATen's `addcmul(self, t1, t2, value)`.
    fn addcmul<T>(y: &mut [T], a: &[T], b: &[T], value: T) {
        for ((o, &p), &q) in y.iter_mut().zip(a).zip(b) {
            *o = (value * p).mul_add(q, *o);
        }
    }
}

fma_dispatch! {
    /// `y = y + value * a / b`: ATen's `addcdiv(self, t1, t2, value)`.
    fn addcdiv<T>(y: &mut [T], a: &[T], b: &[T], value: T) {
        for ((o, &p), &q) in y.iter_mut().zip(a).zip(b) {
            *o = *o + value * p / q;
        }
    }
}

fma_dispatch! {
    /// `y = lerp(y, end, w)` as ATen's vectorised kernel: `fma(w, end - y, y)` for `|w| < 0.5`,
    /// else `fma(w - 1, end - y, end)`.
    fn lerp<T>(y: &mut [T], end: &[T], w: T) {
        let small = w.abs() < T::from_f64(0.5);
        for (o, &e) in y.iter_mut().zip(end) {
            *o = if small { w.mul_add(e - *o, *o) } else { (w - T::one()).mul_add(e - *o, e) };
        }
    }
}

/// The scalars of one Adam/AdamW update, rounded to the parameter's dtype.
#[derive(Clone, Copy)]
pub(crate) struct AdamScalars<T> {
    pub beta1_complement: T,
    pub beta2: T,
    pub beta2_complement: T,
    pub weight_decay: T,
    /// `1 - lr * weight_decay` for AdamW's decoupled decay, else None.
    pub decay_factor: Option<T>,
    pub bias_correction2_sqrt: T,
    pub eps: T,
    pub neg_step_size: T,
    pub maximize: bool,
}

impl<T: Float> AdamScalars<T> {
    /// The backend-neutral (f64) scalars rounded to `T`.
    pub(crate) fn of(s: &crate::backend::AdamScalars) -> AdamScalars<T> {
        let c = T::from_f64;
        AdamScalars {
            beta1_complement: c(s.beta1_complement),
            beta2: c(s.beta2),
            beta2_complement: c(s.beta2_complement),
            weight_decay: c(s.weight_decay),
            decay_factor: s.decay_factor.map(c),
            bias_correction2_sqrt: c(s.bias_correction2_sqrt),
            eps: c(s.eps),
            neg_step_size: c(s.neg_step_size),
            maximize: s.maximize,
        }
    }
}

/// One element of an Adam step: PyTorch's `_single_tensor_adam` operations in order (weight
/// decay, lerp, mul/addcmul, optional running max, sqrt/div/add, addcdiv).
#[inline(always)]
fn adam_element<T: Float>(
    p: &mut T,
    g: T,
    m: &mut T,
    v: &mut T,
    vmax: Option<&mut T>,
    s: &AdamScalars<T>,
    small: bool,
) {
    let mut grad = if s.maximize { -g } else { g };
    match s.decay_factor {
        Some(f) => *p = *p * f,
        None => {
            if s.weight_decay != T::zero() {
                grad = s.weight_decay.mul_add(*p, grad);
            }
        }
    }
    let w = s.beta1_complement;
    *m = if small {
        w.mul_add(grad - *m, *m)
    } else {
        (w - T::one()).mul_add(grad - *m, grad)
    };
    *v = (s.beta2_complement * grad).mul_add(grad, *v * s.beta2);
    let second = match vmax {
        Some(mx) => {
            *mx = mx.max_nan(*v);
            *mx
        }
        None => *v,
    };
    let denom = second.sqrt() / s.bias_correction2_sqrt + s.eps;
    *p += s.neg_step_size * *m / denom;
}

fma_dispatch! {
    /// One Adam step over one parameter in a single pass, element by element as
    /// [`adam_element`], so the result is that of the step taken op by op.
    fn adam<T>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], vmax: Option<&mut [T]>, s: AdamScalars<T>) {
        let small = s.beta1_complement.abs() < T::from_f64(0.5);
        let n = p.len();
        // Equal lengths up front let the compiler drop the bounds checks and vectorise.
        let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
        match vmax {
            Some(mx) => {
                let mx = &mut mx[..n];
                for i in 0..n {
                    adam_element(&mut p[i], g[i], &mut m[i], &mut v[i], Some(&mut mx[i]), &s, small);
                }
            }
            None => {
                for i in 0..n {
                    adam_element(&mut p[i], g[i], &mut m[i], &mut v[i], None, &s, small);
                }
            }
        }
    }
}

/// [`adam`] over large parameters by threads: each element's update reads only its own
/// parameter, gradient and moments, so cutting the buffers into one range per thread gives the
/// same bits as one pass. ATen's fused and foreach Adam run on the intra-op pool the same way;
/// the square root and the two divisions per element make this pass compute-bound, so it gains
/// the second core (a fifth of an MLP step's Adam time on a 2-core Zen).
pub(crate) fn adam_threaded<T: Float + Send + Sync>(
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    vmax: Option<&mut [T]>,
    s: AdamScalars<T>,
) where
    AdamScalars<T>: Sync,
{
    use rayon::prelude::*;
    let tasks = super::parallel::tasks(p.len());
    if tasks < 2 {
        return adam(p, g, m, v, vmax, s);
    }
    let chunk = p.len().div_ceil(tasks);
    let n = p.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    let parts = p
        .par_chunks_mut(chunk)
        .zip(g.par_chunks(chunk))
        .zip(m.par_chunks_mut(chunk))
        .zip(v.par_chunks_mut(chunk));
    match vmax {
        None => parts.for_each(|(((p, g), m), v)| adam(p, g, m, v, None, s)),
        Some(mx) => parts
            .zip(mx[..n].par_chunks_mut(chunk))
            .for_each(|((((p, g), m), v), mx)| adam(p, g, m, v, Some(mx), s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::cpu::gemm::tests::lcg;

    #[test]
    fn threaded_adam_gives_the_bits_of_one_pass() {
        // Above the threading threshold and not a multiple of the cut, with and without amsgrad.
        let n = super::super::parallel::MIN_ELEMENTS + 12345;
        let f = |seed| lcg(n, seed).iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let s = AdamScalars {
            beta1_complement: 0.1f32,
            beta2: 0.999,
            beta2_complement: 0.001,
            weight_decay: 0.01,
            decay_factor: None,
            bias_correction2_sqrt: 0.0447,
            eps: 1e-8,
            neg_step_size: -0.01,
            maximize: false,
        };
        for amsgrad in [false, true] {
            let g = f(2);
            let v0: Vec<f32> = f(4).iter().map(|x| x.abs()).collect();
            let (mut p1, mut m1, mut v1, mut x1) = (f(1), f(3), v0.clone(), v0.clone());
            let (mut p2, mut m2, mut v2, mut x2) = (p1.clone(), m1.clone(), v1.clone(), x1.clone());
            adam(
                &mut p1,
                &g,
                &mut m1,
                &mut v1,
                amsgrad.then_some(&mut x1[..]),
                s,
            );
            adam_threaded(
                &mut p2,
                &g,
                &mut m2,
                &mut v2,
                amsgrad.then_some(&mut x2[..]),
                s,
            );
            let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&p1), bits(&p2));
            assert_eq!(bits(&m1), bits(&m2));
            assert_eq!(bits(&v1), bits(&v2));
            assert_eq!(bits(&x1), bits(&x2));
        }
    }
}
