#include "train/run.h"

#include <algorithm>
#include <random>

#include "data/dataset_impl.h"
#include "io/run_history.h"
#include "latent/error.h"
#include "latent/inference.h"
#include "latent/platform.h"
#include "latent/resources.h"
#include "model/vae_impl.h"
#include "objective/objective.h"
#include "platform/platform.h"
#include "uses/corruption_math.h"

namespace latent {
namespace {

// Labels as int64 [n] after checking that a conditional model can train on them: every image
// labelled, with the model's number of classes.
torch::Tensor conditional_labels(const Dataset& data, const ModelConfig& model, const std::vector<int32_t>& labels,
                                 int64_t n) {
  if (!data.labeled())
    throw Error("a conditional model needs labelled data: dataset " + data.name() +
                " has no labels (image folders give one class per subfolder; .npy files take --labels)");
  if (data.classes() != model.classes)
    throw Error("the conditional model is for " + std::to_string(model.classes) + " classes but dataset " + data.name() +
                " has " + std::to_string(data.classes()));
  std::vector<int64_t> out(labels.begin(), labels.begin() + n);
  for (int64_t label : out)
    if (label < 0 || label >= model.classes)
      throw Error("a conditional model needs every image labelled: dataset " + data.name() + " has unlabelled images");
  return torch::tensor(out, torch::kLong);
}

// The training rows the VampPrior's K pseudo-inputs start from: spread evenly over the first n;
// under a conditional model, row k is an image of class k mod classes (spread over that class's
// images), so that pseudo-input k and its fixed class agree (model/prior.h).
torch::Tensor pseudo_input_rows(const ModelConfig& model, const torch::Tensor& labels, int64_t n) {
  const int64_t k = model.prior_components;
  if (!model.conditional()) {
    const int64_t m = std::min<int64_t>(k, n);
    return torch::arange(m, torch::kLong).mul_(n).div_(m, "floor");
  }
  std::vector<std::vector<int64_t>> by_class(size_t(model.classes));
  const int64_t* label = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) by_class[size_t(label[i])].push_back(i);
  std::vector<int64_t> picked(static_cast<size_t>(k));
  for (int64_t j = 0; j < k; ++j) {
    const auto& pool = by_class[size_t(j % model.classes)];
    const int64_t of_class = (k - 1 - j % model.classes) / model.classes + 1;  // pseudo-inputs of this class
    // A class with no training images (a small --limit) starts from any image.
    picked[size_t(j)] = pool.empty() ? j * n / k : pool[size_t((j / model.classes) * int64_t(pool.size()) / of_class)];
  }
  return torch::tensor(picked, torch::kLong);
}

}  // namespace

torch::Tensor epoch_order(int64_t n, uint64_t seed, int epoch, torch::Device device) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + uint64_t(epoch) + 1);
  std::vector<int64_t> index(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) index[size_t(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(index[size_t(i)], index[size_t(rng() % uint64_t(i + 1))]);
  return torch::from_blob(index.data(), {n}, torch::kInt64).clone().to(device);
}

std::vector<std::pair<std::string, torch::Tensor>> named_state(const Adam& adam, const std::vector<torch::Tensor>& state) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (size_t i = 0; i < state.size(); ++i) out.emplace_back(adam.params[i].first, state[i]);
  return out;
}

std::unique_ptr<Run> make_run(Dataset data, ModelConfig model, TrainConfig train, const Checkpoint* resume) {
  if (data.empty()) throw Error("no dataset loaded");
  if (std::string problem = validate(model); !problem.empty()) throw Error(problem);
  if (std::string problem = validate(train); !problem.empty()) throw Error(problem);
  if (std::string problem = image_mismatch(model, data.channels(), data.height(), data.width(), "dataset " + data.name());
      !problem.empty())
    throw Error(problem);
  // Before anything of the model is allocated: a run too large for the machine is refused with its
  // estimate, not killed half-way.
  check_model_fits(model, train, data.train_size(), data.test_size());
  auto run = std::make_unique<Run>();
  run->device_name = resolve_device(train.device);
  run->device = to_torch_device(run->device_name);
  run->net = make_model(model, train.seed);
  if (model.script) run->script_steps_before = std::max<int64_t>(0, model.script->step);
  const auto& d = data.impl();
  int64_t n = train.limit > 0 ? std::min<int64_t>(train.limit, d.train.size(0)) : d.train.size(0);
  run->net->initialize_output_bias(unit_pixel_mean(d.train.narrow(0, 0, n)));
  torch::Tensor labels;
  if (model.conditional()) {
    labels = conditional_labels(data, model, d.train_labels, n);
    conditional_labels(data, model, d.test_labels, int64_t(d.test_labels.size()));  // every test image's too
  }
  if (model.prior_components > 0) {
    // A prior that starts from data (the VampPrior) gets K training images spread over the set.
    const torch::Tensor rows = pseudo_input_rows(model, labels, n);
    run->net->prior().initialize_from_data(d.train.index_select(0, rows).to(torch::kFloat32).div_(255.0f));
  }
  run->net->to(run->device);
  run->adam = std::make_unique<Adam>(named_trainables(*run->net), train.learning_rate);
  run->step = make_training_step(*run->net, TrainingStep::Gradients::IntoParameters);
  // A user's module may keep state its forward pass updates (batch norm's running statistics), which
  // shards running it at once would race on: its threads split each operation instead.
  if (model.script && train.parallel == ParallelMode::Batch) train.parallel = ParallelMode::Blas;
  if (run->device.is_cpu() && train.threads > 1 && train.parallel == ParallelMode::Batch) {
    run->shards = std::make_unique<ShardPool>(train.threads, "latent-shard");
    for (int i = 1; i < train.threads; ++i) {
      run->shard_steps.push_back(make_training_step(*run->net, TrainingStep::Gradients::Own));
      run->shard_gradients.push_back(&run->shard_steps.back()->gradients());
    }
  }
  if (resume) {
    load_arrays(run->adam->params, "vae.", *resume, "checkpoint");
    load_arrays(named_state(*run->adam, run->adam->exp_avg), "adam.m.", *resume, "checkpoint");
    load_arrays(named_state(*run->adam, run->adam->exp_avg_sq), "adam.v.", *resume, "checkpoint");
    run->progress = resume->progress;
    run->adam->steps = resume->progress.step;
  }
  run->train_x = d.train.narrow(0, 0, n).to(run->device);
  if (labels.defined()) run->train_labels = labels.to(run->device);
  if (run->progress.epoch_offset >= n) {
    run->progress.epoch_offset = 0;
    ++run->progress.epoch;
  }
  run->order = epoch_order(n, train.seed, run->progress.epoch, run->device);
  run->eps_gen = make_generator(train.seed ^ (0xD1B54A32D192ED03ULL + uint64_t(run->progress.step)));
  run->corrupt_gen = make_generator(train.seed ^ (0x9E3779B97F4A7C15ULL + uint64_t(run->progress.step)));
  run->data = std::move(data);
  run->model = std::move(model);
  run->train = std::move(train);
  return run;
}

}  // namespace latent
