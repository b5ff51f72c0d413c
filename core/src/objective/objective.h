#pragma once
// Internal: the terms of the ELBO, in nats, written once for every model.
//   log p(x) ≥ E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)) = ELBO,   loss = recon + β·KL = −ELBO when β = 1.
// The autograd step differentiates elbo_terms(); the evaluations sum it without gradients; the
// hand-written MLP step (train/mlp_step.h) computes the same terms and is tested against it.
#include <torch/torch.h>

#include <atomic>
#include <vector>

#include "latent/evaluation.h"
#include "model/model.h"

namespace latent {

// KL(N(μ, diag σ²) ‖ N(0, I)) per dimension, in closed form: ½ (μ² + σ² − log σ² − 1). [B, D]
torch::Tensor kl_per_dim(const torch::Tensor& mu, const torch::Tensor& logvar);
// Summed over dimensions. [B]
torch::Tensor kl_per_image(const torch::Tensor& mu, const torch::Tensor& logvar);

// Reparameterization: z = μ + σ·ε with σ = exp(½ log σ²), so gradients reach μ and log σ².
torch::Tensor reparameterize(const torch::Tensor& mu, const torch::Tensor& logvar,
                             const torch::Tensor& eps);

// −log p(x|z) per image, summed over its values. [B]
// Bernoulli from logits l, stable form: Σ max(l, 0) − l·x + log(1 + e^−|l|).
torch::Tensor bernoulli_nll(const torch::Tensor& logits, const torch::Tensor& x);
// Gaussian with mean sigmoid(out) (out itself when out_is_mean: Model::decodes_means) and std σ:
// Σ (x − mean)² / (2σ²) + log σ + ½ log 2π.
torch::Tensor gaussian_nll(const torch::Tensor& out, const torch::Tensor& x, const torch::Tensor& log_sigma, bool out_is_mean = false);
// The model's likelihood for its decoder output `decoder_out`. [B]
torch::Tensor reconstruction_nll(const Model& model, const torch::Tensor& decoder_out, const torch::Tensor& x);

// E[x|z]: sigmoid of the decoder output for both likelihoods.
torch::Tensor decoder_mean(const torch::Tensor& decoder_out);

// One pass of the objective over images x [B, C·H·W] (with their one-hot classes y [B, classes]
// for a conditional model, Model::condition; else undefined) with noise ε [B, D]: −log p(x|z) at
// z = μ + σ·ε per image [B], and KL(q(z|x) ‖ p(z)) per image [B]: in closed form, with its terms
// per dimension [B, D], under N(0, I); else the single-sample estimate log q(z|x) − log p(z) at
// that z (kl_per_dim undefined). Differentiable when grad mode is on.
struct ElboTerms {
  torch::Tensor recon;
  torch::Tensor kl;
  torch::Tensor kl_per_dim;
};
// `target`, when given, is what the likelihood scores instead of x: the clean images of a denoising
// VAE, whose encoder sees corrupted ones (x).
ElboTerms elbo_terms(Model& model, const torch::Tensor& x, const torch::Tensor& eps, const torch::Tensor& y = {},
                     const torch::Tensor& target = {});

// Rows of ε per draw in an evaluation: ε is drawn a block of kEvalNoiseRows at a time from a
// generator seeded by the evaluation's seed, whatever the chunk or the number of threads, so the
// same seed gives the same estimate for any batch size.
constexpr int64_t kEvalNoiseRows = 1000;
// The ε an evaluation of `images` rows draws, into `out` (kept between calls when its shape fits).
void evaluation_noise(int64_t images, int64_t latent_dim, uint64_t seed, torch::Tensor& out);

// The test-set bound in parts, for a test set split across threads: each thread sums its rows
// (sum_elbo_terms), the sums are added, and finish() turns them into means per image.
struct EvaluationSums {
  int64_t images = 0;
  double recon = 0;              // Σ over images of −log p(x|z)
  std::vector<double> kl;        // per dimension, Σ over images of KL (closed form only)
  double kl_total = 0;           // Σ over images of KL
  double kl_squares = 0;         // Σ over images of KL², for the estimate's standard error
  bool kl_estimated = false;
  void add(const EvaluationSums& other);
  Evaluation finish() const;
};
// Rows x (and their classes y, as for elbo_terms) with their noise rows ε (on x's device), `chunk`
// at a time, without gradients; stops early (with fewer images) when `stop` becomes true.
EvaluationSums sum_elbo_terms(Model& model, const torch::Tensor& x, const torch::Tensor& eps, int64_t chunk,
                              const std::atomic<bool>* stop = nullptr, const torch::Tensor& y = {});

// The ELBO over images x (rows): evaluation_noise(seed), then sum_elbo_terms in chunks of `chunk`.
Evaluation evaluate_images(Model& model, const torch::Tensor& x, uint64_t seed, int64_t chunk = kEvalNoiseRows,
                           const std::atomic<bool>* stop = nullptr, const torch::Tensor& y = {});

torch::Generator make_generator(uint64_t seed);

}  // namespace latent
