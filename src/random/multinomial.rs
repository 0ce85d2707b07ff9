//! `torch.multinomial` on the CPU, drawing exactly ATen's stream (native/Distributions.cpp
//! `multinomial_out`, native/cpu/MultinomialKernel.cpp).
//!
//! - Without replacement, or for one sample: the Gumbel-max trick as ATen writes it,
//!   `q = empty_like(p).exponential_(1)` (per element, row-major: a 53-bit uniform `u` from one
//!   `random64()`, `q = -log1p(-u)` in float64, then cast to the dtype), `q = p / q`, then
//!   `argmax` (one sample) or `topk(n)` (indices by decreasing `p / q`).
//! - With replacement and more than one sample: per row, the cumulative sums of `p` in the
//!   dtype, divided by their total, the last set to 1; then per sample one 53-bit uniform and
//!   a binary search for the first bucket whose cumulative probability is not below it.

use super::{DEFAULT_GENERATOR, Generator, generator::GeneratorState};
use crate::dtype::DType;
use crate::tensor::Tensor;

impl Tensor {
    /// `num_samples` category indices per row of this 1-d or 2-d tensor of unnormalised
    /// probabilities (`torch.multinomial(input, num_samples, replacement)`), int64, from the
    /// default generator.
    ///
    /// ```
    /// use flambeau::{manual_seed, Tensor};
    /// manual_seed(0);
    /// let w = Tensor::from_vec(vec![0.0f64, 10.0, 3.0, 0.0], [4]);
    /// let s = w.multinomial(2, false).to_vec::<i64>();
    /// assert!(s == vec![1, 2] || s == vec![2, 1]);
    /// ```
    #[track_caller]
    pub fn multinomial(&self, num_samples: usize, replacement: bool) -> Tensor {
        self.multinomial_gen(num_samples, replacement, &DEFAULT_GENERATOR)
    }

    /// `torch.multinomial(input, num_samples, replacement, generator=g)`.
    ///
    /// Ties of `p / q` (only possible between zero weights, picked when `num_samples` exceeds the
    /// number of nonzero weights without replacement) go to the lower index; ATen's `topk` leaves
    /// their order unspecified.
    #[track_caller]
    pub fn multinomial_gen(
        &self,
        num_samples: usize,
        replacement: bool,
        generator: &Generator,
    ) -> Tensor {
        if self.ndim() == 0 || self.ndim() > 2 {
            panic!("prob_dist must be 1 or 2 dim");
        }
        if !self.dtype().is_float() {
            panic!(
                "multinomial only supports floating-point dtypes for input, got: {}",
                self.dtype().scalar_name()
            );
        }
        if num_samples == 0 {
            panic!("cannot sample n_sample <= 0 samples");
        }
        let n_categories = self.size(-1);
        if !replacement && num_samples > n_categories {
            panic!("cannot sample n_sample > prob_dist.size(-1) samples without replacement");
        }
        if n_categories > 1 << 24 {
            panic!("number of categories cannot exceed 2^24");
        }
        let rows = if self.ndim() == 2 { self.size(0) } else { 1 };
        let is_f32 = self.dtype() == DType::F32;
        // f32 values are exact in f64; every step below rounds to f32 where ATen computes in f32.
        let p = self.to_vec::<f64>();
        let round = |x: f64| if is_f32 { x as f32 as f64 } else { x };
        let mut out = Vec::with_capacity(rows * num_samples);
        if !replacement || num_samples == 1 {
            let valid = p.iter().all(|x| (0.0..f64::INFINITY).contains(x));
            if !valid {
                panic!("probability tensor contains either `inf`, `nan` or element < 0");
            }
            let zero_row = p
                .chunks(n_categories.max(1))
                .any(|row| row.iter().all(|&x| x == 0.0));
            if zero_row {
                panic!("invalid multinomial distribution (sum of probabilities <= 0)");
            }
            let mut g = generator.lock();
            let q: Vec<f64> = p.iter().map(|_| round(exponential(&mut g))).collect();
            drop(g);
            for r in 0..rows {
                let row = r * n_categories..(r + 1) * n_categories;
                let ratio: Vec<f64> = p[row.clone()]
                    .iter()
                    .zip(&q[row])
                    .map(|(&p, &q)| round(p / q))
                    .collect();
                let mut order: Vec<usize> = (0..n_categories).collect();
                // Decreasing, NaN first (as ATen's argmax/topk treat NaN as the largest), ties
                // by index (a stable sort).
                order.sort_by(|&a, &b| {
                    let (x, y) = (ratio[a], ratio[b]);
                    match (x.is_nan(), y.is_nan()) {
                        (true, true) => std::cmp::Ordering::Equal,
                        (true, false) => std::cmp::Ordering::Less,
                        (false, true) => std::cmp::Ordering::Greater,
                        _ => y.partial_cmp(&x).unwrap(),
                    }
                });
                out.extend(order[..num_samples].iter().map(|&i| i as i64));
            }
        } else {
            let mut g = generator.lock();
            for r in 0..rows {
                let row = &p[r * n_categories..(r + 1) * n_categories];
                let mut cum = Vec::with_capacity(n_categories);
                let mut sum = 0.0;
                for &v in row {
                    if v < 0.0 {
                        panic!(
                            "invalid multinomial distribution (encountering probability entry < 0)"
                        );
                    }
                    if !v.is_finite() {
                        panic!(
                            "invalid multinomial distribution (encountering probability entry = infinity or NaN)"
                        );
                    }
                    sum = round(sum + v);
                    cum.push(sum);
                }
                if sum <= 0.0 {
                    panic!("invalid multinomial distribution (sum of probabilities <= 0)");
                }
                for c in cum.iter_mut() {
                    *c = round(*c / sum);
                }
                if let Some(last) = cum.last_mut() {
                    *last = 1.0;
                }
                for _ in 0..num_samples {
                    let u = g.uniform_real_f64(0.0, 1.0);
                    out.push(cum.partition_point(|&c| c < u) as i64);
                }
            }
        }
        if self.ndim() == 2 {
            Tensor::from_vec(out, [rows, num_samples])
        } else {
            Tensor::from_vec(out, [num_samples])
        }
    }
}

/// `at::exponential_distribution<double>(1)`: `-1 / lambda * log1p(-u)` with `u` a 53-bit
/// uniform (ATen/core/TransformationHelper.h `exponential`, CPU branch).
fn exponential(g: &mut GeneratorState) -> f64 {
    let u = g.uniform_real_f64(0.0, 1.0);
    -(-u).ln_1p()
}
