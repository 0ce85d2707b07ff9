//! The [`Tensor`] type: a cheap handle to a strided view of shared storage, with autograd metadata.

mod access;
mod create;
mod create_like;
mod display;
mod literal;

pub use literal::TensorLiteral;

use crate::autograd::{Node, TensorHook};
use crate::device::Device;
use crate::dtype::{AtomicDType, DType};
use crate::shape::{Layout, Shape};
use crate::storage::{Storage, StorageCell};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLockReadGuard};

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

/// The shared state behind a [`Tensor`] handle.
pub(crate) struct TensorImpl {
    pub storage: Arc<StorageCell>,
    pub layout: Layout,
    /// Replaceable by `set_data` (PyTorch's `tensor.data = ...`), which keeps the tensor's
    /// identity so that a module and an optimizer holding it agree.
    dtype: AtomicDType,
    pub device: Device,
    /// For a differentiable view: its base and what autograd needs to rebase it.
    pub view: Option<ViewInfo>,
    /// Fast path for "does anything autograd-related apply": set for leaves that require grad and
    /// for every tensor with a `grad_fn`.
    pub requires_grad: AtomicBool,
    pub meta: Mutex<AutogradMeta>,
}

/// What a view created by a differentiable view operation keeps (PyTorch's `DifferentiableViewMeta`).
pub(crate) struct ViewInfo {
    /// The tensor this is a view of, never itself a view (PyTorch's `_base`).
    pub base: Tensor,
    /// The storage's rebase count when this view's `grad_fn` was set: when the base or another
    /// view of it is modified in place under autograd, the count moves on and the view's
    /// `grad_fn` is regenerated from the base's.
    pub rebases: AtomicU64,
    /// For the outputs of ops returning several views (`split`, `chunk`, `unbind`): the op's
    /// name and the output's position, since PyTorch refuses in-place changes of those.
    pub multi_output: Option<(&'static str, usize)>,
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
    /// A leaf's gradient hooks, run before its gradient is accumulated.
    pub hooks: Vec<(u64, TensorHook)>,
}

impl Tensor {
    /// Wraps a fresh contiguous buffer.
    #[track_caller]
    pub(crate) fn from_storage(storage: Storage, shape: Shape) -> Tensor {
        debug_assert_eq!(storage.len(), shape.numel());
        let dtype = storage.dtype();
        Tensor(Arc::new(TensorImpl {
            storage: StorageCell::new(storage),
            layout: Layout::contiguous(shape),
            dtype: AtomicDType::new(dtype),
            device: Device::Cpu,
            view: None,
            requires_grad: AtomicBool::new(false),
            meta: Mutex::new(AutogradMeta::default()),
        }))
    }

    /// A tensor over an existing storage cell with any layout (how a checkpoint's tensors share
    /// the storage they were saved from), or `None` when some element would lie outside the
    /// storage. Sizes and strides come from outside input, so every product is checked.
    pub(crate) fn over_storage(cell: Arc<StorageCell>, layout: Layout) -> Option<Tensor> {
        if layout.shape.0.len() != layout.strides.len() {
            return None;
        }
        // Even an empty shape must have a representable element count (no dim product overflows).
        let mut nonzero = layout.shape.0.iter().filter(|&&d| d != 0);
        nonzero.try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
        let len = cell.read().len();
        if layout.numel() > 0 {
            // The last element's position: offset + sum((size - 1) * stride), each step checked.
            let mut last = layout.offset;
            for (&d, &s) in layout.shape.0.iter().zip(layout.strides.iter()) {
                last = last.checked_add((d - 1).checked_mul(s)?)?;
            }
            if last >= len {
                return None;
            }
        } else if layout.offset > len {
            return None;
        }
        let dtype = cell.read().dtype();
        Some(Tensor(Arc::new(TensorImpl {
            storage: cell,
            layout,
            dtype: AtomicDType::new(dtype),
            device: Device::Cpu,
            view: None,
            requires_grad: AtomicBool::new(false),
            meta: Mutex::new(AutogradMeta::default()),
        })))
    }

    /// The storage cell this tensor views, for writers that must save each storage once.
    pub(crate) fn storage_cell(&self) -> &Arc<StorageCell> {
        &self.0.storage
    }

    /// Another tensor over the same storage (and version counter) with another layout, outside
    /// autograd: not a view of this one as far as autograd is concerned.
    #[track_caller]
    pub(crate) fn alias_with_layout(&self, layout: Layout) -> Tensor {
        Tensor(Arc::new(TensorImpl {
            storage: self.0.storage.clone(),
            layout,
            dtype: AtomicDType::new(self.dtype()),
            device: self.0.device,
            view: None,
            requires_grad: AtomicBool::new(false),
            meta: Mutex::new(AutogradMeta::default()),
        }))
    }

    /// A differentiable view of this tensor with another layout (the caller records its node).
    #[track_caller]
    pub(crate) fn view_with_layout(
        &self,
        layout: Layout,
        multi_output: Option<(&'static str, usize)>,
    ) -> Tensor {
        let base = match &self.0.view {
            Some(v) => v.base.clone(),
            None => self.clone(),
        };
        Tensor(Arc::new(TensorImpl {
            storage: self.0.storage.clone(),
            layout,
            dtype: AtomicDType::new(self.dtype()),
            device: self.0.device,
            view: Some(ViewInfo {
                base,
                rebases: AtomicU64::new(self.0.storage.rebases()),
                multi_output,
            }),
            requires_grad: AtomicBool::new(false),
            meta: Mutex::new(AutogradMeta::default()),
        }))
    }

    #[track_caller]
    pub(crate) fn layout(&self) -> &Layout {
        &self.0.layout
    }

    #[track_caller]
    pub(crate) fn meta(&self) -> MutexGuard<'_, AutogradMeta> {
        self.0.meta.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Read access to the storage (one lock; several storages go through `storage::lock`).
    #[track_caller]
    pub(crate) fn storage(&self) -> RwLockReadGuard<'_, Storage> {
        self.0.storage.read()
    }

    /// The storage cell, for `storage::lock`.
    #[track_caller]
    pub(crate) fn cell(&self) -> &StorageCell {
        &self.0.storage
    }

    /// Marks an in-place change of the data (views share the counter).
    #[track_caller]
    pub(crate) fn bump_version(&self) {
        self.0.storage.bump_version();
    }

    /// Whether two tensors share a storage buffer.
    #[track_caller]
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
    #[track_caller]
    pub fn version(&self) -> u64 {
        self.0.storage.version()
    }

    /// The dtype of the elements.
    #[track_caller]
    pub fn dtype(&self) -> DType {
        self.0.dtype.get()
    }

    /// The device holding the data.
    #[track_caller]
    pub fn device(&self) -> Device {
        self.0.device
    }

    /// The shape (`tensor.shape` / `tensor.size()`).
    #[track_caller]
    pub fn shape(&self) -> &Shape {
        &self.0.layout.shape
    }

    /// The dimension sizes as a slice.
    #[track_caller]
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
    #[track_caller]
    pub fn size(&self, dim: i64) -> usize {
        let d = crate::shape::wrap_dim(dim, self.ndim());
        if self.ndim() == 0 { 1 } else { self.dims()[d] }
    }

    /// The number of dimensions (`tensor.dim()`).
    #[track_caller]
    pub fn ndim(&self) -> usize {
        self.0.layout.ndim()
    }

    /// The number of dimensions; the same as [`Tensor::ndim`] (`tensor.dim()`).
    #[track_caller]
    pub fn dim(&self) -> usize {
        self.ndim()
    }

    /// The number of elements (`tensor.numel()`).
    #[track_caller]
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
    #[track_caller]
    pub fn stride(&self) -> Vec<usize> {
        self.0.layout.strides.to_vec()
    }

    /// The offset of the first element in the storage (`tensor.storage_offset()`).
    #[track_caller]
    pub fn storage_offset(&self) -> usize {
        self.0.layout.offset
    }

    /// Whether the elements are laid out row-major without gaps (`tensor.is_contiguous()`).
    #[track_caller]
    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }

    /// Whether the dtype is a floating-point type.
    #[track_caller]
    pub fn is_floating_point(&self) -> bool {
        self.dtype().is_float()
    }

    /// Whether two handles refer to the very same tensor (Python's `a is b`).
    #[track_caller]
    pub fn is_same(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Whether this tensor is a view of another one (`tensor._is_view()`).
    ///
    /// ```
    /// use flambeau::Tensor;
    /// let t = Tensor::zeros([2, 3]);
    /// assert!(!t.is_view() && t.t().is_view());
    /// ```
    #[track_caller]
    pub fn is_view(&self) -> bool {
        self.0.view.is_some()
    }

    /// The tensor this one is a view of (`tensor._base`).
    #[track_caller]
    pub fn base(&self) -> Option<Tensor> {
        self.0.view.as_ref().map(|v| v.base.clone())
    }

    /// Replaces this tensor's data with `data`'s values, dtype included, keeping its identity
    /// (PyTorch's `tensor.data = data`): a module and an optimizer holding this tensor both see
    /// the new data, as after `model.double()` in PyTorch. The shapes must be equal, and the
    /// tensor must own its storage (not be a view, nor have views or saved copies alive).
    ///
    /// ```
    /// use flambeau::{tensor, DType};
    /// let p = tensor!([1.5, 2.5]).requires_grad_(true);
    /// let same = p.clone();
    /// let data = p.detach().to_dtype(DType::F64);
    /// p.set_data(&data);
    /// assert_eq!(same.dtype(), DType::F64);
    /// assert!(same.requires_grad());
    /// ```
    #[track_caller]
    pub fn set_data(&self, data: &Tensor) {
        if data.dims() != self.dims() {
            panic!(
                "set_data: Flambeau can only replace data of the same shape: {:?} vs {:?}",
                self.dims(),
                data.dims()
            );
        }
        if !self.try_set_data(data) {
            panic!(
                "set_data: the tensor shares its storage with views or saved tensors; Flambeau replaces data only of a tensor that owns its storage"
            );
        }
    }

    /// `set_data` when this tensor owns its storage (no views or saved aliases share it);
    /// returns false, changing nothing, otherwise.
    #[track_caller]
    pub(crate) fn try_set_data(&self, data: &Tensor) -> bool {
        if data.dims() != self.dims()
            || self.is_view()
            || Arc::strong_count(&self.0.storage) != 1
            || !self.is_contiguous()
            || self.layout().offset != 0
        {
            return false;
        }
        let values = data.storage().cast(data.layout(), data.dtype());
        *self.0.storage.write() = values;
        self.0.dtype.set(data.dtype());
        self.bump_version();
        true
    }
}

// A tensor handle can be shared across threads: storage sits behind a lock, metadata behind a mutex.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Tensor>();
};

impl TensorImpl {
    #[track_caller]
    pub(crate) fn requires_grad(&self) -> bool {
        self.requires_grad.load(Ordering::Relaxed)
    }
}

impl AsRef<Tensor> for Tensor {
    #[track_caller]
    fn as_ref(&self) -> &Tensor {
        self
    }
}
