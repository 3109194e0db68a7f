//! What a `no_std` contract needs on wasm32: a global allocator and a panic handler.
//!
//! The allocator is a bump allocator that never frees: every call runs in a fresh instance whose
//! memory is discarded when the call ends, so freeing would only cost fuel. It grows memory a
//! page at a time and returns null (an allocation failure, which aborts) at the VM's limit.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

const PAGE_BYTES: usize = 64 * 1024;

struct BumpAllocator {
    next: AtomicUsize,
}

#[allow(unsafe_code)]
unsafe extern "C" {
    /// First free address after the data and stack, placed by the linker.
    static __heap_base: u8;
}

#[allow(unsafe_code)]
// SAFETY: `alloc` hands out disjoint, correctly aligned ranges inside linear memory (growing it
// first when needed) and never hands out the same range twice; `dealloc` does nothing, which
// is always sound. Contracts are single-threaded.
unsafe impl GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut next = self.next.load(Ordering::Relaxed);
        if next == 0 {
            next = &raw const __heap_base as usize;
        }
        let start = (next + layout.align() - 1) & !(layout.align() - 1);
        let Some(end) = start.checked_add(layout.size()) else {
            return core::ptr::null_mut();
        };
        let available = core::arch::wasm32::memory_size(0) * PAGE_BYTES;
        if end > available {
            let pages = (end - available).div_ceil(PAGE_BYTES);
            if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
                return core::ptr::null_mut();
            }
        }
        self.next.store(end, Ordering::Relaxed);
        start as *mut u8
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOCATOR: BumpAllocator = BumpAllocator {
    next: AtomicUsize::new(0),
};

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let message = alloc::format!("panicked: {}", info.message());
    crate::sys::revert(message.as_bytes())
}
