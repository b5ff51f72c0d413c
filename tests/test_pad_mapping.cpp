// The latent pad's screen <-> z mapping.
#include <gtest/gtest.h>

#include "ui/pad_mapping.h"

namespace latent::ui {
namespace {

TEST(PadMapping, CentreIsTheOriginAndYPointsUp) {
  PadMapping m{100, 50, 600, 3};
  auto [cx, cy] = m.to_screen(0, 0);
  EXPECT_FLOAT_EQ(cx, 400);
  EXPECT_FLOAT_EQ(cy, 350);
  auto [tx, ty] = m.to_screen(3, 3);  // top right
  EXPECT_FLOAT_EQ(tx, 700);
  EXPECT_FLOAT_EQ(ty, 50);
  auto [zx, zy] = m.to_latent(100, 650);  // bottom left
  EXPECT_FLOAT_EQ(zx, -3);
  EXPECT_FLOAT_EQ(zy, -3);
}

TEST(PadMapping, RoundTripsAndClamps) {
  PadMapping m{10, 20, 300, 2.5f};
  for (float zx : {-2.5f, -1.0f, 0.3f, 2.4f})
    for (float zy : {-2.0f, 0.0f, 1.7f}) {
      auto [sx, sy] = m.to_screen(zx, zy);
      auto [bx, by] = m.to_latent(sx, sy);
      EXPECT_NEAR(bx, zx, 1e-5);
      EXPECT_NEAR(by, zy, 1e-5);
    }
  auto [cx, cy] = m.to_latent_clamped(-1000, 5000);
  EXPECT_FLOAT_EQ(cx, -2.5f);
  EXPECT_FLOAT_EQ(cy, -2.5f);
  EXPECT_TRUE(m.contains(160, 170));
  EXPECT_FALSE(m.contains(9, 170));
}

}  // namespace
}  // namespace latent::ui

#include "ui/colormap.h"
#include "ui/scatter_raster.h"

namespace latent::ui {
namespace {

TEST(ScatterRaster, PointsLandWhereThePadMapsThemInTheirLabelColour) {
  // Two points: z = (0, 0) with label 1 and z = (3, 3) (top-right corner) with label 2.
  LatentMatrix points{2, 2, {0, 0, 3, 3}};
  auto image = rasterize_scatter(points, {1, 2}, 0, 1, 3.0f, 101, 255);
  ASSERT_EQ(image.size(), 101u * 101u);
  EXPECT_EQ(image[50 * 101 + 50], label_color(1));
  EXPECT_EQ(image[50 * 101 + 49], label_color(1));  // a 3x3 dot
  EXPECT_EQ(image[50 * 101 + 53], 0u);              // transparent elsewhere
  EXPECT_EQ(image[0 * 101 + 100], label_color(2));  // clipped at the corner, still drawn
  // Half-transparent dots blend: two on the same spot are more opaque than one.
  LatentMatrix twice{2, 2, {0, 0, 0, 0}};
  auto blended = rasterize_scatter(twice, {1, 1}, 0, 1, 3.0f, 11, 128);
  EXPECT_GT(blended[5 * 11 + 5] >> 24, 128u);
}

TEST(ScatterRaster, AnOpaqueBackgroundFillsThePadAndDotsBlendOverIt) {
  const uint32_t background = 0xFF181210u;  // ABGR: (16, 18, 24), opaque
  LatentMatrix points{1, 2, {0, 0}};
  auto image = rasterize_scatter(points, {1}, 0, 1, 3.0f, 11, 128, background);
  EXPECT_EQ(image[0], background);
  EXPECT_EQ(image[10 * 11 + 10], background);
  const uint32_t dot = image[5 * 11 + 5], colour = label_color(1);
  EXPECT_EQ(dot >> 24, 255u);  // over an opaque background, still opaque
  for (int shift = 0; shift < 24; shift += 8) {
    // Half way (alpha 128) between the background's channel and the label colour's.
    const int b = (background >> shift) & 0xFF, c = (colour >> shift) & 0xFF, d = (dot >> shift) & 0xFF;
    EXPECT_NEAR(d, (b * 127 + c * 128) / 255, 1) << "channel at bit " << shift;
  }
}

}  // namespace
}  // namespace latent::ui

#include <cmath>

#include "ui/aggregate_density.h"

namespace latent::ui {
namespace {

TEST(AggregateDensity, OnePosteriorIsItsOwnGaussianAndHolesAreWhereThePriorIsEmpty) {
  // q(z|x) = N((1, 0), 0.5²) for a single x: the aggregate is that Gaussian.
  Posterior q{LatentMatrix{1, 2, {1.0f, 0.0f}}, LatentMatrix{1, 2, {2 * std::log(0.5f), 2 * std::log(0.5f)}}};
  DensityGrid g = aggregate_density(q, 0, 1, 120, 3.0f);
  const float h = 6.0f / 120;
  double mass = 0;
  for (float v : g.q) mass += v * h * h;
  EXPECT_NEAR(mass, 1.0, 0.01);
  // The cell whose centre is (1.025, 0.025): N((1.025, 0.025); (1, 0), 0.25 I).
  const int row = 59, col = 80;
  const float expected = std::exp(-0.5f * (0.025f * 0.025f + 0.025f * 0.025f) / 0.25f) / (2 * float(M_PI) * 0.25f);
  EXPECT_NEAR(g.q[size_t(row) * 120 + col], expected, 1e-3);
  EXPECT_NEAR(g.prior[size_t(59) * 120 + 59], 1 / (2 * M_PI) * std::exp(-0.5 * 2 * 0.025 * 0.025), 1e-4);
  // Holes: inside the prior's 2σ disk but far from (1, 0), e.g. near (−1.5, 0); none where q sits.
  EXPECT_EQ(g.hole[size_t(59) * 120 + 30], 1);
  EXPECT_EQ(g.hole[size_t(row) * 120 + col], 0);
  EXPECT_EQ(g.hole[0], 0);  // the corner is outside the prior's 2σ contour
}

}  // namespace
}  // namespace latent::ui
