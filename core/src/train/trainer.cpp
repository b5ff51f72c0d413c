#include "latent/trainer.h"

#include "latent/history.h"
#include "latent/torchscript.h"

#include <pthread.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <sstream>
#include <thread>

#include "train/adam.h"
#include "latent/resources.h"
#include "data/dataset_impl.h"
#include "train/kernels.h"
#include "io/run_history.h"
#include "latent/checkpoint.h"
#include "latent/error.h"
#include "latent/inference.h"
#include "latent/platform.h"
#include "platform/platform.h"
#include "objective/objective.h"
#include "train/shard_pool.h"
#include "model/scripted.h"
#include "model/vae_impl.h"
#include "train/run.h"
#include "train/training_step.h"
#include "uses/corruption_math.h"

namespace latent {

using Clock = std::chrono::steady_clock;

// How often (in steps) the trainer keeps a copy of the weights and Adam state to roll back to.
// A copy costs about a tenth of a step; every 16th step keeps that under 1 %.
constexpr int64_t kBackupEvery = 16;

const char* to_string(TrainerState state) {
  switch (state) {
    case TrainerState::Idle: return "idle";
    case TrainerState::Running: return "running";
    case TrainerState::Paused: return "paused";
    case TrainerState::Diverged: return "diverged";
    case TrainerState::Error: return "error";
  }
  return "?";
}

namespace {

struct Command {
  enum Kind { Start, Pause, Step, Reset, Reload, SetLearningRate, SetBeta, SetWarmup, Save };
  Command(Kind k) : kind(k) {}  // NOLINT: implicit, so enqueue({Command::Start}) reads as the command
  Kind kind;
  double value = 0;
  int count = 0;
  ModelConfig model;
  TrainConfig train;
  Dataset data;
  std::string path;
  std::shared_ptr<std::promise<std::string>> done;
};

// Frozen copies of the weights for other threads. A copy nobody holds any more (use_count 1: only
// the pool) is overwritten in place, so publishing does not allocate once the pool is warm. A copy
// someone keeps (the explorer's timeline keeps one for good) leaves the pool when a new copy has to
// be made: a pool of kept copies made every publish allocate and initialise a new model, ten times a
// second in the explorer, each one new pages to fault in (688k minor faults in 40 s on its trainer
// thread, against 325k headless).
class WeightsPool {
 public:
  std::shared_ptr<const Vae> copy_of(Model& net, torch::Device device) {
    for (auto& vae : items_)
      if (vae.use_count() == 1) {
        std::atomic_thread_fence(std::memory_order_acquire);
        copy_weights(net, vae->impl().model());
        return vae;
      }
    ModelPtr copy = make_model(net.config(), 0, /*initialize=*/false);
    copy->to(device);
    copy_weights(net, *copy);
    copy->eval();
    auto vae = std::make_shared<Vae>(std::make_shared<const VaeImpl>(std::move(copy), device));
    if (items_.size() < kSize) {
      items_.push_back(vae);
    } else {
      items_[next_replaced_] = vae;  // every item is held elsewhere: the oldest-placed one leaves
      next_replaced_ = (next_replaced_ + 1) % kSize;
    }
    return vae;
  }
  void clear() { items_.clear(), next_replaced_ = 0; }

 private:
  static constexpr size_t kSize = 6;
  std::vector<std::shared_ptr<Vae>> items_;
  size_t next_replaced_ = 0;
};

}  // namespace

struct Trainer::Impl {
  // ---- shared with other threads ----
  std::mutex queue_mutex;
  std::condition_variable queue_cv;
  std::condition_variable settled_cv;
  std::deque<Command> queue;
  bool settled = true;
  std::atomic<bool> stop{false};
  std::shared_ptr<const Snapshot> snapshot;  // read and written with std::atomic_load / atomic_store
  mutable std::mutex log_mutex;
  std::vector<StepRecord> step_log;
  std::vector<EpochRecord> epoch_log;

  // ---- owned by the trainer thread (and by the constructor before it starts) ----
  std::unique_ptr<Run> run;
  int run_id = 0;
  TrainerState state = TrainerState::Idle;
  std::string message;
  bool user_code_stopped = false;
  std::string notice;  // see Snapshot::notice
  int notices = 0;
  int pending_steps = 0;
  StepRecord last_step;
  EpochRecord last_epoch;
  bool have_epoch = false;
  double epoch_loss_sum = 0;
  int64_t epoch_loss_count = 0;
  double epoch_seconds = 0;
  int64_t epoch_samples = 0;
  double rate = 0, rate_window_seconds = 0;
  int64_t rate_window_samples = 0;
  int64_t stepped_samples = 0;  // over the Trainer's life, for Snapshot
  double step_seconds = 0;
  WeightsPool pool;
  std::shared_ptr<const Vae> weights;
  int64_t weights_step = -1;
  uint64_t weights_version = 0;    // bumped whenever the trainer's weights change
  uint64_t published_version = 0;  // the version `weights` holds
  Clock::time_point weights_time;
  std::thread thread;
  std::atomic<int> thread_nice{0};

  void enqueue(Command command) {
    {
      std::lock_guard<std::mutex> lock(queue_mutex);
      queue.push_back(std::move(command));
      settled = false;
    }
    queue_cv.notify_one();
  }

  bool busy() const { return state == TrainerState::Running || pending_steps > 0; }

  void loop() {
    set_compute_threads(run->train.threads, run->train.parallel);
    publish(true);
    int applied_nice = 0;
    while (true) {
      if (const int nice = thread_nice.load(); nice != applied_nice) {
        // The shards' helpers too (a run made on this thread later starts its helpers at this
        // thread's nice: Linux threads inherit it).
        if (run->shards)
          run->shards->run([nice](int) { set_this_thread_nice(nice); });
        else
          set_this_thread_nice(nice);
        applied_nice = nice;
      }
      std::deque<Command> commands;
      {
        std::unique_lock<std::mutex> lock(queue_mutex);
        if (!busy() && queue.empty()) {
          settled = true;
          settled_cv.notify_all();
        }
        queue_cv.wait(lock, [&] { return stop.load() || !queue.empty() || busy(); });
        if (stop) break;
        commands.swap(queue);
      }
      for (auto& command : commands) apply(command);
      if (!commands.empty()) publish(!busy());
      if (busy()) {
        try {
          train_step();
        } catch (const UserCodeStopped& e) {
          state = TrainerState::Error;
          message = std::string("training stopped: ") + e.what();
          user_code_stopped = true;
          pending_steps = 0;
        } catch (const std::exception& e) {
          state = TrainerState::Error;
          message = std::string("training step failed: ") + describe_exception(e);
          pending_steps = 0;
        }
        if (pending_steps > 0 && --pending_steps == 0 && state == TrainerState::Running) state = TrainerState::Paused;
        publish(!busy());
      }
    }
    std::lock_guard<std::mutex> lock(queue_mutex);
    for (auto& command : queue)
      if (command.done) command.done->set_value("trainer stopped before the command ran");
    settled = true;
    settled_cv.notify_all();
  }

  bool finished() const { return run->train.epochs > 0 && run->progress.epoch >= run->train.epochs; }

  void apply(Command& c) {
    switch (c.kind) {
      case Command::Start:
        if (finished()) {
          state = TrainerState::Idle;
          message = "finished " + std::to_string(run->train.epochs) + " epochs";
        } else {
          state = TrainerState::Running;
          message.clear();
        }
        break;
      case Command::Pause:
        pending_steps = 0;
        if (state == TrainerState::Running) state = TrainerState::Paused;
        break;
      case Command::Step:
        if (state == TrainerState::Running && pending_steps == 0) break;  // already running continuously
        pending_steps += c.count;
        state = TrainerState::Running;
        message.clear();
        break;
      case Command::Reset:
        try {
          Dataset data = c.data.empty() ? run->data : c.data;
          auto fresh = make_run(std::move(data), c.model, c.train, nullptr);
          set_compute_threads(fresh->train.threads, fresh->train.parallel);
          install(std::move(fresh));
          state = TrainerState::Idle;
          message.clear();
          user_code_stopped = false;
        } catch (const std::exception& e) {
          refuse(std::string("reset rejected, the current model is kept: ") + describe_exception(e));
        }
        break;
      case Command::Reload:
        try {
          auto fresh = make_run(run->data, c.model, run->train, nullptr);
          // The same run, further on: the file's own step when it has one, else one past the last,
          // so that the curves and the timeline go on from where they were.
          const int64_t file_step = c.model.script ? c.model.script->step : -1;
          fresh->progress = run->progress;
          fresh->progress.step = file_step > run->progress.step ? file_step : run->progress.step + 1;
          fresh->script_steps_before = 0;
          run = std::move(fresh);
          pending_steps = 0;
          user_code_stopped = false;
          if (state == TrainerState::Error) state = TrainerState::Paused, message.clear();
          if (state == TrainerState::Running) state = TrainerState::Paused;
          pool.clear();
          weights.reset();
          ++weights_version;
        } catch (const std::exception& e) {
          refuse(std::string("reload rejected, the current model is kept: ") + describe_exception(e));
        }
        break;
      case Command::SetLearningRate:
        if (std::string problem = check_learning_rate(c.value); !problem.empty())
          refuse(problem + "; kept " + std::to_string(run->train.learning_rate));
        else
          run->train.learning_rate = c.value;  // the base (peak) rate; the schedule scales it
        break;
      case Command::SetBeta:
        if (std::string problem = check_beta(c.value); !problem.empty())
          refuse(problem + "; kept " + std::to_string(run->train.beta));
        else
          run->train.beta = c.value;
        break;
      case Command::SetWarmup:
        if (std::string problem = check_warmup_epochs(c.value); !problem.empty())
          refuse(problem + "; kept " + std::to_string(run->train.warmup_epochs));
        else
          run->train.warmup_epochs = c.value;
        break;
      case Command::Save:
        try {
          // A user's TorchScript model is saved as TorchScript (with its own code), our models as
          // checkpoints with Adam's state.
          if (run->model.architecture == "torchscript")
            write_torchscript(*run->net, c.path, run->progress.step + run->script_steps_before);
          else
            write_checkpoint(c.path, checkpoint());
          c.done->set_value("");
        } catch (const Error& e) {
          c.done->set_value(e.what());
        } catch (const std::exception& e) {
          c.done->set_value(c.path + ": not saved: " + describe_exception(e));
        }
        break;
    }
  }

  void refuse(std::string why) {
    notice = std::move(why);
    ++notices;
  }

  // A new run, its logs those of the steps before it (a resumed run's, from its checkpoint).
  void install(std::unique_ptr<Run> fresh, RunHistory history = {}) {
    run = std::move(fresh);
    ++run_id;
    pending_steps = 0;
    have_epoch = !history.epochs.empty();
    last_step = history.steps.empty() ? StepRecord{} : history.steps.back();
    last_epoch = history.epochs.empty() ? EpochRecord{} : history.epochs.back();
    epoch_loss_sum = epoch_seconds = rate = rate_window_seconds = 0;
    epoch_loss_count = epoch_samples = rate_window_samples = 0;
    pool.clear();
    weights.reset();
    std::lock_guard<std::mutex> lock(log_mutex);
    step_log = std::move(history.steps);
    epoch_log = std::move(history.epochs);
  }

  Checkpoint checkpoint() const {
    Checkpoint c;
    c.model = run->model;
    c.train = run->train;
    c.dataset = run->data.name();
    c.progress = run->progress;
    append_arrays(run->adam->params, "vae.", c.arrays);
    append_arrays(named_state(*run->adam, run->adam->exp_avg), "adam.m.", c.arrays);
    append_arrays(named_state(*run->adam, run->adam->exp_avg_sq), "adam.v.", c.arrays);
    std::lock_guard<std::mutex> lock(log_mutex);
    append_history(step_log, epoch_log, c.arrays);
    return c;
  }

  double epoch_position() const { return run->progress.epoch + double(run->progress.epoch_offset) / run->train_x.size(0); }

  // lr·½(1 + cos(π·epoch/epochs)) when annealing, else lr.
  double learning_rate_now() const {
    const auto& t = run->train;
    if (t.lr_schedule == LearningRateSchedule::Constant || t.epochs <= 0) return t.learning_rate;
    return t.learning_rate * 0.5 * (1 + std::cos(M_PI * std::min(1.0, epoch_position() / t.epochs)));
  }

  // β·min(1, epoch / warm-up): the KL weight for this step.
  double kl_weight() const {
    const auto& t = run->train;
    if (t.warmup_epochs <= 0) return t.beta;
    return t.beta * std::min(1.0, epoch_position() / t.warmup_epochs);
  }

  void train_step() {
    Run& r = *run;
    const auto started = Clock::now();
    const int64_t n = r.train_x.size(0);
    const int64_t b = std::min<int64_t>(r.train.batch_size, n - r.progress.epoch_offset);
    const double beta = kl_weight();
    r.adam->learning_rate = learning_rate_now();

    if (!r.batch_x.defined() || r.batch_x.size(0) < b) {
      if (!r.device.is_cpu()) r.batch_bytes = torch::empty({b, r.train_x.size(1)}, r.train_x.options());
      r.batch_x = torch::empty({b, r.train_x.size(1)}, r.train_x.options().dtype(torch::kFloat32));
      r.batch_eps = torch::empty({b, r.model.latent_dim}, torch::kFloat32);
    }
    torch::Tensor x = r.batch_x.narrow(0, 0, b);
    const torch::Tensor rows = r.order.narrow(0, r.progress.epoch_offset, b);
    // A conditional model's y: the batch's classes, one-hot (checked when the run was made).
    torch::Tensor y;
    if (r.train_labels.defined())
      y = torch::one_hot(r.train_labels.index_select(0, rows), r.model.classes).to(torch::kFloat32);
    // A denoising run: the encoder sees corrupted images, the likelihood scores the clean ones.
    const Corruption& corrupt = r.train.corrupt;
    torch::Tensor noise;
    if (corrupt.active())
      noise = corruption_noise(b, r.model.image_channels, int64_t(r.model.image_height) * r.model.image_width, corrupt,
                               r.corrupt_gen);
    torch::Tensor eps;
    StepTerms terms;
    if (r.shards) {
      // ε for the whole batch first (the same draws as one thread makes), then each shard gathers
      // and runs its rows; the terms and gradients are means over the whole batch, so they add up.
      eps = r.batch_eps.narrow(0, 0, b).normal_(0, 1, r.eps_gen);
      const int k = r.shards->shards();
      std::vector<StepTerms> parts(static_cast<size_t>(k));
      r.shards->run([&](int shard) {
        TrainingStep& step = r.step_of_shard(shard);
        const auto [first, last] = ShardPool::slice(b, shard, k);
        if (first == last) {  // fewer images than threads: this shard adds nothing
          for (const auto& g : step.gradients())
            if (g.defined()) g.zero_();
          return;
        }
        const int64_t pixels = r.train_x.size(1);
        gather_unit_floats(r.train_x.data_ptr<uint8_t>(), pixels, rows.data_ptr<int64_t>() + first, last - first,
                           x.data_ptr<float>() + first * pixels);
        const torch::Tensor xs = x.narrow(0, first, last - first);
        const torch::Tensor ys = y.defined() ? y.narrow(0, first, last - first) : y;
        if (!corrupt.active()) {
          parts[size_t(shard)] = step.run(xs, eps.narrow(0, first, last - first), beta, b, ys);
        } else {
          const torch::Tensor seen = apply_corruption(xs, noise.narrow(0, first, last - first), corrupt, r.model.image_channels);
          parts[size_t(shard)] = step.run(seen, eps.narrow(0, first, last - first), beta, b, ys, xs);
        }
      });
      for (const auto& p : parts) terms.recon += p.recon, terms.kl += p.kl, terms.kl_squares += p.kl_squares;
      terms.loss = terms.recon + beta * terms.kl;
    } else {
      if (r.device.is_cpu()) {
        gather_unit_floats(r.train_x.data_ptr<uint8_t>(), r.train_x.size(1), rows.data_ptr<int64_t>(), b,
                           x.data_ptr<float>());
      } else {
        torch::Tensor bytes = r.batch_bytes.narrow(0, 0, b);
        at::index_select_out(bytes, r.train_x, 0, rows);
        x.copy_(bytes).div_(255.0f);  // x = byte / 255 (a GPU may round the division differently)
      }
      eps = r.batch_eps.narrow(0, 0, b).normal_(0, 1, r.eps_gen);  // the draws torch::randn makes
      if (r.device.is_cuda()) eps = eps.to(r.device, /*non_blocking=*/true);
      terms = corrupt.active() ? r.step->run(apply_corruption(x, noise, corrupt, r.model.image_channels), eps, beta, 0, y, x)
                               : r.step->run(x, eps, beta, 0, y);
    }
    if (!std::isfinite(terms.loss) || !std::isfinite(terms.recon) || !std::isfinite(terms.kl)) {
      // Name the term that went non-finite: the reconstruction (a tiny Gaussian sigma, say) or the KL.
      diverge(!std::isfinite(terms.recon) ? "reconstruction term" : !std::isfinite(terms.kl) ? "KL term" : "loss",
              terms.loss, beta);
      return;
    }
    // These weights just gave a finite loss: worth keeping as the state to roll back to.
    if (r.progress.step % kBackupEvery == 0 || !r.adam->has_backup()) r.adam->keep_backup();
    const bool stepped = r.shards ? r.adam->step(*r.shards, r.shard_gradients) : r.adam->step();
    if (!stepped) {  // a non-finite gradient or moment: the update is undone by diverge()
      diverge("gradient", terms.loss, beta);
      return;
    }
    ++weights_version;

    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    r.progress.step += 1;
    r.progress.epoch_offset += b;
    epoch_loss_sum += terms.loss * double(b);
    epoch_loss_count += b;
    epoch_seconds += seconds;
    epoch_samples += b;
    rate_window_seconds += seconds;
    rate_window_samples += b;
    stepped_samples += b;
    step_seconds += seconds;
    if (rate_window_seconds >= 0.5 || rate == 0) {
      rate = double(rate_window_samples) / std::max(rate_window_seconds, 1e-9);
      if (rate_window_seconds >= 0.5) rate_window_seconds = 0, rate_window_samples = 0;
    }
    last_step = {r.progress.step, epoch_position(), terms.recon, terms.kl, beta, terms.loss, r.adam->learning_rate};
    // An estimated KL's standard error over the batch (the spread of the per-image estimates).
    if (!r.net->prior().closed_form_kl() && b > 1)
      last_step.kl_stderr = std::sqrt(std::max(0.0, terms.kl_squares - terms.kl * terms.kl) / double(b - 1));
    {
      std::lock_guard<std::mutex> lock(log_mutex);
      step_log.push_back(last_step);
      thin_history(step_log, kStepHistoryKept);
    }
    if (r.progress.epoch_offset >= n) end_epoch();
  }

  // The step is not applied. The weights it started from may already be the problem (a huge
  // update makes the next forward pass overflow), so roll back to the last backup, whose forward
  // pass was finite, and pause until the user lowers the learning rate or β.
  void diverge(const char* what, double loss, double beta) {
    Run& r = *run;
    const int64_t restored = r.adam->restore_backup();
    ++weights_version;
    char text[400];
    char restored_text[120];
    if (restored >= 0)
      std::snprintf(restored_text, sizeof restored_text,
                    "the weights and Adam state were restored from step %lld, the last with a finite loss", (long long)restored);
    else  // the first forward pass already failed: nothing had changed the weights yet
      std::snprintf(restored_text, sizeof restored_text, "the weights are still the ones training began with");
    std::snprintf(text, sizeof text,
                  "diverged: non-finite %s (loss=%g) at step %lld with lr=%g, beta=%g. The step was not applied and "
                  "%s. Lower the learning rate (or beta) and resume.",
                  what, loss, (long long)(r.progress.step + 1), r.train.learning_rate, beta, restored_text);
    state = TrainerState::Diverged;
    message = text;
    pending_steps = 0;
  }

  void end_epoch() {
    Run& r = *run;
    r.progress.epoch += 1;
    r.progress.epoch_offset = 0;
    EpochRecord e;
    e.epoch = r.progress.epoch;
    e.step = r.progress.step;
    e.train_loss = epoch_loss_count ? epoch_loss_sum / double(epoch_loss_count) : 0;
    e.seconds = epoch_seconds;
    e.samples_per_s = epoch_seconds > 0 ? double(epoch_samples) / epoch_seconds : 0;
    if (!r.test_x.defined()) {
      r.test_x = r.data.impl().test_floats().to(r.device);
      if (r.model.conditional())
        r.test_y = r.net->condition(torch::tensor(std::vector<int64_t>(r.data.test_labels().begin(), r.data.test_labels().end()),
                                                  torch::kLong));
    }
    // The objective without gradients, a training batch at a time; with shards, each sums its
    // share of the test set, with the ε one thread would draw for those rows.
    const int64_t n_test = r.test_x.size(0);
    evaluation_noise(n_test, r.model.latent_dim, r.train.seed, r.eval_eps);
    const int k = r.shards ? r.shards->shards() : 1;
    std::vector<EvaluationSums> parts(static_cast<size_t>(k));
    auto sum_shard = [&](int shard) {
      const auto [first, last] = ShardPool::slice(n_test, shard, k);
      parts[size_t(shard)] = sum_elbo_terms(*r.net, r.test_x.narrow(0, first, last - first),
                                            r.eval_eps.narrow(0, first, last - first), r.train.batch_size, &stop,
                                            r.test_y.defined() ? r.test_y.narrow(0, first, last - first) : r.test_y);
    };
    // In evaluation mode (batch norm's running statistics, no dropout), as the published copies are.
    r.net->eval();
    if (r.shards)
      r.shards->run(sum_shard);
    else
      sum_shard(0);
    r.net->train();
    EvaluationSums sums;
    for (const auto& p : parts) sums.add(p);
    const Evaluation test = sums.finish();
    e.test_recon = test.recon;
    e.test_kl = test.kl;
    e.test_kl_stderr = test.kl_stderr;
    e.test_loss = test.loss;
    epoch_loss_sum = epoch_seconds = 0;
    epoch_loss_count = epoch_samples = 0;
    r.order = epoch_order(r.train_x.size(0), r.train.seed, r.progress.epoch, r.device);
    if (stop) return;  // the evaluation was cut short
    last_epoch = e;
    have_epoch = true;
    {
      std::lock_guard<std::mutex> lock(log_mutex);
      epoch_log.push_back(e);
    }
    if (finished()) {
      state = TrainerState::Idle;
      message = "finished " + std::to_string(r.train.epochs) + " epochs";
      pending_steps = 0;
    }
  }

  void publish(bool force_weights) {
    auto s = std::make_shared<Snapshot>();
    const Run& r = *run;
    s->state = state;
    s->message = message;
    s->user_code_stopped = user_code_stopped;
    s->notice = notice;
    s->notices = notices;
    s->device = r.device_name;
    s->step_engine = r.step->name();
    s->model = r.model;
    s->train = r.train;
    s->dataset = r.data.name();
    s->run_id = run_id;
    s->step = r.progress.step;
    s->epoch = r.progress.epoch;
    s->epoch_progress = double(r.progress.epoch_offset) / double(r.train_x.size(0));
    s->samples_per_s = rate;
    s->stepped_samples = stepped_samples;
    s->step_seconds = step_seconds;
    s->last_step = last_step;
    s->last_epoch = last_epoch;
    s->have_epoch = have_epoch;
    // Copying the weights costs about as much as a tenth of a step; ten copies a second are plenty.
    const auto now = Clock::now();
    if (!weights || (published_version != weights_version &&
                     (force_weights || now - weights_time > std::chrono::milliseconds(100)))) {
      weights = pool.copy_of(*run->net, r.device);
      published_version = weights_version;
      weights_step = r.progress.step;
      weights_time = now;
    }
    s->weights = weights;
    s->weights_step = weights_step;
    std::atomic_store(&snapshot, std::shared_ptr<const Snapshot>(std::move(s)));
  }

  void start_thread() {
    thread = std::thread([this] {
      pthread_setname_np(pthread_self(), "latent-trainer");  // for top -H, perf and per-thread CPU figures
      loop();
    });
  }
};

Trainer::Trainer(Dataset data, ModelConfig model, TrainConfig train) : impl_(std::make_unique<Impl>()) {
  impl_->install(make_run(std::move(data), std::move(model), std::move(train), nullptr));
  impl_->publish(true);
  impl_->start_thread();
}

Trainer::Trainer(Dataset data, const Checkpoint& checkpoint, TrainConfig train) : impl_(std::make_unique<Impl>()) {
  RunHistory history = read_history(checkpoint);
  impl_->install(make_run(std::move(data), checkpoint.model, std::move(train), &checkpoint), std::move(history));
  impl_->publish(true);
  impl_->start_thread();
}

Trainer::~Trainer() {
  {
    std::lock_guard<std::mutex> lock(impl_->queue_mutex);
    impl_->stop = true;
  }
  impl_->queue_cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void Trainer::start() { impl_->enqueue({Command::Start}); }
void Trainer::pause() { impl_->enqueue({Command::Pause}); }

void Trainer::set_thread_nice(int nice) { impl_->thread_nice = nice; }

void Trainer::step(int count) {
  Command c{Command::Step};
  c.count = std::max(1, count);
  impl_->enqueue(std::move(c));
}

void Trainer::reset(ModelConfig model, TrainConfig train, Dataset data) {
  Command c{Command::Reset};
  c.model = std::move(model);
  c.train = std::move(train);
  c.data = std::move(data);
  impl_->enqueue(std::move(c));
}

void Trainer::reload(ModelConfig model) {
  Command c{Command::Reload};
  c.model = std::move(model);
  impl_->enqueue(std::move(c));
}

void Trainer::set_learning_rate(double lr) {
  Command c{Command::SetLearningRate};
  c.value = lr;
  impl_->enqueue(std::move(c));
}

void Trainer::set_beta(double beta) {
  Command c{Command::SetBeta};
  c.value = beta;
  impl_->enqueue(std::move(c));
}

void Trainer::set_warmup_epochs(double epochs) {
  Command c{Command::SetWarmup};
  c.value = epochs;
  impl_->enqueue(std::move(c));
}

std::future<std::string> Trainer::save(const std::string& path) {
  Command c{Command::Save};
  c.path = path;
  c.done = std::make_shared<std::promise<std::string>>();
  auto future = c.done->get_future();
  impl_->enqueue(std::move(c));
  return future;
}

std::shared_ptr<const Snapshot> Trainer::snapshot() const { return std::atomic_load(&impl_->snapshot); }

std::vector<StepRecord> Trainer::steps_after(int64_t step) const {
  std::lock_guard<std::mutex> lock(impl_->log_mutex);
  const auto& log = impl_->step_log;
  size_t first = log.size();
  while (first > 0 && log[first - 1].step > step) --first;  // the new records are at the end
  return {log.begin() + long(first), log.end()};
}

std::vector<EpochRecord> Trainer::epochs_since(size_t first) const {
  std::lock_guard<std::mutex> lock(impl_->log_mutex);
  if (first >= impl_->epoch_log.size()) return {};
  return {impl_->epoch_log.begin() + long(first), impl_->epoch_log.end()};
}

bool Trainer::wait_until_settled(double timeout_s) const {
  std::unique_lock<std::mutex> lock(impl_->queue_mutex);
  return impl_->settled_cv.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] { return impl_->settled; });
}

}  // namespace latent
