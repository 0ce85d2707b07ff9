//! The restricted unpickler, after torch/_weights_only_unpickler.py: protocol 2-5 opcodes that
//! build data, `GLOBAL`/`STACK_GLOBAL` for an allow-list only, `REDUCE`/`NEWOBJ`/`BUILD` only on
//! allowed callables. Every read is bounds-checked, lengths are checked against the bytes left,
//! nesting is bounded ([`MAX_DEPTH`]) and the total copied through the memo is bounded by the
//! input's length, so no input can exhaust memory or the stack.

use super::globals::{call, decode_long, nonneg, resolve_global, storage_dtype};
use super::obj::{DictObj, Global, MAX_DEPTH, Obj, StorageObj};
use crate::dtype::DType;
use crate::serialization::Value;
use crate::storage::StorageCell;
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

pub(super) fn corrupt(msg: impl std::fmt::Display) -> Error {
    Error::Format(format!("corrupt pickle data: {msg}"))
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
    /// What the memo may still copy, in bytes: 64 per byte of input, plus 16 MiB.
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
            budget: data.len().saturating_mul(64).saturating_add(16 << 20),
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
                b'}' => self.push(Obj::Dict(Box::new(DictObj::new(false)))),
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
                    let out = call(func, args)?;
                    self.push(out);
                }
                0x81 => {
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    match cls {
                        Obj::Global(Global::Parameter) => {
                            let out = call(Obj::Global(Global::Parameter), args)?;
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
