//! `flambeau::linalg`: values (products back to the input, orthogonality, ordering), batches,
//! broadcasting and float32, and PyTorch's error texts.
//!
//! Run: `cargo test --release --test linalg`

mod common;

use common::panic_message;
use flambeau::{DType, Tensor, linalg};

fn t(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(values, shape)
}

fn close(a: &Tensor, b: &Tensor, tol: f64) {
    assert_eq!(a.dims(), b.dims());
    let (x, y) = (a.to_vec::<f64>(), b.to_vec::<f64>());
    for (p, q) in x.iter().zip(&y) {
        assert!((p - q).abs() <= tol, "{x:?} != {y:?}");
    }
}

#[test]
fn inverse_solve_det() {
    let a = t(&[4.0, 1.0, 2.0, 0.5, 3.0, 1.0, 1.0, -1.0, 5.0], &[3, 3]);
    let eye = Tensor::eye_dtype(3, 3, DType::F64);
    close(&linalg::inv(&a).matmul(&a), &eye, 1e-12);
    let b = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]);
    close(&a.matmul(&linalg::solve(&a, &b)), &b, 1e-12);
    // A batch of A against one B broadcasts; a 1-D B is a vector.
    let batch = Tensor::stack(&[&a, &a.transpose(0, 1)], 0);
    assert_eq!(linalg::solve(&batch, &b).dims(), &[2, 3, 2]);
    assert_eq!(linalg::solve(&a, &t(&[1.0, 2.0, 3.0], &[3])).dims(), &[3]);
    // det: 4*(15+1) - 1*(2.5-1) + 2*(-0.5-3) = 55.5; a row swap flips the sign.
    close(&linalg::det(&a), &t(&[55.5], &[]), 1e-12);
    let swapped = Tensor::stack(&[&a.select(0, 1), &a.select(0, 0), &a.select(0, 2)], 0);
    close(&linalg::det(&swapped), &t(&[-55.5], &[]), 1e-12);
    close(
        &linalg::det(&t(&[1.0, 2.0, 2.0, 4.0], &[2, 2])),
        &t(&[0.0], &[]),
        0.0,
    );
    // float32 in, float32 out.
    let a32 = a.to_dtype(DType::F32);
    assert_eq!(linalg::inv(&a32).dtype(), DType::F32);
    close(
        &linalg::inv(&a32).to_dtype(DType::F64),
        &linalg::inv(&a),
        1e-6,
    );
}

#[test]
fn factorizations() {
    let a = t(
        &[
            2.0, -1.0, 0.5, 1.0, 3.0, 2.0, -1.0, 0.0, 1.5, 4.0, 1.0, -2.0,
        ],
        &[4, 3],
    );
    let (q, r) = linalg::qr(&a);
    assert_eq!((q.dims(), r.dims()), (&[4, 3][..], &[3, 3][..]));
    close(&q.matmul(&r), &a, 1e-12);
    close(
        &q.transpose(0, 1).matmul(&q),
        &Tensor::eye_dtype(3, 3, DType::F64),
        1e-12,
    );
    close(&r.tril(-1), &Tensor::zeros_dtype([3, 3], DType::F64), 0.0);
    // LAPACK's signs: the first diagonal element is -sign(a00) * |column 0|.
    assert!((r.to_vec::<f64>()[0] + 22.0f64.sqrt()).abs() < 1e-12);
    let wide = a.transpose(0, 1);
    let (q, r) = linalg::qr(&wide);
    assert_eq!((q.dims(), r.dims()), (&[3, 3][..], &[3, 4][..]));
    close(&q.matmul(&r), &wide, 1e-12);

    let spd = a.transpose(0, 1).matmul(&a);
    let l = linalg::cholesky(&spd);
    close(&l.matmul(&l.transpose(0, 1)), &spd, 1e-12);
    close(&l.triu(1), &Tensor::zeros_dtype([3, 3], DType::F64), 0.0);

    let (w, v) = linalg::eigh(&spd);
    let wv = w.to_vec::<f64>();
    assert!(wv[0] < wv[1] && wv[1] < wv[2]);
    close(
        &v.matmul(&w.diag_embed()).matmul(&v.transpose(0, 1)),
        &spd,
        1e-11,
    );
    close(&linalg::eigvalsh(&spd), &w, 0.0);
    // Singular values are the square roots of A^T A's eigenvalues, descending.
    let s = linalg::svdvals(&a);
    close(&s, &w.sqrt().flip(&[0]), 1e-12);
    close(&linalg::svdvals(&wide), &s, 1e-12);
    // Only the lower triangle is read.
    let upper_junk = spd.add(t(&[0.0, 9.0, 9.0, 0.0, 0.0, 9.0, 0.0, 0.0, 0.0], &[3, 3]));
    close(&linalg::eigvalsh(&upper_junk), &w, 1e-12);
    close(&linalg::cholesky(&upper_junk), &l, 1e-12);
}

#[test]
fn messages() {
    let singular = t(&[1.0, 2.0, 2.0, 4.0], &[2, 2]);
    assert_eq!(
        panic_message(|| {
            linalg::inv(&singular);
        }),
        "linalg.inv: The diagonal element 2 is zero, the inversion could not be completed because the input matrix is singular."
    );
    let batch = Tensor::stack(&[&Tensor::eye_dtype(2, 2, DType::F64), &singular], 0);
    assert_eq!(
        panic_message(|| {
            linalg::inv(&batch);
        }),
        "linalg.inv: (Batch element 1): The diagonal element 2 is zero, the inversion could not be completed because the input matrix is singular."
    );
    assert_eq!(
        panic_message(|| {
            linalg::inv(&Tensor::zeros_dtype([3, 4], DType::F64));
        }),
        "linalg.inv: A must be batches of square matrices, but they are 3 by 4 matrices"
    );
    assert_eq!(
        panic_message(|| {
            linalg::cholesky(&t(&[1.0, 2.0, 2.0, 1.0], &[2, 2]));
        }),
        "linalg.cholesky: The factorization could not be completed because the input is not positive-definite (the leading minor of order 2 is not positive-definite)."
    );
    assert_eq!(
        panic_message(|| {
            linalg::solve(&singular, &t(&[1.0, 1.0], &[2]));
        }),
        "torch.linalg.solve: The solver failed because the input matrix is singular."
    );
    assert_eq!(
        panic_message(|| {
            linalg::det(&t(&[1.0, 2.0], &[2]));
        }),
        "linalg.det: The input tensor A must have at least 2 dimensions."
    );
    assert_eq!(
        panic_message(|| {
            linalg::eigvalsh(&Tensor::zeros_dtype([2, 2], DType::I64));
        }),
        "linalg.eigvalsh: Expected a floating point or complex tensor as input. Got Long"
    );
}
