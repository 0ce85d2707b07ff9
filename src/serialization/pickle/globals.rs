//! What the allowed globals do: the allow-list itself (torch's `_get_allowed_globals`, the
//! part Flambeau can represent, with torch's refusals for the rest) and the data builders
//! `REDUCE` may call (`OrderedDict`, `_rebuild_tensor_v2`, `_rebuild_parameter`, `torch.Size`,
//! `_codecs.encode`, ...).

use super::obj::{DictObj, Global, Obj};
use super::read::{corrupt, refused};
use crate::dtype::DType;
use crate::shape::{Layout, Shape};
use crate::tensor::Tensor;
use crate::{Error, Result};

/// The dtype of a storage class Flambeau can hold, or the error naming the class.
pub(super) fn storage_dtype(class: &str) -> Result<DType> {
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

/// `REDUCE`/`NEWOBJ` of an allowed callable on its arguments: only data builders exist here.
pub(super) fn call(func: Obj, args: Obj) -> Result<Obj> {
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
        Global::OrderedDict | Global::Counter => {
            // A Counter is a dict of counts; Value has no separate kind for it.
            let mut d = DictObj::new(g == Global::OrderedDict);
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
                                return Err(corrupt("OrderedDict(items) needs (key, value) pairs"));
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
            Ok(Obj::Dict(Box::new(d)))
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

pub(super) fn nonneg(o: &Obj, what: &str) -> Result<usize> {
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
pub(super) fn decode_long(bytes: &[u8]) -> Result<i64> {
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
pub(super) fn resolve_global(module: &str, name: &str) -> Result<Global> {
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
        "collections.Counter" => Global::Counter,
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
        "builtins.set" | "builtins.complex" => {
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
