// Our allocation-free Adam against LibTorch's torch::optim::Adam on the same gradients.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "adam.h"

namespace latent {
namespace {

TEST(Adam, MatchesTorchOptimAdam) {
  torch::manual_seed(0);
  auto ours = torch::randn({6, 5}).requires_grad_();
  auto theirs = ours.detach().clone().requires_grad_();
  Adam adam({{"w", ours}}, 0.01);
  torch::optim::Adam reference({theirs}, torch::optim::AdamOptions(0.01));
  for (int step = 0; step < 20; ++step) {
    auto target = torch::randn({6, 5});
    adam.zero_grad();
    reference.zero_grad();
    ((ours - target).pow(3).sum()).backward();
    ((theirs - target).pow(3).sum()).backward();
    adam.step();
    reference.step();
  }
  EXPECT_TRUE(torch::allclose(ours, theirs, 1e-5, 1e-6)) << (ours - theirs).abs().max().item<double>();
  EXPECT_EQ(adam.steps, 20);
}

TEST(Adam, DetectsNonFiniteGradients) {
  auto w = torch::ones({3}).requires_grad_();
  Adam adam({{"w", w}}, 0.1);
  (w * 2).sum().backward();
  EXPECT_TRUE(adam.gradients_finite());
  adam.zero_grad();
  (w * std::numeric_limits<float>::infinity()).sum().backward();
  EXPECT_FALSE(adam.gradients_finite());
}

}  // namespace
}  // namespace latent
