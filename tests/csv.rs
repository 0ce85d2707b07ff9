//! `utils::data::CsvOptions`: every option, the datasets the examples read, and every error
//! (exact messages), including junk bytes that must give an error and never a panic.

use flambeau::utils::data::{CsvOptions, Delimiter, MAX_LINE_BYTES};
use flambeau::{DType, Error};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A fresh folder for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flambeau_csv_{}_{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn format_message(r: flambeau::Result<flambeau::utils::data::CsvData>) -> String {
    match r {
        Err(Error::Format(m)) => m,
        Err(e) => panic!("expected Error::Format, got {e:?}"),
        Ok(d) => panic!("expected an error, got {:?}", d.features.dims()),
    }
}

fn datasets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/datasets")
}

#[test]
fn plain_comma_separated_into_float32() {
    let d = CsvOptions::new()
        .read_from("1,2.5,-3\n4e1, 5 ,.5\n".as_bytes(), "t.csv")
        .unwrap();
    assert_eq!(d.features.dtype(), DType::F32);
    assert_eq!(d.features.dims(), &[2, 3]);
    assert_eq!(
        d.features.to_vec::<f32>(),
        vec![1.0, 2.5, -3.0, 40.0, 5.0, 0.5]
    );
    assert!(d.labels.is_none());
}

#[test]
fn numbers_round_once_from_double_like_torch_tensor_of_floats() {
    // torch.tensor([float("0.1"), float("16777217")], dtype=torch.float32): the double rounded
    // to float32 once.
    let d = CsvOptions::new()
        .read_from("0.1,16777217,1e-46\n".as_bytes(), "t.csv")
        .unwrap();
    assert_eq!(
        d.features.to_vec::<f32>(),
        vec![0.1f64 as f32, 16777217f64 as f32, 1e-46f64 as f32]
    );
    let d = CsvOptions::new()
        .dtype(DType::F64)
        .read_from("0.1,16777217\n".as_bytes(), "t.csv")
        .unwrap();
    assert_eq!(d.features.dtype(), DType::F64);
    assert_eq!(d.features.to_vec::<f64>(), vec![0.1, 16777217.0]);
}

#[test]
fn nan_and_inf_text_are_numbers_as_python_float_reads_them() {
    let d = CsvOptions::new()
        .read_from("nan,inf,-inf,NaN,Infinity,+inf\n".as_bytes(), "t.csv")
        .unwrap();
    let v = d.features.to_vec::<f32>();
    assert!(v[0].is_nan() && v[3].is_nan());
    assert_eq!(v[1], f32::INFINITY);
    assert_eq!(v[2], f32::NEG_INFINITY);
    assert_eq!(v[4], f32::INFINITY);
    assert_eq!(v[5], f32::INFINITY);
}

#[test]
fn skip_rows_blank_lines_and_crlf() {
    let text = "150,4,setosa,versicolor,virginica\r\n\r\n5.1,3.5,1.4,0.2,0\r\n  \n4.9,3.0,1.4,0.2,2\r\n\n\n";
    let d = CsvOptions::new()
        .skip_rows(1)
        .label_column(-1)
        .read_from(text.as_bytes(), "iris.csv")
        .unwrap();
    assert_eq!(d.features.dims(), &[2, 4]);
    assert_eq!(
        d.features.to_vec::<f32>(),
        vec![5.1, 3.5, 1.4, 0.2, 4.9, 3.0, 1.4, 0.2]
    );
    let labels = d.labels.unwrap();
    assert_eq!(labels.dtype(), DType::I64);
    assert_eq!(labels.to_vec::<i64>(), vec![0, 2]);
    // Skipping counts lines, blank or not (np.loadtxt's skiprows).
    let d = CsvOptions::new()
        .skip_rows(3)
        .read_from("\nx\n\n1,2\n".as_bytes(), "t.csv")
        .unwrap();
    assert_eq!(d.features.to_vec::<f32>(), vec![1.0, 2.0]);
}

#[test]
fn label_column_by_index_from_either_end() {
    let text = "1,2,3,4\n5,6,7,8\n";
    for (column, labels, features) in [
        (0, vec![1, 5], vec![2.0, 3.0, 4.0, 6.0, 7.0, 8.0]),
        (2, vec![3, 7], vec![1.0, 2.0, 4.0, 5.0, 6.0, 8.0]),
        (-1, vec![4, 8], vec![1.0, 2.0, 3.0, 5.0, 6.0, 7.0]),
        (-4, vec![1, 5], vec![2.0, 3.0, 4.0, 6.0, 7.0, 8.0]),
    ] {
        let d = CsvOptions::new()
            .label_column(column)
            .read_from(text.as_bytes(), "t.csv")
            .unwrap();
        assert_eq!(d.labels.unwrap().to_vec::<i64>(), labels, "column {column}");
        assert_eq!(d.features.dims(), &[2, 3]);
        assert_eq!(d.features.to_vec::<f32>(), features, "column {column}");
    }
    // A one-column file with its label column: no features, [rows, 0].
    let d = CsvOptions::new()
        .label_column(0)
        .read_from("3\n4\n".as_bytes(), "t.csv")
        .unwrap();
    assert_eq!(d.features.dims(), &[2, 0]);
    assert_eq!(d.labels.unwrap().to_vec::<i64>(), vec![3, 4]);
}

#[test]
fn integer_labels_accept_integral_floats_and_float_labels_are_regression_targets() {
    let d = CsvOptions::new()
        .label_column(-1)
        .read_from("1,3.0\n2,-2\n3,4.000e+00\n".as_bytes(), "t.csv")
        .unwrap();
    assert_eq!(d.labels.unwrap().to_vec::<i64>(), vec![3, -2, 4]);
    for dtype in [DType::F32, DType::F64] {
        let d = CsvOptions::new()
            .label_column(-1)
            .label_dtype(dtype)
            .read_from("1,151.25\n2,-0.5\n".as_bytes(), "t.csv")
            .unwrap();
        let labels = d.labels.unwrap();
        assert_eq!(labels.dtype(), dtype);
        assert_eq!(labels.dims(), &[2]);
        assert_eq!(
            labels.to_dtype(DType::F64).to_vec::<f64>(),
            vec![151.25, -0.5]
        );
    }
}

#[test]
fn delimiters_one_byte_or_whitespace_runs() {
    let d = CsvOptions::new()
        .delimiter(b'\t')
        .read_from("1\t2\n3\t4\n".as_bytes(), "t.tsv")
        .unwrap();
    assert_eq!(d.features.to_vec::<f32>(), vec![1.0, 2.0, 3.0, 4.0]);
    // One space is one separator: two spaces make an empty field.
    let err = format_message(
        CsvOptions::new()
            .delimiter(b' ')
            .read_from("1  2\n".as_bytes(), "t.txt"),
    );
    assert_eq!(err, "t.txt:1: column 2: cannot parse '' as a number");
    let o = CsvOptions::new().whitespace();
    assert_eq!(o.get_delimiter(), Delimiter::Whitespace);
    let d = o
        .read_from("  59 2\t32.1  \n48   1 21.6\n".as_bytes(), "t.txt")
        .unwrap();
    assert_eq!(d.features.dims(), &[2, 3]);
    assert_eq!(
        d.features.to_vec::<f32>(),
        vec![59.0, 2.0, 32.1, 48.0, 1.0, 21.6]
    );
}

#[test]
#[should_panic(
    expected = "CsvOptions::delimiter: expected an ASCII byte other than a line break, got 0x0a"
)]
fn a_line_break_is_no_delimiter() {
    let _ = CsvOptions::new().delimiter(b'\n');
}

#[test]
#[should_panic(expected = "CsvOptions::dtype: expected a floating point dtype, got torch.int64")]
fn features_are_floating_point() {
    let _ = CsvOptions::new().dtype(DType::I64);
}

#[test]
#[should_panic(
    expected = "CsvOptions::label_dtype: expected int64 or a floating point dtype, got torch.bool"
)]
fn labels_are_int64_or_floating_point() {
    let _ = CsvOptions::new().label_dtype(DType::Bool);
}

#[test]
fn gzip_by_magic_bytes_with_or_without_the_name() {
    let dir = scratch("gzip");
    let gz = gzip(b"1,2,0\n3,4,1\n");
    for name in ["t.csv.gz", "t.csv", "t.GZ"] {
        let p = write(&dir, name, &gz);
        let d = CsvOptions::new().label_column(-1).read(&p).unwrap();
        assert_eq!(
            d.features.to_vec::<f32>(),
            vec![1.0, 2.0, 3.0, 4.0],
            "{name}"
        );
        assert_eq!(d.labels.unwrap().to_vec::<i64>(), vec![0, 1]);
    }
    // Concatenated gzip members are one stream (as gzip -d and Python's gzip read them).
    let mut two = gzip(b"1,2\n");
    two.extend(gzip(b"3,4\n"));
    let d = CsvOptions::new()
        .read(write(&dir, "two.csv.gz", &two))
        .unwrap();
    assert_eq!(d.features.to_vec::<f32>(), vec![1.0, 2.0, 3.0, 4.0]);
    // From a reader too.
    let d = CsvOptions::new().read_from(&gz[..], "mem").unwrap();
    assert_eq!(d.features.dims(), &[2, 3]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_examples_datasets() {
    let digits = CsvOptions::new()
        .label_column(-1)
        .read(datasets().join("digits.csv.gz"))
        .unwrap();
    assert_eq!(digits.features.dims(), &[1797, 64]);
    let first: Vec<f32> = "0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0"
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(
        digits.features.index(flambeau::s![0]).to_vec::<f32>(),
        first
    );
    let labels = digits.labels.unwrap().to_vec::<i64>();
    assert_eq!(&labels[..3], &[0, 1, 2]);
    assert_eq!(labels[1796], 8);
    assert!(labels.iter().all(|l| (0..10).contains(l)));

    let iris = CsvOptions::new()
        .skip_rows(1)
        .label_column(-1)
        .read(datasets().join("iris.csv"))
        .unwrap();
    assert_eq!(iris.features.dims(), &[150, 4]);
    assert_eq!(
        iris.features.index(flambeau::s![0]).to_vec::<f32>(),
        vec![5.1, 3.5, 1.4, 0.2]
    );
    let labels = iris.labels.unwrap().to_vec::<i64>();
    for class in 0..3 {
        assert_eq!(labels.iter().filter(|&&l| l == class).count(), 50);
    }

    let x = CsvOptions::new()
        .whitespace()
        .read(datasets().join("diabetes_data_raw.csv.gz"))
        .unwrap();
    assert_eq!(x.features.dims(), &[442, 10]);
    assert_eq!(
        x.features.index(flambeau::s![0]).to_vec::<f32>(),
        vec![59.0, 2.0, 32.1, 101.0, 157.0, 93.2, 38.0, 4.0, 4.8598, 87.0]
    );
    let y = CsvOptions::new()
        .label_column(0)
        .label_dtype(DType::F32)
        .read(datasets().join("diabetes_target.csv.gz"))
        .unwrap();
    assert_eq!(y.features.dims(), &[442, 0]);
    assert_eq!(
        &y.labels.unwrap().to_vec::<f32>()[..3],
        &[151.0, 75.0, 141.0]
    );
}

#[test]
fn a_bad_field_names_file_line_column_and_text() {
    let mut text = String::new();
    for _ in 0..16 {
        text.push_str(&"1,".repeat(64));
        text.push_str("3\n");
    }
    text.push_str(&"1,".repeat(64));
    text.push_str("x\n");
    let dir = scratch("bad_field");
    let p = write(&dir, "digits.csv.gz", &gzip(text.as_bytes()));
    let err = format_message(CsvOptions::new().label_column(-1).read(&p));
    assert_eq!(
        err,
        format!(
            "{}:17: column 65: cannot parse 'x' as an integer label",
            p.display()
        )
    );
    let err = format_message(CsvOptions::new().read(&p));
    assert_eq!(
        err,
        format!(
            "{}:17: column 65: cannot parse 'x' as a number",
            p.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();

    for (label, message) in [
        (
            "nan",
            "t.csv:1: column 2: cannot parse 'nan' as an integer label",
        ),
        (
            "2.5",
            "t.csv:1: column 2: cannot parse '2.5' as an integer label",
        ),
        (
            "1e30",
            "t.csv:1: column 2: cannot parse '1e30' as an integer label",
        ),
        ("", "t.csv:1: column 2: cannot parse '' as an integer label"),
    ] {
        let text = format!("1,{label}\n");
        let r = CsvOptions::new()
            .label_column(1)
            .read_from(text.as_bytes(), "t.csv");
        assert_eq!(format_message(r), message);
    }
    // Long, non-UTF-8 and control-character fields are shown shortened and escaped.
    let long = format!("1,{}\n", "9".repeat(30) + &"a".repeat(30));
    let r = CsvOptions::new().read_from(long.as_bytes(), "t.csv");
    assert_eq!(
        format_message(r),
        format!(
            "t.csv:1: column 2: cannot parse '{}...' as a number",
            "9".repeat(30) + &"a".repeat(10)
        )
    );
    let r = CsvOptions::new().read_from(&b"1,\xff\x01z\n"[..], "t.csv");
    assert_eq!(
        format_message(r),
        "t.csv:1: column 2: cannot parse '\u{fffd}\\u{1}z' as a number"
    );
    let r = CsvOptions::new().read_from("1,2,\n".as_bytes(), "t.csv");
    assert_eq!(
        format_message(r),
        "t.csv:1: column 3: cannot parse '' as a number"
    );
}

#[test]
fn ragged_rows() {
    let r = CsvOptions::new().read_from("1,2,3\n\n4,5,6\n\n7,8\n".as_bytes(), "t.csv");
    assert_eq!(
        format_message(r),
        "t.csv:5: line 5 has 2 columns, expected 3 (as line 1)"
    );
    let r = CsvOptions::new()
        .skip_rows(1)
        .read_from("h\n1,2,3\n1,2,3,4\n".as_bytes(), "t.csv");
    assert_eq!(
        format_message(r),
        "t.csv:3: line 3 has 4 columns, expected 3 (as line 2)"
    );
}

#[test]
fn empty_inputs() {
    let r = CsvOptions::new().read_from("".as_bytes(), "t.csv");
    assert_eq!(format_message(r), "t.csv: the file is empty");
    let r = CsvOptions::new().read_from("\n \n\r\n".as_bytes(), "t.csv");
    assert_eq!(format_message(r), "t.csv: no data rows (only blank lines)");
    let r = CsvOptions::new()
        .skip_rows(5)
        .read_from("a\nb\n".as_bytes(), "t.csv");
    assert_eq!(
        format_message(r),
        "t.csv: no data rows after skipping 2 of 2 lines"
    );
    let r = CsvOptions::new().read_from(&gzip(b"")[..], "t.csv.gz");
    assert_eq!(format_message(r), "t.csv.gz: the file is empty");
}

#[test]
fn label_column_out_of_range() {
    for c in [3, -4] {
        let r = CsvOptions::new()
            .label_column(c)
            .read_from("1,2,3\n".as_bytes(), "t.csv");
        match r {
            Err(Error::InvalidArgument(m)) => assert_eq!(
                m,
                format!(
                    "t.csv:1: label column {c} is out of range for 3 columns (expected to be in range of [-3, 2])"
                )
            ),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_missing_file_is_an_io_error_naming_the_path() {
    let dir = scratch("missing");
    let p = dir.join("nope.csv.gz");
    match CsvOptions::new().read(&p) {
        Err(Error::Io(e)) => {
            assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
            assert!(
                e.to_string().starts_with(&format!("{}: ", p.display())),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    // A folder is no file either.
    assert!(matches!(CsvOptions::new().read(&dir), Err(Error::Io(_))));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_gzip() {
    let dir = scratch("bad_gzip");
    let text: String = (0..2000).map(|i| format!("{i},{}\n", i % 10)).collect();
    let gz = gzip(text.as_bytes());
    let name = |p: &Path| p.display().to_string();

    // Truncated anywhere: an error, never a panic, and never a silently short table.
    for cut in [2, 5, 10, 11, 20, gz.len() / 2, gz.len() - 8, gz.len() - 1] {
        let p = write(&dir, "cut.csv.gz", &gz[..cut]);
        let m = format_message(CsvOptions::new().read(&p));
        assert!(
            m.starts_with(&format!("{}: invalid gzip data: ", name(&p))),
            "cut {cut}: {m}"
        );
    }
    // A corrupted CRC.
    let mut bad = gz.clone();
    let n = bad.len();
    bad[n - 6] ^= 0xff;
    let p = write(&dir, "crc.csv.gz", &bad);
    let m = format_message(CsvOptions::new().read(&p));
    assert!(
        m.starts_with(&format!("{}: invalid gzip data: ", name(&p))),
        "{m}"
    );
    // A .gz name on bytes that are not gzip.
    let p = write(&dir, "plain.csv.gz", b"1,2\n");
    assert_eq!(
        format_message(CsvOptions::new().read(&p)),
        format!(
            "{}: not gzip data (the name ends in .gz but the file does not start with gzip's magic bytes)",
            name(&p)
        )
    );
    // Trailing junk after a complete member.
    let mut junk = gz.clone();
    junk.extend_from_slice(b"\x00\x01junk");
    let p = write(&dir, "junk.csv.gz", &junk);
    let m = format_message(CsvOptions::new().read(&p));
    assert!(
        m.starts_with(&format!("{}: invalid gzip data: ", name(&p))),
        "{m}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn junk_bytes_give_errors_not_panics() {
    // A small deterministic generator: no test depends on the default generator's state.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let gz = gzip(b"1,2,3\n4,5,6\n7,8,9\n");
    for round in 0..300 {
        let len = (next() % 200) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 3 == 0 {
            // Flip bytes of a valid gzip stream instead.
            bytes = gz.clone();
            for _ in 0..1 + round % 4 {
                let i = (next() as usize) % bytes.len();
                bytes[i] ^= 1 << (next() % 8);
            }
        }
        for options in [
            CsvOptions::new(),
            CsvOptions::new().whitespace().label_column(-1),
            CsvOptions::new()
                .skip_rows(1)
                .label_column(0)
                .label_dtype(DType::F64),
        ] {
            let r = std::panic::catch_unwind(|| options.read_from(&bytes[..], "junk"));
            match r {
                Ok(Ok(d)) => assert_eq!(d.features.ndim(), 2),
                Ok(Err(Error::Format(_) | Error::InvalidArgument(_))) => {}
                Ok(Err(e)) => panic!("round {round}: unexpected error kind {e:?}"),
                Err(_) => panic!("round {round}: panicked on {bytes:?}"),
            }
        }
    }
}

#[test]
fn a_line_without_end_is_bounded() {
    // One line of MAX_LINE_BYTES + 1 bytes of digits, gzipped (small on disk): refused.
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    let chunk = vec![b'1'; 1 << 20];
    for _ in 0..MAX_LINE_BYTES >> 20 {
        e.write_all(&chunk).unwrap();
    }
    e.write_all(b"1").unwrap();
    let gz = e.finish().unwrap();
    let r = CsvOptions::new().read_from(&gz[..], "bomb.csv.gz");
    assert_eq!(
        format_message(r),
        format!("bomb.csv.gz:1: line longer than {MAX_LINE_BYTES} bytes")
    );
}

#[test]
fn straight_into_a_tensor_dataset() {
    use flambeau::utils::data::{DataLoader, Dataset};
    let dir = scratch("dataset");
    let p = write(&dir, "t.csv.gz", &gzip(b"1,2,0\n3,4,1\n5,6,2\n"));
    let ds = CsvOptions::new().label_column(-1).read_dataset(&p).unwrap();
    assert_eq!(ds.len(), 3);
    assert_eq!(ds.tensors().len(), 2);
    let item = ds.get(2);
    assert_eq!(item[0].to_vec::<f32>(), vec![5.0, 6.0]);
    assert_eq!(item[1].item::<i64>(), 2);
    let batches: Vec<Vec<flambeau::Tensor>> = DataLoader::new(ds).batch_size(2).iter().collect();
    assert_eq!(batches.len(), 2);
    assert_eq!(batches[0][1].to_vec::<i64>(), vec![0, 1]);
    // Without a label column: one tensor per item.
    let ds = CsvOptions::new().read_dataset(&p).unwrap();
    assert_eq!(ds.tensors().len(), 1);
    assert_eq!(ds.tensors()[0].dims(), &[3, 3]);
    // Errors pass through.
    assert!(matches!(
        CsvOptions::new().read_dataset(dir.join("none.csv")),
        Err(Error::Io(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}
