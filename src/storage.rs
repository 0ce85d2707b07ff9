//! Storage: the flat buffers tensors view. [`Storage`] is the one enum over devices, each variant
//! a backend's buffer (an enum over dtypes); its methods are the backend families of
//! `backend::BackendStorage`, each matching the device once. Nothing above this file and
//! `kernels/` names a device's buffer type.
//!
//! [`StorageCell`] is what views of one tensor share: the buffer behind a lock, the version
//! counter, and the count of graph rebases. [`lock`] takes the locks of one operation over several
//! storages, each once and in one global order, so that no two operations on any threads can
//! deadlock on each other's tensors.

use crate::backend::ops::{BinaryOp, CmpOp, UnaryOp};
use crate::backend::{
    AdamBuffers, AdamScalars, AvgDivisor, BackendStorage, Im2colGeometry, LayerNormBackwardArgs,
    MseReduce, PoolWindows,
};
use crate::dtype::{DType, Element};
use crate::kernels::cpu::buffer_pool;
use crate::random::generator::GeneratorState;
use crate::scalar::Scalar;
use crate::shape::{Layout, ReducePlan, Shape};
use smallvec::SmallVec;
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

    /// The bytes the buffer holds (its capacity).
    fn capacity_bytes(&self) -> usize {
        fn bytes<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        match self {
            CpuStorage::F32(v) => bytes(v),
            CpuStorage::F64(v) => bytes(v),
            CpuStorage::I64(v) => bytes(v),
            CpuStorage::Bool(v) => bytes(v),
        }
    }

    /// Hands the buffer to the allocator's cache of freed buffers.
    fn recycle(self) {
        use crate::kernels::cpu::alloc::recycle;
        match self {
            CpuStorage::F32(v) => recycle(v),
            CpuStorage::F64(v) => recycle(v),
            CpuStorage::I64(v) => recycle(v),
            CpuStorage::Bool(v) => recycle(v),
        }
    }
}

/// An element type that knows which [`CpuStorage`] variant holds it: what tensors can be built
/// from (`Tensor::from_vec`).
pub trait StorageElement: Element {
    /// Wraps a vector in the matching storage variant.
    fn wrap(v: Vec<Self>) -> CpuStorage;
}

macro_rules! impl_storage_element {
    ($t:ty, $v:ident) => {
        impl StorageElement for $t {
            #[inline]
            fn wrap(v: Vec<Self>) -> CpuStorage {
                CpuStorage::$v(v)
            }
        }
    };
}
impl_storage_element!(f32, F32);
impl_storage_element!(f64, F64);
impl_storage_element!(i64, I64);
impl_storage_element!(bool, Bool);

/// A buffer on some device. Only the CPU exists today; a CUDA buffer would be a second variant,
/// and each method below would gain one match arm calling its backend.
#[derive(Clone, Debug)]
pub enum Storage {
    /// Host memory.
    Cpu(CpuStorage),
}

/// Matches the device of one storage and calls the backend method, rewrapping a storage result.
macro_rules! on_device {
    ($s:expr, $b:ident => $call:expr; raw) => {
        match $s {
            Storage::Cpu($b) => $call,
        }
    };
    ($s:expr, $b:ident => $call:expr) => {
        match $s {
            Storage::Cpu($b) => Storage::Cpu($call),
        }
    };
}

/// Matches the devices of several storages, which must agree.
macro_rules! on_devices {
    ($(($s:expr, $b:ident)),+ => $call:expr) => {
        match ($($s),+) {
            ($(Storage::Cpu($b)),+) => $call,
        }
    };
}

/// A CPU storage operand (the only device so far) with its layout.
fn cpu_operand<'a>((s, l): (&'a Storage, &'a Layout)) -> (&'a CpuStorage, &'a Layout) {
    match s {
        Storage::Cpu(s) => (s, l),
    }
}

impl Storage {
    /// The element type.
    pub fn dtype(&self) -> DType {
        on_device!(self, s => BackendStorage::dtype(s); raw)
    }

    /// The number of elements in the buffer.
    pub fn len(&self) -> usize {
        on_device!(self, s => BackendStorage::len(s); raw)
    }

    /// `n` zeros on the CPU.
    #[track_caller]
    pub(crate) fn zeros(dtype: DType, n: usize) -> Storage {
        Storage::Cpu(CpuStorage::zeros(dtype, n))
    }

    /// `n` copies of `value` on the CPU.
    #[track_caller]
    pub(crate) fn full(dtype: DType, n: usize, value: Scalar) -> Storage {
        Storage::Cpu(CpuStorage::full(dtype, n, value))
    }

    /// Host values, on the CPU.
    pub(crate) fn from_vec<T: StorageElement>(values: Vec<T>) -> Storage {
        Storage::Cpu(CpuStorage::from_vec(values))
    }

    pub(crate) fn to_vec<T: Element>(&self, layout: &Layout) -> Vec<T> {
        on_device!(self, s => s.to_vec(layout); raw)
    }

    pub(crate) fn cast(&self, layout: &Layout, dtype: DType) -> Storage {
        on_device!(self, s => s.cast(layout, dtype))
    }

    pub(crate) fn copy_into(&mut self, dst: &Layout, src: &Storage, src_layout: &Layout) {
        on_devices!((self, d), (src, s) => d.copy_into(dst, s, src_layout))
    }

    pub(crate) fn fill(&mut self, dst: &Layout, value: Scalar) {
        on_device!(self, s => s.fill(dst, value); raw)
    }

    pub(crate) fn unary<O: UnaryOp>(&self, op: O, layout: &Layout) -> Storage {
        on_device!(self, s => s.unary(op, layout))
    }

    pub(crate) fn unary_inplace<O: UnaryOp>(&mut self, op: O, layout: &Layout) {
        on_device!(self, s => s.unary_inplace(op, layout); raw)
    }

    pub(crate) fn binary<O: BinaryOp>(
        &self,
        op: O,
        layout: &Layout,
        rhs: &Storage,
        rhs_layout: &Layout,
        shape: &Shape,
    ) -> Storage {
        on_devices!((self, a), (rhs, b) => Storage::Cpu(a.binary(op, layout, b, rhs_layout, shape)))
    }

    pub(crate) fn binary_scalar<O: BinaryOp>(
        &self,
        op: O,
        layout: &Layout,
        s: Scalar,
        reverse: bool,
    ) -> Storage {
        on_device!(self, b => b.binary_scalar(op, layout, s, reverse))
    }

    pub(crate) fn binary_inplace<O: BinaryOp>(
        &mut self,
        op: O,
        layout: &Layout,
        rhs: &Storage,
        rhs_layout: &Layout,
    ) {
        on_devices!((self, a), (rhs, b) => a.binary_inplace(op, layout, b, rhs_layout))
    }

    pub(crate) fn binary_scalar_inplace<O: BinaryOp>(&mut self, op: O, layout: &Layout, s: Scalar) {
        on_device!(self, b => b.binary_scalar_inplace(op, layout, s); raw)
    }

    pub(crate) fn compare<C: CmpOp>(
        &self,
        op: C,
        layout: &Layout,
        rhs: &Storage,
        rhs_layout: &Layout,
        shape: &Shape,
    ) -> Storage {
        on_devices!((self, a), (rhs, b) => Storage::Cpu(a.compare(op, layout, b, rhs_layout, shape)))
    }

    pub(crate) fn where_cond(
        &self,
        layout: &Layout,
        (a, la): (&Storage, &Layout),
        (b, lb): (&Storage, &Layout),
        shape: &Shape,
    ) -> Storage {
        on_devices!((self, c), (a, x), (b, y) => Storage::Cpu(c.where_cond(layout, x, la, y, lb, shape)))
    }

    pub(crate) fn sum(&self, layout: &Layout, plan: &ReducePlan) -> Storage {
        on_device!(self, s => s.sum(layout, plan))
    }

    pub(crate) fn extreme(
        &self,
        layout: &Layout,
        plan: &ReducePlan,
        max: bool,
    ) -> (Storage, Storage) {
        match self {
            Storage::Cpu(s) => {
                let (v, i) = s.extreme(layout, plan, max);
                (Storage::Cpu(v), Storage::Cpu(i))
            }
        }
    }

    pub(crate) fn var(
        &self,
        layout: &Layout,
        plan: &ReducePlan,
        correction: f64,
        take_sqrt: bool,
    ) -> Storage {
        on_device!(self, s => s.var(layout, plan, correction, take_sqrt))
    }

    pub(crate) fn logsumexp(&self, layout: &Layout, plan: &ReducePlan) -> Storage {
        on_device!(self, s => s.logsumexp(layout, plan))
    }

    pub(crate) fn softmax_last(&self, layout: &Layout, log: bool, safe: bool) -> Storage {
        on_device!(self, s => s.softmax_last(layout, log, safe))
    }

    pub(crate) fn cumulative_last(&self, layout: &Layout, prod: bool) -> Storage {
        on_device!(self, s => s.cumulative_last(layout, prod))
    }

    pub(crate) fn logcumsumexp_last(&self, layout: &Layout) -> Storage {
        on_device!(self, s => s.logcumsumexp_last(layout))
    }

    pub(crate) fn sort_last(&self, layout: &Layout, descending: bool) -> (Storage, Storage) {
        on_device!(self, s => {
            let (v, i) = s.sort_last(layout, descending);
            (Storage::Cpu(v), Storage::Cpu(i))
        }; raw)
    }

    pub(crate) fn softmax_backward_last(
        &self,
        layout: &Layout,
        (y, yl): (&Storage, &Layout),
    ) -> Storage {
        on_devices!((self, g), (y, ys) => Storage::Cpu(g.softmax_backward_last(layout, ys, yl)))
    }

    pub(crate) fn layer_norm(
        &self,
        layout: &Layout,
        weight: Option<(&Storage, &Layout)>,
        bias: Option<(&Storage, &Layout)>,
        n: usize,
        eps: f64,
    ) -> (Storage, Storage, Storage) {
        on_device!(self, s => {
            let (w, b) = (weight.map(cpu_operand), bias.map(cpu_operand));
            let (y, m, r) = s.layer_norm(layout, w, b, n, eps);
            (Storage::Cpu(y), Storage::Cpu(m), Storage::Cpu(r))
        }; raw)
    }

    pub(crate) fn layer_norm_backward(
        &self,
        layout: &Layout,
        a: LayerNormBackwardArgs<'_, Storage>,
    ) -> [Option<Storage>; 3] {
        let cpu = cpu_operand;
        on_device!(self, s => {
            let args = LayerNormBackwardArgs {
                input: cpu(a.input),
                mean: cpu(a.mean),
                rstd: cpu(a.rstd),
                weight: a.weight.map(cpu),
                n: a.n,
                needs: a.needs,
            };
            s.layer_norm_backward(layout, args).map(|g| g.map(Storage::Cpu))
        }; raw)
    }

    pub(crate) fn mse_loss(
        &self,
        layout: &Layout,
        (target, tl): (&Storage, &Layout),
        reduce: MseReduce,
    ) -> Storage {
        on_devices!((self, x), (target, t) => Storage::Cpu(x.mse_loss(layout, t, tl, reduce)))
    }

    pub(crate) fn mse_loss_backward(
        &self,
        layout: &Layout,
        input: (&Storage, &Layout),
        target: (&Storage, &Layout),
        norm: f64,
    ) -> Storage {
        let (x, y) = (cpu_operand(input), cpu_operand(target));
        on_device!(self, g => g.mse_loss_backward(layout, x, y, norm))
    }

    pub(crate) fn nll_loss(
        &self,
        layout: &Layout,
        (target, tl): (&Storage, &Layout),
        weight: Option<(&Storage, &Layout)>,
        ignore_index: i64,
    ) -> (Storage, Storage) {
        let weight = weight.map(|(w, l)| match w {
            Storage::Cpu(w) => (w, l),
        });
        on_devices!((self, x), (target, t) => {
            let (s, w) = x.nll_loss(layout, t, tl, weight, ignore_index);
            (Storage::Cpu(s), Storage::Cpu(w))
        })
    }

    pub(crate) fn matmul(
        &self,
        layout: &Layout,
        rhs: &Storage,
        rhs_layout: &Layout,
        init: Option<(&Storage, &Layout)>,
    ) -> Storage {
        on_devices!((self, a), (rhs, b) => {
            let init = init.map(|(c, l)| match c {
                Storage::Cpu(c) => (c, l),
            });
            Storage::Cpu(a.matmul(layout, b, rhs_layout, init))
        })
    }

    // --- convolution family (im2col / col2im)
    pub(crate) fn im2col(&self, layout: &Layout, geom: &Im2colGeometry) -> Storage {
        on_device!(self, s => s.im2col(layout, geom))
    }

    pub(crate) fn col2im(&self, layout: &Layout, geom: &Im2colGeometry) -> Storage {
        on_device!(self, s => s.col2im(layout, geom))
    }

    pub(crate) fn index_select(
        &self,
        layout: &Layout,
        dim: usize,
        index: &Storage,
        index_layout: &Layout,
    ) -> Storage {
        on_devices!((self, s), (index, i) => Storage::Cpu(s.index_select(layout, dim, i, index_layout)))
    }

    pub(crate) fn gather(
        &self,
        layout: &Layout,
        dim: usize,
        index: &Storage,
        index_layout: &Layout,
    ) -> Storage {
        on_devices!((self, s), (index, i) => Storage::Cpu(s.gather(layout, dim, i, index_layout)))
    }

    pub(crate) fn scatter_inplace(
        &mut self,
        layout: &Layout,
        dim: usize,
        (index, il): (&Storage, &Layout),
        (src, sl): (&Storage, &Layout),
        add: bool,
    ) {
        on_devices!((self, d), (index, i), (src, s) => d.scatter_inplace(layout, dim, i, il, s, sl, add))
    }

    pub(crate) fn index_add_inplace(
        &mut self,
        layout: &Layout,
        dim: usize,
        (index, il): (&Storage, &Layout),
        (src, sl): (&Storage, &Layout),
    ) {
        on_devices!((self, d), (index, i), (src, s) => d.index_add_inplace(layout, dim, i, il, s, sl))
    }

    pub(crate) fn uniform_inplace(
        &mut self,
        layout: &Layout,
        rng: &mut GeneratorState,
        from: f64,
        to: f64,
    ) {
        on_device!(self, s => s.uniform_inplace(layout, rng, from, to); raw)
    }

    pub(crate) fn normal_inplace(
        &mut self,
        layout: &Layout,
        rng: &mut GeneratorState,
        mean: f64,
        std: f64,
    ) {
        on_device!(self, s => s.normal_inplace(layout, rng, mean, std); raw)
    }

    pub(crate) fn bernoulli(&self, layout: &Layout, rng: &mut GeneratorState) -> Storage {
        on_device!(self, s => s.bernoulli(layout, rng))
    }

    pub(crate) fn bernoulli_scalar_inplace(
        &mut self,
        layout: &Layout,
        rng: &mut GeneratorState,
        p: f64,
    ) {
        on_device!(self, s => s.bernoulli_scalar_inplace(layout, rng, p); raw)
    }

    pub(crate) fn axpy_inplace(&mut self, layout: &Layout, x: &Storage, xl: &Layout, alpha: f64) {
        on_devices!((self, y), (x, x) => y.axpy_inplace(layout, x, xl, alpha))
    }

    pub(crate) fn addcmul_inplace(
        &mut self,
        layout: &Layout,
        (a, la): (&Storage, &Layout),
        (b, lb): (&Storage, &Layout),
        value: f64,
    ) {
        on_devices!((self, y), (a, a), (b, b) => y.addcmul_inplace(layout, (a, la), (b, lb), value))
    }

    pub(crate) fn addcdiv_inplace(
        &mut self,
        layout: &Layout,
        (a, la): (&Storage, &Layout),
        (b, lb): (&Storage, &Layout),
        value: f64,
    ) {
        on_devices!((self, y), (a, a), (b, b) => y.addcdiv_inplace(layout, (a, la), (b, lb), value))
    }

    pub(crate) fn lerp_inplace(
        &mut self,
        layout: &Layout,
        end: &Storage,
        el: &Layout,
        weight: f64,
    ) {
        on_devices!((self, y), (end, e) => y.lerp_inplace(layout, e, el, weight))
    }

    // ===== pooling family =====
    pub(crate) fn max_pool2d(&self, layout: &Layout, windows: &PoolWindows) -> (Storage, Storage) {
        on_device!(self, s => {
            let (v, i) = s.max_pool2d(layout, windows);
            (Storage::Cpu(v), Storage::Cpu(i))
        }; raw)
    }

    pub(crate) fn adaptive_max_pool2d(
        &self,
        layout: &Layout,
        output: [usize; 2],
    ) -> (Storage, Storage) {
        on_device!(self, s => {
            let (v, i) = s.adaptive_max_pool2d(layout, output);
            (Storage::Cpu(v), Storage::Cpu(i))
        }; raw)
    }

    pub(crate) fn max_pool2d_backward(
        &self,
        layout: &Layout,
        (indices, il): (&Storage, &Layout),
        plane_size: usize,
    ) -> Storage {
        on_devices!((self, g), (indices, i) => Storage::Cpu(g.max_pool2d_backward(layout, i, il, plane_size)))
    }

    pub(crate) fn avg_pool2d(
        &self,
        layout: &Layout,
        windows: &PoolWindows,
        divisor: AvgDivisor,
    ) -> Storage {
        on_device!(self, s => s.avg_pool2d(layout, windows, divisor))
    }

    pub(crate) fn avg_pool2d_backward(
        &self,
        layout: &Layout,
        windows: &PoolWindows,
        divisor: AvgDivisor,
    ) -> Storage {
        on_device!(self, s => s.avg_pool2d_backward(layout, windows, divisor))
    }

    pub(crate) fn adaptive_avg_pool2d(&self, layout: &Layout, output: [usize; 2]) -> Storage {
        on_device!(self, s => s.adaptive_avg_pool2d(layout, output))
    }

    pub(crate) fn adaptive_avg_pool2d_backward(
        &self,
        layout: &Layout,
        input: [usize; 2],
    ) -> Storage {
        on_device!(self, s => s.adaptive_avg_pool2d_backward(layout, input))
    }
    // ===== end of the pooling family =====

    pub(crate) fn adam_step(b: AdamBuffers<'_, Storage>, scalars: &AdamScalars) {
        let vmax = b.max_exp_avg_sq.map(|(s, l)| match s {
            Storage::Cpu(s) => (s, l),
        });
        match (b.param.0, b.grad.0, b.exp_avg.0, b.exp_avg_sq.0) {
            (Storage::Cpu(p), Storage::Cpu(g), Storage::Cpu(m), Storage::Cpu(v)) => {
                CpuStorage::adam_step(
                    AdamBuffers {
                        param: (p, b.param.1),
                        grad: (g, b.grad.1),
                        exp_avg: (m, b.exp_avg.1),
                        exp_avg_sq: (v, b.exp_avg_sq.1),
                        max_exp_avg_sq: vmax,
                    },
                    scalars,
                )
            }
        }
    }

    pub(crate) fn linalg(
        &self,
        layout: &Layout,
        op: crate::backend::LinalgOp,
        rhs: Option<(&Storage, &Layout)>,
    ) -> (Vec<Storage>, Vec<i64>) {
        let rhs = rhs.map(cpu_operand);
        let (outs, info) = on_device!(self, s => s.linalg(layout, op, rhs); raw);
        (outs.into_iter().map(Storage::Cpu).collect(), info)
    }
}

/// What views of one tensor share: the buffer behind a lock, and the version counter that in-place
/// operations bump (PyTorch shares the counter between a tensor and all its views).
pub(crate) struct StorageCell {
    data: RwLock<Storage>,
    /// The buffer bytes counted as live by the allocator's cache (its budget), given back on drop.
    counted: usize,
    version: AtomicU64,
    /// How many times an in-place operation under autograd gave the owner of this storage (or a
    /// view of it) a new `grad_fn`; views whose graph position predates that are regenerated.
    rebases: AtomicU64,
}

impl StorageCell {
    #[inline]
    pub fn new(storage: Storage) -> Arc<StorageCell> {
        let counted = match &storage {
            Storage::Cpu(s) => buffer_pool::storage_made(s.capacity_bytes()),
        };
        Arc::new(StorageCell {
            data: RwLock::new(storage),
            counted,
            version: AtomicU64::new(0),
            rebases: AtomicU64::new(0),
        })
    }

    /// Read access to the buffer. Taking one lock alone can never deadlock; an operation that
    /// needs several storages takes them through [`lock`].
    pub fn read(&self) -> RwLockReadGuard<'_, Storage> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Write access to the buffer (one storage alone; see [`lock`] for several).
    pub fn write(&self) -> RwLockWriteGuard<'_, Storage> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    pub fn bump_version(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    pub fn rebases(&self) -> u64 {
        self.rebases.load(Ordering::Acquire)
    }

    pub fn bump_rebases(&self) {
        self.rebases.fetch_add(1, Ordering::AcqRel);
    }

    fn address(&self) -> usize {
        self as *const StorageCell as usize
    }
}

/// The last tensor or view of the storage is gone: its buffer goes back to the allocator's cache,
/// to be the output of a later operation of the same size.
impl Drop for StorageCell {
    fn drop(&mut self) {
        // Only buffers counted at creation are large enough to keep (a storage never grows).
        if self.counted == 0 {
            return;
        }
        buffer_pool::storage_freed(self.counted);
        let data = self.data.get_mut().unwrap_or_else(|e| e.into_inner());
        match std::mem::replace(data, Storage::Cpu(CpuStorage::Bool(Vec::new()))) {
            Storage::Cpu(s) => s.recycle(),
        }
    }
}

/// Locks one storage for writing and another for reading (the common in-place case, without
/// `lock`'s bookkeeping), in the same global address order.
pub(crate) fn lock_write_read<'a>(
    dst: &'a StorageCell,
    src: &'a StorageCell,
) -> (RwLockWriteGuard<'a, Storage>, RwLockReadGuard<'a, Storage>) {
    assert!(
        dst.address() != src.address(),
        "a storage is read and written by one operation"
    );
    if dst.address() < src.address() {
        let w = dst.write();
        (w, src.read())
    } else {
        let r = src.read();
        (dst.write(), r)
    }
}

/// Read access to two storages for one operation: a storage shared by both is locked once, two
/// distinct ones in address order (the global lock order of `storage::lock`).
pub(crate) enum ReadPair<'a> {
    One(RwLockReadGuard<'a, Storage>),
    Two(RwLockReadGuard<'a, Storage>, RwLockReadGuard<'a, Storage>),
}

impl<'a> ReadPair<'a> {
    #[track_caller]
    pub fn new(a: &'a StorageCell, b: &'a StorageCell) -> ReadPair<'a> {
        let (pa, pb) = (a as *const StorageCell, b as *const StorageCell);
        if pa == pb {
            ReadPair::One(a.read())
        } else if pa < pb {
            let ga = a.read();
            ReadPair::Two(ga, b.read())
        } else {
            let gb = b.read();
            ReadPair::Two(a.read(), gb)
        }
    }

    /// The two storages, in the order given.
    #[track_caller]
    pub fn get(&self) -> (&Storage, &Storage) {
        match self {
            ReadPair::One(g) => (g, g),
            ReadPair::Two(a, b) => (a, b),
        }
    }
}

enum Guard<'a> {
    Read(RwLockReadGuard<'a, Storage>),
    Write(RwLockWriteGuard<'a, Storage>),
}

/// The locks of one operation over several storages (see [`lock`]).
pub(crate) struct Locked<'a> {
    /// One guard per distinct storage, in address order.
    guards: SmallVec<[Guard<'a>; 4]>,
    /// For each written storage, in the order given, its guard.
    write_slots: SmallVec<[usize; 4]>,
    /// For each read storage, in the order given, its guard.
    read_slots: SmallVec<[usize; 4]>,
}

/// Locks `writes` for writing and `reads` for reading for one operation: each distinct storage
/// once, all in one global order (by address), so that no two operations, on any threads, can
/// wait on each other. A storage both written and read (or written twice) is a caller's bug:
/// callers copy a source that aliases its destination before locking.
pub(crate) fn lock<'a>(writes: &[&'a StorageCell], reads: &[&'a StorageCell]) -> Locked<'a> {
    let mut cells: SmallVec<[(usize, &'a StorageCell, bool); 4]> = SmallVec::new();
    for &w in writes {
        assert!(
            !cells.iter().any(|(a, _, _)| *a == w.address()),
            "a storage is written twice by one operation"
        );
        cells.push((w.address(), w, true));
    }
    for &r in reads {
        match cells.iter().find(|(a, _, _)| *a == r.address()) {
            Some((_, _, write)) => {
                assert!(!write, "a storage is read and written by one operation")
            }
            None => cells.push((r.address(), r, false)),
        }
    }
    cells.sort_by_key(|(a, _, _)| *a);
    let slot = |cell: &StorageCell| {
        cells
            .iter()
            .position(|(a, _, _)| *a == cell.address())
            .expect("locked")
    };
    let write_slots = writes.iter().map(|w| slot(w)).collect();
    let read_slots = reads.iter().map(|r| slot(r)).collect();
    let guards = cells
        .iter()
        .map(|&(_, cell, write)| {
            if write {
                Guard::Write(cell.write())
            } else {
                Guard::Read(cell.read())
            }
        })
        .collect();
    Locked {
        guards,
        write_slots,
        read_slots,
    }
}

impl Locked<'_> {
    /// The written storages and the read ones, each in the order given to [`lock`].
    pub fn parts(&mut self) -> (SmallVec<[&mut Storage; 4]>, SmallVec<[&Storage; 4]>) {
        let mut muts: SmallVec<[Option<&mut Storage>; 4]> = SmallVec::new();
        let mut shared: SmallVec<[Option<&Storage>; 4]> = SmallVec::new();
        for g in self.guards.iter_mut() {
            match g {
                Guard::Write(w) => {
                    muts.push(Some(&mut **w));
                    shared.push(None);
                }
                Guard::Read(r) => {
                    muts.push(None);
                    shared.push(Some(&**r));
                }
            }
        }
        let writes = self
            .write_slots
            .iter()
            .map(|&i| muts[i].take().expect("each storage is written once"))
            .collect();
        let reads = self
            .read_slots
            .iter()
            .map(|&i| shared[i].expect("read storages are not written"))
            .collect();
        (writes, reads)
    }

    /// The read storages, in the order given to [`lock`].
    pub fn reads(&mut self) -> SmallVec<[&Storage; 4]> {
        self.parts().1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_each_storage_once_in_one_order() {
        let a = StorageCell::new(Storage::from_vec(vec![1.0f32]));
        let b = StorageCell::new(Storage::from_vec(vec![2.0f32]));
        // The same storage read twice is locked once; writes and reads come back in order.
        {
            let mut l = lock(&[&b], &[&a, &a]);
            let (w, r) = l.parts();
            assert_eq!(w.len(), 1);
            assert_eq!(r.len(), 2);
            assert_eq!(
                r[0].to_vec::<f32>(&Layout::contiguous(Shape::new(&[1]))),
                vec![1.0]
            );
        }
        let err = std::panic::catch_unwind(|| {
            let _ = lock(&[&a], &[&a]);
        });
        assert!(err.is_err());
    }
}
