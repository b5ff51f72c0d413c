// The inference API the app calls: encode/decode shapes, sampling, interpolation, grids, evaluation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "latent/checkpoint.h"
#include "latent/dataset.h"
#include "latent/error.h"
#include "latent/evaluation.h"
#include "latent/inference.h"
#include "latent/trainer.h"
#include "test_support.h"

namespace latent {
namespace {

double norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s);
}

// Every test of this fixture runs for each architecture: the views call the same API for all.
struct TinyModel : ::testing::TestWithParam<std::string> {
  void SetUp() override {
    std::string dir = test::temp_dir();
    test::write_dataset(dir, 64, 30, 5, 6);
    data = Dataset::load(dir);
    ModelConfig m;
    m.image_height = 5;
    m.image_width = 6;
    m.latent_dim = 3;
    m.architecture = GetParam();
    m.hidden = {16};
    m.channels = {4, 8};
    m.dense = {8};
    TrainConfig t;
    t.batch_size = 16;
    Trainer trainer(data, m, t);
    trainer.step(3);
    ASSERT_TRUE(trainer.wait_until_settled(30));
    vae = trainer.snapshot()->weights;
    ASSERT_TRUE(vae);
  }
  Dataset data;
  std::shared_ptr<const Vae> vae;
};

TEST_P(TinyModel, EncodeDecodeShapes) {
  ImageBatch images = data.test_images({0, 1, 2, 3});
  Posterior q = vae->encode(images);
  EXPECT_EQ(q.mu.rows, 4);
  EXPECT_EQ(q.mu.cols, 3);
  EXPECT_EQ(q.logvar.values.size(), 12u);
  ImageBatch decoded = vae->decode(q.mu);
  EXPECT_EQ(decoded.count, 4);
  EXPECT_EQ(decoded.height, 5);
  EXPECT_EQ(decoded.width, 6);
  for (float p : decoded.pixels) EXPECT_TRUE(p >= 0 && p <= 1);
  // reconstruct(x) is decode(μ(x)).
  EXPECT_EQ(vae->reconstruct(images).pixels, decoded.pixels);
}

TEST_P(TinyModel, RejectsMismatchedInputs) {
  ImageBatch wrong;
  wrong.count = 1;
  wrong.height = 28;
  wrong.width = 28;
  wrong.pixels.assign(784, 0.f);
  EXPECT_THROW(vae->encode(wrong), Error);
  LatentMatrix z{1, 2, {0, 0}};
  EXPECT_THROW(vae->decode(z), Error);
}

TEST_P(TinyModel, PriorSamplesRepeatPerSeed) {
  EXPECT_EQ(vae->sample_prior(5, 9).pixels, vae->sample_prior(5, 9).pixels);
  EXPECT_NE(vae->sample_prior(5, 9).pixels, vae->sample_prior(5, 10).pixels);
  EXPECT_EQ(vae->sample_prior(5, 9).count, 5);
}

TEST_P(TinyModel, GridDecodesKSquaredImages) {
  GridSpec spec;
  spec.k = 4;
  spec.dim_x = 2;
  spec.dim_y = 0;
  EXPECT_EQ(decode_grid(*vae, spec).count, 16);
  spec.dim_x = 5;
  EXPECT_THROW(decode_grid(*vae, spec), Error);
}

TEST_P(TinyModel, EvaluationAndEncodedTestSet) {
  Evaluation e = evaluate_test_set(*vae, data, 20);
  EXPECT_EQ(e.images, 20);
  ASSERT_EQ(e.kl_per_dim.size(), 3u);
  EXPECT_NEAR(e.kl_per_dim[0] + e.kl_per_dim[1] + e.kl_per_dim[2], e.kl, 1e-9);
  EXPECT_NEAR(e.loss, e.recon + e.kl, 1e-9);
  EXPECT_GT(e.recon, 0);
  EncodedSet set = encode_test_set(*vae, data);
  EXPECT_EQ(set.posterior.mu.rows, 30);
  ASSERT_EQ(set.labels.size(), 30u);
  EXPECT_EQ(set.labels[13], 3);
}

double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  return worst;
}

// A model trained on the test device (LATENT_TEST_DEVICE=cuda on a GPU machine), its checkpoint,
// and every inference call on that device's copy (on a GPU the chunked paths copy each result back)
// against the same weights on the CPU. On the CPU: the live copy against the checkpoint's.
TEST_P(TinyModel, ModelOnTheTestDeviceInfersAsOnTheCpu) {
  TrainConfig t;
  t.batch_size = 16;
  t.device = test::device();
  Trainer trainer(data, vae->config(), t);
  trainer.step(3);
  ASSERT_TRUE(trainer.wait_until_settled(60));
  const std::shared_ptr<const Vae> live = trainer.snapshot()->weights;
  ASSERT_TRUE(live);
  EXPECT_EQ(live->device().rfind(t.device, 0), 0u) << live->device();
  const std::string path = test::temp_dir() + "/gpu.ckpt";
  ASSERT_EQ(trainer.save(path).get(), "");
  const Checkpoint saved = read_checkpoint(path);
  EXPECT_EQ(saved.progress.step, 3);
  const auto cpu = Vae::from_checkpoint(saved, "cpu");
  for (const auto& gpu : {live, Vae::from_checkpoint(saved, t.device)}) {
    const ImageBatch images = data.test_images({0, 1, 2, 3, 4, 5, 6});
    const Posterior q_gpu = gpu->encode(images), q_cpu = cpu->encode(images);
    EXPECT_LT(max_difference(q_gpu.mu.values, q_cpu.mu.values), 1e-4);
    EXPECT_LT(max_difference(q_gpu.logvar.values, q_cpu.logvar.values), 1e-4);
    EXPECT_LT(max_difference(gpu->decode(q_cpu.mu).pixels, cpu->decode(q_cpu.mu).pixels), 1e-4);
    EXPECT_LT(max_difference(gpu->reconstruct(images).pixels, cpu->reconstruct(images).pixels), 1e-4);
    EXPECT_LT(max_difference(gpu->sample_prior(5, 9).pixels, cpu->sample_prior(5, 9).pixels), 1e-4);
    GridSpec spec;
    spec.k = 4;
    EXPECT_LT(max_difference(decode_grid(*gpu, spec).pixels, decode_grid(*cpu, spec).pixels), 1e-4);
    const EncodedSet set_gpu = encode_test_set(*gpu, data), set_cpu = encode_test_set(*cpu, data);
    EXPECT_EQ(set_gpu.labels, set_cpu.labels);
    EXPECT_LT(max_difference(set_gpu.posterior.mu.values, set_cpu.posterior.mu.values), 1e-4);
    const Evaluation e_gpu = evaluate_test_set(*gpu, data, 20), e_cpu = evaluate_test_set(*cpu, data, 20);
    EXPECT_EQ(e_gpu.images, e_cpu.images);
    EXPECT_NEAR(e_gpu.loss, e_cpu.loss, 1e-3 * std::abs(e_cpu.loss));
  }
}

INSTANTIATE_TEST_SUITE_P(Architectures, TinyModel, ::testing::ValuesIn(architecture_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(Interpolation, LinearHitsEndpointsAndMidpoint) {
  std::vector<float> a = {1, 2, -1}, b = {3, -2, 1};
  LatentMatrix path = interpolate(a, b, 5, Interpolation::Linear);
  ASSERT_EQ(path.rows, 5);
  EXPECT_EQ(path.row(0), a);
  EXPECT_EQ(path.row(4), b);
  EXPECT_FLOAT_EQ(path.at(2, 0), 2.0f);
  EXPECT_FLOAT_EQ(path.at(2, 1), 0.0f);
  EXPECT_THROW(interpolate(a, {1, 2}, 5, Interpolation::Linear), Error);
  EXPECT_THROW(interpolate(a, b, 1, Interpolation::Linear), Error);
}

TEST(Interpolation, SphericalKeepsTheNormOnTheArc) {
  std::vector<float> a = {2, 0}, b = {0, 2};
  LatentMatrix path = interpolate(a, b, 9, Interpolation::Spherical);
  for (int64_t i = 0; i < path.rows; ++i) EXPECT_NEAR(norm(path.row(i)), 2.0, 1e-5);
  EXPECT_NEAR(path.at(4, 0), std::sqrt(2.0), 1e-5);  // 45° at the midpoint
  EXPECT_NEAR(path.at(0, 0), 2.0, 1e-6);
  EXPECT_NEAR(path.at(8, 1), 2.0, 1e-6);
  // Norms differ: interpolated linearly along the arc.
  LatentMatrix scaled = interpolate({1, 0}, {0, 3}, 3, Interpolation::Spherical);
  EXPECT_NEAR(norm(scaled.row(1)), 2.0, 1e-5);
  // Parallel endpoints fall back to lerp.
  LatentMatrix parallel = interpolate({1, 1}, {2, 2}, 3, Interpolation::Spherical);
  EXPECT_NEAR(parallel.at(1, 0), 1.5, 1e-6);
}

TEST(Grid, LatentsAreLaidOutLikeAPlot) {
  GridSpec spec;
  spec.k = 3;
  spec.extent = 1;
  spec.dim_x = 0;
  spec.dim_y = 2;
  spec.base = {9, 7, 9};
  LatentMatrix z = grid_latents(spec, 3);
  ASSERT_EQ(z.rows, 9);
  EXPECT_EQ(z.row(0), (std::vector<float>{-1, 7, 1}));  // top-left: smallest x, largest y
  EXPECT_EQ(z.row(2), (std::vector<float>{1, 7, 1}));
  EXPECT_EQ(z.row(8), (std::vector<float>{1, 7, -1}));
  EXPECT_EQ(z.row(4), (std::vector<float>{0, 7, 0}));
  spec.base = {1};
  EXPECT_THROW(grid_latents(spec, 3), Error);
}

}  // namespace
}  // namespace latent
