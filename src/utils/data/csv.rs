//! Delimited text files (CSV, plain or gzipped) into tensors: what a PyTorch user writes with
//! `np.loadtxt` (or `gzip.open` and `float()` on every field, as scikit-learn's bundled datasets
//! are read) before `torch.tensor(...)`.
//!
//! Every number is parsed as a Python `float` (an IEEE double, `nan` and `inf` included) and then
//! rounded once to the requested dtype, as `torch.tensor(list_of_floats, dtype=torch.float32)`
//! rounds it. Blank lines are skipped wherever they are (as `np.loadtxt` skips them); line
//! numbers in messages count every line of the file, 1-based, as an editor shows them.

use super::TensorDataset;
use crate::error::{Error, Result};
use crate::{DType, Tensor};
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;

/// How the fields of a line are separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delimiter {
    /// One byte (`b','`, `b';'`, `b'\t'`); the spaces around each field are ignored, so
    /// `1, 2` is two fields, and `1,,2` has an empty (unparsable) middle field.
    Byte(u8),
    /// Any run of whitespace, leading and trailing whitespace ignored (`np.loadtxt`'s default,
    /// `str.split()`): the layout of scikit-learn's `diabetes_data_raw.csv.gz`.
    Whitespace,
}

/// The longest line accepted, so that junk without line breaks (or a decompression bomb of one
/// endless line) gives an error instead of exhausting memory.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// What [`CsvOptions::read`] returns: the numeric columns, and the label column if one was asked
/// for.
#[derive(Clone, Debug)]
pub struct CsvData {
    /// The feature columns, `[rows, columns]`, in the options' dtype (float32 by default).
    pub features: Tensor,
    /// The label column, `[rows]`: int64 for classification (the default), or the float dtype
    /// set by [`CsvOptions::label_dtype`] for regression. `None` without a label column.
    pub labels: Option<Tensor>,
}

/// How to read a delimited text file: a builder, then [`read`](CsvOptions::read).
///
/// ```
/// use flambeau::utils::data::CsvOptions;
/// let dir = std::env::temp_dir().join(format!("flambeau_csv_doc_{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("tiny.csv");
/// std::fs::write(&path, "3,2,a,b\n0.5,1.5,0\n2.0,-1,1\n4,8,1\n").unwrap();
///
/// let data = CsvOptions::new().skip_rows(1).label_column(-1).read(&path).unwrap();
/// assert_eq!(data.features.dims(), &[3, 2]);
/// assert_eq!(data.features.to_vec::<f32>(), vec![0.5, 1.5, 2.0, -1.0, 4.0, 8.0]);
/// assert_eq!(data.labels.unwrap().to_vec::<i64>(), vec![0, 1, 1]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct CsvOptions {
    skip_rows: usize,
    delimiter: Delimiter,
    label_column: Option<i64>,
    dtype: DType,
    label_dtype: DType,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions::new()
    }
}

impl CsvOptions {
    /// Comma-separated, no header, no label column, float32 features, int64 labels.
    ///
    /// ```
    /// use flambeau::utils::data::{CsvOptions, Delimiter};
    /// let o = CsvOptions::new();
    /// assert_eq!(o.get_delimiter(), Delimiter::Byte(b','));
    /// ```
    pub fn new() -> CsvOptions {
        CsvOptions {
            skip_rows: 0,
            delimiter: Delimiter::Byte(b','),
            label_column: None,
            dtype: DType::F32,
            label_dtype: DType::I64,
        }
    }

    /// Skips the first `n` lines (a header: scikit-learn's `iris.csv` starts with
    /// `150,4,setosa,versicolor,virginica`), as `np.loadtxt(skiprows=n)`.
    ///
    /// ```
    /// use flambeau::utils::data::CsvOptions;
    /// let data = CsvOptions::new().skip_rows(1).read_from("a,b\n1,2\n".as_bytes(), "t.csv").unwrap();
    /// assert_eq!(data.features.dims(), &[1, 2]);
    /// ```
    pub fn skip_rows(mut self, n: usize) -> CsvOptions {
        self.skip_rows = n;
        self
    }

    /// Fields separated by one byte. `b' '` means exactly one space between fields; use
    /// [`whitespace`](CsvOptions::whitespace) for runs of spaces and tabs.
    ///
    /// Panics if the byte is a line break or not ASCII (a programmer error).
    ///
    /// ```
    /// use flambeau::utils::data::CsvOptions;
    /// let data = CsvOptions::new().delimiter(b';').read_from("1;2\n".as_bytes(), "t.csv").unwrap();
    /// assert_eq!(data.features.to_vec::<f32>(), vec![1.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn delimiter(mut self, byte: u8) -> CsvOptions {
        if byte == b'\n' || byte == b'\r' || !byte.is_ascii() {
            panic!(
                "CsvOptions::delimiter: expected an ASCII byte other than a line break, got {byte:#04x}"
            );
        }
        self.delimiter = Delimiter::Byte(byte);
        self
    }

    /// Fields separated by any run of whitespace (`str.split()`).
    ///
    /// ```
    /// use flambeau::utils::data::CsvOptions;
    /// let data = CsvOptions::new().whitespace().read_from(" 1  2\t3\n".as_bytes(), "t.txt").unwrap();
    /// assert_eq!(data.features.to_vec::<f32>(), vec![1.0, 2.0, 3.0]);
    /// ```
    pub fn whitespace(mut self) -> CsvOptions {
        self.delimiter = Delimiter::Whitespace;
        self
    }

    /// The column holding the labels, counted from 0; negative counts from the end (`-1` is the
    /// last column). It is left out of the features.
    ///
    /// ```
    /// use flambeau::utils::data::CsvOptions;
    /// let data = CsvOptions::new().label_column(0).read_from("7,1,2\n".as_bytes(), "t.csv").unwrap();
    /// assert_eq!(data.labels.unwrap().to_vec::<i64>(), vec![7]);
    /// assert_eq!(data.features.to_vec::<f32>(), vec![1.0, 2.0]);
    /// ```
    pub fn label_column(mut self, column: i64) -> CsvOptions {
        self.label_column = Some(column);
        self
    }

    /// The features' dtype (float32 by default). Panics unless it is a floating-point type.
    ///
    /// ```
    /// use flambeau::{utils::data::CsvOptions, DType};
    /// let data = CsvOptions::new().dtype(DType::F64).read_from("0.1\n".as_bytes(), "t.csv").unwrap();
    /// assert_eq!(data.features.to_vec::<f64>(), vec![0.1]);
    /// ```
    #[track_caller]
    pub fn dtype(mut self, dtype: DType) -> CsvOptions {
        if !dtype.is_float() {
            panic!("CsvOptions::dtype: expected a floating point dtype, got {dtype}");
        }
        self.dtype = dtype;
        self
    }

    /// The labels' dtype: int64 (class indices, the default: a label must then be an integer,
    /// written `3` or `3.0`) or a floating-point type (regression targets). Panics otherwise.
    ///
    /// ```
    /// use flambeau::{utils::data::CsvOptions, DType};
    /// let o = CsvOptions::new().label_column(-1).label_dtype(DType::F32);
    /// let data = o.read_from("1,151.5\n".as_bytes(), "t.csv").unwrap();
    /// assert_eq!(data.labels.unwrap().to_vec::<f32>(), vec![151.5]);
    /// ```
    #[track_caller]
    pub fn label_dtype(mut self, dtype: DType) -> CsvOptions {
        if !(dtype.is_float() || dtype == DType::I64) {
            panic!(
                "CsvOptions::label_dtype: expected int64 or a floating point dtype, got {dtype}"
            );
        }
        self.label_dtype = dtype;
        self
    }

    /// The delimiter set.
    ///
    /// ```
    /// use flambeau::utils::data::{CsvOptions, Delimiter};
    /// assert_eq!(CsvOptions::new().whitespace().get_delimiter(), Delimiter::Whitespace);
    /// ```
    pub fn get_delimiter(&self) -> Delimiter {
        self.delimiter
    }

    /// Reads the file at `path`, gunzipping it when it starts with gzip's magic bytes. A name
    /// ending in `.gz` without them is an error, as is anything that is not a table of numbers
    /// (`Error::Format`, naming the file, the line, the column and the text); a file that cannot
    /// be opened is `Error::Io`, naming the path.
    ///
    /// ```
    /// use flambeau::utils::data::CsvOptions;
    /// let err = CsvOptions::new().read("no/such/file.csv").unwrap_err();
    /// assert!(err.to_string().starts_with("no/such/file.csv: "));
    /// ```
    pub fn read(&self, path: impl AsRef<Path>) -> Result<CsvData> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = File::open(path)
            .map_err(|e| Error::Io(std::io::Error::new(e.kind(), format!("{name}: {e}"))))?;
        let gz_name = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
        self.read_stream(file, &name, gz_name)
    }

    /// [`read`](CsvOptions::read) straight into a [`TensorDataset`]: items `[features,
    /// label]`, or `[features]` without a label column.
    ///
    /// ```
    /// use flambeau::utils::data::{CsvOptions, DataLoader, Dataset};
    /// let path = std::env::temp_dir().join(format!("flambeau_csv_ds_{}.csv", std::process::id()));
    /// std::fs::write(&path, "1,2,0\n3,4,1\n5,6,1\n").unwrap();
    /// let ds = CsvOptions::new().label_column(-1).read_dataset(&path).unwrap();
    /// assert_eq!(ds.len(), 3);
    /// let batch = DataLoader::new(ds).batch_size(2).iter().next().unwrap();
    /// assert_eq!(batch[0].dims(), &[2, 2]);
    /// assert_eq!(batch[1].to_vec::<i64>(), vec![0, 1]);
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn read_dataset(&self, path: impl AsRef<Path>) -> Result<TensorDataset> {
        let data = self.read(path)?;
        Ok(TensorDataset::new(
            std::iter::once(data.features).chain(data.labels),
        ))
    }

    /// Reads a table from any reader (gzipped or not, told apart by the magic bytes); `name`
    /// stands for the file in messages.
    ///
    /// ```
    /// use flambeau::utils::data::CsvOptions;
    /// let err = CsvOptions::new().read_from("1,2\n3,x\n".as_bytes(), "t.csv").unwrap_err();
    /// assert_eq!(err.to_string(), "t.csv:2: column 2: cannot parse 'x' as a number");
    /// ```
    pub fn read_from(&self, reader: impl Read, name: &str) -> Result<CsvData> {
        self.read_stream(reader, name, false)
    }

    fn read_stream(&self, mut reader: impl Read, name: &str, gz_name: bool) -> Result<CsvData> {
        let io_err =
            |e: std::io::Error| Error::Io(std::io::Error::new(e.kind(), format!("{name}: {e}")));
        let mut magic = [0u8; 2];
        let mut got = 0;
        while got < 2 {
            match reader.read(&mut magic[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(e)),
            }
        }
        let stream = Cursor::new(magic[..got].to_vec()).chain(reader);
        if magic[..got] == [0x1f, 0x8b] {
            let decoder = flate2::read::MultiGzDecoder::new(stream);
            // Every error from the decoder is about the bytes (a truncated or corrupt stream).
            self.parse(BufReader::new(decoder), name, |e| {
                Error::Format(format!("{name}: invalid gzip data: {e}"))
            })
        } else if gz_name {
            Err(Error::Format(format!(
                "{name}: not gzip data (the name ends in .gz but the file does not start with gzip's magic bytes)"
            )))
        } else {
            self.parse(BufReader::new(stream), name, io_err)
        }
    }

    fn parse(
        &self,
        mut reader: impl BufRead,
        name: &str,
        read_err: impl Fn(std::io::Error) -> Error,
    ) -> Result<CsvData> {
        let mut table = Table::new(self, name);
        let mut line = Vec::new();
        let mut number = 0usize;
        loop {
            line.clear();
            let n = (&mut reader)
                .take(MAX_LINE_BYTES as u64 + 1)
                .read_until(b'\n', &mut line)
                .map_err(&read_err)?;
            if n == 0 {
                break;
            }
            number += 1;
            if line.last() == Some(&b'\n') {
                line.pop();
            } else if line.len() > MAX_LINE_BYTES {
                return Err(Error::Format(format!(
                    "{name}:{number}: line longer than {MAX_LINE_BYTES} bytes"
                )));
            }
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if number <= self.skip_rows || line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            table.push_line(&line, number)?;
        }
        table.finish(number)
    }
}

/// The rows read so far.
struct Table<'a> {
    options: &'a CsvOptions,
    name: &'a str,
    /// Columns per row (from the first data row) and the label's column, resolved.
    columns: Option<(usize, Option<usize>)>,
    first_line: usize,
    rows: usize,
    features: Vec<f64>,
    float_labels: Vec<f64>,
    int_labels: Vec<i64>,
    fields: Vec<(usize, usize)>,
}

impl<'a> Table<'a> {
    fn new(options: &'a CsvOptions, name: &'a str) -> Table<'a> {
        Table {
            options,
            name,
            columns: None,
            first_line: 0,
            rows: 0,
            features: Vec::new(),
            float_labels: Vec::new(),
            int_labels: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// The byte ranges of a line's fields.
    fn split(&mut self, line: &[u8]) {
        self.fields.clear();
        match self.options.delimiter {
            Delimiter::Whitespace => {
                let mut start = None;
                for (i, b) in line.iter().enumerate() {
                    match (b.is_ascii_whitespace(), start) {
                        (true, Some(s)) => {
                            self.fields.push((s, i));
                            start = None;
                        }
                        (false, None) => start = Some(i),
                        _ => {}
                    }
                }
                if let Some(s) = start {
                    self.fields.push((s, line.len()));
                }
            }
            Delimiter::Byte(d) => {
                let mut start = 0;
                for (i, &b) in line.iter().enumerate() {
                    if b == d {
                        self.fields.push((start, i));
                        start = i + 1;
                    }
                }
                self.fields.push((start, line.len()));
            }
        }
    }

    fn push_line(&mut self, line: &[u8], number: usize) -> Result<()> {
        self.split(line);
        let count = self.fields.len();
        let (columns, label) = match self.columns {
            Some(c) => c,
            None => {
                let label = match self.options.label_column {
                    None => None,
                    Some(c) => {
                        let n = count as i64;
                        if c < -n || c >= n {
                            return Err(Error::InvalidArgument(format!(
                                "{}:{number}: label column {c} is out of range for {count} columns (expected to be in range of [{}, {}])",
                                self.name,
                                -n,
                                n - 1
                            )));
                        }
                        Some(if c < 0 { (c + n) as usize } else { c as usize })
                    }
                };
                self.columns = Some((count, label));
                self.first_line = number;
                (count, label)
            }
        };
        if count != columns {
            return Err(Error::Format(format!(
                "{}:{number}: line {number} has {count} columns, expected {columns} (as line {})",
                self.name, self.first_line
            )));
        }
        for (column, &(start, end)) in self.fields.iter().enumerate() {
            let text = trim(&line[start..end]);
            let bad = |what: &str| {
                Error::Format(format!(
                    "{}:{number}: column {}: cannot parse '{}' as {what}",
                    self.name,
                    column + 1,
                    shown(text)
                ))
            };
            if Some(column) == label && self.options.label_dtype == DType::I64 {
                self.int_labels
                    .push(parse_int(text).ok_or_else(|| bad("an integer label"))?);
                continue;
            }
            let value = parse_float(text).ok_or_else(|| bad("a number"))?;
            if Some(column) == label {
                self.float_labels.push(value);
            } else {
                self.features.push(value);
            }
        }
        self.rows += 1;
        Ok(())
    }

    fn finish(self, lines: usize) -> Result<CsvData> {
        let Some((columns, label)) = self.columns else {
            let why = if lines == 0 {
                "the file is empty".to_string()
            } else if self.options.skip_rows > 0 {
                format!(
                    "no data rows after skipping {} of {lines} lines",
                    self.options.skip_rows.min(lines)
                )
            } else {
                "no data rows (only blank lines)".to_string()
            };
            return Err(Error::Format(format!("{}: {why}", self.name)));
        };
        let feature_columns = columns - usize::from(label.is_some());
        let features = Tensor::from_vec(self.features, [self.rows, feature_columns])
            .to_dtype(self.options.dtype);
        let labels = label.map(|_| {
            if self.options.label_dtype == DType::I64 {
                Tensor::from_vec(self.int_labels, [self.rows])
            } else {
                Tensor::from_vec(self.float_labels, [self.rows]).to_dtype(self.options.label_dtype)
            }
        });
        Ok(CsvData { features, labels })
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !first.is_ascii_whitespace() {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !last.is_ascii_whitespace() {
            break;
        }
        s = rest;
    }
    s
}

/// Python's `float(text)` for the usual spellings: decimals, exponents, `nan`, `inf`,
/// `infinity` in any case, with an optional sign.
fn parse_float(text: &[u8]) -> Option<f64> {
    std::str::from_utf8(text).ok()?.parse::<f64>().ok()
}

/// An integer label: `3`, or a float with an integral value (`3.0`, `3.000e+00`).
fn parse_int(text: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(text).ok()?;
    if let Ok(v) = s.parse::<i64>() {
        return Some(v);
    }
    let v = s.parse::<f64>().ok()?;
    // [-2^63, 2^63) is i64's range; every double in it without a fraction converts exactly.
    let limit = 2f64.powi(63);
    (v.fract() == 0.0 && (-limit..limit).contains(&v)).then_some(v as i64)
}

/// The text of a field for a message: at most 40 characters, control characters and invalid
/// UTF-8 escaped so the message stays on one line.
fn shown(text: &[u8]) -> String {
    const MAX: usize = 40;
    let lossy = String::from_utf8_lossy(text);
    let mut out = String::new();
    for (i, c) in lossy.chars().enumerate() {
        if i == MAX {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
