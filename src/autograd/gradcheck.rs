//! Finite-difference gradient checking (`torch.autograd.gradcheck`).

use crate::tensor::Tensor;

/// Tolerances of [`gradcheck`], PyTorch's defaults: `eps = 1e-6`, `atol = 1e-5`, `rtol = 1e-3`.
#[derive(Clone, Copy, Debug)]
pub struct GradcheckOptions {
    /// Perturbation for the central differences.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance.
    pub rtol: f64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

/// Compares the gradients autograd computes for `f` at `inputs` with central finite differences,
/// as `torch.autograd.gradcheck` does: every element of the Jacobian of every output must satisfy
/// `|analytical - numerical| <= atol + rtol * |numerical|`. Inputs should be float64 tensors that
/// require grad; they may be non-contiguous views (transposed, strided), but, as in PyTorch, not
/// expanded tensors whose elements alias one another (broadcast inside `f` instead).
///
/// Returns `Err` with the first mismatch, or when an input is unsuitable or a gradient has the
/// wrong shape or dtype.
///
/// ```
/// use flambeau::{autograd::{gradcheck, GradcheckOptions}, DType, Tensor};
/// let x = Tensor::randn_dtype([3, 4], DType::F64).requires_grad_(true);
/// gradcheck(|v| v[0].tanh().mul(&v[0]), &[x], GradcheckOptions::default()).unwrap();
/// ```
pub fn gradcheck(
    f: impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
    opts: GradcheckOptions,
) -> Result<(), String> {
    for (i, x) in inputs.iter().enumerate() {
        if x.requires_grad()
            && x.dims()
                .iter()
                .zip(x.stride())
                .any(|(&d, s)| d > 1 && s == 0)
        {
            return Err(format!(
                "The {i}th input has a dimension with stride 0. gradcheck only supports inputs that are non-overlapping to be able to compute the numerical gradients correctly. You should call .contiguous on the input before passing it to gradcheck."
            ));
        }
    }
    let output = f(inputs);
    let out_n = output.numel();
    let diff_inputs: Vec<usize> = (0..inputs.len())
        .filter(|&i| inputs[i].requires_grad())
        .collect();

    // Analytical Jacobian, one row (output element) at a time.
    let mut analytical: Vec<Vec<Vec<f64>>> = diff_inputs
        .iter()
        .map(|&i| vec![vec![0.0; out_n]; inputs[i].numel()])
        .collect();
    for o in 0..out_n {
        let mut e = vec![0.0f64; out_n];
        e[o] = 1.0;
        let g = Tensor::from_vec(e, output.shape()).to_dtype(output.dtype());
        let refs: Vec<&Tensor> = diff_inputs.iter().map(|&i| &inputs[i]).collect();
        let grads = super::grad(&[&output], &refs, &[Some(g)], true, true);
        for (k, gk) in grads.iter().enumerate() {
            if let Some(gk) = gk {
                let x = &inputs[diff_inputs[k]];
                if gk.dims() != x.dims() {
                    return Err(format!(
                        "Gradient has incorrect size: expected {:?}, got {:?}",
                        x.dims(),
                        gk.dims()
                    ));
                }
                if gk.dtype() != x.dtype() {
                    return Err(format!(
                        "Gradient has dtype mismatch: expected {:?}, got {:?}",
                        x.dtype(),
                        gk.dtype()
                    ));
                }
                for (j, v) in gk.to_vec::<f64>().into_iter().enumerate() {
                    analytical[k][j][o] = v;
                }
            }
        }
    }

    // Numerical Jacobian by central differences, perturbing each input element in place.
    for (k, &i) in diff_inputs.iter().enumerate() {
        let x = &inputs[i];
        for (j, row) in analytical[k].iter().enumerate() {
            let orig = x.get_flat(j);
            x.set_flat(j, orig + opts.eps);
            let plus = super::no_grad(|| f(inputs)).to_vec::<f64>();
            x.set_flat(j, orig - opts.eps);
            let minus = super::no_grad(|| f(inputs)).to_vec::<f64>();
            x.set_flat(j, orig);
            for o in 0..out_n {
                let numerical = (plus[o] - minus[o]) / (2.0 * opts.eps);
                let a = row[o];
                if (a - numerical).abs() > opts.atol + opts.rtol * numerical.abs()
                    || a.is_nan() != numerical.is_nan()
                {
                    return Err(format!(
                        "Jacobian mismatch for output 0 with respect to input {i},\nnumerical:{numerical}\nanalytical:{a}\n(at input element {j}, output element {o})"
                    ));
                }
            }
        }
    }
    Ok(())
}

impl Tensor {
    /// The storage offset of the element at logical row-major position `i`.
    fn flat_offset(&self, i: usize) -> usize {
        let mut idx = vec![0usize; self.ndim()];
        let mut rem = i;
        for d in (0..self.ndim()).rev() {
            idx[d] = rem % self.dims()[d];
            rem /= self.dims()[d];
        }
        self.layout().index_of(&idx)
    }

    /// Reads the element at logical row-major position `i`.
    pub(crate) fn get_flat(&self, i: usize) -> f64 {
        let off = self.flat_offset(i);
        self.with_cpu(|s, _| match s {
            crate::storage::CpuStorage::F32(v) => v[off] as f64,
            crate::storage::CpuStorage::F64(v) => v[off],
            crate::storage::CpuStorage::I64(v) => v[off] as f64,
            crate::storage::CpuStorage::Bool(v) => v[off] as u8 as f64,
        })
    }

    /// Writes the element at logical row-major position `i`, without autograd or version bump
    /// checks beyond the storage's (a testing helper for finite differences).
    pub(crate) fn set_flat(&self, i: usize, value: f64) {
        let off = self.flat_offset(i);
        self.with_cpu_mut(|s, _| match s {
            crate::storage::CpuStorage::F32(v) => v[off] = value as f32,
            crate::storage::CpuStorage::F64(v) => v[off] = value,
            crate::storage::CpuStorage::I64(v) => v[off] = value as i64,
            crate::storage::CpuStorage::Bool(v) => v[off] = value != 0.0,
        });
    }
}
