// The fused kernels against the formulas in double precision, across the whole float range of
// logits (where a naive form would overflow) and at the sizes that leave vector remainders.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <torch/torch.h>

#include "train/kernels.h"

namespace latent {
namespace {

TEST(Kernels, BceWithLogitsMatchesTheDoublePrecisionFormula) {
  std::mt19937 rng(4);
  std::vector<float> logits, x;
  for (float l : {-1e30f, -200.0f, -88.0f, -87.0f, -30.0f, -17.0f, -1e-7f, 0.0f, 1e-7f, 0.5f, 17.0f, 30.0f, 88.0f,
                  200.0f, 1e30f})
    for (float xi : {0.0f, 0.25f, 1.0f}) logits.push_back(l), x.push_back(xi);
  std::normal_distribution<float> normal(0.0f, 6.0f);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  for (int i = 0; i < 10007; ++i) logits.push_back(normal(rng)), x.push_back(unit(rng));  // odd length

  const int64_t n = int64_t(logits.size());
  std::vector<float> grad(size_t(n), 123.0f);
  const float scale = 1.0f / 128;
  const double sum = bce_with_logits(logits.data(), x.data(), grad.data(), scale, n);

  double expected_sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double l = logits[size_t(i)], xi = x[size_t(i)];
    const double softplus = std::max(l, 0.0) + std::log1p(std::exp(-std::abs(l)));
    const double bce = softplus - l * xi;
    expected_sum += bce;
    const double sigmoid = l >= 0 ? 1 / (1 + std::exp(-l)) : std::exp(l) / (1 + std::exp(l));
    const double g = (sigmoid - xi) * scale;
    ASSERT_NEAR(grad[size_t(i)], g, 2e-7 * scale) << "logit " << l << " x " << xi;
    if (std::abs(l) < 1e3) {  // per-element check through a one-element call, where bce is representable
      float one_grad;
      const double one = bce_with_logits(&logits[size_t(i)], &x[size_t(i)], &one_grad, 1.0f, 1);
      ASSERT_NEAR(one, bce, 1e-6 * std::max(1.0, std::abs(bce)) + 1e-6 * std::abs(l)) << "logit " << l << " x " << xi;
    }
  }
  EXPECT_NEAR(sum, expected_sum, 1e-6 * std::abs(expected_sum));
}

TEST(Kernels, BceOfEmptyInputIsZero) { EXPECT_EQ(bce_with_logits(nullptr, nullptr, nullptr, 1.0f, 0), 0.0); }

// The trainer's batch: each byte b becomes the float LibTorch's byte→float conversion and
// div_(255.0f) give (what the app's other paths use), bit for bit, rows in the order asked.
TEST(Kernels, GatherUnitFloatsIsLibTorchsConversionRowByRow) {
  const int64_t rows = 300, row_size = 29;  // odd: no vector width divides it
  torch::Tensor bytes = torch::randint(0, 256, {rows, row_size}, torch::kUInt8);
  bytes[7] = torch::arange(0, row_size, torch::kInt64).mul_(9).to(torch::kUInt8);  // 0 .. 252
  bytes[8].fill_(255);
  const std::vector<int64_t> indices = {8, 7, 0, 299, 7, 150};
  std::vector<float> out(indices.size() * size_t(row_size), -1.0f);
  gather_unit_floats(bytes.data_ptr<uint8_t>(), row_size, indices.data(), int64_t(indices.size()), out.data());
  torch::Tensor expected =
      bytes.index_select(0, torch::tensor(indices, torch::kInt64)).to(torch::kFloat32).div_(255.0f).contiguous();
  for (size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], expected.data_ptr<float>()[i]) << "value " << i;
  EXPECT_EQ(out[0], 1.0f);                    // the row of 255s, first
  EXPECT_EQ(out[size_t(row_size) + 1], 9.0f / 255.0f);  // then row 7
}

TEST(Kernels, AdamUpdateMatchesTheFormulaAndFlagsNonFiniteGradients) {
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t n = 1037;
  std::vector<float> p(n), g(n), m(n), v(n);
  for (int64_t i = 0; i < n; ++i)
    p[i] = normal(rng), g[i] = normal(rng), m[i] = 0.1f * normal(rng), v[i] = 0.01f * std::abs(normal(rng));
  const AdamScalars s{0.9f, 0.999f, float(1 - 0.9), float(1 - 0.999), 0.01f, 1.2f, 1e-8f};
  // The formula in double from the same float scalars; tolerances at float rounding of the inputs.
  std::vector<double> ep(n), em(n), ev(n), tol_m(n), tol_v(n);
  for (int64_t i = 0; i < n; ++i) {
    em[i] = double(s.beta1) * m[i] + double(s.one_minus_beta1) * g[i];
    ev[i] = double(s.beta2) * v[i] + double(s.one_minus_beta2) * double(g[i]) * g[i];
    ep[i] = p[i] - double(s.step_size) * em[i] / (std::sqrt(ev[i]) * double(s.inv_sqrt_bias2) + double(s.eps));
    tol_m[i] = 3e-7 * (std::abs(m[i]) + 0.1 * std::abs(g[i]));
    tol_v[i] = 3e-7 * ev[i];
  }
  ASSERT_TRUE(adam_update(p.data(), g.data(), m.data(), v.data(), n, s));
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_NEAR(m[i], em[i], tol_m[i]);
    ASSERT_NEAR(v[i], ev[i], tol_v[i]);
    ASSERT_NEAR(p[i], ep[i], 1e-6 * std::abs(ep[i]) + 1e-7);
  }
  for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN()}) {
    std::vector<float> g2 = g;
    g2[n - 3] = bad;  // in the vector remainder
    EXPECT_FALSE(adam_update(p.data(), g2.data(), m.data(), v.data(), n, s)) << bad;
    g2 = g;
    g2[5] = bad;
    EXPECT_FALSE(adam_update(p.data(), g2.data(), m.data(), v.data(), n, s)) << bad;
  }
  g[0] = 1e19f;  // large, and (1−β2)·g² still fits a float
  EXPECT_TRUE(adam_update(p.data(), g.data(), m.data(), v.data(), 1, s));
  // Finite, but its square overflows v: as divergent as an infinite gradient, since the moment it
  // leaves behind is inf (and would be saved in a checkpoint).
  g[0] = std::numeric_limits<float>::max();
  EXPECT_FALSE(adam_update(p.data(), g.data(), m.data(), v.data(), 1, s));
}

}  // namespace
}  // namespace latent
