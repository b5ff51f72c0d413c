// latent-train against every bad input of the reliability issue (#6): each malformed dataset, each
// bad checkpoint, each bad flag or value gets exit code 2 and exactly one "error:" line naming the
// file or flag and the problem, quickly, and without a large allocation (the child's peak resident
// memory, from wait4, stays within a margin of a --help run's).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "bad_inputs.h"
#include "test_support.h"

namespace latent {
namespace {

namespace fs = std::filesystem;

// Valid training images in every bad dataset: 30,000 28x28 images are 23.5 MB as bytes (94 MB as
// floats), so a reader that read them before finding the bad test file would exceed the margin.
constexpr int kTrainImages = 30000;
// Peak memory allowed above a --help run (measured: 163 MB, nearly all of it LibTorch's libraries).
// The bad inputs measured 0-4 MB above it; reading a checkpoint and building its tiny model is the most.
constexpr long kRssMarginKb = 16 * 1024;

struct Run : test::ProcessResult {
  long max_rss_kb = 0;  // latent-train's peak resident memory
};

Run train(std::vector<std::string> args) {
  const std::string report = std::string(LATENT_TEST_TMP) + "/peak-rss-" + std::to_string(::getpid());
  args.insert(args.begin(), {LATENT_PEAK_RSS_BIN, report, "/usr/bin/env", "LATENT_NO_DOWNLOAD=1", LATENT_TRAIN_BIN});
  Run r;
  static_cast<test::ProcessResult&>(r) = test::run_process(args, 60);
  std::ifstream in(report);
  double cpu = 0;
  if (!(in >> r.max_rss_kb >> cpu)) ADD_FAILURE() << "no report from peak_rss";
  r.cpu_seconds = cpu;
  fs::remove(report);
  return r;
}

// A --help run: LibTorch's static initialisation and nothing else. Measured once per process.
const Run& baseline() {
  static const Run r = train({"--help"});
  return r;
}

void expect_rejected(const Run& r, const std::string& names, const std::string& problem) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line only:\n" << r.err;
  EXPECT_NE(r.err.find(names), std::string::npos) << "should name " << names << ":\n" << r.err;
  EXPECT_NE(r.err.find(problem), std::string::npos) << "should say " << problem << ":\n" << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  // "Within a second": nearly all of it is LibTorch's static initialisation (a --help run: ~0.6 s of
  // CPU). What the bad input adds is bounded in CPU time, not wall time, since a loaded machine
  // stretches the latter (once 30 s for 0.5 s of CPU in a full ctest run next to other builds). A run
  // that hangs is killed at run_process's 60 s and fails on its exit code. The memory bound below is
  // the precise check that no payload was read.
  EXPECT_LT(r.cpu_seconds, test::rejection_cpu_bound(baseline().cpu_seconds))
      << "--help: " << baseline().cpu_seconds << " s of CPU";
  EXPECT_LT(r.max_rss_kb, baseline().max_rss_kb + kRssMarginKb)
      << "peak RSS " << r.max_rss_kb << " kB vs " << baseline().max_rss_kb << " kB for --help";
  std::fprintf(stderr, "  exit %d in %.2f s (cpu %.2f s), peak RSS %ld kB (--help: %ld kB): %s", r.exit_code, r.seconds,
               r.cpu_seconds, r.max_rss_kb, baseline().max_rss_kb, r.err.c_str());
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

class BadDataset : public ::testing::TestWithParam<std::string> {};

TEST_P(BadDataset, ExitTwoWithOneLineNamingTheFile) {
  const std::string dir = test::temp_dir();
  const test::BadInput bad = test::make_bad_dataset(dir, GetParam(), kTrainImages);
  expect_rejected(train({"--data", bad.path, "--out", dir + "/out"}), bad.names, bad.problem);
  fs::remove_all(dir);  // the valid training images are large
}

INSTANTIATE_TEST_SUITE_P(EveryCase, BadDataset, ::testing::ValuesIn(test::bad_dataset_cases()), test_name);

class BadCheckpoint : public ::testing::TestWithParam<std::string> {};

TEST_P(BadCheckpoint, ExitTwoWithOneLineNamingTheFile) {
  const std::string dir = test::temp_dir();
  const test::BadInput bad = test::make_bad_checkpoint(dir, GetParam());
  const std::string data = test::make_good_dataset(dir);  // 28x28
  expect_rejected(train({"--resume", bad.path, "--data", data, "--out", dir + "/out"}), bad.names, bad.problem);
}

INSTANTIATE_TEST_SUITE_P(EveryCase, BadCheckpoint, ::testing::ValuesIn(test::bad_checkpoint_cases()), test_name);

// Flags that contradict the checkpoint's architecture.
TEST(BadCheckpoint, FlagsForAnotherArchitecture) {
  const std::string dir = test::temp_dir();
  const std::string good = test::make_good_checkpoint(dir);
  const std::string data = test::make_good_dataset(dir);
  expect_rejected(train({"--resume", good, "--data", data, "--hidden", "32", "--out", dir + "/out"}), "--hidden 32",
                  "does not match the checkpoint " + good + " (16)");
  expect_rejected(train({"--resume", good, "--data", data, "--latent", "5", "--out", dir + "/out"}), "--latent 5",
                  "does not match the checkpoint");
  expect_rejected(train({"--resume", good, "--data", data, "--arch", "conv", "--out", dir + "/out"}), "--arch conv",
                  "does not match the checkpoint " + good + " (mlp)");
}

struct FlagCase {
  std::string name;
  std::vector<std::string> args;
  std::string names, problem;
};

const std::vector<FlagCase>& flag_cases() {
  static const std::vector<FlagCase> cases = {
      {"lr_zero", {"--lr", "0"}, "--lr", "must be in (0, 10]"},
      {"lr_negative", {"--lr", "-0.01"}, "--lr", "must be in (0, 10]"},
      {"lr_nan", {"--lr", "nan"}, "--lr", "not a finite number"},
      {"lr_infinite", {"--lr=inf"}, "--lr", "not a finite number"},
      {"lr_text", {"--lr", "fast"}, "--lr", "'fast' is not a number"},
      {"batch_zero", {"--batch", "0"}, "--batch", "out of range (1..65536)"},
      {"batch_text", {"--batch", "12.5"}, "--batch", "not an integer"},
      {"latent_zero", {"--latent", "0"}, "--latent", "out of range (1..64)"},
      {"latent_65", {"--latent", "65"}, "--latent", "out of range (1..64)"},
      {"latent_text", {"--latent", "two"}, "--latent", "not an integer"},
      {"beta_nan", {"--beta", "NaN"}, "--beta", "not a finite number"},
      {"beta_negative", {"--beta", "-1"}, "--beta", "must be in [0, 10000]"},
      {"epochs_text", {"--epochs", "ten"}, "--epochs", "not an integer"},
      {"sigma_zero", {"--sigma", "0"}, "--sigma", "must be in (0, 100]"},
      {"hidden_text", {"--hidden", "a,b"}, "--hidden", "not a width"},
      {"arch_unknown", {"--arch", "transformer"}, "--arch", "unknown architecture 'transformer'"},
      {"channels_zero", {"--arch", "conv", "--channels", "0"}, "--channels", "'0' is not a width in 1..1024"},
      {"channels_empty_layer", {"--arch", "conv", "--channels", "32,,64"}, "--channels", "'' is not a width"},
      {"channels_trailing_comma", {"--channels", "32,"}, "--channels", "expected comma-separated widths"},
      {"channels_nine_layers", {"--channels", "1,2,3,4,5,6,7,8,9"}, "--channels", "at most 8 layers"},
      {"dense_zero", {"--arch", "conv", "--dense", "0"}, "--dense", "'0' is not a width in 1..8192"},
      {"dense_text", {"--arch", "conv", "--dense", "wide"}, "--dense", "not a width"},
      // MNIST's 28x28 halves five times (28, 14, 7, 4, 2) before a side of 1 pixel.
      {"channels_too_many_for_the_image", {"--arch", "conv", "--channels", "8,8,8,8,8,8"}, "channels 8,8,8,8,8,8",
       "at most 5 layers"},
      {"device_unknown", {"--device", "gpu"}, "--device", "unknown device"},
      {"unknown_flag", {"--bogus", "1"}, "--bogus", "unknown flag"},
      {"missing_value", {"--batch"}, "--batch", "missing value"},
      {"stray_argument", {"mnist"}, "'mnist'", "unexpected argument"},
      {"eval_iw_zero", {"--eval-iw", "0"}, "--eval-iw", "out of range"},
      {"out_not_writable", {"--out", "/proc/forbidden"}, "--out /proc/forbidden", "cannot create directory"},
  };
  return cases;
}

class BadFlag : public ::testing::TestWithParam<FlagCase> {};

TEST_P(BadFlag, ExitTwoWithOneLineNamingTheFlag) {
  const FlagCase& c = GetParam();
  expect_rejected(train(c.args), c.names, c.problem);
}

INSTANTIATE_TEST_SUITE_P(EveryCase, BadFlag, ::testing::ValuesIn(flag_cases()),
                         [](const auto& info) { return info.param.name; });

// A run that cannot fit in memory is refused before anything large is allocated, with its estimate
// and the limit: a model too wide, images too large for the MLP; and under an address-space limit.
TEST(BadInput, ARunTooLargeForTheMachineIsRefusedWithItsEstimate) {
  const std::string dir = test::temp_dir();
  const std::string data = test::make_good_dataset(dir);
  expect_rejected(train({"--data", data, "--hidden", "8192,8192,8192,8192,8192,8192,8192,8192", "--out", dir + "/out"}),
                  "this model (952550164 parameters) needs about", "more than the");
  for (int side : {1000, 4096}) {
    const std::string big = dir + "/side" + std::to_string(side);
    fs::create_directories(big);
    test::write_dataset(big, 2, 1, side, side);
    expect_rejected(train({"--data", big, "--out", dir + "/out"}), "this model (", "parameters) needs about");
  }
}

TEST(BadInput, AnAddressSpaceLimitIsTheMachinesLimit) {
  if (test::kAddressSanitizer) GTEST_SKIP() << "AddressSanitizer's shadow takes the address space RLIMIT_AS would limit";
  const std::string dir = test::temp_dir();
  const std::string data = test::make_good_dataset(dir);
  // 3 GB of address space: LibTorch alone reserves most of a gigabyte of it.
  auto r = test::run_process({"/usr/bin/prlimit", "--as=3000000000", LATENT_TRAIN_BIN, "--data", data, "--hidden", "4096,4096",
                              "--out", dir + "/out"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("that RLIMIT_AS (ulimit -v) allows"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// More threads than cores x 4 only split the same cores finer, at a memory cost per thread: capped,
// with a note, and the run goes on.
TEST(BadInput, AbsurdThreadCountsAreCappedWithANote) {
  const std::string dir = test::temp_dir();
  const auto r = train({"--data", test::make_good_dataset(dir), "--threads", "1024", "--epochs", "1", "--hidden", "16",
                        "--out", dir + "/out"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("note: --threads 1024 is more than"), std::string::npos) << r.err;
  EXPECT_LT(r.max_rss_kb, baseline().max_rss_kb + 200 * 1024) << "peak RSS " << r.max_rss_kb << " kB";
}

// The memory bound is not vacuous: a run that does load the same dataset (here only to evaluate an
// untrained model) goes well past it.
TEST(BadInput, LoadingTheDatasetWouldExceedTheMemoryBound) {
  const std::string dir = test::temp_dir();
  const test::BadInput bad = test::make_bad_dataset(dir, "missing-file", kTrainImages);
  test::write_idx(bad.path + "/t10k-labels-idx1-ubyte", {5}, std::vector<uint8_t>(5, 1));  // repaired
  auto r = train({"--data", bad.path, "--epochs", "0", "--hidden", "16", "--out", dir + "/out"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(r.max_rss_kb, baseline().max_rss_kb + kRssMarginKb)
      << "peak RSS " << r.max_rss_kb << " kB vs " << baseline().max_rss_kb << " kB for --help";
  std::fprintf(stderr, "  a run that loads the dataset: peak RSS %ld kB, --help %ld kB in %.2f s (cpu %.2f s)\n",
               r.max_rss_kb, baseline().max_rss_kb, baseline().seconds, baseline().cpu_seconds);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace latent
