//! More shape and matrix ops of `torch.*`: `flip roll tril triu repeat repeat_interleave outer`,
//! `baddbmm` and `addmm` with `beta`/`alpha`, with derivatives.yaml's backward nodes.

use crate::autograd::{SavedOpt, SavedTensor, backward_fn, no_grad, record};
use crate::dtype::DType;
use crate::shape::{wrap_dim, wrap_dims};
use crate::tensor::Tensor;

/// `grad * s`, or `grad` itself when `s == 1` (ATen's `maybe_multiply`).
#[track_caller]
fn maybe_multiply(grad: &Tensor, s: f64) -> Tensor {
    if s == 1.0 { grad.clone() } else { grad.mul(s) }
}

backward_fn! {
    /// `grad.flip(dims)`.
    struct FlipBackward0 { dims: Vec<i64> }
    saved []
    fn backward(&mut self, grad, needs) {
        smallvec::smallvec![Some(grad.flip(&self.dims))]
    }
}

backward_fn! {
    /// `grad.roll(-shifts, dims)`.
    struct RollBackward0 { shifts: Vec<i64>, dims: Vec<i64> }
    saved []
    fn backward(&mut self, grad, needs) {
        let back: Vec<i64> = self.shifts.iter().map(|s| -s).collect();
        smallvec::smallvec![Some(grad.roll(&back, &self.dims))]
    }
}

backward_fn! {
    /// `grad.tril(diagonal)` / `grad.triu(diagonal)`.
    struct TrilBackward0 { diagonal: i64, upper: bool }
    names [TriuBackward0]
    saved []
    fn backward(&mut self, grad, needs) {
        let g = if self.upper { grad.triu(self.diagonal) } else { grad.tril(self.diagonal) };
        smallvec::smallvec![Some(g)]
    }
}

backward_fn! {
    /// ATen's `repeat_backward`: the gradient as `[r0, s0, r1, s1, ...]`, summed over the
    /// repeats.
    struct RepeatBackward0 { repeats: Vec<i64>, in_shape: Vec<usize> }
    saved []
    fn backward(&mut self, grad, needs) {
        let pad = self.repeats.len() - self.in_shape.len();
        let mut split = Vec::new();
        let mut sum_dims = Vec::new();
        for (i, &r) in self.repeats.iter().enumerate() {
            let s = if i < pad { 1 } else { self.in_shape[i - pad] as i64 };
            sum_dims.push(split.len() as i64);
            split.push(r);
            split.push(s);
        }
        let g = grad.reshape(split).sum_dim(sum_dims, false);
        smallvec::smallvec![Some(g.reshape(self.in_shape.iter().map(|&d| d as i64).collect::<Vec<_>>()))]
    }
}

backward_fn! {
    /// `baddbmm(self, batch1, batch2, beta, alpha)`: `grad * beta`,
    /// `grad.bmm(batch2ᵀ) * alpha`, `batch1ᵀ.bmm(grad) * alpha`.
    struct BaddbmmBackward0 { b1: Option<SavedTensor>, b2: Option<SavedTensor>, beta: f64, alpha: f64 }
    saved [b1, b2]
    fn backward(&mut self, grad, needs) {
        let g0 = needs[0].then(|| maybe_multiply(grad, self.beta));
        let g1 = needs[1].then(|| maybe_multiply(&grad.bmm(&self.b2.get().transpose(1, 2)), self.alpha));
        let g2 = needs[2].then(|| maybe_multiply(&self.b1.get().transpose(1, 2).bmm(grad), self.alpha));
        smallvec::smallvec![g0, g1, g2]
    }
}

backward_fn! {
    /// `addmm(self, mat1, mat2, beta, alpha)`: `grad * beta`, `grad.mm(mat2ᵀ) * alpha`,
    /// `mat1ᵀ.mm(grad) * alpha`.
    struct AddmmBackward0 { m1: Option<SavedTensor>, m2: Option<SavedTensor>, beta: f64, alpha: f64 }
    saved [m1, m2]
    fn backward(&mut self, grad, needs) {
        let g0 = needs[0].then(|| maybe_multiply(grad, self.beta));
        let g1 = needs[1].then(|| maybe_multiply(&grad.mm(&self.m2.get().t()), self.alpha));
        let g2 = needs[2].then(|| maybe_multiply(&self.m1.get().t().mm(grad), self.alpha));
        smallvec::smallvec![g0, g1, g2]
    }
}

impl Tensor {
    /// Reverses the order of elements along `dims` (`torch.flip`; a copy, as in PyTorch).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([1.0, 2.0, 3.0]).flip(&[0]).to_vec::<f32>(), vec![3.0, 2.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn flip(&self, dims: &[i64]) -> Tensor {
        let wrapped = wrap_dims(dims, self.ndim());
        for (i, d) in wrapped.iter().enumerate() {
            if wrapped[..i].contains(d) {
                panic!("dim {d} appears multiple times in the list of dims");
            }
        }
        let out = no_grad(|| {
            let mut out = self.clone();
            for &d in &wrapped {
                let n = self.dims()[d] as i64;
                let idx = Tensor::arange_dtype(n - 1, -1, -1, DType::I64);
                out = out.index_select(d as i64, &idx);
            }
            if wrapped.is_empty() {
                out.clone_tensor_raw()
            } else {
                out
            }
        });
        record(out, &[self], |_| FlipBackward0 {
            dims: dims.to_vec(),
        })
    }

    /// Rolls elements along `dims` by `shifts` (wrapping around); with no dims, the flattened
    /// tensor is rolled and reshaped back (`torch.roll`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([1.0, 2.0, 3.0]).roll(&[1], &[0]).to_vec::<f32>(), vec![3.0, 1.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn roll(&self, shifts: &[i64], dims: &[i64]) -> Tensor {
        if shifts.is_empty() {
            panic!("`shifts` required");
        }
        if dims.is_empty() && shifts.len() != 1 {
            panic!(
                "shifts and dimensions must align. shifts: {}, dims:{}",
                shifts.len(),
                dims.len()
            );
        }
        if !dims.is_empty() && shifts.len() != dims.len() {
            panic!(
                "shifts and dimensions must align. shifts: {}, dims:{}",
                shifts.len(),
                dims.len()
            );
        }
        let out = no_grad(|| {
            if dims.is_empty() {
                let flat = self.reshape([-1]);
                return roll_one(&flat, shifts[0], 0).view(self.dims().to_vec());
            }
            let mut out = self.clone();
            for (&s, &d) in shifts.iter().zip(dims) {
                out = roll_one(&out, s, d);
            }
            out
        });
        record(out, &[self], |_| RollBackward0 {
            shifts: shifts.to_vec(),
            dims: dims.to_vec(),
        })
    }

    /// The lower triangle of the last two dims, from `diagonal` down; the rest is zero
    /// (`torch.tril`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([[1.0, 2.0], [3.0, 4.0]]).tril(0);
    /// assert_eq!(t.to_vec::<f32>(), vec![1.0, 0.0, 3.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn tril(&self, diagonal: i64) -> Tensor {
        self.triangle(diagonal, false)
    }

    /// The upper triangle of the last two dims, from `diagonal` up; the rest is zero
    /// (`torch.triu`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([[1.0, 2.0], [3.0, 4.0]]).triu(1);
    /// assert_eq!(t.to_vec::<f32>(), vec![0.0, 2.0, 0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn triu(&self, diagonal: i64) -> Tensor {
        self.triangle(diagonal, true)
    }

    #[track_caller]
    fn triangle(&self, diagonal: i64, upper: bool) -> Tensor {
        if self.ndim() < 2 {
            let name = if upper { "triu" } else { "tril" };
            panic!("{name}: input tensor must have at least 2 dimensions");
        }
        let nd = self.ndim();
        let (m, n) = (self.dims()[nd - 2] as i64, self.dims()[nd - 1] as i64);
        let out = no_grad(|| {
            let rows = Tensor::arange(0, m, 1).unsqueeze(1);
            let cols = Tensor::arange(0, n, 1);
            // col - row compared with the diagonal: the elements to zero.
            let offset = cols.sub(&rows);
            let drop = if upper {
                offset.lt(diagonal)
            } else {
                offset.gt(diagonal)
            };
            self.masked_fill(&drop, 0)
        });
        if upper {
            record(out, &[self], |_| TriuBackward0 { diagonal, upper })
        } else {
            record(out, &[self], |_| TrilBackward0 { diagonal, upper })
        }
    }

    /// Tiles the tensor `repeats[i]` times along each dim, leading repeats adding dims
    /// (`tensor.repeat`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// assert_eq!(tensor!([1.0, 2.0]).repeat(&[2]).to_vec::<f32>(), vec![1.0, 2.0, 1.0, 2.0]);
    /// assert_eq!(tensor!([1.0, 2.0]).repeat(&[2, 1]).dims(), &[2, 2]);
    /// ```
    #[track_caller]
    pub fn repeat(&self, repeats: &[i64]) -> Tensor {
        if repeats.len() < self.ndim() {
            panic!(
                "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
            );
        }
        if let Some(r) = repeats.iter().find(|&&r| r < 0) {
            panic!("Trying to create tensor with negative dimension {r}: {repeats:?}");
        }
        let pad = repeats.len() - self.ndim();
        let out = no_grad(|| {
            let mut view = Vec::new();
            let mut expanded = Vec::new();
            let mut target = Vec::new();
            for (i, &r) in repeats.iter().enumerate() {
                let s = if i < pad {
                    1
                } else {
                    self.dims()[i - pad] as i64
                };
                view.extend([1, s]);
                expanded.extend([r, s]);
                target.push(r * s);
            }
            // The copy of the expanded view, reshaped, then copied once more so the result is
            // not a view of a temporary (an in-place op on it must not rebase its graph).
            self.reshape(view)
                .expand(expanded)
                .reshape(target)
                .clone_tensor_raw()
        });
        record(out, &[self], |_| RepeatBackward0 {
            repeats: repeats.to_vec(),
            in_shape: self.dims().to_vec(),
        })
    }

    /// Repeats each element `repeats` times along `dim` (or of the flattened tensor when `dim`
    /// is `None`) (`torch.repeat_interleave` with a number of repeats).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([1.0, 2.0]).repeat_interleave(2, None);
    /// assert_eq!(t.to_vec::<f32>(), vec![1.0, 1.0, 2.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn repeat_interleave(&self, repeats: i64, dim: Option<i64>) -> Tensor {
        if repeats < 0 {
            panic!("repeats can not be negative");
        }
        let (x, d) = match dim {
            Some(d) => (self.clone(), wrap_dim(d, self.ndim().max(1))),
            None => (self.reshape([-1]), 0),
        };
        let x = if x.ndim() == 0 { x.reshape([1]) } else { x };
        let mut expanded: Vec<i64> = x.dims().iter().map(|&s| s as i64).collect();
        expanded.insert(d + 1, repeats);
        let mut target: Vec<i64> = x.dims().iter().map(|&s| s as i64).collect();
        target[d] *= repeats;
        x.unsqueeze(d as i64 + 1).expand(expanded).reshape(target)
    }

    /// The outer product of two vectors, `self[i] * vec2[j]` (`torch.outer`: ATen's
    /// `self.reshape({-1, 1}) * vec2`).
    ///
    /// ```
    /// use flambeau::tensor;
    /// let t = tensor!([1.0, 2.0]).outer(&tensor!([3.0, 4.0, 5.0]));
    /// assert_eq!(t.dims(), &[2, 3]);
    /// ```
    #[track_caller]
    pub fn outer(&self, vec2: &Tensor) -> Tensor {
        for (t, name) in [(self, "self"), (vec2, "vec2")] {
            if t.ndim() != 1 {
                panic!(
                    "outer: Expected 1-D argument {name}, but got {}-D",
                    t.ndim()
                );
            }
        }
        self.reshape([-1, 1]).mul(vec2)
    }

    /// `beta * input + alpha * (batch1 @ batch2)` over a batch of matrices (`torch.baddbmm`);
    /// with `beta == 0` the input is ignored, NaN included.
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let y = Tensor::baddbmm(&Tensor::ones([2, 3, 4]), &Tensor::ones([2, 3, 5]), &Tensor::ones([2, 5, 4]), 0.5, 2.0);
    /// assert_eq!(y.to_vec::<f32>()[0], 10.5);
    /// ```
    #[track_caller]
    pub fn baddbmm(
        input: &Tensor,
        batch1: &Tensor,
        batch2: &Tensor,
        beta: f64,
        alpha: f64,
    ) -> Tensor {
        let out = no_grad(|| {
            let prod = batch1.bmm(batch2);
            let scaled = if alpha == 1.0 { prod } else { prod.mul(alpha) };
            if beta == 0.0 {
                scaled
            } else {
                let base = input.expand(scaled.dims().to_vec());
                maybe_multiply(&base, beta).add(&scaled)
            }
        });
        let (r1, r2) = (batch1.requires_grad(), batch2.requires_grad());
        record(out, &[input, batch1, batch2], |_| BaddbmmBackward0 {
            b1: SavedTensor::input_if(batch1, r2),
            b2: SavedTensor::input_if(batch2, r1),
            beta,
            alpha,
        })
    }

    /// `beta * input + alpha * (mat1 @ mat2)` (`torch.addmm(input, mat1, mat2, beta=, alpha=)`);
    /// with `beta = alpha = 1` this is [`Tensor::addmm`].
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let y = Tensor::addmm_scaled(&Tensor::ones([2, 2]), &Tensor::ones([2, 3]), &Tensor::ones([3, 2]), 0.5, 2.0);
    /// assert_eq!(y.to_vec::<f32>(), vec![6.5; 4]);
    /// ```
    #[track_caller]
    pub fn addmm_scaled(
        input: &Tensor,
        mat1: &Tensor,
        mat2: &Tensor,
        beta: f64,
        alpha: f64,
    ) -> Tensor {
        if beta == 1.0 && alpha == 1.0 {
            return Tensor::addmm(input, mat1, mat2);
        }
        let out = no_grad(|| {
            let prod = mat1.mm(mat2);
            let scaled = if alpha == 1.0 { prod } else { prod.mul(alpha) };
            if beta == 0.0 {
                scaled
            } else {
                let base = input.expand(scaled.dims().to_vec());
                maybe_multiply(&base, beta).add(&scaled)
            }
        });
        let (r1, r2) = (mat1.requires_grad(), mat2.requires_grad());
        record(out, &[input, mat1, mat2], |_| AddmmBackward0 {
            m1: SavedTensor::input_if(mat1, r2),
            m2: SavedTensor::input_if(mat2, r1),
            beta,
            alpha,
        })
    }
}

/// `torch.roll` along one dim: the two pieces of ATen's `roll_common`, swapped.
#[track_caller]
fn roll_one(t: &Tensor, shift: i64, dim: i64) -> Tensor {
    let d = wrap_dim(dim, t.ndim());
    let size = t.dims()[d] as i64;
    if size == 0 {
        return t.clone_tensor_raw();
    }
    let mut start = (size - shift) % size;
    if start < 0 {
        start += size;
    }
    let t0 = t.narrow(d as i64, start, (size - start) as usize);
    let t1 = t.narrow(d as i64, 0, start as usize);
    Tensor::cat(&[&t0, &t1], d as i64)
}
