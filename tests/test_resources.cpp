// The memory a run needs against what the machine allows, and errors in one line.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <torch/torch.h>

#include "latent/error.h"
#include "latent/resources.h"
#include "test_support.h"

namespace latent {
namespace {

TEST(Resources, TheEstimateGrowsWithWhatARunHolds) {
  ModelConfig model;  // 28x28, 512,256, latent 2
  TrainConfig train;
  const MemoryEstimate base = estimate_training_memory(model, train, 60000, 10000);
  EXPECT_EQ(base.parameters, parameter_count(model) * 4 * 16);
  EXPECT_EQ(base.dataset, 70000 * 784 + 10000 * 784 * 4 + 60000 * 784 * 4 / 16);
  train.threads = 4;
  EXPECT_EQ(estimate_training_memory(model, train, 60000, 10000).parameters, parameter_count(model) * 4 * 19);
  train.threads = 1;
  train.batch_size *= 8;
  EXPECT_EQ(estimate_training_memory(model, train, 60000, 10000).activations, 8 * base.activations);
  EXPECT_NE(base.describe().find("parameters "), std::string::npos) << base.describe();
  // A learned prior adds its parameters and, for the VampPrior, K encoder passes a step per thread.
  train.batch_size = 128;
  model.prior = "mog", model.prior_components = 10;
  const MemoryEstimate mog = estimate_training_memory(model, train, 60000, 10000);
  EXPECT_EQ(mog.parameters - base.parameters, 10 * (2 * 2 + 1) * 4 * 16);
  EXPECT_EQ(mog.activations - base.activations, 4 * 4 * 128 * 10 * 2);
  model.prior = "vamp", model.prior_components = 500;
  const MemoryEstimate vamp = estimate_training_memory(model, train, 60000, 10000);
  EXPECT_EQ(vamp.parameters - base.parameters, int64_t(500) * 784 * 4 * 16);
  EXPECT_EQ(vamp.activations - base.activations, 4 * 4 * 128 * 500 * 2 + int64_t(500) * 4 * (layer_output_values(model) + 2 * 784 + 4 * 2));
}

TEST(Resources, ARunPastTheLimitIsRefusedWithBothFigures) {
  MemoryEstimate huge;
  huge.parameters = int64_t(1) << 50;  // a petabyte
  try {
    check_memory_fits(huge, "this model");
    FAIL() << "a petabyte fitted";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("this model needs about 1125899.9 GB", 0), 0u) << what;
    EXPECT_NE(what.find("more than the"), std::string::npos) << what;
  }
  MemoryEstimate small;
  small.runtime = 1 << 20;
  EXPECT_NO_THROW(check_memory_fits(small, "a megabyte"));
}

// ulimit -v is the limit when it is the tightest: measured in a child, which may lower its own.
TEST(Resources, AnAddressSpaceLimitIsTheLimit) {
  if (test::kAddressSanitizer) GTEST_SKIP() << "AddressSanitizer's shadow takes the address space RLIMIT_AS would limit";
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    struct rlimit as {};
    ::getrlimit(RLIMIT_AS, &as);
    as.rlim_cur = rlim_t(6) << 30;
    ::setrlimit(RLIMIT_AS, &as);
    const MemoryLimit limit = memory_limit();
    const std::string text = limit.source + "\n" + std::to_string(limit.bytes);
    ::write(fds[1], text.data(), text.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  char buffer[256] = {};
  const ssize_t n = ::read(fds[0], buffer, sizeof buffer - 1);
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
  const std::string text(buffer, size_t(std::max<ssize_t>(0, n)));
  EXPECT_EQ(text.rfind("RLIMIT_AS (ulimit -v)\n", 0), 0u) << text;
  const int64_t bytes = std::stoll(text.substr(text.find('\n') + 1));
  EXPECT_GT(bytes, 0);
  EXPECT_LT(bytes, int64_t(5) << 30);  // 6 GB less what the process already holds and the reserve
}

TEST(Resources, AnAllocationLibTorchCannotMakeIsOutOfMemoryInOneLine) {
  if (test::kAddressSanitizer) GTEST_SKIP() << "AddressSanitizer aborts on an allocation it cannot make";
  try {
    auto t = torch::empty({int64_t(1) << 50});  // 4 PB: LibTorch's allocator refuses
    FAIL() << "allocated " << t.numel();
  } catch (const std::exception& e) {
    const std::string line = describe_exception(e);
    EXPECT_EQ(line.rfind("out of memory", 0), 0u) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  }
}

TEST(Resources, LibTorchErrorsAreOneLineWithoutTheirBacktrace) {
  try {
    torch::zeros({2, 3}).matmul(torch::zeros({4, 5}));
    FAIL() << "multiplied a 2x3 by a 4x5";
  } catch (const std::exception& e) {
    const std::string line = describe_exception(e);
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    EXPECT_EQ(line.find("frame #"), std::string::npos) << line;
    EXPECT_FALSE(line.empty());
  }
  EXPECT_EQ(describe_exception(std::bad_alloc()), "out of memory");
}

}  // namespace
}  // namespace latent
