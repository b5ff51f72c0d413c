// Test helper: an executable linked like latent-train (core, LibTorch, the start-up heap unit) that
// reports what the pre-main step did, as the kernel sees it:
//   why=...            startup_heap().why
//   advised_mib=N      the range it advised
//   huge_flag=0|1      /proc/self/smaps shows that range with the "hg" (MADV_HUGEPAGE) flag
//   kept_mib=N         after end_startup_heap(): how much of 40 MB malloc-ed and freed at the heap's
//                      top is still held (the 64 MiB pad would keep it; glibc's default returns it)
#include <malloc.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "latent/options.h"
#include "startup_heap.h"

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

int main() {
  latent::end_startup_heap();
  // Something from core, so that the executable needs LibTorch as latent-train does.
  if (latent::run_options_help().empty()) return 1;
  const latent::StartupHeap& h = latent::startup_heap();
  const auto begin = reinterpret_cast<uintptr_t>(h.begin);
  std::printf("why=%s\nadvised_mib=%.1f\nhuge_flag=%d\n", h.why, double(h.advised_bytes) / (1 << 20),
              h.advised_bytes > 0 && huge_flag(begin, begin + h.advised_bytes));
  // 400 blocks of 100 KB: under malloc's mmap threshold, so they come from the top of the brk heap.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  std::vector<void*> blocks;
  blocks.reserve(400);  // no allocation between the blocks, which would pin those below it
  const auto top_before = reinterpret_cast<uintptr_t>(sbrk(0));
  for (int i = 0; i < 400; ++i) blocks.push_back(malloc(100 * 1000));
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) free(*it);
  const auto top_after = reinterpret_cast<uintptr_t>(sbrk(0));
  std::printf("kept_mib=%.1f\n", top_after > top_before ? double(top_after - top_before) / (1 << 20) : 0.0);
  return 0;
}
