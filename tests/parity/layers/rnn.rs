//! The harness's recurrent nets: nn.RNN/LSTM/GRU and their cells.

use crate::parity::eval::{Args, EvalResult, Value, unsupported};
use crate::parity::modules::CaseModule;
use flambeau::Tensor;
use flambeau::nn::{FieldSink, GRU, GRUCell, LSTM, LSTMCell, Module, RNN, RNNCell, RNNOptions};

/// `F.*` calls of this family; `None` when `name` is not one.
pub fn functional(name: &str, a: &Args) -> Option<EvalResult> {
    let _ = (name, a);
    None
}

/// The recurrent modules, called as `m(x)`, `m(x, h0)` or `m(x, (h0, c0))`.
enum Net {
    Rnn(RNN),
    Lstm(LSTM),
    Gru(GRU),
    RnnCell(RNNCell),
    LstmCell(LSTMCell),
    GruCell(GRUCell),
}

impl Net {
    fn module(&self) -> &dyn Module {
        match self {
            Net::Rnn(m) => m,
            Net::Lstm(m) => m,
            Net::Gru(m) => m,
            Net::RnnCell(m) => m,
            Net::LstmCell(m) => m,
            Net::GruCell(m) => m,
        }
    }
    fn module_mut(&mut self) -> &mut dyn Module {
        match self {
            Net::Rnn(m) => m,
            Net::Lstm(m) => m,
            Net::Gru(m) => m,
            Net::RnnCell(m) => m,
            Net::LstmCell(m) => m,
            Net::GruCell(m) => m,
        }
    }
}

struct Recurrent(Net);

impl Module for Recurrent {
    fn visit_fields<'a>(&'a self, sink: &mut FieldSink<'a>) {
        self.0.module().visit_fields(sink)
    }
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
        self.0.module_mut().map_tensors(f)
    }
    fn type_name(&self) -> String {
        self.0.module().type_name()
    }
    fn extra_repr(&self) -> String {
        self.0.module().extra_repr()
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

/// `(h0, c0)` as a tuple argument.
fn state_pair(v: &Value) -> Result<(Tensor, Tensor), String> {
    match v {
        Value::List(l) if l.len() == 2 => Ok((l[0].tensor()?, l[1].tensor()?)),
        other => unsupported(format!("LSTM state {other:?}")),
    }
}

impl CaseModule for Recurrent {
    fn call(&self, a: &Args) -> EvalResult {
        a.only(&["input", "hx"], 2)?;
        let x = a.tensor(0, "input")?;
        let t = Value::Tensor;
        Ok(match &self.0 {
            Net::Rnn(m) => {
                let (o, h) = m.forward(&x, a.opt_tensor(1, "hx")?.as_ref());
                Value::List(vec![t(o), t(h)])
            }
            Net::Gru(m) => {
                let (o, h) = m.forward(&x, a.opt_tensor(1, "hx")?.as_ref());
                Value::List(vec![t(o), t(h)])
            }
            Net::Lstm(m) => {
                let hx = a.get(1, "hx").map(state_pair).transpose()?;
                let (o, (h, c)) = m.forward(&x, hx.as_ref().map(|(h, c)| (h, c)));
                Value::List(vec![t(o), Value::List(vec![t(h), t(c)])])
            }
            Net::RnnCell(m) => t(m.forward(&x, a.opt_tensor(1, "hx")?.as_ref())),
            Net::GruCell(m) => t(m.forward(&x, a.opt_tensor(1, "hx")?.as_ref())),
            Net::LstmCell(m) => {
                let hx = a.get(1, "hx").map(state_pair).transpose()?;
                let (h, c) = m.forward(&x, hx.as_ref().map(|(h, c)| (h, c)));
                Value::List(vec![t(h), t(c)])
            }
        })
    }
}

/// A size argument.
fn size(a: &Args, i: usize, name: &str) -> Result<usize, String> {
    let v = a.req(i, name)?.i64()?;
    usize::try_from(v).or_else(|_| unsupported(format!("{name}={v}")))
}

/// `RNNBase`'s options; `nonlinearity` shifts the positions after `num_layers` by one (nn.RNN).
fn options(a: &Args, rnn: bool) -> Result<RNNOptions, String> {
    let s = rnn as usize;
    let d = RNNOptions::default();
    Ok(RNNOptions {
        num_layers: a.i64_or(2, "num_layers", d.num_layers as i64)? as usize,
        bias: a.bool_or(3 + s, "bias", d.bias)?,
        batch_first: a.bool_or(4 + s, "batch_first", d.batch_first)?,
        dropout: a.f64_or(5 + s, "dropout", d.dropout)?,
        bidirectional: a.bool_or(6 + s, "bidirectional", d.bidirectional)?,
        proj_size: if rnn {
            d.proj_size
        } else {
            a.i64_or(7, "proj_size", 0)? as usize
        },
    })
}

const BASE_KW: [&str; 7] = [
    "input_size",
    "hidden_size",
    "num_layers",
    "bias",
    "batch_first",
    "dropout",
    "bidirectional",
];

/// `nn.*` constructors of this family; `None` when `name` is not one.
pub fn module(name: &str, a: &Args) -> Option<Result<Box<dyn CaseModule>, String>> {
    let build = || -> Result<Net, String> {
        let (i, h) = (size(a, 0, "input_size")?, size(a, 1, "hidden_size")?);
        Ok(match name {
            "nn.RNN" => {
                let mut kw = BASE_KW.to_vec();
                kw.push("nonlinearity");
                a.only(&kw, 8)?;
                let nl = a.str_or(3, "nonlinearity", "tanh")?;
                Net::Rnn(RNN::with_options(i, h, &nl, options(a, true)?))
            }
            "nn.LSTM" | "nn.GRU" => {
                let mut kw = BASE_KW.to_vec();
                if name == "nn.LSTM" {
                    kw.push("proj_size");
                }
                a.only(&kw, if name == "nn.LSTM" { 8 } else { 7 })?;
                let o = options(a, false)?;
                if name == "nn.LSTM" {
                    Net::Lstm(LSTM::with_options(i, h, o))
                } else {
                    Net::Gru(GRU::with_options(i, h, o))
                }
            }
            "nn.RNNCell" => {
                a.only(&["input_size", "hidden_size", "bias", "nonlinearity"], 4)?;
                let nl = a.str_or(3, "nonlinearity", "tanh")?;
                Net::RnnCell(RNNCell::with_options(
                    i,
                    h,
                    a.bool_or(2, "bias", true)?,
                    &nl,
                ))
            }
            "nn.LSTMCell" | "nn.GRUCell" => {
                a.only(&["input_size", "hidden_size", "bias"], 3)?;
                let bias = a.bool_or(2, "bias", true)?;
                if name == "nn.LSTMCell" {
                    Net::LstmCell(LSTMCell::with_bias(i, h, bias))
                } else {
                    Net::GruCell(GRUCell::with_bias(i, h, bias))
                }
            }
            _ => unreachable!(),
        })
    };
    match name {
        "nn.RNN" | "nn.LSTM" | "nn.GRU" | "nn.RNNCell" | "nn.LSTMCell" | "nn.GRUCell" => {
            Some(build().map(|n| Box::new(Recurrent(n)) as Box<dyn CaseModule>))
        }
        _ => None,
    }
}
