//! Storage: the flat buffers tensors view, one enum over devices, each an enum over dtypes.

use crate::dtype::{DType, Element};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A CPU buffer of one dtype.
#[derive(Clone, Debug)]
pub enum CpuStorage {
    /// `float32` elements.
    F32(Vec<f32>),
    /// `float64` elements.
    F64(Vec<f64>),
    /// `int64` elements.
    I64(Vec<i64>),
    /// `bool` elements.
    Bool(Vec<bool>),
}

impl CpuStorage {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            CpuStorage::F32(_) => DType::F32,
            CpuStorage::F64(_) => DType::F64,
            CpuStorage::I64(_) => DType::I64,
            CpuStorage::Bool(_) => DType::Bool,
        }
    }

    /// The number of elements in the buffer.
    pub fn len(&self) -> usize {
        match self {
            CpuStorage::F32(v) => v.len(),
            CpuStorage::F64(v) => v.len(),
            CpuStorage::I64(v) => v.len(),
            CpuStorage::Bool(v) => v.len(),
        }
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A buffer of `n` zeros (false for bool).
    pub fn zeros(dtype: DType, n: usize) -> CpuStorage {
        match dtype {
            DType::F32 => CpuStorage::F32(vec![0.0; n]),
            DType::F64 => CpuStorage::F64(vec![0.0; n]),
            DType::I64 => CpuStorage::I64(vec![0; n]),
            DType::Bool => CpuStorage::Bool(vec![false; n]),
        }
    }

    /// The buffer as a slice of `T`, if that is its dtype.
    pub fn as_slice<T: StorageElement>(&self) -> Option<&[T]> {
        T::slice(self)
    }

    /// The buffer as a mutable slice of `T`, if that is its dtype.
    pub fn as_mut_slice<T: StorageElement>(&mut self) -> Option<&mut [T]> {
        T::slice_mut(self)
    }
}

/// An element type that knows which [`CpuStorage`] variant holds it.
pub trait StorageElement: Element {
    /// Wraps a vector in the matching storage variant.
    fn wrap(v: Vec<Self>) -> CpuStorage;
    /// The slice inside a storage of this dtype.
    fn slice(s: &CpuStorage) -> Option<&[Self]>;
    /// The mutable slice inside a storage of this dtype.
    fn slice_mut(s: &mut CpuStorage) -> Option<&mut [Self]>;
}

macro_rules! impl_storage_element {
    ($t:ty, $v:ident) => {
        impl StorageElement for $t {
            #[inline]
            fn wrap(v: Vec<Self>) -> CpuStorage {
                CpuStorage::$v(v)
            }
            #[inline]
            fn slice(s: &CpuStorage) -> Option<&[Self]> {
                match s {
                    CpuStorage::$v(v) => Some(v),
                    _ => None,
                }
            }
            #[inline]
            fn slice_mut(s: &mut CpuStorage) -> Option<&mut [Self]> {
                match s {
                    CpuStorage::$v(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}
impl_storage_element!(f32, F32);
impl_storage_element!(f64, F64);
impl_storage_element!(i64, I64);
impl_storage_element!(bool, Bool);

/// A buffer on some device. Only the CPU exists today; CUDA will be a second variant.
#[derive(Clone, Debug)]
pub enum Storage {
    /// Host memory.
    Cpu(CpuStorage),
}

impl Storage {
    /// The CPU buffer. Every storage is on the CPU for now.
    pub fn cpu(&self) -> &CpuStorage {
        match self {
            Storage::Cpu(s) => s,
        }
    }
    /// The CPU buffer, mutably.
    pub fn cpu_mut(&mut self) -> &mut CpuStorage {
        match self {
            Storage::Cpu(s) => s,
        }
    }
}

/// What views of one tensor share: the buffer behind a lock, and the version counter that in-place
/// operations bump (PyTorch shares the counter between a tensor and all its views).
pub(crate) struct StorageCell {
    data: RwLock<Storage>,
    version: AtomicU64,
    /// How many times an in-place operation under autograd gave the owner of this storage a new
    /// `grad_fn`; views taken before that would carry a stale graph position.
    rebases: AtomicU64,
}

impl StorageCell {
    pub fn new(storage: Storage) -> Arc<StorageCell> {
        Arc::new(StorageCell {
            data: RwLock::new(storage),
            version: AtomicU64::new(0),
            rebases: AtomicU64::new(0),
        })
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Storage> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Storage> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    pub fn rebases(&self) -> u64 {
        self.rebases.load(Ordering::Acquire)
    }

    pub fn bump_rebases(&self) {
        self.rebases.fetch_add(1, Ordering::AcqRel);
    }

    pub fn bump_version(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }
}
