#pragma once
// The heap LibTorch's start-up allocates into, backed by transparent huge pages.
//
// Before main, LibTorch's libraries run their static initialisers: ~40 MB of small allocations
// (the dispatcher's operator tables), which fault in ~10,000 fresh 4 KiB pages one by one. On the VM
// we measure on that was ~0.1 s of the 0.6-0.7 s before main. A function in the executable's
// .preinit_array runs before any shared library's initialiser (ELF gABI; glibc's _dl_init). Linking
// this unit puts one there: it grows malloc's heap once by kStartupHeapPad and asks the kernel for
// huge pages over it (madvise MADV_HUGEPAGE: Debian's kernels default to THP "madvise", so nothing
// else gets them). Measured, an empty main linked to LibTorch: 17,250 -> 6,000-6,500 page faults,
// 0.63-0.74 s -> 0.52-0.58 s, peak RSS +3 MB.
//
// Set LATENT_HEAP_HUGEPAGES=0 to leave the heap alone (e.g. to measure the difference). Sanitizer
// builds leave it alone too: their allocators do not use malloc's brk heap.
#include <cstddef>

namespace latent {

inline constexpr std::size_t kStartupHeapPad = std::size_t(64) << 20;

// What the pre-main step did: the bytes of heap it advised (0: nothing, see `why`).
struct StartupHeap {
  const void* begin = nullptr;  // the advised range: [begin, begin + advised_bytes)
  std::size_t advised_bytes = 0;
  const char* why = "";  // "advised", or why not
};
const StartupHeap& startup_heap();

// Call first thing in main: malloc's top pad goes back to glibc's default (128 KiB), so what is
// freed at the top of the heap is returned to the system as before. The advised range stays advised.
void end_startup_heap();

}  // namespace latent
