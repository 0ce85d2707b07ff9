//! The [`Tensor`] type: a cheap handle to a strided view of shared storage, with autograd metadata.

mod access;
pub(crate) use access::cast_storage;
mod create;
mod display;
mod literal;

pub use literal::TensorLiteral;

use crate::autograd::Node;
use crate::device::Device;
use crate::dtype::DType;
use crate::shape::{Layout, Shape};
use crate::storage::{CpuStorage, Storage, StorageCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// An n-dimensional array with PyTorch's semantics: a runtime dtype and device, views that share
/// storage, and reverse-mode automatic differentiation.
///
/// Cloning a `Tensor` is cheap (a reference count) and gives the *same* tensor, as assigning a
/// tensor to a second Python name does; use [`Tensor::clone_tensor`] (PyTorch's `clone()`) for a copy.
///
/// ```
/// use flambeau::{tensor, Tensor};
/// let x = tensor!([1.0, 2.0, 3.0]).requires_grad_(true);
/// let y = (&x * &x).sum();
/// y.backward();
/// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2.0, 4.0, 6.0]);
/// assert_eq!(format!("{y}"), "tensor(14., grad_fn=<SumBackward0>)");
/// ```
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<TensorImpl>);

/// A tensor's contiguous elements inside its storage, writable.
pub(crate) struct SliceMut<'a> {
    storage: &'a mut CpuStorage,
    range: std::ops::Range<usize>,
}

impl<'a> SliceMut<'a> {
    /// The elements as `&mut [T]`, if that is the dtype.
    pub(crate) fn into_slice<T: crate::storage::StorageElement>(self) -> Option<&'a mut [T]> {
        let range = self.range;
        T::slice_mut(self.storage).map(|s| &mut s[range])
    }
}

/// The shared state behind a [`Tensor`] handle.
pub(crate) struct TensorImpl {
    pub storage: Arc<StorageCell>,
    pub layout: Layout,
    pub dtype: DType,
    pub device: Device,
    /// Whether this tensor shares storage with another tensor it was derived from as a view.
    pub is_view: bool,
    /// For views: the storage's rebase count when the view was taken (see `StorageCell`).
    pub view_rebases: u64,
    /// Fast path for "does anything autograd-related apply": set for leaves that require grad and
    /// for every tensor with a `grad_fn`.
    pub requires_grad: AtomicBool,
    pub meta: Mutex<AutogradMeta>,
}

/// Autograd state that changes over a tensor's life.
#[derive(Default)]
pub(crate) struct AutogradMeta {
    /// The node that produced this tensor (None for leaves).
    pub grad_fn: Option<Arc<Node>>,
    /// The accumulated gradient (leaves, and non-leaves after `retain_grad`).
    pub grad: Option<Tensor>,
    /// Whether a non-leaf keeps its gradient.
    pub retains_grad: bool,
}

impl Tensor {
    /// Wraps a fresh contiguous buffer.
    pub(crate) fn from_cpu(storage: CpuStorage, shape: Shape) -> Tensor {
        debug_assert_eq!(storage.len(), shape.numel());
        let dtype = storage.dtype();
        Tensor(Arc::new(TensorImpl {
            storage: StorageCell::new(Storage::Cpu(storage)),
            layout: Layout::contiguous(shape),
            dtype,
            device: Device::Cpu,
            is_view: false,
            view_rebases: 0,
            requires_grad: AtomicBool::new(false),
            meta: Mutex::new(AutogradMeta::default()),
        }))
    }

    /// A new tensor over the same storage with another layout (no autograd recorded here).
    pub(crate) fn alias_with_layout(&self, layout: Layout) -> Tensor {
        Tensor(Arc::new(TensorImpl {
            storage: self.0.storage.clone(),
            layout,
            dtype: self.0.dtype,
            device: self.0.device,
            is_view: true,
            view_rebases: self.0.storage.rebases(),
            requires_grad: AtomicBool::new(false),
            meta: Mutex::new(AutogradMeta::default()),
        }))
    }

    pub(crate) fn layout(&self) -> &Layout {
        &self.0.layout
    }

    pub(crate) fn meta(&self) -> MutexGuard<'_, AutogradMeta> {
        self.0.meta.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the CPU buffer and the layout.
    pub(crate) fn with_cpu<R>(&self, f: impl FnOnce(&CpuStorage, &Layout) -> R) -> R {
        let guard = self.0.storage.read();
        f(guard.cpu(), &self.0.layout)
    }

    /// Writes the CPU buffer in place and bumps the version counter.
    pub(crate) fn with_cpu_mut<R>(&self, f: impl FnOnce(&mut CpuStorage, &Layout) -> R) -> R {
        let r = {
            let mut guard = self.0.storage.write();
            f(guard.cpu_mut(), &self.0.layout)
        };
        self.0.storage.bump_version();
        r
    }

    /// Writes several tensors' buffers at once (they must not share storage), each as the
    /// contiguous slice of its elements, and bumps their versions. For fused optimizer kernels.
    pub(crate) fn with_cpu_mut_many<R>(
        tensors: &[&Tensor],
        f: impl FnOnce(Vec<SliceMut<'_>>) -> R,
    ) -> R {
        for (i, t) in tensors.iter().enumerate() {
            assert!(
                t.is_contiguous(),
                "with_cpu_mut_many needs contiguous tensors"
            );
            assert!(
                !tensors[..i].iter().any(|u| u.shares_storage(t)),
                "with_cpu_mut_many needs distinct storages"
            );
        }
        let mut guards: Vec<_> = tensors.iter().map(|t| t.0.storage.write()).collect();
        let slices = guards
            .iter_mut()
            .zip(tensors)
            .map(|(g, t)| SliceMut {
                storage: g.cpu_mut(),
                range: t.layout().contiguous_range().expect("contiguous"),
            })
            .collect();
        let r = f(slices);
        drop(guards);
        for t in tensors {
            t.0.storage.bump_version();
        }
        r
    }

    /// Whether two tensors share a storage buffer.
    pub(crate) fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0.storage, &other.0.storage)
    }

    /// The version counter PyTorch uses to detect in-place changes of saved tensors
    /// (`tensor._version`). Views share it with their base.
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let t = Tensor::zeros(3);
    /// assert_eq!(t.version(), 0);
    /// t.add_(1.0);
    /// assert_eq!(t.version(), 1);
    /// ```
    pub fn version(&self) -> u64 {
        self.0.storage.version()
    }

    /// The dtype of the elements.
    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    /// The device holding the data.
    pub fn device(&self) -> Device {
        self.0.device
    }

    /// The shape (`tensor.shape` / `tensor.size()`).
    pub fn shape(&self) -> &Shape {
        &self.0.layout.shape
    }

    /// The dimension sizes as a slice.
    pub fn dims(&self) -> &[usize] {
        self.0.layout.dims()
    }

    /// The size of one dimension; negative dims count from the end (`tensor.size(dim)`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let t = Tensor::zeros([2, 3]);
    /// assert_eq!(t.size(-1), 3);
    /// ```
    pub fn size(&self, dim: i64) -> usize {
        let d = crate::shape::wrap_dim(dim, self.ndim());
        if self.ndim() == 0 { 1 } else { self.dims()[d] }
    }

    /// The number of dimensions (`tensor.dim()`).
    pub fn ndim(&self) -> usize {
        self.0.layout.ndim()
    }

    /// The number of dimensions; the same as [`Tensor::ndim`] (`tensor.dim()`).
    pub fn dim(&self) -> usize {
        self.ndim()
    }

    /// The number of elements (`tensor.numel()`).
    pub fn numel(&self) -> usize {
        self.0.layout.numel()
    }

    /// The strides in elements (`tensor.stride()`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let t = Tensor::zeros([2, 3]);
    /// assert_eq!(t.stride(), vec![3, 1]);
    /// assert_eq!(t.t().stride(), vec![1, 3]);
    /// ```
    pub fn stride(&self) -> Vec<usize> {
        self.0.layout.strides.to_vec()
    }

    /// The offset of the first element in the storage (`tensor.storage_offset()`).
    pub fn storage_offset(&self) -> usize {
        self.0.layout.offset
    }

    /// Whether the elements are laid out row-major without gaps (`tensor.is_contiguous()`).
    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }

    /// Whether the dtype is a floating-point type.
    pub fn is_floating_point(&self) -> bool {
        self.0.dtype.is_float()
    }

    /// Whether two handles refer to the very same tensor (Python's `a is b`).
    pub fn is_same(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

// A tensor handle can be shared across threads: storage sits behind a lock, metadata behind a mutex.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Tensor>();
};

impl TensorImpl {
    pub(crate) fn requires_grad(&self) -> bool {
        self.requires_grad.load(Ordering::Relaxed)
    }
}

impl AsRef<Tensor> for Tensor {
    fn as_ref(&self) -> &Tensor {
        self
    }
}
