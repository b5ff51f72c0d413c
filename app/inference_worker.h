#pragma once
// A background thread for inference too slow for a frame (encoding the test set, decoding a
// manifold grid). Jobs run in order; a job not yet started is replaced by a newer one with the same
// key, so a busy worker never falls behind. Each job returns a task that the main thread runs when
// it drains the queue once per frame: that is where results meet app state and GL textures.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace latent::app {

// The worker's nice value: below training (AppState's kTrainerNice), since a view refreshed a
// little later costs less than a slower run.
constexpr int kWorkerNice = 10;

class InferenceWorker {
 public:
  using MainThreadTask = std::function<void()>;
  using Job = std::function<MainThreadTask()>;

  InferenceWorker();
  ~InferenceWorker();

  void submit(const std::string& key, Job job);
  // True while a job with this key is queued or running.
  bool busy(const std::string& key) const;
  // Nothing queued, running, or finished and waiting for the main thread.
  bool idle() const;
  // Main thread: runs the tasks finished jobs returned.
  void run_main_thread_tasks();
  // Called on the main thread with the message of a job that threw; the last good result stays.
  // A job that threw: its message, and whether a user's module's time limit stopped it.
  std::function<void(const std::string&, bool user_code_stopped)> on_error;

 private:
  void loop();
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, Job>> jobs_;
  std::string running_;
  std::vector<MainThreadTask> done_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace latent::app
