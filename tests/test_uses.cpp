// What VAEs are used for, in core: scores per image and the ROC of telling two sets apart,
// the mutual information gap against constructed cases, corruption statistics, latent arithmetic
// and traversals on known encodings, and a denoising run (its step, its determinism, its checkpoint).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "latent/bounds.h"
#include "latent/checkpoint.h"
#include "latent/corruption.h"
#include "latent/dataset.h"
#include "latent/disentanglement.h"
#include "latent/error.h"
#include "latent/evaluation.h"
#include "latent/inference.h"
#include "latent/latent_ops.h"
#include "latent/scores.h"
#include "latent/trainer.h"
#include "model/model.h"
#include "test_support.h"
#include "train/training_step.h"

namespace latent {
namespace {

// Pairs (positive, negative) by hand: 2.5 beats 1 and 2 (2); 3 beats 1 and 2 and ties 3 (2.5);
// 4 beats all three (3). 7.5 of 9 pairs.
TEST(Uses, AurocOfAHandComputedCase) {
  EXPECT_NEAR(auroc({1, 2, 3}, {2.5f, 3, 4}), 7.5 / 9, 1e-12);
  EXPECT_DOUBLE_EQ(auroc({1, 2}, {3, 4}), 1.0);
  EXPECT_DOUBLE_EQ(auroc({3, 4}, {1, 2}), 0.0);
  EXPECT_DOUBLE_EQ(auroc({5, 5, 5}, {5, 5}), 0.5);
  EXPECT_TRUE(std::isnan(auroc({}, {1})));
  EXPECT_TRUE(std::isnan(auroc({1}, {})));
}

// The curve runs from (0, 0) to (1, 1) without going back, and its trapezoid area is the AUROC
// (ties make a diagonal segment, which the trapezoid counts as one half).
TEST(Uses, RocCurveIsMonotoneAndItsAreaIsTheAuroc) {
  std::vector<float> neg, pos;
  for (int i = 0; i < 300; ++i) neg.push_back(float(std::sin(i * 1.3) * 2.0)), pos.push_back(float(std::cos(i * 0.7) * 2.0 + 1.0));
  neg.push_back(1.0f), pos.push_back(1.0f);  // a tie across the sets
  for (size_t max_points : {size_t(10000), size_t(50)}) {
    const RocCurve roc = roc_curve(neg, pos, max_points);
    ASSERT_GE(roc.false_positive_rate.size(), 2u);
    EXPECT_LE(roc.false_positive_rate.size(), max_points);
    EXPECT_EQ(roc.false_positive_rate.front(), 0.0f);
    EXPECT_EQ(roc.true_positive_rate.front(), 0.0f);
    EXPECT_EQ(roc.false_positive_rate.back(), 1.0f);
    EXPECT_EQ(roc.true_positive_rate.back(), 1.0f);
    double area = 0;
    for (size_t i = 1; i < roc.false_positive_rate.size(); ++i) {
      EXPECT_GE(roc.false_positive_rate[i], roc.false_positive_rate[i - 1]);
      EXPECT_GE(roc.true_positive_rate[i], roc.true_positive_rate[i - 1]);
      area += 0.5 * (roc.false_positive_rate[i] - roc.false_positive_rate[i - 1]) *
              (roc.true_positive_rate[i] + roc.true_positive_rate[i - 1]);
    }
    // All points: exact; thinned to 50: within the area of the skipped steps.
    EXPECT_NEAR(area, auroc(neg, pos), max_points > 1000 ? 1e-5 : 0.02);
  }
}

TEST(Uses, LowestAndHighestScores) {
  const std::vector<float> s = {3, -1, 7, 7, 0, NAN};
  EXPECT_EQ(lowest_scores(s, 2), (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(highest_scores(s, 3), (std::vector<int64_t>{5, 2, 3}));  // NaN counts as the highest
  EXPECT_EQ(highest_scores(s, 100).size(), s.size());
}

// n images: factor v takes 5 values and w 4, crossed so that every (v, w) pair occurs equally often:
// then v and w are exactly independent in the sample, and their joint histogram is the product.
struct Crossed {
  std::vector<int32_t> v, w;
};
Crossed crossed(int repeats) {
  Crossed c;
  for (int r = 0; r < repeats; ++r)
    for (int a = 0; a < 5; ++a)
      for (int b = 0; b < 4; ++b) c.v.push_back(a), c.w.push_back(b);
  return c;
}

LatentMatrix columns(const std::vector<std::vector<float>>& dims) {
  LatentMatrix m;
  m.rows = int64_t(dims[0].size());
  m.cols = int64_t(dims.size());
  for (int64_t i = 0; i < m.rows; ++i)
    for (const auto& d : dims) m.values.push_back(d[size_t(i)]);
  return m;
}

std::vector<float> as_floats(const std::vector<int32_t>& v, float scale = 1, float shift = 0) {
  std::vector<float> out;
  for (int32_t x : v) out.push_back(float(x) * scale + shift);
  return out;
}

TEST(Uses, MutualInformationGapOfConstructedCases) {
  const Crossed c = crossed(7);
  // One factor, v. A dimension that is v (any affine map of it) knows all of it, and one that is w
  // nothing: MIG 1.
  FactorInformation f = mutual_information_gap(columns({as_floats(c.v, -0.7f, 2), as_floats(c.w)}), c.v, {5});
  EXPECT_NEAR(f.mi(0, 0), std::log(5.0), 1e-9);
  EXPECT_NEAR(f.mi(1, 0), 0.0, 1e-9);
  EXPECT_NEAR(f.factor_entropy[0], std::log(5.0), 1e-12);
  EXPECT_EQ(f.top_dim[0], 0);
  EXPECT_NEAR(f.mig, 1.0, 1e-9);
  // Both dimensions independent of v: MIG 0.
  f = mutual_information_gap(columns({as_floats(c.w), as_floats(c.w, 3.0f)}), c.v, {5});
  EXPECT_NEAR(f.mig, 0.0, 1e-9);
  // The same information in two dimensions: no gap, MIG 0.
  f = mutual_information_gap(columns({as_floats(c.v), as_floats(c.v, 2.0f)}), c.v, {5});
  EXPECT_NEAR(f.mig, 0.0, 1e-9);
  // Two factors, one dimension each: MIG 1, each factor's best dimension its own.
  std::vector<int32_t> both;
  for (size_t i = 0; i < c.v.size(); ++i) both.push_back(c.v[i]), both.push_back(c.w[i]);
  f = mutual_information_gap(columns({as_floats(c.w), as_floats(c.v)}), both, {5, 4});
  EXPECT_EQ(f.top_dim, (std::vector<int>{1, 0}));
  EXPECT_NEAR(f.mig, 1.0, 1e-9);
  // A factor that never varies carries no information and does not count.
  f = mutual_information_gap(columns({as_floats(c.v)}), std::vector<int32_t>(c.v.size() * 2, 0), {1, 3});
  EXPECT_EQ(f.mig, 0.0);

  EXPECT_THROW(mutual_information_gap(columns({as_floats(c.v)}), c.w, {3}), Error);          // value 3 of 3
  EXPECT_THROW(mutual_information_gap(columns({as_floats(c.v)}), {0, 1}, {5}), Error);        // too few values
  EXPECT_THROW(mutual_information_gap(columns({as_floats(c.v)}), c.v, {5}, 1), Error);        // one bin
}

// One shape per dimension: the factors of `shapes` make a dataset-level MIG in [0, 1]; a dataset
// without factors is refused by name.
TEST(Uses, MutualInformationGapOfAModelNeedsKnownFactors) {
  DataOptions small;
  small.height = small.width = 12;
  const Dataset shapes = Dataset::load("shapes", small);
  ModelConfig m;
  m.image_channels = shapes.channels();
  m.image_height = m.image_width = 12;
  m.latent_dim = 3;
  m.hidden = {16};
  Trainer trainer(shapes, m, TrainConfig{});
  const FactorInformation f = mutual_information_gap(*trainer.snapshot()->weights, shapes, 500);
  EXPECT_EQ(f.dims, 3);
  EXPECT_EQ(f.factors, int(shapes.factors().size()));
  EXPECT_EQ(f.factor_names.front(), "shape");
  EXPECT_GE(f.mig, 0.0);
  EXPECT_LE(f.mig, 1.0);

  const std::string dir = test::temp_dir();
  test::write_dataset(dir, 20, 10, 4, 4);
  const Dataset plain = Dataset::load(dir);
  ModelConfig p = m;
  p.image_channels = 1;
  p.image_height = p.image_width = 4;
  Trainer other(plain, p, TrainConfig{});
  try {
    mutual_information_gap(*other.snapshot()->weights, plain);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no known factors"), std::string::npos) << e.what();
  }
}

ImageBatch constant_images(int64_t count, int channels, int side, float value) {
  ImageBatch b;
  b.count = count;
  b.channels = channels;
  b.height = b.width = side;
  b.pixels.assign(size_t(count * b.pixels_per_image()), value);
  return b;
}

// Each corruption's statistics over 200,000 values, within 5 binomial (or normal) standard errors.
TEST(Uses, CorruptionStatistics) {
  const ImageBatch gray = constant_images(500, 1, 20, 0.5f);
  const double n = double(gray.pixels.size());

  ImageBatch g = corrupt_images(gray, parse_corruption("gaussian:0.1"), 1);
  double mean = 0, sq = 0;
  for (float v : g.pixels) mean += v, sq += double(v) * v;
  mean /= n;
  const double sd = std::sqrt(sq / n - mean * mean);
  EXPECT_NEAR(mean, 0.5, 5 * 0.1 / std::sqrt(n));
  EXPECT_NEAR(sd, 0.1, 0.002);
  for (float v : corrupt_images(gray, parse_corruption("gaussian:3"), 2).pixels) ASSERT_TRUE(v >= 0 && v <= 1);

  auto fraction = [&](const ImageBatch& b, float value) {
    double k = 0;
    for (float v : b.pixels) k += v == value;
    return k / double(b.pixels.size());
  };
  const double p = 0.3, se = std::sqrt(p * (1 - p) / n);
  EXPECT_NEAR(fraction(corrupt_images(gray, parse_corruption("mask:0.3"), 3), 0.0f), p, 5 * se);
  const ImageBatch sp = corrupt_images(gray, parse_corruption("saltpepper:0.4"), 4);
  EXPECT_NEAR(fraction(sp, 0.0f), 0.2, 5 * std::sqrt(0.2 * 0.8 / n));
  EXPECT_NEAR(fraction(sp, 1.0f), 0.2, 5 * std::sqrt(0.2 * 0.8 / n));
  EXPECT_NEAR(fraction(sp, 0.5f), 0.6, 5 * std::sqrt(0.6 * 0.4 / n));
  EXPECT_EQ(corrupt_images(gray, parse_corruption("mask:0"), 5).pixels, gray.pixels);
  EXPECT_EQ(fraction(corrupt_images(gray, parse_corruption("mask:1"), 5), 0.0f), 1.0);

  // A pixel is masked in all its channels together.
  const ImageBatch rgb = corrupt_images(constant_images(50, 3, 10, 0.8f), parse_corruption("mask:0.5"), 6);
  const int64_t plane = 100;
  for (int64_t i = 0; i < rgb.count; ++i)
    for (int64_t q = 0; q < plane; ++q) {
      const float* img = rgb.image(i);
      ASSERT_EQ(img[q], img[plane + q]);
      ASSERT_EQ(img[q], img[2 * plane + q]);
    }
  // The same seed, the same corruption; labels kept.
  ImageBatch labelled = gray;
  labelled.labels.assign(size_t(gray.count), 3);
  const ImageBatch a = corrupt_images(labelled, parse_corruption("saltpepper:0.2"), 9);
  EXPECT_EQ(a.pixels, corrupt_images(labelled, parse_corruption("saltpepper:0.2"), 9).pixels);
  EXPECT_NE(a.pixels, corrupt_images(labelled, parse_corruption("saltpepper:0.2"), 10).pixels);
  EXPECT_EQ(a.labels, labelled.labels);
}

TEST(Uses, CorruptionTextRoundTripsAndBadValuesAreNamed) {
  for (const char* text : {"none", "gaussian:0.3", "mask:0.25", "saltpepper:1"})
    EXPECT_EQ(to_string(parse_corruption(text)), text);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"gaussian:-0.1", "standard deviation"}, {"mask:1.5", "probability"}, {"saltpepper:-1", "probability"},
      {"blur:2", "unknown corruption 'blur'"},  {"mask", "needs its amount"},  {"mask:", "needs its amount"},
      {"gaussian:x", "not a number"},          {"mask:nan", "finite"},       {"gaussian:inf", "finite"}};
  for (const auto& [text, expected] : bad) {
    try {
      parse_corruption(text);
      ADD_FAILURE() << text << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << text << ": " << e.what();
    }
  }
}

// Known encodings: three classes at known points.
TEST(Uses, LatentArithmeticOnKnownEncodings) {
  LatentMatrix mu;
  mu.rows = 6;
  mu.cols = 2;
  mu.values = {1, 0, 3, 0,    // class 0 at (2, 0)
               0, 4, 0, 6,    // class 1 at (0, 5)
               -1, -1, 9, 9};  // the second row is class 7, outside 0..2: left out
  const ClassMeans means = class_means(mu, {0, 0, 1, 1, 2, 7}, 3);
  EXPECT_EQ(means.counts, (std::vector<int64_t>{2, 2, 1}));
  EXPECT_EQ(means.means.row(0), (std::vector<float>{2, 0}));
  EXPECT_EQ(means.means.row(1), (std::vector<float>{0, 5}));
  EXPECT_EQ(means.means.row(2), (std::vector<float>{-1, -1}));
  EXPECT_EQ(class_means(mu, {0, 0, 0, 0, 0, 0}, 2).counts[1], 0);

  EXPECT_EQ(latent_analogy({1, 2}, {0.5f, -1}, {3, 3}), (std::vector<float>{3.5f, 6}));
  EXPECT_THROW(latent_analogy({1}, {1, 2}, {1, 2}), Error);
  // From class 0's mean towards class 1's, at strengths −1, 0, 2, around (1, 1).
  const LatentMatrix path = attribute_path({1, 1}, means.means.row(0), means.means.row(1), {-1, 0, 2});
  EXPECT_EQ(path.rows, 3);
  EXPECT_EQ(path.values, (std::vector<float>{3, -4, 1, 1, -3, 11}));
}

TEST(Uses, TraversalsAndTheOrderOfDimensions) {
  const LatentMatrix t = traversal_latents({0.5f, -0.25f, 2}, {2, 0}, 3.0f, 4);
  ASSERT_EQ(t.rows, 8);
  ASSERT_EQ(t.cols, 3);
  EXPECT_EQ(t.row(0), (std::vector<float>{0.5f, -0.25f, -3}));
  EXPECT_EQ(t.row(1), (std::vector<float>{0.5f, -0.25f, -1}));
  EXPECT_EQ(t.row(3), (std::vector<float>{0.5f, -0.25f, 3}));
  EXPECT_EQ(t.row(4), (std::vector<float>{-3, -0.25f, 2}));
  EXPECT_THROW(traversal_latents({0, 0}, {2}, 3, 4), Error);
  EXPECT_THROW(traversal_latents({0, 0}, {0}, 0, 4), Error);
  EXPECT_THROW(traversal_latents({0, 0}, {0}, 3, 1), Error);

  EXPECT_EQ(dims_by_information({0.1, 5, NAN, 5, 2}), (std::vector<int>{1, 3, 4, 0, 2}));
  LatentMatrix mu;
  mu.rows = 4;
  mu.cols = 2;
  mu.values = {1, 7, 2, 7, 3, 7, 4, 7};
  const std::vector<double> activity = latent_activity(mu);
  EXPECT_NEAR(activity[0], 5.0 / 3.0, 1e-9);  // the sample variance of 1..4
  EXPECT_EQ(activity[1], 0.0);
}

struct SmallRun {
  std::string dir;
  Dataset data;
  ModelConfig model;
};

SmallRun small_run() {
  SmallRun s;
  s.dir = test::temp_dir();
  test::write_dataset(s.dir, 64, 40, 4, 4);
  s.data = Dataset::load(s.dir);
  s.model.image_height = s.model.image_width = 4;
  s.model.latent_dim = 2;
  s.model.hidden = {16};
  return s;
}

// The scores per image are the evaluation's terms, image by image: their mean is the test-set
// loss, the same images scored as a batch of their own get the same numbers, and −IW_K per image averages to
// the bound's −IW_K.
TEST(Uses, ScoresPerImageAddUpToTheEvaluation) {
  SmallRun s = small_run();
  TrainConfig t;
  t.epochs = 2;
  t.batch_size = 16;
  Trainer trainer(s.data, s.model, t);
  trainer.start();
  ASSERT_TRUE(trainer.wait_until_settled(60));
  const auto vae = trainer.snapshot()->weights;
  const ImageScores scores = score_test_set(*vae, s.data, 0, 5);
  ASSERT_EQ(scores.size(), 40u);
  const Evaluation e = evaluate_test_set(*vae, s.data, 0, 5);
  double sum = 0, recon = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    sum += scores.neg_elbo[i], recon += scores.recon[i];
    EXPECT_NEAR(scores.neg_elbo[i], scores.recon[i] + scores.kl[i], 1e-3);
    EXPECT_EQ(scores.labels[i], s.data.test_labels()[i]);
  }
  EXPECT_NEAR(sum / 40, e.loss, 1e-3);
  EXPECT_NEAR(recon / 40, e.recon, 1e-3);

  // The same images scored as a batch of their own (the noise is drawn per evaluation, so the whole set).
  std::vector<int64_t> all(40);
  for (int i = 0; i < 40; ++i) all[size_t(i)] = i;
  const ImageScores alone = score_images(*vae, s.data.test_images(all), 5);
  for (size_t i = 0; i < 40; ++i) EXPECT_NEAR(alone.neg_elbo[i], scores.neg_elbo[i], 1e-4);

  std::vector<int64_t> first(10);
  for (int i = 0; i < 10; ++i) first[size_t(i)] = i;
  const std::vector<float> iw = iw_scores(*vae, s.data.test_images(first), 50, 5);
  const std::vector<float> iw_all = iw_scores(*vae, s.data.test_images(all), 50, 5);
  double iw_sum = 0;
  for (float v : iw_all) iw_sum += v;
  EXPECT_NEAR(iw_sum / 40, evaluate_bounds(*vae, s.data, 50, false, 0, 5).iw_loss, 1e-3);
  EXPECT_EQ(iw.size(), 10u);
  EXPECT_THROW(iw_scores(*vae, s.data.test_images(first), 0), Error);
}

// A denoising step: the encoder sees x, the likelihood scores the clean target. The hand-written MLP
// step and the autograd step agree on it, and with target = x it is the plain step.
TEST(Uses, ADenoisingStepScoresTheCleanImage) {
  ModelConfig c;
  c.image_height = c.image_width = 4;
  c.latent_dim = 3;
  c.hidden = {8, 6};
  ModelPtr net = make_model(c, 3);
  torch::manual_seed(2);
  const torch::Tensor clean = torch::rand({5, 16}), noisy = (clean + 0.3 * torch::randn({5, 16})).clamp(0, 1);
  const torch::Tensor eps = torch::randn({5, 3});
  AutogradStep autograd(*net, TrainingStep::Gradients::Own);
  auto fast = make_training_step(*net, TrainingStep::Gradients::Own, StepEngine::HandWritten);
  const StepTerms a = autograd.run(noisy, eps, 1.0, 0, {}, clean);
  const std::vector<torch::Tensor> ga = [&] {
    std::vector<torch::Tensor> g;
    for (const auto& t : autograd.gradients()) g.push_back(t.clone());
    return g;
  }();
  const StepTerms f = fast->run(noisy, eps, 1.0, 0, {}, clean);
  EXPECT_NEAR(f.recon, a.recon, 1e-4 * std::abs(a.recon));
  EXPECT_NEAR(f.kl, a.kl, 1e-4 * std::abs(a.kl) + 1e-6);
  for (size_t i = 0; i < ga.size(); ++i)
    EXPECT_LT((fast->gradients()[i] - ga[i]).abs().max().item<double>(), 1e-4 * (ga[i].abs().max().item<double>() + 1e-6));
  // Not the plain step on either input.
  EXPECT_GT(std::abs(autograd.run(noisy, eps, 1.0).recon - a.recon), 1e-3);
  EXPECT_NEAR(autograd.run(clean, eps, 1.0, 0, {}, clean).recon, autograd.run(clean, eps, 1.0).recon, 1e-6);
}

// A denoising run trains, the same seed gives the same run (one thread and split across two), it
// differs from a clean run, and its checkpoint carries the corruption for a resume.
TEST(Uses, ADenoisingRunIsRepeatableAndItsCheckpointCarriesTheCorruption) {
  SmallRun s = small_run();
  auto run = [&](const std::string& corrupt, int threads) {
    TrainConfig t;
    t.epochs = 2;
    t.batch_size = 16;
    t.threads = threads;
    t.corrupt = parse_corruption(corrupt);
    Trainer trainer(s.data, s.model, t);
    trainer.start();
    EXPECT_TRUE(trainer.wait_until_settled(60));
    EXPECT_EQ(trainer.snapshot()->state, TrainerState::Idle) << trainer.snapshot()->message;
    const std::string path = s.dir + "/" + corrupt.substr(0, corrupt.find(':')) + std::to_string(threads) + ".ckpt";
    EXPECT_EQ(trainer.save(path).get(), "");
    return std::make_pair(trainer.steps_after(), path);
  };
  const auto [noisy, noisy_path] = run("saltpepper:0.3", 1);
  const auto [again, again_path] = run("saltpepper:0.3", 1);
  const auto [split, split_path] = run("saltpepper:0.3", 2);
  const auto [clean, clean_path] = run("none", 1);
  ASSERT_EQ(noisy.size(), 8u);
  ASSERT_EQ(clean.size(), 8u);
  EXPECT_EQ(noisy.back().loss, again.back().loss);
  EXPECT_NEAR(split.back().loss, noisy.back().loss, 1e-3 * std::abs(noisy.back().loss));
  EXPECT_NE(noisy.back().loss, clean.back().loss);
  EXPECT_EQ(to_string(read_checkpoint(noisy_path).train.corrupt), "saltpepper:0.3");
  EXPECT_FALSE(read_checkpoint(clean_path).train.corrupt.active());
}

}  // namespace
}  // namespace latent
