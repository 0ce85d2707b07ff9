//! Dense linear algebra on batches of small matrices (`torch.linalg`): each matrix is copied to
//! float64 and factored there, results rounded once to the element type. LU with partial
//! pivoting (LAPACK's `getrf`: inverse, solve, determinant), Cholesky (`potrf`, lower), Householder
//! QR with `geqrf`'s signs (`beta = -sign(alpha) * norm`) and `orgqr`'s Q, and the cyclic Jacobi
//! eigen-solver for symmetric matrices (the lower triangle read, eigenvalues ascending).

use super::alloc;
use crate::backend::LinalgOp;
use crate::dtype::Float;
use crate::shape::Layout;
use crate::storage::CpuStorage;

/// The CPU side of `BackendStorage::linalg`: the dtype match, then [`linalg`].
pub(crate) fn linalg_storage(
    a: &CpuStorage,
    layout: &Layout,
    op: LinalgOp,
    rhs: Option<(&CpuStorage, &Layout)>,
) -> (Vec<CpuStorage>, Vec<i64>) {
    let b = rhs.map(|(s, l)| (crate::backend::BackendStorage::to_vec::<f64>(s, l), l));
    let b = b.as_ref().map(|(v, l)| (v.as_slice(), *l));
    let x = crate::backend::BackendStorage::to_vec::<f64>(a, layout);
    match a {
        CpuStorage::F32(_) => {
            let (o, i) = linalg::<f32>(&x, layout, op, b);
            (o.into_iter().map(CpuStorage::F32).collect(), i)
        }
        CpuStorage::F64(_) => {
            let (o, i) = linalg::<f64>(&x, layout, op, b);
            (o.into_iter().map(CpuStorage::F64).collect(), i)
        }
        other => panic!(
            "linalg: Expected a floating point or complex tensor as input. Got {:?}",
            crate::backend::BackendStorage::dtype(other)
        ),
    }
}

/// Rounds float64 results to `T` in a buffer of the allocator.
fn round<T: Float>(v: &[f64]) -> Vec<T> {
    let mut out = alloc::buffer(v.len());
    out.extend(v.iter().map(|&x| T::from_f64(x)));
    out
}

/// `op` over the matrices of `x` (row-major float64 of `layout`'s shape, `[..., m, n]`); `rhs`
/// is row-major `[..., n, k]` with the same batch for `Solve`. Outputs as `BackendStorage::linalg`
/// describes; `info` per matrix is LAPACK's (0: success, else the 1-based failing index).
pub(crate) fn linalg<T: Float>(
    x: &[f64],
    layout: &Layout,
    op: LinalgOp,
    rhs: Option<(&[f64], &Layout)>,
) -> (Vec<Vec<T>>, Vec<i64>) {
    let d = layout.dims();
    let (m, n) = (d[d.len() - 2], d[d.len() - 1]);
    let batch: usize = d[..d.len() - 2].iter().product();
    let mut info = vec![0i64; batch];
    let mats: Vec<&[f64]> = if m * n == 0 {
        vec![&[][..]; batch]
    } else {
        x.chunks(m * n).collect()
    };
    let mut outs: Vec<Vec<f64>> = Vec::new();
    match op {
        LinalgOp::Inv | LinalgOp::Det | LinalgOp::Solve => {
            let k = rhs.map(|(_, l)| *l.dims().last().unwrap()).unwrap_or(n);
            let mut res = Vec::with_capacity(batch * if op == LinalgOp::Det { 1 } else { n * k });
            for (bi, a) in mats.iter().enumerate() {
                let mut lu = a.to_vec();
                let (piv, sign, inf) = lu_factor(&mut lu, n);
                info[bi] = inf;
                match op {
                    LinalgOp::Det => {
                        res.push(sign * (0..n).map(|i| lu[i * n + i]).product::<f64>());
                    }
                    _ if inf != 0 => res.extend(std::iter::repeat_n(f64::NAN, n * k)),
                    LinalgOp::Inv => {
                        let mut eye = vec![0.0; n * n];
                        (0..n).for_each(|i| eye[i * n + i] = 1.0);
                        res.extend(lu_solve(&lu, &piv, n, &eye, n));
                    }
                    _ => {
                        let b = &rhs.expect("solve's right-hand side").0[bi * n * k..][..n * k];
                        res.extend(lu_solve(&lu, &piv, n, b, k));
                    }
                }
            }
            outs.push(res);
        }
        LinalgOp::Cholesky => {
            let mut res = Vec::with_capacity(batch * n * n);
            for (bi, a) in mats.iter().enumerate() {
                let (l, inf) = cholesky(a, n);
                info[bi] = inf;
                res.extend(l);
            }
            outs.push(res);
        }
        LinalgOp::Qr => {
            let k = m.min(n);
            let (mut qs, mut rs) = (Vec::with_capacity(batch * m * k), Vec::new());
            for a in &mats {
                let (q, r) = householder_qr(a, m, n);
                qs.extend(q);
                rs.extend(r);
            }
            outs.push(qs);
            outs.push(rs);
        }
        LinalgOp::Eigh => {
            let (mut ws, mut vs) = (Vec::with_capacity(batch * n), Vec::new());
            for a in &mats {
                let (w, v) = jacobi_eigh(a, n);
                ws.extend(w);
                vs.extend(v);
            }
            outs.push(ws);
            outs.push(vs);
        }
    }
    (outs.iter().map(|v| round::<T>(v)).collect(), info)
}

/// In-place LU with partial pivoting of an `n x n` row-major matrix: the row swaps, the
/// permutation's sign and LAPACK's `info` (the first zero pivot, 1-based; the factorization
/// goes on past it as `getrf` does).
fn lu_factor(a: &mut [f64], n: usize) -> (Vec<usize>, f64, i64) {
    let (mut piv, mut sign, mut info) = (Vec::with_capacity(n), 1.0, 0);
    for k in 0..n {
        let p = (k..n)
            .max_by(|&i, &j| a[i * n + k].abs().total_cmp(&a[j * n + k].abs()))
            .unwrap_or(k);
        piv.push(p);
        if p != k {
            for j in 0..n {
                a.swap(k * n + j, p * n + j);
            }
            sign = -sign;
        }
        let pivot = a[k * n + k];
        if pivot == 0.0 {
            if info == 0 {
                info = k as i64 + 1;
            }
            continue;
        }
        for i in k + 1..n {
            let l = a[i * n + k] / pivot;
            a[i * n + k] = l;
            for j in k + 1..n {
                a[i * n + j] -= l * a[k * n + j];
            }
        }
    }
    (piv, sign, info)
}

/// Solves `A X = B` (`B` row-major `n x k`) from [`lu_factor`]'s factors.
fn lu_solve(lu: &[f64], piv: &[usize], n: usize, b: &[f64], k: usize) -> Vec<f64> {
    let mut x = b.to_vec();
    for (i, &p) in piv.iter().enumerate() {
        if p != i {
            for j in 0..k {
                x.swap(i * k + j, p * k + j);
            }
        }
    }
    for i in 0..n {
        for r in 0..i {
            let l = lu[i * n + r];
            for j in 0..k {
                x[i * k + j] -= l * x[r * k + j];
            }
        }
    }
    for i in (0..n).rev() {
        for r in i + 1..n {
            let u = lu[i * n + r];
            for j in 0..k {
                x[i * k + j] -= u * x[r * k + j];
            }
        }
        let d = lu[i * n + i];
        for j in 0..k {
            x[i * k + j] /= d;
        }
    }
    x
}

/// The lower Cholesky factor of the lower triangle of `a` and LAPACK's `info` (the order of the
/// first leading minor that is not positive-definite, 1-based; the factor is then incomplete).
fn cholesky(a: &[f64], n: usize) -> (Vec<f64>, i64) {
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let s = a[j * n + j] - (0..j).map(|k| l[j * n + k] * l[j * n + k]).sum::<f64>();
        if s.is_nan() || s <= 0.0 {
            return (l, j as i64 + 1);
        }
        let djj = s.sqrt();
        l[j * n + j] = djj;
        for i in j + 1..n {
            let s = a[i * n + j] - (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum::<f64>();
            l[i * n + j] = s / djj;
        }
    }
    (l, 0)
}

/// Householder QR of an `m x n` matrix, reduced: Q (`m x k`) and R (`k x n`), `k = min(m, n)`,
/// with LAPACK's reflectors (`dlarfg`: no reflection when the column below the diagonal is zero,
/// else `beta = -sign(alpha) * hypot(alpha, norm)`).
fn householder_qr(a: &[f64], m: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    let k = m.min(n);
    let mut r = a.to_vec();
    let mut vs: Vec<(Vec<f64>, f64)> = Vec::with_capacity(k);
    for j in 0..k {
        let alpha = r[j * n + j];
        let xnorm = (j + 1..m).map(|i| r[i * n + j].powi(2)).sum::<f64>().sqrt();
        let mut v = vec![0.0; m - j];
        v[0] = 1.0;
        if xnorm == 0.0 {
            vs.push((v, 0.0));
            continue;
        }
        let beta = -alpha.signum() * alpha.hypot(xnorm);
        let tau = (beta - alpha) / beta;
        for i in j + 1..m {
            v[i - j] = r[i * n + j] / (alpha - beta);
        }
        r[j * n + j] = beta;
        for i in j + 1..m {
            r[i * n + j] = 0.0;
        }
        for c in j + 1..n {
            let s: f64 = (j..m).map(|i| v[i - j] * r[i * n + c]).sum::<f64>() * tau;
            for i in j..m {
                r[i * n + c] -= s * v[i - j];
            }
        }
        vs.push((v, tau));
    }
    // Q = H_1 ... H_k applied to the first k columns of the identity, last reflector first.
    let mut q = vec![0.0; m * k];
    (0..k).for_each(|i| q[i * k + i] = 1.0);
    for (j, (v, tau)) in vs.iter().enumerate().rev() {
        for c in 0..k {
            let s: f64 = (j..m).map(|i| v[i - j] * q[i * k + c]).sum::<f64>() * tau;
            for i in j..m {
                q[i * k + c] -= s * v[i - j];
            }
        }
    }
    let mut rk = vec![0.0; k * n];
    for i in 0..k {
        for c in i..n {
            rk[i * n + c] = r[i * n + c];
        }
    }
    (q, rk)
}

/// Eigenvalues (ascending) and eigenvectors (columns, each with its largest component
/// positive) of the symmetric matrix whose lower triangle is `a`'s, by cyclic Jacobi rotations.
fn jacobi_eigh(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut s = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            s[i * n + j] = a[i * n + j];
            s[j * n + i] = a[i * n + j];
        }
    }
    let mut v = vec![0.0; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    let total: f64 = s.iter().map(|x| x * x).sum();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| s[i * n + j].powi(2))
            .sum();
        if off <= 1e-36 * total || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = s[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (s[q * n + q] - s[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let sn = t * c;
                for r in 0..n {
                    let (x, y) = (s[r * n + p], s[r * n + q]);
                    s[r * n + p] = c * x - sn * y;
                    s[r * n + q] = sn * x + c * y;
                }
                for r in 0..n {
                    let (x, y) = (s[p * n + r], s[q * n + r]);
                    s[p * n + r] = c * x - sn * y;
                    s[q * n + r] = sn * x + c * y;
                }
                s[p * n + q] = 0.0;
                s[q * n + p] = 0.0;
                for r in 0..n {
                    let (x, y) = (v[r * n + p], v[r * n + q]);
                    v[r * n + p] = c * x - sn * y;
                    v[r * n + q] = sn * x + c * y;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| s[i * n + i].total_cmp(&s[j * n + j]));
    let w = order.iter().map(|&i| s[i * n + i]).collect();
    let mut vec = vec![0.0; n * n];
    for (c, &src) in order.iter().enumerate() {
        let big = (0..n)
            .max_by(|&i, &j| v[i * n + src].abs().total_cmp(&v[j * n + src].abs()))
            .map_or(1.0, |i| v[i * n + src].signum());
        for r in 0..n {
            vec[r * n + c] = v[r * n + src] * big;
        }
    }
    (w, vec)
}
