// IW bound, grid-integrated log p(x) and the true posterior: against a linear-Gaussian model whose
// marginal and posterior are known in closed form, then on a VAE trained on MNIST.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "objective/bounds_math.h"
#include "latent/bounds.h"
#include "latent/error.h"
#include "latent/dataset.h"
#include "latent/trainer.h"
#include "objective/objective.h"
#include "test_support.h"

namespace latent {
namespace {

// p(z) = N(0, I₂), p(x|z) = N(x; Wz + b, s² I₃). Then p(x) = N(x; b, WWᵀ + s² I) and
// p(z|x) = N(Σ Wᵀ(x − b)/s², Σ) with Σ = (I + WᵀW/s²)⁻¹, diagonal because W's columns are
// orthogonal: the true posterior is itself a mean-field Gaussian.
struct LinearGaussian {
  torch::Tensor W = torch::tensor({{1.5, 0.4}, {0.3, 2.0}, {-0.8, 1.5}}, torch::kFloat64);
  torch::Tensor b = torch::tensor({0.2, -0.1, 0.4}, torch::kFloat64);
  double s;
  explicit LinearGaussian(double noise) : s(noise) {}

  LogLikelihood log_likelihood() const {
    return [this](const torch::Tensor& z, const torch::Tensor& x) {
      auto mean = z.to(torch::kFloat64).matmul(W.t()) + b;
      return (-0.5 * (x.to(torch::kFloat64) - mean).square() / (s * s) - std::log(s) - 0.5 * std::log(2 * M_PI)).sum(1);
    };
  }
  double log_marginal(const torch::Tensor& x) const {
    auto cov = W.matmul(W.t()) + s * s * torch::eye(3, torch::kFloat64);
    auto d = (x - b).unsqueeze(1);
    double quad = d.t().matmul(torch::linalg_solve(cov, d)).item<double>();
    return -0.5 * quad - 0.5 * torch::logdet(cov).item<double>() - 1.5 * std::log(2 * M_PI);
  }
  std::pair<torch::Tensor, torch::Tensor> posterior(const torch::Tensor& x) const {  // μ, log σ² (Σ is diagonal)
    auto sigma = torch::inverse(torch::eye(2, torch::kFloat64) + W.t().matmul(W) / (s * s));
    auto mu = sigma.matmul(W.t()).matmul(x - b) / (s * s);
    return {mu, torch::log(torch::diagonal(sigma))};
  }
};

TEST(Bounds, GridIntegralMatchesTheClosedFormMarginal) {
  const auto x = torch::tensor({1.0, -0.5, 0.7}, torch::kFloat64);
  for (double s : {1.0, 0.3, 0.02}) {  // 0.02: a posterior far narrower than a coarse cell
    LinearGaussian model(s);
    const double exact = model.log_marginal(x);
    const double grid = grid_log_marginal(model.log_likelihood(), x, GridIntegration());
    EXPECT_NEAR(grid, exact, 1e-4) << "s = " << s;
  }
}

TEST(Bounds, GridIntegralConvergesAsTheGridRefines) {
  LinearGaussian model(0.05);
  const auto x = torch::tensor({0.3, 1.1, -0.6}, torch::kFloat64);
  const double exact = model.log_marginal(x);
  double previous_error = INFINITY;
  for (int points : {12, 16, 24, 32, 48}) {
    GridIntegration g;
    g.coarse = g.fine = points;
    const double error = std::abs(grid_log_marginal(model.log_likelihood(), x, g) - exact);
    // Shrinks as the grids refine, down to rounding (~1e-8 nats).
    EXPECT_LE(error, std::max(previous_error, 1e-6)) << points << " points per axis";
    previous_error = error;
  }
  EXPECT_LT(previous_error, 1e-6);
}

TEST(Bounds, ImportanceWeightingAgainstTheClosedForm) {
  LinearGaussian model(0.4);
  const auto x = torch::tensor({{0.9, -0.2, 0.1}}, torch::kFloat64);
  const double log_px = model.log_marginal(x[0]);
  auto gen = make_generator(3);
  // With q the true posterior every weight equals p(x): IW_K = log p(x) exactly, for any K.
  auto [mu, logvar] = model.posterior(x[0]);
  for (int k : {1, 7})
    EXPECT_NEAR(iw_log_marginal(model.log_likelihood(), x, mu.unsqueeze(0), logvar.unsqueeze(0), k, gen).item<double>(),
                log_px, 1e-6);
  // A q that misses (shifted and too wide): IW_K climbs towards log p(x) as K grows, and stays
  // below it (on average over repeats).
  auto q_mu = (mu + 0.2).unsqueeze(0), q_logvar = (logvar + 0.3).unsqueeze(0);
  std::vector<double> means;
  for (int k : {1, 10, 1000}) {
    // The repeats go through one call: K·R samples as R rows of the same image.
    const int repeats = 2000;
    auto xs = x.expand({repeats, 3});
    auto mus = q_mu.expand({repeats, 2}), logvars = q_logvar.expand({repeats, 2});
    means.push_back(iw_log_marginal(model.log_likelihood(), xs, mus, logvars, k, gen).mean().item<double>());
  }
  EXPECT_LT(means[0], means[1]);
  EXPECT_LT(means[1], means[2]);
  EXPECT_LT(means[2], log_px + 1e-3);
  EXPECT_NEAR(means[2], log_px, 0.02);
  // K = 1 is the ELBO in expectation: E_q[log p(x|z) + log p(z) − log q(z|x)], here in closed form
  // as log p(x) − KL(q ‖ p(z|x)) between the two diagonal Gaussians.
  auto var_q = torch::exp(q_logvar[0]), var_p = torch::exp(logvar);
  const double kl = 0.5 * (var_q / var_p + (q_mu[0] - mu).square() / var_p - 1 + logvar - q_logvar[0]).sum().item<double>();
  EXPECT_NEAR(means[0], log_px - kl, 0.05);
}

TEST(Bounds, OrderOnATrainedModelAndTheTruePosterior) {
  Dataset mnist = Dataset::load(test::mnist_dir());
  ModelConfig m;
  m.latent_dim = 2;
  m.hidden = {256};
  m.image_height = m.image_width = 28;
  TrainConfig t;
  t.limit = 6000;
  t.epochs = 2;
  Trainer trainer(mnist, m, t);
  trainer.start();
  ASSERT_TRUE(trainer.wait_until_settled(120));
  auto vae = trainer.snapshot()->weights;
  BoundEvaluation b = evaluate_bounds(*vae, mnist, 200, true, 60);
  // exact ≤ IW ≤ −ELBO, as losses (−log p(x) ≤ −IW_K ≤ −ELBO).
  EXPECT_LT(b.exact_nll, b.iw_loss) << b.exact_nll << " " << b.iw_loss;
  EXPECT_LT(b.iw_loss, b.elbo.loss) << b.iw_loss << " " << b.elbo.loss;
  EXPECT_EQ(b.elbo.images, 60);
  // On the trained model too, finer grids agree: the integral has converged.
  GridIntegration coarse, fine;
  coarse.coarse = coarse.fine = 24;
  fine.coarse = fine.fine = 64;
  const double at24 = evaluate_bounds(*vae, mnist, 0, true, 10, 0, coarse).exact_nll;
  const double at48 = evaluate_bounds(*vae, mnist, 0, true, 10).exact_nll;
  const double at64 = evaluate_bounds(*vae, mnist, 0, true, 10, 0, fine).exact_nll;
  EXPECT_LT(std::abs(at64 - at48), 0.01) << at24 << " " << at48 << " " << at64;
  EXPECT_LE(std::abs(at64 - at48), std::abs(at64 - at24) + 1e-6);
  // The grid posterior integrates to 1 where it has its mass, and log p(x) ≥ ELBO.
  PosteriorGrid post = posterior_grid(*vae, mnist.test_images({0}), 128, 4.0f);
  double mass = 0;
  const double cell = (8.0 / 128) * (8.0 / 128);
  for (float d : post.density) mass += d * cell;
  EXPECT_NEAR(mass, 1.0, 0.05);
  EXPECT_GT(post.gap(), -0.05) << "log p(x) " << post.log_px << " ELBO " << post.elbo;
  EXPECT_EQ(post.mu.size(), 2u);
  EXPECT_NO_THROW(evaluate_bounds(*vae, mnist, 0, true, 2));
}

}  // namespace
}  // namespace latent
