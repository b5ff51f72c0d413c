#pragma once
// A view's own background result (the Outliers scores, the traversals...): computed on the shared
// inference worker from the weights the views show, and taken on the main thread. The view asks
// again when the weights change (at most every `interval` seconds, so training does not keep the
// worker busy) or at once after invalidate() (a control changed).
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "app_state.h"

namespace latent::app {

template <class T>
class ViewJob {
 public:
  // Whether to ask again now.
  bool due(const AppState& state, double interval) const {
    if (!state.weights()) return false;
    return stale_ || (asked_generation_ != state.weights_generation && state.now - asked_at_ >= interval);
  }
  void invalidate() { stale_ = true; }
  // Runs `compute` on the worker under `key` (unless a job with that key is still running), noting
  // the weights it was asked for. Returns whether it was submitted.
  bool run(AppState& state, const std::string& key, std::function<T()> compute) {
    if (state.busy(key)) return false;
    asked_generation_ = state.weights_generation;
    asked_at_ = state.now;
    stale_ = false;
    auto inbox = inbox_;
    state.submit(key, [inbox, compute = std::move(compute)] {
      auto result = std::make_shared<T>(compute());
      return [inbox, result] { *inbox = std::move(*result); };
    });
    return true;
  }
  // Main thread, once a frame: takes a finished result. Returns whether one arrived.
  bool take() {
    if (!inbox_->has_value()) return false;
    shown_ = std::move(**inbox_);
    inbox_->reset();
    ++results_;
    return true;
  }
  // The latest result, or null before the first.
  const T* result() const { return shown_ ? &*shown_ : nullptr; }
  T* result() { return shown_ ? &*shown_ : nullptr; }
  // Counts results taken: a texture made from result() is stale when this moved.
  int64_t results() const { return results_; }
  // The weights generation of the last request (what the result in flight, or the last taken, is from).
  int64_t asked_generation() const { return asked_generation_; }
  // A new run: the old result goes, and one still being computed is dropped.
  void restart() {
    shown_.reset();
    inbox_ = std::make_shared<std::optional<T>>();
    asked_generation_ = -1;
    stale_ = true;
  }

 private:
  std::optional<T> shown_;
  std::shared_ptr<std::optional<T>> inbox_ = std::make_shared<std::optional<T>>();
  int64_t asked_generation_ = -1, results_ = 0;
  double asked_at_ = -1e9;
  bool stale_ = true;
};

}  // namespace latent::app
