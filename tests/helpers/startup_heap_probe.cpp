// Test helper: an executable linked like latent-train (core, LibTorch, the start-up heap unit) that
// takes the heap policy named by its argument (trainer, the default, or explorer) and reports what
// the pre-main step did, as the kernel sees it, and where blocks then come from:
//   why=...            startup_heap().why
//   advised_mib=N      the range it advised
//   huge_flag=0|1      /proc/self/smaps shows that range with the "hg" (MADV_HUGEPAGE) flag
//   kept_mib=N         after end_startup_heap: how much of 40 MB malloc-ed and freed at the heap's
//                      top is still held (the 64 MiB pad would keep it; glibc's default returns it)
//   gemm_job_mapped=0|1     whether 516 KiB blocks (OpenBLAS's per-call job array of a threaded
//                           GEMM) got mappings of their own: an munmap per GEMM when they do
//   weights_copy_mapped=0|1 whether 4 MiB blocks (weight copies) did: returned whole when freed
#include <malloc.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "latent/options.h"
#include "latent/startup_heap.h"

namespace {

// Whether a mapping inside [begin, end) carries VmFlags "hg".
bool huge_flag(uintptr_t begin, uintptr_t end) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      inside = lo < end && hi > begin;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      std::istringstream flags(line.substr(8));
      for (std::string f; flags >> f;)
        if (f == "hg") return true;
    }
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const bool explorer = argc > 1 && std::string(argv[1]) == "explorer";
  latent::end_startup_heap(explorer ? latent::kExplorerHeap : latent::kTrainerHeap);
  // Something from core, so that the executable needs LibTorch as latent-train does.
  if (latent::run_options_help().empty()) return 1;
  const latent::StartupHeap& h = latent::startup_heap();
  const auto begin = reinterpret_cast<uintptr_t>(h.begin);
  std::printf("why=%s\nadvised_mib=%.1f\nhuge_flag=%d\n", h.why, double(h.advised_bytes) / (1 << 20),
              h.advised_bytes > 0 && huge_flag(begin, begin + h.advised_bytes));
  // 400 blocks of 100 KB: under malloc's mmap threshold, so they come from the top of the brk heap.
  std::vector<void*> blocks;
  blocks.reserve(400);  // no allocation between the blocks, which would pin those below it
  const auto top_before = reinterpret_cast<uintptr_t>(sbrk(0));
  for (int i = 0; i < 400; ++i) blocks.push_back(malloc(100 * 1000));
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) free(*it);
  const auto top_after = reinterpret_cast<uintptr_t>(sbrk(0));
  std::printf("kept_mib=%.1f\n", top_after > top_before ? double(top_after - top_before) / (1 << 20) : 0.0);
  // More blocks than the heap's free holes can hold (LibTorch's start-up leaves at most the 64 MiB
  // pad's rest), so some come from growing the heap or from a mapping of their own.
  const auto mapped = [](size_t bytes, int count) {
    const size_t before = mallinfo2().hblkhd;  // bytes in blocks with their own mapping
    std::vector<void*> blocks(size_t(count), nullptr);
    for (void*& b : blocks) b = malloc(bytes);
    const bool own = mallinfo2().hblkhd > before;
    for (void* b : blocks) free(b);
    return own;
  };
  std::printf("gemm_job_mapped=%d\nweights_copy_mapped=%d\n", mapped(516 * 1024, 200), mapped(4 << 20, 50));
  return 0;
}
