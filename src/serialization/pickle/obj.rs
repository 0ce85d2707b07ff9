//! The unpickler's objects: [`Value`]'s kinds plus what only exists while a pickle is read
//! (allowed globals, storages), containers carrying their nesting depth so that no input can
//! build a tree deeper than [`MAX_DEPTH`] (and so no recursion over it can overflow the stack).

use crate::serialization::Value;
use crate::storage::StorageCell;
use crate::tensor::Tensor;
use crate::{Error, Result};
use std::collections::HashMap;
use std::sync::Arc;

/// The deepest nesting of containers a pickle may build (Python's own recursion limit, 1000,
/// stops pickling well before trees this deep matter).
pub(crate) const MAX_DEPTH: u32 = 500;

/// A callable or class a pickle may name (`GLOBAL`/`STACK_GLOBAL`), from the allow-list.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Global {
    OrderedDict,
    /// `collections.Counter` (MultiStepLR's `milestones`): read as a plain dict.
    Counter,
    RebuildTensorV2,
    RebuildParameter,
    RebuildParameterWithState,
    Parameter,
    /// A storage class such as `torch.FloatStorage`, by its full name.
    Storage(String),
    Device,
    Size,
    CodecsEncode,
    Bytearray,
}

impl Global {
    /// The global's Python name.
    pub fn python_name(&self) -> &str {
        match self {
            Global::OrderedDict => "collections.OrderedDict",
            Global::Counter => "collections.Counter",
            Global::RebuildTensorV2 => "torch._utils._rebuild_tensor_v2",
            Global::RebuildParameter => "torch._utils._rebuild_parameter",
            Global::RebuildParameterWithState => "torch._utils._rebuild_parameter_with_state",
            Global::Parameter => "torch.nn.parameter.Parameter",
            Global::Storage(name) => name,
            Global::Device => "torch.device",
            Global::Size => "torch.Size",
            Global::CodecsEncode => "_codecs.encode",
            Global::Bytearray => "builtins.bytearray",
        }
    }
}

/// A storage a persistent id named, with the element range of it the pickle means (legacy
/// files can name a view of a storage).
#[derive(Clone)]
pub(crate) struct StorageObj {
    pub cell: Arc<StorageCell>,
    pub offset: usize,
}

/// A dict while it is built: its entries in insertion order and an index by key (so that
/// setting an existing key replaces its value, as Python does, in constant time).
#[derive(Clone, Default)]
pub(crate) struct DictObj {
    pub entries: Vec<(Obj, Obj)>,
    index: HashMap<HKey, usize>,
    pub ordered: bool,
    pub depth: u32,
}

/// A hashable key (what Python lets be a dict key among the kinds here).
#[derive(Clone, PartialEq, Eq, Hash)]
enum HKey {
    None,
    Int(i64),
    Float(u64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<HKey>),
    Tensor(usize),
}

/// One object on the unpickler's stack.
#[derive(Clone)]
pub(crate) enum Obj {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Obj>, u32),
    List(Vec<Obj>, u32),
    Dict(Box<DictObj>),
    Tensor(Tensor),
    Global(Global),
    Storage(StorageObj),
}

fn too_deep() -> Error {
    Error::Format(format!(
        "the pickle nests containers more than {MAX_DEPTH} deep"
    ))
}

impl Obj {
    /// How deeply containers nest in this object (0 for a scalar).
    pub fn depth(&self) -> u32 {
        match self {
            Obj::Tuple(_, d) | Obj::List(_, d) => *d,
            Obj::Dict(d) => d.depth,
            _ => 0,
        }
    }

    /// A container's depth given its items, refused past [`MAX_DEPTH`].
    pub fn depth_over<'a>(items: impl IntoIterator<Item = &'a Obj>) -> Result<u32> {
        let d = 1 + items.into_iter().map(Obj::depth).max().unwrap_or(0);
        if d > MAX_DEPTH {
            Err(too_deep())
        } else {
            Ok(d)
        }
    }

    pub fn tuple(items: Vec<Obj>) -> Result<Obj> {
        let d = Obj::depth_over(&items)?;
        Ok(Obj::Tuple(items, d))
    }

    /// Python's type name, for messages.
    pub fn type_name(&self) -> String {
        match self {
            Obj::None => "NoneType".into(),
            Obj::Bool(_) => "bool".into(),
            Obj::Int(_) => "int".into(),
            Obj::Float(_) => "float".into(),
            Obj::Str(_) => "str".into(),
            Obj::Bytes(_) => "bytes".into(),
            Obj::Tuple(..) => "tuple".into(),
            Obj::List(..) => "list".into(),
            Obj::Dict(d) if d.ordered => "collections.OrderedDict".into(),
            Obj::Dict(_) => "dict".into(),
            Obj::Tensor(_) => "torch.Tensor".into(),
            Obj::Global(g) => g.python_name().to_string(),
            Obj::Storage(_) => "torch.storage.TypedStorage".into(),
        }
    }

    /// About how many bytes copying this object allocates, or `None` once past `limit`: memo
    /// references copy objects, and the total copied is bounded (no "billion laughs").
    pub fn cost(&self, limit: usize) -> Option<usize> {
        let mut total = 0usize;
        let mut todo: Vec<&Obj> = vec![self];
        while let Some(o) = todo.pop() {
            total += std::mem::size_of::<Obj>();
            match o {
                Obj::Str(s) => total += s.len(),
                Obj::Bytes(b) => total += b.len(),
                Obj::Tuple(v, _) | Obj::List(v, _) => todo.extend(v.iter()),
                Obj::Dict(d) => {
                    total += std::mem::size_of::<DictObj>();
                    for (k, v) in &d.entries {
                        todo.push(k);
                        todo.push(v);
                    }
                }
                _ => {}
            }
            if total > limit {
                return None;
            }
        }
        Some(total)
    }

    fn hkey(&self) -> Result<HKey> {
        Ok(match self {
            Obj::None => HKey::None,
            Obj::Bool(b) => HKey::Int(*b as i64),
            Obj::Int(i) => HKey::Int(*i),
            // Python: 1.0 == 1, so equal numbers are one key.
            Obj::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => HKey::Int(*f as i64),
            Obj::Float(f) => HKey::Float(f.to_bits()),
            Obj::Str(s) => HKey::Str(s.clone()),
            Obj::Bytes(b) => HKey::Bytes(b.clone()),
            Obj::Tuple(v, _) => HKey::Tuple(v.iter().map(Obj::hkey).collect::<Result<_>>()?),
            Obj::Tensor(t) => HKey::Tensor(Arc::as_ptr(&t.0) as usize),
            other => {
                return Err(Error::Format(format!(
                    "unhashable type as a dict key in the pickle: '{}'",
                    other.type_name()
                )));
            }
        })
    }

    /// The finished object as a [`Value`]; globals and bare storages have no `Value`.
    pub fn into_value(self) -> Result<Value> {
        Ok(match self {
            Obj::None => Value::None,
            Obj::Bool(b) => Value::Bool(b),
            Obj::Int(i) => Value::Int(i),
            Obj::Float(f) => Value::Float(f),
            Obj::Str(s) => Value::Str(s),
            Obj::Bytes(b) => Value::Bytes(b),
            Obj::Tuple(v, _) => {
                Value::Tuple(v.into_iter().map(Obj::into_value).collect::<Result<_>>()?)
            }
            Obj::List(v, _) => {
                Value::List(v.into_iter().map(Obj::into_value).collect::<Result<_>>()?)
            }
            Obj::Dict(d) => Value::Dict(
                d.entries
                    .into_iter()
                    .map(|(k, v)| Ok((k.into_value()?, v.into_value()?)))
                    .collect::<Result<_>>()?,
            ),
            Obj::Tensor(t) => Value::Tensor(t),
            Obj::Global(g) => {
                return Err(Error::Format(format!(
                    "the checkpoint holds the class or function {} itself, which Flambeau's Value cannot represent",
                    g.python_name()
                )));
            }
            Obj::Storage(_) => {
                return Err(Error::Format(
                    "the checkpoint holds a bare storage (not a tensor), which Flambeau's Value cannot represent".into(),
                ));
            }
        })
    }
}

impl DictObj {
    pub fn new(ordered: bool) -> DictObj {
        DictObj {
            ordered,
            depth: 1,
            ..Default::default()
        }
    }

    /// `d[k] = v`: replaces the value of an equal key in place, else appends.
    pub fn set(&mut self, k: Obj, v: Obj) -> Result<()> {
        let depth = Obj::depth_over([&k, &v])?;
        let key = k.hkey()?;
        match self.index.get(&key) {
            Some(&i) => self.entries[i].1 = v,
            None => {
                self.index.insert(key, self.entries.len());
                self.entries.push((k, v));
            }
        }
        self.depth = self.depth.max(depth);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_stay_small_so_the_stack_is_bounded_by_a_small_multiple_of_the_input() {
        // Every push consumes at least one byte of input; a dict's index lives behind a box.
        assert!(
            std::mem::size_of::<Obj>() <= 32,
            "{}",
            std::mem::size_of::<Obj>()
        );
    }

    #[test]
    fn dict_keys_that_python_deems_equal_are_one_key() {
        let mut d = DictObj::new(false);
        d.set(Obj::Int(1), Obj::None).unwrap();
        d.set(Obj::Float(1.0), Obj::Bool(true)).unwrap();
        d.set(Obj::Bool(true), Obj::Int(7)).unwrap();
        d.set(Obj::Float(1.5), Obj::None).unwrap();
        assert_eq!(d.entries.len(), 2);
        assert!(matches!(d.entries[0], (Obj::Int(1), Obj::Int(7))));
    }
}
