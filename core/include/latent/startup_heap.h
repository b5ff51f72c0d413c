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

// malloc's thresholds for the rest of a run: blocks of mmap_threshold bytes and more get their own
// mapping, returned whole when freed; the heap's top is given back beyond trim_threshold.
struct HeapPolicy {
  std::size_t mmap_threshold, trim_threshold;
};
// latent-train: a step's temporaries come from the heap and stay there between steps. OpenBLAS
// allocates a 516 KiB job array per threaded GEMM; as a mapping of its own, each was an munmap, a
// TLB shootdown across the threads (--threads 2 trained at 18,100 samples/s instead of
// 30,500-31,400). The autograd step allocates every layer's output afresh: the conv model's are
// 0.5-3 MB a batch, and as mappings of their own each was faulted in page by page at every step
// (1,390-1,450 samples/s against 2,360-2,550 with blocks under 64 MiB from the heap, bench in
// docs/benchmarks.md). The heap's top is kept up to 128 MiB, so that what a step freed is not
// returned and faulted in again by the next; the MLP's hand-written step allocates nothing either way.
inline constexpr HeapPolicy kTrainerHeap{std::size_t(64) << 20, std::size_t(128) << 20};
// latent-explorer: its weight copies (4 MB, up to 10 a second, some kept by the timeline) pinned the
// heap under glibc's adaptive threshold: RSS less the timeline crept from 570 to 648 MiB in 8
// minutes. With 256 KiB (and glibc's default trim, 128 KiB), 10 minutes, less the timeline and the
// loss history: 408 -> 421 MiB, malloc's freed-but-kept memory 3-4 MiB; with kTrainerHeap's
// thresholds 412 -> 438 MiB and 12-46 MiB (bench/explorer --minutes 10). Its trainer runs one
// thread (the other core draws), so OpenBLAS's threaded GEMMs are not in play by default.
inline constexpr HeapPolicy kExplorerHeap{std::size_t(256) << 10, std::size_t(128) << 10};

// What the pre-main step did: the bytes of heap it advised (0: nothing, see `why`).
struct StartupHeap {
  const void* begin = nullptr;  // the advised range: [begin, begin + advised_bytes)
  std::size_t advised_bytes = 0;
  const char* why = "";  // "advised", or why not
};
const StartupHeap& startup_heap();

// Call first thing in main: the top pad back to glibc's default (128 KiB), and `policy`'s thresholds.
// Raising the top pad (above) turned off glibc's adaptive mmap threshold (any mallopt of M_TOP_PAD,
// M_MMAP_THRESHOLD or M_TRIM_THRESHOLD does), so the thresholds are always set here, the same with
// or without the huge pages.
void end_startup_heap(const HeapPolicy& policy);

}  // namespace latent
