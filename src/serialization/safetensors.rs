//! The safetensors format (<https://github.com/huggingface/safetensors>): an 8-byte
//! little-endian header length `N`, `N` bytes of JSON
//! (`{"NAME": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//! "__metadata__": {"format": "pt"}}`), then the tensors' row-major little-endian bytes, each
//! `[begin, end)` relative to the end of the header.
//!
//! Reading validates as the reference implementation does (`Metadata::validate` in
//! `safetensors/src/tensor.rs`): the ranges, sorted, must tile the data exactly (no gap, no
//! overlap, nothing after the last), and each shape's byte size must equal its range. Every
//! refusal names the tensor and the problem; nothing is allocated beyond a small multiple of
//! the input's size (the header is parsed in place by a small JSON reader, not into a tree).
//! Writing produces the bytes `safetensors.torch.save_file(sd, path, metadata)` writes.

mod json;

use crate::nn::StateDict;
use crate::tensor::Tensor;
use crate::{DType, Error, Result};
use json::Reader;
use std::collections::HashSet;

/// The reference implementation's cap on the header (`MAX_HEADER_SIZE`).
const MAX_HEADER_SIZE: u64 = 100_000_000;

fn bad(msg: impl std::fmt::Display) -> Error {
    Error::Format(format!("invalid safetensors file: {msg}"))
}

/// Every dtype name of the format, with its element size in bits. Flambeau holds four of them.
const FORMAT_DTYPES: &[(&str, usize)] = &[
    ("BOOL", 8),
    ("F4", 4),
    ("F6_E2M3", 6),
    ("F6_E3M2", 6),
    ("U8", 8),
    ("I8", 8),
    ("F8_E5M2", 8),
    ("F8_E4M3", 8),
    ("F8_E8M0", 8),
    ("I16", 16),
    ("U16", 16),
    ("F16", 16),
    ("BF16", 16),
    ("I32", 32),
    ("U32", 32),
    ("F32", 32),
    ("C64", 64),
    ("F64", 64),
    ("I64", 64),
    ("U64", 64),
];

fn dtype_from_name(tensor: &str, name: &str) -> Result<DType> {
    match name {
        "F32" => Ok(DType::F32),
        "F64" => Ok(DType::F64),
        "I64" => Ok(DType::I64),
        "BOOL" => Ok(DType::Bool),
        other if FORMAT_DTYPES.iter().any(|(n, _)| *n == other) => Err(bad(format!(
            "tensor '{tensor}' has dtype {other}, which Flambeau does not support (it reads F32, F64, I64 and BOOL)"
        ))),
        other => Err(bad(format!(
            "tensor '{tensor}' has an unknown dtype '{}'",
            other.escape_debug()
        ))),
    }
}

fn dtype_name(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "F32",
        DType::F64 => "F64",
        DType::I64 => "I64",
        DType::Bool => "BOOL",
    }
}

/// The writer's order (`prepare` in `safetensors/src/tensor.rs`): dtypes in decreasing order of
/// the format's `Dtype` enum (so the 8-byte ones first and every tensor stays aligned), then
/// names by bytes.
fn dtype_rank(dtype: DType) -> u8 {
    match dtype {
        DType::I64 => 3,
        DType::F64 => 2,
        DType::F32 => 1,
        DType::Bool => 0,
    }
}

/// `__metadata__`'s pairs, in the header's order.
type Metadata = Vec<(String, String)>;

/// One header entry, before its bytes are read.
struct Entry {
    name: String,
    dtype: DType,
    shape: Vec<usize>,
    begin: u64,
    end: u64,
}

/// What a safetensors file holds: the tensors, in the order of their data (as
/// `safetensors.torch.load_file` returns them), and the header's `__metadata__`.
///
/// ```
/// use flambeau::nn::StateDict;
/// use flambeau::serialization::safetensors;
/// use flambeau::Tensor;
/// let mut sd = StateDict::new();
/// sd.insert("w", Tensor::from_vec(vec![1.0f32, 2.0], [2]));
/// let bytes = safetensors::write(&sd, Some(&[("format", "pt")])).unwrap();
/// let file = safetensors::read(&bytes).unwrap();
/// assert_eq!(file.tensors.keys(), vec!["w"]);
/// assert_eq!(file.metadata, Some(vec![("format".to_string(), "pt".to_string())]));
/// ```
#[derive(Clone, Debug)]
pub struct SafetensorsFile {
    /// The tensors, in the order of their data in the file.
    pub tensors: StateDict,
    /// `__metadata__`'s string pairs in the header's order, `None` where the header has none.
    pub metadata: Option<Vec<(String, String)>>,
}

/// Reads safetensors bytes: every tensor (F32, F64, I64 and BOOL; another dtype is an error
/// naming the tensor) and the metadata. A malformed header, ranges that do not tile the data,
/// or a shape that does not match its range is an [`Error::Format`] naming the problem.
///
/// ```
/// use flambeau::serialization::safetensors;
/// let err = safetensors::read(b"\x10\0\0\0\0\0\0\0{}").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid safetensors file: the header length 16 goes past the end of the file (10 bytes)"
/// );
/// ```
pub fn read(bytes: &[u8]) -> Result<SafetensorsFile> {
    let Some(len_bytes) = bytes.get(..8) else {
        return Err(bad(format!(
            "{} bytes is too short for the 8-byte header length",
            bytes.len()
        )));
    };
    let n = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes"));
    if n > MAX_HEADER_SIZE {
        return Err(bad(format!(
            "the header length {n} is larger than the format's limit of {MAX_HEADER_SIZE} bytes"
        )));
    }
    let header_end = 8 + n as usize;
    let Some(header) = bytes.get(8..header_end) else {
        return Err(bad(format!(
            "the header length {n} goes past the end of the file ({} bytes)",
            bytes.len()
        )));
    };
    let data = &bytes[header_end..];
    let (mut entries, metadata) = parse_header(header)?;
    check_ranges(&mut entries, data.len() as u64)?;
    let mut tensors = StateDict::new();
    for e in entries {
        let raw = &data[e.begin as usize..e.end as usize];
        let t = tensor_from_le_bytes(&e, raw)?;
        tensors.insert(e.name, t);
    }
    Ok(SafetensorsFile { tensors, metadata })
}

/// Parses the JSON header into its entries (in the header's order) and the metadata.
fn parse_header(header: &[u8]) -> Result<(Vec<Entry>, Option<Metadata>)> {
    let text = std::str::from_utf8(header).map_err(|e| {
        bad(format!(
            "the header is not UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    let mut r = Reader::new(text);
    let json_err = |e: json::SyntaxError| bad(format!("the header is not valid JSON: {e}"));
    let mut entries: Vec<Entry> = Vec::new();
    let mut metadata = None;
    let mut seen_metadata = false;
    let mut names: HashSet<String> = HashSet::new();
    r.begin_object().map_err(json_err)?;
    while let Some(name) = r.next_key().map_err(json_err)? {
        if name == "__metadata__" {
            if seen_metadata {
                return Err(bad("the header has two `__metadata__` entries"));
            }
            seen_metadata = true;
            metadata = parse_metadata(&mut r)?;
            continue;
        }
        if !names.insert(name.clone()) {
            return Err(bad(format!(
                "the header names tensor '{}' twice",
                name.escape_debug()
            )));
        }
        entries.push(parse_entry(&mut r, name)?);
    }
    r.end().map_err(json_err)?;
    Ok((entries, metadata))
}

/// `"__metadata__": {"key": "value", ...}` (strings only, as the reference reader requires) or
/// `null`.
fn parse_metadata(r: &mut Reader) -> Result<Option<Metadata>> {
    let json_err = |e: json::SyntaxError| bad(format!("the header is not valid JSON: {e}"));
    if r.null().map_err(json_err)? {
        return Ok(None);
    }
    let not_strings = || bad("`__metadata__` must map strings to strings");
    if !r.peek_is(b'{') {
        return Err(not_strings());
    }
    r.begin_object().map_err(json_err)?;
    let mut pairs = Vec::new();
    while let Some(k) = r.next_key().map_err(json_err)? {
        if !r.peek_is(b'"') {
            return Err(not_strings());
        }
        let v = r.string().map_err(json_err)?;
        pairs.push((k, v));
    }
    Ok(Some(pairs))
}

/// `{"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}`; other keys are skipped, as the
/// reference reader (serde, no `deny_unknown_fields`) does.
fn parse_entry(r: &mut Reader, name: String) -> Result<Entry> {
    let json_err = |e: json::SyntaxError| bad(format!("the header is not valid JSON: {e}"));
    let shown = name.escape_debug().to_string();
    let field_err = |what: &str| bad(format!("tensor '{shown}': {what}"));
    if !r.peek_is(b'{') {
        return Err(field_err(
            "expected an object with dtype, shape and data_offsets",
        ));
    }
    let mut dtype = None;
    let mut shape: Option<Vec<usize>> = None;
    let mut offsets: Option<(u64, u64)> = None;
    r.begin_object().map_err(json_err)?;
    while let Some(key) = r.next_key().map_err(json_err)? {
        let seen = match key.as_str() {
            "dtype" => dtype.is_some(),
            "shape" => shape.is_some(),
            "data_offsets" => offsets.is_some(),
            _ => false,
        };
        if seen {
            // serde refuses a repeated field too ("duplicate field").
            return Err(field_err(&format!("`{key}` appears twice")));
        }
        match key.as_str() {
            "dtype" => {
                if !r.peek_is(b'"') {
                    return Err(field_err("`dtype` must be a string"));
                }
                let d = r.string().map_err(json_err)?;
                dtype = Some(dtype_from_name(&shown, &d)?);
            }
            "shape" => {
                let dims = read_uints(r, &field_err, "shape")?;
                let mut s = Vec::with_capacity(dims.len());
                for d in dims {
                    // Flambeau's sizes are PyTorch's signed 64-bit ones.
                    if d > i64::MAX as u64 {
                        return Err(field_err(&format!("shape dimension {d} is too large")));
                    }
                    s.push(d as usize);
                }
                shape = Some(s);
            }
            "data_offsets" => {
                let o = read_uints(r, &field_err, "data_offsets")?;
                if o.len() != 2 {
                    return Err(field_err(&format!(
                        "`data_offsets` must be [begin, end], got {} numbers",
                        o.len()
                    )));
                }
                offsets = Some((o[0], o[1]));
            }
            _ => r.skip_value().map_err(json_err)?,
        }
    }
    let missing = |f: &str| field_err(&format!("missing `{f}`"));
    let dtype = dtype.ok_or_else(|| missing("dtype"))?;
    let shape = shape.ok_or_else(|| missing("shape"))?;
    let (begin, end) = offsets.ok_or_else(|| missing("data_offsets"))?;
    Ok(Entry {
        name,
        dtype,
        shape,
        begin,
        end,
    })
}

/// A JSON array of non-negative integers.
fn read_uints(r: &mut Reader, err: &dyn Fn(&str) -> Error, what: &str) -> Result<Vec<u64>> {
    let json_err = |e: json::SyntaxError| bad(format!("the header is not valid JSON: {e}"));
    let not_list = || err(&format!("`{what}` must be a list of non-negative integers"));
    if !r.peek_is(b'[') {
        return Err(not_list());
    }
    r.begin_array().map_err(json_err)?;
    let mut out = Vec::new();
    while r.next_item().map_err(json_err)? {
        match r.uint().map_err(json_err)? {
            Some(v) => out.push(v),
            None => return Err(not_list()),
        }
    }
    Ok(out)
}

/// Sorts the entries by range (the reference reader's order, which `load_file` keeps) and checks
/// that the ranges tile `[0, data_len)` and match the shapes.
fn check_ranges(entries: &mut [Entry], data_len: u64) -> Result<()> {
    for e in entries.iter() {
        let name = e.name.escape_debug();
        if e.end < e.begin {
            return Err(bad(format!(
                "tensor '{name}': data_offsets [{}, {}] end before they begin",
                e.begin, e.end
            )));
        }
        if e.end > data_len {
            return Err(bad(format!(
                "tensor '{name}': data_offsets [{}, {}] go past the end of the data ({data_len} bytes)",
                e.begin, e.end
            )));
        }
        // Strides are products of the nonzero sizes: they must fit PyTorch's int64 too.
        let mut strides_product: u64 = 1;
        let mut numel: u64 = 1;
        for &d in &e.shape {
            strides_product = strides_product
                .checked_mul((d as u64).max(1))
                .filter(|p| *p <= i64::MAX as u64)
                .ok_or_else(|| {
                    bad(format!(
                        "tensor '{name}': shape {:?} has too many elements",
                        e.shape
                    ))
                })?;
            numel = numel.saturating_mul(d as u64);
        }
        let size = e.dtype.size_in_bytes() as u64;
        let nbytes = numel.checked_mul(size).ok_or_else(|| {
            bad(format!(
                "tensor '{name}': shape {:?} has too many elements",
                e.shape
            ))
        })?;
        if nbytes != e.end - e.begin {
            return Err(bad(format!(
                "tensor '{name}': shape {:?} of {} is {nbytes} bytes, but data_offsets [{}, {}] hold {}",
                e.shape,
                dtype_name(e.dtype),
                e.begin,
                e.end,
                e.end - e.begin
            )));
        }
    }
    // A stable sort: two empty tensors at the same offset keep the header's order.
    entries.sort_by_key(|e| (e.begin, e.end));
    let mut expected = 0u64;
    let mut prev: Option<&Entry> = None;
    for e in entries.iter() {
        let name = e.name.escape_debug();
        if e.begin < expected {
            let p = prev.expect("a tensor ended after 0");
            return Err(bad(format!(
                "tensor '{name}': data_offsets [{}, {}] overlap those of '{}' [{}, {}]",
                e.begin,
                e.end,
                p.name.escape_debug(),
                p.begin,
                p.end
            )));
        }
        if e.begin > expected {
            return Err(bad(format!(
                "tensor '{name}': data_offsets [{}, {}] leave bytes {expected}..{} of the data unused",
                e.begin, e.end, e.begin
            )));
        }
        expected = e.end;
        prev = Some(e);
    }
    if expected != data_len {
        return Err(bad(format!(
            "the tensors cover {expected} bytes of data, but {data_len} follow the header"
        )));
    }
    Ok(())
}

fn tensor_from_le_bytes(e: &Entry, raw: &[u8]) -> Result<Tensor> {
    let shape = e.shape.as_slice();
    Ok(match e.dtype {
        DType::F32 => Tensor::from_vec(
            raw.chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect::<Vec<_>>(),
            shape,
        ),
        DType::F64 => Tensor::from_vec(
            raw.chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect::<Vec<_>>(),
            shape,
        ),
        DType::I64 => Tensor::from_vec(
            raw.chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect::<Vec<_>>(),
            shape,
        ),
        DType::Bool => {
            // A byte other than 0 or 1 is not a bool PyTorch could have written.
            if let Some(i) = raw.iter().position(|b| *b > 1) {
                return Err(bad(format!(
                    "tensor '{}': BOOL element {i} is the byte {}, not 0 or 1",
                    e.name.escape_debug(),
                    raw[i]
                )));
            }
            Tensor::from_vec(raw.iter().map(|b| *b == 1).collect::<Vec<_>>(), shape)
        }
    })
}

/// Writes `sd` as safetensors bytes, exactly as `safetensors.torch.save_file(sd, path,
/// metadata)` does: tensors ordered by dtype (8-byte ones first) then name, the header padded
/// with spaces to a multiple of 8 bytes. Views and non-contiguous tensors are written as their
/// row-major copies (Python's writer refuses them; the file it reads back is the same). A key
/// named `__metadata__` is refused, as it would be read back as the metadata.
///
/// ```
/// use flambeau::nn::{Linear, Module};
/// use flambeau::serialization::safetensors;
/// let m = Linear::new(3, 2);
/// let bytes = safetensors::write(&m.state_dict(), None).unwrap();
/// let back = safetensors::read(&bytes).unwrap();
/// assert_eq!(back.tensors.keys(), vec!["bias", "weight"]);
/// assert!(back.tensors.get("weight").unwrap().equal(&m.weight));
/// ```
pub fn write(sd: &StateDict, metadata: Option<&[(&str, &str)]>) -> Result<Vec<u8>> {
    let mut order: Vec<(&str, &Tensor)> = sd.iter().collect();
    if order.iter().any(|(k, _)| *k == "__metadata__") {
        return Err(Error::InvalidArgument(
            "a tensor cannot be named `__metadata__` in a safetensors file".to_string(),
        ));
    }
    order.sort_by(|(ln, lt), (rn, rt)| {
        dtype_rank(rt.dtype())
            .cmp(&dtype_rank(lt.dtype()))
            .then(ln.as_bytes().cmp(rn.as_bytes()))
    });
    let mut header = String::from("{");
    if let Some(pairs) = metadata {
        header.push_str("\"__metadata__\":{");
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                header.push(',');
            }
            json::write_string(&mut header, k);
            header.push(':');
            json::write_string(&mut header, v);
        }
        header.push('}');
    }
    let mut offset = 0usize;
    for (i, (name, t)) in order.iter().enumerate() {
        if i > 0 || metadata.is_some() {
            header.push(',');
        }
        let nbytes = t.numel() * t.dtype().size_in_bytes();
        json::write_string(&mut header, name);
        let dims: Vec<String> = t.dims().iter().map(|d| d.to_string()).collect();
        header.push_str(&format!(
            ":{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{offset},{}]}}",
            dtype_name(t.dtype()),
            dims.join(","),
            offset + nbytes
        ));
        offset += nbytes;
    }
    header.push('}');
    let padding = (8 - header.len() % 8) % 8;
    header.extend(std::iter::repeat_n(' ', padding));
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for (_, t) in order {
        append_le_bytes(&mut out, t);
    }
    Ok(out)
}

/// A tensor's elements in row-major order as little-endian bytes (a view is read in place).
fn append_le_bytes(out: &mut Vec<u8>, t: &Tensor) {
    match t.dtype() {
        DType::F32 => out.extend(t.to_vec::<f32>().iter().flat_map(|v| v.to_le_bytes())),
        DType::F64 => out.extend(t.to_vec::<f64>().iter().flat_map(|v| v.to_le_bytes())),
        DType::I64 => out.extend(t.to_vec::<i64>().iter().flat_map(|v| v.to_le_bytes())),
        DType::Bool => out.extend(t.to_vec::<bool>().iter().map(|v| *v as u8)),
    }
}
