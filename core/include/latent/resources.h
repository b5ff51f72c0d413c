#pragma once
// What a training run will need, estimated before it is allocated, against what the machine allows:
// a run that cannot fit is refused with both figures instead of dying of an allocation half-way.
#include <cstdint>
#include <exception>
#include <string>

#include "latent/config.h"

namespace latent {

struct MemoryEstimate {
  int64_t dataset = 0;      // the images as bytes, and the test split as floats
  int64_t parameters = 0;   // every copy of the weights: weights, gradients, Adam's two moments and their
                            // backups, the copies published to the views, one gradient buffer per thread
  int64_t activations = 0;  // one batch through the network and back
  int64_t threads = 0;      // each compute thread's own stack and buffers
  int64_t runtime = 0;      // LibTorch, OpenBLAS and the program itself
  int64_t total() const { return dataset + parameters + activations + threads + runtime; }
  std::string describe() const;  // "about 12.3 GB: parameters 11.9 GB (...), ..."
};

// Calibrated on this project's trainer (docs/design.md, "Bounded resources"): within 20 % above what
// latent-train's peak RSS measured for small and large models.
MemoryEstimate estimate_training_memory(const ModelConfig& model, const TrainConfig& train, int64_t train_images,
                                        int64_t test_images);

// The images as bytes and the test split again as floats (the part of a dataset that stays loaded).
int64_t dataset_bytes(int64_t pixels, int64_t train_images, int64_t test_images);

// check_memory_fits for training `model`, the message naming its parameter count.
void check_model_fits(const ModelConfig& model, const TrainConfig& train, int64_t train_images, int64_t test_images);

struct MemoryLimit {
  int64_t bytes = 0;
  std::string source;  // what sets it: "available memory", "RLIMIT_AS (ulimit -v)", "the cgroup's memory.max"
};
// The least of: the memory the kernel says is available (MemAvailable), the address space left under
// RLIMIT_AS, and what the cgroup (v2 memory.max, or v1 limit_in_bytes) leaves.
MemoryLimit memory_limit();

// Throws latent::Error when `estimate` exceeds memory_limit(): "<what> needs about X (...), more than
// the Y that <source> allows".
void check_memory_fits(const MemoryEstimate& estimate, const std::string& what);

// The most compute threads that make sense here: 4 per hardware thread (at least 4).
int max_useful_threads();

// An exception's message in one line: LibTorch's errors without their C++ backtrace, and an
// allocation failure as "out of memory".
std::string describe_exception(const std::exception& e);

std::string format_bytes(int64_t bytes);  // "1.5 GB", "820 MB"

}  // namespace latent
