//! Modules as the harness holds them: anything called as `m(...)` in a case, with the positional
//! and keyword arguments of the expression, returning a tensor or a tuple (a `Value::List`).

use super::eval::{Args, EvalResult, Value, unsupported};
use flambeau::Tensor;
use flambeau::nn::{self, FieldSink, Module};

/// A module a case can call: `m(x)`, `m(q, k, v, key_padding_mask=kpm)`, `m(x, (h0, c0))`.
pub trait CaseModule: Module {
    /// Calls the module with the case's arguments. A tuple result is a `Value::List`.
    fn call(&self, a: &Args) -> EvalResult;
}

/// Implements `Module` for a wrapper by delegating to the module it holds.
macro_rules! delegate_module {
    ($ty:ty, $s:ident => $inner:expr) => {
        impl Module for $ty {
            fn visit_fields<'a>(&'a self, sink: &mut FieldSink<'a>) {
                let $s = self;
                $inner.visit_fields(sink)
            }
            fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
                let $s = self;
                $inner.map_tensors(f)
            }
            fn type_name(&self) -> String {
                let $s = self;
                $inner.type_name()
            }
            fn extra_repr(&self) -> String {
                let $s = self;
                $inner.extra_repr()
            }
            fn as_dyn(&self) -> &dyn Module {
                self
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use delegate_module;

/// A one-tensor module (`nn::Forward`) called as `m(x)`.
pub struct Fwd<M>(pub M);

impl<M: Module> Module for Fwd<M> {
    fn visit_fields<'a>(&'a self, sink: &mut FieldSink<'a>) {
        self.0.visit_fields(sink)
    }
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
        self.0.map_tensors(f)
    }
    fn type_name(&self) -> String {
        self.0.type_name()
    }
    fn extra_repr(&self) -> String {
        self.0.extra_repr()
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

impl<M: Module + nn::Forward> CaseModule for Fwd<M> {
    fn call(&self, a: &Args) -> EvalResult {
        a.only(&[], 1)?;
        Ok(Value::Tensor(self.0.forward(&a.tensor(0, "input")?)))
    }
}

/// Boxes a one-tensor module.
pub fn fwd<M: Module + nn::Forward + 'static>(m: M) -> Box<dyn CaseModule> {
    Box::new(Fwd(m))
}

/// A boxed case module: sized (so `to_dtype` works on it), and a `Forward` module when called
/// with one tensor (so it can sit in a `Sequential`).
pub struct Boxed(pub Box<dyn CaseModule>);

delegate_module!(Boxed, s => s.0);

impl CaseModule for Boxed {
    fn call(&self, a: &Args) -> EvalResult {
        self.0.call(a)
    }
}

impl nn::Forward for Boxed {
    fn forward(&self, x: &Tensor) -> Tensor {
        let a = Args {
            pos: vec![Value::Tensor(x.clone())],
            kw: Default::default(),
        };
        match self.0.call(&a) {
            Ok(Value::Tensor(t)) => t,
            Ok(other) => panic!("{} returned {other:?}, not a tensor", self.0.type_name()),
            Err(e) => panic!("{e}"),
        }
    }
}

#[allow(dead_code)]
/// The result of a call that returns `(tensor, optional tensor)` (attention weights).
pub fn pair(a: Tensor, b: Option<Tensor>) -> Value {
    Value::List(vec![Value::Tensor(a), b.map_or(Value::None, Value::Tensor)])
}

#[allow(dead_code)]
/// Rejects a keyword the harness does not pass on, as unsupported.
pub fn no_kwargs(a: &Args) -> Result<(), String> {
    if let Some(k) = a.kw.keys().next() {
        return unsupported(format!("keyword argument {k}"));
    }
    Ok(())
}
