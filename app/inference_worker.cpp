#include "inference_worker.h"

#include "latent/torchscript.h"

#include <pthread.h>

#include <exception>

#include "latent/platform.h"
#include "latent/trainer.h"

namespace latent::app {

InferenceWorker::InferenceWorker() : thread_([this] { loop(); }) {}

InferenceWorker::~InferenceWorker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    jobs_.clear();
  }
  cv_.notify_all();
  thread_.join();
}

void InferenceWorker::submit(const std::string& key, Job job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& queued : jobs_)
      if (queued.first == key) {
        queued.second = std::move(job);
        return;
      }
    jobs_.emplace_back(key, std::move(job));
  }
  cv_.notify_one();
}

bool InferenceWorker::idle() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return jobs_.empty() && running_.empty() && done_.empty();
}

bool InferenceWorker::busy(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (running_ == key) return true;
  for (const auto& queued : jobs_)
    if (queued.first == key) return true;
  return false;
}

void InferenceWorker::run_main_thread_tasks() {
  std::vector<MainThreadTask> tasks;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks.swap(done_);
  }
  for (auto& task : tasks) task();
}

void InferenceWorker::loop() {
  pthread_setname_np(pthread_self(), "latent-views");
  set_this_thread_nice(kWorkerNice);
  while (true) {
    std::pair<std::string, Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (stop_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      running_ = job.first;
    }
    MainThreadTask task;
    try {
      task = job.second();
    } catch (const std::exception& e) {
      std::string message = e.what();
      const bool stopped = dynamic_cast<const UserCodeStopped*>(&e) != nullptr;
      task = [this, message, stopped] {
        if (on_error) on_error(message, stopped);
      };
    }
    std::lock_guard<std::mutex> lock(mutex_);
    running_.clear();
    if (task) done_.push_back(std::move(task));
  }
}

}  // namespace latent::app
