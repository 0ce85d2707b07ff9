//! Collation (`torch/utils/data/_utils/collate.py`): a list of samples into one batch.
//!
//! [`Collate`] says how one sample type is batched, as `default_collate`'s type dispatch does:
//! tensors are stacked along a new dim 0, numbers become 1-d tensors (`f64` as a Python float:
//! float64; `f32`: float32; integers: int64, `u64` and `usize` reinterpreted as two's
//! complement; `bool`: bool), strings stay a list, and tuples and
//! `Vec`s are collated position by position. Structs collate field by field (PyTorch's dicts and
//! namedtuples) with `#[derive(Collate)]`.

use crate::tensor::Tensor;

/// How samples of this type are batched (`default_collate`'s rules for one type).
///
/// ```
/// use flambeau::{Tensor, utils::data::Collate};
/// let batch = <(Tensor, i64)>::collate(vec![
///     (Tensor::from_vec(vec![1.0f32, 2.0], [2]), 0),
///     (Tensor::from_vec(vec![3.0f32, 4.0], [2]), 1),
/// ]);
/// assert_eq!(batch.0.dims(), &[2, 2]);
/// assert_eq!(batch.1.to_vec::<i64>(), vec![0, 1]);
/// ```
///
/// A struct of samples, collated field by field into a `{Name}Batch`:
///
/// ```
/// use flambeau::{Tensor, utils::data::{Collate, DataLoader}};
/// #[derive(Clone, Collate)]
/// struct Sample {
///     features: Tensor,
///     label: i64,
/// }
/// let samples: Vec<Sample> = (0..5)
///     .map(|i| Sample { features: Tensor::full([3], i as f64), label: i })
///     .collect();
/// let loader = DataLoader::new(samples).batch_size(2);
/// let first: SampleBatch = loader.iter().next().unwrap();
/// assert_eq!(first.features.dims(), &[2, 3]);
/// assert_eq!(first.label.to_vec::<i64>(), vec![0, 1]);
/// ```
pub trait Collate: Sized {
    /// The batched form.
    type Output: Send;
    /// Batches `items` (in order: row `i` of the result is `items[i]`).
    fn collate(items: Vec<Self>) -> Self::Output;
}

/// `torch.utils.data.default_collate(batch)`.
///
/// ```
/// use flambeau::utils::data::default_collate;
/// let t = default_collate(vec![1.5f64, 2.5]);
/// assert_eq!(format!("{t}"), "tensor([1.5000, 2.5000], dtype=torch.float64)");
/// ```
#[track_caller]
pub fn default_collate<T: Collate>(items: Vec<T>) -> T::Output {
    T::collate(items)
}

impl Collate for Tensor {
    type Output = Tensor;
    /// `torch.stack(batch, 0)`.
    #[track_caller]
    fn collate(items: Vec<Tensor>) -> Tensor {
        let refs: Vec<&Tensor> = items.iter().collect();
        Tensor::stack(&refs, 0)
    }
}

macro_rules! collate_number {
    ($($t:ty => $as:ty),*) => {$(
        impl Collate for $t {
            type Output = Tensor;
            fn collate(items: Vec<$t>) -> Tensor {
                let n = items.len();
                Tensor::from_vec(items.into_iter().map(|x| x as $as).collect::<Vec<$as>>(), [n])
            }
        }
    )*};
}

collate_number!(f64 => f64, f32 => f32, i64 => i64, i32 => i64, i16 => i64, i8 => i64,
    u64 => i64, u32 => i64, u16 => i64, u8 => i64, usize => i64, isize => i64);

impl Collate for bool {
    type Output = Tensor;
    fn collate(items: Vec<bool>) -> Tensor {
        let n = items.len();
        Tensor::from_vec(items, [n])
    }
}

impl Collate for String {
    type Output = Vec<String>;
    /// Strings are returned as they are (a list).
    fn collate(items: Vec<String>) -> Vec<String> {
        items
    }
}

impl Collate for &'static str {
    type Output = Vec<&'static str>;
    fn collate(items: Vec<&'static str>) -> Vec<&'static str> {
        items
    }
}

impl<T: Collate> Collate for Vec<T> {
    type Output = Vec<T::Output>;
    /// Position by position; panics with PyTorch's message when the samples' lengths differ.
    #[track_caller]
    fn collate(items: Vec<Vec<T>>) -> Vec<T::Output> {
        let Some(first) = items.first() else {
            return Vec::new();
        };
        let len = first.len();
        if items.iter().any(|s| s.len() != len) {
            panic!("each element in list of batch should be of equal size");
        }
        let mut columns: Vec<Vec<T>> = (0..len).map(|_| Vec::with_capacity(items.len())).collect();
        for sample in items {
            for (col, x) in columns.iter_mut().zip(sample) {
                col.push(x);
            }
        }
        columns.into_iter().map(T::collate).collect()
    }
}

macro_rules! collate_tuple {
    ($(($($name:ident $idx:tt),+)),*) => {$(
        impl<$($name: Collate),+> Collate for ($($name,)+) {
            type Output = ($($name::Output,)+);
            #[track_caller]
            fn collate(items: Vec<Self>) -> Self::Output {
                #[allow(non_snake_case)]
                let ($(mut $name,)+) = ($(Vec::<$name>::with_capacity(items.len()),)+);
                for item in items {
                    $($name.push(item.$idx);)+
                }
                ($($name::collate($name),)+)
            }
        }
    )*};
}

collate_tuple!(
    (A 0),
    (A 0, B 1),
    (A 0, B 1, C 2),
    (A 0, B 1, C 2, D 3),
    (A 0, B 1, C 2, D 3, E 4),
    (A 0, B 1, C 2, D 3, E 4, F 5)
);
