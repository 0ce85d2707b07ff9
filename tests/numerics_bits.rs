//! Float32 results that must be PyTorch's bit for bit: `var`/`std` (every entry point, full and
//! dim reductions, corrections 0/1/2, keepdim, a transposed input) and the `mean`/`sum`
//! reductions of `cross_entropy`/`nll_loss` over rows of very different magnitudes (with class
//! weights and `ignore_index` rows), plus their gradients to 1e-6 relative.
//!
//! Expected values: tests/data/var_std_bits.json and tests/data/loss_bits.json, written by
//! tests/data/gen_regressions.py (PyTorch 2.15, CPU). Inputs are not stored: each case seeds a
//! generator as the script seeds torch and draws the same `randn`/`randint`/`rand` samples (a
//! sample of the inputs' bits is stored to tell a generator divergence from a kernel one).

use flambeau::nn::functional::{self as F, CrossEntropyOptions, Reduction};
use flambeau::{DType, Generator, Tensor};
use serde_json::Value;

const VAR_STD: &str = include_str!("data/var_std_bits.json");
const LOSSES: &str = include_str!("data/loss_bits.json");

fn bits_of(t: &Tensor) -> Vec<u32> {
    t.contiguous()
        .to_vec::<f32>()
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

/// First and last three elements' bits, as the script's `sample`.
fn sample(t: &Tensor) -> Vec<u32> {
    let b = bits_of(t);
    if b.len() <= 6 {
        b
    } else {
        [&b[..3], &b[b.len() - 3..]].concat()
    }
}

fn u32s(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

/// Bit equality, except that any NaN matches any NaN (PyTorch's NaN payload is not a contract).
fn same_bits(got: u32, want: u32) -> bool {
    got == want || (f32::from_bits(got).is_nan() && f32::from_bits(want).is_nan())
}

fn seeded(seed: u64) -> Generator {
    let g = Generator::new();
    g.manual_seed(seed);
    g
}

/// Every var/std case of the script, through `var_correction`/`std_correction` and, for
/// corrections 0 and 1, through `var`/`std` (full) or `var_dim`/`std_dim` as well.
#[test]
fn var_and_std_are_pytorchs_bits() {
    let data: Value = serde_json::from_str(VAR_STD).unwrap();
    let mut failures = Vec::new();
    let cases = data["cases"].as_array().unwrap();
    assert!(cases.len() > 60);
    for case in cases {
        let op = case["op"].as_str().unwrap();
        let shape = usizes(&case["shape"]);
        let g = seeded(case["seed"].as_u64().unwrap());
        let mut x = Tensor::randn_gen(shape.as_slice(), DType::F32, &g);
        if case["transpose"].as_bool().unwrap() {
            x = x.t();
        }
        let what = format!(
            "{op} of randn({shape:?}){} dims={} correction={} keepdim={}",
            if case["transpose"].as_bool().unwrap() {
                ".t()"
            } else {
                ""
            },
            case["dims"],
            case["correction"],
            case["keepdim"]
        );
        assert_eq!(sample(&x), u32s(&case["input_sample"]), "inputs of {what}");
        let dims: Vec<i64> = match case["dims"].as_array() {
            Some(d) => d.iter().map(|v| v.as_i64().unwrap()).collect(),
            None => vec![],
        };
        let correction = case["correction"].as_f64().unwrap();
        let keepdim = case["keepdim"].as_bool().unwrap();
        let want = u32s(&case["out"]);
        let mut outs = vec![(
            "*_correction",
            if op == "var" {
                x.var_correction(dims.as_slice(), correction, keepdim)
            } else {
                x.std_correction(dims.as_slice(), correction, keepdim)
            },
        )];
        if correction <= 1.0 {
            let unbiased = correction == 1.0;
            if case["dims"].is_null() && !keepdim {
                outs.push((
                    "var/std",
                    if op == "var" {
                        x.var(unbiased)
                    } else {
                        x.std(unbiased)
                    },
                ));
            } else if !case["dims"].is_null() {
                outs.push((
                    "*_dim",
                    if op == "var" {
                        x.var_dim(dims.as_slice(), unbiased, keepdim)
                    } else {
                        x.std_dim(dims.as_slice(), unbiased, keepdim)
                    },
                ));
            }
        }
        for (api, out) in outs {
            assert_eq!(out.dims(), usizes(&case["out_shape"]).as_slice(), "{what}");
            let got = bits_of(&out);
            let bad: Vec<String> = got
                .iter()
                .zip(&want)
                .enumerate()
                .filter(|(_, (g, w))| !same_bits(**g, **w))
                .take(3)
                .map(|(i, (g, w))| {
                    format!(
                        "[{i}] got {:e} ({g:#010x}) want {:e} ({w:#010x})",
                        f32::from_bits(*g),
                        f32::from_bits(*w)
                    )
                })
                .collect();
            if !bad.is_empty() {
                failures.push(format!("{what} via {api}: {}", bad.join(", ")));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The script's row scales: row i times `2^((7i mod 17) - 6) * [1, 3, 5, 0.1][i mod 4]`.
fn scales(n: usize) -> Tensor {
    let v: Vec<f32> = (0..n)
        .map(|i| {
            let k = ((i * 7) % 17) as i32 - 6;
            let m = [1.0, 3.0, 5.0, 0.1][i % 4];
            (2f64.powi(k) * m) as f32
        })
        .collect();
    Tensor::from_vec(v, [n, 1])
}

/// The inputs of one loss case: (x, targets, weight), drawn in the script's order.
fn loss_inputs(case: &Value) -> (Tensor, Tensor, Tensor) {
    let n = case["n"].as_u64().unwrap() as usize;
    let c = case["c"].as_u64().unwrap() as usize;
    let g = seeded(case["seed"].as_u64().unwrap());
    let x = Tensor::randn_gen([n, c], DType::F32, &g);
    let t = Tensor::randint_gen(0, c as i64, [n], DType::I64, &g);
    let w = Tensor::rand_gen([c], DType::F32, &g) + 0.5;
    let logits = (&x * &scales(n)).requires_grad_(true);
    let mut tv = t.to_vec::<i64>();
    if case["ignore"].as_bool().unwrap() {
        for v in tv.iter_mut().skip(5).step_by(13) {
            *v = -100;
        }
    }
    assert_eq!(sample(&x), u32s(&case["x_sample"]), "randn of {case:?}");
    assert_eq!(bits_of(&w), u32s(&case["weight_bits"]), "weight");
    assert_eq!(
        sample(&logits),
        u32s(&case["logits_sample"]),
        "scaled logits"
    );
    let want_t: Vec<i64> = case["target_sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(&tv[..6], want_t.as_slice(), "targets");
    (logits, Tensor::from_vec(tv, [n]), w)
}

/// Each case's loss, computed from its freshly drawn inputs.
fn loss_of(case: &Value) -> (String, Tensor, Tensor) {
    let (logits, target, w) = loss_inputs(case);
    let opts = CrossEntropyOptions {
        weight: case["weighted"].as_bool().unwrap().then_some(w),
        reduction: Reduction::parse(case["reduction"].as_str().unwrap()),
        ..Default::default()
    };
    let fname = case["fn"].as_str().unwrap();
    let loss = if fname == "cross_entropy" {
        F::cross_entropy(&logits, &target, &opts)
    } else {
        F::nll_loss(&logits, &target, &opts)
    };
    let what = format!(
        "{fname}(n={}, weighted={}, ignore={}, reduction={})",
        case["n"], case["weighted"], case["ignore"], case["reduction"]
    );
    (what, logits, loss)
}

/// `mean` and `sum` of 300 and 5000 per-row losses from 0 and ~1e-7 up to ~2e4 (PyTorch sums
/// them in its cascade order and divides by the summed weights), with and without class weights
/// and ignored rows: the f32 results, bit for bit.
#[test]
fn cross_entropy_and_nll_loss_reductions_are_pytorchs_bits() {
    let data: Value = serde_json::from_str(LOSSES).unwrap();
    let cases = data["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 32);
    let mut failures = Vec::new();
    for case in cases {
        let (what, _, loss) = loss_of(case);
        let (got, want) = (bits_of(&loss)[0], case["loss"].as_u64().unwrap() as u32);
        if got != want {
            failures.push(format!(
                "{what}: got {:e} ({got:#010x}), PyTorch {:e} ({want:#010x})",
                f32::from_bits(got),
                f32::from_bits(want)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The gradients of the 300-row `mean` cases (every cross_entropy variant; nll_loss weighted
/// with ignored rows), element by element to 1e-6 relative, or to 1e-6 of the largest gradient
/// element. The second bound is for the targets' entries of rows whose softmax is nearly one-hot,
/// `g * (1 - p)` with p close to 1, around 1e-9: PyTorch's CPU log_softmax backward computes
/// `grad - exp(output) * sum(grad)` with a single rounding (a fused multiply-add, its own
/// vectorised `exp` and sum order), Flambeau rounds the product and the difference separately,
/// which moves those tiny entries by about 1e-10 (a known, documented difference).
#[test]
fn cross_entropy_and_nll_loss_gradients_match_pytorch() {
    let data: Value = serde_json::from_str(LOSSES).unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in data["cases"].as_array().unwrap() {
        let Some(grad) = case.get("grad") else {
            continue;
        };
        checked += 1;
        let (what, logits, loss) = loss_of(case);
        loss.backward();
        let got = logits.grad().unwrap().to_vec::<f32>();
        let want: Vec<f32> = u32s(grad).into_iter().map(f32::from_bits).collect();
        assert_eq!(got.len(), want.len());
        // The error in units of the allowed error: 1e-6 of the element plus 1e-7 of the largest
        // element (about 3e-10 here).
        let floor = want.iter().fold(0.0f32, |m, w| m.max(w.abs())) * 1e-7;
        let rel = |g: f32, w: f32| (g - w).abs() / (1e-6 * w.abs() + floor).max(f32::MIN_POSITIVE);
        let bad: Vec<usize> = (0..got.len())
            .filter(|&i| rel(got[i], want[i]) > 1.0)
            .collect();
        if let Some(&i) = bad
            .iter()
            .max_by(|&&a, &&b| rel(got[a], want[a]).total_cmp(&rel(got[b], want[b])))
        {
            failures.push(format!(
                "{what}: {} of {} gradient elements off by more than the tolerance; worst [{i}]: got {:e}, PyTorch {:e} ({:.1e} x the tolerance)",
                bad.len(),
                got.len(),
                got[i],
                want[i],
                rel(got[i], want[i])
            ));
        }
    }
    assert_eq!(checked, 5);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
