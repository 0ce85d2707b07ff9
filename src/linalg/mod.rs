//! `torch.linalg`: inverse, solve, determinant, Cholesky, QR, symmetric eigen-decomposition and
//! singular values of (batches of) matrices, float32 and float64, with autograd to any order.
//!
//! The factorizations run in the backend (`BackendStorage::linalg`, on the CPU
//! `kernels/cpu/linalg.rs`, computed in float64); every backward formula (`backward.rs`) is
//! written with differentiable tensor ops, so second derivatives work.
//!
//! ```
//! use flambeau::{linalg, tensor};
//! let a = tensor!([[4.0, 1.0], [1.0, 3.0]]);
//! assert!((linalg::det(&a).item::<f32>() - 11.0).abs() < 1e-5);
//! ```

mod backward;

use crate::autograd::{SavedTensor, no_grad, record};
use crate::backend::LinalgOp;
use crate::shape::{Shape, broadcast_shapes};
use crate::storage::ReadPair;
use crate::tensor::Tensor;
use backward::*;

/// PyTorch's prefix for a batch element's error, empty for a single matrix.
fn batch_prefix(a: &Tensor, i: usize) -> String {
    if a.ndim() > 2 {
        format!("(Batch element {i}): ")
    } else {
        String::new()
    }
}

/// PyTorch's `checkFloatingOrComplex` and `squareCheckInputs` (when `square`).
#[track_caller]
fn check(a: &Tensor, name: &str, square: bool) {
    if !a.is_floating_point() {
        panic!(
            "{name}: Expected a floating point or complex tensor as input. Got {}",
            a.dtype().scalar_name()
        );
    }
    if a.ndim() < 2 {
        panic!("{name}: The input tensor A must have at least 2 dimensions.");
    }
    let d = a.dims();
    let (m, n) = (d[d.len() - 2], d[d.len() - 1]);
    if square && m != n {
        panic!("{name}: A must be batches of square matrices, but they are {m} by {n} matrices");
    }
}

/// Runs a kernel without autograd: the outputs with `shapes` and the `info` per matrix.
fn raw(
    op: LinalgOp,
    a: &Tensor,
    rhs: Option<&Tensor>,
    shapes: &[Vec<usize>],
) -> (Vec<Tensor>, Vec<i64>) {
    let (outs, info) = match rhs {
        None => a.storage().linalg(a.layout(), op, None),
        Some(b) => {
            let pair = ReadPair::new(a.cell(), b.cell());
            let (sa, sb) = pair.get();
            sa.linalg(a.layout(), op, Some((sb, b.layout())))
        }
    };
    let outs = outs
        .into_iter()
        .zip(shapes)
        .map(|(s, shape)| Tensor::from_storage(s, Shape::new(shape)))
        .collect();
    (outs, info)
}

/// The batch dims and the last two.
fn split(a: &Tensor) -> (Vec<usize>, usize, usize) {
    let d = a.dims();
    (d[..d.len() - 2].to_vec(), d[d.len() - 2], d[d.len() - 1])
}

fn with(batch: &[usize], tail: &[usize]) -> Vec<usize> {
    batch.iter().chain(tail).copied().collect()
}

/// The inverse of a square matrix, or of each matrix of a batch (`torch.linalg.inv`).
///
/// Panics as PyTorch does for non-square or singular input ("linalg.inv: The diagonal element
/// 2 is zero, the inversion could not be completed because the input matrix is singular.").
///
/// ```
/// use flambeau::{linalg, tensor};
/// let a = tensor!([[2.0, 0.0], [0.0, 4.0]]);
/// assert_eq!(linalg::inv(&a).to_vec::<f32>(), vec![0.5, 0.0, 0.0, 0.25]);
/// ```
#[track_caller]
pub fn inv(a: &Tensor) -> Tensor {
    check(a, "linalg.inv", true);
    let out = no_grad(|| inv_raw(a, "linalg.inv"));
    record(out, &[a], |o| LinalgInvExBackward0 {
        inv: SavedTensor::output(o),
    })
}

#[track_caller]
fn inv_raw(a: &Tensor, name: &str) -> Tensor {
    let (batch, n, _) = split(a);
    let (mut outs, info) = raw(LinalgOp::Inv, a, None, &[with(&batch, &[n, n])]);
    if let Some((i, &k)) = info.iter().enumerate().find(|(_, k)| **k != 0) {
        panic!(
            "{name}: {}The diagonal element {k} is zero, the inversion could not be completed because the input matrix is singular.",
            batch_prefix(a, i)
        );
    }
    outs.remove(0)
}

/// The solution `X` of `A X = B` (`torch.linalg.solve`, `left=True`): `A` is `[*, n, n]`, `B`
/// is `[*, n, k]` or, as PyTorch reads it, a batch of vectors `[*, n]` (also a 1-D `[n]`);
/// batch dims broadcast.
///
/// ```
/// use flambeau::{linalg, tensor};
/// let a = tensor!([[2.0, 0.0], [0.0, 4.0]]);
/// let x = linalg::solve(&a, &tensor!([1.0, 1.0]));
/// assert_eq!(x.to_vec::<f32>(), vec![0.5, 0.25]);
/// ```
#[track_caller]
pub fn solve(a: &Tensor, b: &Tensor) -> Tensor {
    check(a, "linalg.solve", true);
    if !b.is_floating_point() || b.dtype() != a.dtype() {
        panic!(
            "linalg.solve: Expected A and B to have the same dtype, but found A of type {} and B of type {} instead",
            a.dtype().scalar_name(),
            b.dtype().scalar_name()
        );
    }
    let (abatch, n, _) = split(a);
    let vector =
        b.ndim() == 1 || (b.ndim() + 1 == a.ndim() && b.dims() == &a.dims()[..a.ndim() - 1]);
    let b2 = if vector { b.unsqueeze(-1) } else { b.clone() };
    if b2.ndim() < 2 {
        panic!("linalg.solve: The input tensor B must have at least 1 dimensions.");
    }
    let (bbatch, bn, k) = split(&b2);
    if bn != n {
        panic!(
            "linalg.solve: Incompatible shapes of A and B for the equation AX = B ({n}x{n} and {bn}x{k})"
        );
    }
    let batch = broadcast_shapes(&abatch, &bbatch).dims().to_vec();
    let ae = if abatch == batch {
        a.clone()
    } else {
        a.expand(with(&batch, &[n, n]))
    };
    let be = if bbatch == batch {
        b2
    } else {
        b2.expand(with(&batch, &[n, k]))
    };
    let x = no_grad(|| {
        let (mut outs, info) = raw(LinalgOp::Solve, &ae, Some(&be), &[with(&batch, &[n, k])]);
        if let Some(i) = info.iter().position(|&k| k != 0) {
            panic!(
                "torch.linalg.solve: {}The solver failed because the input matrix is singular.",
                batch_prefix(&ae, i)
            );
        }
        outs.remove(0)
    });
    let x = record(x, &[&ae, &be], |o| LinalgSolveExBackward0 {
        a: SavedTensor::input(&ae),
        x: SavedTensor::output(o),
    });
    if vector { x.squeeze_dim(-1) } else { x }
}

/// The determinant of a square matrix or of each matrix of a batch (`torch.linalg.det`), by LU
/// with partial pivoting. Its gradient `g det A^{-T}` needs a non-singular input.
///
/// ```
/// use flambeau::{linalg, tensor};
/// let a = tensor!([[1.0, 2.0], [3.0, 4.0]]);
/// assert!((linalg::det(&a).item::<f64>() + 2.0).abs() < 1e-6);
/// ```
#[track_caller]
pub fn det(a: &Tensor) -> Tensor {
    check(a, "linalg.det", true);
    let (batch, _, _) = split(a);
    let out = no_grad(|| {
        raw(LinalgOp::Det, a, None, std::slice::from_ref(&batch))
            .0
            .remove(0)
    });
    record(out, &[a], |o| LinalgDetBackward0 {
        a: SavedTensor::input(a),
        det: SavedTensor::output(o),
    })
}

/// The lower Cholesky factor `L` of a symmetric positive-definite matrix, `A = L L^T`
/// (`torch.linalg.cholesky`, `upper=False`); only the lower triangle of `A` is read.
///
/// Panics as PyTorch does when `A` is not positive-definite ("linalg.cholesky: The
/// factorization could not be completed because the input is not positive-definite (the
/// leading minor of order 2 is not positive-definite).").
///
/// ```
/// use flambeau::{linalg, tensor};
/// let l = linalg::cholesky(&tensor!([[4.0, 2.0], [2.0, 5.0]]));
/// assert_eq!(l.to_vec::<f32>(), vec![2.0, 0.0, 1.0, 2.0]);
/// ```
#[track_caller]
pub fn cholesky(a: &Tensor) -> Tensor {
    check(a, "linalg.cholesky", true);
    let out = no_grad(|| {
        let (batch, n, _) = split(a);
        let (mut outs, info) = raw(LinalgOp::Cholesky, a, None, &[with(&batch, &[n, n])]);
        if let Some((i, &k)) = info.iter().enumerate().find(|(_, k)| **k != 0) {
            panic!(
                "linalg.cholesky: {}The factorization could not be completed because the input is not positive-definite (the leading minor of order {k} is not positive-definite).",
                batch_prefix(a, i)
            );
        }
        outs.remove(0)
    });
    record(out, &[a], |o| LinalgCholeskyExBackward0 {
        l: SavedTensor::output(o),
    })
}

/// The reduced QR decomposition `A = Q R` (`torch.linalg.qr`, `mode='reduced'`): for `A`
/// `[*, m, n]` and `k = min(m, n)`, `Q` `[*, m, k]` with orthonormal columns and `R` `[*, k, n]`
/// upper triangular, by Householder reflections with LAPACK's signs (the diagonal of `R` may be
/// negative). Gradients (PyTorch's `linalg_qr_backward`) need `A`'s first `k` columns
/// independent.
///
/// ```
/// use flambeau::{linalg, tensor};
/// let a = tensor!([[3.0, 1.0], [4.0, 2.0]]);
/// let (q, r) = linalg::qr(&a);
/// assert!(q.matmul(&r).allclose(&a, 1e-5, 1e-6));
/// assert!((r.to_vec::<f32>()[0].abs() - 5.0).abs() < 1e-5);
/// ```
#[track_caller]
pub fn qr(a: &Tensor) -> (Tensor, Tensor) {
    check(a, "linalg.qr", false);
    let (batch, m, n) = split(a);
    let k = m.min(n);
    let mut outs = no_grad(|| {
        raw(
            LinalgOp::Qr,
            a,
            None,
            &[with(&batch, &[m, k]), with(&batch, &[k, n])],
        )
        .0
    });
    let r = outs.pop().expect("R");
    let q = outs.pop().expect("Q");
    let q = record(q, &[a], |_| LinalgQrBackward0 {
        a: SavedTensor::input(a),
        wrt_r: false,
    });
    let r = record(r, &[a], |_| LinalgQrBackward0 {
        a: SavedTensor::input(a),
        wrt_r: true,
    });
    (q, r)
}

/// The eigenvalues, ascending, and the eigenvectors (columns) of a symmetric matrix or of each
/// matrix of a batch (`torch.linalg.eigh`, `UPLO='L'`: the lower triangle is read), by cyclic
/// Jacobi rotations. Each eigenvector's largest component is positive. Gradients of the
/// eigenvectors need distinct eigenvalues.
///
/// ```
/// use flambeau::{linalg, tensor};
/// let (w, v) = linalg::eigh(&tensor!([[2.0, 0.0], [0.0, 1.0]]));
/// assert_eq!(w.to_vec::<f32>(), vec![1.0, 2.0]);
/// assert_eq!(v.to_vec::<f32>(), vec![0.0, 1.0, 1.0, 0.0]);
/// ```
#[track_caller]
pub fn eigh(a: &Tensor) -> (Tensor, Tensor) {
    check(a, "linalg.eigh", true);
    let (w, v) = no_grad(|| eigh_raw(a));
    let w = record(w, &[a], |_| LinalgEighBackward0 {
        a: SavedTensor::input(a),
        vectors: false,
    });
    let v = record(v, &[a], |_| LinalgEighBackward0 {
        a: SavedTensor::input(a),
        vectors: true,
    });
    (w, v)
}

fn eigh_raw(a: &Tensor) -> (Tensor, Tensor) {
    let (batch, n, _) = split(a);
    let mut outs = raw(
        LinalgOp::Eigh,
        a,
        None,
        &[with(&batch, &[n]), with(&batch, &[n, n])],
    )
    .0;
    let v = outs.pop().expect("eigenvectors");
    (outs.pop().expect("eigenvalues"), v)
}

/// The eigenvalues, ascending, of a symmetric matrix or of each matrix of a batch
/// (`torch.linalg.eigvalsh`, `UPLO='L'`).
///
/// ```
/// use flambeau::{linalg, tensor};
/// let w = linalg::eigvalsh(&tensor!([[2.0, 1.0], [1.0, 2.0]]));
/// assert!(w.allclose(&tensor!([1.0, 3.0]), 1e-5, 1e-6));
/// ```
#[track_caller]
pub fn eigvalsh(a: &Tensor) -> Tensor {
    check(a, "linalg.eigvalsh", true);
    let w = no_grad(|| eigh_raw(a).0);
    record(w, &[a], |_| LinalgEighBackward0 {
        a: SavedTensor::input(a),
        vectors: false,
    })
}

/// The singular values, descending, of a matrix or of each matrix of a batch
/// (`torch.linalg.svdvals`): the square roots of the eigenvalues of `A^T A` (or `A A^T`,
/// whichever is smaller), so gradients of every order follow from [`eigvalsh`]'s.
///
/// ```
/// use flambeau::{linalg, tensor};
/// let s = linalg::svdvals(&tensor!([[3.0, 0.0], [0.0, -4.0], [0.0, 0.0]]));
/// assert!(s.allclose(&tensor!([4.0, 3.0]), 1e-5, 1e-6));
/// ```
#[track_caller]
pub fn svdvals(a: &Tensor) -> Tensor {
    check(a, "linalg.svdvals", false);
    let (_, m, n) = split(a);
    let at = a.transpose(-2, -1);
    let gram = if m >= n { at.matmul(a) } else { a.matmul(&at) };
    eigvalsh(&gram).relu().sqrt().flip(&[-1])
}
