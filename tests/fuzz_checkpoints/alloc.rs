//! A counting global allocator: while a thread has tracking on, it counts the bytes that thread
//! holds (allocated minus freed since tracking began) and their peak, and refuses a request
//! that would take it past the thread's limit by more than `HARD_MARGIN` (so the fuzz loop never
//! really asks the system for a terabyte: the loader sees a failed allocation instead).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct Counting;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    static LIMIT: Cell<isize> = const { Cell::new(isize::MAX) };
    static LARGEST_OVER: Cell<usize> = const { Cell::new(0) };
}

/// Called (with tracking off) before a request is refused: a refused request may abort the
/// process, so this is where the input in flight is saved.
pub static ON_REFUSE: std::sync::OnceLock<fn(usize)> = std::sync::OnceLock::new();

/// Requests this far past the limit are refused rather than made.
const HARD_MARGIN: isize = 64 << 20;

/// What one tracked call allocated.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    /// The peak of bytes held at once.
    pub peak: usize,
    /// The largest single request that went over the limit (0 if none did).
    pub largest_over: usize,
}

/// Runs `f` with tracking on and `limit` bytes allowed at once on this thread.
pub fn track<T>(limit: usize, f: impl FnOnce() -> T) -> (T, Usage) {
    LIVE.with(|c| c.set(0));
    PEAK.with(|c| c.set(0));
    LARGEST_OVER.with(|c| c.set(0));
    LIMIT.with(|c| c.set(limit.min(isize::MAX as usize) as isize));
    TRACKING.with(|c| c.set(true));
    struct Off;
    impl Drop for Off {
        fn drop(&mut self) {
            TRACKING.with(|c| c.set(false));
        }
    }
    let off = Off;
    let out = f();
    drop(off);
    let usage = Usage {
        peak: PEAK.with(|c| c.get()).max(0) as usize,
        largest_over: LARGEST_OVER.with(|c| c.get()),
    };
    (out, usage)
}

/// Counts `size` more bytes; false when the request must be refused.
fn grow(size: usize) -> bool {
    let Ok(true) = TRACKING.try_with(|c| c.get()) else {
        return true;
    };
    let live = LIVE
        .with(|c| c.get())
        .saturating_add(size.min(isize::MAX as usize) as isize);
    let limit = LIMIT.with(|c| c.get());
    if live > limit {
        LARGEST_OVER.with(|c| c.set(c.get().max(size)));
        if live > limit.saturating_add(HARD_MARGIN) {
            if let Some(hook) = ON_REFUSE.get() {
                TRACKING.with(|c| c.set(false));
                hook(size);
                TRACKING.with(|c| c.set(true));
            }
            return false;
        }
    }
    LIVE.with(|c| c.set(live));
    PEAK.with(|c| c.set(c.get().max(live)));
    true
}

fn shrink(size: usize) {
    if let Ok(true) = TRACKING.try_with(|c| c.get()) {
        LIVE.with(|c| c.set(c.get() - size.min(isize::MAX as usize) as isize));
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !grow(layout.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !grow(layout.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrink(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() && !grow(new_size - layout.size()) {
            return std::ptr::null_mut();
        }
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            if new_size > layout.size() {
                shrink(new_size - layout.size());
            }
        } else if new_size < layout.size() {
            shrink(layout.size() - new_size);
        }
        p
    }
}
