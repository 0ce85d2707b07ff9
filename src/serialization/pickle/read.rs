//! The restricted unpickler, after torch/_weights_only_unpickler.py: protocol 2-5 opcodes that
//! build data, `GLOBAL`/`STACK_GLOBAL` for an allow-list only, `REDUCE`/`NEWOBJ`/`BUILD` only on
//! allowed callables. Every read is bounds-checked, lengths are checked against the bytes left,
//! nesting is bounded ([`MAX_DEPTH`]) and the total copied through the memo is bounded by the
//! input's length, so no input can exhaust memory or the stack.

use super::obj::{DictObj, Global, MAX_DEPTH, Obj, StorageObj};
use crate::dtype::DType;
use crate::serialization::Value;
use crate::shape::{Layout, Shape};
use crate::storage::StorageCell;
use crate::tensor::Tensor;
use crate::{Error, Result};
use std::collections::HashMap;
use std::sync::Arc;

/// What a persistent id `('storage', storage_type, key, location, numel[, view_metadata])` names.
pub(crate) struct StorageId {
    /// The storage class's full name (`torch.FloatStorage`).
    pub class: String,
    pub dtype: DType,
    pub key: String,
    pub numel: usize,
    /// Legacy files: `(view_key, offset, size)` when the storage is a view of another.
    pub view: Option<(String, usize, usize)>,
}

/// Loads the storage a persistent id names (from the zip's `data/<key>` or the legacy file's
/// storage section), returning the cell and the element offset the id's view starts at.
pub(crate) type StorageLoader<'l> = dyn FnMut(&StorageId) -> Result<(Arc<StorageCell>, usize)> + 'l;

/// torch's wording for a refused pickle (`_get_wo_message`).
pub(crate) fn refused(msg: impl std::fmt::Display) -> Error {
    Error::Format(format!(
        "Weights only load failed. WeightsUnpickler error: {msg}"
    ))
}

fn corrupt(msg: impl std::fmt::Display) -> Error {
    Error::Format(format!("corrupt pickle data: {msg}"))
}

/// The dtype of a storage class Flambeau can hold, or the error naming the class.
fn storage_dtype(class: &str) -> Result<DType> {
    match class {
        "torch.FloatStorage" => Ok(DType::F32),
        "torch.DoubleStorage" => Ok(DType::F64),
        "torch.LongStorage" => Ok(DType::I64),
        "torch.BoolStorage" => Ok(DType::Bool),
        other => Err(Error::Format(format!(
            "{other}: Flambeau reads float32, float64, int64 and bool"
        ))),
    }
}

fn opcode_name(op: u8) -> &'static str {
    match op {
        b'i' => "INST",
        b'o' => "OBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        b'P' => "PERSID",
        b'I' => "INT",
        b'L' => "LONG",
        b'F' => "FLOAT",
        b'S' => "STRING",
        b'V' => "UNICODE",
        b'p' => "PUT",
        b'g' => "GET",
        b'l' => "LIST",
        b'd' => "DICT",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        0x92 => "NEWOBJ_EX",
        _ => "unknown opcode",
    }
}

/// Reads one pickle from the front of its input.
pub(crate) struct Unpickler<'a, 'l> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Obj>,
    metastack: Vec<Vec<Obj>>,
    memo: HashMap<u32, Obj>,
    /// What the memo may still copy (nodes plus text bytes), in proportion to the input.
    budget: usize,
    loader: &'l mut StorageLoader<'l>,
}

impl<'a, 'l> Unpickler<'a, 'l> {
    pub fn new(data: &'a [u8], loader: &'l mut StorageLoader<'l>) -> Unpickler<'a, 'l> {
        Unpickler {
            data,
            pos: 0,
            stack: Vec::new(),
            metastack: Vec::new(),
            memo: HashMap::new(),
            budget: data.len().saturating_mul(16).saturating_add(1 << 16),
            loader,
        }
    }

    /// Where the pickle ended (the byte after `STOP`).
    pub fn position(&self) -> usize {
        self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| corrupt("unexpected end of data (truncated file?)"))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap()))
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }

    /// A length field, checked against the bytes left before anything is allocated.
    fn len_field(&mut self, n: u64) -> Result<usize> {
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            return Err(corrupt(format!(
                "a length of {n} bytes exceeds the {left} bytes left (truncated file?)"
            )));
        }
        Ok(n as usize)
    }

    fn line(&mut self) -> Result<&'a str> {
        let rest = &self.data[self.pos..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| corrupt("a GLOBAL line has no end"))?;
        self.pos += n + 1;
        std::str::from_utf8(&rest[..n]).map_err(|_| corrupt("a GLOBAL name is not UTF-8"))
    }

    fn text(&mut self, n: usize) -> Result<String> {
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| corrupt("a string is not valid UTF-8"))
    }

    fn push(&mut self, o: Obj) {
        self.stack.push(o);
    }

    fn pop(&mut self) -> Result<Obj> {
        self.stack.pop().ok_or_else(|| corrupt("stack underflow"))
    }

    fn top(&mut self) -> Result<&mut Obj> {
        self.stack
            .last_mut()
            .ok_or_else(|| corrupt("stack underflow"))
    }

    fn pop_mark(&mut self) -> Result<Vec<Obj>> {
        let outer = self
            .metastack
            .pop()
            .ok_or_else(|| corrupt("could not find MARK"))?;
        Ok(std::mem::replace(&mut self.stack, outer))
    }

    /// Runs the pickle to its `STOP` and returns the object it built.
    pub fn load(&mut self) -> Result<Value> {
        loop {
            let op = self.u8()?;
            match op {
                0x80 => {
                    let proto = self.u8()?;
                    if proto > 5 {
                        return Err(corrupt(format!("unsupported pickle protocol: {proto}")));
                    }
                }
                0x95 => {
                    // FRAME: a length prefix, for buffering; the content is ordinary opcodes.
                    let n = self.u64()?;
                    self.len_field(n)?;
                }
                b'.' => {
                    let top = self.pop()?;
                    return top.into_value();
                }
                b'(' => {
                    if self.metastack.len() >= MAX_DEPTH as usize {
                        return Err(corrupt(format!("MARKs nest more than {MAX_DEPTH} deep")));
                    }
                    let inner = std::mem::take(&mut self.stack);
                    self.metastack.push(inner);
                }
                b'N' => self.push(Obj::None),
                0x88 => self.push(Obj::Bool(true)),
                0x89 => self.push(Obj::Bool(false)),
                b'J' => {
                    let v = i32::from_le_bytes(self.take(4)?.try_into().unwrap());
                    self.push(Obj::Int(v as i64));
                }
                b'K' => {
                    let v = self.u8()?;
                    self.push(Obj::Int(v as i64));
                }
                b'M' => {
                    let v = self.u16()?;
                    self.push(Obj::Int(v as i64));
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a {
                        self.u8()? as u64
                    } else {
                        self.u32()? as u64
                    };
                    let n = self.len_field(n)?;
                    let bytes = self.take(n)?;
                    self.push(Obj::Int(decode_long(bytes)?));
                }
                b'G' => {
                    let v = f64::from_be_bytes(self.take(8)?.try_into().unwrap());
                    self.push(Obj::Float(v));
                }
                0x8c | b'X' | 0x8d => {
                    let n = match op {
                        0x8c => self.u8()? as u64,
                        b'X' => self.u32()? as u64,
                        _ => self.u64()?,
                    };
                    let n = self.len_field(n)?;
                    let s = self.text(n)?;
                    self.push(Obj::Str(s));
                }
                b'U' | b'T' => {
                    // SHORT_BINSTRING / BINSTRING (Python 2 str), decoded as UTF-8 as torch.load does.
                    let n = if op == b'U' {
                        self.u8()? as u64
                    } else {
                        self.u32()? as u64
                    };
                    let n = self.len_field(n)?;
                    let s = self.text(n)?;
                    self.push(Obj::Str(s));
                }
                b'C' | b'B' | 0x8e => {
                    let n = match op {
                        b'C' => self.u8()? as u64,
                        b'B' => self.u32()? as u64,
                        _ => self.u64()?,
                    };
                    let n = self.len_field(n)?;
                    let b = self.take(n)?.to_vec();
                    self.push(Obj::Bytes(b));
                }
                b')' => self.push(Obj::Tuple(Vec::new(), 1)),
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    if self.stack.len() < n {
                        return Err(corrupt("stack underflow"));
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    let t = Obj::tuple(items)?;
                    self.push(t);
                }
                b't' => {
                    let items = self.pop_mark()?;
                    let t = Obj::tuple(items)?;
                    self.push(t);
                }
                b']' => self.push(Obj::List(Vec::new(), 1)),
                b'a' => {
                    let item = self.pop()?;
                    self.extend_list(vec![item], "append to")?;
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    self.extend_list(items, "extend")?;
                }
                b'}' => self.push(Obj::Dict(DictObj::new(false))),
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.set_items(vec![k, v], "SETITEM")?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    if items.len() % 2 != 0 {
                        return Err(corrupt("SETITEMS with an odd number of items"));
                    }
                    self.set_items(items, "SETITEMS")?;
                }
                b'q' | b'r' | 0x94 => {
                    let idx = match op {
                        b'q' => self.u8()? as u32,
                        b'r' => self.u32()?,
                        _ => {
                            u32::try_from(self.memo.len()).map_err(|_| corrupt("memo too large"))?
                        }
                    };
                    let top = self
                        .stack
                        .last()
                        .ok_or_else(|| corrupt("stack underflow"))?;
                    let copy = copy(&mut self.budget, top)?;
                    self.memo.insert(idx, copy);
                }
                b'h' | b'j' => {
                    let idx = if op == b'h' {
                        self.u8()? as u32
                    } else {
                        self.u32()?
                    };
                    let o = self
                        .memo
                        .get(&idx)
                        .ok_or_else(|| corrupt(format!("memo key {idx} was never stored")))?;
                    let copy = copy(&mut self.budget, o)?;
                    self.push(copy);
                }
                b'Q' => {
                    let pid = self.pop()?;
                    let storage = self.persistent_load(pid)?;
                    self.push(storage);
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    let g = resolve_global(module, name)?;
                    self.push(Obj::Global(g));
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (module, name) {
                        (Obj::Str(m), Obj::Str(n)) => {
                            let g = resolve_global(&m, &n)?;
                            self.push(Obj::Global(g));
                        }
                        _ => return Err(corrupt("STACK_GLOBAL requires str")),
                    }
                }
                b'R' => {
                    let args = self.pop()?;
                    let func = self.pop()?;
                    let out = self.reduce(func, args)?;
                    self.push(out);
                }
                0x81 => {
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    match cls {
                        Obj::Global(Global::Parameter) => {
                            let out = self.reduce(Obj::Global(Global::Parameter), args)?;
                            self.push(out);
                        }
                        other => {
                            return Err(refused(format!(
                                "Can only create new object for nn.Parameter or classes allowlisted via `add_safe_globals` but got {}",
                                other.type_name()
                            )));
                        }
                    }
                }
                b'b' => {
                    let _state = self.pop()?;
                    let inst = self.top()?;
                    match inst {
                        // OrderedDict's state is its `__dict__` (a state dict's `_metadata`),
                        // a Parameter's its Python attributes: neither has a place in a Value.
                        Obj::Dict(d) if d.ordered => {}
                        Obj::Tensor(_) => {}
                        other => {
                            return Err(refused(format!(
                                "Can only build Tensor, Parameter, OrderedDict or types allowlisted via `add_safe_globals`, but got {}",
                                other.type_name()
                            )));
                        }
                    }
                }
                other => {
                    return Err(refused(format!(
                        "Unsupported operand {other} ({})",
                        opcode_name(other)
                    )));
                }
            }
        }
    }

    fn extend_list(&mut self, items: Vec<Obj>, verb: &str) -> Result<()> {
        let depth = Obj::depth_over(&items)?;
        match self.top()? {
            Obj::List(v, d) => {
                v.extend(items);
                *d = (*d).max(depth);
                Ok(())
            }
            other => Err(refused(format!(
                "Can only {verb} lists, but got {}",
                other.type_name()
            ))),
        }
    }

    fn set_items(&mut self, items: Vec<Obj>, opcode: &str) -> Result<()> {
        match self.top()? {
            Obj::Dict(d) => {
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    d.set(k, v)?;
                }
                Ok(())
            }
            other => Err(refused(format!(
                "Can only {opcode} for dict, collections.OrderedDict, collections.Counter, but got {}",
                other.type_name()
            ))),
        }
    }

    fn persistent_load(&mut self, pid: Obj) -> Result<Obj> {
        let items = match pid {
            Obj::Tuple(items, _) => items,
            other => {
                return Err(refused(format!(
                    "persistent_load id must be tuple or int, but got {}",
                    other.type_name()
                )));
            }
        };
        let is_storage = matches!(items.first(), Some(Obj::Str(s)) if s == "storage")
            || matches!(items.first(), Some(Obj::Bytes(b)) if b == b"storage");
        if !is_storage {
            return Err(refused(
                "Only persistent_load of storage is allowed".to_string(),
            ));
        }
        if items.len() != 5 && items.len() != 6 {
            return Err(corrupt(format!(
                "a storage persistent id has {} fields, expected 5 (zip format) or 6 (legacy)",
                items.len()
            )));
        }
        let class = match &items[1] {
            Obj::Global(Global::Storage(c)) => c.clone(),
            other => {
                return Err(corrupt(format!(
                    "a storage persistent id names a {} as its storage type",
                    other.type_name()
                )));
            }
        };
        let dtype = storage_dtype(&class)?;
        let key = match &items[2] {
            Obj::Str(s) => s.clone(),
            Obj::Int(i) => i.to_string(),
            other => return Err(corrupt(format!("a storage key is a {}", other.type_name()))),
        };
        let numel = nonneg(&items[4], "storage numel")?;
        let view = match items.get(5) {
            None | Some(Obj::None) => None,
            Some(Obj::Tuple(v, _)) if v.len() == 3 => {
                let view_key = match &v[0] {
                    Obj::Str(s) => s.clone(),
                    other => return Err(corrupt(format!("a view key is a {}", other.type_name()))),
                };
                Some((
                    view_key,
                    nonneg(&v[1], "view offset")?,
                    nonneg(&v[2], "view size")?,
                ))
            }
            Some(other) => {
                return Err(corrupt(format!(
                    "a storage's view metadata is a {}",
                    other.type_name()
                )));
            }
        };
        let id = StorageId {
            class,
            dtype,
            key,
            numel,
            view,
        };
        let (cell, offset) = (self.loader)(&id)?;
        Ok(Obj::Storage(StorageObj { cell, offset }))
    }

    fn reduce(&mut self, func: Obj, args: Obj) -> Result<Obj> {
        let g = match func {
            Obj::Global(g) => g,
            other => {
                return Err(refused(format!(
                    "Trying to call reduce for unrecognized function {}",
                    other.type_name()
                )));
            }
        };
        let args = match args {
            Obj::Tuple(v, _) => v,
            other => {
                return Err(corrupt(format!(
                    "REDUCE's arguments are a {}, expected a tuple",
                    other.type_name()
                )));
            }
        };
        match g {
            Global::OrderedDict => {
                let mut d = DictObj::new(true);
                match args.into_iter().next() {
                    None => {}
                    Some(Obj::List(pairs, _) | Obj::Tuple(pairs, _)) => {
                        for p in pairs {
                            match p {
                                Obj::Tuple(mut kv, _) | Obj::List(mut kv, _) if kv.len() == 2 => {
                                    let v = kv.pop().unwrap();
                                    let k = kv.pop().unwrap();
                                    d.set(k, v)?;
                                }
                                _ => {
                                    return Err(corrupt(
                                        "OrderedDict(items) needs (key, value) pairs",
                                    ));
                                }
                            }
                        }
                    }
                    Some(Obj::Dict(src)) => {
                        for (k, v) in src.entries {
                            d.set(k, v)?;
                        }
                    }
                    Some(other) => {
                        return Err(corrupt(format!(
                            "OrderedDict({}) is not supported",
                            other.type_name()
                        )));
                    }
                }
                Ok(Obj::Dict(d))
            }
            Global::RebuildTensorV2 => rebuild_tensor(args),
            Global::RebuildParameter | Global::RebuildParameterWithState | Global::Parameter => {
                let mut it = args.into_iter();
                let data = match it.next() {
                    Some(Obj::Tensor(t)) => t,
                    _ => return Err(corrupt("a Parameter's data is not a tensor")),
                };
                let requires_grad = match it.next() {
                    None => true,
                    Some(Obj::Bool(b)) => b,
                    Some(other) => {
                        return Err(corrupt(format!(
                            "a Parameter's requires_grad is a {}",
                            other.type_name()
                        )));
                    }
                };
                let p = data.alias_with_layout(data.layout().clone());
                set_requires_grad(&p, requires_grad)?;
                Ok(Obj::Tensor(p))
            }
            Global::Device => {
                let mut it = args.into_iter();
                match (it.next(), it.next()) {
                    (Some(Obj::Str(s)), None) => Ok(Obj::Str(s)),
                    (Some(Obj::Str(s)), Some(Obj::Int(i))) => Ok(Obj::Str(format!("{s}:{i}"))),
                    _ => Err(corrupt("torch.device(...) with unexpected arguments")),
                }
            }
            Global::Size => match args.into_iter().next() {
                Some(Obj::Tuple(v, d) | Obj::List(v, d)) => {
                    if v.iter().any(|o| !matches!(o, Obj::Int(_))) {
                        return Err(corrupt("torch.Size(...) of non-integers"));
                    }
                    Ok(Obj::Tuple(v, d))
                }
                None => Ok(Obj::Tuple(Vec::new(), 1)),
                Some(other) => Err(corrupt(format!("torch.Size({})", other.type_name()))),
            },
            Global::CodecsEncode => {
                let mut it = args.into_iter();
                match (it.next(), it.next()) {
                    (Some(Obj::Str(s)), Some(Obj::Str(enc))) => encode(&s, &enc).map(Obj::Bytes),
                    _ => Err(corrupt("_codecs.encode(...) with unexpected arguments")),
                }
            }
            Global::Bytearray => match args.into_iter().next() {
                None => Ok(Obj::Bytes(Vec::new())),
                Some(Obj::Bytes(b)) => Ok(Obj::Bytes(b)),
                Some(other) => Err(corrupt(format!("bytearray({})", other.type_name()))),
            },
            Global::Storage(c) => Err(refused(format!(
                "Trying to call reduce for unrecognized function {c}"
            ))),
        }
    }
}

/// A copy of an object for the memo or from it, paid for out of the budget (the memo stores
/// and hands out copies: tensors within stay shared, as they are reference-counted).
fn copy(budget: &mut usize, o: &Obj) -> Result<Obj> {
    let cost = o
        .cost(*budget)
        .ok_or_else(|| corrupt("memo references copy more data than the file could hold"))?;
    *budget -= cost;
    Ok(o.clone())
}

fn set_requires_grad(t: &Tensor, requires_grad: bool) -> Result<()> {
    if requires_grad {
        if !t.dtype().is_float() {
            return Err(Error::Format(format!(
                "a {} tensor requires grad in the checkpoint: only Tensors of floating point dtype can require gradients",
                t.dtype().torch_name()
            )));
        }
        t.requires_grad_(true);
    }
    Ok(())
}

fn nonneg(o: &Obj, what: &str) -> Result<usize> {
    match o {
        Obj::Int(i) if *i >= 0 => {
            usize::try_from(*i).map_err(|_| corrupt(format!("{what} {i} is too large")))
        }
        Obj::Int(i) => Err(corrupt(format!("{what} is negative: {i}"))),
        other => Err(corrupt(format!(
            "{what} is a {}, expected an int",
            other.type_name()
        ))),
    }
}

fn int_tuple(o: &Obj, what: &str) -> Result<Vec<usize>> {
    match o {
        Obj::Tuple(v, _) | Obj::List(v, _) => v.iter().map(|x| nonneg(x, what)).collect(),
        other => Err(corrupt(format!(
            "a tensor's {what} is a {}",
            other.type_name()
        ))),
    }
}

/// `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
/// backward_hooks[, metadata])`: a tensor over the (shared) storage with that layout.
fn rebuild_tensor(args: Vec<Obj>) -> Result<Obj> {
    if args.len() != 6 && args.len() != 7 {
        return Err(corrupt(format!(
            "_rebuild_tensor_v2 takes 6 or 7 arguments, got {}",
            args.len()
        )));
    }
    let storage = match &args[0] {
        Obj::Storage(s) => s.clone(),
        other => {
            return Err(corrupt(format!(
                "_rebuild_tensor_v2's storage is a {}",
                other.type_name()
            )));
        }
    };
    let offset = nonneg(&args[1], "storage offset")?;
    let size = int_tuple(&args[2], "size")?;
    let stride = int_tuple(&args[3], "stride")?;
    if size.len() != stride.len() {
        return Err(corrupt(format!(
            "a tensor has {} sizes but {} strides",
            size.len(),
            stride.len()
        )));
    }
    let requires_grad = match &args[4] {
        Obj::Bool(b) => *b,
        other => return Err(corrupt(format!("requires_grad is a {}", other.type_name()))),
    };
    let offset = offset
        .checked_add(storage.offset)
        .ok_or_else(|| corrupt("storage offset overflows"))?;
    let layout = Layout {
        shape: Shape::new(&size),
        strides: stride.into_iter().collect(),
        offset,
    };
    let len = storage.cell.read().len();
    let t = Tensor::over_storage(storage.cell, layout).ok_or_else(|| {
        Error::Format(format!(
            "a tensor of size {size:?} at offset {offset} lies outside its storage of {len} elements"
        ))
    })?;
    set_requires_grad(&t, requires_grad)?;
    Ok(Obj::Tensor(t))
}

/// `_codecs.encode(text, encoding)`: how protocol 2 writes `bytes`.
fn encode(s: &str, encoding: &str) -> Result<Vec<u8>> {
    match encoding {
        "latin1" | "latin-1" | "iso-8859-1" => s
            .chars()
            .map(|c| {
                u8::try_from(c as u32)
                    .map_err(|_| corrupt("_codecs.encode: a character outside latin-1"))
            })
            .collect(),
        "utf-8" | "utf8" => Ok(s.as_bytes().to_vec()),
        other => Err(corrupt(format!("_codecs.encode with encoding '{other}'"))),
    }
}

/// Python's `decode_long`: little-endian two's complement, refused beyond 64 bits.
fn decode_long(bytes: &[u8]) -> Result<i64> {
    if bytes.is_empty() {
        return Ok(0);
    }
    let negative = bytes[bytes.len() - 1] & 0x80 != 0;
    let fill = if negative { 0xff } else { 0 };
    // Redundant sign bytes beyond 8 are allowed; anything else does not fit.
    if bytes.len() > 8 {
        let (low, high) = bytes.split_at(8);
        if high.iter().any(|&b| b != fill) || (low[7] & 0x80 != 0) != negative {
            return Err(Error::Format(
                "an integer in the pickle does not fit in 64 bits (Flambeau's Value::Int)".into(),
            ));
        }
    }
    let mut buf = [fill; 8];
    let n = bytes.len().min(8);
    buf[..n].copy_from_slice(&bytes[..n]);
    Ok(i64::from_le_bytes(buf))
}

/// The allow-list (torch's `_get_allowed_globals`, the part Flambeau can represent), with
/// torch's refusals for the rest.
fn resolve_global(module: &str, name: &str) -> Result<Global> {
    // Python 2 names, as torch's NAME_MAPPING/IMPORT_MAPPING map them.
    let module = match module {
        "__builtin__" => "builtins",
        "copy_reg" => "copyreg",
        m => m,
    };
    let full = format!("{module}.{name}");
    if ["sys", "os", "posix", "nt"].contains(&module) {
        return Err(refused(format!(
            "Trying to load unsupported GLOBAL {full} whose module {module} is blocked."
        )));
    }
    Ok(match full.as_str() {
        "collections.OrderedDict" => Global::OrderedDict,
        "torch._utils._rebuild_tensor_v2" => Global::RebuildTensorV2,
        "torch._utils._rebuild_parameter" => Global::RebuildParameter,
        "torch._utils._rebuild_parameter_with_state" => Global::RebuildParameterWithState,
        "torch.nn.parameter.Parameter" => Global::Parameter,
        "torch.device" => Global::Device,
        "torch.Size" => Global::Size,
        "_codecs.encode" => Global::CodecsEncode,
        "builtins.bytearray" => Global::Bytearray,
        _ if module == "torch" && name.ends_with("Storage") && name != "Storage" => {
            Global::Storage(full)
        }
        "builtins.set" | "builtins.complex" | "collections.Counter" => {
            return Err(Error::Format(format!(
                "GLOBAL {full}: allowed by torch.load(weights_only=True), but Flambeau's Value has no {name}"
            )));
        }
        _ if module.starts_with("torch") => {
            return Err(Error::Format(format!(
                "GLOBAL {full}: Flambeau reads state dicts of dense float32, float64, int64 and bool tensors, and cannot rebuild {full}"
            )));
        }
        _ => {
            let shown = full.strip_prefix("builtins.").unwrap_or(&full);
            return Err(refused(format!(
                "Unsupported global: GLOBAL {shown} was not an allowed global by default. Please use `torch.serialization.add_safe_globals([{shown}])` or the `torch.serialization.safe_globals([{shown}])` context manager to allowlist this global if you trust this class/function."
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::decode_long;

    #[test]
    fn longs_decode_as_python_does() {
        assert_eq!(decode_long(&[]).unwrap(), 0);
        assert_eq!(decode_long(&[0xff]).unwrap(), -1);
        assert_eq!(decode_long(&[0x00, 0x80]).unwrap(), -32768);
        assert_eq!(decode_long(&[0xff, 0x7f]).unwrap(), 32767);
        let max = i64::MAX.to_le_bytes();
        assert_eq!(decode_long(&max).unwrap(), i64::MAX);
        let mut padded = i64::MIN.to_le_bytes().to_vec();
        padded.push(0xff);
        assert_eq!(decode_long(&padded).unwrap(), i64::MIN);
        // 2**63 needs a ninth byte: too large.
        let mut big = [0u8; 9];
        big[7] = 0x80;
        assert!(decode_long(&big).is_err());
    }
}
