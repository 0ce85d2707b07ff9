//! Creating tensors: from data, filled, ranges and identity matrices.

use super::Tensor;
use crate::dtype::{DType, Element, with_dtype};
use crate::scalar::Scalar;
use crate::shape::{IntList, Shape, shape_from, storage_bytes};
use crate::storage::{Storage, StorageElement};

/// The shape of `torch.zeros`/`ones`/`full`, with their message for a negative size (which
/// differs from `torch.empty`'s).
#[track_caller]
fn factory_shape(shape: &impl IntList, name: &str) -> Shape {
    if shape.to_int_list().iter().any(|&d| d < 0) {
        panic!("{name}: Dimension size must be non-negative.");
    }
    shape_from(shape)
}

impl Tensor {
    /// A tensor owning `data`, laid out row-major in `shape`.
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    /// assert_eq!(t.dims(), &[2, 3]);
    /// ```
    #[track_caller]
    pub fn from_vec<T: StorageElement>(data: Vec<T>, shape: impl IntList) -> Tensor {
        let shape = shape_from(&shape);
        if shape.numel() != data.len() {
            panic!(
                "shape '{:?}' is invalid for input of size {}",
                shape.dims(),
                data.len()
            );
        }
        Tensor::from_storage(Storage::from_vec(data), shape)
    }

    /// A tensor copied from a slice, laid out row-major in `shape`.
    #[track_caller]
    pub fn from_slice<T: StorageElement>(data: &[T], shape: impl IntList) -> Tensor {
        Tensor::from_vec(data.to_vec(), shape)
    }

    /// A 0-dim tensor holding one value (`torch.tensor(3.5, dtype=...)`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let t = Tensor::scalar(2.5f64);
    /// assert_eq!(t.ndim(), 0);
    /// assert_eq!(t.item::<f64>(), 2.5);
    /// ```
    #[track_caller]
    pub fn scalar<T: StorageElement>(value: T) -> Tensor {
        Tensor::from_vec(vec![value], ())
    }

    /// A tensor of `shape` filled with `value` in `dtype`.
    #[track_caller]
    pub(crate) fn filled(shape: Shape, value: Scalar, dtype: DType) -> Tensor {
        storage_bytes(shape.dims(), dtype.size_in_bytes());
        let storage = Storage::full(dtype, shape.numel(), value);
        Tensor::from_storage(storage, shape)
    }

    /// Zeros of the default dtype (float32): `torch.zeros(shape)`.
    ///
    /// ```
    /// use flambeau::Tensor;
    /// assert_eq!(Tensor::zeros([2]).to_vec::<f32>(), vec![0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn zeros(shape: impl IntList) -> Tensor {
        Tensor::zeros_dtype(shape, DType::F32)
    }

    /// Zeros of a given dtype: `torch.zeros(shape, dtype=dtype)`.
    #[track_caller]
    pub fn zeros_dtype(shape: impl IntList, dtype: DType) -> Tensor {
        let shape = factory_shape(&shape, "zeros");
        storage_bytes(shape.dims(), dtype.size_in_bytes());
        let storage = Storage::zeros(dtype, shape.numel());
        Tensor::from_storage(storage, shape)
    }

    /// Ones of the default dtype: `torch.ones(shape)`.
    #[track_caller]
    pub fn ones(shape: impl IntList) -> Tensor {
        Tensor::ones_dtype(shape, DType::F32)
    }

    /// Ones of a given dtype.
    #[track_caller]
    pub fn ones_dtype(shape: impl IntList, dtype: DType) -> Tensor {
        Tensor::filled(factory_shape(&shape, "ones"), Scalar::Int(1), dtype)
    }

    /// A tensor filled with `value`; its dtype follows the value as in PyTorch (a float gives
    /// float32, an integer int64, a bool bool): `torch.full(shape, value)`.
    ///
    /// ```
    /// use flambeau::{DType, Tensor};
    /// assert_eq!(Tensor::full([2], 0.3).dtype(), DType::F32);
    /// assert_eq!(Tensor::full([2], 7).to_vec::<i64>(), vec![7, 7]);
    /// ```
    #[track_caller]
    pub fn full(shape: impl IntList, value: impl Into<Scalar>) -> Tensor {
        let value = value.into();
        Tensor::filled(factory_shape(&shape, "full"), value, value.default_dtype())
    }

    /// A tensor filled with `value` in a given dtype.
    #[track_caller]
    pub fn full_dtype(shape: impl IntList, value: impl Into<Scalar>, dtype: DType) -> Tensor {
        Tensor::filled(factory_shape(&shape, "full"), value.into(), dtype)
    }

    /// An "uninitialised" float32 tensor (`torch.empty`); Flambeau fills it with zeros.
    #[track_caller]
    pub fn empty(shape: impl IntList) -> Tensor {
        Tensor::empty_dtype(shape, DType::F32)
    }

    /// An "uninitialised" tensor of a given dtype (zeros in Flambeau).
    #[track_caller]
    pub fn empty_dtype(shape: impl IntList, dtype: DType) -> Tensor {
        let shape = shape_from(&shape);
        storage_bytes(shape.dims(), dtype.size_in_bytes());
        Tensor::from_storage(Storage::zeros(dtype, shape.numel()), shape)
    }

    /// Zeros with this tensor's shape and dtype (`torch.zeros_like`).
    #[track_caller]
    pub fn zeros_like(t: &Tensor) -> Tensor {
        Tensor::zeros_dtype(t.shape(), t.dtype())
    }

    /// Ones with this tensor's shape and dtype (`torch.ones_like`).
    #[track_caller]
    pub fn ones_like(t: &Tensor) -> Tensor {
        Tensor::ones_dtype(t.shape(), t.dtype())
    }

    /// `value` with this tensor's shape and dtype (`torch.full_like`).
    #[track_caller]
    pub fn full_like(t: &Tensor, value: impl Into<Scalar>) -> Tensor {
        Tensor::filled(t.shape().clone(), value.into(), t.dtype())
    }

    /// An "uninitialised" tensor with this tensor's shape and dtype (zeros in Flambeau).
    #[track_caller]
    pub fn empty_like(t: &Tensor) -> Tensor {
        Tensor::zeros_like(t)
    }

    /// Values from `start` (inclusive) to `end` (exclusive) by `step` (`torch.arange`).
    /// Integers give int64, any float gives float32.
    ///
    /// ```
    /// use flambeau::Tensor;
    /// assert_eq!(Tensor::arange(0, 5, 2).to_vec::<i64>(), vec![0, 2, 4]);
    /// assert_eq!(Tensor::arange(0.0, 1.0, 0.25).to_vec::<f32>(), vec![0.0, 0.25, 0.5, 0.75]);
    /// ```
    #[track_caller]
    pub fn arange(
        start: impl Into<Scalar>,
        end: impl Into<Scalar>,
        step: impl Into<Scalar>,
    ) -> Tensor {
        let (start, end, step) = (start.into(), end.into(), step.into());
        let dtype = if start.is_float() || end.is_float() || step.is_float() {
            DType::F32
        } else {
            DType::I64
        };
        Tensor::arange_dtype(start, end, step, dtype)
    }

    /// `torch.arange(start, end, step, dtype=dtype)`.
    #[track_caller]
    pub fn arange_dtype(
        start: impl Into<Scalar>,
        end: impl Into<Scalar>,
        step: impl Into<Scalar>,
        dtype: DType,
    ) -> Tensor {
        let (start, end, step) = (
            start.into().to_f64(),
            end.into().to_f64(),
            step.into().to_f64(),
        );
        if step == 0.0 {
            panic!("step must be nonzero");
        }
        if !((step > 0.0 && end >= start) || (step < 0.0 && end <= start)) {
            panic!("upper bound and larger bound inconsistent with step sign");
        }
        let n = ((end - start) / step).ceil() as usize;
        if dtype == DType::Bool {
            panic!("\"arange_cpu\" not implemented for 'Bool'");
        }
        with_dtype!(dtype, T => {
            let values: Vec<T> = (0..n).map(|i| T::from_f64(start + i as f64 * step)).collect();
            Tensor::from_vec(values, [n])
        })
    }

    /// `steps` evenly spaced float32 values from `start` to `end` inclusive (`torch.linspace`),
    /// computed as PyTorch does (from both ends toward the middle).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// assert_eq!(Tensor::linspace(0.0, 1.0, 5).to_vec::<f32>(), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    /// ```
    #[track_caller]
    pub fn linspace(start: f64, end: f64, steps: usize) -> Tensor {
        Tensor::linspace_dtype(start, end, steps, DType::F32)
    }

    /// `torch.linspace(start, end, steps, dtype=dtype)` for a float dtype.
    #[track_caller]
    pub fn linspace_dtype(start: f64, end: f64, steps: usize, dtype: DType) -> Tensor {
        #[track_caller]
        fn fill<T: crate::dtype::Float>(start: T, end: T, steps: usize) -> Vec<T> {
            if steps == 1 {
                return vec![start];
            }
            let step = (end - start) / T::from_f64((steps - 1) as f64);
            let half = steps / 2;
            (0..steps)
                .map(|i| {
                    if i < half {
                        start + step * T::from_f64(i as f64)
                    } else {
                        end - step * T::from_f64((steps - i - 1) as f64)
                    }
                })
                .collect()
        }
        match dtype {
            DType::F32 => Tensor::from_vec(fill(start as f32, end as f32, steps), [steps]),
            DType::F64 => Tensor::from_vec(fill(start, end, steps), [steps]),
            other => panic!("linspace: expected a floating-point dtype, got {other}"),
        }
    }

    /// The `n x n` float32 identity matrix (`torch.eye(n)`).
    #[track_caller]
    pub fn eye(n: usize) -> Tensor {
        Tensor::eye_dtype(n, n, DType::F32)
    }

    /// An `n x m` identity-like matrix of a dtype (`torch.eye(n, m, dtype=dtype)`).
    #[track_caller]
    pub fn eye_dtype(n: usize, m: usize, dtype: DType) -> Tensor {
        let mut v = vec![0.0f64; n * m];
        for i in 0..n.min(m) {
            v[i * m + i] = 1.0;
        }
        Tensor::from_vec(v, [n, m]).to_dtype(dtype)
    }

    /// Builds a tensor from nested arrays or a number; see the [`tensor!`](crate::tensor!) macro.
    #[track_caller]
    pub fn from_nested<L: super::TensorLiteral>(data: L) -> Tensor {
        super::literal::build(&data, None)
    }

    /// Builds a tensor from nested arrays with an explicit dtype.
    #[track_caller]
    pub fn from_nested_dtype<L: super::TensorLiteral>(data: L, dtype: DType) -> Tensor {
        super::literal::build(&data, Some(dtype))
    }
}
