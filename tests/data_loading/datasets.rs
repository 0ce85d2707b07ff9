//! Datasets, random_split and collation.

use crate::{data, nested, panic_message, rng_lock, usizes};
use flambeau::utils::data::{
    Collate, ConcatDataset, Dataset, Subset, TensorDataset, default_collate, random_split,
    split_lengths,
};
use flambeau::{DType, Generator, Tensor};

#[test]
fn tensor_dataset_rows() {
    let x = Tensor::arange(0.0, 12.0, 1.0).reshape([4, 3]);
    let y = Tensor::arange_dtype(10.0, 14.0, 1.0, DType::I64);
    let ds = TensorDataset::new([x.clone(), y]);
    assert_eq!(ds.len(), 4);
    assert_eq!(ds.tensors().len(), 2);
    let row = ds.get(2);
    assert_eq!(row[0].to_vec::<f32>(), vec![6.0, 7.0, 8.0]);
    assert_eq!(row[1].dims(), &[] as &[usize]);
    assert_eq!(row[1].item::<i64>(), 12);
    assert_eq!(
        panic_message(|| {
            TensorDataset::new([x, Tensor::zeros([3])]);
        }),
        "Size mismatch between tensors"
    );
}

#[test]
fn subset_and_concat() {
    let s = Subset::new(vec![10, 11, 12, 13], vec![3, 1]);
    assert_eq!((s.len(), s.get(0), s.get(1)), (2, 13, 11));
    assert_eq!(s.indices(), &[3, 1]);

    let case = &data()["concat"];
    let parts: Vec<Vec<i64>> = case["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| usizes(p).iter().map(|&v| v as i64).collect())
        .collect();
    let c = ConcatDataset::new(parts);
    assert_eq!(c.cumulative_sizes(), usizes(&case["cumulative_sizes"]));
    let items: Vec<usize> = (0..c.len()).map(|i| c.get(i) as usize).collect();
    assert_eq!(items, usizes(&case["items"]));
    let neg: Vec<usize> = (1..=c.len() as i64)
        .map(|i| c.get_signed(-i) as usize)
        .collect();
    assert_eq!(neg, usizes(&case["negative_items"]));
    assert_eq!(
        panic_message(|| {
            c.get_signed(-10);
        }),
        "absolute value of index should not exceed dataset length"
    );
    assert_eq!(
        panic_message(|| {
            ConcatDataset::<Vec<i64>>::new([]);
        }),
        "datasets should not be an empty iterable"
    );
}

#[test]
fn random_split_fractions_and_counts() {
    for case in data()["random_split"].as_array().unwrap() {
        let n = case["n"].as_u64().unwrap() as usize;
        let g = Generator::new().manual_seed(case["seed"].as_u64().unwrap());
        let lengths = case["lengths"].as_array().unwrap();
        let parts = if lengths.iter().all(|l| l.is_u64()) {
            random_split(0..n, usizes(&case["lengths"]), Some(&g))
        } else {
            let fr: Vec<f64> = lengths.iter().map(|l| l.as_f64().unwrap()).collect();
            random_split(0..n, fr, Some(&g))
        };
        let sizes: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        assert_eq!(sizes, usizes(&case["sizes"]), "{}", case["python"]);
        let got: Vec<Vec<usize>> = parts.iter().map(|p| p.indices().to_vec()).collect();
        assert_eq!(got, nested(&case["indices"]), "{}", case["python"]);
        // The subsets read the shared dataset.
        if let Some(p) = parts.iter().find(|p| !p.is_empty()) {
            assert_eq!(p.get(0), p.indices()[0]);
        }
    }
}

#[test]
fn random_split_default_generator() {
    let _g = rng_lock();
    flambeau::manual_seed(8);
    let parts = random_split(0..9, [4, 5], None);
    let got: Vec<Vec<usize>> = parts.iter().map(|p| p.indices().to_vec()).collect();
    assert_eq!(got, nested(&data()["random_split_default"]["indices"]));
}

#[test]
fn random_split_errors() {
    assert_eq!(
        panic_message(|| {
            split_lengths(&[3, 3].into(), 7);
        }),
        "Sum of input lengths does not equal the length of the input dataset!"
    );
    assert_eq!(
        panic_message(|| {
            split_lengths(&[1.5, -0.5].into(), 7);
        }),
        "Fraction at index 0 is not between 0 and 1"
    );
    assert_eq!(
        panic_message(|| {
            split_lengths(&[0.5, 0.6].into(), 7);
        }),
        "Sum of input lengths does not equal the length of the input dataset!"
    );
    // Counts summing to 1 are fractions in PyTorch too: [1, 0] of 5 samples is [5, 0].
    assert_eq!(split_lengths(&[1, 0].into(), 5), vec![5, 0]);
}

#[test]
fn collate_numbers_have_pytorchs_dtypes() {
    let d = &data()["collate_dtypes"];
    let name = |t: &Tensor| match t.dtype() {
        DType::F64 => "torch.float64",
        DType::F32 => "torch.float32",
        DType::I64 => "torch.int64",
        DType::Bool => "torch.bool",
    };
    assert_eq!(name(&default_collate(vec![1.5f64, 2.5])), d["float"]);
    assert_eq!(name(&default_collate(vec![1i64, 2])), d["int"]);
    assert_eq!(name(&default_collate(vec![1usize, 2])), d["int"]);
    assert_eq!(name(&default_collate(vec![true, false])), d["bool"]);
    let (a, b) = default_collate(vec![(1.0f64, 2i64), (3.0, 4)]);
    assert_eq!(
        [name(&a), name(&b)],
        [
            d["tuple"][0].as_str().unwrap(),
            d["tuple"][1].as_str().unwrap()
        ]
    );
    assert_eq!(a.to_vec::<f64>(), vec![1.0, 3.0]);
    assert_eq!(default_collate(vec![1.0f32]).dtype(), DType::F32);
}

#[test]
fn collate_tuples_vecs_and_strings() {
    let t = |v: f32| Tensor::from_vec(vec![v, v + 1.0], [2]);
    let (x, y, z, w) = default_collate(vec![
        (t(0.0), 1i64, "a".to_string(), vec![t(5.0), t(6.0)]),
        (t(2.0), 2, "b".to_string(), vec![t(7.0), t(8.0)]),
    ]);
    assert_eq!(x.dims(), &[2, 2]);
    assert_eq!(x.to_vec::<f32>(), vec![0.0, 1.0, 2.0, 3.0]);
    assert_eq!(y.to_vec::<i64>(), vec![1, 2]);
    assert_eq!(z, vec!["a", "b"]);
    assert_eq!(w.len(), 2);
    assert_eq!(w[1].to_vec::<f32>(), vec![6.0, 7.0, 8.0, 9.0]);
    assert_eq!(
        panic_message(|| {
            default_collate(vec![vec![1i64, 2], vec![3]]);
        }),
        "each element in list of batch should be of equal size"
    );
    assert!(
        panic_message(|| {
            default_collate(vec![t(0.0), Tensor::zeros([3])]);
        })
        .starts_with("stack expects each tensor to be equal size")
    );
}

#[derive(flambeau::utils::data::Collate)]
struct Sample {
    image: Tensor,
    label: i64,
    weight: f64,
    name: String,
}

#[test]
fn derived_collate_goes_field_by_field() {
    let s = |i: i64| Sample {
        image: Tensor::full([2, 2], i as f64),
        label: i,
        weight: 0.5 * i as f64,
        name: format!("s{i}"),
    };
    let b: SampleBatch = Sample::collate(vec![s(1), s(2), s(3)]);
    assert_eq!(b.image.dims(), &[3, 2, 2]);
    assert_eq!(b.image.select(0, 2).to_vec::<f32>(), vec![3.0; 4]);
    assert_eq!(b.label.to_vec::<i64>(), vec![1, 2, 3]);
    assert_eq!(b.weight.dtype(), DType::F64);
    assert_eq!(b.weight.to_vec::<f64>(), vec![0.5, 1.0, 1.5]);
    assert_eq!(b.name, vec!["s1", "s2", "s3"]);
}
