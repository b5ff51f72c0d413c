#pragma once
// Internal: the threads a training step is split across. Shard 0 runs on the calling thread, the
// others on helper threads kept for the pool's life; run() hands every shard the same function and
// returns when all have finished. No LibTorch here.
//
// Why a pool of our own: with OpenBLAS's AVX-512 kernels a 128-image GEMM takes ~0.2 ms, too short
// for OpenBLAS to gain by splitting it, while the step as a whole splits cleanly by images (each
// shard a forward and backward over its rows, the gradients summed). A hand-off costs a few
// microseconds against a step of a millisecond or more.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace latent {

class ShardPool {
 public:
  // `shards` ≥ 1; shards − 1 helper threads, named `name` (for top -H and perf).
  ShardPool(int shards, const char* name);
  ~ShardPool();
  ShardPool(const ShardPool&) = delete;
  ShardPool& operator=(const ShardPool&) = delete;

  int shards() const { return int(helpers_.size()) + 1; }
  // Runs fn(shard) for every shard in [0, shards()) at once and waits for all of them. The first
  // exception thrown by any shard is rethrown here, after every shard has finished.
  void run(const std::function<void(int)>& fn);

  // [begin, end) of shard `shard` of `n` items split as evenly as possible.
  static std::pair<int64_t, int64_t> slice(int64_t n, int shard, int shards) {
    return {n * shard / shards, n * (shard + 1) / shards};
  }

 private:
  void helper(int shard);
  void record(std::exception_ptr e);

  std::vector<std::thread> helpers_;
  const std::function<void(int)>* job_ = nullptr;
  std::mutex mutex_;
  std::condition_variable work_cv_, done_cv_;
  uint64_t generation_ = 0;       // bumped per run(); guarded by mutex_
  std::atomic<uint64_t> posted_{0};  // the same, readable while spinning
  std::atomic<int> pending_{0};      // helpers still running this generation
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace latent
