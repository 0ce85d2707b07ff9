//! Recurrent layers: `nn.RNN`, `nn.LSTM`, `nn.GRU`, their cells and `pad_sequence`.
//!
//! Gradients of every configuration (layers, directions, batch_first, initial states, unbatched
//! and non-contiguous inputs, no bias, projections) are checked against finite differences to
//! first and second order, with respect to the inputs, the initial states and every parameter.
//! Values PyTorch computed are quoted from `torch` 2.15 (the snippet that printed them is beside
//! each). Reprs, state dict keys, error texts and `pad_sequence` are in `layers_rnn_api.rs`.

use flambeau::autograd::{GradcheckOptions, gradcheck, gradgradcheck};
use flambeau::nn::{
    GRU, GRUCell, LSTM, LSTMCell, Module, RNN, RNNCell, RNNOptions, functional as F,
};
use flambeau::{DType, Generator, Tensor, manual_seed, no_grad};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

const F64: DType = DType::F64;

/// Tests that seed the default generator run one at a time.
static SEED_LOCK: Mutex<()> = Mutex::new(());

fn seeded() -> std::sync::MutexGuard<'static, ()> {
    SEED_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Builds a module while no seeded test can draw in between (construction draws the init).
fn built<M>(f: impl FnOnce() -> M) -> M {
    let _g = seeded();
    f()
}

fn randn(shape: &[usize], g: &Generator) -> Tensor {
    Tensor::randn_gen(shape, F64, g).requires_grad_(true)
}

/// Every output flattened into one tensor, so one gradcheck covers them all.
fn flat(ts: &[&Tensor]) -> Tensor {
    Tensor::cat(
        &ts.iter()
            .map(|t| t.reshape([-1]))
            .collect::<Vec<_>>()
            .iter()
            .collect::<Vec<_>>(),
        0,
    )
}

/// The parameters of `m` as gradcheck inputs: the very tensors the module computes with, so the
/// in-place perturbations of the numerical Jacobian reach the module.
fn params(m: &dyn Module) -> Vec<Tensor> {
    m.parameters().iter().map(|p| p.tensor().clone()).collect()
}

/// gradcheck and gradgradcheck of `f` at `inputs`; returns a failure description.
fn check(label: &str, f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) -> Option<String> {
    let opts = GradcheckOptions::default();
    let r = catch_unwind(AssertUnwindSafe(|| {
        gradcheck(&f, inputs, opts)
            .map_err(|e| format!("gradcheck: {e}"))
            .and_then(|_| {
                gradgradcheck(&f, inputs, 7, opts).map_err(|e| format!("gradgradcheck: {e}"))
            })
    }));
    match r {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("{label}: {e}")),
        Err(p) => Some(format!(
            "{label}: panicked: {:?}",
            p.downcast_ref::<String>()
        )),
    }
}

fn finish(failures: Vec<Option<String>>) {
    let failed: Vec<String> = failures.into_iter().flatten().collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// The input's shape: (L, N, 2), or (N, L, 2) with `batch_first`; multi-layer and bidirectional
/// nets get a shorter sequence and one batch entry, to keep the second-order checks quick.
fn input_shape(o: &RNNOptions) -> (usize, [usize; 3]) {
    let (l, n) = if o.num_layers > 1 || o.bidirectional {
        (2, 1)
    } else {
        (3, 2)
    };
    (n, if o.batch_first { [n, l, 2] } else { [l, n, 2] })
}

fn opts() -> RNNOptions {
    RNNOptions::default()
}

#[test]
fn rnn_gradients() {
    let g = Generator::new().manual_seed(1);
    let mut failures = Vec::new();
    for (nl, o, h0) in [
        ("tanh", opts(), false),
        ("relu", opts(), true),
        ("tanh", opts().num_layers(2).bidirectional(true), true),
        ("relu", opts().batch_first(true).bias(false), false),
    ] {
        let mut m = built(|| RNN::with_options(2, 3, nl, o.clone()));
        m.to_dtype(F64);
        let (n, x_shape) = input_shape(&o);
        let d = if o.bidirectional { 2 } else { 1 };
        let mut inputs = vec![randn(&x_shape, &g)];
        if h0 {
            inputs.push(randn(&[d * o.num_layers, n, 3], &g));
        }
        inputs.extend(params(&m));
        let label = format!("RNN {nl} {o:?} h0={h0}");
        failures.push(check(
            &label,
            |v| {
                let (out, h) = m.forward(&v[0], h0.then(|| &v[1]));
                flat(&[&out, &h])
            },
            &inputs,
        ));
    }
    finish(failures);
}

#[test]
fn lstm_gradients() {
    let g = Generator::new().manual_seed(2);
    let mut failures = Vec::new();
    for (o, state) in [
        (opts(), false),
        (opts(), true),
        (opts().batch_first(true), true),
        (opts().num_layers(2), false),
        (opts().bidirectional(true), true),
        (opts().num_layers(2).bidirectional(true).bias(false), false),
        (opts().proj_size(1), true),
    ] {
        let mut m = built(|| LSTM::with_options(2, 2, o.clone()));
        m.to_dtype(F64);
        let states = if o.bidirectional { 2 } else { 1 } * o.num_layers;
        let real = if o.proj_size > 0 { o.proj_size } else { 2 };
        let (n, x_shape) = input_shape(&o);
        let mut inputs = vec![randn(&x_shape, &g)];
        if state {
            inputs.push(randn(&[states, n, real], &g));
            inputs.push(randn(&[states, n, 2], &g));
        }
        inputs.extend(params(&m));
        failures.push(check(
            &format!("LSTM {o:?} state={state}"),
            |v| {
                let (out, (h, c)) = m.forward(&v[0], state.then(|| (&v[1], &v[2])));
                flat(&[&out, &h, &c])
            },
            &inputs,
        ));
    }
    finish(failures);
}

#[test]
fn gru_gradients() {
    let g = Generator::new().manual_seed(3);
    let mut failures = Vec::new();
    for (o, h0) in [
        (opts(), false),
        (opts().num_layers(2), true),
        (opts().bidirectional(true).batch_first(true), true),
        (opts().bias(false), false),
    ] {
        let mut m = built(|| GRU::with_options(2, 2, o.clone()));
        m.to_dtype(F64);
        let states = if o.bidirectional { 2 } else { 1 } * o.num_layers;
        let (n, x_shape) = input_shape(&o);
        let mut inputs = vec![randn(&x_shape, &g)];
        if h0 {
            inputs.push(randn(&[states, n, 2], &g));
        }
        inputs.extend(params(&m));
        failures.push(check(
            &format!("GRU {o:?} h0={h0}"),
            |v| {
                let (out, h) = m.forward(&v[0], h0.then(|| &v[1]));
                flat(&[&out, &h])
            },
            &inputs,
        ));
    }
    finish(failures);
}

/// Non-contiguous inputs (a transposed batch) and unbatched (L, H_in) inputs.
#[test]
fn layout_gradients() {
    let g = Generator::new().manual_seed(4);
    let mut failures = Vec::new();
    let mut lstm = built(|| LSTM::new(2, 2));
    lstm.to_dtype(F64);
    let mut gru = built(|| GRU::with_options(2, 2, opts().batch_first(true)));
    gru.to_dtype(F64);
    // (N, L, F) storage read as (L, N, F).
    let xt = randn(&[2, 3, 2], &g);
    failures.push(check(
        "LSTM transposed input",
        |v| {
            let (out, (h, c)) = lstm.forward(&v[0].transpose(0, 1), None);
            flat(&[&out, &h, &c])
        },
        std::slice::from_ref(&xt),
    ));
    let xu = randn(&[3, 2], &g);
    let hu = randn(&[1, 2], &g);
    let mut inputs = vec![xu.clone(), hu, randn(&[1, 2], &g)];
    inputs.extend(params(&lstm));
    failures.push(check(
        "LSTM unbatched",
        |v| {
            let (out, (h, c)) = lstm.forward(&v[0], Some((&v[1], &v[2])));
            flat(&[&out, &h, &c])
        },
        &inputs,
    ));
    let mut inputs = vec![xu, randn(&[1, 2], &g)];
    inputs.extend(params(&gru));
    failures.push(check(
        "GRU batch_first unbatched",
        |v| {
            let (out, h) = gru.forward(&v[0], Some(&v[1]));
            flat(&[&out, &h])
        },
        &inputs,
    ));
    finish(failures);
}

#[test]
fn cell_gradients() {
    let g = Generator::new().manual_seed(5);
    let mut failures = Vec::new();
    for (nl, bias) in [("tanh", true), ("relu", true), ("tanh", false)] {
        let mut c = built(|| RNNCell::with_options(3, 2, bias, nl));
        c.to_dtype(F64);
        for (batched, state) in [(true, true), (true, false), (false, true)] {
            let x = randn(if batched { &[2, 3][..] } else { &[3][..] }, &g);
            let h = randn(if batched { &[2, 2][..] } else { &[2][..] }, &g);
            let mut inputs = vec![x, h];
            inputs.extend(params(&c));
            failures.push(check(
                &format!("RNNCell {nl} bias={bias} batched={batched} state={state}"),
                |v| c.forward(&v[0], state.then(|| &v[1])),
                &inputs,
            ));
        }
    }
    for bias in [true, false] {
        let mut lc = built(|| LSTMCell::with_bias(3, 2, bias));
        lc.to_dtype(F64);
        let mut gc = built(|| GRUCell::with_bias(3, 2, bias));
        gc.to_dtype(F64);
        for (batched, state) in [(true, true), (true, false), (false, true)] {
            let shape = |n: usize| if batched { vec![2, n] } else { vec![n] };
            let x = randn(&shape(3), &g);
            let (h, c) = (randn(&shape(2), &g), randn(&shape(2), &g));
            let mut inputs = vec![x.clone(), h.clone(), c];
            inputs.extend(params(&lc));
            failures.push(check(
                &format!("LSTMCell bias={bias} batched={batched} state={state}"),
                |v| {
                    let (h, c) = lc.forward(&v[0], state.then(|| (&v[1], &v[2])));
                    flat(&[&h, &c])
                },
                &inputs,
            ));
            let mut inputs = vec![x, h];
            inputs.extend(params(&gc));
            failures.push(check(
                &format!("GRUCell bias={bias} batched={batched} state={state}"),
                |v| gc.forward(&v[0], state.then(|| &v[1])),
                &inputs,
            ));
        }
    }
    finish(failures);
}

/// `(torch.arange(24.) / 10 - 1).reshape(4, 2, 3)`.
fn ramp() -> Tensor {
    Tensor::arange(0.0, 24.0, 1.0)
        .div(10.0)
        .sub(1.0)
        .reshape([4, 2, 3])
}

fn assert_close(what: &str, got: &Tensor, want: &[f64], tol: f64) {
    let got = got.to_vec::<f64>();
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "{what}: element {i} is {a}, PyTorch has {b}"
        );
    }
}

/// Inter-layer dropout draws PyTorch's mask: same stream position, same (L, N, D·H) shape.
///
/// `torch.manual_seed(0); m = nn.LSTM(3, 3, num_layers=2, dropout=0.5).to(dt);
/// out, _ = m(ramp.to(dt))` in training mode, for float32 and float64.
#[test]
fn lstm_dropout_matches_pytorch() {
    let _g = seeded();
    const OUT: [f64; 24] = [
        -0.054009738712177735,
        0.056603903579104886,
        -0.11432708496124923,
        -0.09773212862297459,
        0.06550597110728118,
        -0.1715495110707234,
        -0.13637331011490933,
        0.1296069198509316,
        -0.22269514546087432,
        -0.14949462340866246,
        0.14834771166528976,
        -0.2489404621614829,
        -0.16854547880477364,
        0.19423553139034602,
        -0.2862732683327404,
        -0.1702168494240357,
        0.21189646945653248,
        -0.2655169807502071,
        -0.1795269737554702,
        0.2605317268788808,
        -0.3080955684625172,
        -0.18337558723171493,
        0.26464265997592423,
        -0.3134769656520236,
    ];
    // Eval mode: no dropout (first four outputs).
    const EVAL: [f64; 4] = [
        -0.09379453454535643,
        0.061041457242980476,
        -0.131471081076318,
        -0.10003175845142442,
    ];
    for (dtype, tol) in [(DType::F32, 1e-6), (F64, 1e-12)] {
        manual_seed(0);
        let mut m = LSTM::with_options(3, 3, opts().num_layers(2).dropout(0.5));
        m.to_dtype(dtype);
        let (out, _) = m.forward(&ramp().to_dtype(dtype), None);
        assert_close(&format!("train {dtype:?}"), &out, &OUT, tol);
        m.eval();
        let (out, _) = m.forward(&ramp().to_dtype(dtype), None);
        assert_close(
            &format!("eval {dtype:?}"),
            &out.reshape([-1]).narrow(0, 0, 4),
            &EVAL,
            tol,
        );
    }
}

/// A 3-layer bidirectional GRU draws one mask per inner layer, after the first's outputs of both
/// directions are concatenated. Built and checked here against the layers run one by one with
/// `F::dropout` from the same generator state.
#[test]
fn dropout_between_layers_is_one_draw_per_inner_layer() {
    let _g = seeded();
    manual_seed(0);
    let m = GRU::with_options(3, 3, opts().num_layers(3).dropout(0.3).bidirectional(true));
    let (out, h_n) = m.forward(&ramp(), None);
    // The same weights, one layer at a time.
    let sd = m.state_dict();
    let layers: Vec<GRU> = (0..3)
        .map(|l| {
            let one = GRU::with_options(if l == 0 { 3 } else { 6 }, 3, opts().bidirectional(true));
            for (name, p) in one.named_parameters() {
                let src = sd.get(&name.replace("_l0", &format!("_l{l}"))).unwrap();
                no_grad(|| p.copy_(src));
            }
            one
        })
        .collect();
    manual_seed(0);
    let _ = GRU::with_options(3, 3, opts().num_layers(3).dropout(0.3).bidirectional(true));
    let mut x = ramp();
    let mut hs = Vec::new();
    for (l, layer) in layers.iter().enumerate() {
        let (y, h) = layer.forward(&x, None);
        hs.push(h);
        x = if l < 2 { F::dropout(&y, 0.3, true) } else { y };
    }
    assert!(out.equal(&x), "output\n{out}\nlayer by layer\n{x}");
    assert!(h_n.equal(&Tensor::cat(&hs.iter().collect::<Vec<_>>(), 0)));
    // PyTorch's own figures for the first outputs (`torch.manual_seed(0); nn.GRU(3, 3,
    // num_layers=3, dropout=0.3, bidirectional=True)(ramp)[0]`).
    let want = [
        0.39646750688552856,
        -0.04306694492697716,
        0.14595958590507507,
        -0.29860877990722656,
        -0.024652838706970215,
        0.7602159976959229,
    ];
    assert_close(
        "GRU 3 layers",
        &out.reshape([-1]).narrow(0, 0, 6),
        &want,
        1e-6,
    );
}

/// Projections (`proj_size`): PyTorch's values, float64.
///
/// `torch.manual_seed(0); m = nn.LSTM(3, 4, num_layers=2, bidirectional=True,
/// proj_size=2).double(); out, (h, c) = m(ramp.double())`.
#[test]
fn lstm_projections_match_pytorch() {
    let _g = seeded();
    manual_seed(0);
    let mut m = LSTM::with_options(3, 4, opts().num_layers(2).bidirectional(true).proj_size(2));
    m.to_dtype(F64);
    let (out, (h, c)) = m.forward(&ramp().to_dtype(F64), None);
    assert_eq!(out.dims(), &[4, 2, 4]);
    assert_eq!(h.dims(), &[4, 2, 2]);
    assert_eq!(c.dims(), &[4, 2, 4]);
    let out_head = [
        0.14283861723379498,
        0.06949692841813801,
        0.031427745812787435,
        0.08848389632228128,
    ];
    assert_close("out", &out.reshape([-1]).narrow(0, 0, 4), &out_head, 1e-12);
    let h_all = [
        -0.07045698070047651,
        -0.025470100890866133,
        -0.09895164164874463,
        -0.04179860251321614,
        0.22459171114976736,
        -0.15691504833857745,
        0.12249809807661993,
        -0.09122485577629004,
        0.22058024959715844,
        0.045464172313851484,
        0.21656628987350976,
        0.04199615490426421,
        0.031427745812787435,
        0.08848389632228128,
        0.03624168130623369,
        0.08292987300134022,
    ];
    assert_close("h_n", &h, &h_all, 1e-12);
    let c_head = [
        -0.032516006239202935,
        -0.5708318990991423,
        -0.2076164370132921,
    ];
    assert_close("c_n", &c.reshape([-1]).narrow(0, 0, 3), &c_head, 1e-12);
}

/// An unbatched GRU without biases, and an unbatched ReLU cell: PyTorch's values.
///
/// `torch.manual_seed(1); g = nn.GRU(3, 2, bias=False, batch_first=True).double();
/// g(ramp.double()[:, 0])`; `torch.manual_seed(2); r = nn.RNNCell(3, 2,
/// nonlinearity='relu').double(); r(ramp[0]), r(ramp[0, 0])`.
#[test]
fn unbatched_and_biasless_match_pytorch() {
    let _g = seeded();
    manual_seed(1);
    let mut g = GRU::with_options(3, 2, opts().bias(false).batch_first(true));
    g.to_dtype(F64);
    let x = ramp().to_dtype(F64).select(1, 0);
    let (out, h) = g.forward(&x, None);
    assert_eq!(out.dims(), &[4, 2]);
    assert_eq!(h.dims(), &[1, 2]);
    let want = [
        0.01747042260841144,
        -0.013932845311937659,
        0.0036217029445843804,
        -0.013831959335281599,
        -0.023157848398638842,
        -0.0010161558113387335,
        -0.054578180143682056,
        0.021047643714082125,
    ];
    assert_close("GRU out", &out, &want, 1e-12);
    assert_close("GRU h", &h, &want[6..], 1e-12);
    manual_seed(2);
    let mut r = RNNCell::with_options(3, 2, true, "relu");
    r.to_dtype(F64);
    let x = ramp().to_dtype(F64);
    let y = [0.0, 0.25477446390142156, 0.0, 0.3850622555285441];
    assert_close(
        "RNNCell batched",
        &r.forward(&x.select(0, 0), None),
        &y,
        1e-12,
    );
    let one = r.forward(&x.select(0, 0).select(0, 0), None);
    assert_eq!(one.dims(), &[2]);
    assert_close("RNNCell unbatched", &one, &y[..2], 1e-12);
}

/// The cells' default initialisation, bit for bit: `torch.manual_seed(0); nn.LSTMCell(3, 4);
/// nn.GRUCell(2, 3); nn.RNNCell(2, 2, bias=False)`.
#[test]
fn cell_init_matches_pytorch() {
    let _g = seeded();
    manual_seed(0);
    let l = LSTMCell::new(3, 4);
    let g = GRUCell::new(2, 3);
    let r = RNNCell::with_options(2, 2, false, "tanh");
    let bits = |t: &Tensor| {
        t.to_vec::<f32>()
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    let want = |v: &[f64]| v.iter().map(|&x| (x as f32).to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&l.weight_ih.reshape([-1]).narrow(0, 0, 6)),
        want(&[
            -0.003743410110473633,
            0.26822179555892944,
            -0.4115225672721863,
            -0.3679695129394531,
            -0.19257718324661255,
            0.13407868146896362
        ])
    );
    assert_eq!(
        bits(g.bias_hh.as_ref().unwrap()),
        want(&[
            -0.3440506160259247,
            -0.012596170417964458,
            0.02428804151713848,
            0.3721732795238495,
            -0.4364306330680847,
            -0.39635801315307617,
            -0.3352450728416443,
            0.4041067361831665,
            -0.2075372189283371
        ])
    );
    assert_eq!(
        bits(&r.weight_hh),
        want(&[
            -0.13978196680545807,
            0.08871810138225555,
            -0.16146406531333923,
            -0.004968439228832722
        ])
    );
    assert!(r.bias_ih.is_none() && r.bias_hh.is_none());
    let names: Vec<String> = l.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]);
}

/// The reverse direction of a bidirectional layer is a forward layer over the reversed sequence.
#[test]
fn reverse_direction_runs_backwards() {
    let g = Generator::new().manual_seed(8);
    let bi = built(|| LSTM::with_options(3, 2, opts().bidirectional(true)));
    let fw = built(|| LSTM::new(3, 2));
    let sd = bi.state_dict();
    for (name, p) in fw.named_parameters() {
        no_grad(|| p.copy_(sd.get(&format!("{name}_reverse")).unwrap()));
    }
    let x = Tensor::randn_gen([5, 2, 3], DType::F32, &g);
    let (out, (h, c)) = bi.forward(&x, None);
    let rev_idx = Tensor::from_vec(vec![4i64, 3, 2, 1, 0], [5]);
    let (out_r, (h_r, c_r)) = fw.forward(&x.index_select(0, &rev_idx), None);
    let back = out.narrow(2, 2, 2);
    assert!(back.allclose(&out_r.index_select(0, &rev_idx), 1e-6, 1e-7));
    assert!(h.select(0, 1).allclose(&h_r.select(0, 0), 1e-6, 1e-7));
    assert!(c.select(0, 1).allclose(&c_r.select(0, 0), 1e-6, 1e-7));
    // The forward half is the forward LSTM with the `_l0` weights.
    for (name, p) in fw.named_parameters() {
        no_grad(|| p.copy_(sd.get(&name).unwrap()));
    }
    let (out_f, _) = fw.forward(&x, None);
    assert!(out.narrow(2, 0, 2).allclose(&out_f, 1e-6, 1e-7));
}

/// A one-layer net and its cell stepped by hand agree (the whole-sequence input projection
/// against per-step projections).
#[test]
fn layers_agree_with_cells() {
    let g = Generator::new().manual_seed(9);
    let x = Tensor::randn_gen([4, 3, 2], F64, &g);
    let mut lstm = built(|| LSTM::new(2, 3));
    lstm.to_dtype(F64);
    let mut cell = built(|| LSTMCell::new(2, 3));
    cell.to_dtype(F64);
    let sd = lstm.state_dict();
    for (name, p) in cell.named_parameters() {
        no_grad(|| p.copy_(sd.get(&format!("{name}_l0")).unwrap()));
    }
    let (out, (h_n, c_n)) = lstm.forward(&x, None);
    let (mut h, mut c) = cell.forward(&x.select(0, 0), None);
    assert!(out.select(0, 0).allclose(&h, 1e-12, 1e-14));
    for t in 1..4 {
        (h, c) = cell.forward(&x.select(0, t), Some((&h, &c)));
        assert!(out.select(0, t).allclose(&h, 1e-12, 1e-14), "step {t}");
    }
    assert!(h_n.select(0, 0).allclose(&h, 1e-12, 1e-14));
    assert!(c_n.select(0, 0).allclose(&c, 1e-12, 1e-14));

    let mut gru = built(|| GRU::new(2, 3));
    gru.to_dtype(F64);
    let mut gcell = built(|| GRUCell::new(2, 3));
    gcell.to_dtype(F64);
    let mut rnn = built(|| RNN::with_options(2, 3, "relu", opts()));
    rnn.to_dtype(F64);
    let mut rcell = built(|| RNNCell::with_options(2, 3, true, "relu"));
    rcell.to_dtype(F64);
    for (net, cell) in [(&gru as &dyn Module, &gcell as &dyn Module), (&rnn, &rcell)] {
        let sd = net.state_dict();
        for (name, p) in cell.named_parameters() {
            no_grad(|| p.copy_(sd.get(&format!("{name}_l0")).unwrap()));
        }
    }
    let (out, _) = gru.forward(&x, None);
    let (rout, _) = rnn.forward(&x, None);
    let (mut h, mut hr) = (
        gcell.forward(&x.select(0, 0), None),
        rcell.forward(&x.select(0, 0), None),
    );
    for t in 1..4 {
        h = gcell.forward(&x.select(0, t), Some(&h));
        hr = rcell.forward(&x.select(0, t), Some(&hr));
    }
    assert!(out.select(0, 3).allclose(&h, 1e-12, 1e-14));
    assert!(rout.select(0, 3).allclose(&hr, 1e-12, 1e-14));
}
