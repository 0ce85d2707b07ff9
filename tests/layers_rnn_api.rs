//! Recurrent layers' interface: reprs, state dict keys and shapes, train/eval, PyTorch's error
//! texts (layers and cells), and `nn.utils.rnn.pad_sequence`. Gradients and values are in
//! `layers_rnn.rs`.

use flambeau::autograd::{GradcheckOptions, gradcheck, gradgradcheck};
use flambeau::nn::utils::rnn::pad_sequence;
use flambeau::nn::{GRU, GRUCell, LSTM, LSTMCell, Module, RNN, RNNCell, RNNOptions};
use flambeau::{DType, Generator, Tensor, manual_seed};
use std::panic::{AssertUnwindSafe, catch_unwind};

const F64: DType = DType::F64;

/// Every test here draws from the default generator (construction), and one checks PyTorch's
/// draws after a seed: they run one at a time.
static SEED_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn seeded() -> std::sync::MutexGuard<'static, ()> {
    SEED_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn opts() -> RNNOptions {
    RNNOptions::default()
}

#[test]
fn reprs_match_pytorch() {
    let _g = seeded();
    // print(m) in PyTorch for each.
    let cases: Vec<(Box<dyn Module>, &str)> = vec![
        (
            Box::new(LSTM::with_options(
                3,
                4,
                opts().num_layers(2).bidirectional(true),
            )),
            "LSTM(3, 4, num_layers=2, bidirectional=True)",
        ),
        (
            Box::new(GRU::with_options(3, 4, opts().batch_first(true))),
            "GRU(3, 4, batch_first=True)",
        ),
        (
            Box::new(RNN::with_options(3, 4, "relu", opts())),
            "RNN(3, 4)",
        ),
        (Box::new(LSTMCell::new(3, 4)), "LSTMCell(3, 4)"),
        (
            Box::new(RNNCell::with_options(3, 4, true, "relu")),
            "RNNCell(3, 4, nonlinearity=relu)",
        ),
        (
            Box::new(GRUCell::with_bias(3, 4, false)),
            "GRUCell(3, 4, bias=False)",
        ),
        (
            Box::new(LSTM::with_options(
                3,
                4,
                opts().num_layers(2).dropout(0.5).bias(false),
            )),
            "LSTM(3, 4, num_layers=2, bias=False, dropout=0.5)",
        ),
        (
            Box::new(LSTM::with_options(3, 4, opts().proj_size(2))),
            "LSTM(3, 4, proj_size=2)",
        ),
        (
            Box::new(RNN::with_options(3, 4, "tanh", opts().dropout(1.0))),
            "RNN(3, 4, dropout=1.0)",
        ),
    ];
    for (m, want) in cases {
        assert_eq!(m.repr(), want);
    }
}

#[test]
fn state_dict_keys_and_shapes() {
    let _g = seeded();
    // [(k, list(v.shape)) for k, v in nn.LSTM(3, 4, num_layers=2, bidirectional=True,
    // proj_size=2).state_dict().items()]
    let m = LSTM::with_options(3, 4, opts().num_layers(2).bidirectional(true).proj_size(2));
    let got: Vec<(String, Vec<usize>)> = m
        .state_dict()
        .iter()
        .map(|(k, v)| (k.to_string(), v.dims().to_vec()))
        .collect();
    let mut want = Vec::new();
    for l in 0..2 {
        for sfx in ["", "_reverse"] {
            let k = |n: &str| format!("{n}_l{l}{sfx}");
            want.push((k("weight_ih"), vec![16, if l == 0 { 3 } else { 4 }]));
            want.push((k("weight_hh"), vec![16, 2]));
            want.push((k("bias_ih"), vec![16]));
            want.push((k("bias_hh"), vec![16]));
            want.push((k("weight_hr"), vec![2, 4]));
        }
    }
    assert_eq!(got, want);
    // The last parameter PyTorch draws: `torch.manual_seed(0)` then the same constructor,
    // `m.weight_hr_l1_reverse`.
    manual_seed(0);
    let m = LSTM::with_options(3, 4, opts().num_layers(2).bidirectional(true).proj_size(2));
    let w = m
        .state_dict()
        .get("weight_hr_l1_reverse")
        .unwrap()
        .to_vec::<f32>();
    let want = [
        0.42326462268829346f64,
        -0.26947516202926636,
        0.15788787603378296,
        0.20461660623550415,
        -0.14774668216705322,
        0.16732656955718994,
        -0.1438567042350769,
        0.3091306686401367,
    ];
    assert_eq!(w, want.map(|v| v as f32));
    assert_eq!(m.all_weights().len(), 4);
    assert_eq!(m.all_weights()[3].len(), 5);
    // GRU / RNN without bias: two weights per layer and direction.
    let g = GRU::with_options(3, 4, opts().bias(false).num_layers(2));
    assert_eq!(
        g.state_dict().keys(),
        [
            "weight_ih_l0",
            "weight_hh_l0",
            "weight_ih_l1",
            "weight_hh_l1"
        ]
    );
}

#[test]
fn train_and_eval() {
    let _g = seeded();
    let m = LSTM::with_options(3, 4, opts().num_layers(2).dropout(0.5));
    assert!(m.is_training());
    let x = Tensor::randn([5, 2, 3]);
    m.eval();
    assert!(!m.is_training());
    let (a, _) = m.forward(&x, None);
    let (b, _) = m.forward(&x, None);
    assert!(a.equal(&b), "eval mode draws no dropout");
    m.train(true);
    let (c, _) = m.forward(&x, None);
    assert!(
        !c.equal(&a),
        "training mode applies dropout between the layers"
    );
    // One layer: dropout never applies (PyTorch only warns).
    let one = LSTM::with_options(3, 4, opts().dropout(0.5));
    let (p, _) = one.forward(&x, None);
    let (q, _) = one.forward(&x, None);
    assert!(p.equal(&q));
}

/// A call that must panic, and PyTorch's message for it.
type ErrorCase<'a> = (Box<dyn FnOnce() + 'a>, &'static str);

fn panic_text(f: impl FnOnce()) -> String {
    let e = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn error_messages() {
    let _g = seeded();
    let l = LSTM::new(3, 4);
    let g = GRU::new(3, 4);
    let r = RNN::new(3, 4);
    let z = |d: &[usize]| Tensor::zeros(d);
    let cases: Vec<ErrorCase> = vec![
        (
            Box::new(|| drop(l.forward(&z(&[2, 5]), None))),
            "input.size(-1) must be equal to input_size. Expected 3, got 5",
        ),
        (
            Box::new(|| drop(l.forward(&z(&[2, 2, 2, 5]), None))),
            "LSTM: Expected input to be 2D or 3D, got 4D instead",
        ),
        (
            Box::new(|| drop(l.forward(&z(&[5]), None))),
            "LSTM: Expected input to be 2D or 3D, got 1D instead",
        ),
        (
            Box::new(|| drop(l.forward(&z(&[5, 2, 3]), Some((&z(&[1, 3, 4]), &z(&[1, 2, 4])))))),
            "Expected hidden[0] size (1, 2, 4), got [1, 3, 4]",
        ),
        (
            Box::new(|| drop(l.forward(&z(&[5, 2, 3]), Some((&z(&[1, 2, 4]), &z(&[1, 2, 5])))))),
            "Expected hidden[1] size (1, 2, 4), got [1, 2, 5]",
        ),
        (
            Box::new(|| drop(l.forward(&z(&[5, 2, 3]), Some((&z(&[2, 4]), &z(&[2, 4])))))),
            "For batched 3-D input, hx and cx should also be 3-D but got (2-D, 2-D) tensors",
        ),
        (
            Box::new(|| drop(l.forward(&z(&[5, 3]), Some((&z(&[1, 2, 4]), &z(&[1, 2, 4])))))),
            "For unbatched 2-D input, hx and cx should also be 2-D but got (3-D, 3-D) tensors",
        ),
        (
            Box::new(|| drop(l.forward(&z(&[5, 3]).to_dtype(F64), None))),
            "RNN input dtype (torch.float64) does not match weight dtype (torch.float32). Convert input: input.to(torch.float32), or convert model: model.to(torch.float64)",
        ),
        (
            Box::new(|| drop(l.forward(&z(&[0, 2, 3]), None))),
            "Expected sequence length to be larger than 0 in RNN",
        ),
        (
            Box::new(|| drop(g.forward(&z(&[5, 2, 3]), Some(&z(&[1, 3, 4]))))),
            "Expected hidden size (1, 2, 4), got [1, 3, 4]",
        ),
        (
            Box::new(|| drop(g.forward(&z(&[5, 2, 3]), Some(&z(&[3, 4]))))),
            "For batched 3-D input, hx should also be 3-D but got 2-D tensor",
        ),
        (
            Box::new(|| drop(g.forward(&z(&[5, 3]), Some(&z(&[1, 3, 4]))))),
            "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor",
        ),
        (
            Box::new(|| drop(g.forward(&z(&[2, 2, 2, 5]), None))),
            "GRU: Expected input to be 2D or 3D, got 4D instead",
        ),
        (
            Box::new(|| drop(r.forward(&z(&[2, 2, 2, 5]), None))),
            "RNN: Expected input to be 2D or 3D, got 4D tensor instead",
        ),
        (
            Box::new(|| drop(RNN::with_options(3, 4, "gelu", opts()))),
            "Unknown nonlinearity 'gelu'. Select from 'tanh' or 'relu'.",
        ),
        (
            Box::new(|| drop(LSTM::with_options(3, 4, opts().dropout(1.5)))),
            "dropout should be a number in range [0, 1] representing the probability of an element being zeroed",
        ),
        (
            Box::new(|| drop(LSTM::new(3, 0))),
            "hidden_size must be greater than zero",
        ),
        (
            Box::new(|| drop(LSTM::with_options(3, 4, opts().num_layers(0)))),
            "num_layers must be greater than zero",
        ),
        (
            Box::new(|| drop(LSTM::with_options(3, 4, opts().proj_size(4)))),
            "proj_size has to be smaller than hidden_size",
        ),
        (
            Box::new(|| drop(GRU::with_options(3, 4, opts().proj_size(2)))),
            "proj_size argument is only supported for LSTM, not RNN or GRU",
        ),
    ];
    for (f, want) in cases {
        assert_eq!(panic_text(f), want);
    }
}

#[test]
fn cell_error_messages() {
    let _g = seeded();
    let c = LSTMCell::new(3, 4);
    let r = RNNCell::new(3, 4);
    let g = GRUCell::new(3, 4);
    let z = |d: &[usize]| Tensor::zeros(d);
    let cases: Vec<ErrorCase> = vec![
        (
            Box::new(|| drop(c.forward(&z(&[2, 5]), None))),
            "input has inconsistent input_size: got 5 expected 3",
        ),
        (
            Box::new(|| drop(c.forward(&z(&[2, 3]), Some((&z(&[3, 4]), &z(&[2, 4])))))),
            "Input batch size 2 doesn't match hidden0 batch size 3",
        ),
        (
            Box::new(|| drop(c.forward(&z(&[2, 3]), Some((&z(&[2, 5]), &z(&[2, 4])))))),
            "hidden0 has inconsistent hidden_size: got 5, expected 4",
        ),
        (
            Box::new(|| drop(c.forward(&z(&[2, 3]), Some((&z(&[2, 4]), &z(&[2, 5])))))),
            "hidden1 has inconsistent hidden_size: got 5, expected 4",
        ),
        (
            Box::new(|| drop(c.forward(&z(&[2, 2, 3]), None))),
            "LSTMCell: Expected input to be 1D or 2D, got 3D instead",
        ),
        (
            Box::new(|| drop(c.forward(&z(&[2, 3]), Some((&z(&[2, 2, 4]), &z(&[2, 4])))))),
            "LSTMCell: Expected hx[0] to be 1D or 2D, got 3D instead",
        ),
        (
            Box::new(|| drop(r.forward(&z(&[2, 3]), Some(&z(&[3, 4]))))),
            "Input batch size 2 doesn't match hidden0 batch size 3",
        ),
        (
            Box::new(|| drop(r.forward(&z(&[2, 2, 3]), None))),
            "RNNCell: Expected input to be 1D or 2D, got 3D instead",
        ),
        (
            Box::new(|| drop(r.forward(&z(&[2, 3]), Some(&z(&[1, 2, 4]))))),
            "RNNCell: Expected hidden to be 1D or 2D, got 3D instead",
        ),
        (
            Box::new(|| drop(r.forward(&z(&[3]), Some(&z(&[2, 4]))))),
            "Expected 2D hidden0 (batch x hidden_size), but got 3D tensor",
        ),
        (
            Box::new(|| drop(g.forward(&z(&[2, 2, 3]), None))),
            "GRUCell: Expected input to be 1D or 2D, got 3D instead",
        ),
        (
            Box::new(|| drop(g.forward(&z(&[2, 3]), Some(&z(&[2, 5]))))),
            "hidden0 has inconsistent hidden_size: got 5, expected 4",
        ),
    ];
    for (f, want) in cases {
        assert_eq!(panic_text(f), want);
    }
}

#[test]
fn pad_sequence_values_and_gradients() {
    let _g = seeded();
    let g = Generator::new().manual_seed(10);
    let seqs: Vec<Tensor> = [3usize, 1, 2]
        .iter()
        .map(|&n| Tensor::randn_gen([n, 2], F64, &g).requires_grad_(true))
        .collect();
    for batch_first in [false, true] {
        for side in ["right", "left"] {
            let p = pad_sequence(&seqs, batch_first, -7.5, side);
            let (t_dim, b_dim) = if batch_first { (1, 0) } else { (0, 1) };
            assert_eq!(p.dims()[t_dim], 3);
            assert_eq!(p.dims()[b_dim], 3);
            for (i, s) in seqs.iter().enumerate() {
                let n = s.dims()[0];
                let start = if side == "left" { 3 - n } else { 0 };
                let row = p.select(b_dim as i64, i as i64);
                for t in 0..3 {
                    let got = row.select(0, t as i64);
                    let want = if t >= start && t < start + n {
                        s.select(0, (t - start) as i64).detach()
                    } else {
                        Tensor::full_dtype([2], -7.5, F64)
                    };
                    assert!(got.equal(&want), "{batch_first} {side} seq {i} t {t}");
                }
            }
        }
    }
    // Differentiable in every sequence, to second order.
    let f = |v: &[Tensor]| pad_sequence(v, true, 0.0, "left").pow(2);
    gradcheck(f, &seqs, GradcheckOptions::default()).unwrap();
    gradgradcheck(f, &seqs, 3, GradcheckOptions::default()).unwrap();
    // The first sequence's dtype; trailing dims kept.
    let ints = pad_sequence(
        &[
            Tensor::from_vec(vec![1i64, 2], [2]),
            Tensor::from_vec(vec![3i64], [1]),
        ],
        false,
        0.0,
        "right",
    );
    assert_eq!(ints.dtype(), DType::I64);
    assert_eq!(ints.to_vec::<i64>(), vec![1, 3, 2, 0]);
    assert_eq!(
        pad_sequence(&[Tensor::zeros([2, 3, 4])], false, 0.0, "right").dims(),
        &[2, 1, 3, 4]
    );
    let empty: [Tensor; 0] = [];
    assert_eq!(
        panic_text(|| drop(pad_sequence(&empty, false, 0.0, "right"))),
        "received an empty list of sequences"
    );
    assert_eq!(
        panic_text(|| drop(pad_sequence(&seqs, false, 0.0, "middle"))),
        "Expected padding_side to be one of left or right, but got middle."
    );
}
