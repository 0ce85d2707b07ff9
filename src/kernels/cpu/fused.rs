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
