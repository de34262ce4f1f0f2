//! The engine's allocator: rquickjs's `RustAllocator` with the run's memory limit
//! and a check of the run's deadline.
//!
//! Owning the allocator, instead of using QuickJS's own `malloc_limit`, gives two
//! things QuickJS cannot: an exact signal that the memory limit (and not something
//! the script threw) stopped the run, and a way to stop native work between the
//! engine's interrupt checks. QuickJS asks its interrupt handler only every 10,000
//! calls and backward jumps; a loop whose every turn is a costly built-in (a failing
//! `new Array(1e6).fill(1)`, a 100 kB `repeat`) would otherwise keep the engine busy
//! for seconds or minutes past the deadline. Once the run must stop, every new
//! allocation fails, so such built-ins fail at once and the next check comes soon.

use std::ptr;
use std::sync::Arc;

use rquickjs::allocator::{Allocator, RustAllocator};

use crate::engine::{Abort, Shared};

/// The deadline is read every this many allocations (and for every large one):
/// reading the clock costs about as much as a small allocation.
const CLOCK_EVERY: u32 = 64;

/// Allocations from this size on read the clock every time.
const LARGE: usize = 64 * 1024;

/// No single request above this is ever passed on: it cannot fit any sane limit,
/// and `RustAllocator`'s size arithmetic must not come near overflowing.
const MAX_REQUEST: usize = isize::MAX as usize / 2;

pub(crate) struct LimitedAllocator {
    inner: RustAllocator,
    shared: Arc<Shared>,
    limit: usize,
    used: usize,
    since_clock: u32,
}

impl LimitedAllocator {
    pub(crate) fn new(shared: Arc<Shared>, limit: usize) -> Self {
        Self {
            inner: RustAllocator,
            shared,
            limit,
            used: 0,
            since_clock: 0,
        }
    }

    /// Whether `extra` more bytes may be allocated now. Refusing is always allowed
    /// (QuickJS then throws "out of memory"), so every doubt refuses.
    fn admit(&mut self, extra: usize) -> bool {
        if extra > MAX_REQUEST {
            return false;
        }
        // Checked first: the interrupt's own error must be allocated even when the
        // memory is full or the run is stopping (see `Shared::grant_grace`).
        if self.shared.take_grace(extra) {
            return true;
        }
        if self.shared.refusing() {
            return false;
        }
        self.since_clock += 1;
        if self.since_clock >= CLOCK_EVERY || extra >= LARGE {
            self.since_clock = 0;
            if self.shared.past_deadline() {
                self.shared.raise(Abort::Timeout);
                return false;
            }
        }
        if self.used.saturating_add(extra) > self.limit {
            self.shared.raise(Abort::OutOfMemory);
            return false;
        }
        true
    }
}

// SAFETY: every allocation is made, resized, measured and freed by `RustAllocator`,
// which meets the `Allocator` contract. This wrapper only refuses some requests by
// returning null, which the contract allows, and counts sizes; it never touches the
// memory itself.
#[allow(unsafe_code)]
unsafe impl Allocator for LimitedAllocator {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        if !self.admit(size) {
            return ptr::null_mut();
        }
        let ptr = self.inner.alloc(size);
        if !ptr.is_null() {
            // SAFETY: `ptr` was just returned by `RustAllocator` and is live.
            let usable = unsafe { Self::usable_size(ptr) };
            self.used = self.used.saturating_add(usable);
        }
        ptr
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        // `RustAllocator::calloc` panics on overflow, and a panic must not cross
        // into C: refuse overflowing requests here.
        let Some(total) = count.checked_mul(size) else {
            return ptr::null_mut();
        };
        if !self.admit(total) {
            return ptr::null_mut();
        }
        let ptr = self.inner.calloc(count, size);
        if !ptr.is_null() {
            // SAFETY: `ptr` was just returned by `RustAllocator` and is live.
            let usable = unsafe { Self::usable_size(ptr) };
            self.used = self.used.saturating_add(usable);
        }
        ptr
    }

    unsafe fn dealloc(&mut self, ptr: *mut u8) {
        // SAFETY (both): the caller guarantees `ptr` came from this allocator, i.e.
        // from `RustAllocator`, and is live until this call frees it.
        let usable = unsafe { Self::usable_size(ptr) };
        self.used = self.used.saturating_sub(usable);
        unsafe { self.inner.dealloc(ptr) }
    }

    unsafe fn realloc(&mut self, ptr: *mut u8, new_size: usize) -> *mut u8 {
        // QuickJS never reallocates null (it allocates instead), but the contract
        // does not say so.
        if ptr.is_null() {
            return self.alloc(new_size);
        }
        // SAFETY: the caller guarantees `ptr` came from this allocator and is live.
        let old = unsafe { Self::usable_size(ptr) };
        // Shrinking is always fine; growing counts only the growth.
        if new_size > old && !self.admit(new_size - old) {
            return ptr::null_mut();
        }
        // SAFETY: the caller guarantees `ptr` came from this allocator and is live.
        let new = unsafe { self.inner.realloc(ptr, new_size) };
        if !new.is_null() {
            // SAFETY: `new` was just returned by `RustAllocator` and is live.
            let usable = unsafe { Self::usable_size(new) };
            self.used = self.used.saturating_sub(old).saturating_add(usable);
        }
        new
    }

    unsafe fn usable_size(ptr: *mut u8) -> usize {
        // SAFETY: the caller guarantees `ptr` came from this allocator and is live.
        unsafe { RustAllocator::usable_size(ptr) }
    }
}
