#include "train/shard_pool.h"

#include <pthread.h>

namespace latent {
namespace {

// Spin this many rounds on the atomic before sleeping on the condition variable: a step's
// hand-offs come every millisecond or so, and a futex wake-up costs tens of microseconds.
constexpr int kSpinRounds = 4000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

ShardPool::ShardPool(int shards, const char* name) {
  for (int i = 1; i < shards; ++i) {
    helpers_.emplace_back([this, i] { helper(i); });
    pthread_setname_np(helpers_.back().native_handle(), name);
  }
}

ShardPool::~ShardPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    ++generation_;
    posted_.store(generation_);
  }
  work_cv_.notify_all();
  for (auto& t : helpers_) t.join();
}

void ShardPool::record(std::exception_ptr e) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!error_) error_ = e;
}

void ShardPool::run(const std::function<void(int)>& fn) {
  if (helpers_.empty()) return fn(0);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    error_ = nullptr;
    pending_.store(int(helpers_.size()));
    ++generation_;
    posted_.store(generation_);
  }
  work_cv_.notify_all();
  try {
    fn(0);
  } catch (...) {
    record(std::current_exception());
  }
  for (int i = 0; i < kSpinRounds && pending_.load(std::memory_order_acquire) > 0; ++i) cpu_relax();
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait(lock, [&] { return pending_.load() == 0; });
  job_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void ShardPool::helper(int shard) {
  uint64_t seen = 0;
  while (true) {
    for (int i = 0; i < kSpinRounds && posted_.load(std::memory_order_acquire) == seen; ++i) cpu_relax();
    const std::function<void(int)>* job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (stop_) return;
      job = job_;
    }
    try {
      (*job)(shard);
    } catch (...) {
      record(std::current_exception());
    }
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);  // so the waiter cannot miss the notification
      done_cv_.notify_one();
    }
  }
}

}  // namespace latent
