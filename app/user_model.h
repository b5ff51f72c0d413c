#pragma once
// A user's TorchScript file, loaded off the UI thread. Loading runs the file's own code (the probe,
// the trainer's first evaluation), so it happens on a thread of its own that the UI never waits on:
// a load stuck past the time limit (latent/torchscript.h) and a grace is given up and reported, and
// the model the app had stays.
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "latent/config.h"
#include "latent/dataset.h"
#include "latent/trainer.h"

namespace latent::app {

class UserModelLoader {
 public:
  struct Request {
    std::string path;
    bool watch = false;
    bool reload = false;  // a --watch reload: only the checked config is wanted, for Trainer::reload
    Dataset data;         // the images it must fit
    TrainConfig train;
    // Ask before running a file not known here (latent/model_trust.h), unless its SHA-256 is
    // `consented`: the user's answer to that question, for those very bytes.
    bool ask = false;
    std::string consented;
  };
  struct Result {
    Request request;
    ModelConfig model;
    std::unique_ptr<Trainer> trainer;  // null for a reload
    std::string problem;               // why the file cannot be used ("" when it can)
    // Set when the file is not known and the request asks: the SHA-256 of its bytes, for the question
    // to the user. None of its code has run.
    std::string question_sha256;
  };

  // Starts loading; one already under way is abandoned (its result, whenever it comes, is dropped).
  void start(Request request, double now);
  bool busy() const { return pending_.valid(); }
  const std::string& path() const { return path_; }
  // The finished load, once: its model and trainer, or its problem. A load that has run past the
  // time limit and a grace of 5 s comes back as a problem and is abandoned.
  std::optional<Result> poll(double now);

 private:
  std::future<Result> pending_;
  std::string path_;
  double started_ = 0;
  Request request_;  // for the message of an abandoned load
};

}  // namespace latent::app
