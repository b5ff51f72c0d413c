// Our allocation-free Adam against LibTorch's torch::optim::Adam on the same gradients.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <string>
#include <vector>

#include "train/adam.h"
#include "train/shard_pool.h"

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

// A divergence in the very first step has no backup to go back to: the weights and the step count
// are left as training began, and the trainer's message says so (not "restored from step -1").
TEST(Adam, RestoringWithoutABackupLeavesEverythingAsItWas) {
  auto w = torch::randn({3, 2}).requires_grad_();
  const torch::Tensor before = w.detach().clone();
  Adam adam({{"w", w}}, 0.01);
  EXPECT_FALSE(adam.has_backup());
  EXPECT_EQ(adam.restore_backup(), -1);
  EXPECT_EQ(adam.steps, 0);
  EXPECT_TRUE(torch::equal(w.detach(), before));
}

// The path a GPU takes (LibTorch ops, not the fused CPU kernel), here taken by parameters the
// kernel does not apply to: a transposed (non-contiguous) one and a double one, next to a plain one.
TEST(Adam, UnfusedStepMatchesTorchOptimAdamAndFlagsDivergence) {
  torch::manual_seed(3);
  std::vector<torch::Tensor> ours = {torch::randn({5, 6}).t(), torch::randn({7}, torch::kFloat64), torch::randn({4})};
  std::vector<torch::Tensor> theirs;
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (auto& p : ours) {
    p.requires_grad_();
    theirs.push_back(p.detach().clone().requires_grad_());
    named.emplace_back("p" + std::to_string(named.size()), p);
  }
  ASSERT_FALSE(ours[0].is_contiguous());
  Adam adam(named, 0.01);
  torch::optim::Adam reference(theirs, torch::optim::AdamOptions(0.01));
  auto loss = [](const std::vector<torch::Tensor>& ps, int step) {
    torch::Tensor total = torch::zeros({}, torch::kFloat64);
    for (const auto& p : ps) total = total + (p - 0.1 * step).pow(3).sum().to(torch::kFloat64);
    return total;
  };
  for (int step = 0; step < 20; ++step) {
    adam.zero_grad();
    reference.zero_grad();
    loss(ours, step).backward();
    loss(theirs, step).backward();
    ASSERT_TRUE(adam.step()) << step;
    reference.step();
  }
  for (size_t i = 0; i < ours.size(); ++i)
    EXPECT_TRUE(torch::allclose(ours[i], theirs[i], 1e-5, 1e-6)) << i << ": " << (ours[i] - theirs[i]).abs().max().item<double>();
  EXPECT_EQ(adam.steps, 20);
  // A NaN, an infinity, or a finite gradient whose square overflows v: the step reports divergence.
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(), 1e300}) {
    adam.zero_grad();
    loss(ours, 0).backward();
    ours[1].mutable_grad()[2] = bad;
    EXPECT_FALSE(adam.step()) << bad;
  }
}

// The step over a gradient in parts (a batch split across threads) against the plain step over
// their sum: the same parameters and moments, grad() left holding the whole gradient; sizes that do
// not split evenly and more than one 4,096-value block per slice; a parameter without a gradient
// left alone.
TEST(Adam, StepOverGradientPartsMatchesTheStepOverTheirSum) {
  torch::manual_seed(1);
  for (const int shards : {2, 3}) {
    std::vector<std::pair<std::string, torch::Tensor>> ours, theirs;
    for (const auto& [name, shape] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
             {"w", {97, 211}}, {"b", {5}}, {"frozen", {3}}}) {
      auto p = torch::randn(shape);
      ours.emplace_back(name, p.clone());
      theirs.emplace_back(name, p.clone());
    }
    Adam a(ours, 0.01), b(theirs, 0.01);
    ShardPool pool(shards, "test-shard");
    std::vector<std::vector<torch::Tensor>> parts(size_t(shards - 1));
    std::vector<const std::vector<torch::Tensor>*> part_ptrs;
    for (auto& list : parts) part_ptrs.push_back(&list);
    for (int step = 0; step < 5; ++step) {
      for (auto& list : parts) list.clear();
      for (size_t i = 0; i < ours.size(); ++i) {
        if (ours[i].first == "frozen") {
          for (auto& list : parts) list.emplace_back();
          continue;
        }
        auto first = torch::randn_like(ours[i].second);
        torch::Tensor total = first.clone();
        ours[i].second.mutable_grad() = first;
        for (auto& list : parts) {
          list.push_back(torch::randn_like(ours[i].second));
          total += list.back();
        }
        theirs[i].second.mutable_grad() = total;
      }
      ASSERT_TRUE(a.step(pool, part_ptrs));
      ASSERT_TRUE(b.step());
      for (size_t i = 0; i < ours.size(); ++i) {
        EXPECT_TRUE(torch::allclose(ours[i].second, theirs[i].second, 1e-6, 1e-7)) << ours[i].first;
        EXPECT_TRUE(torch::allclose(a.exp_avg[i], b.exp_avg[i], 1e-6, 1e-7)) << ours[i].first;
        EXPECT_TRUE(torch::allclose(a.exp_avg_sq[i], b.exp_avg_sq[i], 1e-6, 1e-9)) << ours[i].first;
        if (theirs[i].second.grad().defined())
          EXPECT_TRUE(torch::allclose(ours[i].second.grad(), theirs[i].second.grad(), 1e-6, 1e-6)) << ours[i].first;
      }
    }
    EXPECT_EQ(a.steps, 5);
    EXPECT_EQ(a.exp_avg[2].abs().sum().item<double>(), 0.0);  // "frozen": no gradient, no update
  }
}

// A non-finite value in any part is divergence, whichever shard's slice holds it.
TEST(Adam, StepOverGradientPartsDetectsNonFiniteParts) {
  for (const int64_t where : {int64_t(0), int64_t(9000)}) {
    auto w = torch::zeros({10000});
    Adam adam({{"w", w}}, 0.1);
    ShardPool pool(2, "test-shard");
    w.mutable_grad() = torch::ones({10000});
    std::vector<torch::Tensor> other{torch::ones({10000})};
    other[0][where] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_FALSE(adam.step(pool, {&other})) << "NaN at " << where;
  }
}

}  // namespace
}  // namespace latent
