//! Finite-difference gradient checks (and second-order checks) of the ops of issue 10's
//! `ops_breadth` set, on float64 inputs, with `flambeau::autograd::gradcheck` /
//! `gradgradcheck` and PyTorch's default tolerances. Same scheme as `tests/gradcheck.rs`
//! (contiguous and non-contiguous inputs, inputs moved away from kinks), kept apart so that
//! file stays within its size.
//!
//! Run: `cargo test --release --test gradcheck_breadth`

use flambeau::autograd::{GradcheckOptions, gradcheck, gradgradcheck};
use flambeau::{DType, Generator, Tensor, no_grad};
use std::panic::{AssertUnwindSafe, catch_unwind};

const F64: DType = DType::F64;

type Unary = fn(&Tensor) -> Tensor;
type Domain = fn(Tensor) -> Tensor;

/// The checks of one family; [`Checks::finish`] fails with every failing label.
struct Checks {
    family: &'static str,
    calls: usize,
    failures: Vec<String>,
}

fn run_check(check: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(check)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panicked: {msg}"))
        }
    }
}

impl Checks {
    fn new(family: &'static str) -> Checks {
        Checks {
            family,
            calls: 0,
            failures: Vec::new(),
        }
    }

    /// Gradchecks and gradgradchecks `f` at `inputs`.
    fn check(&mut self, label: &str, f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) {
        let opts = GradcheckOptions::default();
        self.calls += 1;
        if let Err(e) = run_check(|| gradcheck(&f, inputs, opts)) {
            self.failures.push(format!("{label}: {e}"));
            return;
        }
        let seed = self.calls as u64;
        if let Err(e) = run_check(|| gradgradcheck(&f, inputs, seed, opts)) {
            self.failures.push(format!("{label} (gradgradcheck): {e}"));
        }
    }

    fn finish(self) {
        println!(
            "{}: {} gradchecks and gradgradchecks",
            self.family, self.calls
        );
        assert!(
            self.failures.is_empty(),
            "{} gradcheck failure(s) in {}:\n\n{}",
            self.failures.len(),
            self.family,
            self.failures.join("\n\n")
        );
    }
}

fn gen_seeded(seed: u64) -> Generator {
    Generator::new().manual_seed(seed)
}

fn data(g: &Generator, shape: &[usize]) -> Tensor {
    Tensor::randn_gen(shape, F64, g)
}

fn randn(g: &Generator, shape: &[usize]) -> Tensor {
    data(g, shape).requires_grad_(true)
}

/// A transposed (non-contiguous) leaf of `shape`.
fn randn_t(g: &Generator, shape: &[usize]) -> Tensor {
    let base: Vec<usize> = shape.iter().rev().copied().collect();
    let reverse: Vec<i64> = (0..shape.len() as i64).rev().collect();
    data(g, &base).permute(reverse).requires_grad_(true)
}

/// Rewrites the values of `t` in place, keeping its layout.
fn map(t: Tensor, f: impl Fn(f64) -> f64) -> Tensor {
    let values: Vec<f64> = t.to_vec::<f64>().into_iter().map(f).collect();
    no_grad(|| t.copy_(&Tensor::from_vec(values, t.dims())));
    t
}

/// Values at least 0.1 away from each of `kinks`.
fn away_from(t: Tensor, kinks: &[f64]) -> Tensor {
    map(t, |mut x| {
        for &k in kinks {
            if (x - k).abs() < 0.1 {
                x = k + 0.1f64.copysign(x - k);
            }
        }
        x
    })
}

fn same(t: Tensor) -> Tensor {
    t
}

fn positive(t: Tensor) -> Tensor {
    map(t, |x| x.abs() + 0.5)
}

fn check_unary_ops(c: &mut Checks, g: &Generator, ops: &[(&str, Unary, Domain)]) {
    for &(name, op, domain) in ops {
        let f = move |v: &[Tensor]| op(&v[0]);
        c.check(
            &format!("{name} contiguous"),
            f,
            &[domain(randn(g, &[3, 4]))],
        );
        c.check(
            &format!("{name} transposed"),
            f,
            &[domain(randn_t(g, &[3, 4]))],
        );
        c.check(&format!("{name} 0-dim"), f, &[domain(randn(g, &[]))]);
    }
}

#[test]
fn math_more() {
    let g = gen_seeded(101);
    let mut c = Checks::new("math_more");
    let ops: [(&str, Unary, Domain); 12] = [
        ("erf", |x| x.erf(), same),
        ("exp2", |x| x.exp2(), same),
        ("expm1", |x| x.expm1(), same),
        ("log2", |x| x.log2(), positive),
        ("log10", |x| x.log10(), positive),
        ("tan", |x| x.tan(), |t| map(t, |x| x.tanh())),
        ("asin", |x| x.asin(), |t| map(t, |x| x.tanh() * 0.8)),
        ("acos", |x| x.acos(), |t| map(t, |x| x.tanh() * 0.8)),
        ("atan", |x| x.atan(), same),
        // away from the integers, where frac jumps
        (
            "frac",
            |x| x.frac(),
            |t| map(t, |x| x.trunc() + 0.5 * x.fract().signum()),
        ),
        (
            "fmod by a number",
            |x| x.fmod(1.5),
            |t| away_from(t, &[-3.0, -1.5, 0.0, 1.5, 3.0]),
        ),
        (
            "remainder by a number",
            |x| x.remainder(1.5),
            |t| away_from(t, &[-3.0, -1.5, 0.0, 1.5, 3.0]),
        ),
    ];
    check_unary_ops(&mut c, &g, &ops);
    let (a, b) = (randn(&g, &[3, 4]), randn(&g, &[4]));
    c.check(
        "atan2 broadcast",
        |v| v[0].atan2(&v[1]),
        &[a.clone(), b.clone()],
    );
    c.check(
        "fmod by a tensor",
        |v| v[0].fmod(&v[1]),
        &[
            map(randn(&g, &[3, 4]), |x| x.abs() + 0.3),
            map(randn(&g, &[4]), |x| x.abs() + 2.0),
        ],
    );
    c.check(
        "remainder by a tensor",
        |v| v[0].remainder(&v[1]),
        &[
            map(randn(&g, &[3, 4]), |x| x.abs() + 0.3),
            map(randn(&g, &[4]), |x| x.abs() + 2.0),
        ],
    );
    c.check(
        "lerp",
        |v| v[0].lerp(&v[1], 0.3),
        &[randn(&g, &[3, 4]), randn(&g, &[4])],
    );
    c.check(
        "lerp weight 0.7",
        |v| v[0].lerp(&v[1], 0.7),
        &[randn(&g, &[3, 4]), randn_t(&g, &[3, 4])],
    );
    c.check(
        "addcmul",
        |v| v[0].addcmul(&v[1], &v[2], 0.5),
        &[randn(&g, &[3, 4]), randn_t(&g, &[3, 4]), randn(&g, &[4])],
    );
    c.check(
        "addcdiv",
        |v| v[0].addcdiv(&v[1], &v[2], -2.0),
        &[
            randn(&g, &[3, 4]),
            randn(&g, &[3, 4]),
            positive(randn(&g, &[3, 4])),
        ],
    );
    // bounds apart from x by more than the finite-difference step
    let x = map(randn(&g, &[3, 4]), |x| (x * 4.0).round() / 2.0 + 0.25);
    let lo = map(randn(&g, &[4]), |x| (x * 4.0).round() / 2.0);
    let hi = map(randn(&g, &[4]), |x| (x * 4.0).round() / 2.0 + 1.0);
    c.check(
        "clamp tensor bounds",
        |v| v[0].clamp_tensor(Some(&v[1]), Some(&v[2])),
        &[x.clone(), lo.clone(), hi.clone()],
    );
    c.check(
        "clamp tensor min",
        |v| v[0].clamp_tensor(Some(&v[1]), None),
        &[x.clone(), lo],
    );
    c.check(
        "clamp tensor max",
        |v| v[0].clamp_tensor(None, Some(&v[1])),
        &[x, hi],
    );
    c.check(
        "nan_to_num",
        |v| v[0].nan_to_num(0.0, None, None),
        &[randn(&g, &[3, 4])],
    );
    c.finish();
}

#[test]
fn activations_more() {
    let g = gen_seeded(102);
    let mut c = Checks::new("activations_more");
    let ops: [(&str, Unary, Domain); 9] = [
        (
            "hardtanh",
            |x| x.hardtanh(-0.5, 0.5),
            |t| away_from(t, &[-0.5, 0.5]),
        ),
        (
            "relu6",
            |x| x.mul(4.0).relu6(),
            |t| away_from(t, &[0.0, 1.5]),
        ),
        ("selu", |x| x.selu(), |t| away_from(t, &[0.0])),
        ("celu", |x| x.celu(0.5), |t| away_from(t, &[0.0])),
        ("mish", |x| x.mish(), same),
        (
            "hardswish",
            |x| x.mul(3.0).hardswish(),
            |t| away_from(t, &[-1.0, 1.0]),
        ),
        (
            "hardsigmoid",
            |x| x.mul(3.0).hardsigmoid(),
            |t| away_from(t, &[-1.0, 1.0]),
        ),
        ("softsign", |x| x.softsign(), |t| away_from(t, &[0.0])),
        ("elu", |x| x.elu(1.0), |t| away_from(t, &[0.0])),
    ];
    check_unary_ops(&mut c, &g, &ops);
    c.check("glu dim 0", |v| v[0].glu(0), &[randn(&g, &[4, 3])]);
    c.check("glu transposed", |v| v[0].glu(-1), &[randn_t(&g, &[3, 4])]);
    let x = away_from(randn(&g, &[2, 3, 4]), &[0.0]);
    c.check(
        "prelu per channel",
        |v| v[0].prelu(&v[1]),
        &[x.clone(), randn(&g, &[3])],
    );
    c.check(
        "prelu one weight",
        |v| v[0].prelu(&v[1]),
        &[x, randn(&g, &[1])],
    );
    c.finish();
}

#[test]
fn shape_and_products() {
    let g = gen_seeded(103);
    let mut c = Checks::new("shape_and_products");
    c.check("flip", |v| v[0].flip(&[0, -1]), &[randn_t(&g, &[3, 4])]);
    c.check(
        "roll",
        |v| v[0].roll(&[2, -1], &[1, 0]),
        &[randn(&g, &[3, 4])],
    );
    c.check(
        "roll flat",
        |v| v[0].roll(&[5], &[]),
        &[randn_t(&g, &[3, 4])],
    );
    c.check("tril", |v| v[0].tril(0), &[randn(&g, &[2, 3, 4])]);
    c.check("triu", |v| v[0].triu(1), &[randn_t(&g, &[3, 4])]);
    c.check("repeat", |v| v[0].repeat(&[2, 1, 3]), &[randn(&g, &[3, 4])]);
    c.check(
        "repeat_interleave",
        |v| v[0].repeat_interleave(2, Some(0)),
        &[randn(&g, &[3, 4])],
    );
    c.check(
        "repeat_interleave flat",
        |v| v[0].repeat_interleave(3, None),
        &[randn_t(&g, &[3, 4])],
    );
    c.check(
        "outer",
        |v| v[0].outer(&v[1]),
        &[randn(&g, &[3]), randn(&g, &[5])],
    );
    c.check(
        "baddbmm",
        |v| Tensor::baddbmm(&v[0], &v[1], &v[2], 0.5, 2.0),
        &[
            randn(&g, &[3, 4]),
            randn(&g, &[2, 3, 5]),
            randn(&g, &[2, 5, 4]),
        ],
    );
    c.check(
        "addmm beta alpha",
        |v| Tensor::addmm_scaled(&v[0], &v[1], &v[2], 0.3, 1.5),
        &[randn(&g, &[4]), randn(&g, &[3, 5]), randn_t(&g, &[5, 4])],
    );
    c.check("cumsum", |v| v[0].cumsum(1), &[randn_t(&g, &[3, 4])]);
    c.check("cumsum dim 0", |v| v[0].cumsum(0), &[randn(&g, &[3, 4])]);
    c.check("cumprod", |v| v[0].cumprod(1), &[randn(&g, &[3, 4])]);
    c.check("prod", |v| v[0].prod(), &[randn(&g, &[3, 4])]);
    c.check(
        "prod dim",
        |v| v[0].prod_dim(1, false),
        &[randn_t(&g, &[3, 4])],
    );
    c.check(
        "prod dim keepdim",
        |v| v[0].prod_dim(0, true),
        &[randn(&g, &[3, 4])],
    );
    // One zero: the safe-zeros formulas.
    let z = map(randn(&g, &[3, 4]), |x| if x.abs() < 0.3 { 0.0 } else { x });
    let one_zero = map(randn(&g, &[3, 4]), |x| x);
    no_grad(|| one_zero.select(0, 1).select(0, 2).fill_(0.0));
    c.check(
        "cumprod with a zero",
        |v| v[0].cumprod(1),
        std::slice::from_ref(&one_zero),
    );
    c.check(
        "prod with a zero",
        |v| v[0].prod(),
        std::slice::from_ref(&one_zero),
    );
    c.check(
        "prod dim with a zero",
        |v| v[0].prod_dim(1, false),
        &[one_zero],
    );
    c.check("prod dim with zeros", |v| v[0].prod_dim(0, false), &[z]);
    c.finish();
}

#[test]
fn values_and_messages() {
    let t = Tensor::from_slice(&[-3.5f64, -1.0, 0.0, 2.5, 7.0], &[5]);
    assert_eq!(
        t.floor_divide(2.0).to_vec::<f64>(),
        vec![-2.0, -1.0, 0.0, 1.0, 3.0]
    );
    assert_eq!(
        t.remainder(-2.0).to_vec::<f64>(),
        vec![-1.5, -1.0, 0.0, -1.5, -1.0]
    );
    assert_eq!(
        t.fmod(-2.0).to_vec::<f64>(),
        vec![-1.5, -1.0, 0.0, 0.5, 1.0]
    );
    let i = Tensor::from_slice(&[-7i64, 7], &[2]);
    assert_eq!(i.remainder(3).to_vec::<i64>(), vec![2, 1]);
    assert_eq!(i.fmod(3).to_vec::<i64>(), vec![-1, 1]);
    assert_eq!(i.cumsum(0).to_vec::<i64>(), vec![-7, 0]);
    assert_eq!(i.prod().to_vec::<i64>(), vec![-49]);
    let r = catch_unwind(|| Tensor::from_slice(&[1i64], &[1]).floor_divide(0));
    assert!(r.is_err());
    let names = |t: &Tensor| t.grad_fn().map(|f| f.name()).unwrap_or_default();
    let x = randn(&gen_seeded(9), &[2, 4]);
    for (want, y) in [
        ("ErfBackward0", x.erf()),
        ("HardtanhBackward0", x.relu6()),
        ("EluBackward0", x.selu()),
        ("CeluBackward0", x.celu(1.0)),
        ("GluBackward0", x.glu(-1)),
        ("CumsumBackward0", x.cumsum(1)),
        ("ProdBackward1", x.prod_dim(1, false)),
        ("RepeatBackward0", x.repeat(&[1, 2])),
        ("FlipBackward0", x.flip(&[0])),
        ("TrilBackward0", x.tril(0)),
        ("LerpBackward0", x.lerp(&x, 0.2)),
        ("ClampBackward0", x.clamp_tensor(Some(&x), None)),
    ] {
        assert_eq!(names(&y), want);
    }
}

#[test]
fn activation_modules() {
    use flambeau::nn::{self, Forward, Module};
    let reprs: Vec<(String, &str)> = vec![
        (
            nn::Hardtanh::new().repr(),
            "Hardtanh(min_val=-1.0, max_val=1.0)",
        ),
        (
            nn::Hardtanh::with_bounds(-0.5, 2.0).repr(),
            "Hardtanh(min_val=-0.5, max_val=2.0)",
        ),
        (nn::ReLU6::new().repr(), "ReLU6()"),
        (nn::ELU::new().repr(), "ELU(alpha=1.0)"),
        (nn::SELU::new().repr(), "SELU()"),
        (nn::CELU::with_alpha(0.5).repr(), "CELU(alpha=0.5)"),
        (nn::Mish::new().repr(), "Mish()"),
        (nn::Hardswish::new().repr(), "Hardswish()"),
        (nn::Hardsigmoid::new().repr(), "Hardsigmoid()"),
        (nn::LogSigmoid::new().repr(), "LogSigmoid()"),
        (nn::Softsign::new().repr(), "Softsign()"),
        (nn::GLU::new().repr(), "GLU(dim=-1)"),
        (
            nn::PReLU::with_options(3, 0.1).repr(),
            "PReLU(num_parameters=3)",
        ),
    ];
    for (got, want) in reprs {
        assert_eq!(got, want);
    }
    let p = nn::PReLU::new();
    let keys: Vec<String> = p.named_parameters().into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, vec!["weight".to_string()]);
    let x = Tensor::from_slice(&[-2.0f32, 2.0], &[1, 2]);
    assert_eq!(p.forward(&x).to_vec::<f32>(), vec![-0.5, 2.0]);
    let r = catch_unwind(|| nn::Hardtanh::with_bounds(1.0, 0.0));
    assert!(r.is_err());
}

/// Issue 11: advanced indexing, `index_put` (duplicates with `accumulate`), `masked_scatter`
/// and `scatter_reduce`.
#[test]
fn indexing_advanced() {
    let g = gen_seeded(11);
    let mut c = Checks::new("indexing_advanced");
    let i = Tensor::from_vec(vec![2i64, 0, 2], [3]);
    let j = Tensor::from_vec(vec![1i64, -1, 0], [3]);
    c.check(
        "a[i]",
        |v| v[0].index_tensors(&[Some(Tensor::from_vec(vec![2i64, 0, 2], [3]))]),
        &[randn(&g, &[3, 4])],
    );
    {
        let (i, j) = (i.clone(), j.clone());
        c.check(
            "a[i, j]",
            move |v| v[0].index_tensors(&[Some(i.clone()), Some(j.clone())]),
            &[randn_t(&g, &[3, 4])],
        );
    }
    {
        let (i, j) = (i.clone(), j.clone());
        c.check(
            "a[i, :, j] (separated: broadcast dims first)",
            move |v| v[0].index_tensors(&[Some(i.clone()), None, Some(j.clone())]),
            &[randn(&g, &[3, 2, 4])],
        );
    }
    let m = Tensor::from_vec(vec![true, false, true, true, false, true], [2, 3]);
    {
        let m = m.clone();
        c.check(
            "a[m]",
            move |v| v[0].index_tensors(&[Some(m.clone())]),
            &[randn(&g, &[2, 3, 2])],
        );
    }
    for acc in [false, true] {
        let idx = if acc {
            i.clone()
        } else {
            Tensor::from_vec(vec![2i64, 0], [2])
        };
        let rows = idx.numel();
        c.check(
            &format!("index_put accumulate={acc}"),
            move |v| v[0].index_put(&[Some(idx.clone())], &v[1], acc),
            &[randn(&g, &[3, 4]), randn(&g, &[rows, 4])],
        );
    }
    {
        let (i, j) = (i.clone(), j.clone());
        c.check(
            "index_put two indices, broadcast values, accumulate",
            move |v| v[0].index_put(&[Some(i.clone()), Some(j.clone())], &v[1], true),
            &[randn(&g, &[3, 4]), randn(&g, &[1])],
        );
    }
    {
        let m = m.clone();
        c.check(
            "index_put_ with a mask (on a clone)",
            move |v| {
                let t = v[0].clone_tensor();
                t.index_put_(&[Some(m.clone())], &v[1], false);
                t
            },
            &[randn(&g, &[2, 3]), randn(&g, &[4])],
        );
    }
    {
        let m = Tensor::from_vec(vec![false, true, true, false, true, false], [2, 3]);
        c.check(
            "masked_scatter",
            move |v| v[0].masked_scatter(&m, &v[1]),
            &[randn(&g, &[2, 3]), randn(&g, &[5])],
        );
        let m1 = Tensor::from_vec(vec![true, false, true], [3]);
        c.check(
            "masked_scatter broadcast mask",
            move |v| v[0].masked_scatter(&m1, &v[1]),
            &[randn(&g, &[2, 3]), randn(&g, &[2, 3])],
        );
    }
    let si = Tensor::from_vec(vec![1i64, 2, 2, 0, 2, 4, 1, 4, 2], [3, 3]);
    for reduce in ["sum", "mean", "amax", "amin", "prod"] {
        for include_self in [true, false] {
            let si = si.clone();
            let dom = if reduce == "prod" { positive } else { same };
            c.check(
                &format!("scatter_reduce {reduce} include_self={include_self}"),
                move |v| v[0].scatter_reduce(1, &si, &v[1], reduce, include_self),
                &[dom(randn(&g, &[3, 5])), dom(randn(&g, &[3, 3]))],
            );
        }
    }
    c.finish();
}

/// `a + 3 I`: well away from singular for a standard normal 3 x 3 `a`.
fn shifted(a: &Tensor) -> Tensor {
    let n = *a.dims().last().unwrap();
    a.add(Tensor::eye_dtype(n, n, F64).mul(3.0))
}

#[test]
fn linalg() {
    use flambeau::linalg;
    let g = gen_seeded(104);
    let mut c = Checks::new("linalg");
    let sym = |a: &Tensor| a.add(a.transpose(-2, -1));
    let spd = |a: &Tensor| {
        let n = *a.dims().last().unwrap();
        a.matmul(&a.transpose(-2, -1))
            .add(Tensor::eye_dtype(n, n, F64))
    };
    c.check(
        "inv",
        |v| linalg::inv(&shifted(&v[0])),
        &[randn(&g, &[3, 3])],
    );
    c.check(
        "inv transposed",
        |v| linalg::inv(&shifted(&v[0])),
        &[randn_t(&g, &[3, 3])],
    );
    c.check(
        "inv batched",
        |v| linalg::inv(&shifted(&v[0])),
        &[randn(&g, &[2, 3, 3])],
    );
    c.check(
        "solve",
        |v| linalg::solve(&shifted(&v[0]), &v[1]),
        &[randn(&g, &[3, 3]), randn(&g, &[3, 2])],
    );
    c.check(
        "solve vector",
        |v| linalg::solve(&shifted(&v[0]), &v[1]),
        &[randn(&g, &[3, 3]), randn(&g, &[3])],
    );
    c.check(
        "solve broadcast",
        |v| linalg::solve(&shifted(&v[0]), &v[1]),
        &[randn(&g, &[2, 3, 3]), randn_t(&g, &[3, 2])],
    );
    c.check(
        "det",
        |v| linalg::det(&shifted(&v[0])),
        &[randn(&g, &[3, 3])],
    );
    c.check(
        "det batched",
        |v| linalg::det(&shifted(&v[0])),
        &[randn(&g, &[2, 3, 3])],
    );
    c.check(
        "cholesky",
        |v| linalg::cholesky(&spd(&v[0])),
        &[randn(&g, &[3, 3])],
    );
    c.check(
        "cholesky batched",
        |v| linalg::cholesky(&spd(&v[0])),
        &[randn(&g, &[2, 3, 3])],
    );
    c.check("qr R tall", |v| linalg::qr(&v[0]).1, &[randn(&g, &[4, 3])]);
    c.check("qr Q tall", |v| linalg::qr(&v[0]).0, &[randn(&g, &[4, 3])]);
    c.check(
        "qr R square",
        |v| linalg::qr(&v[0]).1,
        &[randn_t(&g, &[3, 3])],
    );
    c.check("qr R wide", |v| linalg::qr(&v[0]).1, &[randn(&g, &[2, 4])]);
    c.check("qr Q wide", |v| linalg::qr(&v[0]).0, &[randn(&g, &[2, 4])]);
    c.check(
        "eigvalsh",
        |v| linalg::eigvalsh(&sym(&v[0])),
        &[randn(&g, &[3, 3])],
    );
    c.check(
        "eigvalsh batched",
        |v| linalg::eigvalsh(&sym(&v[0])),
        &[randn(&g, &[2, 3, 3])],
    );
    c.check(
        "eigh vectors",
        |v| linalg::eigh(&sym(&v[0])).1,
        &[randn(&g, &[3, 3])],
    );
    c.check(
        "svdvals tall",
        |v| linalg::svdvals(&v[0]),
        &[randn(&g, &[4, 3])],
    );
    c.check(
        "svdvals wide",
        |v| linalg::svdvals(&v[0]),
        &[randn_t(&g, &[2, 4])],
    );
    c.finish();
}

/// Sorting and selection (distinct values, so the selected positions are stable under the
/// finite-difference steps), `logcumsumexp`, and `einsum`.
#[test]
fn sort_select_scan_einsum() {
    let g = gen_seeded(12);
    let mut c = Checks::new("sort_select_scan_einsum");
    c.check(
        "sort dim=1",
        |v| v[0].sort(1, false).0,
        &[randn(&g, &[3, 5])],
    );
    c.check(
        "sort descending dim=0",
        |v| v[0].sort(0, true).0,
        &[randn_t(&g, &[4, 3])],
    );
    c.check("msort", |v| v[0].msort(), &[randn(&g, &[4, 2])]);
    c.check(
        "topk largest",
        |v| v[0].topk(2, -1, true).0,
        &[randn(&g, &[3, 5])],
    );
    c.check(
        "topk smallest dim=0",
        |v| v[0].topk(2, 0, false).0,
        &[randn(&g, &[4, 3])],
    );
    c.check(
        "kthvalue",
        |v| v[0].kthvalue(2, 1, false).0,
        &[randn(&g, &[3, 5])],
    );
    c.check(
        "kthvalue keepdim",
        |v| v[0].kthvalue(3, 0, true).0,
        &[randn(&g, &[4, 3])],
    );
    c.check(
        "median dim",
        |v| v[0].median_dim(1, false).0,
        &[randn(&g, &[3, 5])],
    );
    c.check(
        "nanmedian dim",
        |v| v[0].nanmedian_dim(0, true).0,
        &[randn(&g, &[5, 2])],
    );
    c.check("median all", |v| v[0].median(), &[randn(&g, &[3, 3])]);
    c.check("nanmedian all", |v| v[0].nanmedian(), &[randn(&g, &[2, 3])]);
    c.check(
        "logcumsumexp dim=1",
        |v| v[0].logcumsumexp(1),
        &[randn(&g, &[3, 4])],
    );
    c.check(
        "logcumsumexp dim=0",
        |v| v[0].logcumsumexp(0),
        &[randn_t(&g, &[4, 3])],
    );
    c.check(
        "einsum bij,bjk->bik",
        |v| Tensor::einsum("bij,bjk->bik", &[&v[0], &v[1]]),
        &[randn(&g, &[2, 3, 4]), randn(&g, &[2, 4, 2])],
    );
    c.check(
        "einsum i,j->ij",
        |v| Tensor::einsum("i,j->ij", &[&v[0], &v[1]]),
        &[randn(&g, &[3]), randn(&g, &[2])],
    );
    c.check(
        "einsum implicit ij,jk (three operands)",
        |v| Tensor::einsum("ij,jk,k", &[&v[0], &v[1], &v[2]]),
        &[randn(&g, &[2, 3]), randn(&g, &[3, 4]), randn(&g, &[4])],
    );
    c.check(
        "einsum ...ij->...ji with broadcast",
        |v| Tensor::einsum("...ij,...jk->...ik", &[&v[0], &v[1]]),
        &[randn(&g, &[2, 1, 2, 3]), randn(&g, &[3, 3, 2])],
    );
    c.check(
        "einsum sum ij->",
        |v| Tensor::einsum("ij->", &[&v[0]]),
        &[randn(&g, &[2, 3])],
    );
    c.finish();
}
