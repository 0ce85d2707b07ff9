//! `nn.RNNCell`, `nn.LSTMCell`, `nn.GRUCell`, and the one-step arithmetic they share with the
//! multi-layer `nn.RNN`/`nn.LSTM`/`nn.GRU` (ATen's `SimpleCell`, `LSTMCell` and `GRUCell` in
//! `aten/src/ATen/native/RNN.cpp`). Every step is made of differentiable tensor ops, so backward
//! and double backward need nothing of their own.

use super::{Parameter, init};
use crate::nn::Module;
use crate::tensor::Tensor;

/// Which recurrence a cell computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CellKind {
    /// `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`.
    RnnTanh,
    /// `h' = relu(W_ih x + b_ih + W_hh h + b_hh)`.
    RnnRelu,
    /// Gates i, f, g, o stacked in that order.
    Lstm,
    /// Gates r, z, n stacked in that order.
    Gru,
}

impl CellKind {
    /// Number of gates stacked in `weight_ih`/`weight_hh` (rows are `gates * hidden_size`).
    pub(super) fn gates(self) -> usize {
        match self {
            CellKind::RnnTanh | CellKind::RnnRelu => 1,
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        }
    }
}

/// `1/√hidden_size`, the bound of every parameter's `U(-bound, bound)` draw (PyTorch's
/// `reset_parameters`: `stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0`).
pub(super) fn init_bound(hidden_size: usize) -> f64 {
    if hidden_size > 0 {
        1.0 / (hidden_size as f64).sqrt()
    } else {
        0.0
    }
}

/// A new parameter drawn from `U(-bound, bound)`; called in registration order, so the draws
/// follow PyTorch's `for weight in self.parameters(): init.uniform_(weight, -stdv, stdv)`.
pub(super) fn uniform_parameter(shape: &[usize], bound: f64) -> Parameter {
    let t = Tensor::empty(shape);
    init::uniform_(&t, -bound, bound);
    Parameter::new(t)
}

/// The recurrent half of one step's weights, prepared once per layer and direction: `W_hhᵀ`
/// (one transpose for the whole sequence, not one per step), `b_hh`, and for an LSTM with
/// projections `W_hrᵀ`.
pub(super) struct Recurrent {
    pub(super) kind: CellKind,
    pub(super) hidden_size: usize,
    pub(super) w_hh_t: Tensor,
    pub(super) b_hh: Option<Tensor>,
    pub(super) w_hr_t: Option<Tensor>,
}

impl Recurrent {
    /// `h·W_hhᵀ + b_hh` (ATen's `linear_hh`: one `addmm` with the bias).
    #[track_caller]
    fn hh(&self, h: &Tensor) -> Tensor {
        match &self.b_hh {
            Some(b) => Tensor::addmm(b, h, &self.w_hh_t),
            None => h.mm(&self.w_hh_t),
        }
    }

    /// One step from `xw = x·W_ihᵀ + b_ih` (N, gates·H) and the state: the new `h`, and for an
    /// LSTM the new `c`. The operations are ATen's, in its order.
    #[track_caller]
    pub(super) fn step(
        &self,
        xw: &Tensor,
        h: &Tensor,
        c: Option<&Tensor>,
    ) -> (Tensor, Option<Tensor>) {
        let hs = self.hidden_size;
        match self.kind {
            CellKind::RnnTanh => (self.hh(h).add(xw).tanh(), None),
            CellKind::RnnRelu => (self.hh(h).add(xw).relu(), None),
            CellKind::Lstm => {
                let c = c.expect("an LSTM step needs a cell state");
                // gates = linear_hh(hx) + linear_ih(x); one sigmoid over all four gates (the g
                // slice of it is unused) instead of three, then tanh on g.
                let gates = self.hh(h).add(xw);
                let sig = gates.sigmoid();
                let i = sig.narrow(1, 0, hs);
                let f = sig.narrow(1, hs as i64, hs);
                let g = gates.narrow(1, 2 * hs as i64, hs).tanh();
                let o = sig.narrow(1, 3 * hs as i64, hs);
                let cy = f.mul(c).add(&i.mul(&g));
                let hy = o.mul(&cy.tanh());
                let hy = match &self.w_hr_t {
                    Some(w) => hy.mm(w),
                    None => hy,
                };
                (hy, Some(cy))
            }
            CellKind::Gru => {
                // r, z = sigmoid(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z}) in one op;
                // n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); h' = (h - n) * z + n.
                let hw = self.hh(h);
                let rz = hw
                    .narrow(1, 0, 2 * hs)
                    .add(&xw.narrow(1, 0, 2 * hs))
                    .sigmoid();
                let r = rz.narrow(1, 0, hs);
                let z = rz.narrow(1, hs as i64, hs);
                let n = xw
                    .narrow(1, 2 * hs as i64, hs)
                    .add(&hw.narrow(1, 2 * hs as i64, hs).mul(&r))
                    .tanh();
                (h.sub(&n).mul(&z).add(&n), None)
            }
        }
    }
}

/// `Expected {1D or 2D}` checks of the cells' Python `forward`.
#[track_caller]
fn check_cell_dims(cell: &str, what: &str, t: &Tensor) {
    if !(1..=2).contains(&t.ndim()) {
        panic!(
            "{cell}: Expected {what} to be 1D or 2D, got {}D instead",
            t.ndim()
        );
    }
}

/// ATen's `check_rnn_cell_forward_input` and `check_rnn_cell_forward_hidden`.
#[track_caller]
fn check_cell_shapes(input: &Tensor, input_size: usize, hidden: &[&Tensor], hidden_size: usize) {
    if input.dims()[1] != input_size {
        panic!(
            "input has inconsistent input_size: got {} expected {input_size}",
            input.dims()[1]
        );
    }
    for (k, hx) in hidden.iter().enumerate() {
        if hx.ndim() != 2 {
            panic!(
                "Expected 2D hidden{k} (batch x hidden_size), but got {}D tensor",
                hx.ndim()
            );
        }
        if input.dims()[0] != hx.dims()[0] {
            panic!(
                "Input batch size {} doesn't match hidden{k} batch size {}",
                input.dims()[0],
                hx.dims()[0]
            );
        }
        if hx.dims()[1] != hidden_size {
            panic!(
                "hidden{k} has inconsistent hidden_size: got {}, expected {hidden_size}",
                hx.dims()[1]
            );
        }
    }
}

macro_rules! cell_struct {
    ($(#[$doc:meta])* $name:ident, $gates:expr) => {
        $(#[$doc])*
        #[derive(Module, Clone)]
        #[module(extra_repr = "describe")]
        pub struct $name {
            /// Input-hidden weights, (gates·hidden_size, input_size).
            pub weight_ih: Parameter,
            /// Hidden-hidden weights, (gates·hidden_size, hidden_size).
            pub weight_hh: Parameter,
            /// Input-hidden bias, (gates·hidden_size), if any.
            pub bias_ih: Option<Parameter>,
            /// Hidden-hidden bias, (gates·hidden_size), if any.
            pub bias_hh: Option<Parameter>,
            /// Features of the input.
            pub input_size: usize,
            /// Features of the hidden state.
            pub hidden_size: usize,
            #[module(skip)]
            kind: CellKind,
        }

        impl $name {
            /// The parameters in registration order, drawn as `reset_parameters` draws them.
            #[track_caller]
            fn build(input_size: usize, hidden_size: usize, bias: bool, kind: CellKind) -> $name {
                let bound = init_bound(hidden_size);
                let rows = $gates * hidden_size;
                let weight_ih = uniform_parameter(&[rows, input_size], bound);
                let weight_hh = uniform_parameter(&[rows, hidden_size], bound);
                let bias_ih = bias.then(|| uniform_parameter(&[rows], bound));
                let bias_hh = bias.then(|| uniform_parameter(&[rows], bound));
                $name { weight_ih, weight_hh, bias_ih, bias_hh, input_size, hidden_size, kind }
            }

            /// The one-step weights.
            fn recurrent(&self) -> Recurrent {
                Recurrent {
                    kind: self.kind,
                    hidden_size: self.hidden_size,
                    w_hh_t: self.weight_hh.t(),
                    b_hh: self.bias_hh.as_ref().map(|b| b.tensor().clone()),
                    w_hr_t: None,
                }
            }

            /// Common part of the repr (`RNNCellBase.extra_repr`).
            fn base_repr(&self) -> String {
                let mut s = format!("{}, {}", self.input_size, self.hidden_size);
                if self.bias_ih.is_none() {
                    s.push_str(&format!(", bias={}", crate::pyfmt::bool(false)));
                }
                s
            }

            /// `x·W_ihᵀ + b_ih` for a 2-D input.
            #[track_caller]
            fn input_projection(&self, x: &Tensor) -> Tensor {
                x.linear(&self.weight_ih, self.bias_ih.as_deref())
            }
        }
    };
}

cell_struct!(
    /// An Elman RNN cell (`nn.RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh')`):
    /// `h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)` (or ReLU). Every parameter is drawn from
    /// `U(-1/√hidden_size, 1/√hidden_size)` exactly as PyTorch draws it after the same seed.
    ///
    /// ```
    /// use flambeau::{nn::RNNCell, Tensor};
    /// let cell = RNNCell::new(3, 4);
    /// assert_eq!(format!("{cell}"), "RNNCell(3, 4)");
    /// let h = cell.forward(&Tensor::randn([2, 3]), None);
    /// assert_eq!(h.dims(), &[2, 4]);
    /// let h = cell.forward(&Tensor::randn([2, 3]), Some(&h)); // carry the state on
    /// assert_eq!(cell.forward(&Tensor::randn([3]), None).dims(), &[4]); // unbatched
    /// ```
    RNNCell,
    1
);

cell_struct!(
    /// A long short-term memory cell (`nn.LSTMCell(input_size, hidden_size, bias=True)`): gates
    /// i, f, g, o stacked in that order in the weights' rows; `c' = f·c + i·g`, `h' = o·tanh(c')`.
    ///
    /// ```
    /// use flambeau::{nn::LSTMCell, Tensor};
    /// let cell = LSTMCell::new(3, 4);
    /// assert_eq!(cell.weight_ih.dims(), &[16, 3]);
    /// let (h, c) = cell.forward(&Tensor::randn([2, 3]), None);
    /// let (h, c) = cell.forward(&Tensor::randn([2, 3]), Some((&h, &c)));
    /// assert_eq!((h.dims(), c.dims()), (&[2, 4][..], &[2, 4][..]));
    /// ```
    LSTMCell,
    4
);

cell_struct!(
    /// A gated recurrent unit cell (`nn.GRUCell(input_size, hidden_size, bias=True)`): gates r,
    /// z, n stacked in that order; `n = tanh(W_in x + b_in + r·(W_hn h + b_hn))`,
    /// `h' = (1 - z)·n + z·h`.
    ///
    /// ```
    /// use flambeau::{nn::GRUCell, Tensor};
    /// let cell = GRUCell::with_bias(3, 4, false);
    /// assert_eq!(format!("{cell}"), "GRUCell(3, 4, bias=False)");
    /// assert_eq!(cell.forward(&Tensor::randn([5, 3]), None).dims(), &[5, 4]);
    /// ```
    GRUCell,
    3
);

/// Shared body of the RNN and GRU cells' forward: dims, unbatched inputs, zeros as the default
/// state, checks, one step.
#[track_caller]
fn single_state_forward(
    cell: &str,
    x: &Tensor,
    hx: Option<&Tensor>,
    input_size: usize,
    hidden_size: usize,
    project: impl Fn(&Tensor) -> Tensor,
    rec: Recurrent,
) -> Tensor {
    check_cell_dims(cell, "input", x);
    if let Some(h) = hx {
        check_cell_dims(cell, "hidden", h);
    }
    let batched = x.ndim() == 2;
    let x = if batched { x.clone() } else { x.unsqueeze(0) };
    let h = match hx {
        Some(h) if batched => h.clone(),
        Some(h) => h.unsqueeze(0),
        None => Tensor::zeros_dtype([x.dims()[0], hidden_size], x.dtype()),
    };
    check_cell_shapes(&x, input_size, &[&h], hidden_size);
    let (hy, _) = rec.step(&project(&x), &h, None);
    if batched { hy } else { hy.squeeze_dim(0) }
}

impl RNNCell {
    /// `nn.RNNCell(input_size, hidden_size)`: tanh, with biases.
    #[track_caller]
    pub fn new(input_size: usize, hidden_size: usize) -> RNNCell {
        RNNCell::with_options(input_size, hidden_size, true, "tanh")
    }

    /// `nn.RNNCell(input_size, hidden_size, bias, nonlinearity)`; `nonlinearity` is `"tanh"` or
    /// `"relu"`, anything else panics with PyTorch's message.
    #[track_caller]
    pub fn with_options(
        input_size: usize,
        hidden_size: usize,
        bias: bool,
        nonlinearity: &str,
    ) -> RNNCell {
        let kind = match nonlinearity {
            "tanh" => CellKind::RnnTanh,
            "relu" => CellKind::RnnRelu,
            other => panic!("Unknown nonlinearity: {other}"),
        };
        RNNCell::build(input_size, hidden_size, bias, kind)
    }

    /// `"tanh"` or `"relu"`.
    pub fn nonlinearity(&self) -> &'static str {
        if self.kind == CellKind::RnnRelu {
            "relu"
        } else {
            "tanh"
        }
    }

    fn describe(&self) -> String {
        let mut s = self.base_repr();
        if self.kind == CellKind::RnnRelu {
            s.push_str(", nonlinearity=relu");
        }
        s
    }

    /// One step: `input` is (N, input_size) or unbatched (input_size); `hx` the previous hidden
    /// state, (N, hidden_size) or (hidden_size), zeros when `None`. Returns the new hidden state.
    #[track_caller]
    pub fn forward(&self, input: &Tensor, hx: Option<&Tensor>) -> Tensor {
        single_state_forward(
            "RNNCell",
            input,
            hx,
            self.input_size,
            self.hidden_size,
            |x| self.input_projection(x),
            self.recurrent(),
        )
    }
}

impl GRUCell {
    /// `nn.GRUCell(input_size, hidden_size)`, with biases.
    #[track_caller]
    pub fn new(input_size: usize, hidden_size: usize) -> GRUCell {
        GRUCell::with_bias(input_size, hidden_size, true)
    }

    /// `nn.GRUCell(input_size, hidden_size, bias)`.
    #[track_caller]
    pub fn with_bias(input_size: usize, hidden_size: usize, bias: bool) -> GRUCell {
        GRUCell::build(input_size, hidden_size, bias, CellKind::Gru)
    }

    fn describe(&self) -> String {
        self.base_repr()
    }

    /// One step: `input` is (N, input_size) or unbatched (input_size); `hx` the previous hidden
    /// state, zeros when `None`. Returns the new hidden state.
    #[track_caller]
    pub fn forward(&self, input: &Tensor, hx: Option<&Tensor>) -> Tensor {
        single_state_forward(
            "GRUCell",
            input,
            hx,
            self.input_size,
            self.hidden_size,
            |x| self.input_projection(x),
            self.recurrent(),
        )
    }
}

impl LSTMCell {
    /// `nn.LSTMCell(input_size, hidden_size)`, with biases.
    #[track_caller]
    pub fn new(input_size: usize, hidden_size: usize) -> LSTMCell {
        LSTMCell::with_bias(input_size, hidden_size, true)
    }

    /// `nn.LSTMCell(input_size, hidden_size, bias)`.
    #[track_caller]
    pub fn with_bias(input_size: usize, hidden_size: usize, bias: bool) -> LSTMCell {
        LSTMCell::build(input_size, hidden_size, bias, CellKind::Lstm)
    }

    fn describe(&self) -> String {
        self.base_repr()
    }

    /// One step: `input` is (N, input_size) or unbatched (input_size); `hx` the previous
    /// `(h, c)`, zeros when `None`. Returns the new `(h, c)`.
    #[track_caller]
    pub fn forward(&self, input: &Tensor, hx: Option<(&Tensor, &Tensor)>) -> (Tensor, Tensor) {
        check_cell_dims("LSTMCell", "input", input);
        if let Some((h, c)) = hx {
            check_cell_dims("LSTMCell", "hx[0]", h);
            check_cell_dims("LSTMCell", "hx[1]", c);
        }
        let batched = input.ndim() == 2;
        let x = if batched {
            input.clone()
        } else {
            input.unsqueeze(0)
        };
        let (h, c) = match hx {
            Some((h, c)) if batched => (h.clone(), c.clone()),
            Some((h, c)) => (h.unsqueeze(0), c.unsqueeze(0)),
            None => {
                let z = Tensor::zeros_dtype([x.dims()[0], self.hidden_size], x.dtype());
                (z.clone(), z)
            }
        };
        check_cell_shapes(&x, self.input_size, &[&h, &c], self.hidden_size);
        let (hy, cy) = self
            .recurrent()
            .step(&self.input_projection(&x), &h, Some(&c));
        let cy = cy.expect("an LSTM step returns its cell state");
        if batched {
            (hy, cy)
        } else {
            (hy.squeeze_dim(0), cy.squeeze_dim(0))
        }
    }
}
