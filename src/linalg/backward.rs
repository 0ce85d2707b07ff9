//! The backward formulas of `torch.linalg` (derivatives.yaml and FunctionsManual.cpp's
//! `linalg_inv`, `linalg_solve`, `linalg_det_backward`, `cholesky_backward`,
//! `linalg_qr_backward`, `linalg_eig_backward`), written with differentiable tensor ops. A
//! factorization with two outputs records one node per output; each backward recomputes the
//! factorization from the saved input (differentiably under `create_graph`), so higher orders
//! see every factor as a function of the input.

use crate::autograd::{SavedTensor, backward_fn};
use crate::tensor::Tensor;

/// `x.mT`.
fn mt(x: &Tensor) -> Tensor {
    x.transpose(-2, -1)
}

/// The identity of `x`'s last dim, in its dtype (broadcasts over batches).
fn eye_like(x: &Tensor) -> Tensor {
    let n = *x.dims().last().expect("a matrix");
    Tensor::eye_dtype(n, n, x.dtype())
}

backward_fn! {
    /// `-A^{-T} g A^{-T}`, from the saved inverse.
    struct LinalgInvExBackward0 { inv: SavedTensor }
    saved [inv]
    fn backward(&mut self, grad, needs) {
        let it = mt(&self.inv.get());
        smallvec::smallvec![Some(it.matmul(grad).matmul(&it).neg())]
    }
}

backward_fn! {
    /// `gB = solve(A^T, g)`, `gA = -gB X^T`.
    struct LinalgSolveExBackward0 { a: SavedTensor, x: SavedTensor }
    saved [a, x]
    fn backward(&mut self, grad, needs) {
        let gb = super::solve(&mt(&self.a.get()), grad);
        let ga = needs[0].then(|| gb.matmul(&mt(&self.x.get())).neg());
        smallvec::smallvec![ga, needs[1].then_some(gb)]
    }
}

backward_fn! {
    /// `g det A^{-T}` (non-singular input).
    struct LinalgDetBackward0 { a: SavedTensor, det: SavedTensor }
    saved [a, det]
    fn backward(&mut self, grad, needs) {
        let s = grad.mul(&self.det.get()).unsqueeze(-1).unsqueeze(-1);
        smallvec::smallvec![Some(s.mul(&mt(&super::inv(&self.a.get()))))]
    }
}

backward_fn! {
    /// `cholesky_backward`: `L^{-T} phi(L^T gL) L^{-1}`, symmetrized, where `phi` takes the
    /// lower triangle with the diagonal halved.
    struct LinalgCholeskyExBackward0 { l: SavedTensor }
    saved [l]
    fn backward(&mut self, grad, needs) {
        let l = self.l.get();
        let linv = super::inv(&l);
        let p = mt(&l).matmul(grad);
        let phi = p.tril(0).sub(p.mul(&eye_like(&p)).mul(0.5));
        let ga = mt(&linv).matmul(&phi).matmul(&linv);
        smallvec::smallvec![Some(ga.add(mt(&ga)).mul(0.5))]
    }
}

/// `linalg_qr_backward` for `m >= n` (reduced): `(gQ + Q copyltu(M)) R^{-T}` with
/// `M = R gR^T - gQ^T Q` and `copyltu(M) = tril(M) + tril(M, -1)^T`.
fn qr_backward_tall(gq: Option<&Tensor>, gr: Option<&Tensor>, q: &Tensor, r: &Tensor) -> Tensor {
    let mut m = match gr {
        Some(gr) => r.matmul(&mt(gr)),
        None => Tensor::zeros_dtype(r.dims().to_vec(), r.dtype()),
    };
    if let Some(gq) = gq {
        m = m.sub(mt(gq).matmul(q));
    }
    let copyltu = m.tril(0).add(mt(&m.tril(-1)));
    let mut rhs = q.matmul(&copyltu);
    if let Some(gq) = gq {
        rhs = rhs.add(gq);
    }
    rhs.matmul(&mt(&super::inv(r)))
}

backward_fn! {
    /// `linalg_qr_backward`, `mode='reduced'`, one output's part (`wrt_r`: R's, else Q's); for
    /// `m < n`, `A = [X | Y]`, `R = [U | V]`: `gX` is the square case's with `gQ + Y gV^T`, and
    /// `gY = Q gV`.
    struct LinalgQrBackward0 { a: SavedTensor, wrt_r: bool }
    saved [a]
    fn backward(&mut self, grad, needs) {
        let a = self.a.get();
        let (q, r) = super::qr(&a);
        let (m, n) = (a.dims()[a.ndim() - 2], a.dims()[a.ndim() - 1]);
        let ga = if m >= n {
            if self.wrt_r {
                qr_backward_tall(None, Some(grad), &q, &r)
            } else {
                qr_backward_tall(Some(grad), None, &q, &r)
            }
        } else {
            let (u, y) = (r.narrow(-1, 0, m), a.narrow(-1, m as i64, n - m));
            if self.wrt_r {
                let (gu, gv) = (grad.narrow(-1, 0, m), grad.narrow(-1, m as i64, n - m));
                let gq = y.matmul(&mt(&gv));
                let gx = qr_backward_tall(Some(&gq), Some(&gu), &q, &u);
                Tensor::cat(&[&gx, &q.matmul(&gv)], -1)
            } else {
                let gx = qr_backward_tall(Some(grad), None, &q, &u);
                Tensor::cat(&[&gx, &y.mul(0.0)], -1)
            }
        };
        smallvec::smallvec![Some(ga)]
    }
}

backward_fn! {
    /// `linalg_eig_backward` for symmetric input, one output's part: eigenvalues
    /// `V diag(gL) V^T`; eigenvectors `V (skew(V^T gV) / E) V^T` with `E_ij = L_j - L_i` off
    /// the diagonal and zeros on it.
    struct LinalgEighBackward0 { a: SavedTensor, vectors: bool }
    saved [a]
    fn backward(&mut self, grad, needs) {
        let (w, v) = super::eigh(&self.a.get());
        let ga = if self.vectors {
            let vg = mt(&v).matmul(grad);
            let skew = vg.sub(mt(&vg)).mul(0.5);
            let eye = eye_like(&v);
            let e = w.unsqueeze(-2).sub(w.unsqueeze(-1)).add(&eye);
            let inner = skew.div(&e).mul(eye.neg().add(1.0));
            v.matmul(&inner).matmul(&mt(&v))
        } else {
            v.mul(grad.unsqueeze(-2)).matmul(&mt(&v))
        };
        smallvec::smallvec![Some(ga)]
    }
}
