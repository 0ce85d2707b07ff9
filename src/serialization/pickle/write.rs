//! A protocol-2 pickler for [`Value`] trees, writing the opcodes Python's `pickle` (as
//! `torch.save` calls it, `pickle_protocol=2`) writes for the same objects: memoized strings,
//! tuples and containers, batched `SETITEMS`/`APPENDS`, tensors as
//! `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, OrderedDict())`
//! over a persistent id, and leaves that require grad as `torch._utils._rebuild_parameter`.

use super::obj::MAX_DEPTH;
use crate::serialization::Value;
use crate::tensor::Tensor;
use crate::{Error, Result};
use std::collections::HashMap;

/// Python's `_BATCHSIZE`: items per `SETITEMS`/`APPENDS`.
const BATCH: usize = 1000;

/// Where a tensor's storage goes: its key (`data/<key>`), class and element count.
pub(crate) struct StorageRef {
    pub key: String,
    pub class: &'static str,
    pub numel: usize,
}

/// Writes one pickle; `storage_of` names (and records) the storage of each tensor it meets.
pub(crate) struct Pickler<'s> {
    out: Vec<u8>,
    memo_len: u32,
    /// Strings and globals written so far, by content, for `BINGET` (Python reuses the same
    /// objects: the global functions, and interned strings such as `'storage'` and `'cpu'`).
    memo: HashMap<(bool, String), u32>,
    storage_of: &'s mut dyn FnMut(&Tensor) -> StorageRef,
}

impl<'s> Pickler<'s> {
    pub fn new(storage_of: &'s mut dyn FnMut(&Tensor) -> StorageRef) -> Pickler<'s> {
        Pickler {
            out: vec![0x80, 2],
            memo_len: 0,
            memo: HashMap::new(),
            storage_of,
        }
    }

    /// The pickle of `v`, ended by `STOP`.
    pub fn dump(mut self, v: &Value) -> Result<Vec<u8>> {
        self.value(v, 0)?;
        self.out.push(b'.');
        Ok(self.out)
    }

    fn put(&mut self) -> u32 {
        let i = self.memo_len;
        if i < 256 {
            self.out.extend_from_slice(&[b'q', i as u8]);
        } else {
            self.out.push(b'r');
            self.out.extend_from_slice(&i.to_le_bytes());
        }
        self.memo_len += 1;
        i
    }

    fn get(&mut self, i: u32) {
        if i < 256 {
            self.out.extend_from_slice(&[b'h', i as u8]);
        } else {
            self.out.push(b'j');
            self.out.extend_from_slice(&i.to_le_bytes());
        }
    }

    fn global(&mut self, module: &str, name: &str) {
        let key = (true, format!("{module}\n{name}"));
        if let Some(&i) = self.memo.get(&key) {
            return self.get(i);
        }
        self.out.push(b'c');
        self.out.extend_from_slice(key.1.as_bytes());
        self.out.push(b'\n');
        let i = self.put();
        self.memo.insert(key, i);
    }

    fn str(&mut self, s: &str) {
        let key = (false, s.to_string());
        if let Some(&i) = self.memo.get(&key) {
            return self.get(i);
        }
        self.out.push(b'X');
        self.out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.out.extend_from_slice(s.as_bytes());
        let i = self.put();
        self.memo.insert(key, i);
    }

    /// Python's `save_long` at protocol 2.
    fn int(&mut self, i: i64) {
        if (0..=0xff).contains(&i) {
            self.out.extend_from_slice(&[b'K', i as u8]);
        } else if (0..=0xffff).contains(&i) {
            self.out.push(b'M');
            self.out.extend_from_slice(&(i as u16).to_le_bytes());
        } else if i32::try_from(i).is_ok() {
            self.out.push(b'J');
            self.out.extend_from_slice(&(i as i32).to_le_bytes());
        } else {
            // encode_long: the shortest little-endian two's complement.
            let bytes = i.to_le_bytes();
            let mut n = 8;
            while n > 1 {
                let (last, prev) = (bytes[n - 1], bytes[n - 2]);
                if (last == 0 && prev & 0x80 == 0) || (last == 0xff && prev & 0x80 != 0) {
                    n -= 1;
                } else {
                    break;
                }
            }
            self.out.extend_from_slice(&[0x8a, n as u8]);
            self.out.extend_from_slice(&bytes[..n]);
        }
    }

    fn tuple_of(
        &mut self,
        n: usize,
        mut item: impl FnMut(&mut Self, usize) -> Result<()>,
    ) -> Result<()> {
        if n == 0 {
            self.out.push(b')');
            return Ok(());
        }
        if n > 3 {
            self.out.push(b'(');
        }
        for i in 0..n {
            item(self, i)?;
        }
        self.out.push(match n {
            1 => 0x85,
            2 => 0x86,
            3 => 0x87,
            _ => b't',
        });
        self.put();
        Ok(())
    }

    fn batched<T>(
        &mut self,
        items: &[T],
        single: u8,
        many: u8,
        mut item: impl FnMut(&mut Self, &T) -> Result<()>,
    ) -> Result<()> {
        for chunk in items.chunks(BATCH) {
            if chunk.len() > 1 {
                self.out.push(b'(');
            }
            for x in chunk {
                item(self, x)?;
            }
            self.out.push(if chunk.len() > 1 { many } else { single });
        }
        Ok(())
    }

    fn value(&mut self, v: &Value, depth: u32) -> Result<()> {
        if depth >= MAX_DEPTH {
            return Err(Error::InvalidArgument(format!(
                "save: the object nests containers more than {MAX_DEPTH} deep"
            )));
        }
        match v {
            Value::None => self.out.push(b'N'),
            Value::Bool(b) => self.out.push(if *b { 0x88 } else { 0x89 }),
            Value::Int(i) => self.int(*i),
            Value::Float(f) => {
                self.out.push(b'G');
                self.out.extend_from_slice(&f.to_be_bytes());
            }
            Value::Str(s) => self.str(s),
            Value::Bytes(b) => {
                // Protocol 2 has no bytes opcode: Python writes _codecs.encode(latin-1 text).
                self.global("_codecs", "encode");
                let text: String = b.iter().map(|&c| c as char).collect();
                self.str(&text);
                self.str("latin1");
                self.out.push(0x86);
                self.put();
                self.out.push(b'R');
                self.put();
            }
            Value::Tuple(items) => {
                self.tuple_of(items.len(), |p, i| p.value(&items[i], depth + 1))?;
            }
            Value::List(items) => {
                self.out.push(b']');
                self.put();
                self.batched(items, b'a', b'e', |p, x| p.value(x, depth + 1))?;
            }
            Value::Dict(entries) => {
                if is_state_dict(entries) {
                    // What state_dict() returns: an OrderedDict (`OrderedDict.__reduce__`).
                    self.global("collections", "OrderedDict");
                    self.out.push(b')');
                    self.out.push(b'R');
                } else {
                    self.out.push(b'}');
                }
                self.put();
                self.batched(entries, b's', b'u', |p, (k, v)| {
                    p.value(k, depth + 1)?;
                    p.value(v, depth + 1)
                })?;
            }
            Value::Tensor(t) => self.tensor(t)?,
        }
        Ok(())
    }

    fn tensor(&mut self, t: &Tensor) -> Result<()> {
        // A leaf that requires grad is what nn.Parameter is: Parameter.__reduce_ex__ writes
        // `_rebuild_parameter(data, requires_grad, OrderedDict())`.
        let parameter = t.requires_grad() && t.is_leaf();
        if parameter {
            self.global("torch._utils", "_rebuild_parameter");
        }
        let storage = (self.storage_of)(t);
        self.global("torch._utils", "_rebuild_tensor_v2");
        self.out.push(b'(');
        // The persistent id ('storage', class, key, 'cpu', numel), memoized as a tuple.
        self.out.push(b'(');
        self.str("storage");
        let (module, name) = storage.class.split_once('.').unwrap();
        self.global(module, name);
        self.str(&storage.key);
        self.str("cpu");
        self.int(storage.numel as i64);
        self.out.push(b't');
        self.put();
        self.out.push(b'Q');
        self.int(t.storage_offset() as i64);
        let dims: Vec<i64> = t.dims().iter().map(|&d| d as i64).collect();
        self.tuple_of(dims.len(), |p, i| {
            p.int(dims[i]);
            Ok(())
        })?;
        let strides: Vec<i64> = t.stride().iter().map(|&s| s as i64).collect();
        self.tuple_of(strides.len(), |p, i| {
            p.int(strides[i]);
            Ok(())
        })?;
        self.out.push(if t.requires_grad() && !parameter {
            0x88
        } else {
            0x89
        });
        self.global("collections", "OrderedDict");
        self.out.push(b')');
        self.out.push(b'R');
        self.put();
        self.out.push(b't');
        self.put();
        self.out.push(b'R');
        self.put();
        if parameter {
            self.out.push(0x88);
            self.global("collections", "OrderedDict");
            self.out.push(b')');
            self.out.push(b'R');
            self.put();
            self.out.push(0x87);
            self.put();
            self.out.push(b'R');
            self.put();
        }
        Ok(())
    }
}

/// A non-empty dict of string keys and tensors: a `state_dict()`, which PyTorch returns (and
/// so writes) as an `OrderedDict`.
fn is_state_dict(entries: &[(Value, Value)]) -> bool {
    !entries.is_empty()
        && entries
            .iter()
            .all(|(k, v)| matches!(k, Value::Str(_)) && matches!(v, Value::Tensor(_)))
}
