//! `nn.Module`: the [`Module`] trait, what it is made of ([`Parameter`], [`Buffer`],
//! [`TrainingFlag`], child modules), and everything derived from its fields: names, state dicts,
//! train/eval, printing.

use super::{IncompatibleKeys, StateDict};
use crate::tensor::Tensor;
use crate::{DType, Error, Result};
use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

/// A tensor that is a learnable parameter of a module (`nn.Parameter`): a leaf that requires grad.
/// The module and the optimizer hold the same tensor, so `optimizer.step()` updates the model.
///
/// ```
/// use flambeau::{nn::Parameter, tensor};
/// let p = Parameter::new(tensor!([[-0.1188]]));
/// assert!(p.requires_grad() && p.is_leaf());
/// assert_eq!(format!("{p}"), "Parameter containing:\ntensor([[-0.1188]], requires_grad=True)");
/// ```
#[derive(Clone)]
pub struct Parameter(Tensor);

impl Parameter {
    /// Wraps a tensor as a parameter: detached from any graph, requiring grad when it is a float
    /// tensor.
    pub fn new(t: Tensor) -> Parameter {
        let leaf = t.detach();
        if leaf.dtype().is_float() {
            leaf.requires_grad_(true);
        }
        Parameter(leaf)
    }

    /// A parameter that does not require grad (`nn.Parameter(t, requires_grad=False)`).
    pub fn frozen(t: Tensor) -> Parameter {
        Parameter(t.detach())
    }

    /// The tensor itself.
    pub fn tensor(&self) -> &Tensor {
        &self.0
    }
}

impl std::ops::Deref for Parameter {
    type Target = Tensor;
    fn deref(&self) -> &Tensor {
        &self.0
    }
}

impl AsRef<Tensor> for Parameter {
    fn as_ref(&self) -> &Tensor {
        &self.0
    }
}

impl fmt::Display for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Parameter containing:\n{}", self.0)
    }
}

impl fmt::Debug for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A tensor that is part of a module's state but not learned, such as BatchNorm's running mean
/// (`register_buffer`). Persistent buffers are saved in the state dict.
#[derive(Clone, Debug)]
pub struct Buffer {
    tensor: Tensor,
    persistent: bool,
}

impl Buffer {
    /// A persistent buffer (saved in the state dict).
    pub fn new(t: Tensor) -> Buffer {
        Buffer {
            tensor: t.detach(),
            persistent: true,
        }
    }

    /// A buffer left out of the state dict (`persistent=False`).
    pub fn non_persistent(t: Tensor) -> Buffer {
        Buffer {
            tensor: t.detach(),
            persistent: false,
        }
    }

    /// Whether the buffer is saved in the state dict.
    pub fn is_persistent(&self) -> bool {
        self.persistent
    }

    /// The tensor itself.
    pub fn tensor(&self) -> &Tensor {
        &self.tensor
    }
}

impl std::ops::Deref for Buffer {
    type Target = Tensor;
    fn deref(&self) -> &Tensor {
        &self.tensor
    }
}

/// A module's `training` attribute, switched by `train()`/`eval()`. Modules whose behaviour
/// depends on the mode (dropout, batch norm) hold one; a derived module may too.
#[derive(Debug)]
pub struct TrainingFlag(AtomicBool);

impl TrainingFlag {
    /// A flag in training mode, as new PyTorch modules are.
    pub fn new() -> TrainingFlag {
        TrainingFlag(AtomicBool::new(true))
    }
    /// The current mode.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    /// Sets the mode.
    pub fn set(&self, training: bool) {
        self.0.store(training, Ordering::Relaxed)
    }
}

impl Default for TrainingFlag {
    fn default() -> Self {
        TrainingFlag::new()
    }
}

impl Clone for TrainingFlag {
    fn clone(&self) -> Self {
        TrainingFlag(AtomicBool::new(self.get()))
    }
}

/// What a module's fields register, in declaration order, as collected by
/// [`Module::visit_fields`].
#[derive(Default)]
pub struct FieldSink<'a> {
    params: Vec<(String, &'a Parameter)>,
    buffers: Vec<(String, &'a Buffer)>,
    children: Vec<(String, &'a dyn Module)>,
    flags: Vec<&'a TrainingFlag>,
}

impl<'a> FieldSink<'a> {
    /// Registers a parameter under `name`.
    pub fn parameter(&mut self, name: &str, p: &'a Parameter) {
        self.params.push((name.to_string(), p));
    }
    /// Registers a buffer under `name`.
    pub fn buffer(&mut self, name: &str, b: &'a Buffer) {
        self.buffers.push((name.to_string(), b));
    }
    /// Registers a child module under `name`.
    pub fn child(&mut self, name: &str, m: &'a dyn Module) {
        self.children.push((name.to_string(), m));
    }
    /// Registers the module's own training flag.
    pub fn flag(&mut self, f: &'a TrainingFlag) {
        self.flags.push(f);
    }
}

/// A type that can be a field of a module: parameters, buffers, modules, training flags,
/// `Option`s, `Vec`s and `Box`es of those, and plain data (numbers, strings), which registers
/// nothing. `#[derive(Module)]` calls it for every field.
pub trait ModuleField {
    /// Registers whatever this field holds under `name`.
    fn collect<'a>(&'a self, name: &str, sink: &mut FieldSink<'a>);
    /// Replaces every parameter and buffer tensor by `f(tensor)` (dtype conversion).
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor);
}

impl ModuleField for Parameter {
    fn collect<'a>(&'a self, name: &str, sink: &mut FieldSink<'a>) {
        sink.parameter(name, self);
    }
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
        *self = Parameter(f(&self.0));
    }
}

impl ModuleField for Buffer {
    fn collect<'a>(&'a self, name: &str, sink: &mut FieldSink<'a>) {
        sink.buffer(name, self);
    }
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
        self.tensor = f(&self.tensor);
    }
}

impl ModuleField for TrainingFlag {
    fn collect<'a>(&'a self, _name: &str, sink: &mut FieldSink<'a>) {
        sink.flag(self);
    }
    fn map_tensors(&mut self, _f: &mut dyn FnMut(&Tensor) -> Tensor) {}
}

impl<T: ModuleField> ModuleField for Option<T> {
    fn collect<'a>(&'a self, name: &str, sink: &mut FieldSink<'a>) {
        if let Some(x) = self {
            x.collect(name, sink);
        }
    }
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
        if let Some(x) = self {
            x.map_tensors(f);
        }
    }
}

impl<T: ModuleField + Send + Sync> ModuleField for Vec<T> {
    fn collect<'a>(&'a self, name: &str, sink: &mut FieldSink<'a>) {
        // A Vec of modules is a ModuleList child; a Vec of plain data registers nothing.
        let mut probe = FieldSink::default();
        for x in self {
            x.collect("", &mut probe);
        }
        if !(probe.params.is_empty() && probe.buffers.is_empty() && probe.children.is_empty()) {
            sink.child(name, self);
        }
    }
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
        for x in self.iter_mut() {
            x.map_tensors(f);
        }
    }
}

/// A `Vec` of modules is PyTorch's `ModuleList`: children named `0`, `1`, ...
impl<T: ModuleField + Send + Sync> Module for Vec<T> {
    fn visit_fields<'a>(&'a self, sink: &mut FieldSink<'a>) {
        for (i, x) in self.iter().enumerate() {
            x.collect(&i.to_string(), sink);
        }
    }
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
        ModuleField::map_tensors(self, f)
    }
    fn type_name(&self) -> String {
        "ModuleList".to_string()
    }
    fn repr(&self) -> String {
        module_list_repr(self)
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

macro_rules! plain_field {
    ($($t:ty),*) => {$(
        impl ModuleField for $t {
            fn collect<'a>(&'a self, _name: &str, _sink: &mut FieldSink<'a>) {}
            fn map_tensors(&mut self, _f: &mut dyn FnMut(&Tensor) -> Tensor) {}
        }
    )*};
}
plain_field!(
    bool,
    u8,
    u16,
    u32,
    u64,
    usize,
    i8,
    i16,
    i32,
    i64,
    isize,
    f32,
    f64,
    String,
    &'static str,
    (),
    DType
);

impl<T> ModuleField for std::marker::PhantomData<T> {
    fn collect<'a>(&'a self, _name: &str, _sink: &mut FieldSink<'a>) {}
    fn map_tensors(&mut self, _f: &mut dyn FnMut(&Tensor) -> Tensor) {}
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// PyTorch's `_addindent`: indents every line after the first.
pub(crate) fn add_indent(s: &str, spaces: usize) -> String {
    let mut lines = s.split('\n');
    let first = lines.next().unwrap_or("");
    let pad = " ".repeat(spaces);
    let rest: Vec<String> = lines.map(|l| format!("{pad}{l}")).collect();
    if rest.is_empty() {
        first.to_string()
    } else {
        format!("{first}\n{}", rest.join("\n"))
    }
}

/// `ModuleList.__repr__`: consecutive identical children are folded into `(0-2): 3 x Linear(...)`.
fn module_list_repr(m: &dyn Module) -> String {
    let reprs: Vec<String> = m.named_children().iter().map(|(_, c)| c.repr()).collect();
    if reprs.is_empty() {
        return format!("{}()", m.type_name());
    }
    let mut blocks: Vec<(usize, usize, &String)> = vec![(0, 0, &reprs[0])];
    for (i, r) in reprs.iter().enumerate().skip(1) {
        let last = blocks.last_mut().unwrap();
        if r == last.2 {
            last.1 += 1;
        } else {
            blocks.push((i, i, r));
        }
    }
    let lines: Vec<String> = blocks
        .iter()
        .map(|&(s, e, b)| {
            let local = if s == e {
                format!("({s}): {b}")
            } else {
                format!("({s}-{e}): {} x {b}", e - s + 1)
            };
            add_indent(&local, 2)
        })
        .collect();
    format!("{}(\n  {}\n)", m.type_name(), lines.join("\n  "))
}

/// PyTorch's `nn.Module`: a tree of parameters, buffers and child modules, with names built from
/// field names. Implement it with `#[derive(Module)]`; every other method comes from the fields.
///
/// ```
/// use flambeau::nn::{Linear, Module, ReLU, Sequential};
///
/// #[derive(Module)]
/// struct Mlp {
///     body: Sequential,
///     head: Option<Linear>,
///     hidden: usize,
/// }
///
/// let m = Mlp {
///     body: Sequential::new().add(Linear::new(4, 8)).add(ReLU::new()),
///     head: Some(Linear::new(8, 3)),
///     hidden: 8,
/// };
/// let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["body.0.weight", "body.0.bias", "head.weight", "head.bias"]);
/// assert_eq!(m.num_parameters(), 4 * 8 + 8 + 8 * 3 + 3);
/// ```
pub trait Module: Send + Sync {
    /// Registers the fields (parameters, buffers, children, training flag) in declaration order.
    fn visit_fields<'a>(&'a self, sink: &mut FieldSink<'a>);

    /// Replaces every parameter and buffer tensor by `f(tensor)`, recursively.
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor);

    /// The class name printed by the repr (`Linear`, or the struct's name).
    fn type_name(&self) -> String;

    /// The text inside the parentheses of the repr (`in_features=4, out_features=8, bias=True`).
    fn extra_repr(&self) -> String {
        String::new()
    }

    /// PyTorch's module repr: the name, the extra repr, then each child indented.
    ///
    /// ```
    /// use flambeau::nn::{Linear, Module, ReLU, Sequential};
    /// let s = Sequential::new().add(Linear::new(4, 8)).add(ReLU::new());
    /// assert_eq!(
    ///     s.repr(),
    ///     "Sequential(\n  (0): Linear(in_features=4, out_features=8, bias=True)\n  (1): ReLU()\n)"
    /// );
    /// ```
    fn repr(&self) -> String {
        let extra = self.extra_repr();
        let extra_lines: Vec<&str> = if extra.is_empty() {
            Vec::new()
        } else {
            extra.split('\n').collect()
        };
        let child_lines: Vec<String> = self
            .named_children()
            .iter()
            .map(|(k, m)| format!("({k}): {}", add_indent(&m.repr(), 2)))
            .collect();
        let mut s = format!("{}(", self.type_name());
        if extra_lines.len() == 1 && child_lines.is_empty() {
            s.push_str(extra_lines[0]);
        } else if !extra_lines.is_empty() || !child_lines.is_empty() {
            let lines: Vec<String> = extra_lines
                .iter()
                .map(|l| l.to_string())
                .chain(child_lines)
                .collect();
            s.push_str(&format!("\n  {}\n", lines.join("\n  ")));
        }
        s.push(')');
        s
    }

    /// The direct children with their names (`named_children()`).
    fn named_children(&self) -> Vec<(String, &dyn Module)> {
        let mut sink = FieldSink::default();
        self.visit_fields(&mut sink);
        sink.children
    }

    /// The direct children (`children()`).
    fn children(&self) -> Vec<&dyn Module> {
        self.named_children().into_iter().map(|(_, m)| m).collect()
    }

    /// This module and all its descendants, pre-order, with dotted names; this module is `""`
    /// (`named_modules()`).
    fn named_modules(&self) -> Vec<(String, &dyn Module)> {
        named_modules_dyn(self.as_dyn())
    }

    /// The parameters with their dotted names; a parameter shared by several fields is listed once,
    /// under its first name (`named_parameters()`).
    fn named_parameters(&self) -> Vec<(String, Parameter)> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (prefix, m) in named_modules_dyn(self.as_dyn()) {
            let mut sink = FieldSink::default();
            m.visit_fields(&mut sink);
            for (name, p) in sink.params {
                if seen.insert(std::sync::Arc::as_ptr(&p.0.0) as usize) {
                    out.push((join(&prefix, &name), p.clone()));
                }
            }
        }
        out
    }

    /// The parameters (`parameters()`), as handles sharing the module's tensors.
    fn parameters(&self) -> Vec<Parameter> {
        self.named_parameters()
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    /// The buffers with their dotted names (`named_buffers()`).
    fn named_buffers(&self) -> Vec<(String, Buffer)> {
        let mut out = Vec::new();
        for (prefix, m) in named_modules_dyn(self.as_dyn()) {
            let mut sink = FieldSink::default();
            m.visit_fields(&mut sink);
            for (name, b) in sink.buffers {
                out.push((join(&prefix, &name), b.clone()));
            }
        }
        out
    }

    /// The buffers (`buffers()`).
    fn buffers(&self) -> Vec<Buffer> {
        self.named_buffers().into_iter().map(|(_, b)| b).collect()
    }

    /// The number of parameter elements, each shared parameter counted once
    /// (`sum(p.numel() for p in m.parameters())`).
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(|p| p.numel()).sum()
    }

    /// Sets training mode on this module and every descendant (`train(mode)`).
    fn train(&self, mode: bool) {
        for (_, m) in named_modules_dyn(self.as_dyn()) {
            let mut sink = FieldSink::default();
            m.visit_fields(&mut sink);
            for f in sink.flags {
                f.set(mode);
            }
        }
    }

    /// Evaluation mode (`eval()`), the same as `train(false)`.
    fn eval(&self) {
        self.train(false);
    }

    /// Whether the module is in training mode (`module.training`): its own flag if it has one,
    /// else that of its first descendant that has one; true when none does.
    fn is_training(&self) -> bool {
        for (_, m) in named_modules_dyn(self.as_dyn()) {
            let mut sink = FieldSink::default();
            m.visit_fields(&mut sink);
            if let Some(f) = sink.flags.first() {
                return f.get();
            }
        }
        true
    }

    /// Clears every parameter's gradient (`zero_grad()`, which sets them to None).
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.set_grad(None);
        }
    }

    /// Parameters and persistent buffers by dotted name, in PyTorch's order: each module's own
    /// parameters, then its buffers, then its children (`state_dict()`). The tensors are detached
    /// and share storage with the module.
    fn state_dict(&self) -> StateDict {
        let mut sd = StateDict::new();
        for (prefix, m) in named_modules_dyn(self.as_dyn()) {
            let mut sink = FieldSink::default();
            m.visit_fields(&mut sink);
            for (name, p) in sink.params {
                sd.insert(join(&prefix, &name), p.detach());
            }
            for (name, b) in sink.buffers {
                if b.persistent {
                    sd.insert(join(&prefix, &name), b.detach());
                }
            }
        }
        sd
    }

    /// Copies values from a state dict into the parameters and buffers, in place
    /// (`load_state_dict(sd, strict)`). With `strict`, missing and unexpected keys are errors;
    /// a shape mismatch always is. Errors use PyTorch's wording; nothing is modified on error.
    ///
    /// ```
    /// use flambeau::nn::{Linear, Module, StateDict};
    /// let a = Linear::new(2, 2);
    /// let b = Linear::new(2, 2);
    /// b.load_state_dict(&a.state_dict(), true).unwrap();
    /// assert!(a.weight.equal(&b.weight));
    ///
    /// let mut sd = a.state_dict();
    /// sd.remove("bias");
    /// let err = b.load_state_dict(&sd, true).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: \"bias\". "
    /// );
    /// ```
    fn load_state_dict(&self, state_dict: &StateDict, strict: bool) -> Result<IncompatibleKeys> {
        let own = self.state_dict();
        let mut missing = Vec::new();
        let mut size_errors = Vec::new();
        for (key, t) in own.iter() {
            match state_dict.get(key) {
                None => missing.push(key.to_string()),
                Some(src) => {
                    if src.dims() != t.dims() {
                        size_errors.push(format!(
                            "size mismatch for {key}: copying a param with shape {:?} from checkpoint, the shape in current model is {:?}.",
                            src.shape(),
                            t.shape()
                        ));
                    }
                }
            }
        }
        let unexpected: Vec<String> = state_dict
            .keys()
            .into_iter()
            .filter(|k| own.get(k).is_none())
            .map(|k| k.to_string())
            .collect();
        let mut errors = Vec::new();
        if strict {
            if !missing.is_empty() {
                let keys: Vec<String> = missing.iter().map(|k| format!("\"{k}\"")).collect();
                errors.push(format!(
                    "Missing key(s) in state_dict: {}. ",
                    keys.join(", ")
                ));
            }
            if !unexpected.is_empty() {
                let keys: Vec<String> = unexpected.iter().map(|k| format!("\"{k}\"")).collect();
                errors.push(format!(
                    "Unexpected key(s) in state_dict: {}. ",
                    keys.join(", ")
                ));
            }
        }
        errors.extend(size_errors);
        if !errors.is_empty() {
            return Err(Error::LoadStateDict(format!(
                "Error(s) in loading state_dict for {}:\n\t{}",
                self.type_name(),
                errors.join("\n\t")
            )));
        }
        crate::autograd::no_grad(|| {
            for (key, t) in own.iter() {
                if let Some(src) = state_dict.get(key) {
                    t.copy_(src);
                }
            }
        });
        Ok(IncompatibleKeys {
            missing_keys: missing,
            unexpected_keys: unexpected,
        })
    }

    /// Converts every parameter and buffer to `dtype` (`module.to(dtype)`), keeping shared
    /// parameters shared. Floating-point tensors only change, in place as PyTorch's
    /// `param.data = ...` does (their gradients too), so an optimizer created before keeps
    /// updating them. A tensor whose storage is still shared (a view, or saved by a graph that
    /// was not run backward) is replaced by a converted copy instead.
    fn to_dtype(&mut self, dtype: DType)
    where
        Self: Sized,
    {
        super::module_convert::to_dtype(self, dtype)
    }

    /// Moves every parameter and buffer to `device` (`module.to(device)`); the CPU is the only
    /// device today, so nothing moves.
    ///
    /// ```
    /// use flambeau::{nn::{Linear, Module}, Device};
    /// let mut m = Linear::new(2, 3);
    /// m.to_device(Device::Cpu);
    /// assert_eq!(m.weight.device(), Device::Cpu);
    /// ```
    fn to_device(&mut self, device: crate::Device)
    where
        Self: Sized,
    {
        super::module_convert::to_device(self, device)
    }

    /// A copy with its own parameters and buffers (PyTorch's `copy.deepcopy(model)`): the same
    /// values, `requires_grad` flags, gradients and training mode in new tensors, with weights
    /// the module ties together still tied in the copy. `clone()` instead shares every tensor
    /// (the parameters are handles), so `best = model.clone()` keeps following the training;
    /// keep the best model with `deep_clone()`, or with a [`StateDict::deep_clone`] of its
    /// state dict for modules that are not `Clone` (a `Sequential`).
    ///
    /// ```
    /// use flambeau::nn::{init, Linear, Module};
    /// let model = Linear::new(2, 1);
    /// let best = model.deep_clone();
    /// let shared = model.clone();
    /// init::constant_(&model.weight, 0.0);
    /// assert!(shared.weight.eq(0.0).all_true());
    /// assert!(!best.weight.eq(0.0).all_true());
    /// assert!(best.weight.requires_grad());
    /// ```
    fn deep_clone(&self) -> Self
    where
        Self: Sized + Clone,
    {
        super::module_convert::deep_clone(self)
    }

    /// Converts to float64 (`module.double()`).
    fn double(&mut self)
    where
        Self: Sized,
    {
        self.to_dtype(DType::F64)
    }

    /// Converts to float32 (`module.float()`).
    fn float(&mut self)
    where
        Self: Sized,
    {
        self.to_dtype(DType::F32)
    }

    /// This module as a trait object.
    fn as_dyn(&self) -> &dyn Module;

    /// This module as `Any`, for [`downcast_ref`](trait.Module.html#method.downcast_ref)
    /// (PyTorch's `isinstance(m, nn.Linear)`). `#[derive(Module)]` provides it; a hand-written
    /// module that does not is never matched by a downcast.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }

    /// Calls `f` on every submodule, children first (each child's own subtree in order), then on
    /// this module (`module.apply(fn)`), typically to initialise weights. Parameters are shared
    /// handles, so `f` can re-initialise them in place.
    ///
    /// ```
    /// use flambeau::nn::{init, Linear, Module, ReLU, Sequential};
    /// let net = Sequential::new().add(Linear::new(4, 8)).add(ReLU::new()).add(Linear::new(8, 2));
    /// let mut seen = Vec::new();
    /// net.apply(&mut |m: &dyn Module| {
    ///     seen.push(m.type_name());
    ///     if let Some(l) = m.downcast_ref::<Linear>() {
    ///         init::constant_(&l.weight, 0.5);
    ///     }
    /// });
    /// assert_eq!(seen, ["Linear", "ReLU", "Linear", "Sequential"]);
    /// assert!(net.parameters().iter().step_by(2).all(|w| w.eq(0.5).all_true()));
    /// ```
    fn apply(&self, f: &mut dyn FnMut(&dyn Module)) -> &Self
    where
        Self: Sized,
    {
        fn visit(m: &dyn Module, f: &mut dyn FnMut(&dyn Module)) {
            for c in m.children() {
                visit(c, f);
            }
            f(m);
        }
        visit(self.as_dyn(), f);
        self
    }

    /// Sets `requires_grad` on every parameter (`module.requires_grad_(False)` freezes it).
    ///
    /// ```
    /// use flambeau::nn::{Linear, Module};
    /// let fc = Linear::new(3, 2);
    /// fc.requires_grad_(false);
    /// assert!(fc.parameters().iter().all(|p| !p.requires_grad()));
    /// ```
    fn requires_grad_(&self, requires_grad: bool) -> &Self
    where
        Self: Sized,
    {
        for p in self.parameters() {
            p.requires_grad_(requires_grad);
        }
        self
    }
}

impl dyn Module + '_ {
    /// The module as its concrete type, if it is one (PyTorch's `isinstance`); see
    /// [`Module::apply`].
    ///
    /// ```
    /// use flambeau::nn::{Linear, Module, ReLU};
    /// let m: &dyn Module = &Linear::new(2, 2);
    /// assert!(m.downcast_ref::<Linear>().is_some());
    /// assert!(m.downcast_ref::<ReLU>().is_none());
    /// ```
    pub fn downcast_ref<T: std::any::Any>(&self) -> Option<&T> {
        self.as_any().and_then(|a| a.downcast_ref::<T>())
    }

    /// Whether the module is a `T`.
    pub fn is<T: std::any::Any>(&self) -> bool {
        self.downcast_ref::<T>().is_some()
    }
}

/// Pre-order walk over a module tree.
pub(crate) fn named_modules_dyn(root: &dyn Module) -> Vec<(String, &dyn Module)> {
    let mut out = Vec::new();
    let mut stack: Vec<(String, &dyn Module)> = vec![(String::new(), root)];
    while let Some((prefix, m)) = stack.pop() {
        let children = m.named_children();
        out.push((prefix.clone(), m));
        for (name, c) in children.into_iter().rev() {
            stack.push((join(&prefix, &name), c));
        }
    }
    out
}

/// A module with a one-tensor forward, which `Sequential` can chain (PyTorch's `forward`).
pub trait Forward {
    /// Computes the output for `input`.
    fn forward(&self, input: &Tensor) -> Tensor;
}

/// A module that can sit in a `Sequential`.
pub trait ForwardModule: Module + Forward {}
impl<T: Module + Forward> ForwardModule for T {}

impl ModuleField for Box<dyn ForwardModule> {
    fn collect<'a>(&'a self, name: &str, sink: &mut FieldSink<'a>) {
        sink.child(name, (**self).as_dyn());
    }
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Tensor) {
        (**self).map_tensors(f);
    }
}
