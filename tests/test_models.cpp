// The model layer: every architecture in the registry builds for the shapes it promises, counts its
// parameters as config.cpp says, trains through the autograd step with the gradient finite
// differences give, and a convolutional model learns to tell 64 images apart.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "latent/error.h"
#include "model/model.h"
#include "objective/objective.h"
#include "train/adam.h"
#include "train/training_step.h"

namespace latent {
namespace {

ModelConfig config_of(const std::string& arch, int c, int h, int w) {
  ModelConfig m;
  m.architecture = arch;
  m.image_channels = c;
  m.image_height = h;
  m.image_width = w;
  m.latent_dim = 3;
  m.hidden = {10, 6};
  m.channels = {4, 6};
  m.dense = {};
  return m;
}

int64_t counted(Model& model) {
  int64_t n = 0;
  for (const auto& [name, t] : named_trainables(model)) n += t.numel();
  return n;
}

TEST(Models, TheRegistryAndTheConfigNameTheSameArchitectures) {
  std::vector<std::string> registered;
  for (const Architecture& a : architectures()) registered.push_back(a.name);
  // The ones a user picks by name, then the one that comes from a file (--model; test_torchscript).
  std::vector<std::string> expected = architecture_names();
  expected.push_back("torchscript");
  EXPECT_EQ(registered, expected);
}

// Each architecture on square, odd and colour images: encode gives [N, D] twice, decode gives back
// exactly C·H·W values per image, and parameter_count (which checkpoints are checked against before
// a model is built) counts what the module holds.
TEST(Models, ShapesAndParameterCountsForEveryArchitecture) {
  struct Shape {
    int c, h, w;
  };
  for (const std::string& arch : architecture_names())
    for (const Shape s : {Shape{1, 16, 16}, Shape{1, 28, 28}, Shape{3, 32, 32}, Shape{1, 64, 64}, Shape{1, 7, 9},
                          Shape{3, 13, 13}, Shape{1, 5, 6}})
      for (const bool learned_sigma : {false, true}) {
        ModelConfig m = config_of(arch, s.c, s.h, s.w);
        m.dense = learned_sigma ? std::vector<int>{7, 5} : std::vector<int>{};  // conv: with and without dense layers
        m.likelihood = learned_sigma ? ReconstructionLikelihood::Gaussian : ReconstructionLikelihood::Bernoulli;
        m.learn_sigma = learned_sigma;
        SCOPED_TRACE(arch + " " + std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w));
        ModelPtr model = make_model(m, 1);
        EXPECT_EQ(counted(*model), parameter_count(m));
        torch::NoGradGuard no_grad;
        const auto [mu, logvar] = model->encode(torch::rand({5, m.pixels()}));
        EXPECT_EQ(mu.sizes(), torch::IntArrayRef({5, 3}));
        EXPECT_EQ(logvar.sizes(), torch::IntArrayRef({5, 3}));
        EXPECT_EQ(model->decode(torch::randn({5, 3})).sizes(), torch::IntArrayRef({5, m.pixels()}));
      }
}

TEST(Models, ConvChannelsMustFitTheImage) {
  ModelConfig m = config_of("conv", 1, 16, 16);
  m.channels = {8, 8, 8, 8};  // 16 → 8 → 4 → 2 → 1: every layer halves at least 2 pixels
  EXPECT_EQ(validate(m), "");
  m.channels.push_back(8);  // a fifth would halve 1 pixel
  const std::string problem = validate(m);
  EXPECT_NE(problem.find("at most 4 layers"), std::string::npos) << problem;
  EXPECT_THROW(make_model(m), Error);
  m.channels = {0};
  EXPECT_NE(validate(m), "");
  m = config_of("transformer", 1, 16, 16);
  EXPECT_NE(validate(m).find("unknown architecture"), std::string::npos);
  EXPECT_THROW(make_model(m), Error);
}

// The loss a training step minimises, (Σ recon + β Σ KL) / B, with the model's current weights.
double loss_of(Model& model, const torch::Tensor& x, const torch::Tensor& eps, double beta) {
  torch::NoGradGuard no_grad;
  const ElboTerms t = elbo_terms(model, x, eps);
  return ((t.recon.sum() + beta * t.kl_per_dim.sum()) / double(x.size(0))).item<double>();
}

// The autograd step's gradient against central finite differences of the loss, in float64, on tiny
// models of each architecture (ELU: its derivative is continuous, so no kink sits under a probe),
// with both likelihoods and a learned σ. Every value of every parameter is probed.
TEST(Models, AutogradStepMatchesFiniteDifferences) {
  struct Case {
    std::string arch;
    int c, h, w;
    ReconstructionLikelihood likelihood;
    bool learn_sigma;
    double beta;
  };
  for (const Case& k : {Case{"mlp", 1, 4, 3, ReconstructionLikelihood::Bernoulli, false, 1.0},
                        Case{"mlp", 1, 4, 3, ReconstructionLikelihood::Gaussian, true, 0.5},
                        Case{"conv", 1, 5, 7, ReconstructionLikelihood::Bernoulli, false, 1.0},
                        Case{"conv", 3, 4, 4, ReconstructionLikelihood::Gaussian, true, 2.0}}) {
    SCOPED_TRACE(k.arch + " " + to_string(k.likelihood));
    ModelConfig m = config_of(k.arch, k.c, k.h, k.w);
    m.latent_dim = 2;
    m.hidden = {5};
    m.channels = {3, 2};
    if (k.learn_sigma) m.dense = {4};
    m.activation = Activation::Elu;
    m.likelihood = k.likelihood;
    m.learn_sigma = k.learn_sigma;
    m.gaussian_sigma = 0.4;
    ModelPtr model = make_model(m, 5);
    model->to(torch::kFloat64);
    torch::manual_seed(2);
    const torch::Tensor x = torch::rand({3, m.pixels()}, torch::kFloat64);
    const torch::Tensor eps = torch::randn({3, m.latent_dim}, torch::kFloat64);

    AutogradStep step(*model, TrainingStep::Gradients::Own);
    const StepTerms terms = step.run(x, eps, k.beta);
    EXPECT_NEAR(terms.loss, loss_of(*model, x, eps, k.beta), 1e-9 * std::abs(terms.loss));
    const auto params = named_trainables(*model);
    ASSERT_EQ(params.size(), step.gradients().size());
    int probed = 0;
    for (size_t i = 0; i < params.size(); ++i) {
      torch::Tensor p = params[i].second;
      const torch::Tensor grad = step.gradients()[i];
      auto flat = p.detach().view({-1});
      for (int64_t j = 0; j < flat.numel(); ++j) {
        const double h = 1e-6, saved = flat[j].item<double>();
        {
          torch::NoGradGuard no_grad;
          flat[j] = saved + h;
        }
        const double up = loss_of(*model, x, eps, k.beta);
        {
          torch::NoGradGuard no_grad;
          flat[j] = saved - h;
        }
        const double down = loss_of(*model, x, eps, k.beta);
        {
          torch::NoGradGuard no_grad;
          flat[j] = saved;
        }
        const double numeric = (up - down) / (2 * h), analytic = grad.view({-1})[j].item<double>();
        ASSERT_NEAR(analytic, numeric, 1e-6 * std::max(1.0, std::abs(numeric))) << params[i].first << "[" << j << "]";
        ++probed;
      }
    }
    EXPECT_EQ(probed, parameter_count(m));
  }
}

// 64 binary images: rectangles of different sizes and places (and, in colour, in different
// channels), drawn without randomness so the bound below is a property of these images.
torch::Tensor rectangles(int c, int h, int w) {
  torch::Tensor x = torch::zeros({64, c, h, w});
  for (int i = 0; i < 64; ++i) {
    const int rh = 2 + (i % 4) * h / 8, rw = 2 + (i / 4 % 4) * w / 8;
    const int top = (i * 7) % std::max(1, h - rh), left = (i * 5) % std::max(1, w - rw);
    const int channel = c == 1 ? 0 : i % c;
    x[i][channel].narrow(0, top, rh).narrow(1, left, rw).fill_(1.0);
    if (c == 3 && i % 2) x[i][(channel + 1) % c].narrow(0, top, rh).narrow(1, left, rw).fill_(1.0);
  }
  return x.view({64, -1});
}

// The bound: a decoder that ignores z can do no better than predicting every value's mean over the
// images, p_i, for a loss of L0 = Σ_i H(p_i) nats per image (binary entropy; for binary x the best
// constant Bernoulli is the mean, and its cross-entropy is that entropy). Reaching −ELBO < L0/4 takes
// a model that sends what tells the images apart through z (KL ≥ 0 is paid for it) and draws it
// back: on 64 images the information needed is log 64 ≈ 4.2 nats, far below L0 for these sizes.
TEST(Models, ConvModelOverfitsSixtyFourImages) {
  struct Shape {
    int c, h, w;
  };
  for (const Shape s : {Shape{1, 16, 16}, Shape{1, 28, 28}, Shape{3, 32, 32}}) {
    SCOPED_TRACE(std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w));
    const torch::Tensor x = rectangles(s.c, s.h, s.w);
    const torch::Tensor p = x.mean(0).clamp(1e-6, 1 - 1e-6);
    const double l0 = (-(p * p.log() + (1 - p) * (1 - p).log())).sum().item<double>();
    ASSERT_GT(l0, 8 * std::log(64.0));  // the bound is far from what telling 64 images apart costs

    ModelConfig m = config_of("conv", s.c, s.h, s.w);
    m.latent_dim = 8;
    m.channels = {16, 32};
    m.dense = {64};
    ModelPtr model = make_model(m, 3);
    model->initialize_output_bias(x.mean(0));
    Adam adam(named_trainables(*model), 3e-3);
    AutogradStep step(*model);
    auto gen = make_generator(11);
    const double before = evaluate_images(*model, x, 1).loss;
    for (int i = 0; i < 200; ++i) {
      step.run(x, torch::randn({64, m.latent_dim}, gen, torch::kFloat32), 1.0);
      ASSERT_TRUE(adam.step());
    }
    const Evaluation after = evaluate_images(*model, x, 1);
    EXPECT_GT(before, 0.9 * l0);  // starts about where the mean image puts it
    EXPECT_LT(after.loss, l0 / 4) << "L0 " << l0 << ", recon " << after.recon << ", KL " << after.kl;
  }
}

}  // namespace
}  // namespace latent
