// The ELBO's terms against independent computations: Monte-Carlo KL, the direct BCE and Gaussian
// formulas, and gradients that reach the encoder through z = μ + σ·ε.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <cmath>
#include <vector>

#include "objective/objective.h"

namespace latent {
namespace {

TEST(Objective, ClosedFormKlMatchesMonteCarlo) {
  torch::manual_seed(3);
  auto mu = torch::tensor({0.5, -1.2, 0.0, 2.0}, torch::kFloat64).unsqueeze(0);
  auto logvar = torch::tensor({-0.7, 0.4, 0.0, -2.0}, torch::kFloat64).unsqueeze(0);
  const double closed = kl_per_image(mu, logvar).item<double>();
  // KL(q ‖ p) = E_q[log q(z) − log p(z)], estimated from 2M samples of q.
  const int64_t n = 2000000;
  auto sigma = torch::exp(0.5 * logvar);
  auto z = mu + sigma * torch::randn({n, 4}, torch::kFloat64);
  auto log_q = (-0.5 * ((z - mu) / sigma).square() - torch::log(sigma) - 0.5 * std::log(2 * M_PI)).sum(1);
  auto log_p = (-0.5 * z.square() - 0.5 * std::log(2 * M_PI)).sum(1);
  auto diff = log_q - log_p;
  const double estimate = diff.mean().item<double>();
  const double std_error = diff.std().item<double>() / std::sqrt(double(n));
  EXPECT_NEAR(closed, estimate, 4 * std_error) << "closed " << closed << " MC " << estimate;
  // And the formula by hand for one dimension: ½(μ² + σ² − log σ² − 1) with μ = 0.5, log σ² = −0.7.
  EXPECT_NEAR(kl_per_dim(mu, logvar)[0][0].item<double>(), 0.5 * (0.25 + std::exp(-0.7) + 0.7 - 1), 1e-12);
  EXPECT_NEAR(kl_per_image(torch::zeros({1, 3}), torch::zeros({1, 3})).item<double>(), 0.0, 1e-7);
}

TEST(Objective, BernoulliFromLogitsMatchesTheDirectFormula) {
  auto logits = torch::tensor({{-4.0, -0.5, 0.0, 0.3, 2.5, 7.0}}, torch::kFloat32);
  auto x = torch::tensor({{0.0, 0.2, 1.0, 0.5, 0.9, 1.0}}, torch::kFloat32);
  double expected = 0;
  for (int i = 0; i < 6; ++i) {
    double l = logits[0][i].item<double>(), xi = x[0][i].item<double>();
    double p = 1 / (1 + std::exp(-l));
    expected += -(xi * std::log(p) + (1 - xi) * std::log(1 - p));
  }
  EXPECT_NEAR(bernoulli_nll(logits, x).item<double>(), expected, 1e-5);
  // Extreme logits, where sigmoid-then-log would give inf: log(1 + e^−|l|) + max(l, 0) − l·x.
  auto extreme = torch::tensor({{-200.0f, 200.0f}});
  auto target = torch::tensor({{1.0f, 0.0f}});
  double nll = bernoulli_nll(extreme, target).item<double>();
  EXPECT_TRUE(std::isfinite(nll));
  EXPECT_NEAR(nll, 400.0, 1e-3);
}

TEST(Objective, GaussianMatchesTheDirectFormula) {
  auto out = torch::tensor({{-1.0f, 0.5f, 2.0f}});
  auto x = torch::tensor({{0.1f, 0.7f, 0.95f}});
  const double sigma = 0.2;
  auto log_sigma = torch::full({1}, std::log(sigma));
  double expected = 0;
  for (int i = 0; i < 3; ++i) {
    double mean = 1 / (1 + std::exp(-out[0][i].item<double>()));
    double d = x[0][i].item<double>() - mean;
    expected += -std::log(std::exp(-d * d / (2 * sigma * sigma)) / (sigma * std::sqrt(2 * M_PI)));
  }
  EXPECT_NEAR(gaussian_nll(out, x, log_sigma).item<double>(), expected, 1e-4);
}

TEST(Objective, ReparameterizationCarriesGradientsToTheEncoder) {
  ModelConfig config;
  config.image_height = config.image_width = 4;
  config.latent_dim = 2;
  config.hidden = {8};
  ModelPtr net = make_model(config, 1);
  auto x = torch::rand({5, 16});
  auto [mu, logvar] = net->encode(x);
  auto eps = torch::randn({5, 2});
  // Reconstruction alone: its only path to the encoder is through z.
  auto recon = bernoulli_nll(net->decode(reparameterize(mu, logvar, eps)), x).sum();
  recon.backward();
  for (const auto& p : net->named_parameters()) {
    if (p.key().rfind("encoder.", 0) != 0) continue;
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
  // ∂z/∂μ = 1 and ∂z/∂log σ² = ½ σ ε, checked on the raw reparameterization.
  auto m = torch::tensor({0.3}, torch::requires_grad());
  auto lv = torch::tensor({-0.4}, torch::requires_grad());
  auto e = torch::tensor({1.7});
  reparameterize(m, lv, e).sum().backward();
  EXPECT_NEAR(m.grad().item<double>(), 1.0, 1e-7);
  EXPECT_NEAR(lv.grad().item<double>(), 0.5 * std::exp(-0.2) * 1.7, 1e-6);
}

TEST(Objective, EvaluationSplitsTheBoundIntoItsTerms) {
  ModelConfig config;
  config.image_height = config.image_width = 4;
  config.latent_dim = 3;
  config.hidden = {8};
  ModelPtr net = make_model(config, 2);
  auto x = torch::rand({2500, 16});
  Evaluation e = evaluate_images(*net, x, 0);
  EXPECT_EQ(e.images, 2500);
  EXPECT_NEAR(e.loss, e.recon + e.kl, 1e-9);
  double sum = 0;
  for (double d : e.kl_per_dim) sum += d;
  EXPECT_NEAR(sum, e.kl, 1e-9);
  torch::NoGradGuard no_grad;
  auto [mu, logvar] = net->encode(x);
  EXPECT_NEAR(e.kl, kl_per_image(mu, logvar).mean().item<double>(), 1e-4);
  // Same seed, same numbers.
  EXPECT_DOUBLE_EQ(evaluate_images(*net, x, 0).recon, e.recon);
}

// The evaluation as the trainer's threads run it, in parts: the noise evaluate_images() draws, each
// part's sums over its rows (uneven parts, one empty, chunks that do not divide them), added and
// finished, against evaluate_images() over the whole set with the same seed; and against the terms
// written out from the model's encode() and decode() with that noise.
TEST(Objective, EvaluationInPartsAndChunksMatchesTheWhole) {
  for (const char* arch : {"mlp", "conv"}) {
    SCOPED_TRACE(arch);
    ModelConfig config;
    config.architecture = arch;
    config.image_height = config.image_width = 8;
    config.latent_dim = 3;
    config.hidden = {8};
    config.channels = {4, 6};
    config.dense = {5};
    ModelPtr net = make_model(config, 3);
    torch::manual_seed(4);
    const int64_t n = 2003;
    auto x = torch::rand({n, 64});
    const Evaluation whole = evaluate_images(*net, x, 99);
    EXPECT_EQ(whole.images, n);

    torch::Tensor eps;
    evaluation_noise(n, config.latent_dim, 99, eps);
    ASSERT_EQ(eps.size(0), n);
    {
      torch::NoGradGuard no_grad;
      auto [mu, logvar] = net->encode(x);
      const double recon = reconstruction_nll(*net, net->decode(reparameterize(mu, logvar, eps)), x).mean().item<double>();
      EXPECT_NEAR(whole.recon, recon, 1e-4 * std::abs(recon));
    }
    const std::vector<int64_t> cuts = {0, 0, 777, n};
    EvaluationSums sums;
    for (size_t i = 0; i + 1 < cuts.size(); ++i)
      sums.add(sum_elbo_terms(*net, x.narrow(0, cuts[i], cuts[i + 1] - cuts[i]), eps.narrow(0, cuts[i], cuts[i + 1] - cuts[i]),
                              i == 1 ? 5 : 128));
    const Evaluation parts = sums.finish();
    EXPECT_EQ(parts.images, n);
    EXPECT_NEAR(parts.recon, whole.recon, 1e-6 * std::abs(whole.recon));
    EXPECT_NEAR(parts.kl, whole.kl, 1e-6 * std::abs(whole.kl) + 1e-7);
    ASSERT_EQ(parts.kl_per_dim.size(), whole.kl_per_dim.size());
    for (size_t d = 0; d < parts.kl_per_dim.size(); ++d)
      EXPECT_NEAR(parts.kl_per_dim[d], whole.kl_per_dim[d], 1e-6 * std::abs(whole.kl_per_dim[d]) + 1e-7) << "dim " << d;
    EXPECT_NEAR(evaluate_images(*net, x, 99, 64).loss, whole.loss, 1e-6 * std::abs(whole.loss));  // another chunk, the same ε
    EXPECT_EQ(EvaluationSums{}.finish().images, 0);
    std::atomic<bool> stop{true};
    EXPECT_EQ(evaluate_images(*net, x, 99, 128, &stop).images, 0);
  }
}

}  // namespace
}  // namespace latent
