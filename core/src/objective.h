#pragma once
// Internal: the terms of the ELBO, in nats.
//   log p(x) ≥ E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)) = ELBO,   loss = recon + β·KL = −ELBO when β = 1.
#include <torch/torch.h>


#include "latent/evaluation.h"
#include "vae_net.h"

namespace latent {

// KL(N(μ, diag σ²) ‖ N(0, I)) per dimension, in closed form: ½ (μ² + σ² − log σ² − 1). [B, D]
torch::Tensor kl_per_dim(const torch::Tensor& mu, const torch::Tensor& logvar);
// Summed over dimensions. [B]
torch::Tensor kl_per_image(const torch::Tensor& mu, const torch::Tensor& logvar);

// Reparameterization: z = μ + σ·ε with σ = exp(½ log σ²), so gradients reach μ and log σ².
torch::Tensor reparameterize(const torch::Tensor& mu, const torch::Tensor& logvar,
                             const torch::Tensor& eps);

// −log p(x|z) per image, summed over pixels. [B]
// Bernoulli from logits l, stable form: Σ max(l, 0) − l·x + log(1 + e^−|l|).
torch::Tensor bernoulli_nll(const torch::Tensor& logits, const torch::Tensor& x);
// Gaussian with mean sigmoid(out) and std σ: Σ (x − mean)² / (2σ²) + log σ + ½ log 2π.
torch::Tensor gaussian_nll(const torch::Tensor& out, const torch::Tensor& x, const torch::Tensor& log_sigma);
torch::Tensor reconstruction_nll(VaeNetImpl& net, const torch::Tensor& decoder_out, const torch::Tensor& x);

// E[x|z]: sigmoid of the decoder output for both likelihoods.
torch::Tensor decoder_mean(const torch::Tensor& decoder_out);

// Rows of ε per draw in evaluate_images() (and VaeStep::evaluate(), which draws alike).
constexpr int64_t kEvalNoiseRows = 1000;

// Test-set ELBO over images `x` (rows), in chunks of kEvalNoiseRows, with ε from a generator seeded
// by `seed`.
Evaluation evaluate_images(VaeNetImpl& net, const torch::Tensor& x, uint64_t seed);

torch::Generator make_generator(uint64_t seed);

}  // namespace latent
