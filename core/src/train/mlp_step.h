#pragma once
// Internal: the MLP's training step written out by hand, the fast path the trainer picks for the
// MLP on the CPU (make_training_step). It computes the terms objective.h defines; evaluations go
// through objective.h itself.
//
// Autograd would record every operation, allocate every intermediate and differentiate the
// closed forms again. Here the gradient of each term is the closed form itself:
//   Bernoulli:  ∂/∂l  Σ BCE(l, x)           = sigmoid(l) − x
//   Gaussian:   ∂/∂o  Σ (x − s)²/(2σ²)       = (s − x)·s(1 − s)/σ²,  s = sigmoid(o)
//               ∂/∂logσ                      = P − Σ (x − s)²/σ²   (per image)
//   KL:         ∂/∂μ KL = μ,  ∂/∂logσ² KL = ½(σ² − 1)
//   z = μ + σ·ε: ∂z/∂μ = 1,   ∂z/∂logσ² = ½ σ ε
// and each Linear/activation pair backpropagates with BLAS calls into buffers kept between
// steps, so a step allocates nothing once a batch that large has been seen (tests/test_mlp_step.cpp
// checks the terms and every gradient against the autograd step). Smaller batches (an epoch's
// last) use the buffers' first rows.
#include <torch/torch.h>

#include <atomic>
#include <vector>

#include "model/mlp.h"
#include "train/training_step.h"

namespace latent {

class MlpStep : public TrainingStep {
 public:
  explicit MlpStep(MlpModel& net, Gradients where = Gradients::IntoParameters);
  // storage_ points at this object's own members.
  MlpStep(const MlpStep&) = delete;
  MlpStep& operator=(const MlpStep&) = delete;

  // Forward and backward over the batch `x` [B, P] with noise `eps` [B, D]. Writes ∂loss/∂θ into
  // the gradients (overwritten, not accumulated) and returns the terms. The loss is a mean over
  // `images` (0: B); a shard of a larger batch passes the whole batch's size, so that the shards'
  // terms and gradients add up to the batch's.
  StepTerms run(const torch::Tensor& x, const torch::Tensor& eps, double beta, int64_t images = 0,
                const torch::Tensor& y = {}, const torch::Tensor& target = {}) override;
  const char* name() const override { return "hand-written MLP step"; }

 private:
  struct Layer {
    torch::nn::LinearImpl* linear;
    torch::Tensor weight_grad, bias_grad;  // where run() writes this layer's gradients
    bool activated;     // followed by the model's activation
    torch::Tensor out;  // [B, out] after the activation (when there is one)
    torch::Tensor grad_in;  // [B, in] ∂loss/∂input, for all but the encoder's first layer
  };

  // Sizes the buffers for `batch` rows: reallocated only when larger than ever (or on another
  // device); otherwise views of their first rows.
  void prepare(int64_t batch, const torch::TensorOptions& options);
  // x → μ, log σ², σ, z = μ + σ·ε → the decoder's output (decoder_.back().out).
  void encode_decode(const torch::Tensor& x, const torch::Tensor& eps);
  void forward(std::vector<Layer>& layers, const torch::Tensor& input);
  // Backpropagates `grad` (∂loss/∂ the last layer's activated output, overwritten) through the
  // layers in reverse, filling their parameters' grad(). Returns ∂loss/∂input, or an undefined
  // tensor when `need_input_grad` is false (the encoder's input is the data).
  torch::Tensor backward(std::vector<Layer>& layers, const torch::Tensor& input, torch::Tensor grad,
                         bool need_input_grad);
  void activation_backward(torch::Tensor& grad, const torch::Tensor& activated_out) const;
  // The summed reconstruction term, and with `gradients` ∂loss/∂(decoder output) into grad_out_
  // (and a learned σ's gradient), for a loss that is a mean over `images`.
  torch::Tensor reconstruction(const torch::Tensor& out, const torch::Tensor& x, int64_t images, bool gradients);
  // The gradient tensor for parameter `p` (a handle sharing its storage): p's grad() or our own.
  torch::Tensor gradient_for(const torch::Tensor& p) const;
  // ½(σ² + μ² − log σ² − 1) per image and dimension, into grad_mu_ (its scratch until the backward).
  void kl_terms();

  MlpModel& net_;
  std::vector<Layer> encoder_, decoder_;  // encoder body; decoder body including its output layer
  torch::nn::LinearImpl* mu_head_;
  torch::nn::LinearImpl* logvar_head_;
  torch::Tensor mu_weight_grad_, mu_bias_grad_, logvar_weight_grad_, logvar_bias_grad_, log_sigma_grad_;
  int64_t batch_ = -1, capacity_ = 0;
  torch::Tensor mu_, logvar_, std_, z_;
  torch::Tensor grad_mu_, grad_logvar_, grad_h_;
  torch::Tensor mean_, scratch_, grad_out_;
  // Each buffer above (and each layer's out and grad_in) at full capacity; they are views of these.
  std::vector<std::pair<torch::Tensor*, torch::Tensor>> storage_;
};

}  // namespace latent
