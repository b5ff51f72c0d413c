#pragma once
// Internal: p(z), the prior every model's KL term and bounds use. A Model owns one (registered as
// its "prior" module, after the architecture's own parameters), so that a learned prior trains with
// the model, is saved in its checkpoint and is copied with its weights. A new prior is a class in
// prior.cpp and a line in make_prior.
//
//   normal  N(0, I); KL(q(z|x) ‖ p(z)) in closed form, per dimension.
//   mog     Σ_k π_k N(z; m_k, diag s_k²), with m, log s² and the logits of π learned.
//   vamp    (1/K) Σ_k q(z | u_k), the VampPrior: the encoder's posteriors of K learned
//           pseudo-inputs u_k (images, used clipped to [0, 1]); under a conditional model,
//           q(z | u_k, y_k) with the fixed class y_k = k mod classes.
// Under mog and vamp the KL term has no closed form; the objective uses the single-sample
// estimate log q(z|x) − log p(z) at the reparameterized z, whose mean over ε is the KL.
#include <torch/torch.h>

#include <memory>

#include "latent/config.h"

namespace latent {

class Model;

class Prior : public torch::nn::Module {
 public:
  // log p(z) for rows z [N, D] → [N]. `model` is the VAE the prior belongs to: the VampPrior
  // encodes its pseudo-inputs with it (differentiably, when grad mode is on).
  virtual torch::Tensor log_prob(const torch::Tensor& z, Model& model) = 0;
  // n draws from p(z) [n, D] on the prior's device, from `gen` only.
  virtual torch::Tensor sample(int64_t n, torch::Generator& gen, Model& model) = 0;
  // Whether KL(q ‖ p) has a closed form (kl_per_dim in objective.h); else it is estimated.
  virtual bool closed_form_kl() const { return false; }
  // Initial values, from `gen` only.
  virtual void initialize(torch::Generator& gen) {}
  // Initial values from training images, rows in [0, 1] ([M, C·H·W], M ≥ 1), for a prior that
  // starts from data (the VampPrior's pseudo-inputs: u_k from row ⌊k·M/K⌋, row k when M = K;
  // under a conditional model the trainer gives K rows, row k an image of class k mod classes); the trainer calls it on a new
  // run.
  virtual void initialize_from_data(const torch::Tensor& images) {}
  // The VampPrior's pseudo-inputs as images [K, C·H·W] in [0, 1]; undefined for other priors.
  virtual torch::Tensor pseudo_inputs() { return {}; }
};

// The prior config.prior names, with config.prior_components components.
std::shared_ptr<Prior> make_prior(const ModelConfig& config);

// log N(z; 0, I) and log N(z; μ, diag exp(logvar)) per row → [N].
torch::Tensor log_standard_normal(const torch::Tensor& z);
torch::Tensor log_diagonal_normal(const torch::Tensor& z, const torch::Tensor& mu, const torch::Tensor& logvar);
// log (1/…) Σ_k w_k N(z; μ_k, diag exp(logvar_k)) for rows z [N, D] and components [K, D] with
// log weights [K] (normalised) → [N].
torch::Tensor log_mixture(const torch::Tensor& z, const torch::Tensor& mu, const torch::Tensor& logvar,
                          const torch::Tensor& log_weights);

}  // namespace latent
