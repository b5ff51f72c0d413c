// The hand-written forward/backward (vae_step) against autograd on the same batch, noise and
// weights: the loss terms and every parameter's gradient, for each architecture the trainer offers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <string>

#include "objective.h"
#include "vae_net.h"
#include "vae_step.h"

namespace latent {
namespace {

struct Case {
  std::string name;
  std::vector<int> hidden;
  Activation activation;
  ReconstructionLikelihood likelihood;
  bool learn_sigma;
  double beta;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class VaeStepTest : public ::testing::TestWithParam<Case> {};

// A 6x5-pixel, 3-D model of the case's architecture.
ModelConfig small_model(const Case& c) {
  ModelConfig config;
  config.image_height = 6;
  config.image_width = 5;
  config.latent_dim = 3;
  config.hidden = c.hidden;
  config.activation = c.activation;
  config.likelihood = c.likelihood;
  config.learn_sigma = c.learn_sigma;
  config.gaussian_sigma = 0.3;
  return config;
}

TEST_P(VaeStepTest, MatchesAutograd) {
  const Case& c = GetParam();
  const ModelConfig config = small_model(c);

  VaeNet net(config);
  initialize(*net, 11);
  torch::manual_seed(5);
  const int64_t batch = 7;
  auto x = torch::rand({batch, config.pixels()});
  auto eps = torch::randn({batch, config.latent_dim});

  // Reference: the loss as the trainer used to build it, differentiated by autograd.
  auto [mu, logvar] = net->encoder->forward(x);
  auto out = net->decoder->forward(reparameterize(mu, logvar, eps));
  auto recon = reconstruction_nll(*net, out, x).sum() / double(batch);
  auto kl = kl_per_dim(mu, logvar).sum() / double(batch);
  auto loss = recon + c.beta * kl;
  auto params = named_trainables(*net);
  auto grads = torch::autograd::grad({loss}, [&] {
    std::vector<torch::Tensor> p;
    for (auto& [name, t] : params) p.push_back(t);
    return p;
  }());

  VaeStep step(*net);
  // Stale values in the gradients must not leak into the result: the step overwrites them.
  for (auto& [name, t] : params) t.mutable_grad().fill_(123.0);
  const StepTerms terms = step.run(x, eps, c.beta);
  EXPECT_NEAR(terms.recon, recon.item<double>(), 1e-4 * std::abs(recon.item<double>()) + 1e-5);
  EXPECT_NEAR(terms.kl, kl.item<double>(), 1e-4 * std::abs(kl.item<double>()) + 1e-6);
  EXPECT_NEAR(terms.loss, loss.item<double>(), 1e-4 * std::abs(loss.item<double>()) + 1e-5);
  ASSERT_EQ(params.size(), grads.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& ours = params[i].second.grad();
    ASSERT_TRUE(ours.defined()) << params[i].first;
    const double scale = grads[i].abs().max().item<double>() + 1e-6;
    EXPECT_LT((ours - grads[i]).abs().max().item<double>(), 1e-4 * scale) << params[i].first;
  }

  // A second call with another batch size reuses nothing stale.
  auto x2 = x.narrow(0, 0, 3), eps2 = eps.narrow(0, 0, 3);
  const StepTerms small = step.run(x2, eps2, c.beta);
  auto [mu2, logvar2] = net->encoder->forward(x2);
  auto out2 = net->decoder->forward(reparameterize(mu2, logvar2, eps2));
  const double expected = (reconstruction_nll(*net, out2, x2).sum() / 3.0).item<double>();
  EXPECT_NEAR(small.recon, expected, 1e-4 * std::abs(expected) + 1e-5);
}

// The evaluation path against evaluate_images() (LibTorch's modules, the objective's formulas) with
// the same seed: ε drawn alike whatever the chunk (here 5, the last one short, and 2,000 rows for
// two noise blocks); every term and each dimension's KL; no parameter's gradient touched; a training
// step afterwards as from a fresh VaeStep.
TEST_P(VaeStepTest, EvaluateMatchesEvaluateImagesWithTheSameSeed) {
  const Case& c = GetParam();
  const ModelConfig config = small_model(c);
  VaeNet net(config);
  initialize(*net, 12);
  torch::manual_seed(6);
  const int64_t n = 2003, chunk = 5;
  auto x = torch::rand({n, config.pixels()});
  const Evaluation reference = evaluate_images(*net, x, 99);

  auto params = named_trainables(*net);
  VaeStep step(*net);
  for (auto& [name, t] : params) t.mutable_grad().fill_(123.0);
  const Evaluation e = step.evaluate(x, chunk, 99);
  EXPECT_EQ(e.images, n);
  EXPECT_NEAR(e.recon, reference.recon, 1e-4 * std::abs(reference.recon) + 1e-5);
  ASSERT_EQ(e.kl_per_dim.size(), reference.kl_per_dim.size());
  for (size_t d = 0; d < e.kl_per_dim.size(); ++d)
    EXPECT_NEAR(e.kl_per_dim[d], reference.kl_per_dim[d], 1e-4 * std::abs(reference.kl_per_dim[d]) + 1e-6) << "dim " << d;
  EXPECT_NEAR(e.kl, reference.kl, 1e-4 * std::abs(reference.kl) + 1e-6);
  EXPECT_DOUBLE_EQ(e.loss, e.recon + e.kl);
  EXPECT_NEAR(step.evaluate(x, 128, 99).loss, e.loss, 1e-4 * std::abs(e.loss));  // another chunk, the same ε
  for (auto& [name, t] : params) EXPECT_EQ(t.grad().ne(123.0).sum().item<int64_t>(), 0) << name << " was written";

  auto x7 = x.narrow(0, 0, 7), eps7 = torch::randn({7, config.latent_dim});
  const StepTerms after = step.run(x7, eps7, c.beta);
  VaeStep fresh(*net);
  const StepTerms expected = fresh.run(x7, eps7, c.beta);
  EXPECT_DOUBLE_EQ(after.loss, expected.loss);

  std::atomic<bool> stop{true};
  EXPECT_EQ(step.evaluate(x, chunk, 99, &stop).images, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Architectures, VaeStepTest,
    ::testing::Values(Case{"ReluBernoulli", {16}, Activation::Relu, ReconstructionLikelihood::Bernoulli, false, 1.0},
                      Case{"EluBernoulliTwoLayersBeta4", {16, 8}, Activation::Elu, ReconstructionLikelihood::Bernoulli,
                           false, 4.0},
                      Case{"EluGaussianFixedSigma", {12, 9}, Activation::Elu, ReconstructionLikelihood::Gaussian, false,
                           1.0},
                      Case{"ReluGaussianLearnedSigmaBeta0", {10}, Activation::Relu,
                           ReconstructionLikelihood::Gaussian, true, 0.0},
                      Case{"ThreeLayersBetaHalf", {14, 11, 6}, Activation::Elu, ReconstructionLikelihood::Bernoulli, false, 0.5}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace latent
