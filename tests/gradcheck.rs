//! Finite-difference gradient checks of every differentiable operation, on float64 inputs, with
//! `flambeau::autograd::gradcheck` and PyTorch's default tolerances (eps 1e-6, atol 1e-5,
//! rtol 1e-3).
//!
//! Each operation is checked on contiguous and on non-contiguous inputs (transposed leaves, and
//! strided slices with an offset), binary operations also with broadcast shapes and with one or
//! both operands requiring grad; reductions over several dims with and without `keepdim`; in-place
//! operations on non-leaf tensors; and chained compositions. Inputs are drawn from a generator
//! seeded per test (the tests run in parallel threads) and moved away from the points where an
//! operation is not differentiable.
//!
//! Every check is also a second-order check: `flambeau::autograd::gradgradcheck` differentiates
//! the gradients (computed with `create_graph`) again, against finite differences of them.
//!
//! One test per family of operations. Every check has a label; a family reports all its failing
//! checks at once (an operation that panics is caught and reported as a failure too).
//!
//! Run: `cargo test --release --test gradcheck`

use flambeau::autograd::{GradcheckOptions, gradcheck, gradgradcheck};
use flambeau::{DType, Generator, Tensor, no_grad, s};
use std::panic::{AssertUnwindSafe, catch_unwind};

const F64: DType = DType::F64;

type Unary = fn(&Tensor) -> Tensor;
type Binary = fn(&Tensor, &Tensor) -> Tensor;
type Domain = fn(Tensor) -> Tensor;

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// The gradchecks of one family of operations; [`Checks::finish`] fails with every failing label.
struct Checks {
    family: &'static str,
    calls: usize,
    failures: Vec<String>,
}

/// Runs one check, turning a panic into a failure message.
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

    /// Gradchecks `f` at `inputs` with PyTorch's default tolerances.
    fn check(&mut self, label: &str, f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) {
        self.check_with(label, GradcheckOptions::default(), f, inputs);
    }

    /// Gradchecks `f` at `inputs` with the given options.
    fn check_with(
        &mut self,
        label: &str,
        opts: GradcheckOptions,
        f: impl Fn(&[Tensor]) -> Tensor,
        inputs: &[Tensor],
    ) {
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

/// A generator seeded for one test.
fn gen_seeded(seed: u64) -> Generator {
    Generator::new().manual_seed(seed)
}

/// Standard-normal float64 values that do not require grad (constants of a check).
fn data(g: &Generator, shape: &[usize]) -> Tensor {
    Tensor::randn_gen(shape, F64, g)
}

/// A contiguous float64 leaf that requires grad.
fn randn(g: &Generator, shape: &[usize]) -> Tensor {
    data(g, shape).requires_grad_(true)
}

/// A non-contiguous leaf of `shape` (which needs two dims larger than 1): the transpose, with
/// all dims reversed, of a contiguous tensor.
fn randn_t(g: &Generator, shape: &[usize]) -> Tensor {
    let base: Vec<usize> = shape.iter().rev().copied().collect();
    let reverse: Vec<i64> = (0..shape.len() as i64).rev().collect();
    non_contiguous(data(g, &base).permute(reverse))
}

/// A non-contiguous leaf of `shape`: every other element of the last dim of a larger tensor,
/// starting at offset 1.
fn randn_s(g: &Generator, shape: &[usize]) -> Tensor {
    let mut base = shape.to_vec();
    *base.last_mut().unwrap() *= 2;
    non_contiguous(data(g, &base).slice(-1, Some(1), None, 2))
}

fn non_contiguous(view: Tensor) -> Tensor {
    assert!(
        !view.is_contiguous(),
        "test setup: expected a non-contiguous input, got strides {:?}",
        view.stride()
    );
    view.requires_grad_(true)
}

/// Rewrites the values of `t` in place, keeping its layout (moves an input into an op's domain).
fn map(t: Tensor, f: impl Fn(f64) -> f64) -> Tensor {
    let values: Vec<f64> = t.to_vec::<f64>().into_iter().map(f).collect();
    no_grad(|| t.copy_(&Tensor::from_vec(values, t.dims())));
    t
}

/// Values in `[0.5, ~4]`: the domain of `log`, `sqrt`, `pow` with a real exponent, divisors.
fn positive(t: Tensor) -> Tensor {
    map(t, |x| x.abs() + 0.5)
}

/// Values at least 0.1 away from each of `kinks` (which must be more than 0.2 apart).
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

/// Values at least 0.1 away from zero (`abs`, `relu`, `reciprocal`, ...).
fn nonzero(t: Tensor) -> Tensor {
    away_from(t, &[0.0])
}

/// Values as drawn (ops defined everywhere).
fn same(t: Tensor) -> Tensor {
    t
}

/// An int64 index tensor.
fn index(values: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(values, shape)
}

/// A bool mask.
fn mask(values: &[bool], shape: &[usize]) -> Tensor {
    Tensor::from_slice(values, shape)
}

/// Joins the pieces of a split in reverse order, each scaled by its position + 1, so that a
/// gradient routed to the wrong piece shows.
fn rejoin(parts: &[Tensor], dim: i64) -> Tensor {
    let scaled: Vec<Tensor> = parts
        .iter()
        .enumerate()
        .rev()
        .map(|(i, p)| p.mul((i + 1) as f64))
        .collect();
    Tensor::cat(&scaled.iter().collect::<Vec<_>>(), dim)
}

// ---------------------------------------------------------------------------------------------
// Elementwise arithmetic
// ---------------------------------------------------------------------------------------------

#[test]
fn arithmetic() {
    let g = gen_seeded(1);
    let mut c = Checks::new("arithmetic");
    let ops: [(&str, Binary); 6] = [
        ("add", |a, b| a.add(b)),
        ("sub", |a, b| a.sub(b)),
        ("mul", |a, b| a.mul(b)),
        ("div", |a, b| a.div(b)),
        ("add_alpha", |a, b| a.add_alpha(b, -0.7)),
        ("sub_alpha", |a, b| a.sub_alpha(b, 2.5)),
    ];
    for (name, op) in ops {
        // Divisors stay positive.
        let rhs: Domain = if name == "div" { positive } else { same };
        let f = move |v: &[Tensor]| op(&v[0], &v[1]);
        c.check(
            &format!("{name} contiguous"),
            f,
            &[randn(&g, &[3, 4]), rhs(randn(&g, &[3, 4]))],
        );
        c.check(
            &format!("{name} non-contiguous (transposed, strided)"),
            f,
            &[randn_t(&g, &[3, 4]), rhs(randn_s(&g, &[3, 4]))],
        );
        c.check(
            &format!("{name} broadcast [3,1] with [1,4]"),
            f,
            &[randn(&g, &[3, 1]), rhs(randn(&g, &[1, 4]))],
        );
        c.check(
            &format!("{name} broadcast [2,1,4] with non-contiguous [3,1]"),
            f,
            &[randn(&g, &[2, 1, 4]), rhs(randn_s(&g, &[3, 1]))],
        );
        c.check(
            &format!("{name} broadcast 0-dim with non-contiguous [3,4]"),
            f,
            &[randn(&g, &[]), rhs(randn_t(&g, &[3, 4]))],
        );
        c.check(
            &format!("{name} broadcast [3,4] with 0-dim"),
            f,
            &[randn(&g, &[3, 4]), rhs(randn(&g, &[]))],
        );
        c.check(
            &format!("{name} only lhs requires grad, rhs [4]"),
            f,
            &[randn(&g, &[3, 4]), rhs(data(&g, &[4]))],
        );
        c.check(
            &format!("{name} only rhs requires grad, lhs [3,1]"),
            f,
            &[data(&g, &[3, 1]), rhs(randn(&g, &[3, 4]))],
        );
        c.check(
            &format!("{name} same tensor as both operands"),
            move |v| op(&v[0], &v[0]),
            &[rhs(randn(&g, &[3, 4]))],
        );
    }

    // Tensor-scalar forms.
    let scalar_ops: [(&str, Unary, Domain); 9] = [
        ("add scalar", |x| x.add(2.5), same),
        ("add int scalar", |x| x.add(3), same),
        ("sub scalar", |x| x.sub(1.5), same),
        ("rsub scalar", |x| x.rsub(3.0), same),
        ("mul scalar", |x| x.mul(-1.5), same),
        ("mul int scalar", |x| x.mul(3), same),
        ("div scalar", |x| x.div(4.0), same),
        ("rdiv scalar", |x| x.rdiv(2.0), nonzero),
        ("neg", |x| x.neg(), same),
    ];
    for (name, op, domain) in scalar_ops {
        let f = move |v: &[Tensor]| op(&v[0]);
        c.check(
            &format!("{name} contiguous"),
            f,
            &[domain(randn(&g, &[3, 4]))],
        );
        c.check(
            &format!("{name} transposed"),
            f,
            &[domain(randn_t(&g, &[3, 4]))],
        );
        c.check(
            &format!("{name} strided"),
            f,
            &[domain(randn_s(&g, &[2, 3]))],
        );
        c.check(&format!("{name} 0-dim"), f, &[domain(randn(&g, &[]))]);
    }

    // The operator forms, several inputs at once.
    c.check(
        "operators a + b * c - 2 / d + (-a) / 3",
        |v| &v[0] + &(&v[1] * &v[2]) - 2.0 / &v[3] + (-&v[0]) / 3.0,
        &[
            randn(&g, &[3, 4]),
            randn_t(&g, &[3, 4]),
            randn(&g, &[4]),
            positive(randn_s(&g, &[3, 1])),
        ],
    );
    c.check(
        "operators 1 - x and scalar * x",
        |v| 1.0 - &v[0] * 2.0,
        &[randn_t(&g, &[3, 4])],
    );
    c.finish();
}

#[test]
fn pow_family() {
    let g = gen_seeded(2);
    let mut c = Checks::new("pow");
    for e in [2.0, 3.0, 0.5, -1.5, 2.7, 1.0, 0.0, -1.0, -2.0] {
        let f = move |v: &[Tensor]| v[0].pow(e);
        c.check(
            &format!("pow scalar {e} contiguous"),
            f,
            &[positive(randn(&g, &[3, 4]))],
        );
        c.check(
            &format!("pow scalar {e} transposed"),
            f,
            &[positive(randn_t(&g, &[3, 4]))],
        );
        c.check(
            &format!("pow scalar {e} strided"),
            f,
            &[positive(randn_s(&g, &[2, 3]))],
        );
    }
    // Integer exponents on bases of both signs.
    for e in [2, 3, -2] {
        c.check(
            &format!("pow int scalar {e} contiguous, negative bases"),
            move |v| v[0].pow(e),
            &[nonzero(randn(&g, &[3, 4]))],
        );
        c.check(
            &format!("pow int scalar {e} strided, negative bases"),
            move |v| v[0].pow(e),
            &[nonzero(randn_s(&g, &[3, 4]))],
        );
    }

    // Tensor exponents.
    let pow: Binary = |a, b| a.pow(b);
    let f = move |v: &[Tensor]| pow(&v[0], &v[1]);
    c.check(
        "pow tensor contiguous",
        f,
        &[positive(randn(&g, &[3, 4])), randn(&g, &[3, 4])],
    );
    c.check(
        "pow tensor non-contiguous",
        f,
        &[positive(randn_t(&g, &[3, 4])), randn_s(&g, &[3, 4])],
    );
    c.check(
        "pow tensor broadcast [3,1] base with [1,4] exponent",
        f,
        &[positive(randn(&g, &[3, 1])), randn(&g, &[1, 4])],
    );
    c.check(
        "pow tensor broadcast [2,1,4] base with [3,1] exponent",
        f,
        &[positive(randn(&g, &[2, 1, 4])), randn_s(&g, &[3, 1])],
    );
    c.check(
        "pow tensor broadcast 0-dim exponent",
        f,
        &[positive(randn_t(&g, &[3, 4])), randn(&g, &[])],
    );
    c.check(
        "pow tensor broadcast 0-dim base",
        f,
        &[positive(randn(&g, &[])), randn_t(&g, &[3, 4])],
    );
    c.check(
        "pow tensor only base requires grad",
        f,
        &[positive(randn(&g, &[3, 4])), data(&g, &[4])],
    );
    c.check(
        "pow tensor only exponent requires grad",
        f,
        &[positive(data(&g, &[3, 1])), randn(&g, &[3, 4])],
    );

    // Number bases.
    for base in [2.0, 0.5, 10.0] {
        let f = move |v: &[Tensor]| v[0].rpow(base);
        c.check(&format!("rpow {base} contiguous"), f, &[randn(&g, &[3, 4])]);
        c.check(
            &format!("rpow {base} transposed"),
            f,
            &[randn_t(&g, &[3, 4])],
        );
        c.check(&format!("rpow {base} 0-dim"), f, &[randn(&g, &[])]);
    }
    c.check(
        "square contiguous",
        |v| v[0].square(),
        &[randn(&g, &[3, 4])],
    );
    c.check("square strided", |v| v[0].square(), &[randn_s(&g, &[3, 4])]);
    c.finish();
}

// ---------------------------------------------------------------------------------------------
// Elementwise functions and activations
// ---------------------------------------------------------------------------------------------

/// Checks each unary op on a contiguous, a transposed, a strided and a 0-dim input.
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
        c.check(
            &format!("{name} strided"),
            f,
            &[domain(randn_s(g, &[2, 3]))],
        );
        c.check(&format!("{name} 0-dim"), f, &[domain(randn(g, &[]))]);
    }
}

#[test]
fn elementwise_functions() {
    let g = gen_seeded(3);
    let mut c = Checks::new("elementwise functions");
    let ops: [(&str, Unary, Domain); 12] = [
        ("exp", |x| x.exp(), same),
        // inside (-1, 1), away from the poles
        ("erfinv", |x| x.erfinv(), |t| map(t, |x| x.tanh() * 0.8)),
        ("log", |x| x.log(), positive),
        ("log1p", |x| x.log1p(), |t| map(t, |x| x.abs() - 0.5)),
        ("sqrt", |x| x.sqrt(), positive),
        ("rsqrt", |x| x.rsqrt(), positive),
        ("reciprocal", |x| x.reciprocal(), nonzero),
        ("abs", |x| x.abs(), nonzero),
        ("sin", |x| x.sin(), same),
        ("cos", |x| x.cos(), same),
        ("tanh", |x| x.tanh(), same),
        ("sigmoid", |x| x.sigmoid(), same),
    ];
    check_unary_ops(&mut c, &g, &ops);
    c.finish();
}

#[test]
fn activations() {
    let g = gen_seeded(4);
    let mut c = Checks::new("activations");
    let ops: [(&str, Unary, Domain); 15] = [
        ("relu", |x| x.relu(), nonzero),
        ("leaky_relu 0.01", |x| x.leaky_relu(0.01), nonzero),
        ("leaky_relu 0.2", |x| x.leaky_relu(0.2), nonzero),
        ("elu 1.0", |x| x.elu(1.0), nonzero),
        ("elu 0.5", |x| x.elu(0.5), nonzero),
        ("gelu none", |x| x.gelu("none"), same),
        ("gelu tanh", |x| x.gelu("tanh"), same),
        ("silu", |x| x.silu(), same),
        (
            "softplus beta 1 threshold 20",
            |x| x.softplus(1.0, 20.0),
            same,
        ),
        // Both sides of the threshold (beta * x = 1 at x = 0.5), where softplus is linear.
        (
            "softplus beta 2 threshold 1",
            |x| x.softplus(2.0, 1.0),
            |t| away_from(t, &[0.5]),
        ),
        (
            "clamp [-0.5, 0.5]",
            |x| x.clamp(Some(-0.5), Some(0.5)),
            |t| away_from(t, &[-0.5, 0.5]),
        ),
        (
            "clamp min -0.3",
            |x| x.clamp(Some(-0.3), None),
            |t| away_from(t, &[-0.3]),
        ),
        (
            "clamp max 0.4",
            |x| x.clamp(None, Some(0.4)),
            |t| away_from(t, &[0.4]),
        ),
        (
            "clamp_min 0.2",
            |x| x.clamp_min(0.2),
            |t| away_from(t, &[0.2]),
        ),
        (
            "clamp_max -0.2",
            |x| x.clamp_max(-0.2),
            |t| away_from(t, &[-0.2]),
        ),
    ];
    check_unary_ops(&mut c, &g, &ops);
    c.finish();
}

#[test]
fn maximum_minimum() {
    let g = gen_seeded(5);
    let mut c = Checks::new("maximum/minimum");
    let ops: [(&str, Binary); 2] = [
        ("maximum", |a, b| a.maximum(b)),
        ("minimum", |a, b| a.minimum(b)),
    ];
    // Random operands never tie.
    for (name, op) in ops {
        let f = move |v: &[Tensor]| op(&v[0], &v[1]);
        c.check(
            &format!("{name} contiguous"),
            f,
            &[randn(&g, &[3, 4]), randn(&g, &[3, 4])],
        );
        c.check(
            &format!("{name} non-contiguous"),
            f,
            &[randn_t(&g, &[3, 4]), randn_s(&g, &[3, 4])],
        );
        c.check(
            &format!("{name} broadcast [3,1] with [1,4]"),
            f,
            &[randn(&g, &[3, 1]), randn(&g, &[1, 4])],
        );
        c.check(
            &format!("{name} broadcast [2,1,4] with [3,1]"),
            f,
            &[randn(&g, &[2, 1, 4]), randn_s(&g, &[3, 1])],
        );
        c.check(
            &format!("{name} broadcast 0-dim with [3,4]"),
            f,
            &[randn(&g, &[]), randn_t(&g, &[3, 4])],
        );
        c.check(
            &format!("{name} only lhs requires grad"),
            f,
            &[randn(&g, &[3, 4]), data(&g, &[4])],
        );
        c.check(
            &format!("{name} scalar 0.3"),
            move |v| op(&v[0], &Tensor::scalar(0.3f64)),
            &[away_from(randn_t(&g, &[3, 4]), &[0.3])],
        );
    }
    c.check(
        "maximum number operand",
        |v| v[0].maximum(0.3),
        &[away_from(randn(&g, &[3, 4]), &[0.3])],
    );
    c.check(
        "minimum number operand",
        |v| v[0].minimum(-0.3),
        &[away_from(randn_s(&g, &[3, 4]), &[-0.3])],
    );
    c.finish();
}

// ---------------------------------------------------------------------------------------------
// Reductions and softmax
// ---------------------------------------------------------------------------------------------

/// Inputs of shape [2, 3, 4] in three layouts.
fn layouts_234(g: &Generator) -> [(&'static str, Tensor); 3] {
    [
        ("contiguous", randn(g, &[2, 3, 4])),
        ("transposed", randn_t(g, &[2, 3, 4])),
        ("strided", randn_s(g, &[2, 3, 4])),
    ]
}

#[test]
fn reductions() {
    let g = gen_seeded(6);
    let mut c = Checks::new("reductions");
    let ops: &[(&str, Unary)] = &[
        ("sum", |x| x.sum()),
        ("sum_dim 1", |x| x.sum_dim(1, false)),
        ("sum_dim [0,2]", |x| x.sum_dim([0, 2], false)),
        ("sum_dim [0,2] keepdim", |x| x.sum_dim([0, 2], true)),
        ("sum_dim -1 keepdim", |x| x.sum_dim(-1, true)),
        ("mean", |x| x.mean()),
        ("mean_dim [0,2]", |x| x.mean_dim([0, 2], false)),
        ("mean_dim [-1,0] keepdim", |x| x.mean_dim([-1, 0], true)),
        ("mean_dim 1", |x| x.mean_dim(1, false)),
        ("max", |x| x.max()),
        ("min", |x| x.min()),
        ("max_dim 1", |x| x.max_dim(1, false).0),
        ("max_dim -1 keepdim", |x| x.max_dim(-1, true).0),
        ("min_dim 0", |x| x.min_dim(0, false).0),
        ("min_dim 2 keepdim", |x| x.min_dim(2, true).0),
        ("amax [0,2]", |x| x.amax([0, 2], false)),
        ("amax 1 keepdim", |x| x.amax(1, true)),
        ("amin [1,2] keepdim", |x| x.amin([1, 2], true)),
        ("amin -1", |x| x.amin(-1, false)),
        ("amax all dims", |x| x.amax(Vec::<i64>::new(), false)),
        ("var_correction all dims, 1", |x| {
            x.var_correction(Vec::<i64>::new(), 1.0, false)
        }),
        ("var_correction 1, 1", |x| x.var_correction([1], 1.0, false)),
        ("var_correction [0,2], 0, keepdim", |x| {
            x.var_correction([0, 2], 0.0, true)
        }),
        ("std_correction all dims, 0", |x| {
            x.std_correction([0, 1, 2], 0.0, false)
        }),
        ("std_correction -1, 2", |x| x.std_correction(-1, 2.0, false)),
        ("std_correction [0,1], 1, keepdim", |x| {
            x.std_correction([0, 1], 1.0, true)
        }),
        ("logsumexp [0,2]", |x| x.logsumexp([0, 2], false)),
        ("logsumexp 1 keepdim", |x| x.logsumexp(1, true)),
        ("logsumexp all dims", |x| x.logsumexp([0, 1, 2], false)),
        ("sum_to_size [3,1]", |x| x.sum_to_size(&[3, 1])),
        ("sum_to_size [3,4]", |x| x.sum_to_size(&[3, 4])),
        ("sum_to_size [2,1,4]", |x| x.sum_to_size(&[2, 1, 4])),
    ];
    for (layout, x) in layouts_234(&g) {
        for &(name, op) in ops {
            c.check(
                &format!("{name} {layout}"),
                |v| op(&v[0]),
                std::slice::from_ref(&x),
            );
        }
    }
    // Lower-dimensional inputs.
    c.check("sum 0-dim", |v| v[0].sum(), &[randn(&g, &[])]);
    c.check("mean 1-D strided", |v| v[0].mean(), &[randn_s(&g, &[5])]);
    c.check(
        "max_dim 1-D",
        |v| v[0].max_dim(0, false).0,
        &[randn(&g, &[5])],
    );
    c.check(
        "logsumexp 1-D strided",
        |v| v[0].logsumexp(0, false),
        &[randn_s(&g, &[5])],
    );
    c.check(
        "var_correction 2-D transposed",
        |v| v[0].var_correction(0, 1.0, false),
        &[randn_t(&g, &[3, 4])],
    );
    c.finish();
}

#[test]
fn softmax_family() {
    let g = gen_seeded(7);
    let mut c = Checks::new("softmax");
    let ops: [(&str, Unary); 6] = [
        ("softmax 0", |x| x.softmax(0)),
        ("softmax 1", |x| x.softmax(1)),
        ("softmax -1", |x| x.softmax(-1)),
        ("log_softmax 0", |x| x.log_softmax(0)),
        ("log_softmax 1", |x| x.log_softmax(1)),
        ("log_softmax -1", |x| x.log_softmax(-1)),
    ];
    for (layout, x) in layouts_234(&g) {
        for (name, op) in ops {
            c.check(
                &format!("{name} {layout}"),
                move |v| op(&v[0]),
                std::slice::from_ref(&x),
            );
        }
    }
    c.check("softmax 1-D", |v| v[0].softmax(0), &[randn(&g, &[5])]);
    c.check(
        "log_softmax 1-D strided",
        |v| v[0].log_softmax(-1),
        &[randn_s(&g, &[5])],
    );
    c.finish();
}

// ---------------------------------------------------------------------------------------------
// Matrix products
// ---------------------------------------------------------------------------------------------

#[test]
fn matrix_products() {
    let g = gen_seeded(8);
    let mut c = Checks::new("matrix products");
    let mm: Binary = |a, b| a.mm(b);
    let f = move |v: &[Tensor]| mm(&v[0], &v[1]);
    c.check(
        "mm contiguous",
        f,
        &[randn(&g, &[3, 4]), randn(&g, &[4, 2])],
    );
    c.check(
        "mm transposed",
        f,
        &[randn_t(&g, &[3, 4]), randn_t(&g, &[4, 2])],
    );
    c.check(
        "mm strided",
        f,
        &[randn_s(&g, &[3, 4]), randn_s(&g, &[4, 2])],
    );
    c.check(
        "mm only lhs requires grad",
        f,
        &[randn(&g, &[3, 4]), data(&g, &[4, 2])],
    );
    c.check(
        "mm only rhs requires grad",
        f,
        &[data(&g, &[3, 4]), randn_t(&g, &[4, 2])],
    );
    c.check(
        "mm x @ x.t()",
        |v| v[0].mm(&v[0].t()),
        &[randn(&g, &[3, 4])],
    );

    let bmm = move |v: &[Tensor]| v[0].bmm(&v[1]);
    c.check(
        "bmm contiguous",
        bmm,
        &[randn(&g, &[2, 3, 4]), randn(&g, &[2, 4, 2])],
    );
    c.check(
        "bmm transposed",
        bmm,
        &[randn_t(&g, &[2, 3, 4]), randn_t(&g, &[2, 4, 2])],
    );
    c.check(
        "bmm strided",
        bmm,
        &[randn_s(&g, &[2, 3, 4]), randn_s(&g, &[2, 4, 2])],
    );

    let mv = move |v: &[Tensor]| v[0].mv(&v[1]);
    c.check("mv contiguous", mv, &[randn(&g, &[3, 4]), randn(&g, &[4])]);
    c.check(
        "mv non-contiguous",
        mv,
        &[randn_t(&g, &[3, 4]), randn_s(&g, &[4])],
    );
    c.check(
        "mv only vector requires grad",
        mv,
        &[data(&g, &[3, 4]), randn(&g, &[4])],
    );

    let dot = move |v: &[Tensor]| v[0].dot(&v[1]);
    c.check("dot contiguous", dot, &[randn(&g, &[5]), randn(&g, &[5])]);
    c.check("dot strided", dot, &[randn_s(&g, &[5]), randn_s(&g, &[5])]);
    c.check("dot x . x", |v| v[0].dot(&v[0]), &[randn(&g, &[5])]);

    let addmm = move |v: &[Tensor]| Tensor::addmm(&v[0], &v[1], &v[2]);
    for (label, bias) in [
        ("[2]", randn(&g, &[2])),
        ("[1,2]", randn(&g, &[1, 2])),
        ("[3,2]", randn(&g, &[3, 2])),
        ("[3,1]", randn(&g, &[3, 1])),
        ("0-dim", randn(&g, &[])),
    ] {
        c.check(
            &format!("addmm bias {label}"),
            addmm,
            &[bias, randn(&g, &[3, 4]), randn(&g, &[4, 2])],
        );
    }
    c.check(
        "addmm non-contiguous",
        addmm,
        &[
            randn_s(&g, &[3, 2]),
            randn_t(&g, &[3, 4]),
            randn_s(&g, &[4, 2]),
        ],
    );
    c.check(
        "addmm only bias requires grad",
        addmm,
        &[randn(&g, &[2]), data(&g, &[3, 4]), data(&g, &[4, 2])],
    );
    c.check(
        "addmm bias does not require grad",
        addmm,
        &[data(&g, &[2]), randn(&g, &[3, 4]), randn_t(&g, &[4, 2])],
    );

    // matmul in every rank combination.
    let matmul = move |v: &[Tensor]| v[0].matmul(&v[1]);
    let cases: [(&str, &[usize], &[usize]); 10] = [
        ("1-D @ 1-D", &[4], &[4]),
        ("2-D @ 1-D", &[3, 4], &[4]),
        ("1-D @ 2-D", &[4], &[4, 2]),
        ("2-D @ 2-D", &[3, 4], &[4, 2]),
        ("3-D @ 2-D", &[2, 3, 4], &[4, 2]),
        ("3-D @ 1-D", &[2, 3, 4], &[4]),
        ("1-D @ 3-D", &[4], &[2, 4, 3]),
        ("2-D @ 3-D", &[3, 4], &[2, 4, 2]),
        ("3-D @ 3-D", &[2, 3, 4], &[2, 4, 2]),
        ("4-D @ 3-D batch broadcast", &[2, 1, 2, 3], &[3, 3, 2]),
    ];
    for (label, sa, sb) in cases {
        c.check(
            &format!("matmul {label} contiguous"),
            matmul,
            &[randn(&g, sa), randn(&g, sb)],
        );
        c.check(
            &format!("matmul {label} strided"),
            matmul,
            &[randn_s(&g, sa), randn_s(&g, sb)],
        );
        if sa.len() >= 2 && sb.len() >= 2 {
            c.check(
                &format!("matmul {label} transposed"),
                matmul,
                &[randn_t(&g, sa), randn_t(&g, sb)],
            );
        }
    }

    let linear = move |v: &[Tensor]| v[0].linear(&v[1], Some(&v[2]));
    c.check(
        "linear 2-D with bias",
        linear,
        &[randn(&g, &[3, 4]), randn(&g, &[2, 4]), randn(&g, &[2])],
    );
    c.check(
        "linear 2-D with bias, non-contiguous",
        linear,
        &[
            randn_t(&g, &[3, 4]),
            randn_t(&g, &[2, 4]),
            randn_s(&g, &[2]),
        ],
    );
    c.check(
        "linear 3-D with bias",
        linear,
        &[randn(&g, &[2, 3, 4]), randn(&g, &[2, 4]), randn(&g, &[2])],
    );
    c.check(
        "linear 1-D with bias",
        linear,
        &[randn_s(&g, &[4]), randn(&g, &[2, 4]), randn(&g, &[2])],
    );
    c.check(
        "linear 2-D without bias",
        |v| v[0].linear(&v[1], None),
        &[randn(&g, &[3, 4]), randn_t(&g, &[2, 4])],
    );
    c.finish();
}

// ---------------------------------------------------------------------------------------------
// Views, joins, indexing
// ---------------------------------------------------------------------------------------------

#[test]
fn views() {
    let g = gen_seeded(9);
    let mut c = Checks::new("views");
    // (label, op, shape of its input); each runs on a contiguous, a transposed and a strided input.
    let ops: &[(&str, Unary, &[usize])] = &[
        ("reshape [2,6]", |x| x.reshape([2, 6]), &[3, 4]),
        ("reshape [-1]", |x| x.reshape([-1]), &[3, 4]),
        ("reshape [3,2,2]", |x| x.reshape([3, 2, 2]), &[3, 4]),
        ("reshape [4,6] of 3-D", |x| x.reshape([4, -1]), &[2, 3, 4]),
        ("view [3,2,2]", |x| x.view([3, 2, 2]), &[3, 4]),
        ("view same shape", |x| x.view([3, 4]), &[3, 4]),
        ("unsqueeze 0", |x| x.unsqueeze(0), &[3, 4]),
        ("unsqueeze 1", |x| x.unsqueeze(1), &[3, 4]),
        ("unsqueeze -1", |x| x.unsqueeze(-1), &[3, 4]),
        ("squeeze", |x| x.squeeze(), &[3, 1, 4]),
        ("squeeze_dim 1", |x| x.squeeze_dim(1), &[3, 1, 4]),
        (
            "squeeze_dim of a size > 1 dim",
            |x| x.squeeze_dim(0),
            &[3, 4],
        ),
        ("transpose 0 2", |x| x.transpose(0, 2), &[2, 3, 4]),
        ("transpose -1 -2", |x| x.transpose(-1, -2), &[2, 3, 4]),
        ("t", |x| x.t(), &[3, 4]),
        ("permute [2,0,1]", |x| x.permute([2, 0, 1]), &[2, 3, 4]),
        ("permute [1,2,0]", |x| x.permute([1, 2, 0]), &[2, 3, 4]),
        ("movedim 0 2", |x| x.movedim(0, 2), &[2, 3, 4]),
        ("movedim -1 0", |x| x.movedim(-1, 0), &[2, 3, 4]),
        ("expand [2,3,4]", |x| x.expand([2, 3, 4]), &[3, 1]),
        ("expand [-1,4]", |x| x.expand([-1, 4]), &[3, 1]),
        ("flatten 0 -1", |x| x.flatten(0, -1), &[2, 3, 4]),
        ("flatten 1 2", |x| x.flatten(1, 2), &[2, 3, 4]),
        ("flatten 0 1", |x| x.flatten(0, 1), &[2, 3, 4]),
        ("narrow 1 1 2", |x| x.narrow(1, 1, 2), &[3, 4]),
        ("narrow 0 -2 2", |x| x.narrow(0, -2, 2), &[3, 4]),
        ("select 0 1", |x| x.select(0, 1), &[3, 4]),
        ("select -1 -2", |x| x.select(-1, -2), &[2, 3, 4]),
        (
            "slice 1 0.. step 2",
            |x| x.slice(1, Some(0), None, 2),
            &[3, 4],
        ),
        ("slice 0 -2..", |x| x.slice(0, Some(-2), None, 1), &[3, 4]),
        (
            "slice 1 1..100 (clamped)",
            |x| x.slice(1, Some(1), Some(100), 1),
            &[3, 4],
        ),
        ("index [1..3, ..;2]", |x| x.index(s![1..3, ..;2]), &[3, 4]),
        ("index [-1, 1..]", |x| x.index(s![-1, 1..]), &[2, 3, 4]),
        ("index [.., 2]", |x| x.index(s![.., 2]), &[3, 4]),
        (
            "index [0..=1, .., 1..;2]",
            |x| x.index(s![0..=1, .., 1..;2]),
            &[2, 3, 4],
        ),
        ("chunk 2 1 (uneven)", |x| rejoin(&x.chunk(2, 1), 1), &[3, 5]),
        (
            "chunk 3 0, middle piece",
            |x| x.chunk(3, 0)[1].exp(),
            &[3, 4],
        ),
        ("split 2 0", |x| rejoin(&x.split(2, 0), 0), &[5, 3]),
        ("split 2 1, last piece", |x| x.split(2, 1)[2].sin(), &[3, 5]),
        (
            "split_with_sizes [1,3] 1",
            |x| rejoin(&x.split_with_sizes(&[1, 3], 1), 1),
            &[3, 4],
        ),
        ("unbind 0", |x| rejoin(&x.unbind(0), 0), &[3, 4]),
        ("unbind 1", |x| rejoin(&x.unbind(1), 0), &[3, 4]),
    ];
    for &(name, op, shape) in ops {
        let f = move |v: &[Tensor]| op(&v[0]);
        c.check(&format!("{name} contiguous"), f, &[randn(&g, shape)]);
        if shape.iter().filter(|&&d| d > 1).count() >= 2 {
            c.check(&format!("{name} transposed"), f, &[randn_t(&g, shape)]);
        }
        c.check(&format!("{name} strided"), f, &[randn_s(&g, shape)]);
    }
    c.check("t of 1-D", |v| v[0].t(), &[randn_s(&g, &[4])]);
    c.check(
        "expand 0-dim to [3,4]",
        |v| v[0].expand([3, 4]),
        &[randn(&g, &[])],
    );
    c.check(
        "squeeze [1,3,1]",
        |v| v[0].squeeze(),
        &[randn(&g, &[1, 3, 1])],
    );
    c.finish();
}

#[test]
fn cat_stack() {
    let g = gen_seeded(10);
    let mut c = Checks::new("cat/stack");
    c.check(
        "cat dim 0 contiguous",
        |v| Tensor::cat(&[&v[0], &v[1]], 0),
        &[randn(&g, &[2, 3]), randn(&g, &[1, 3])],
    );
    c.check(
        "cat dim 1 non-contiguous",
        |v| Tensor::cat(&[&v[0], &v[1]], 1),
        &[randn_t(&g, &[3, 2]), randn_s(&g, &[3, 3])],
    );
    c.check(
        "cat dim -1 three inputs",
        |v| Tensor::cat(&[&v[0], &v[1], &v[2]], -1),
        &[
            randn(&g, &[2, 3, 1]),
            randn_t(&g, &[2, 3, 2]),
            randn_s(&g, &[2, 3, 3]),
        ],
    );
    c.check(
        "cat with a constant in the middle",
        |v| Tensor::cat(&[&v[0], &v[1], &v[2]], 0),
        &[randn(&g, &[1, 4]), data(&g, &[2, 4]), randn_t(&g, &[3, 4])],
    );
    c.check(
        "cat same tensor twice",
        |v| Tensor::cat(&[&v[0], &v[0].mul(2.0)], 1),
        &[randn_t(&g, &[3, 4])],
    );
    c.check(
        "stack dim 0 contiguous",
        |v| Tensor::stack(&[&v[0], &v[1]], 0),
        &[randn(&g, &[3, 4]), randn(&g, &[3, 4])],
    );
    c.check(
        "stack dim 1 non-contiguous",
        |v| Tensor::stack(&[&v[0], &v[1]], 1),
        &[randn_t(&g, &[3, 4]), randn_s(&g, &[3, 4])],
    );
    c.check(
        "stack dim -1 three inputs",
        |v| Tensor::stack(&[&v[0], &v[1], &v[2]], -1),
        &[
            randn(&g, &[2, 3]),
            randn_t(&g, &[2, 3]),
            randn_s(&g, &[2, 3]),
        ],
    );
    c.check(
        "stack with a constant",
        |v| Tensor::stack(&[&v[0], &v[1]], 0),
        &[data(&g, &[3, 4]), randn(&g, &[3, 4])],
    );
    c.check(
        "stack same tensor twice",
        |v| Tensor::stack(&[&v[0], &v[0].exp()], 2),
        &[randn_s(&g, &[3, 4])],
    );
    c.finish();
}

#[test]
fn indexing() {
    let g = gen_seeded(11);
    let mut c = Checks::new("indexing");
    let rows = index(&[2, 0, 2], &[3]);
    let cols = index(&[3, 1, 3, 0], &[4]);
    c.check(
        "index_select dim 0 with repeats",
        |v| v[0].index_select(0, &rows),
        &[randn(&g, &[3, 4])],
    );
    c.check(
        "index_select dim 1 transposed",
        |v| v[0].index_select(1, &cols),
        &[randn_t(&g, &[3, 4])],
    );
    c.check(
        "index_select dim -1 strided",
        |v| v[0].index_select(-1, &cols),
        &[randn_s(&g, &[2, 3, 4])],
    );

    let gather_idx = index(&[0, 2, 2, 1, 0, 3, 3, 3, 0], &[3, 3]);
    let gather_small = index(&[1, 0, 2, 2], &[2, 2]);
    let gather_rows = index(&[2, 0, 1, 2, 0, 0, 1, 2], &[2, 4]);
    c.check(
        "gather dim 1",
        |v| v[0].gather(1, &gather_idx),
        &[randn(&g, &[3, 4])],
    );
    c.check(
        "gather dim 1, index smaller than input",
        |v| v[0].gather(1, &gather_small),
        &[randn_t(&g, &[3, 4])],
    );
    c.check(
        "gather dim 0 strided",
        |v| v[0].gather(0, &gather_rows),
        &[randn_s(&g, &[3, 4])],
    );

    // scatter: no index repeats within a row (the result would depend on the write order).
    let scatter_idx = index(&[3, 0, 1, 2, 0, 3], &[3, 2]);
    let scatter = |v: &[Tensor]| v[0].scatter(1, &scatter_idx, &v[1]);
    c.check(
        "scatter dim 1 contiguous",
        scatter,
        &[randn(&g, &[3, 4]), randn(&g, &[3, 2])],
    );
    c.check(
        "scatter dim 1 non-contiguous",
        scatter,
        &[randn_t(&g, &[3, 4]), randn_s(&g, &[3, 2])],
    );
    c.check(
        "scatter only src requires grad",
        scatter,
        &[data(&g, &[3, 4]), randn(&g, &[3, 2])],
    );
    let scatter_add_idx = index(&[0, 2, 0, 1, 0, 0, 2, 1], &[2, 4]);
    let scatter_add = |v: &[Tensor]| v[0].scatter_add(0, &scatter_add_idx, &v[1]);
    c.check(
        "scatter_add dim 0 with repeats",
        scatter_add,
        &[randn(&g, &[3, 4]), randn(&g, &[2, 4])],
    );
    c.check(
        "scatter_add dim 0 non-contiguous",
        scatter_add,
        &[randn_s(&g, &[3, 4]), randn_t(&g, &[2, 4])],
    );

    let add_rows = index(&[0, 2, 0], &[3]);
    let add_cols = index(&[3, 0], &[2]);
    c.check(
        "index_add dim 0 with repeats",
        |v| v[0].index_add(0, &add_rows, &v[1]),
        &[randn(&g, &[3, 4]), randn(&g, &[3, 4])],
    );
    c.check(
        "index_add dim 1 non-contiguous",
        |v| v[0].index_add(1, &add_cols, &v[1]),
        &[randn_t(&g, &[3, 4]), randn_s(&g, &[3, 2])],
    );
    c.check(
        "index_add only src requires grad",
        |v| v[0].index_add(0, &add_rows, &v[1]),
        &[data(&g, &[3, 4]), randn_t(&g, &[3, 4])],
    );

    let m34 = data(&g, &[3, 4]).gt(0.0);
    let m14 = mask(&[true, false, false, true], &[1, 4]);
    let m234 = data(&g, &[2, 3, 4]).gt(0.0);
    c.check(
        "masked_fill contiguous",
        |v| v[0].masked_fill(&m34, 1.5),
        &[randn(&g, &[3, 4])],
    );
    c.check(
        "masked_fill transposed, mask broadcast [1,4]",
        |v| v[0].masked_fill(&m14, -2.0),
        &[randn_t(&g, &[3, 4])],
    );
    c.check(
        "masked_fill strided, input broadcast to mask [2,3,4]",
        |v| v[0].masked_fill(&m234, 0.0),
        &[randn_s(&g, &[3, 4])],
    );

    let c31 = mask(&[true, false, true], &[3, 1]);
    c.check(
        "where_ both tensors contiguous",
        |v| Tensor::where_(&m34, &v[0], &v[1]),
        &[randn(&g, &[3, 4]), randn(&g, &[3, 4])],
    );
    c.check(
        "where_ non-contiguous",
        |v| Tensor::where_(&m34, &v[0], &v[1]),
        &[randn_t(&g, &[3, 4]), randn_s(&g, &[3, 4])],
    );
    c.check(
        "where_ broadcast cond [3,1], a [1,4], b [2,1,4]",
        |v| Tensor::where_(&c31, &v[0], &v[1]),
        &[randn(&g, &[1, 4]), randn(&g, &[2, 1, 4])],
    );
    c.check(
        "where_ broadcast 0-dim a, [4] b",
        |v| Tensor::where_(&m34, &v[0], &v[1]),
        &[randn(&g, &[]), randn_s(&g, &[4])],
    );
    c.check(
        "where_ number b",
        |v| Tensor::where_(&m34, &v[0], 0.5),
        &[randn_t(&g, &[3, 4])],
    );
    c.check(
        "where_ number a",
        |v| Tensor::where_(&m234, 2.0, &v[0]),
        &[randn(&g, &[3, 4])],
    );
    c.check(
        "where_ only b requires grad",
        |v| Tensor::where_(&m34, &v[0], &v[1]),
        &[data(&g, &[3, 4]), randn(&g, &[3, 4])],
    );
    c.finish();
}

// ---------------------------------------------------------------------------------------------
// Conversions, copies, in-place operations
// ---------------------------------------------------------------------------------------------

#[test]
fn conversions_and_copies() {
    let g = gen_seeded(12);
    let mut c = Checks::new("conversions and copies");
    c.check(
        "clone_tensor contiguous",
        |v| v[0].clone_tensor(),
        &[randn(&g, &[3, 4])],
    );
    c.check(
        "clone_tensor transposed",
        |v| v[0].clone_tensor(),
        &[randn_t(&g, &[3, 4])],
    );
    c.check(
        "contiguous of transposed (a copy)",
        |v| v[0].contiguous(),
        &[randn_t(&g, &[3, 4])],
    );
    c.check(
        "contiguous of strided (a copy)",
        |v| v[0].contiguous().exp(),
        &[randn_s(&g, &[3, 4])],
    );
    c.check(
        "contiguous of contiguous (the input itself)",
        |v| v[0].contiguous(),
        &[randn(&g, &[3, 4])],
    );
    c.check(
        "to_dtype F64 (no-op) then tanh",
        |v| v[0].to_dtype(F64).tanh(),
        &[randn(&g, &[3, 4])],
    );

    // Through float32: inputs are multiples of 1/64 and eps is 2^-10, so that x ± eps is exact
    // in float32 and the finite differences see no rounding.
    let dyadic = |t: Tensor| map(t, |x| (x * 64.0).round() / 64.0);
    let opts = GradcheckOptions {
        eps: 1.0 / 1024.0,
        ..GradcheckOptions::default()
    };
    c.check_with(
        "to_dtype F64 -> F32 -> F64 then tanh",
        opts,
        |v| v[0].to_dtype(DType::F32).to_dtype(F64).tanh(),
        &[dyadic(randn(&g, &[3, 4]))],
    );
    c.check_with(
        "to_dtype F64 -> F32 -> F64 transposed",
        opts,
        |v| v[0].to_dtype(DType::F32).double().mul(&v[1]),
        &[dyadic(randn_t(&g, &[3, 4])), randn(&g, &[4])],
    );
    c.check_with(
        "to_dtype F64 -> F32 (float32 output)",
        opts,
        |v| v[0].to_dtype(DType::F32),
        &[dyadic(randn_s(&g, &[2, 3]))],
    );
    c.finish();
}

#[test]
fn inplace() {
    let g = gen_seeded(13);
    let mut c = Checks::new("in-place");
    // Each in-place op runs on a non-leaf copy of the first input.
    c.check(
        "add_ tensor",
        |v| v[0].clone_tensor().add_(&v[1]),
        &[randn(&g, &[3, 4]), randn(&g, &[3, 4])],
    );
    c.check(
        "add_ tensor broadcast [1,4] non-contiguous",
        |v| v[0].clone_tensor().add_(&v[1]),
        &[randn_t(&g, &[3, 4]), randn_s(&g, &[1, 4])],
    );
    c.check(
        "add_ 0-dim tensor",
        |v| v[0].mul(2.0).add_(&v[1]),
        &[randn(&g, &[3, 4]), randn(&g, &[])],
    );
    c.check(
        "add_ scalar",
        |v| v[0].sin().add_(1.5),
        &[randn_t(&g, &[3, 4])],
    );
    c.check(
        "add_alpha_",
        |v| v[0].clone_tensor().add_alpha_(&v[1], -0.5),
        &[randn(&g, &[3, 4]), randn_t(&g, &[3, 4])],
    );
    c.check(
        "sub_ tensor broadcast [3,1]",
        |v| v[0].clone_tensor().sub_(&v[1]),
        &[randn(&g, &[3, 4]), randn(&g, &[3, 1])],
    );
    c.check(
        "sub_ scalar",
        |v| v[0].sin().sub_(0.5),
        &[randn_s(&g, &[3, 4])],
    );
    c.check(
        "mul_ tensor",
        |v| v[0].clone_tensor().mul_(&v[1]),
        &[randn(&g, &[3, 4]), randn_t(&g, &[3, 4])],
    );
    c.check(
        "mul_ tensor broadcast [4]",
        |v| v[0].clone_tensor().mul_(&v[1]),
        &[randn(&g, &[3, 4]), randn_s(&g, &[4])],
    );
    c.check(
        "mul_ scalar",
        |v| v[0].clone_tensor().mul_(-2.0),
        &[randn_t(&g, &[3, 4])],
    );
    c.check(
        "div_ tensor",
        |v| v[0].clone_tensor().div_(&v[1]),
        &[randn(&g, &[3, 4]), positive(randn_t(&g, &[3, 4]))],
    );
    c.check(
        "div_ scalar",
        |v| v[0].clone_tensor().div_(3.0),
        &[randn_s(&g, &[3, 4])],
    );
    c.check(
        "pow_ scalar 2",
        |v| v[0].clone_tensor().pow_(2.0),
        &[randn(&g, &[3, 4])],
    );
    c.check(
        "pow_ scalar 1.5",
        |v| v[0].clone_tensor().pow_(1.5),
        &[positive(randn_t(&g, &[3, 4]))],
    );
    c.check(
        "pow_ tensor",
        |v| v[0].clone_tensor().pow_(&v[1]),
        &[positive(randn(&g, &[3, 4])), randn_s(&g, &[3, 4])],
    );
    c.check(
        "clamp_",
        |v| v[0].clone_tensor().clamp_(Some(-0.5), Some(0.5)),
        &[away_from(randn_t(&g, &[3, 4]), &[-0.5, 0.5])],
    );
    let m = data(&g, &[3, 4]).gt(0.0);
    c.check(
        "masked_fill_",
        |v| v[0].clone_tensor().masked_fill_(&m, 2.0),
        &[randn_s(&g, &[3, 4])],
    );
    c.check(
        "fill_ (the old value gets no gradient)",
        |v| {
            let y = v[0].clone_tensor();
            y.fill_(2.0);
            y.mul(&v[0])
        },
        &[randn(&g, &[3, 4])],
    );
    c.check(
        "zero_ (the old value gets no gradient)",
        |v| {
            let y = v[0].sin();
            y.zero_();
            y.add(v[0].cos())
        },
        &[randn_t(&g, &[3, 4])],
    );
    c.check(
        "copy_ broadcast non-contiguous source",
        |v| v[0].clone_tensor().copy_(&v[1]),
        &[randn(&g, &[3, 4]), randn_s(&g, &[1, 4])],
    );
    c.check(
        "in-place into a tensor that does not require grad",
        |v| Tensor::zeros_dtype([3, 4], F64).add_(&v[0]).mul_(&v[1]),
        &[randn(&g, &[3, 4]), randn_t(&g, &[3, 4])],
    );
    c.check(
        "chained mul_ add_ div_ then exp",
        |v| v[0].mul(0.5).mul_(&v[1]).add_(1.0).div_(&v[2]).exp(),
        &[
            randn(&g, &[3, 4]),
            randn_t(&g, &[3, 4]),
            positive(randn_s(&g, &[3, 4])),
        ],
    );
    c.check(
        "in-place after another use of the old value",
        |v| {
            let y = v[0].add(1.0);
            let z = y.mul(3.0);
            y.mul_(&v[1]);
            z.add(&y)
        },
        &[randn(&g, &[3, 4]), randn(&g, &[3, 4])],
    );
    c.finish();
}

/// In-place operations on views of tensors in a graph: PyTorch rebases the base onto a
/// `CopySlices` node, and views taken before the change regenerate their `grad_fn`.
#[test]
fn inplace_on_views() {
    let g = gen_seeded(16);
    let mut c = Checks::new("in-place on views");
    c.check(
        "add_ into a transposed view of a constant",
        |v| {
            let y = Tensor::zeros_dtype([4, 3], F64).t();
            y.add_(&v[0]);
            y.mul(&v[0])
        },
        &[randn(&g, &[3, 4])],
    );
    // PyTorch: a view created before an in-place change of its base sees the new values and
    // differentiates through the change (its grad_fn is regenerated from the base).
    c.check(
        "view taken before an in-place op on its base",
        |v| {
            let y = v[0].mul(1.0);
            let z = y.t();
            y.mul_(2.0);
            z.mul(1.0)
        },
        &[randn(&g, &[2, 3])],
    );
    c.check(
        "mul_ on a transposed view of a non-leaf",
        |v| {
            let y = v[0].mul(1.0);
            y.t().mul_(&v[1]);
            y
        },
        &[randn(&g, &[3, 4]), randn(&g, &[4, 3])],
    );
    c.check(
        "add_ on a slice of a non-leaf",
        |v| {
            // (`exp` would save its output, which the in-place change invalidates, as in PyTorch.)
            let y = v[0].sin();
            y.narrow(1, 1, 2).add_(&v[1]);
            y.sin()
        },
        &[randn(&g, &[3, 4]), randn_s(&g, &[3, 2])],
    );
    c.check(
        "add_ on a row of a non-contiguous base (a detached transpose)",
        |v| {
            let d = Tensor::zeros_dtype([3, 4], F64).t().detach();
            d.select(0, 1).add_(&v[0]);
            d.mul(&v[1])
        },
        &[randn(&g, &[3]), randn(&g, &[4, 3])],
    );
    c.finish();
}

// ---------------------------------------------------------------------------------------------
// Compositions
// ---------------------------------------------------------------------------------------------

#[test]
fn compositions() {
    let g = gen_seeded(14);
    let mut c = Checks::new("compositions");
    c.check(
        "softmax of a matmul",
        |v| v[0].matmul(&v[1]).softmax(-1),
        &[randn(&g, &[3, 4]), randn_t(&g, &[4, 5])],
    );
    c.check(
        "view of a transpose then a reduction",
        |v| {
            v[0].transpose(0, 1)
                .reshape([2, 6])
                .pow(2)
                .sum_dim(0, false)
        },
        &[randn(&g, &[3, 4])],
    );
    c.check(
        "slice of a transpose, mean keepdim, broadcast back",
        |v| {
            let s = v[0].t().slice(0, Some(1), None, 2);
            s.sub(s.mean_dim(1, true)).tanh()
        },
        &[randn_s(&g, &[3, 4])],
    );
    let target = data(&g, &[3, 2]);
    c.check(
        "mse loss of a linear layer",
        |v| v[0].linear(&v[1], Some(&v[2])).sub(&target).pow(2).mean(),
        &[randn(&g, &[3, 4]), randn_t(&g, &[2, 4]), randn(&g, &[2])],
    );
    let classes = index(&[2, 0, 3], &[3, 1]);
    c.check(
        "cross entropy: log_softmax, gather, mean",
        |v| v[0].log_softmax(1).gather(1, &classes).neg().mean(),
        &[randn_t(&g, &[3, 4])],
    );
    c.check(
        "layer norm",
        |v| {
            let x = &v[0];
            let mean = x.mean_dim(-1, true);
            let var = x.var_correction(-1, 0.0, true);
            x.sub(&mean).div(var.add(1e-5).sqrt()).mul(&v[1]).add(&v[2])
        },
        &[randn_t(&g, &[3, 4]), randn(&g, &[4]), randn(&g, &[4])],
    );
    c.check(
        "attention: softmax(q k^T / 2) v",
        |v| v[0].matmul(&v[1].t()).div(2.0).softmax(-1).matmul(&v[2]),
        &[randn(&g, &[3, 4]), randn_t(&g, &[5, 4]), randn(&g, &[5, 2])],
    );
    c.check(
        "two-layer perceptron",
        |v| {
            Tensor::addmm(&v[1], &v[0], &v[2])
                .tanh()
                .matmul(&v[3])
                .sigmoid()
                .sum()
        },
        &[
            randn(&g, &[3, 4]),
            randn(&g, &[5]),
            randn_t(&g, &[4, 5]),
            randn(&g, &[5, 2]),
        ],
    );
    c.check(
        "logsumexp of a broadcast sum",
        |v| v[0].add(&v[1]).logsumexp(1, false),
        &[randn(&g, &[3, 1]), randn_s(&g, &[1, 4])],
    );
    c.check(
        "row norms: sqrt of sum of squares",
        |v| v[0].pow(2).sum_dim(1, false).sqrt(),
        &[randn_t(&g, &[3, 4])],
    );
    c.check(
        "standardize with std_correction",
        |v| {
            v[0].sub(v[0].mean_dim(1, true))
                .div(v[0].std_correction(1, 1.0, true))
        },
        &[randn(&g, &[3, 4])],
    );
    c.check(
        "cat of views, then amax",
        |v| {
            Tensor::cat(&[&v[0].t(), &v[1].narrow(0, 1, 2)], 0)
                .mul(v[1].select(0, 0))
                .amax(0, false)
        },
        &[randn(&g, &[3, 2]), randn_s(&g, &[3, 3])],
    );
    c.check(
        "gelu, unsqueeze, expand, then bmm",
        |v| {
            let a = v[0].gelu("tanh").unsqueeze(0).expand([2, 3, 4]);
            a.bmm(&v[1]).relu().sum_dim([1, 2], false)
        },
        &[randn(&g, &[3, 4]), randn_t(&g, &[2, 4, 2])],
    );
    c.check(
        "expand, transpose, reshape (a copy), narrow",
        |v| {
            v[0].expand([2, 3, 4])
                .transpose(0, 1)
                .reshape([3, 8])
                .narrow(1, 2, 4)
                .mul(&v[1])
        },
        &[randn_s(&g, &[3, 1]), randn(&g, &[4])],
    );
    c.finish();
}

// ---------------------------------------------------------------------------------------------
// gradcheck itself
// ---------------------------------------------------------------------------------------------

#[test]
fn gradcheck_detects_wrong_gradients() {
    let g = gen_seeded(15);
    let opts = GradcheckOptions::default();
    let x = randn(&g, &[3, 4]);
    let xt = randn_t(&g, &[3, 4]);

    // x.detach() * x has the value x², but autograd sees only one factor: its gradient is x,
    // half the true 2x.
    let half = |v: &[Tensor]| v[0].detach().mul(&v[0]);
    for (layout, input) in [("contiguous", &x), ("transposed", &xt)] {
        let Err(err) = gradcheck(half, std::slice::from_ref(input), opts) else {
            panic!("gradcheck accepted a halved gradient ({layout})");
        };
        assert!(
            err.contains("Jacobian mismatch"),
            "unexpected message: {err}"
        );
    }
    // The correct op passes at the same point.
    gradcheck(|v| v[0].mul(&v[0]), std::slice::from_ref(&x), opts)
        .unwrap_or_else(|e| panic!("x * x: {e}"));

    // A gradient off by 1% is outside rtol = 1e-3: the value is x, the gradient 1.01.
    let off = |v: &[Tensor]| v[0].mul(1.01).sub(v[0].detach().mul(0.01));
    assert!(
        gradcheck(off, std::slice::from_ref(&x), opts).is_err(),
        "gradcheck accepted a gradient off by 1%"
    );

    // A gradient missing for one input (it is used only through a detached alias).
    let missing = |v: &[Tensor]| v[0].detach().exp().mul(&v[1]);
    assert!(
        gradcheck(missing, &[x.clone(), xt.clone()], opts).is_err(),
        "gradcheck accepted a missing gradient"
    );
}

/// `nn.functional`: the losses (MSE has its own backward; the others are compositions), layer
/// norm, embedding, cosine similarity, logsigmoid, dropout with p = 0, on contiguous,
/// non-contiguous and broadcast inputs, every reduction.
#[test]
fn nn_functional() {
    use flambeau::nn::functional::{self as F, CrossEntropyOptions, KlReduction, Reduction};
    let g = gen_seeded(21);
    let mut c = Checks::new("nn.functional");
    let reductions = [Reduction::Mean, Reduction::Sum, Reduction::None];
    let y = data(&g, &[4, 5]);
    for r in reductions {
        c.check(
            &format!("mse_loss {r:?}"),
            |v| F::mse_loss(&v[0], &v[1], r),
            &[randn(&g, &[4, 5]), randn_t(&g, &[4, 5])],
        );
        c.check(
            &format!("l1_loss {r:?}"),
            |v| F::l1_loss(&v[0], &y, r),
            &[randn_s(&g, &[4, 5])],
        );
        c.check(
            &format!("smooth_l1_loss {r:?}"),
            |v| F::smooth_l1_loss(&v[0], &y, r, 0.5),
            &[randn(&g, &[4, 5])],
        );
        c.check(
            &format!("huber_loss {r:?}"),
            |v| F::huber_loss(&v[0], &y, r, 0.7),
            &[randn(&g, &[4, 5])],
        );
    }
    c.check(
        "mse_loss broadcast target",
        |v| F::mse_loss(&v[0], &v[1], Reduction::Mean),
        &[randn(&g, &[4, 5]), randn(&g, &[5])],
    );
    let t = Tensor::from_vec(vec![0i64, 4, 2, 1], [4]);
    let w = map(data(&g, &[5]), |x| x.abs() + 0.5);
    let prob = data(&g, &[4, 5]).softmax(1);
    for r in reductions {
        for (label, opts) in [
            (
                "plain",
                CrossEntropyOptions {
                    reduction: r,
                    ..Default::default()
                },
            ),
            (
                "weight",
                CrossEntropyOptions {
                    reduction: r,
                    weight: Some(w.clone()),
                    ..Default::default()
                },
            ),
            (
                "ignore_index",
                CrossEntropyOptions {
                    reduction: r,
                    ignore_index: 2,
                    ..Default::default()
                },
            ),
            (
                "label_smoothing",
                CrossEntropyOptions {
                    reduction: r,
                    label_smoothing: 0.1,
                    weight: Some(w.clone()),
                    ..Default::default()
                },
            ),
        ] {
            c.check(
                &format!("cross_entropy {label} {r:?}"),
                |v| F::cross_entropy(&v[0], &t, &opts),
                &[randn_t(&g, &[4, 5])],
            );
            c.check(
                &format!("nll_loss {label} {r:?}"),
                |v| F::nll_loss(&v[0], &t, &opts),
                &[randn(&g, &[4, 5])],
            );
        }
        let opts = CrossEntropyOptions {
            reduction: r,
            label_smoothing: 0.2,
            ..Default::default()
        };
        c.check(
            &format!("cross_entropy probabilities {r:?}"),
            |v| F::cross_entropy(&v[0], &prob, &opts),
            &[randn(&g, &[4, 5])],
        );
        let p = map(randn(&g, &[4, 5]), |x| 0.1 + 0.8 / (1.0 + (-x).exp()));
        let target = map(data(&g, &[4, 5]), |x| 1.0 / (1.0 + (-x).exp()));
        c.check(
            &format!("binary_cross_entropy {r:?}"),
            |v| F::binary_cross_entropy(&v[0], &target, Some(&w), r),
            &[p],
        );
        let pw = map(data(&g, &[5]), |x| x.abs() + 0.5);
        c.check(
            &format!("bce_with_logits {r:?}"),
            |v| F::binary_cross_entropy_with_logits(&v[0], &target, Some(&w), Some(&pw), r),
            &[randn_t(&g, &[4, 5])],
        );
    }
    let spatial_t = Tensor::from_vec(vec![0i64, 2, 1, 1, 0, 2], [2, 3]);
    c.check(
        "cross_entropy spatial (N, C, d)",
        |v| F::cross_entropy(&v[0], &spatial_t, &CrossEntropyOptions::default()),
        &[randn(&g, &[2, 3, 3])],
    );
    let q = data(&g, &[4, 5]).softmax(1);
    for kr in [
        KlReduction::BatchMean,
        KlReduction::Sum,
        KlReduction::None,
        KlReduction::Mean,
    ] {
        c.check(
            &format!("kl_div {kr:?}"),
            |v| F::kl_div(&v[0].log_softmax(1), &q, kr, false),
            &[randn(&g, &[4, 5])],
        );
        c.check(
            &format!("kl_div log_target {kr:?}"),
            |v| F::kl_div(&v[0], &v[1], kr, true),
            &[randn(&g, &[4, 5]), randn(&g, &[4, 5])],
        );
    }
    let (lw, lb) = (randn(&g, &[6]), randn(&g, &[6]));
    c.check(
        "layer_norm affine",
        |v| F::layer_norm(&v[0], &[6], Some(&v[1]), Some(&v[2]), 1e-5),
        &[randn_t(&g, &[3, 6]), lw, lb],
    );
    c.check(
        "layer_norm two dims",
        |v| F::layer_norm(&v[0], &[3, 4], None, None, 1e-5),
        &[randn(&g, &[2, 3, 4])],
    );
    let idx = Tensor::from_vec(vec![1i64, 3, 1, 0, 4, 3], [2, 3]);
    c.check(
        "embedding with repeats",
        |v| F::embedding(&idx, &v[0]),
        &[randn(&g, &[5, 3])],
    );
    c.check(
        "cosine_similarity",
        |v| F::cosine_similarity(&v[0], &v[1], 1, 1e-8),
        &[randn(&g, &[4, 5]), randn_t(&g, &[4, 5])],
    );
    c.check(
        "cosine_similarity broadcast",
        |v| F::cosine_similarity(&v[0], &v[1], -1, 1e-8),
        &[randn(&g, &[4, 5]), randn(&g, &[1, 5])],
    );
    c.check(
        "logsigmoid",
        |v| F::logsigmoid(&v[0]),
        &[randn_s(&g, &[3, 4])],
    );
    c.check(
        "dropout p = 0",
        |v| F::dropout(&v[0], 0.0, true),
        &[randn(&g, &[3, 4])],
    );
    c.check(
        "linear 3-D input",
        |v| F::linear(&v[0], &v[1], Some(&v[2])),
        &[randn(&g, &[2, 3, 4]), randn_t(&g, &[5, 4]), randn(&g, &[5])],
    );
    c.finish();
}
