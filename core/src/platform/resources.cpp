#include "latent/resources.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <thread>

#include "latent/error.h"

namespace latent {
namespace {

// Measured (docs/design.md): the trainer keeps about 15 copies of the parameters with one thread,
// and one more gradient buffer per extra thread; a thread costs about 1.5 MB of its own; one image
// in a batch costs about 4 bytes per activation of the encoder and decoder, plus its pixels four
// times; LibTorch and the rest about 170 MB.
constexpr int64_t kParameterCopies = 16;
constexpr int64_t kBytesPerThread = int64_t(2) << 20;
constexpr int64_t kRuntimeBytes = int64_t(200) << 20;

int64_t read_int(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return -1;
  try {
    return std::stoll(text);
  } catch (...) {
    return -1;
  }
}

int64_t meminfo_kb(const char* key) {
  std::ifstream in("/proc/meminfo");
  std::string name;
  int64_t kb = 0;
  std::string unit;
  while (in >> name >> kb >> unit)
    if (name == key) return kb;
  return -1;
}

int64_t own_address_space() {
  std::ifstream in("/proc/self/statm");
  int64_t pages = 0;
  in >> pages;
  return pages * ::sysconf(_SC_PAGESIZE);
}

// The cgroup this process is in ("0::/path" for v2; "N:memory:/path" for v1).
std::string cgroup_path(bool v2) {
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    if (v2 && line.rfind("0::", 0) == 0) return line.substr(3);
    const size_t memory = line.find(":memory:");
    if (!v2 && memory != std::string::npos) return line.substr(memory + 8);
  }
  return "";
}

}  // namespace

std::string format_bytes(int64_t bytes) {
  char text[32];
  const double b = double(bytes);
  if (b >= 1e9) std::snprintf(text, sizeof text, "%.1f GB", b / 1e9);
  else if (b >= 1e6) std::snprintf(text, sizeof text, "%.0f MB", b / 1e6);
  else std::snprintf(text, sizeof text, "%.0f kB", b / 1e3);
  return text;
}

std::string MemoryEstimate::describe() const {
  return "about " + format_bytes(total()) + ": parameters " + format_bytes(parameters) + ", activations " +
         format_bytes(activations) + ", dataset " + format_bytes(dataset) + ", threads " + format_bytes(threads) +
         ", runtime " + format_bytes(runtime);
}

MemoryEstimate estimate_training_memory(const ModelConfig& model, const TrainConfig& train, int64_t train_images,
                                        int64_t test_images) {
  MemoryEstimate e;
  const int64_t pixels = model.pixels();
  const int64_t used = train.limit > 0 ? std::min(train.limit, train_images) : train_images;
  e.dataset = dataset_bytes(pixels, train_images, test_images) + used * pixels * 4 / 16;
  const int threads = std::max(1, train.threads);
  e.parameters = parameter_count(model) * int64_t(sizeof(float)) * (kParameterCopies + (threads - 1));
  // Each layer's output and its gradient, forward and backward; the decoder's output, its mean, the
  // gradient and a scratch row; μ, log σ², σ, z and their gradients.
  const int64_t per_image = int64_t(sizeof(float)) * (2 * layer_output_values(model) + 4 * pixels + 8 * model.latent_dim);
  e.activations = int64_t(std::max(1, train.batch_size)) * per_image;
  if (model.prior_components > 0) {
    // A learned prior: log p(z) of the batch against K components ([B, K, D] intermediates and their
    // gradients), and for the VampPrior its K pseudo-inputs through the encoder in every step, on
    // every thread of a split batch (half the layers, with their gradients, and the images).
    const int64_t k = model.prior_components;
    e.activations += int64_t(sizeof(float)) * 4 * int64_t(std::max(1, train.batch_size)) * k * model.latent_dim;
    if (model.prior == "vamp")
      e.activations += int64_t(threads) * k * int64_t(sizeof(float)) * (layer_output_values(model) + 2 * pixels + 4 * model.latent_dim);
  }
  e.threads = threads * kBytesPerThread;
  e.runtime = kRuntimeBytes;
  return e;
}

int64_t dataset_bytes(int64_t pixels, int64_t train_images, int64_t test_images) {
  return (train_images + test_images) * pixels + test_images * pixels * 4;
}

void check_model_fits(const ModelConfig& model, const TrainConfig& train, int64_t train_images, int64_t test_images) {
  check_memory_fits(estimate_training_memory(model, train, train_images, test_images),
                    "this model (" + std::to_string(parameter_count(model)) + " parameters)");
}

MemoryLimit memory_limit() {
  MemoryLimit limit;
  const int64_t available_kb = meminfo_kb("MemAvailable:");
  limit.bytes = available_kb > 0 ? available_kb * 1024 : INT64_MAX;
  limit.source = "the memory available on this machine (MemAvailable)";
  struct rlimit as {};
  if (::getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    // Address space, not memory: threads' stacks and OpenBLAS's buffers reserve more than they touch
    // (about 1 GB more than the resident peak for the runs measured), so that much is kept aside.
    constexpr int64_t kReservedBeyondResident = int64_t(1) << 30;
    const int64_t left = int64_t(as.rlim_cur) - own_address_space() - kReservedBeyondResident;
    if (left < limit.bytes) limit = {std::max<int64_t>(0, left), "RLIMIT_AS (ulimit -v)"};
  }
  const std::string v2 = cgroup_path(true);
  if (!v2.empty()) {
    const std::string dir = "/sys/fs/cgroup" + v2;
    const int64_t max = read_int(dir + "/memory.max"), current = read_int(dir + "/memory.current");
    if (max > 0 && current >= 0 && max - current < limit.bytes) limit = {std::max<int64_t>(0, max - current), "the cgroup's memory.max"};
  } else if (const std::string v1 = cgroup_path(false); !v1.empty()) {
    const std::string dir = "/sys/fs/cgroup/memory" + v1;
    const int64_t max = read_int(dir + "/memory.limit_in_bytes"), usage = read_int(dir + "/memory.usage_in_bytes");
    if (max > 0 && max < (int64_t(1) << 60) && usage >= 0 && max - usage < limit.bytes)
      limit = {std::max<int64_t>(0, max - usage), "the cgroup's memory limit"};
  }
  return limit;
}

void check_memory_fits(const MemoryEstimate& estimate, const std::string& what) {
  const MemoryLimit limit = memory_limit();
  if (estimate.total() <= limit.bytes) return;
  throw Error(what + " needs " + estimate.describe() + "; more than the " + format_bytes(limit.bytes) + " that " + limit.source +
              " allows (a smaller --hidden or --channels, --batch, --threads or image size fits)");
}

int max_useful_threads() {
  const unsigned cores = std::thread::hardware_concurrency();
  return std::max(4, int(cores == 0 ? 1 : cores) * 4);
}

}  // namespace latent
