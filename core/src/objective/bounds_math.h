#pragma once
// Internal: the bound computations over any likelihood, so that tests can check them against a
// model whose marginal is known in closed form (a linear-Gaussian decoder).
#include <torch/torch.h>

#include <functional>

#include "latent/bounds.h"
#include "model/prior.h"

namespace latent {

// log p(x|z) for rows z [N, D] against rows x [N, P] → [N].
using LogLikelihood = std::function<torch::Tensor(const torch::Tensor& z, const torch::Tensor& x)>;

// log p(z) for rows z [N, D] → [N]: the model's prior (Model::log_prior); log_standard_normal
// (model/prior.h) for N(0, I), the default below.
using LogPrior = std::function<torch::Tensor(const torch::Tensor& z)>;

// IW_K for each row of x [B, P] with q = N(mu, diag exp(logvar)) [B, D]: log (1/K) Σ_k w_k. → [B]
torch::Tensor iw_log_marginal(const LogLikelihood& log_likelihood, const torch::Tensor& x, const torch::Tensor& mu,
                              const torch::Tensor& logvar, int k, torch::Generator& gen,
                              const LogPrior& log_prior = log_standard_normal);

// log p(x) = log ∫ p(x|z) p(z) dz over a 2-D z, for one image x [P], refined as GridIntegration says.
double grid_log_marginal(const LogLikelihood& log_likelihood, const torch::Tensor& x, const GridIntegration& grid,
                         const LogPrior& log_prior = log_standard_normal);

// log p(x|z) + log p(z) on an n × n grid over [x0, x1] × [y0, y1] (row-major, top row y1). → [n, n]
torch::Tensor log_joint_grid(const LogLikelihood& log_likelihood, const torch::Tensor& x, int n, float x0, float x1,
                             float y0, float y1, const LogPrior& log_prior = log_standard_normal);

}  // namespace latent
