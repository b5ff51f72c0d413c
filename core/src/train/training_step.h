#pragma once
// Internal: one training step's forward and backward pass, for any model. The trainer holds one per
// thread of a batch split across threads and knows only this interface.
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "model/model.h"

namespace latent {

// Per-image means of the step's terms: loss = recon + β·kl.
struct StepTerms {
  double loss = 0, recon = 0, kl = 0;
  // Under an estimated KL (model/prior.h): Σ over the images of KL², over `images`, for its standard error.
  double kl_squares = 0;
};

class TrainingStep {
 public:
  // Where run() writes ∂loss/∂θ: into the parameters' own grad(), or into gradient tensors of this
  // object's own (gradients(), in named_trainables() order), for a shard of a batch split across
  // threads whose parts are summed afterwards.
  enum class Gradients { IntoParameters, Own };
  TrainingStep(Model& model, Gradients where);
  virtual ~TrainingStep() = default;

  // Forward and backward over the batch `x` [B, C·H·W] (with its one-hot classes `y` for a
  // conditional model, Model::condition) with noise `eps` [B, D]: writes ∂loss/∂θ
  // into gradients() (overwritten, not accumulated) and returns the terms. The loss is a mean over
  // `images` (0: B); a shard of a larger batch passes the whole batch's size, so that the shards'
  // terms and gradients add up to the batch's. With `target` (a denoising VAE), the encoder sees x
  // (corrupted) and the likelihood scores target (the clean images).
  virtual StepTerms run(const torch::Tensor& x, const torch::Tensor& eps, double beta, int64_t images = 0,
                        const torch::Tensor& y = {}, const torch::Tensor& target = {}) = 0;
  // The gradients of the last run(), in named_trainables() order. A run() may replace these tensors
  // (and, writing into the parameters, their grad()) with new ones: hold the vector, not its
  // elements, across steps. One step per model writes into its parameters.
  const std::vector<torch::Tensor>& gradients() const { return gradients_; }
  // For logs: "autograd step" or "hand-written MLP step".
  virtual const char* name() const = 0;

 protected:
  // The model's trainable parameters (named_trainables() order), each with a grad() allocated, and
  // their gradients: the parameters' grad()s, or tensors of our own.
  std::vector<torch::Tensor> parameters_, gradients_;
  bool into_parameters_;
};

// The objective's gradient by backpropagation through the model's encode() and decode(): any model,
// any device.
class AutogradStep : public TrainingStep {
 public:
  explicit AutogradStep(Model& model, Gradients where = Gradients::IntoParameters);
  StepTerms run(const torch::Tensor& x, const torch::Tensor& eps, double beta, int64_t images = 0,
                const torch::Tensor& y = {}, const torch::Tensor& target = {}) override;
  const char* name() const override { return "autograd step"; }

 private:
  Model& model_;
};

// Which step a run uses: the hand-written one where it applies (the plain MLP under N(0, I) on the CPU: measured in
// docs/benchmarks.md), else autograd; or one of them by name, for tests and benchmarks.
enum class StepEngine { Auto, Autograd, HandWritten };
// Throws latent::Error when HandWritten is asked for a model it does not apply to.
std::unique_ptr<TrainingStep> make_training_step(Model& model, TrainingStep::Gradients where,
                                                 StepEngine engine = StepEngine::Auto);

}  // namespace latent
