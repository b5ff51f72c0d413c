#include "comparison.h"

#include "latent/history.h"
#include "latent/torchscript.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "latent/checkpoint.h"
#include "latent/error.h"
#include "scene.h"

namespace latent::app {
namespace {

std::string beta_text(double beta) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", beta);
  return text;
}

// The training loss as the curves compare it: −ELBO per image at β = 1, whatever β the run used.
void append_steps(const std::vector<StepRecord>& records, size_t first, std::vector<double>& steps, std::vector<double>& losses) {
  for (size_t i = first; i < records.size(); ++i) {
    steps.push_back(double(records[i].step));
    losses.push_back(records[i].recon + records[i].kl);
  }
}

}  // namespace

Comparison::~Comparison() = default;

void Comparison::set_source(Source source) {
  if (source == source_) return;
  if (source_ == Source::SecondRun) pause_second_run();  // not shown any more: it stops taking the CPU
  source_ = source;
  b_ = Side();
  b_curve_step_ = -1;
  b_shown_ = {nullptr, -1};
  z_decoded_b_.clear();
  inbox_->b.reset();
  b_asked_ = -1, b_asked_at_ = -1e9;
  ++b_weights_;
}

std::pair<int, int> Comparison::pad_dims_for(int dim_x, int dim_y, int latent_dim) {
  if (dim_x < latent_dim && dim_y < latent_dim) return {dim_x, dim_y};
  return {0, latent_dim > 1 ? 1 : 0};
}

LatentMatrix Comparison::z_for(const std::vector<float>& z, int dim_x, int dim_y, int latent_dim) {
  LatentMatrix out{1, latent_dim, std::vector<float>(size_t(latent_dim), 0.0f)};
  if (int(z.size()) == latent_dim) {
    out.values = z;
    return out;
  }
  const auto [bx, by] = pad_dims_for(dim_x, dim_y, latent_dim);
  if (dim_x >= 0 && dim_x < int(z.size())) out.values[size_t(bx)] = z[size_t(dim_x)];
  if (dim_y >= 0 && dim_y < int(z.size()) && by != bx) out.values[size_t(by)] = z[size_t(dim_y)];
  return out;
}

std::string Comparison::why_empty(const AppState& state) const {
  if (b_.vae) return "";
  switch (source_) {
    case Source::Moment:
      return state.timeline.empty() ? "The timeline keeps moments of the run as it trains: train a few steps, then pick one."
                                    : "";
    case Source::Checkpoint:
      return "Open a checkpoint (.ckpt) of a model for these images, e.g. one saved with another beta.";
    case Source::SecondRun:
      return "Start a second run: this model's setup with the beta, architecture or latent size below, trained beside this one.";
  }
  return "";
}

void Comparison::open_checkpoint(AppState& state, const std::string& path) {
  try {
    if (state.data.empty()) throw Error("no dataset loaded");
    if (path.empty()) throw Error("the checkpoint path is empty");
    const Checkpoint c = read_usable_checkpoint(path);
    const Dataset& d = state.data;
    check_checkpoint_fits(c, path, d.channels(), d.height(), d.width(), "dataset " + d.name(), d.classes());
    checkpoint_vae_ = Vae::from_checkpoint(c);
    checkpoint_step_ = c.progress.step;
    b_data_ = d.spec();
    checkpoint_path_ = path;
    ++b_weights_;
    state.notify("Side by side: B is " + path, false);
  } catch (const std::exception& e) {
    state.notify(std::string("Side by side: B not loaded, it stays as it was: ") + e.what(), true, 0);
  }
}

void Comparison::start_second_run(AppState& state, double beta, const std::string& architecture, int latent_dim,
                                  double warmup_epochs) {
  try {
    if (!state.snapshot || state.data.empty()) throw Error("no model to start from");
    ModelConfig model = state.snapshot->model;
    if (model.script) throw Error("a PyTorch model cannot be built again here; compare it with a checkpoint or a moment instead");
    model.architecture = architecture;
    model.latent_dim = latent_dim;
    TrainConfig train = state.snapshot->train;
    train.beta = beta;
    train.warmup_epochs = warmup_epochs;
    train.epochs = 0;
    train.threads = 1;
    if (std::string problem = validate(model); !problem.empty()) throw Error(problem);
    if (std::string problem = validate(train); !problem.empty()) throw Error(problem);
    auto fresh = std::make_unique<Trainer>(state.data, model, train);  // may throw: the old one stays
    fresh->set_thread_nice(kTrainerNice);
    fresh->start();
    second_ = std::move(fresh);
    b_data_ = state.data.spec();
    second_snapshot_.reset();
    b_.steps.clear(), b_.losses.clear();
    ++b_weights_;
  } catch (const std::exception& e) {
    state.notify(std::string("Side by side: the second run did not start: ") + e.what(), true, 0);
  }
}

AppState::SceneExtras Comparison::scene_flags(const AppState& state, const std::string& scene_path) const {
  switch (source_) {
    case Source::Checkpoint:
      if (checkpoint_path_.empty() || !b_.vae) return {};
      return {{"--compare", absolute_path(checkpoint_path_)}, {}};
    case Source::SecondRun: {
      if (!second_) return {};
      const auto snapshot = second_->snapshot();
      AppState::SceneExtras extras;
      extras.flags = {"--compare-beta", scene_number(snapshot->train.beta), "--compare-warmup", scene_number(snapshot->train.warmup_epochs)};
      if (!state.snapshot || snapshot->model.architecture != state.snapshot->model.architecture)
        extras.flags.insert(extras.flags.end(), {"--compare-arch", snapshot->model.architecture});
      if (!state.snapshot || snapshot->model.latent_dim != state.snapshot->model.latent_dim)
        extras.flags.insert(extras.flags.end(), {"--compare-latent", std::to_string(snapshot->model.latent_dim)});
      return extras;
    }
    case Source::Moment: {
      if (!b_.vae) return {};
      std::filesystem::path path(scene_path);
      path.replace_filename(path.stem().string() + "-b.ckpt");
      const std::string file = absolute_path(path.string());
      const std::shared_ptr<const Vae> vae = b_.vae;
      const int64_t step = b_shown_.second;
      const std::string dataset = state.data.name();
      return {{"--compare", file}, {[vae, step, dataset, file] {
                try {
                  write_weights(*vae, file, dataset, step);
                } catch (const Error& e) {
                  throw Error("Side by side's B (step " + std::to_string(step) + "): " + e.what());
                }
              }}};
    }
  }
  return {};
}

bool Comparison::second_run_training() const {
  return second_ && second_->snapshot()->state == TrainerState::Running;
}
void Comparison::pause_second_run() {
  if (second_) second_->pause();
}
void Comparison::resume_second_run() {
  if (second_) second_->start();
}

void Comparison::restart(AppState& state) {
  a_ = Side();
  a_shown_ = -1;
  a_steps_seen_ = 0;
  z_decoded_a_.clear();
  inbox_ = std::make_shared<Inbox>();  // a result still being computed is for the old run
  a_asked_ = b_asked_ = -1;
  a_asked_at_ = b_asked_at_ = -1e9;
  ++a_weights_;
  moment = 0;
  // B from elsewhere is kept while it still fits the images.
  const Dataset& d = state.data;
  const auto fits = [&](const ModelConfig& m) {
    return !d.empty() && d.spec() == b_data_ && m.image_channels == d.channels() && m.image_height == d.height() && m.image_width == d.width() &&
           (m.classes == 0 || m.classes == d.classes());
  };
  if (checkpoint_vae_ && !fits(checkpoint_vae_->config())) checkpoint_vae_.reset(), checkpoint_path_.clear();
  if (second_snapshot_ && !fits(second_snapshot_->model)) second_.reset(), second_snapshot_.reset();
  b_ = Side();
  b_curve_step_ = -1;
  b_shown_ = {nullptr, -1};
  z_decoded_b_.clear();
  if (second_) append_steps(second_->steps_after(), 0, b_.steps, b_.losses);
  ++b_weights_;
}

void Comparison::decode(AppState& state, Side& side) {
  side.decoded = ImageBatch();
  if (!side.vae) return;
  const ModelConfig& m = side.vae->config();
  std::vector<int32_t> labels;
  if (m.conditional()) labels = {std::clamp(state.condition_class, 0, m.classes - 1)};
  const LatentMatrix z = z_for(state.z, state.pad_dim_x, state.pad_dim_y, m.latent_dim);
  if (runs_user_code(m)) {
    // A user's model decodes on the worker; a later request for this side replaces this one.
    auto vae = side.vae;
    Side* target = &side;
    state.submit(&side == &a_ ? "compare-decode-a" : "compare-decode-b", [vae, z, labels, target] {
      auto image = std::make_shared<ImageBatch>(vae->decode(z, labels));
      return [vae, image, target] {
        if (target->vae != vae) return;  // the side shows another model since
        target->decoded = std::move(*image);
        ++target->decoded_generation;
      };
    });
    return;
  }
  try {
    side.decoded = side.vae->decode(z, labels);
  } catch (const std::exception& e) {
    state.notify(std::string("Side by side: decoding failed: ") + e.what(), true);
  }
  ++side.decoded_generation;
}

void Comparison::refresh(AppState& state, Side& side, const std::string& key, int64_t& asked_generation, double& asked_at,
                         int64_t weights_generation) {
  if (!side.vae || state.data.test_size() == 0 || asked_generation == weights_generation || state.busy(key)) return;
  // While the weights keep changing (training), at most every 3 s; at once after a choice.
  // A replay waits for A's results, so A's are asked at once then; a training B keeps its pace.
  if (asked_generation >= 0 && state.now - asked_at < 3.0 && !(state.replay_moment && &side == &a_)) return;
  asked_generation = weights_generation, asked_at = state.now;
  const auto vae = side.vae;
  const Dataset data = state.data;
  const bool is_a = &side == &a_;
  auto inbox = inbox_;
  state.submit(key, [vae, data, inbox, is_a, weights_generation] {
    auto result = std::make_shared<Inbox::Result>(Inbox::Result{
        encode_test_set(*vae, data, kEncoded), evaluate_bounds(*vae, data, kIwSamples, false, kBoundImages, 7), weights_generation});
    return [inbox, result, is_a] { (is_a ? inbox->a : inbox->b) = std::move(*result); };
  });
}

void Comparison::update(AppState& state) {
  if (state.run_generation != run_generation_) {
    if (run_generation_ >= 0) restart(state);
    run_generation_ = state.run_generation;
  }
  for (auto [side, result] : {std::pair{&a_, &inbox_->a}, std::pair{&b_, &inbox_->b}}) {
    if (!*result) continue;
    side->encoded = std::move((*result)->encoded);
    side->bound = std::move((*result)->bound);
    side->results_version = (*result)->weights_version;
    ++side->encoded_generation;
    result->reset();
  }

  // A: what the explorer shows (live, or the timeline's chosen moment).
  const auto a_vae = state.weights();
  if (state.weights_generation != a_shown_) a_shown_ = state.weights_generation, ++a_weights_;
  a_.vae = a_vae;
  a_.weights_version = a_weights_;
  if (state.steps.size() < a_steps_seen_ || state.steps_generation != a_steps_generation_)
    a_.steps.clear(), a_.losses.clear(), a_steps_seen_ = 0, a_steps_generation_ = state.steps_generation;
  append_steps(state.steps, a_steps_seen_, a_.steps, a_.losses);
  a_steps_seen_ = state.steps.size();
  if (state.snapshot) {
    const int64_t step = state.replay_moment                                                    ? state.replay_moment->step
                         : state.timeline_view >= 0 && state.timeline_view < int(state.timeline.size()) ? state.timeline[size_t(state.timeline_view)].step
                                                                                                 : state.snapshot->weights_step;
    a_.label = "A: this run, step " + std::to_string(step) + ", beta " + beta_text(state.snapshot->train.beta);
  }

  // B.
  std::shared_ptr<const Vae> b_vae;
  int64_t b_step = -1;
  switch (source_) {
    case Source::Moment:
      if (!state.timeline.empty()) {
        moment = std::clamp(moment, 0, int(state.timeline.size()) - 1);
        const TimelineEntry& e = state.timeline[size_t(moment)];
        b_vae = e.weights;
        b_step = e.step;
        b_.label = "B: this run at step " + std::to_string(e.step);
        // Its history is A's up to that step, copied when another moment is chosen (not every frame).
        if (b_curve_step_ != e.step || b_.steps.empty()) {
          const auto end = std::upper_bound(a_.steps.begin(), a_.steps.end(), double(e.step));
          b_.steps.assign(a_.steps.begin(), end);
          b_.losses.assign(a_.losses.begin(), a_.losses.begin() + (end - a_.steps.begin()));
          b_curve_step_ = e.step;
        }
      }
      break;
    case Source::Checkpoint:
      b_vae = checkpoint_vae_;
      b_step = checkpoint_step_;
      if (b_vae) b_.label = "B: " + std::filesystem::path(checkpoint_path_).filename().string() + ", step " + std::to_string(checkpoint_step_);
      break;
    case Source::SecondRun:
      if (second_) {
        second_snapshot_ = second_->snapshot();
        b_vae = second_snapshot_->weights;
        b_step = second_snapshot_->weights_step;
        append_steps(second_->steps_after(b_.steps.empty() ? -1 : int64_t(b_.steps.back())), 0, b_.steps, b_.losses);
        thin_history(b_.steps, kStepHistoryKept), thin_history(b_.losses, kStepHistoryKept);  // the same entries of each
        const ModelConfig& m = second_snapshot_->model;
        const TrainConfig& t = second_snapshot_->train;
        b_.label = "B: second run, " + m.architecture + ", " + std::to_string(m.latent_dim) + "-D, beta " + beta_text(t.beta) +
                   (t.warmup_epochs > 0 ? " (warm-up " + beta_text(t.warmup_epochs) + " epochs)" : "") + ", step " +
                   std::to_string(second_snapshot_->weights_step);
      }
      break;
  }
  if (std::make_pair(b_vae.get(), b_step) != b_shown_) b_shown_ = {b_vae.get(), b_step}, ++b_weights_;
  b_.vae = b_vae;
  b_.weights_version = b_weights_;

  // The same z under both, decoded in the frame it changes.
  if (a_.vae && (state.z != z_decoded_a_ || state.condition_class != class_decoded_a_ || a_decoded_weights_ != a_weights_)) {
    decode(state, a_);
    z_decoded_a_ = state.z, class_decoded_a_ = state.condition_class, a_decoded_weights_ = a_weights_;
  }
  if (b_.vae && (state.z != z_decoded_b_ || state.condition_class != class_decoded_b_ || b_decoded_weights_ != b_weights_)) {
    decode(state, b_);
    z_decoded_b_ = state.z, class_decoded_b_ = state.condition_class, b_decoded_weights_ = b_weights_;
  }
  refresh(state, a_, "compare-a", a_asked_, a_asked_at_, a_weights_);
  refresh(state, b_, "compare-b", b_asked_, b_asked_at_, b_weights_);
}

}  // namespace latent::app
