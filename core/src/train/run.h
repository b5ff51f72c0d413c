#pragma once
// Internal: one training run of the trainer thread (trainer.cpp), built whole or not at all, so that
// a bad reset loses nothing: the model on its device, Adam, the step (and the batch split's shards),
// the data on the device, the generators and the progress.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "latent/checkpoint.h"
#include "latent/config.h"
#include "latent/dataset.h"
#include "model/model.h"
#include "train/adam.h"
#include "train/shard_pool.h"
#include "train/training_step.h"

namespace latent {

// Everything one training run owns. Built whole (or not at all), so a bad reset loses nothing.
struct Run {
  Dataset data;
  ModelConfig model;
  TrainConfig train;
  std::string device_name;
  torch::Device device{torch::kCPU};
  ModelPtr net;
  // A TorchScript model's steps before this run (its file's `step`), which a save adds to the run's
  // own; 0 once a reload has moved the progress to the file's step.
  int64_t script_steps_before = 0;
  std::unique_ptr<Adam> adam;
  std::unique_ptr<TrainingStep> step;  // the forward/backward over `net` (make_training_step picks it)
  // With threads > 1 and ParallelMode::Batch on the CPU: the threads each step's images are split
  // across, and the forward/backward of shards 1.. (shard 0 is `step`), each with gradients of its
  // own that Adam adds to the parameters' (Adam::step(pool, parts)).
  std::unique_ptr<ShardPool> shards;
  std::vector<std::unique_ptr<TrainingStep>> shard_steps;
  std::vector<const std::vector<torch::Tensor>*> shard_gradients;
  TrainingStep& step_of_shard(int shard) { return shard == 0 ? *step : *shard_steps[size_t(shard - 1)]; }
  torch::Tensor eval_eps;  // with shards: the test set's ε for an evaluation, kept between epochs
  torch::Tensor train_x, order;
  torch::Tensor test_x;  // the test split on the device, from the first evaluation on (not at start-up)
  // A conditional model's classes: each training image's label (int64 [n], on the device), and the
  // test split's one-hot y (made with test_x).
  torch::Tensor train_labels, test_y;
  torch::Generator eps_gen;
  // A denoising run's corruption draws, from a generator of their own so that ε stays the same.
  torch::Generator corrupt_gen;
  // A step's images (x = byte / 255), its noise and, on a GPU, the batch's bytes gathered there,
  // kept between steps like the MLP step's buffers: a fresh 400 KB tensor a step is a page-faulted
  // mapping of its own where malloc maps large blocks (the explorer sets that up; perf showed the
  // training thread's page faults there).
  torch::Tensor batch_x, batch_eps, batch_bytes;
  TrainingProgress progress;
};

// Checks the configs against each other, the data and the machine's memory (before anything of the
// model is allocated), then builds the run; from `resume`'s weights, Adam state and progress when given.
// Throws latent::Error naming what is wrong.
std::unique_ptr<Run> make_run(Dataset data, ModelConfig model, TrainConfig train, const Checkpoint* resume);

// A permutation of [0, n) that depends only on (seed, epoch), so a resumed run sees the same order.
torch::Tensor epoch_order(int64_t n, uint64_t seed, int epoch, torch::Device device);

// Adam's per-parameter state under the parameters' names, as a checkpoint keeps it.
std::vector<std::pair<std::string, torch::Tensor>> named_state(const Adam& adam, const std::vector<torch::Tensor>& state);

}  // namespace latent
