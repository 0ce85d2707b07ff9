//! The one place CPU buffers are allocated. Every kernel's output comes from here: large requests
//! are served from the cache of freed buffers first (`buffer_pool`), and a failed allocation
//! panics with PyTorch's message instead of aborting the process.

use super::buffer_pool;
use crate::dtype::Element;

/// PyTorch's message when the allocator refuses a request.
#[cold]
#[track_caller]
fn out_of_memory(bytes: usize) -> ! {
    panic!(
        "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to allocate {bytes} bytes. Error code 12 (Cannot allocate memory)"
    )
}

/// An empty vector with room for `n` elements, to be filled by pushing.
#[inline]
#[track_caller]
pub(crate) fn buffer<T>(n: usize) -> Vec<T> {
    if let Some(v) = reused(n) {
        return v;
    }
    let mut v = Vec::new();
    if v.try_reserve_exact(n).is_err() {
        out_of_memory(n.saturating_mul(std::mem::size_of::<T>()));
    }
    fresh(&v);
    v
}

/// An empty vector with room for exactly `n` elements from the cache of freed buffers, if it
/// holds one of that size.
#[inline]
fn reused<T>(n: usize) -> Option<Vec<T>> {
    let bytes = n.checked_mul(std::mem::size_of::<T>())?;
    if bytes < buffer_pool::MIN_POOLED_BYTES {
        return None;
    }
    let layout = std::alloc::Layout::array::<T>(n).ok()?;
    let ptr = buffer_pool::take(layout)?;
    // SAFETY: the block was a vector's buffer, allocated by the global allocator with exactly
    // `layout`, which is the layout of `n` elements of `T` (same size and alignment), and the
    // cache gave up its ownership; a length of 0 needs no initialised elements.
    Some(unsafe { Vec::from_raw_parts(ptr.as_ptr() as *mut T, 0, n) })
}

/// Tells the cache a large buffer was allocated fresh, so it frees what no longer fits.
#[inline]
fn fresh<T>(v: &Vec<T>) {
    let bytes = v.capacity() * std::mem::size_of::<T>();
    if bytes >= buffer_pool::MIN_POOLED_BYTES {
        buffer_pool::trim(bytes);
    }
}

/// `n` zeros, from zeroed memory (the all-zero bit pattern is zero, or false, for every element
/// type), so large buffers cost no write pass.
#[inline]
#[track_caller]
pub(crate) fn zeroed<T: Element>(n: usize) -> Vec<T> {
    if n == 0 || std::mem::size_of::<T>() == 0 {
        return Vec::new();
    }
    if let Some(mut v) = reused::<T>(n) {
        // SAFETY: the buffer has room for `n` elements; writing zero bytes over them makes each
        // a valid value (0, 0.0, false) before the length covers them.
        unsafe {
            std::ptr::write_bytes(v.as_mut_ptr(), 0, n);
            v.set_len(n);
        }
        return v;
    }
    let layout = std::alloc::Layout::array::<T>(n)
        .unwrap_or_else(|_| out_of_memory(n.saturating_mul(std::mem::size_of::<T>())));
    // SAFETY: the layout has a non-zero size; a non-null pointer from `alloc_zeroed` with the
    // layout of `[T; n]` is what `Vec::from_raw_parts` expects, and all-zero bytes are a valid
    // value of every element type (0, 0.0, false).
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout) as *mut T;
        if ptr.is_null() {
            out_of_memory(layout.size());
        }
        let v = Vec::from_raw_parts(ptr, n, n);
        fresh(&v);
        v
    }
}

/// Keeps a dropped storage's buffer for reuse (small ones are simply freed).
#[inline]
pub(crate) fn recycle<T>(v: Vec<T>) {
    buffer_pool::recycle(v)
}

/// `n` copies of `value`.
#[inline]
#[track_caller]
pub(crate) fn filled<T: Copy>(n: usize, value: T) -> Vec<T> {
    let mut v = buffer(n);
    v.resize(n, value);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycled_buffers_are_reused_and_zeroed() {
        buffer_pool::tests::make_room();
        // Sizes no other test asks for: the cache is shared by the test process.
        let mut v = filled::<f64>(70_001, 3.5);
        v[0] = f64::NAN;
        let p = v.as_ptr();
        recycle(v);
        let z = zeroed::<f64>(70_001);
        assert_eq!(z.as_ptr(), p, "the freed buffer is handed out again");
        assert!(z.iter().all(|&x| x.to_bits() == 0));
        recycle(z);
        // Same bytes and alignment, another element type (int64 after float64).
        let b = buffer::<i64>(70_001);
        assert_eq!(
            (b.as_ptr() as *const f64, b.len(), b.capacity()),
            (p, 0, 70_001)
        );
        // A float32 buffer of the same byte size has another alignment: never mixed.
        recycle(b);
        let f = buffer::<f32>(140_002);
        assert_ne!(f.as_ptr() as *const f64, p);
    }

    #[test]
    fn threads_share_the_cache_safely() {
        buffer_pool::tests::make_room();
        std::thread::scope(|s| {
            for t in 0..4 {
                s.spawn(move || {
                    for i in 0..200 {
                        let n = 20_000 + 1000 * t + i % 3;
                        let mut v = zeroed::<f32>(n);
                        assert!(v.iter().all(|&x| x == 0.0));
                        v.fill(t as f32 + 1.0);
                        recycle(v);
                        let w = filled::<i64>(n, -1);
                        assert!(w.iter().all(|&x| x == -1));
                        recycle(w);
                    }
                });
            }
        });
    }

    #[test]
    fn zeroed_buffers_hold_zeros_of_each_type() {
        assert_eq!(zeroed::<f32>(3), vec![0.0; 3]);
        assert_eq!(zeroed::<i64>(2), vec![0; 2]);
        assert_eq!(zeroed::<bool>(2), vec![false; 2]);
        assert!(zeroed::<f64>(0).is_empty());
    }

    #[test]
    fn an_impossible_allocation_panics_with_torch_message() {
        let err = std::panic::catch_unwind(|| buffer::<f32>(1 << 60)).unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(
            msg.contains("DefaultCPUAllocator: can't allocate memory: you tried to allocate 4611686018427387904 bytes"),
            "{msg}"
        );
        assert!(std::panic::catch_unwind(|| std::hint::black_box(zeroed::<f64>(1 << 59))).is_err());
    }
}
