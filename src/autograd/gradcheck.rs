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
    // An output that does not require grad has a zero analytical Jacobian (PyTorch checks the
    // numerical one is zero too).
    let differentiable = output.requires_grad();
    for o in (0..out_n).filter(|_| differentiable) {
        let mut e = vec![0.0f64; out_n];
        e[o] = 1.0;
        let g = Tensor::from_vec(e, output.shape()).to_dtype(output.dtype());
        let refs: Vec<&Tensor> = diff_inputs.iter().map(|&i| &inputs[i]).collect();
        let grads = super::grad(&[&output], &refs, &[Some(g)], true, false, true);
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
            let plus = f(inputs).to_vec::<f64>();
            x.set_flat(j, orig - opts.eps);
            let minus = f(inputs).to_vec::<f64>();
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

/// Checks second derivatives the way `torch.autograd.gradgradcheck` does: the first-order
/// gradients of `f`, computed with `create_graph` against random float64 output gradients
/// (drawn from a generator seeded with `seed`; they require grad too), are themselves checked
/// with [`gradcheck`] with respect to the inputs and the output gradients. Inputs the output
/// does not depend on contribute zeros.
///
/// ```
/// use flambeau::{autograd::{gradgradcheck, GradcheckOptions}, DType, Tensor};
/// let x = Tensor::randn_dtype([3, 4], DType::F64).requires_grad_(true);
/// gradgradcheck(|v| v[0].tanh().mul(&v[0]), &[x], 0, GradcheckOptions::default()).unwrap();
/// ```
pub fn gradgradcheck(
    f: impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
    seed: u64,
    opts: GradcheckOptions,
) -> Result<(), String> {
    let out = super::no_grad(|| f(inputs));
    let rng = crate::Generator::new().manual_seed(seed);
    let grad_out = Tensor::randn_gen(out.shape(), out.dtype(), &rng).requires_grad_(true);
    let n = inputs.len();
    let diff: Vec<usize> = (0..n).filter(|&i| inputs[i].requires_grad()).collect();
    let first_order = |v: &[Tensor]| -> Tensor {
        let (xs, go) = (&v[..n], &v[n]);
        let y = f(xs);
        let refs: Vec<&Tensor> = diff.iter().map(|&i| &xs[i]).collect();
        let grads = super::grad(&[&y], &refs, &[Some(go.clone())], true, true, true);
        let parts: Vec<Tensor> = grads
            .into_iter()
            .zip(&diff)
            .map(|(g, &i)| match g {
                Some(g) => g.reshape([-1]),
                None => Tensor::zeros_dtype([xs[i].numel()], xs[i].dtype()),
            })
            .collect();
        let refs: Vec<&Tensor> = parts.iter().collect();
        Tensor::cat(&refs, 0)
    };
    let mut all: Vec<Tensor> = inputs.to_vec();
    all.push(grad_out);
    gradcheck(first_order, &all, opts)
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

    /// The one-element layout of the element at logical row-major position `i`.
    fn element_layout(&self, i: usize) -> crate::shape::Layout {
        crate::shape::Layout {
            shape: crate::Shape::new(&[]),
            strides: Default::default(),
            offset: self.flat_offset(i),
        }
    }

    /// Reads the element at logical row-major position `i`.
    pub(crate) fn get_flat(&self, i: usize) -> f64 {
        self.storage().to_vec::<f64>(&self.element_layout(i))[0]
    }

    /// Writes the element at logical row-major position `i`, without autograd (a testing helper
    /// for finite differences); bumps the version.
    pub(crate) fn set_flat(&self, i: usize, value: f64) {
        let l = self.element_layout(i);
        self.0.storage.write().fill(&l, crate::Scalar::Float(value));
        self.bump_version();
    }
}
