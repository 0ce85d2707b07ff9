//! Recurrent layers: `nn.RNN`, `nn.LSTM`, `nn.GRU` (multi-layer, optionally bidirectional).
//! The cells and the one-step arithmetic are in `rnn_cell.rs`.
//!
//! The computation follows ATen's CPU path (`aten/src/ATen/native/RNN.cpp`, `FullLayer`): per
//! layer and direction, the input projections of all time steps in one product
//! (`x·W_ihᵀ + b_ih` over L·N rows), then one (N, H)·(H, gates·H) product per step; the layers'
//! outputs feed the next layer through dropout (training only, not after the last layer).

use super::rnn_cell::{CellKind, Recurrent, init_bound, uniform_parameter};
use super::{FieldSink, ModuleField, Parameter, TrainingFlag, functional as F};
use crate::nn::Module;
use crate::pyfmt;
use crate::tensor::Tensor;
use std::fmt;

/// The options shared by [`RNN`], [`LSTM`] and [`GRU`], with PyTorch's defaults
/// (`num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False,
/// proj_size=0`). Set fields directly or chain the setters.
///
/// ```
/// use flambeau::nn::{LSTM, RNNOptions};
/// let opts = RNNOptions::default().num_layers(2).bidirectional(true);
/// assert_eq!(format!("{}", LSTM::with_options(3, 4, opts)), "LSTM(3, 4, num_layers=2, bidirectional=True)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RNNOptions {
    /// Number of stacked recurrent layers.
    pub num_layers: usize,
    /// Whether the layers have `b_ih` and `b_hh`.
    pub bias: bool,
    /// Whether input and output are (N, L, features) instead of (L, N, features).
    pub batch_first: bool,
    /// Dropout probability on the outputs of every layer but the last, in training mode.
    pub dropout: f64,
    /// Whether each layer also runs backwards over the sequence.
    pub bidirectional: bool,
    /// LSTM only: size of the projected hidden state (`weight_hr`); 0 disables projections.
    pub proj_size: usize,
}

impl Default for RNNOptions {
    fn default() -> Self {
        RNNOptions {
            num_layers: 1,
            bias: true,
            batch_first: false,
            dropout: 0.0,
            bidirectional: false,
            proj_size: 0,
        }
    }
}

impl RNNOptions {
    /// Sets `num_layers`.
    pub fn num_layers(mut self, num_layers: usize) -> Self {
        self.num_layers = num_layers;
        self
    }
    /// Sets `bias`.
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }
    /// Sets `batch_first`.
    pub fn batch_first(mut self, batch_first: bool) -> Self {
        self.batch_first = batch_first;
        self
    }
    /// Sets `dropout`.
    pub fn dropout(mut self, dropout: f64) -> Self {
        self.dropout = dropout;
        self
    }
    /// Sets `bidirectional`.
    pub fn bidirectional(mut self, bidirectional: bool) -> Self {
        self.bidirectional = bidirectional;
        self
    }
    /// Sets `proj_size` (LSTM only).
    pub fn proj_size(mut self, proj_size: usize) -> Self {
        self.proj_size = proj_size;
        self
    }
}

/// What the three layer types share (PyTorch's `RNNBase`): sizes, options, the parameters in
/// registration order with their names, and the training flag.
#[derive(Clone)]
struct RnnCore {
    kind: CellKind,
    input_size: usize,
    hidden_size: usize,
    options: RNNOptions,
    /// `(weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0[, weight_hr_l0])`, then
    /// `..._l0_reverse`, then layer 1, ...
    params: Vec<(String, Parameter)>,
    training: TrainingFlag,
}

/// One layer and direction's parameters.
struct LayerWeights<'a> {
    w_ih: &'a Parameter,
    w_hh: &'a Parameter,
    b_ih: Option<&'a Parameter>,
    b_hh: Option<&'a Parameter>,
    w_hr: Option<&'a Parameter>,
}

impl RnnCore {
    /// `RNNBase.__init__`: PyTorch's checks, the parameters, then `reset_parameters`.
    #[track_caller]
    fn new(kind: CellKind, input_size: usize, hidden_size: usize, options: RNNOptions) -> RnnCore {
        let o = &options;
        if !(0.0..=1.0).contains(&o.dropout) {
            panic!(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            );
        }
        if o.dropout > 0.0 && o.num_layers == 1 {
            crate::warn_once(
                "rnn_dropout_one_layer",
                &format!(
                    "UserWarning: dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects num_layers greater than 1, but got dropout={} and num_layers={}",
                    pyfmt::float(o.dropout),
                    o.num_layers
                ),
            );
        }
        if hidden_size == 0 {
            panic!("hidden_size must be greater than zero");
        }
        if o.num_layers == 0 {
            panic!("num_layers must be greater than zero");
        }
        if o.proj_size >= hidden_size {
            panic!("proj_size has to be smaller than hidden_size");
        }
        let dirs = if o.bidirectional { 2 } else { 1 };
        let gate_size = kind.gates() * hidden_size;
        let real_hidden = if o.proj_size > 0 {
            o.proj_size
        } else {
            hidden_size
        };
        let bound = init_bound(hidden_size);
        let mut params = Vec::new();
        for layer in 0..o.num_layers {
            for dir in 0..dirs {
                let in_size = if layer == 0 {
                    input_size
                } else {
                    real_hidden * dirs
                };
                let sfx = if dir == 1 { "_reverse" } else { "" };
                // Drawn as created: registration order is `parameters()` order, the order
                // `reset_parameters` draws in.
                let mut add = |name: &str, shape: &[usize]| {
                    params.push((
                        format!("{name}_l{layer}{sfx}"),
                        uniform_parameter(shape, bound),
                    ));
                };
                add("weight_ih", &[gate_size, in_size]);
                add("weight_hh", &[gate_size, real_hidden]);
                if o.bias {
                    add("bias_ih", &[gate_size]);
                    add("bias_hh", &[gate_size]);
                }
                if o.proj_size > 0 {
                    add("weight_hr", &[o.proj_size, hidden_size]);
                }
            }
        }
        RnnCore {
            kind,
            input_size,
            hidden_size,
            options,
            params,
            training: TrainingFlag::new(),
        }
    }

    fn dirs(&self) -> usize {
        if self.options.bidirectional { 2 } else { 1 }
    }

    /// The size of `h`: `proj_size` when projecting, else `hidden_size`.
    fn real_hidden(&self) -> usize {
        if self.options.proj_size > 0 {
            self.options.proj_size
        } else {
            self.hidden_size
        }
    }

    fn per_direction(&self) -> usize {
        2 + 2 * self.options.bias as usize + (self.options.proj_size > 0) as usize
    }

    fn weights(&self, layer: usize, dir: usize) -> LayerWeights<'_> {
        let k = self.per_direction();
        let p = &self.params[(layer * self.dirs() + dir) * k..][..k];
        let bias = self.options.bias;
        LayerWeights {
            w_ih: &p[0].1,
            w_hh: &p[1].1,
            b_ih: bias.then(|| &p[2].1),
            b_hh: bias.then(|| &p[3].1),
            w_hr: (self.options.proj_size > 0).then(|| &p[k - 1].1),
        }
    }

    /// `all_weights`: each layer and direction's parameters, in registration order.
    fn all_weights(&self) -> Vec<Vec<Parameter>> {
        self.params
            .chunks(self.per_direction())
            .map(|c| c.iter().map(|(_, p)| p.clone()).collect())
            .collect()
    }

    /// `RNNBase.extra_repr`.
    fn extra_repr(&self) -> String {
        let o = &self.options;
        let mut s = format!("{}, {}", self.input_size, self.hidden_size);
        if o.proj_size != 0 {
            s.push_str(&format!(", proj_size={}", o.proj_size));
        }
        if o.num_layers != 1 {
            s.push_str(&format!(", num_layers={}", o.num_layers));
        }
        if !o.bias {
            s.push_str(", bias=False");
        }
        if o.batch_first {
            s.push_str(", batch_first=True");
        }
        if o.dropout != 0.0 {
            s.push_str(&format!(", dropout={}", pyfmt::float(o.dropout)));
        }
        if o.bidirectional {
            s.push_str(&format!(", bidirectional={}", crate::pyfmt::bool(true)));
        }
        s
    }

    fn visit<'a>(&'a self, sink: &mut FieldSink<'a>) {
        for (name, p) in &self.params {
            sink.parameter(name, p);
        }
        sink.flag(&self.training);
    }

    fn map(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
        for (_, p) in &mut self.params {
            p.map_tensors(f);
        }
    }

    /// `forward` of `nn.RNN`/`nn.GRU` (`cx` is `None`) and `nn.LSTM`: PyTorch's checks in its
    /// order, unbatched inputs, then the layers. Returns `(output, h_n, c_n)`.
    #[track_caller]
    fn forward(
        &self,
        name: &str,
        input: &Tensor,
        hx: Option<(&Tensor, Option<&Tensor>)>,
    ) -> (Tensor, Tensor, Option<Tensor>) {
        let lstm = self.kind == CellKind::Lstm;
        let nd = input.ndim();
        if nd != 2 && nd != 3 {
            match name {
                "RNN" => panic!("RNN: Expected input to be 2D or 3D, got {nd}D tensor instead"),
                _ => panic!("{name}: Expected input to be 2D or 3D, got {nd}D instead"),
            }
        }
        let batched = nd == 3;
        let batch_dim = if self.options.batch_first { 0 } else { 1 };
        if let Some((h, c)) = hx {
            let want = if batched { 3 } else { 2 };
            let kind = if batched {
                "batched 3-D"
            } else {
                "unbatched 2-D"
            };
            match c {
                Some(c) if h.ndim() != want || c.ndim() != want => panic!(
                    "For {kind} input, hx and cx should also be {want}-D but got ({}-D, {}-D) tensors",
                    h.ndim(),
                    c.ndim()
                ),
                None if h.ndim() != want => panic!(
                    "For {kind} input, hx should also be {want}-D but got {}-D tensor",
                    h.ndim()
                ),
                _ => {}
            }
        }
        let input = if batched {
            input.clone()
        } else {
            input.unsqueeze(batch_dim as i64)
        };
        let unsq = |t: &Tensor| if batched { t.clone() } else { t.unsqueeze(1) };
        let hx = hx.map(|(h, c)| (unsq(h), c.map(unsq)));
        // check_input
        let wdtype = self.params[0].1.dtype();
        if input.dtype() != wdtype {
            panic!(
                "RNN input dtype ({}) does not match weight dtype ({wdtype}). Convert input: input.to({wdtype}), or convert model: model.to({})",
                input.dtype(),
                input.dtype()
            );
        }
        let features = input.dims()[2];
        if features != self.input_size {
            panic!(
                "input.size(-1) must be equal to input_size. Expected {}, got {features}",
                self.input_size
            );
        }
        let batch = input.dims()[batch_dim];
        let states = self.options.num_layers * self.dirs();
        if let Some((h, c)) = &hx {
            let expect = [states, batch, self.real_hidden()];
            let (label_h, label_c) = if lstm {
                ("Expected hidden[0] size", "Expected hidden[1] size")
            } else {
                ("Expected hidden size", "")
            };
            check_hidden_size(h, expect, label_h);
            if let Some(c) = c {
                check_hidden_size(c, [states, batch, self.hidden_size], label_c);
            }
        }
        let x = if self.options.batch_first {
            input.transpose(0, 1)
        } else {
            input
        };
        let (output, h_n, c_n) = self.layers(&x, hx.as_ref().map(|(h, c)| (h, c.as_ref())));
        let output = if self.options.batch_first {
            output.transpose(0, 1)
        } else {
            output
        };
        if batched {
            (output, h_n, c_n)
        } else {
            (
                output.squeeze_dim(batch_dim as i64),
                h_n.squeeze_dim(1),
                c_n.map(|c| c.squeeze_dim(1)),
            )
        }
    }

    /// The stacked layers over a time-major `x` (L, N, features): ATen's `apply_layer_stack`
    /// with `FullLayer`/`FullBidirectionalLayer`.
    #[track_caller]
    fn layers(
        &self,
        x: &Tensor,
        hx: Option<(&Tensor, Option<&Tensor>)>,
    ) -> (Tensor, Tensor, Option<Tensor>) {
        let lstm = self.kind == CellKind::Lstm;
        let (seq, batch) = (x.dims()[0], x.dims()[1]);
        if seq == 0 {
            panic!("Expected sequence length to be larger than 0 in RNN");
        }
        let dirs = self.dirs();
        let num_layers = self.options.num_layers;
        let mut h_n = Vec::with_capacity(num_layers * dirs);
        let mut c_n = Vec::with_capacity(num_layers * dirs);
        let mut layer_input = x.clone();
        for layer in 0..num_layers {
            let mut outs = Vec::with_capacity(dirs);
            for dir in 0..dirs {
                let idx = (layer * dirs + dir) as i64;
                let zeros = |size: usize| Tensor::zeros_dtype([batch, size], x.dtype());
                let (h0, c0) = match hx {
                    Some((h, c)) => (h.select(0, idx), c.map(|c| c.select(0, idx))),
                    None => (zeros(self.real_hidden()), None),
                };
                let c0 = match (lstm, c0) {
                    (true, None) => Some(zeros(self.hidden_size)),
                    (_, c) => c,
                };
                let (out, h, c) = self.direction(&layer_input, h0, c0, layer, dir);
                outs.push(out);
                h_n.push(h);
                c_n.extend(c);
            }
            let out = if dirs == 2 {
                Tensor::cat(&[&outs[0], &outs[1]], -1)
            } else {
                outs.pop().expect("one direction")
            };
            let p = self.options.dropout;
            layer_input = if p > 0.0 && self.training.get() && layer + 1 < num_layers {
                // ATen: `dropout(layer_output, p)` with train=true, drawn on (L, N, D·H).
                F::dropout(&out, p, true)
            } else {
                out
            };
        }
        let h_n = Tensor::stack(&h_n.iter().collect::<Vec<_>>(), 0);
        let c_n = lstm.then(|| Tensor::stack(&c_n.iter().collect::<Vec<_>>(), 0));
        (layer_input, h_n, c_n)
    }

    /// One layer in one direction: the input projections of all steps in one product, then the
    /// recurrence; the reverse direction walks the steps backwards and writes each output at its
    /// own time position (ATen's `ReversedFullLayer`).
    #[track_caller]
    fn direction(
        &self,
        x: &Tensor,
        h0: Tensor,
        c0: Option<Tensor>,
        layer: usize,
        dir: usize,
    ) -> (Tensor, Tensor, Option<Tensor>) {
        let w = self.weights(layer, dir);
        let xw = x.linear(w.w_ih, w.b_ih.map(|b| b.tensor()));
        let rec = Recurrent {
            kind: self.kind,
            hidden_size: self.hidden_size,
            w_hh_t: w.w_hh.t(),
            b_hh: w.b_hh.map(|b| b.tensor().clone()),
            w_hr_t: w.w_hr.map(|p| p.t()),
        };
        let steps = time_steps(&xw);
        let seq = steps.len();
        let mut outs: Vec<Option<Tensor>> = vec![None; seq];
        let (mut h, mut c) = (h0, c0);
        for k in 0..seq {
            let t = if dir == 1 { seq - 1 - k } else { k };
            let (hy, cy) = rec.step(&steps[t], &h, c.as_ref());
            outs[t] = Some(hy.clone());
            h = hy;
            c = cy;
        }
        let outs: Vec<Tensor> = outs
            .into_iter()
            .map(|o| o.expect("every step ran"))
            .collect();
        (Tensor::stack(&outs.iter().collect::<Vec<_>>(), 0), h, c)
    }
}

/// The time steps of `xw` (L, N, G·H) as L views of it, by halving: the gradient of a slice is
/// zeros of its input's shape with the slice written in, so L `select`s of `xw` would cost L
/// tensors of `xw`'s full size in backward (O(L²)); through a balanced tree of `narrow`s each
/// level costs two, O(L log L) in all. The forward values are the same views.
fn time_steps(xw: &Tensor) -> Vec<Tensor> {
    fn split(t: &Tensor, out: &mut Vec<Tensor>) {
        let len = t.dims()[0];
        if len <= 2 {
            out.extend(t.unbind(0));
        } else {
            let half = len / 2;
            split(&t.narrow(0, 0, half), out);
            split(&t.narrow(0, half as i64, len - half), out);
        }
    }
    let mut out = Vec::with_capacity(xw.dims()[0]);
    split(xw, &mut out);
    out
}

/// `RNNBase.check_hidden_size`: the expected size as a Python tuple, the actual one as a list.
#[track_caller]
fn check_hidden_size(hx: &Tensor, expected: [usize; 3], label: &str) {
    if hx.dims() != expected {
        panic!(
            "{label} ({}, {}, {}), got {:?}",
            expected[0],
            expected[1],
            expected[2],
            hx.dims()
        );
    }
}

macro_rules! rnn_module {
    ($name:ident) => {
        impl Module for $name {
            fn visit_fields<'a>(&'a self, sink: &mut FieldSink<'a>) {
                self.core.visit(sink)
            }
            fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
                self.core.map(f)
            }
            fn type_name(&self) -> String {
                String::from(stringify!($name))
            }
            fn extra_repr(&self) -> String {
                self.core.extra_repr()
            }
            fn as_dyn(&self) -> &dyn Module {
                self
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.repr())
            }
        }

        impl ModuleField for $name {
            fn collect<'a>(&'a self, name: &str, sink: &mut FieldSink<'a>) {
                sink.child(name, self);
            }
            fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
                Module::map_tensors(self, f);
            }
        }

        impl $name {
            /// Features of the input.
            pub fn input_size(&self) -> usize {
                self.core.input_size
            }
            /// Features of the hidden state (before any projection).
            pub fn hidden_size(&self) -> usize {
                self.core.hidden_size
            }
            /// The options it was built with.
            pub fn options(&self) -> &RNNOptions {
                &self.core.options
            }
            /// Each layer and direction's parameters in registration order (`all_weights`):
            /// `[weight_ih, weight_hh, bias_ih, bias_hh]` for layer 0, then its reverse
            /// direction, then layer 1, ...
            pub fn all_weights(&self) -> Vec<Vec<Parameter>> {
                self.core.all_weights()
            }
        }
    };
}

/// A multi-layer Elman RNN (`nn.RNN(input_size, hidden_size, num_layers=1,
/// nonlinearity='tanh', bias=True, batch_first=False, dropout=0.0, bidirectional=False)`):
/// `h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh)` (or ReLU). Parameters are named and
/// ordered as PyTorch's (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, then
/// `..._l0_reverse`, then layer 1) and drawn from `U(-1/√hidden_size, 1/√hidden_size)` exactly
/// as PyTorch draws them after the same seed.
///
/// ```
/// use flambeau::nn::{RNN, RNNOptions};
/// use flambeau::Tensor;
/// let rnn = RNN::with_options(3, 4, "relu", RNNOptions::default().bidirectional(true));
/// assert_eq!(format!("{rnn}"), "RNN(3, 4, bidirectional=True)");
/// let x = Tensor::randn([5, 2, 3]); // (L, N, input_size)
/// let (output, h_n) = rnn.forward(&x, None);
/// assert_eq!(output.dims(), &[5, 2, 8]); // both directions' h_t, side by side
/// assert_eq!(h_n.dims(), &[2, 2, 4]); // (directions · layers, N, hidden_size)
/// let (_, h_next) = rnn.forward(&x, Some(&h_n)); // start from a given state
/// assert_eq!(h_next.dims(), &[2, 2, 4]);
/// ```
#[derive(Clone)]
pub struct RNN {
    core: RnnCore,
}

rnn_module!(RNN);

impl RNN {
    /// `nn.RNN(input_size, hidden_size)`: one layer, tanh.
    #[track_caller]
    pub fn new(input_size: usize, hidden_size: usize) -> RNN {
        RNN::with_options(input_size, hidden_size, "tanh", RNNOptions::default())
    }

    /// `nn.RNN(input_size, hidden_size, nonlinearity=..., ...)`; `nonlinearity` is `"tanh"` or
    /// `"relu"`. Panics with PyTorch's messages on a bad option (and on `proj_size`, which only
    /// an LSTM has).
    #[track_caller]
    pub fn with_options(
        input_size: usize,
        hidden_size: usize,
        nonlinearity: &str,
        options: RNNOptions,
    ) -> RNN {
        if options.proj_size != 0 {
            panic!("proj_size argument is only supported for LSTM, not RNN or GRU");
        }
        let kind = match nonlinearity {
            "tanh" => CellKind::RnnTanh,
            "relu" => CellKind::RnnRelu,
            other => {
                panic!("Unknown nonlinearity '{other}'. Select from 'tanh' or 'relu'.")
            }
        };
        RNN {
            core: RnnCore::new(kind, input_size, hidden_size, options),
        }
    }

    /// `"tanh"` or `"relu"`.
    pub fn nonlinearity(&self) -> &'static str {
        if self.core.kind == CellKind::RnnRelu {
            "relu"
        } else {
            "tanh"
        }
    }

    /// Runs the sequence: `input` is (L, N, input_size), (N, L, input_size) with `batch_first`,
    /// or unbatched (L, input_size); `h0` is (D·num_layers, N, hidden_size) (or
    /// (D·num_layers, hidden_size) unbatched), zeros when `None`. Returns `(output, h_n)`:
    /// every step's last-layer state, (L, N, D·hidden_size), and each layer and direction's
    /// final state in `h0`'s layout.
    #[track_caller]
    pub fn forward(&self, input: &Tensor, h0: Option<&Tensor>) -> (Tensor, Tensor) {
        let (out, h, _) = self.core.forward("RNN", input, h0.map(|h| (h, None)));
        (out, h)
    }
}

/// A multi-layer long short-term memory net (`nn.LSTM(input_size, hidden_size, num_layers=1,
/// bias=True, batch_first=False, dropout=0.0, bidirectional=False, proj_size=0)`). The gates
/// i, f, g, o are stacked in that order in the rows of `weight_ih_lk`/`weight_hh_lk` (4·H rows);
/// with `proj_size > 0` each layer also has `weight_hr_lk` and `h` is projected to `proj_size`.
///
/// ```
/// use flambeau::nn::{LSTM, RNNOptions};
/// use flambeau::Tensor;
/// let lstm = LSTM::with_options(3, 4, RNNOptions::default().batch_first(true));
/// let x = Tensor::randn([2, 5, 3]); // (N, L, input_size)
/// let (output, (h_n, c_n)) = lstm.forward(&x, None);
/// assert_eq!(output.dims(), &[2, 5, 4]);
/// assert_eq!((h_n.dims(), c_n.dims()), (&[1, 2, 4][..], &[1, 2, 4][..]));
/// let (_, (h, c)) = lstm.forward(&x, Some((&h_n, &c_n)));
/// assert_eq!(h.dims(), &[1, 2, 4]);
/// assert_eq!(c.dims(), &[1, 2, 4]);
/// ```
#[derive(Clone)]
pub struct LSTM {
    core: RnnCore,
}

rnn_module!(LSTM);

impl LSTM {
    /// `nn.LSTM(input_size, hidden_size)`: one layer.
    #[track_caller]
    pub fn new(input_size: usize, hidden_size: usize) -> LSTM {
        LSTM::with_options(input_size, hidden_size, RNNOptions::default())
    }

    /// `nn.LSTM(input_size, hidden_size, ...)` with the given options; panics with PyTorch's
    /// messages on a bad one.
    #[track_caller]
    pub fn with_options(input_size: usize, hidden_size: usize, options: RNNOptions) -> LSTM {
        LSTM {
            core: RnnCore::new(CellKind::Lstm, input_size, hidden_size, options),
        }
    }

    /// Runs the sequence: `input` is (L, N, input_size), (N, L, input_size) with `batch_first`,
    /// or unbatched (L, input_size); `hx` is `(h0, c0)`, each (D·num_layers, N, H) (or without
    /// the batch dim when unbatched; `h0`'s H is `proj_size` when projecting), zeros when
    /// `None`. Returns `(output, (h_n, c_n))`.
    #[track_caller]
    pub fn forward(
        &self,
        input: &Tensor,
        hx: Option<(&Tensor, &Tensor)>,
    ) -> (Tensor, (Tensor, Tensor)) {
        let (out, h, c) = self
            .core
            .forward("LSTM", input, hx.map(|(h, c)| (h, Some(c))));
        (out, (h, c.expect("an LSTM returns its cell state")))
    }
}

/// A multi-layer gated recurrent unit net (`nn.GRU(input_size, hidden_size, num_layers=1,
/// bias=True, batch_first=False, dropout=0.0, bidirectional=False)`). The gates r, z, n are
/// stacked in that order (3·H rows); `n_t = tanh(W_in x_t + b_in + r_t·(W_hn h_{t-1} + b_hn))`,
/// `h_t = (1 - z_t)·n_t + z_t·h_{t-1}`.
///
/// ```
/// use flambeau::nn::{GRU, Module, RNNOptions};
/// use flambeau::Tensor;
/// let gru = GRU::with_options(3, 5, RNNOptions::default().num_layers(2));
/// assert_eq!(gru.state_dict().keys()[..4], ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]);
/// let (output, h_n) = gru.forward(&Tensor::randn([7, 3]), None); // unbatched (L, input_size)
/// assert_eq!((output.dims(), h_n.dims()), (&[7, 5][..], &[2, 5][..]));
/// ```
#[derive(Clone)]
pub struct GRU {
    core: RnnCore,
}

rnn_module!(GRU);

impl GRU {
    /// `nn.GRU(input_size, hidden_size)`: one layer.
    #[track_caller]
    pub fn new(input_size: usize, hidden_size: usize) -> GRU {
        GRU::with_options(input_size, hidden_size, RNNOptions::default())
    }

    /// `nn.GRU(input_size, hidden_size, ...)` with the given options; panics with PyTorch's
    /// messages on a bad one (and on `proj_size`, which only an LSTM has).
    #[track_caller]
    pub fn with_options(input_size: usize, hidden_size: usize, options: RNNOptions) -> GRU {
        if options.proj_size != 0 {
            panic!("proj_size argument is only supported for LSTM, not RNN or GRU");
        }
        GRU {
            core: RnnCore::new(CellKind::Gru, input_size, hidden_size, options),
        }
    }

    /// Runs the sequence: shapes as [`RNN::forward`]. Returns `(output, h_n)`.
    #[track_caller]
    pub fn forward(&self, input: &Tensor, h0: Option<&Tensor>) -> (Tensor, Tensor) {
        let (out, h, _) = self.core.forward("GRU", input, h0.map(|h| (h, None)));
        (out, h)
    }
}
