#include "latent/startup_heap.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace latent {
namespace {

// GCC says so with __SANITIZE_*__, clang with __has_feature.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LATENT_SANITIZED_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LATENT_SANITIZED_ALLOCATOR 1
#endif

#ifdef LATENT_SANITIZED_ALLOCATOR
constexpr bool kSanitizerBuild = true;
#else
constexpr bool kSanitizerBuild = false;
#endif

// Constant-initialised (no constructor runs), so what the pre-main step writes here stays.
StartupHeap g_startup_heap{nullptr, 0, kSanitizerBuild ? "sanitizer build" : "did not run"};

bool opted_out(char** envp) {
  constexpr char kVar[] = "LATENT_HEAP_HUGEPAGES=";
  // getenv cannot be used yet: libc's initialiser, which sets environ, has not run.
  for (char** e = envp; e && *e; ++e)
    if (std::strncmp(*e, kVar, sizeof kVar - 1) == 0) return std::strcmp(*e + sizeof kVar - 1, "0") == 0;
  return false;
}

// Runs before every shared library's initialiser. Only malloc, sbrk and madvise here: no iostreams,
// no getenv, no C++ statics with constructors.
[[maybe_unused]] void advise_startup_heap(int, char**, char** envp) {
  StartupHeap& h = g_startup_heap;
  if (opted_out(envp)) {
    h.why = "LATENT_HEAP_HUGEPAGES=0";
    return;
  }
  char* const before = static_cast<char*>(sbrk(0));
  // The pad must be set before malloc's first call, which sizes the heap's first extension.
  if (before == reinterpret_cast<char*>(-1) || mallopt(M_TOP_PAD, int(kStartupHeapPad)) != 1) {
    h.why = "no brk heap";
    return;
  }
  void* const first = std::malloc(1);
  char* const after = static_cast<char*>(sbrk(0));
  char* const block = static_cast<char*>(first);
  // Only when this malloc grew the brk heap now: an earlier one (or an mmap-ed arena) means the
  // heap's layout is not the one assumed here, and it is left alone.
  if (first && block >= before && block < after) {
    const auto page = uintptr_t(getpagesize());
    const uintptr_t begin = (reinterpret_cast<uintptr_t>(before) + page - 1) & ~(page - 1);
    const uintptr_t end = reinterpret_cast<uintptr_t>(after) & ~(page - 1);
    if (end > begin && madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE) == 0) {
      h.begin = reinterpret_cast<const void*>(begin);
      h.advised_bytes = end - begin;
      h.why = "advised";
    } else {
      h.why = "madvise refused (no transparent huge pages?)";
    }
  } else {
    h.why = "heap already in use";
  }
  std::free(first);
}

#ifndef LATENT_SANITIZED_ALLOCATOR
__attribute__((section(".preinit_array"), used)) void (*const kAdviseStartupHeap)(int, char**, char**) =
    advise_startup_heap;
#endif

}  // namespace

const StartupHeap& startup_heap() { return g_startup_heap; }

void end_startup_heap(const HeapPolicy& policy) {
  mallopt(M_TOP_PAD, 128 * 1024);
  mallopt(M_MMAP_THRESHOLD, int(policy.mmap_threshold));
  mallopt(M_TRIM_THRESHOLD, int(policy.trim_threshold));
}

}  // namespace latent
