#pragma once
// The trainer: owns the model and the Adam optimizer and runs on its own thread.
//
// Other threads talk to it through a command queue (start, pause, resume, step, reset, set lr,
// set β, save) and read what it publishes: an immutable Snapshot swapped atomically after every
// step, and append-only step/epoch logs. No lock is held across a training step; a command takes
// effect before the next step.
#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "latent/config.h"
#include "latent/dataset.h"

namespace latent {

class Vae;
struct Checkpoint;

enum class TrainerState { Idle, Running, Paused, Diverged, Error };
const char* to_string(TrainerState state);

// One optimizer step. Terms are means per training image in the batch, in nats.
struct StepRecord {
  int64_t step = 0;        // 1-based index of this step
  double epoch = 0;        // fractional epoch at the end of the step
  double recon = 0;        // E_q[−log p(x|z)], one-sample estimate
  double kl = 0;           // KL(q(z|x) ‖ p(z)): closed form under N(0, I), else the mean of single-sample estimates
  double beta = 0;         // the KL weight used (β after warm-up)
  double loss = 0;         // recon + beta·kl: what was minimised
  double learning_rate = 0;
  double kl_stderr = 0;    // the estimated KL's standard error over the batch (0: closed form)
};

// The test set after each epoch: −ELBO (β = 1) and its two terms, means per test image.
struct EpochRecord {
  int epoch = 0;           // 1-based
  int64_t step = 0;
  double train_loss = 0;   // mean of the step losses over the epoch
  double test_recon = 0;
  double test_kl = 0;
  double test_kl_stderr = 0;  // when the KL is estimated (a prior other than N(0, I))
  double test_loss = 0;
  double seconds = 0;      // training time of the epoch (test evaluation excluded)
  double samples_per_s = 0;
};

struct Snapshot {
  TrainerState state = TrainerState::Idle;
  std::string message;     // why the state is what it is (divergence, errors, "finished")
  // The Error state came from a call into a user's TorchScript module that its time limit stopped
  // (latent/torchscript.h): the model is not to be trusted further, and the explorer drops it.
  bool user_code_stopped = false;
  // The last command the trainer refused (a bad lr, β or warm-up; a reset it could not build) and
  // why. `notices` counts the refusals, so that a repeated one is seen too. A refusal never
  // replaces `message`: a diverged run still says why it diverged.
  std::string notice;
  int notices = 0;
  std::string device;      // the device the trainer runs on
  std::string step_engine; // how a step computes its gradients: "autograd step" or "hand-written MLP step"
  ModelConfig model;
  TrainConfig train;       // current hyperparameters, incl. lr and β changes
  std::string dataset;
  int run_id = 0;          // changes on every reset: step/epoch logs restart from index 0
  int64_t step = 0;
  int epoch = 0;           // completed epochs
  double epoch_progress = 0;  // [0, 1) within the current epoch
  double samples_per_s = 0;   // recent training throughput
  // Every step this Trainer has taken (across resets): the samples and the seconds spent inside
  // the steps. Their ratio is the step throughput latent-train prints per epoch; wall-clock
  // throughput also counts test evaluations, weight copies and time the thread did not run.
  int64_t stepped_samples = 0;
  double step_seconds = 0;
  StepRecord last_step;       // valid when step > 0
  EpochRecord last_epoch;     // valid when epoch > 0 and have_epoch
  bool have_epoch = false;
  std::shared_ptr<const Vae> weights;  // copy of the current weights, for inference on any thread
  int64_t weights_step = 0;            // the step those weights are from
};

class Trainer {
 public:
  // Builds the model (on the device train.device resolves to) and starts the thread, Idle.
  // Throws latent::Error on an invalid config or an image size that does not match the data.
  Trainer(Dataset data, ModelConfig model, TrainConfig train);
  // Resumes from a checkpoint: weights, Adam state, progress, and the step and epoch logs of the
  // steps before it where the file carries them (steps_after() starts with those; a checkpoint
  // keeps at most 100,000 step records, thinned evenly). `train` gives the run's hyperparameters
  // (the caller decides what the checkpoint's are overridden by).
  Trainer(Dataset data, const Checkpoint& checkpoint, TrainConfig train);
  ~Trainer();  // stops the thread; returns within a second from any state
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  void start();                  // Idle/Paused/Diverged → Running
  void pause();                  // Running → Paused
  void resume() { start(); }
  void step(int count = 1);      // take `count` steps, then Paused
  // Re-initialises with a new config (and dataset, when non-empty) at step 0; Idle afterwards.
  void reset(ModelConfig model, TrainConfig train, Dataset data = Dataset());
  // New weights for the same run (a watched TorchScript file that changed on disk): a model built
  // from `model` on the same data and training config replaces the current one, and the run goes on
  // at the file's `step` (or one step further) with its step and epoch logs kept. Paused if it was
  // running; refused with a notice, keeping the current model, when `model` cannot be built.
  void reload(ModelConfig model);
  void set_learning_rate(double lr);  // ignored (with a message) unless finite and > 0
  void set_beta(double beta);         // ignored (with a message) unless finite and >= 0
  void set_warmup_epochs(double epochs);
  // Saves a checkpoint between steps. The future holds "" on success, else the error message. A
  // torchscript model (--model FILE) is saved as TorchScript instead (latent/torchscript.h), its
  // `step` the file's plus the steps taken here.
  std::future<std::string> save(const std::string& path);

  std::shared_ptr<const Snapshot> snapshot() const;
  // The step records after step `step` (-1: all that are kept). The trainer keeps the newest
  // kStepHistoryKept whole and older ones thinned (latent/history.h), so a reader follows a run by
  // the last step it has, never by a count.
  std::vector<StepRecord> steps_after(int64_t step = -1) const;
  std::vector<EpochRecord> epochs_since(size_t first) const;

  // The training thread's nice value, applied before its next step (Linux: 0 normal .. 19 lowest;
  // an unprivileged process can only raise it). The explorer raises it so that drawing a frame wins
  // the CPU over a training step whenever both want it; headless training leaves it at 0.
  void set_thread_nice(int nice);

  // Blocks until the trainer is not Running and has no queued commands, or `timeout_s` passes.
  // Returns true when it settled.
  bool wait_until_settled(double timeout_s) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace latent
