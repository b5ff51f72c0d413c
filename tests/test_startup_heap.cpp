// The pre-main heap step (core/include/latent/startup_heap.h), observed from outside: a probe executable linked like
// latent-train reports what the step did and what /proc/self/smaps shows of it.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "test_support.h"

namespace latent {
namespace {

std::map<std::string, std::string> probe(const std::vector<std::string>& env, const std::string& policy = "trainer") {
  std::vector<std::string> args = {"/usr/bin/env"};
  args.insert(args.end(), env.begin(), env.end());
  args.push_back(LATENT_STARTUP_HEAP_PROBE_BIN);
  args.push_back(policy);
  const test::ProcessResult r = test::run_process(args, 60);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> report;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) report[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return report;
}

bool sanitizer_build() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#elif defined(__has_feature)
  return __has_feature(address_sanitizer) || __has_feature(thread_sanitizer);
#else
  return false;
#endif
}

// Whether this kernel can give transparent huge pages to a range that asks for them.
bool kernel_has_thp() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(in, modes);
  return in.good() || !modes.empty();
}

// What end_startup_heap(kTrainerHeap) sets, huge pages or not (startup_heap.h says why): blocks of
// a step's size from the heap.
void ExpectRunTimeThresholds(std::map<std::string, std::string>& r) {
  EXPECT_EQ(r["gemm_job_mapped"], "0") << "OpenBLAS's per-GEMM job array should come from the heap";
  EXPECT_EQ(r["weights_copy_mapped"], "0") << "a 4 MiB block (a conv layer's output) should come from the heap";
  // Kept, not trimmed: at most the probe's 40 MB freed (how much of it grew the top depends on the
  // holes LibTorch's start-up left in the heap).
  EXPECT_LT(std::stod(r["kept_mib"]), 41.0);
}

TEST(StartupHeap, AdvisesTheHeapLibTorchStartsInForHugePages) {
  if (sanitizer_build()) GTEST_SKIP() << "sanitizer allocators have no brk heap; the step is compiled out";
  auto r = probe({"-u", "LATENT_HEAP_HUGEPAGES"});
  if (!kernel_has_thp()) {
    EXPECT_NE(r["why"].find("madvise refused"), std::string::npos) << r["why"];
    return;
  }
  EXPECT_EQ(r["why"], "advised");
  // The whole pad, less at most a page at each end.
  EXPECT_GE(std::stod(r["advised_mib"]), 63.9);
  EXPECT_LE(std::stod(r["advised_mib"]), 65.0);
  EXPECT_EQ(r["huge_flag"], "1") << "the kernel should list the range with VmFlags hg";
  ExpectRunTimeThresholds(r);
}

TEST(StartupHeap, LatentHeapHugepagesZeroLeavesTheHeapAlone) {
  if (sanitizer_build()) GTEST_SKIP() << "sanitizer allocators have no brk heap; the step is compiled out";
  auto r = probe({"LATENT_HEAP_HUGEPAGES=0"});
  EXPECT_EQ(r["why"], "LATENT_HEAP_HUGEPAGES=0");
  EXPECT_EQ(r["advised_mib"], "0.0");
  EXPECT_EQ(r["huge_flag"], "0");
  ExpectRunTimeThresholds(r);
  // Any other value is not an opt-out.
  EXPECT_EQ(probe({"LATENT_HEAP_HUGEPAGES=1"})["why"], kernel_has_thp() ? "advised" : probe({})["why"]);
}

// The explorer's policy: every block of 256 KiB or more has its own mapping.
TEST(StartupHeap, TheExplorersPolicyMapsQuarterMebibyteBlocks) {
  if (sanitizer_build()) GTEST_SKIP() << "sanitizer allocators ignore mallopt";
  auto r = probe({"-u", "LATENT_HEAP_HUGEPAGES"}, "explorer");
  EXPECT_EQ(r["gemm_job_mapped"], "1");
  EXPECT_EQ(r["weights_copy_mapped"], "1");
  EXPECT_LT(std::stod(r["kept_mib"]), 8.0);
}

}  // namespace
}  // namespace latent
