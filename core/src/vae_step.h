#pragma once
// Internal: one training step's forward and backward pass of the MLP VAE, written out by hand.
//
// Autograd would record every operation, allocate every intermediate and differentiate the
// closed forms again. Here the gradient of each term is the closed form itself:
//   Bernoulli:  ∂/∂l  Σ BCE(l, x)           = sigmoid(l) − x
//   Gaussian:   ∂/∂o  Σ (x − s)²/(2σ²)       = (s − x)·s(1 − s)/σ²,  s = sigmoid(o)
//               ∂/∂logσ                      = P − Σ (x − s)²/σ²   (per image)
//   KL:         ∂/∂μ KL = μ,  ∂/∂logσ² KL = ½(σ² − 1)
//   z = μ + σ·ε: ∂z/∂μ = 1,   ∂z/∂logσ² = ½ σ ε
// and each Linear/activation pair backpropagates with BLAS calls into buffers kept between
// steps, so a step allocates nothing once the batch size has been seen (tests/test_vae_step.cpp
// checks every gradient against autograd).
#include <torch/torch.h>

#include <vector>

#include "vae_net.h"

namespace latent {

// Per-image means of the step's terms: loss = recon + β·kl.
struct StepTerms {
  double loss = 0, recon = 0, kl = 0;
};

class VaeStep {
 public:
  explicit VaeStep(VaeNetImpl& net);

  // Forward and backward over the batch `x` [B, P] with noise `eps` [B, D]. Writes ∂loss/∂θ into
  // every trainable parameter's grad() (overwritten, not accumulated) and returns the terms.
  StepTerms run(const torch::Tensor& x, const torch::Tensor& eps, double beta);

 private:
  struct Layer {
    torch::nn::LinearImpl* linear;
    bool activated;     // followed by the model's activation
    torch::Tensor out;  // [B, out] after the activation (when there is one)
    torch::Tensor grad_in;  // [B, in] ∂loss/∂input, for all but the encoder's first layer
  };

  void allocate(int64_t batch, const torch::TensorOptions& options);
  void forward(std::vector<Layer>& layers, const torch::Tensor& input);
  // Backpropagates `grad` (∂loss/∂ the last layer's activated output, overwritten) through the
  // layers in reverse, filling their parameters' grad(). Returns ∂loss/∂input, or an undefined
  // tensor when `need_input_grad` is false (the encoder's input is the data).
  torch::Tensor backward(std::vector<Layer>& layers, const torch::Tensor& input, torch::Tensor grad,
                         bool need_input_grad);
  void activation_backward(torch::Tensor& grad, const torch::Tensor& activated_out) const;
  // ∂loss/∂(decoder output) into grad_out_, and the summed reconstruction term.
  torch::Tensor reconstruction(const torch::Tensor& out, const torch::Tensor& x, int64_t batch);

  VaeNetImpl& net_;
  std::vector<Layer> encoder_, decoder_;  // encoder body; decoder body including its output layer
  torch::nn::LinearImpl* mu_head_;
  torch::nn::LinearImpl* logvar_head_;
  int64_t batch_ = -1;
  torch::Tensor mu_, logvar_, std_, z_;
  torch::Tensor grad_mu_, grad_logvar_, grad_h_;
  torch::Tensor mean_, scratch_, grad_out_, terms_;
};

}  // namespace latent
