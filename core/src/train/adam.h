#pragma once
// Internal: Adam (Kingma & Ba) over a fixed list of parameters, with preallocated state so a step
// allocates nothing, and state that is plain tensors for checkpoints and divergence recovery.
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "train/kernels.h"

namespace latent {

class ShardPool;

class Adam {
 public:
  Adam(std::vector<std::pair<std::string, torch::Tensor>> params, double lr, double beta1 = 0.9,
       double beta2 = 0.999, double eps = 1e-8);

  // m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)
  // On the CPU one fused pass per parameter; elsewhere (a GPU, or a parameter that is not a
  // contiguous float32 tensor) LibTorch ops with one host sync per step. Returns false when the
  // step is divergent: a gradient held a non-finite value, or one so large that v overflowed (a
  // finite g with |g| > ~6e20). Then the parameters and moments may be partly updated, and the
  // caller must restore_backup().
  bool step();
  // The same step for a gradient that comes in parts, one per shard of a batch split across
  // `pool`'s threads: params[i]'s grad() holds the first part, (*other_parts[k])[i] the others.
  // On the CPU (float32, contiguous) each thread adds the parts (into grad(), which then holds the
  // whole gradient) and updates its own slice of every parameter; elsewhere the parts are added
  // into grad() and step() runs.
  bool step(ShardPool& pool, const std::vector<const std::vector<torch::Tensor>*>& other_parts);
  void zero_grad();

  // A copy of the parameters and the moments, kept to roll back to after a divergent step.
  // Copies into preallocated buffers: no allocation after the first call.
  void keep_backup();
  bool has_backup() const { return backup_steps_ >= 0; }
  // Restores the kept copy; returns the optimizer step count it was taken at.
  int64_t restore_backup();

  double learning_rate = 1e-3;
  int64_t steps = 0;
  std::vector<std::pair<std::string, torch::Tensor>> params;
  std::vector<torch::Tensor> exp_avg, exp_avg_sq;

 private:
  // Every parameter, gradient and moment a contiguous float32 CPU tensor: the fused kernel applies.
  bool all_fusable() const;
  // Counts the step and returns its scalars (the bias corrections for the new step count).
  AdamScalars next_scalars();
  double beta1_, beta2_, eps_;
  double step_size_ = 0, inv_sqrt_bias2_ = 0;  // next_scalars()'s, in double for the unfused path
  std::vector<torch::Tensor> denom_;
  std::vector<torch::Tensor> backup_params_, backup_avg_, backup_avg_sq_;
  int64_t backup_steps_ = -1;
};

}  // namespace latent
