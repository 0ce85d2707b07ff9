//! A cache of freed CPU buffers, so that a training loop stops paying the kernel for its memory
//! every step.
//!
//! Without it, every output is a fresh allocation and the allocator gives large freed blocks back
//! to the kernel (`munmap`, or trimming the heap top); the next step faults the same memory in
//! again, which costs a zeroed page, a page fault and, on unmapping, TLB shootdowns on every core
//! (a third of a small CNN's step). PyTorch's CPU allocator has the same cost with glibc; its CUDA
//! caching allocator is the model here: blocks freed by tensors are kept by exact byte size and
//! handed to the next request of that size.
//!
//! What is kept: blocks of at least [`MIN_POOLED_BYTES`] freed when the last tensor sharing a
//! storage drops (smaller ones are cheap for the allocator, which keeps them in its own bins).
//! How much: live storage bytes plus cached bytes stay within 5/4 of the highest live total seen
//! (the oldest blocks are freed first beyond that), and at most [`MAX_BLOCKS`] blocks are kept, so
//! the cache never holds more than a quarter over the program's own peak. Thread safety: one
//! mutex, a leaf lock held only to push or pop a block (never while taking another lock, and
//! blocks are freed after it is released).

use std::alloc::Layout;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The smallest block worth caching. Below this, glibc serves requests from its bins without
/// system calls.
pub(crate) const MIN_POOLED_BYTES: usize = 64 * 1024;

/// At most this many cached blocks, so a lookup (a scan of the cache) stays short.
pub(crate) const MAX_BLOCKS: usize = 256;

/// One cached allocation, owned: made by the global allocator with `layout`.
struct Block {
    ptr: NonNull<u8>,
    layout: Layout,
}

// SAFETY: a block is the sole owner of its allocation (like a `Box<[u8]>`), so it may move to
// and be freed on any thread.
unsafe impl Send for Block {}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: `ptr` was allocated by the global allocator with exactly `layout` (it was a
        // vector's buffer) and nothing else owns it.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// The cached blocks, oldest first, and their total size.
struct Cache {
    blocks: Vec<Block>,
    bytes: usize,
}

static CACHE: Mutex<Cache> = Mutex::new(Cache {
    blocks: Vec::new(),
    bytes: 0,
});

/// Bytes of pooled-size buffers held by live storages now, and the most ever.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn cache() -> MutexGuard<'static, Cache> {
    // A panic while the lock is held leaves the cache consistent (push and pop are single
    // steps), so a poisoned lock is still usable.
    CACHE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Counts `bytes` of a storage that became shared by tensors (see [`storage_freed`]); returns
/// what was counted, which the owner hands back when it drops.
#[inline]
pub(crate) fn storage_made(bytes: usize) -> usize {
    if bytes < MIN_POOLED_BYTES {
        return 0;
    }
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
    bytes
}

/// Uncounts what [`storage_made`] counted.
#[inline]
pub(crate) fn storage_freed(counted: usize) {
    if counted != 0 {
        LIVE.fetch_sub(counted, Ordering::Relaxed);
    }
}

/// How many bytes the cache may hold now: live plus cached within 5/4 of the peak.
fn budget() -> usize {
    let peak = PEAK.load(Ordering::Relaxed);
    let live = LIVE.load(Ordering::Relaxed);
    (peak + peak / 4).saturating_sub(live)
}

/// Frees the oldest blocks until the cache fits `budget` and has room for one more block;
/// returns them, to be freed after the lock is released.
fn evict(c: &mut Cache, budget: usize) -> Vec<Block> {
    let mut n = 0;
    let mut bytes = c.bytes;
    while n < c.blocks.len() && (bytes > budget || c.blocks.len() - n > MAX_BLOCKS) {
        bytes -= c.blocks[n].layout.size();
        n += 1;
    }
    c.bytes = bytes;
    c.blocks.drain(..n).collect()
}

/// A cached block of exactly `layout`, newest first (its memory is likelier to be in cache).
#[inline]
pub(crate) fn take(layout: Layout) -> Option<NonNull<u8>> {
    if layout.size() < MIN_POOLED_BYTES {
        return None;
    }
    let mut c = cache();
    let i = c.blocks.iter().rposition(|b| b.layout == layout)?;
    let b = c.blocks.remove(i);
    c.bytes -= layout.size();
    drop(c);
    let b = std::mem::ManuallyDrop::new(b);
    Some(b.ptr)
}

/// Keeps a vector's buffer for reuse (or frees it, when small or over budget).
#[inline]
pub(crate) fn recycle<T>(v: Vec<T>) {
    let bytes = v.capacity() * std::mem::size_of::<T>();
    if bytes < MIN_POOLED_BYTES {
        return;
    }
    let mut v = std::mem::ManuallyDrop::new(v);
    let block = Block {
        // A vector's pointer is never null.
        ptr: NonNull::new(v.as_mut_ptr() as *mut u8).expect("a vector's buffer"),
        // A vector with this capacity exists, so its array layout is valid.
        layout: Layout::array::<T>(v.capacity()).expect("a vector's layout"),
    };
    let budget = budget();
    let evicted = {
        let mut c = cache();
        c.bytes += bytes;
        c.blocks.push(block);
        evict(&mut c, budget)
    };
    drop(evicted);
}

/// Frees what no longer fits after a fresh allocation of `bytes` (the live total is about to grow
/// by that much).
#[cold]
pub(crate) fn trim(bytes: usize) {
    let budget = budget().saturating_sub(bytes);
    let evicted = {
        let mut c = cache();
        if c.bytes <= budget {
            return;
        }
        evict(&mut c, budget)
    };
    drop(evicted);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// How many cached blocks have `layout` (tests use sizes no other test allocates, since the
    /// cache is shared by the whole test process).
    fn holds(layout: Layout) -> usize {
        cache().blocks.iter().filter(|b| b.layout == layout).count()
    }

    fn block(bytes: usize) -> Block {
        let layout = Layout::from_size_align(bytes, 8).unwrap();
        // SAFETY: a non-zero size.
        let ptr = NonNull::new(unsafe { std::alloc::alloc(layout) }).unwrap();
        Block { ptr, layout }
    }

    /// Raises the peak far above anything the tests hold, so the budget keeps what they recycle.
    pub(crate) fn make_room() {
        storage_freed(storage_made(1 << 30));
    }

    #[test]
    fn a_recycled_buffer_is_handed_out_again() {
        make_room();
        let v: Vec<u16> = Vec::with_capacity(40_001);
        let layout = Layout::array::<u16>(40_001).unwrap();
        let p = v.as_ptr() as *mut u8;
        recycle(v);
        assert!(holds(layout) >= 1);
        let got = take(layout).expect("a cached block");
        assert_eq!(got.as_ptr(), p, "the newest block of the size comes back");
        // SAFETY: the block has `layout`, which is `[u16; 40_001]`'s.
        drop(unsafe { Vec::from_raw_parts(got.as_ptr() as *mut u16, 0, 40_001) });
        // Small buffers are not kept.
        let small: Vec<u8> = Vec::with_capacity(MIN_POOLED_BYTES - 1);
        recycle(small);
        assert_eq!(holds(Layout::array::<u8>(MIN_POOLED_BYTES - 1).unwrap()), 0);
    }

    #[test]
    fn eviction_frees_the_oldest_beyond_the_budget_and_the_count() {
        let mut c = Cache {
            blocks: vec![block(100), block(200), block(300)],
            bytes: 600,
        };
        let gone = evict(&mut c, 500);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].layout.size(), 100);
        assert_eq!(c.bytes, 500);
        assert_eq!(evict(&mut c, 0).len(), 2);
        assert_eq!((c.blocks.len(), c.bytes), (0, 0));
        let mut c = Cache {
            blocks: (0..MAX_BLOCKS + 3).map(|_| block(8)).collect(),
            bytes: 8 * (MAX_BLOCKS + 3),
        };
        assert_eq!(evict(&mut c, usize::MAX).len(), 3);
        assert_eq!(c.blocks.len(), MAX_BLOCKS);
    }
}
