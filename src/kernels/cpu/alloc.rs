//! The one place CPU buffers are allocated. Every kernel's output comes from here, which is where
//! buffer reuse would plug in; a failed allocation panics with PyTorch's message instead of
//! aborting the process.

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
    let mut v = Vec::new();
    if v.try_reserve_exact(n).is_err() {
        out_of_memory(n.saturating_mul(std::mem::size_of::<T>()));
    }
    v
}

/// `n` zeros, from zeroed memory (the all-zero bit pattern is zero, or false, for every element
/// type), so large buffers cost no write pass.
#[inline]
#[track_caller]
pub(crate) fn zeroed<T: Element>(n: usize) -> Vec<T> {
    if n == 0 || std::mem::size_of::<T>() == 0 {
        return Vec::new();
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
        Vec::from_raw_parts(ptr, n, n)
    }
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
