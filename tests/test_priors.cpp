// The priors p(z): the single-sample KL estimate against the closed form, each prior's log p(z)
// against its formula written out here, sampling against log p(z) (moments), the bounds' order on
// trained models under every prior, and checkpoints that carry the prior.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "latent/bounds.h"
#include "latent/checkpoint.h"
#include "latent/dataset.h"
#include "latent/error.h"
#include "latent/inference.h"
#include "latent/trainer.h"
#include "model/model.h"
#include "objective/objective.h"
#include "test_support.h"

namespace latent {
namespace {

ModelConfig small_model(const std::string& prior, int components) {
  ModelConfig c;
  c.image_height = c.image_width = 4;
  c.latent_dim = 2;
  c.hidden = {8};
  c.prior = prior;
  c.prior_components = components;
  return c;
}

// log q(z|x) − log p(z) at z = μ + σ·ε has mean KL(q ‖ p). Per dimension, with p = N(0, 1):
//   f(ε) = −½ log σ² − ½ε² + ½(μ + σε)² = const + μσ·ε + ½(σ² − 1)·ε²,
// and since ε and ε² are uncorrelated, Var f = μ²σ² + ¼(σ² − 1)²·Var ε² = μ²σ² + ½(σ² − 1)².
// Dimensions add. The mean of M draws is then within 5 standard errors, √(Σ Var / M), of the KL.
TEST(Priors, TheSingleSampleKlEstimateHasTheClosedFormAsItsMean) {
  ModelConfig c = small_model("normal", 0);
  ModelPtr model = make_model(c, 1);
  torch::NoGradGuard no_grad;
  const auto mu = torch::tensor({{0.7, -1.2}});
  const auto logvar = torch::tensor({{-0.5, 0.8}});
  const int64_t m = 400000;
  auto gen = make_generator(3);
  auto eps = torch::randn({m, 2}, gen, torch::kFloat32);
  auto z = reparameterize(mu.expand({m, 2}), logvar.expand({m, 2}), eps);
  auto estimates = (log_diagonal_normal(z, mu.expand({m, 2}), logvar.expand({m, 2})) - model->log_prior(z)).to(torch::kFloat64);
  const double closed = kl_per_image(mu, logvar).item<double>();
  double variance = 0;
  for (int d = 0; d < 2; ++d) {
    const double u = mu[0][d].item<double>(), s2 = std::exp(logvar[0][d].item<double>());
    variance += u * u * s2 + 0.5 * (s2 - 1) * (s2 - 1);
  }
  const double bound = 5 * std::sqrt(variance / double(m));
  EXPECT_NEAR(estimates.mean().item<double>(), closed, bound);
  // And the variance the derivation gives is the one seen.
  EXPECT_NEAR(estimates.var().item<double>(), variance, 0.02 * variance);
}

// log Σ_k w_k N(z; m_k, diag s_k²), one component and one dimension at a time, in doubles.
double mixture_log_density(const std::vector<double>& z, const std::vector<std::vector<double>>& means,
                           const std::vector<std::vector<double>>& logvars, const std::vector<double>& weights) {
  double sum = 0;
  for (size_t k = 0; k < means.size(); ++k) {
    double log_n = 0;
    for (size_t d = 0; d < z.size(); ++d) {
      const double v = std::exp(logvars[k][d]);
      log_n += -0.5 * (z[d] - means[k][d]) * (z[d] - means[k][d]) / v - 0.5 * std::log(2 * M_PI * v);
    }
    sum += weights[k] * std::exp(log_n);
  }
  return std::log(sum);
}

std::vector<std::vector<double>> rows(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous();
  std::vector<std::vector<double>> out(size_t(c.size(0)));
  for (int64_t i = 0; i < c.size(0); ++i) out[size_t(i)].assign(c[i].data_ptr<double>(), c[i].data_ptr<double>() + c.size(1));
  return out;
}

TEST(Priors, MixtureLogProbIsItsFormula) {
  ModelPtr model = make_model(small_model("mog", 3), 1);
  auto params = model->named_parameters();
  torch::NoGradGuard no_grad;
  params["prior.means"].copy_(torch::tensor({{0.0, 1.0}, {-2.0, 0.5}, {1.5, -1.0}}));
  params["prior.logvars"].copy_(torch::tensor({{0.0, -1.0}, {0.5, 0.2}, {-2.0, -0.3}}));
  params["prior.logits"].copy_(torch::tensor({0.3, -1.0, 1.2}));
  const auto w = torch::softmax(params["prior.logits"], 0).to(torch::kFloat64);
  const std::vector<double> weights(w.data_ptr<double>(), w.data_ptr<double>() + 3);
  const auto z = torch::tensor({{0.1, 0.9}, {-1.9, 0.4}, {3.0, -3.0}, {0.0, 0.0}});
  const auto got = model->log_prior(z);
  for (int64_t i = 0; i < z.size(0); ++i)
    EXPECT_NEAR(got[i].item<double>(),
                mixture_log_density(rows(z)[size_t(i)], rows(params["prior.means"]), rows(params["prior.logvars"]), weights), 1e-5)
        << "z #" << i;
}

// Many rows against many components are computed a chunk of rows at a time: the same values as
// one row at a time.
TEST(Priors, LargeMixturesGoInChunksWithTheSameValues) {
  torch::NoGradGuard no_grad;
  auto gen = make_generator(2);
  const auto mu = torch::randn({3000, 3}, gen, torch::kFloat32), logvar = 0.3 * torch::randn({3000, 3}, gen, torch::kFloat32);
  const auto log_w = torch::log_softmax(torch::randn({3000}, gen, torch::kFloat32), 0);
  const auto z = torch::randn({1500, 3}, gen, torch::kFloat32);  // 4 chunks of 466 rows
  const auto all = log_mixture(z, mu, logvar, log_w);
  ASSERT_EQ(all.size(0), 1500);
  for (int64_t i : {0, 465, 466, 1000, 1499})
    EXPECT_NEAR(all[i].item<double>(), log_mixture(z.narrow(0, i, 1), mu, logvar, log_w)[0].item<double>(), 1e-5) << i;
}

TEST(Priors, VampPriorLogProbIsTheMeanOfTheEncodersPosteriors) {
  ModelPtr model = make_model(small_model("vamp", 4), 1);
  torch::NoGradGuard no_grad;
  auto gen = make_generator(5);
  model->prior().initialize_from_data(torch::rand({4, 16}, gen));
  const auto u = model->prior().pseudo_inputs();
  ASSERT_EQ(u.sizes(), (std::vector<int64_t>{4, 16}));
  EXPECT_GE(u.min().item<double>(), 0.0);
  EXPECT_LE(u.max().item<double>(), 1.0);
  auto [mu, logvar] = model->encode(u);
  const std::vector<double> weights(4, 0.25);
  const auto z = torch::tensor({{0.1, 0.2}, {-1.0, 1.0}, {2.0, 0.0}});
  const auto got = model->log_prior(z);
  for (int64_t i = 0; i < z.size(0); ++i)
    EXPECT_NEAR(got[i].item<double>(), mixture_log_density(rows(z)[size_t(i)], rows(mu), rows(logvar), weights), 1e-5);
}

// The draws' mean and covariance against the mixture's: Σ_k w_k m_k and Σ_k w_k (S_k + m_k m_kᵀ) − m mᵀ.
void expect_samples_match(Model& model, const torch::Tensor& means, const torch::Tensor& logvars, const torch::Tensor& weights) {
  torch::NoGradGuard no_grad;
  auto gen = make_generator(11);
  const int64_t n = 200000;
  const auto z = model.sample_prior(n, gen).to(torch::kFloat64);
  const auto m = means.to(torch::kFloat64), v = logvars.to(torch::kFloat64).exp(), w = weights.to(torch::kFloat64);
  const auto mean = (w.unsqueeze(1) * m).sum(0);
  auto second = torch::zeros({2, 2}, torch::kFloat64);
  for (int64_t k = 0; k < m.size(0); ++k) second += w[k] * (torch::diag(v[k]) + torch::outer(m[k], m[k]));
  const auto cov = second - torch::outer(mean, mean);
  const auto seen_mean = z.mean(0), centred = z - seen_mean;
  const auto seen_cov = centred.t().matmul(centred) / double(n - 1);
  for (int d = 0; d < 2; ++d) {
    // 5 standard errors of a mean of n draws.
    EXPECT_NEAR(seen_mean[d].item<double>(), mean[d].item<double>(), 5 * std::sqrt(cov[d][d].item<double>() / double(n))) << "dim " << d;
    for (int e = 0; e < 2; ++e)
      EXPECT_NEAR(seen_cov[d][e].item<double>(), cov[d][e].item<double>(), 0.03 * std::sqrt(cov[d][d].item<double>() * cov[e][e].item<double>()))
          << d << "," << e;
  }
  // Draws land where log p(z) is high: their mean log density is that of p under itself (its
  // negative entropy), above the log density of the same draws shifted away by 3.
  const double at_draws = model.log_prior(z.to(torch::kFloat32)).mean().item<double>();
  const double shifted = model.log_prior(z.to(torch::kFloat32) + 3).mean().item<double>();
  EXPECT_GT(at_draws, shifted + 1);
}

TEST(Priors, SamplesFollowTheDensity) {
  {
    ModelPtr model = make_model(small_model("mog", 3), 1);
    auto p = model->named_parameters();
    torch::NoGradGuard no_grad;
    p["prior.means"].copy_(torch::tensor({{0.0, 2.0}, {-2.0, 0.5}, {1.5, -1.0}}));
    p["prior.logvars"].copy_(torch::tensor({{0.0, -1.0}, {0.5, 0.2}, {-2.0, -0.3}}));
    p["prior.logits"].copy_(torch::tensor({0.3, -1.0, 1.2}));
    expect_samples_match(*model, p["prior.means"], p["prior.logvars"], torch::softmax(p["prior.logits"], 0));
  }
  {
    ModelPtr model = make_model(small_model("vamp", 5), 1);
    torch::NoGradGuard no_grad;
    auto gen = make_generator(9);
    model->prior().initialize_from_data(torch::rand({5, 16}, gen));
    auto [mu, logvar] = model->encode(model->prior().pseudo_inputs());
    expect_samples_match(*model, mu, logvar, torch::full({5}, 0.2));
  }
  {
    ModelPtr model = make_model(small_model("normal", 0), 1);
    expect_samples_match(*model, torch::zeros({1, 2}), torch::zeros({1, 2}), torch::ones({1}));
  }
}

// exact ≤ IW ≤ −ELBO on a 2-D model trained under each prior; the KL is estimated (with a standard
// error) exactly when the prior has no closed form.
TEST(Priors, BoundsKeepTheirOrderUnderEveryPrior) {
  Dataset mnist = Dataset::load(test::mnist_dir());
  for (const auto& [prior, components] : std::vector<std::pair<std::string, int>>{{"normal", 0}, {"mog", 10}, {"vamp", 50}}) {
    SCOPED_TRACE(prior);
    ModelConfig m;
    m.latent_dim = 2;
    m.hidden = {256};
    m.prior = prior;
    m.prior_components = components;
    TrainConfig t;
    t.limit = 6000;
    t.epochs = 2;
    Trainer trainer(mnist, m, t);
    trainer.start();
    ASSERT_TRUE(trainer.wait_until_settled(240));
    ASSERT_EQ(trainer.snapshot()->state, TrainerState::Idle) << trainer.snapshot()->message;
    auto vae = trainer.snapshot()->weights;
    BoundEvaluation b = evaluate_bounds(*vae, mnist, 200, true, 40);
    EXPECT_LT(b.exact_nll, b.iw_loss) << b.exact_nll << " " << b.iw_loss;
    EXPECT_LT(b.iw_loss, b.elbo.loss) << b.iw_loss << " " << b.elbo.loss;
    EXPECT_EQ(b.elbo.kl_estimated, prior != "normal");
    EXPECT_EQ(b.elbo.kl_per_dim.empty(), prior != "normal");
    if (prior != "normal") EXPECT_GT(b.elbo.kl_stderr, 0);
    EXPECT_GT(b.elbo.kl, 0);
    // The trained prior's log density integrates to 1 over the plane (midpoint rule on [−8, 8]²).
    LatentMatrix grid;
    const int n = 200;
    grid.rows = int64_t(n) * n, grid.cols = 2;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) grid.values.insert(grid.values.end(), {-8 + 16 * (j + 0.5f) / n, -8 + 16 * (i + 0.5f) / n});
    double mass = 0;
    for (float lp : vae->log_prior(grid)) mass += std::exp(double(lp)) * (16.0 / n) * (16.0 / n);
    EXPECT_NEAR(mass, 1.0, 0.02);
    // The step log reports the estimate's standard error exactly when there is one.
    const auto steps = trainer.steps_after();
    ASSERT_FALSE(steps.empty());
    EXPECT_EQ(steps.back().kl_stderr > 0, prior != "normal");
    // The checkpoint carries the prior: the reloaded model has the same log p(z).
    const std::string path = test::temp_dir() + "/prior.ckpt";
    ASSERT_EQ(trainer.save(path).get(), "");
    const Checkpoint saved = read_usable_checkpoint(path);
    EXPECT_EQ(saved.model.prior, prior);
    EXPECT_EQ(saved.model.prior_components, components);
    auto again = Vae::from_checkpoint(saved);
    LatentMatrix few;
    few.rows = 3, few.cols = 2, few.values = {0.1f, -0.4f, 1.5f, 0.3f, -2.0f, 2.0f};
    const auto a = vae->log_prior(few), c = again->log_prior(few);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_FLOAT_EQ(a[i], c[i]);
    EXPECT_EQ(again->pseudo_inputs().count, prior == "vamp" ? components : 0);
  }
}

TEST(Priors, BadPriorConfigsAreRefusedByName) {
  EXPECT_NE(check_prior("flow", 10).find("unknown prior 'flow'"), std::string::npos);
  EXPECT_NE(check_prior("mog", 0).find("prior components must be in 1..5000"), std::string::npos);
  EXPECT_NE(check_prior("vamp", -3).find("not -3"), std::string::npos);
  EXPECT_NE(check_prior("normal", 4).find("no components"), std::string::npos);
  EXPECT_EQ(check_prior("mog", 10), "");
  EXPECT_THROW(make_model(small_model("mog", 0), 1), Error);
}

}  // namespace
}  // namespace latent
