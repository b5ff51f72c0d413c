// The pad's prior contours: on N(0, I) they are the circles of radius 1, 2 and 3, and the levels
// hold the masses asked for on any grid.
#include <gtest/gtest.h>

#include <cmath>

#include "ui/prior_contours.h"

namespace latent::ui {
namespace {

std::vector<float> grid_of(int n, float extent, float (*p)(float, float)) {
  std::vector<float> g(size_t(n) * size_t(n));
  const float h = 2 * extent / float(n);
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) g[size_t(r) * size_t(n) + size_t(c)] = p(-extent + (c + 0.5f) * h, extent - (r + 0.5f) * h);
  return g;
}

TEST(PriorContours, OnTheStandardNormalTheyAreTheCirclesAtOneTwoThree) {
  const int n = 256;
  const float extent = 5;
  const auto g = grid_of(n, extent, [](float x, float y) { return float(std::exp(-0.5 * (x * x + y * y)) / (2 * M_PI)); });
  const std::vector<double> masses(kContourMasses.begin(), kContourMasses.end());
  const auto levels = hpd_levels(g, masses);
  ASSERT_EQ(levels.size(), 3u);
  const auto segments = contour_segments(g, n, extent, levels);
  int counts[3] = {0, 0, 0};
  for (const auto& s : segments) {
    ++counts[s.contour];
    const float radius = float(s.contour + 1);
    EXPECT_NEAR(std::hypot(s.x0, s.y0), radius, 0.03f) << "contour " << s.contour;
    EXPECT_NEAR(std::hypot(s.x1, s.y1), radius, 0.03f) << "contour " << s.contour;
  }
  // Each circle is closed: about its circumference in cells.
  for (int k = 0; k < 3; ++k) EXPECT_GT(counts[k], int(2 * M_PI * (k + 1) / (2 * extent / n))) << k;
}

TEST(PriorContours, LevelsHoldTheirMass) {
  // Two bumps of unequal weight: the 39 % region is only the heavier one.
  const auto g = grid_of(128, 4, [](float x, float y) {
    return float(0.7 * std::exp(-2 * ((x - 1.5) * (x - 1.5) + y * y)) + 0.3 * std::exp(-2 * ((x + 1.5) * (x + 1.5) + y * y)));
  });
  const auto levels = hpd_levels(g, {0.3935, 0.9});
  double total = 0, inside0 = 0, inside1 = 0, left0 = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    total += g[i];
    if (g[i] >= levels[0]) inside0 += g[i], left0 += (i % 128) < 64 ? g[i] : 0;
    if (g[i] >= levels[1]) inside1 += g[i];
  }
  EXPECT_NEAR(inside0 / total, 0.3935, 0.01);
  EXPECT_NEAR(inside1 / total, 0.9, 0.01);
  EXPECT_EQ(left0, 0.0) << "the lighter bump is not in the densest 39 %";
  EXPECT_EQ(hpd_levels({}, {0.5}), std::vector<float>{0.0f});
  EXPECT_EQ(hpd_levels({0, 0, 0, 0}, {0.5}), std::vector<float>{0.0f});
  EXPECT_TRUE(contour_segments({1, 2, 3}, 2, 1, {1.5f}).empty()) << "a grid of the wrong size";
}

}  // namespace
}  // namespace latent::ui
