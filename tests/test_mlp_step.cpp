// The MLP's hand-written forward/backward (train/mlp_step) against the autograd step on the same
// batch, noise and weights: the loss terms and every parameter's gradient, for each MLP configuration
// the trainer offers; both steps split across shards; and the explorer's chunked inference.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "latent/error.h"
#include "model/mlp.h"
#include "model/vae_impl.h"
#include "objective/objective.h"
#include "train/mlp_step.h"
#include "train/shard_pool.h"
#include "train/training_step.h"

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

class MlpStepTest : public ::testing::TestWithParam<Case> {};

// A 6x5-pixel, 3-D model of the case's configuration.
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

// A model of the case's configuration initialised from `net_seed`, and `rows` random images in
// [0, 1] with their ε ~ N(0, I), drawn after torch::manual_seed(data_seed).
struct Setup {
  ModelConfig config;
  ModelPtr net;
  torch::Tensor x, eps;
};

Setup seeded(const Case& c, uint64_t net_seed, uint64_t data_seed, int64_t rows) {
  Setup s;
  s.config = small_model(c);
  s.net = make_model(s.config, net_seed);
  torch::manual_seed(data_seed);
  s.x = torch::rand({rows, s.config.pixels()});
  s.eps = torch::randn({rows, s.config.latent_dim});
  return s;
}

// The step's terms and every gradient it writes.
struct StepResult {
  StepTerms terms;
  std::vector<torch::Tensor> grads;
};

StepResult run_step(TrainingStep& step, const torch::Tensor& x, const torch::Tensor& eps, double beta) {
  StepResult r;
  r.terms = step.run(x, eps, beta);
  for (const auto& g : step.gradients()) r.grads.push_back(g.clone());
  return r;
}

void expect_same(const StepResult& ours, const StepResult& reference, double tolerance, const std::vector<std::string>& names) {
  EXPECT_NEAR(ours.terms.recon, reference.terms.recon, tolerance * std::abs(reference.terms.recon) + 1e-5);
  EXPECT_NEAR(ours.terms.kl, reference.terms.kl, tolerance * std::abs(reference.terms.kl) + 1e-6);
  EXPECT_NEAR(ours.terms.loss, reference.terms.loss, tolerance * std::abs(reference.terms.loss) + 1e-5);
  ASSERT_EQ(ours.grads.size(), reference.grads.size());
  for (size_t i = 0; i < ours.grads.size(); ++i) {
    const double scale = reference.grads[i].abs().max().item<double>() + 1e-6;
    EXPECT_LT((ours.grads[i] - reference.grads[i]).abs().max().item<double>(), tolerance * scale) << names[i];
  }
}

std::vector<std::string> parameter_names(Model& net) {
  std::vector<std::string> names;
  for (const auto& [name, t] : named_trainables(net)) names.push_back(name);
  return names;
}

// The fast path against the general one: the autograd step over the same objective (objective.h).
TEST_P(MlpStepTest, MatchesTheAutogradStep) {
  const Case& c = GetParam();
  auto [config, net, x, eps] = seeded(c, 11, 5, 7);
  AutogradStep reference(*net, TrainingStep::Gradients::Own);
  const StepResult expected = run_step(reference, x, eps, c.beta);

  auto fast = make_training_step(*net, TrainingStep::Gradients::IntoParameters, StepEngine::HandWritten);
  // Stale values in the gradients must not leak into the result: the step overwrites them.
  for (auto& [name, t] : named_trainables(*net)) t.mutable_grad().fill_(123.0);
  expect_same(run_step(*fast, x, eps, c.beta), expected, 1e-4, parameter_names(*net));

  // A second call with another batch size reuses nothing stale.
  auto x2 = x.narrow(0, 0, 3), eps2 = eps.narrow(0, 0, 3);
  expect_same(run_step(*fast, x2, eps2, c.beta), run_step(reference, x2, eps2, c.beta), 1e-4, parameter_names(*net));
}

// The same batch as a non-contiguous tensor takes the path a GPU takes (LibTorch's ops for the
// Bernoulli term instead of the fused CPU kernel): the same terms and gradients.
TEST_P(MlpStepTest, GeneralPathMatchesTheFusedOne) {
  const Case& c = GetParam();
  auto [config, net, x, eps] = seeded(c, 15, 9, 11);
  const torch::Tensor strided = x.t().contiguous().t();
  ASSERT_FALSE(strided.is_contiguous());
  ASSERT_TRUE(torch::equal(strided, x));
  MlpStep step(static_cast<MlpModel&>(*net));
  const StepResult fused = run_step(step, x, eps, c.beta);
  expect_same(run_step(step, strided, eps, c.beta), fused, 1e-5, parameter_names(*net));
}

// The batch split across threads as the trainer splits it (ParallelMode::Batch), for both steps:
// shard 0 writes into the parameters' gradients, the others into their own, each a mean over the
// whole batch. Their terms and gradients must add up to one step over the whole batch, whichever
// way the rows are cut (one shard of a single row included), and the stale values in a shard's own
// gradients must not leak.
TEST_P(MlpStepTest, ShardsAddUpToTheWholeBatch) {
  const Case& c = GetParam();
  const int64_t batch = 9;
  auto [config, net, x, eps] = seeded(c, 13, 7, batch);
  auto params = named_trainables(*net);

  AutogradStep whole(*net, TrainingStep::Gradients::Own);
  const auto [expected, expected_grads] = run_step(whole, x, eps, c.beta);

  for (const StepEngine engine : {StepEngine::HandWritten, StepEngine::Autograd})
    for (const int shards : {2, 3}) {
      for (const int64_t first_cut : {int64_t(1), int64_t(4)}) {
        SCOPED_TRACE(std::string(engine == StepEngine::Autograd ? "autograd" : "hand-written") + ", shards " +
                     std::to_string(shards) + ", first shard " + std::to_string(first_cut) + " rows");
        std::vector<std::unique_ptr<TrainingStep>> steps;
        steps.push_back(make_training_step(*net, TrainingStep::Gradients::IntoParameters, engine));
        for (int i = 1; i < shards; ++i) {
          steps.push_back(make_training_step(*net, TrainingStep::Gradients::Own, engine));
          for (const auto& g : steps.back()->gradients()) g.fill_(55.0);
        }
        for (auto& [name, t] : params) t.mutable_grad().fill_(123.0);
        // Cuts: the first shard `first_cut` rows, the rest split evenly.
        std::vector<int64_t> cuts{0, first_cut};
        for (int i = 1; i < shards; ++i) cuts.push_back(first_cut + (batch - first_cut) * i / (shards - 1));
        StepTerms sum;
        for (int i = 0; i < shards; ++i) {
          const int64_t a = cuts[size_t(i)], rows = cuts[size_t(i) + 1] - a;
          const StepTerms t = steps[size_t(i)]->run(x.narrow(0, a, rows), eps.narrow(0, a, rows), c.beta, batch);
          sum.recon += t.recon, sum.kl += t.kl, sum.loss += t.loss;
        }
        EXPECT_NEAR(sum.recon, expected.recon, 1e-5 * std::abs(expected.recon) + 1e-6);
        EXPECT_NEAR(sum.kl, expected.kl, 1e-5 * std::abs(expected.kl) + 1e-6);
        EXPECT_NEAR(sum.loss, expected.loss, 1e-5 * std::abs(expected.loss) + 1e-6);
        for (size_t p = 0; p < params.size(); ++p) {
          torch::Tensor total = params[p].second.grad().clone();
          for (int i = 1; i < shards; ++i) total += steps[size_t(i)]->gradients()[p];
          const double scale = expected_grads[p].abs().max().item<double>() + 1e-6;
          EXPECT_LT((total - expected_grads[p]).abs().max().item<double>(), 1e-5 * scale) << params[p].first;
        }
      }
    }
}

// The explorer's chunked inference (encode_rows, decode_rows: the MLP's activations kept by the
// thread, the result written in place) gives what the model's encode() and decode() give, for
// batches under, at and over the chunk size, and again when run a second time over the stale kept
// activations.
TEST_P(MlpStepTest, ChunkedInferenceMatchesTheModel) {
  const ModelConfig config = small_model(GetParam());
  const VaeImpl vae(make_model(config, 13), torch::kCPU);
  Model& net = vae.model();
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  for (int64_t n : {int64_t(1), kInferenceChunkRows - 1, kInferenceChunkRows, kInferenceChunkRows + 1, int64_t(600)}) {
    const torch::Tensor x = torch::rand({n, config.pixels()});
    const auto [mu, logvar] = net.encode(x);
    const torch::Tensor z = torch::randn({n, config.latent_dim});
    const torch::Tensor mean = decoder_mean(net.decode(z));
    for (int round = 0; round < 2; ++round) {
      const Posterior q = encode_rows(vae, x);
      ASSERT_EQ(q.mu.rows, n);
      ASSERT_EQ(q.mu.cols, config.latent_dim);
      ASSERT_EQ(q.logvar.rows, n);
      const auto as_tensor = [](const std::vector<float>& v, int64_t rows, int64_t cols) {
        return torch::from_blob(const_cast<float*>(v.data()), {rows, cols}, torch::kFloat32);
      };
      EXPECT_TRUE(torch::allclose(as_tensor(q.mu.values, n, config.latent_dim), mu, 1e-5, 1e-6)) << n << " rows";
      EXPECT_TRUE(torch::allclose(as_tensor(q.logvar.values, n, config.latent_dim), logvar, 1e-5, 1e-6)) << n << " rows";
      const ImageBatch images = decode_rows(vae, z);
      ASSERT_EQ(images.count, n);
      ASSERT_EQ(images.height, config.image_height);
      ASSERT_EQ(images.width, config.image_width);
      EXPECT_TRUE(torch::allclose(as_tensor(images.pixels, n, config.pixels()), mean, 1e-5, 1e-6)) << n << " rows";
    }
  }
}

// The trainer's choice: the hand-written step for the MLP on the CPU, autograd for anything else;
// asking for the hand-written step for another model is an error, not a wrong gradient.
TEST(TrainingStep, TheFastPathIsPickedWhereItApplies) {
  ModelConfig mlp;
  mlp.image_height = mlp.image_width = 8;
  mlp.hidden = {8};
  ModelPtr a = make_model(mlp, 1);
  EXPECT_STREQ(make_training_step(*a, TrainingStep::Gradients::Own)->name(), "hand-written MLP step");
  EXPECT_STREQ(make_training_step(*a, TrainingStep::Gradients::Own, StepEngine::Autograd)->name(), "autograd step");
  ModelConfig conv = mlp;
  conv.architecture = "conv";
  conv.channels = {4};
  conv.dense = {};
  ModelPtr b = make_model(conv, 1);
  EXPECT_STREQ(make_training_step(*b, TrainingStep::Gradients::Own)->name(), "autograd step");
  EXPECT_THROW(make_training_step(*b, TrainingStep::Gradients::Own, StepEngine::HandWritten), Error);
}

// One run of ShardPool: every shard exactly once, on distinct threads, shard 0 on the caller.
TEST(ShardPool, RunsEveryShardOnceAndWaitsForAll) {
  for (const int shards : {1, 2, 4}) {
    ShardPool pool(shards, "test-shard");
    ASSERT_EQ(pool.shards(), shards);
    for (int round = 0; round < 2000; ++round) {
      std::vector<int> runs(size_t(shards), 0);
      std::vector<std::thread::id> ids(static_cast<size_t>(shards));
      pool.run([&](int shard) {
        ++runs[size_t(shard)];
        ids[size_t(shard)] = std::this_thread::get_id();
      });
      for (int i = 0; i < shards; ++i) ASSERT_EQ(runs[size_t(i)], 1) << "shard " << i << " round " << round;
      ASSERT_EQ(ids[0], std::this_thread::get_id());
      for (int i = 1; i < shards; ++i) ASSERT_NE(ids[size_t(i)], ids[0]);
    }
  }
}

TEST(ShardPool, RethrowsAShardsExceptionAfterAllFinished) {
  ShardPool pool(3, "test-shard");
  std::atomic<int> finished{0};
  EXPECT_THROW(pool.run([&](int shard) {
    if (shard == 2) throw std::runtime_error("shard 2 failed");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ++finished;
  }),
               std::runtime_error);
  EXPECT_EQ(finished.load(), 2);
  // And the pool still works.
  std::atomic<int> ran{0};
  pool.run([&](int) { ++ran; });
  EXPECT_EQ(ran.load(), 3);
}

TEST(ShardPool, SlicesCoverTheRangeInOrder) {
  for (const int64_t n : {0, 1, 5, 128, 1001})
    for (const int shards : {1, 2, 3, 7}) {
      int64_t next = 0;
      for (int i = 0; i < shards; ++i) {
        const auto [a, b] = ShardPool::slice(n, i, shards);
        EXPECT_EQ(a, next);
        EXPECT_LE(b - a, n / shards + 1);
        EXPECT_GE(b - a, n / shards);
        next = b;
      }
      EXPECT_EQ(next, n);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Configurations, MlpStepTest,
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
