// The hand-written forward/backward (vae_step) against autograd on the same batch, noise and
// weights: the loss terms and every parameter's gradient, for each architecture the trainer offers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "objective.h"
#include "shard_pool.h"
#include "vae_impl.h"
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

// A net of the case's architecture initialised from `net_seed`, and `rows` random images in [0, 1]
// with their ε ~ N(0, I), drawn after torch::manual_seed(data_seed).
struct Setup {
  ModelConfig config;
  VaeNet net{nullptr};
  torch::Tensor x, eps;
};

Setup seeded(const Case& c, uint64_t net_seed, uint64_t data_seed, int64_t rows) {
  Setup s;
  s.config = small_model(c);
  s.net = VaeNet(s.config);
  initialize(*s.net, net_seed);
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

StepResult run_step(VaeStep& step, VaeNet& net, const torch::Tensor& x, const torch::Tensor& eps, double beta) {
  StepResult r;
  r.terms = step.run(x, eps, beta);
  for (auto& [name, t] : named_trainables(*net)) r.grads.push_back(t.grad().clone());
  return r;
}

TEST_P(VaeStepTest, MatchesAutograd) {
  const Case& c = GetParam();
  const int64_t batch = 7;
  auto [config, net, x, eps] = seeded(c, 11, 5, batch);

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

// The same batch as a non-contiguous tensor takes the path a GPU takes (LibTorch's ops for the
// Bernoulli term instead of the fused CPU kernel): the same terms and gradients.
TEST_P(VaeStepTest, GeneralPathMatchesTheFusedOne) {
  const Case& c = GetParam();
  auto [config, net, x, eps] = seeded(c, 15, 9, 11);
  const torch::Tensor strided = x.t().contiguous().t();
  ASSERT_FALSE(strided.is_contiguous());
  ASSERT_TRUE(torch::equal(strided, x));
  VaeStep step(*net);
  const StepResult fused = run_step(step, net, x, eps, c.beta);
  const StepResult general = run_step(step, net, strided, eps, c.beta);
  EXPECT_NEAR(general.terms.recon, fused.terms.recon, 1e-5 * std::abs(fused.terms.recon));
  EXPECT_NEAR(general.terms.kl, fused.terms.kl, 1e-6 * std::abs(fused.terms.kl) + 1e-7);
  EXPECT_NEAR(general.terms.loss, fused.terms.loss, 1e-5 * std::abs(fused.terms.loss));
  ASSERT_EQ(general.grads.size(), fused.grads.size());
  for (size_t i = 0; i < fused.grads.size(); ++i) {
    const double scale = fused.grads[i].abs().max().item<double>() + 1e-6;
    EXPECT_LT((general.grads[i] - fused.grads[i]).abs().max().item<double>(), 1e-5 * scale) << i;
  }
}

// The evaluation path against evaluate_images() (LibTorch's modules, the objective's formulas) with
// the same seed: ε drawn alike whatever the chunk (here 5, the last one short, and 2,000 rows for
// two noise blocks); every term and each dimension's KL; no parameter's gradient touched; a training
// step afterwards as from a fresh VaeStep.
TEST_P(VaeStepTest, EvaluateMatchesEvaluateImagesWithTheSameSeed) {
  const Case& c = GetParam();
  const int64_t n = 2003, chunk = 5;
  auto [config, net, x, unused_eps] = seeded(c, 12, 6, n);
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

// The batch split across threads as the trainer splits it (ParallelMode::Batch): shard 0 writes
// into the parameters' gradients, the others into their own, each a mean over the whole batch.
// Their terms and gradients must add up to one step over the whole batch, whichever way the rows
// are cut (one shard of a single row included), and the stale values in a shard's own gradients
// must not leak.
TEST_P(VaeStepTest, ShardsAddUpToTheWholeBatch) {
  const Case& c = GetParam();
  const int64_t batch = 9;
  auto [config, net, x, eps] = seeded(c, 13, 7, batch);
  auto params = named_trainables(*net);

  VaeStep whole(*net);
  const auto [expected, expected_grads] = run_step(whole, net, x, eps, c.beta);

  for (const int shards : {2, 3}) {
    for (const int64_t first_cut : {int64_t(1), int64_t(4)}) {
      SCOPED_TRACE("shards " + std::to_string(shards) + ", first shard " + std::to_string(first_cut) + " rows");
      std::vector<std::unique_ptr<VaeStep>> steps;
      steps.push_back(std::make_unique<VaeStep>(*net));
      for (int i = 1; i < shards; ++i) {
        steps.push_back(std::make_unique<VaeStep>(*net, VaeStep::Gradients::Own));
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

// The evaluation in parts, as the trainer's shards run it: the noise evaluate() would draw, each
// part's sums over its rows (uneven parts, one of them empty), added and finished, against
// evaluate() over the whole set with the same seed.
TEST_P(VaeStepTest, EvaluationInPartsMatchesEvaluate) {
  const Case& c = GetParam();
  const int64_t n = 2003;
  auto [config, net, x, unused_eps] = seeded(c, 14, 8, n);
  VaeStep whole(*net), other(*net, VaeStep::Gradients::Own);
  const Evaluation expected = whole.evaluate(x, 128, 99);

  torch::Tensor eps;
  VaeStep::evaluation_noise(n, config.latent_dim, 99, eps);
  ASSERT_EQ(eps.size(0), n);
  const std::vector<int64_t> cuts = {0, 0, 777, n};  // an empty part, then two uneven ones
  VaeStep::EvaluationSums sums;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    VaeStep& step = i % 2 ? other : whole;
    sums.add(step.sum_rows(x.narrow(0, cuts[i], cuts[i + 1] - cuts[i]), eps.narrow(0, cuts[i], cuts[i + 1] - cuts[i]), 128));
  }
  const Evaluation e = VaeStep::finish(sums);
  EXPECT_EQ(e.images, n);
  EXPECT_NEAR(e.recon, expected.recon, 1e-6 * std::abs(expected.recon) + 1e-7);
  EXPECT_NEAR(e.kl, expected.kl, 1e-6 * std::abs(expected.kl) + 1e-7);
  EXPECT_NEAR(e.loss, expected.loss, 1e-6 * std::abs(expected.loss) + 1e-7);
  ASSERT_EQ(e.kl_per_dim.size(), expected.kl_per_dim.size());
  for (size_t d = 0; d < e.kl_per_dim.size(); ++d)
    EXPECT_NEAR(e.kl_per_dim[d], expected.kl_per_dim[d], 1e-6 * std::abs(expected.kl_per_dim[d]) + 1e-7) << "dim " << d;
  EXPECT_EQ(VaeStep::finish(VaeStep::EvaluationSums{}).images, 0);
}

// One run of ShardPool: every shard exactly once, on distinct threads, shard 0 on the caller.
// The explorer's chunked inference (encode_rows, decode_rows: activations kept by the thread, the
// result written in place) gives what the modules' forward() gives, for batches under, at and over
// the chunk size, and again when run a second time over the stale kept activations.
TEST_P(VaeStepTest, ChunkedInferenceMatchesTheModules) {
  const ModelConfig config = small_model(GetParam());
  VaeNet net(config);
  initialize(*net, 13);
  const VaeImpl vae(net, torch::kCPU);
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  for (int64_t n : {int64_t(1), kInferenceChunkRows - 1, kInferenceChunkRows, kInferenceChunkRows + 1, int64_t(600)}) {
    const torch::Tensor x = torch::rand({n, config.pixels()});
    const auto [mu, logvar] = net->encoder->forward(x);
    const torch::Tensor z = torch::randn({n, config.latent_dim});
    const torch::Tensor mean = decoder_mean(net->decoder->forward(z));
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
