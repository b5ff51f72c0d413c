// The loss-curve widget's numbers: ranges, ticks, smoothing, hover lookup, data <-> screen.
#include <gtest/gtest.h>

#include <cmath>

#include "ui/plot_math.h"

namespace latent::ui {
namespace {

TEST(PlotMath, RangesPadFiniteValuesAndSurviveDegenerateData) {
  std::vector<double> a = {100, 150, NAN, 200}, b = {120, INFINITY};
  Range r = value_range({&a, &b}, false);
  EXPECT_DOUBLE_EQ(r.min, 95);
  EXPECT_DOUBLE_EQ(r.max, 205);
  std::vector<double> empty;
  Range e = value_range({&empty}, false);
  EXPECT_LT(e.min, e.max);
  std::vector<double> constant = {5, 5, 5};
  Range c = value_range({&constant}, false);
  EXPECT_LT(c.min, 5);
  EXPECT_GT(c.max, 5);
  std::vector<double> with_zero = {0, 10, 1000};
  Range l = value_range({&with_zero}, true);  // log: 0 is skipped
  EXPECT_NEAR(std::log10(l.min), 1 - 0.1, 1e-9);
  EXPECT_NEAR(std::log10(l.max), 3 + 0.1, 1e-9);
}

TEST(PlotMath, TicksAreNiceNumbersInsideTheRange) {
  auto t = linear_ticks({95, 205}, 5);
  EXPECT_EQ(t, (std::vector<double>{100, 120, 140, 160, 180, 200}));
  auto small = linear_ticks({-0.013, 0.041}, 4);
  ASSERT_EQ(small.size(), 3u);
  EXPECT_EQ(small[0], 0.0);  // exactly 0, not -1e-18
  EXPECT_NEAR(small[1], 0.02, 1e-12);
  EXPECT_NEAR(small[2], 0.04, 1e-12);
  EXPECT_TRUE(linear_ticks({1, 1}, 5).empty());
  EXPECT_EQ(log_ticks({0.5, 2000}), (std::vector<double>{1, 10, 100, 1000}));
  EXPECT_EQ(log_ticks({3, 60}), (std::vector<double>{5, 10, 20, 50}));
}

TEST(PlotMath, TickLabelsAreShort) {
  EXPECT_EQ(format_tick(0), "0");
  EXPECT_EQ(format_tick(150), "150");
  EXPECT_EQ(format_tick(0.25), "0.25");
  EXPECT_EQ(format_tick(25000), "25k");
  EXPECT_EQ(format_tick(1e-4), "1e-04");
  // Neighbouring ticks stay distinct: decimals follow the spacing.
  EXPECT_EQ(format_tick(4689.5, 0.5), "4689.5");
  EXPECT_EQ(format_tick(4690, 0.5), "4690.0");
  EXPECT_EQ(format_tick(140, 20), "140");
  EXPECT_EQ(format_tick(0.04, 0.02), "0.04");
  EXPECT_EQ(format_tick(25000, 5000), "25k");
}

TEST(PlotMath, SmoothingIsABiasCorrectedMovingAverage) {
  std::vector<double> y = {10, 0, 10, 0};
  EXPECT_EQ(smooth(y, 0), y);
  auto s = smooth(y, 0.5);
  EXPECT_DOUBLE_EQ(s[0], 10);               // no pull towards 0 at the start
  EXPECT_DOUBLE_EQ(s[1], (0.25 * 10) / 0.75);  // (0.5·0.5·10 + 0.5·0) / (1 − 0.25)
  std::vector<double> flat(50, 3.0);
  for (double v : smooth(flat, 0.95)) EXPECT_NEAR(v, 3.0, 1e-12);
}

TEST(PlotMath, NearestIndexForHover) {
  std::vector<double> xs = {1, 2, 4, 8};
  EXPECT_EQ(nearest_index(xs, -5), 0);
  EXPECT_EQ(nearest_index(xs, 2.9), 1);
  EXPECT_EQ(nearest_index(xs, 3.1), 2);
  EXPECT_EQ(nearest_index(xs, 100), 3);
  EXPECT_EQ(nearest_index({}, 1), -1);
}

TEST(PlotMath, TransformRoundTripsAndPutsLargeValuesAtTheTop) {
  PlotTransform t;
  t.x = {0, 100};
  t.y = {50, 250};
  t.left = 10;
  t.top = 20;
  t.width = 200;
  t.height = 100;
  auto [sx, sy] = t.to_screen(100, 250);
  EXPECT_FLOAT_EQ(sx, 210);
  EXPECT_FLOAT_EQ(sy, 20);
  auto [bx, by] = t.to_screen(0, 50);
  EXPECT_FLOAT_EQ(bx, 10);
  EXPECT_FLOAT_EQ(by, 120);
  auto [dx, dy] = t.to_data(110, 70);
  EXPECT_NEAR(dx, 50, 1e-4);
  EXPECT_NEAR(dy, 150, 1e-4);
  t.log_y = true;
  t.y = {1, 1000};
  EXPECT_FLOAT_EQ(t.to_screen(0, 10).second, 20 + 100 * (2.0f / 3.0f));
}

}  // namespace
}  // namespace latent::ui
