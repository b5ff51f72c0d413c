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

// A live plot's x axis: the data's end grows every step, the axis only now and then, never back.
TEST(PlotMath, AGrowingAxisHoldsTheDataNeverShrinksAndRarelyMoves) {
  EXPECT_DOUBLE_EQ(nice_ceil(320), 400);
  EXPECT_DOUBLE_EQ(nice_ceil(401), 500);
  EXPECT_DOUBLE_EQ(nice_ceil(0.013), 0.015);
  EXPECT_DOUBLE_EQ(nice_ceil(1000), 1000);  // already nice
  EXPECT_DOUBLE_EQ(grow_axis({1, 321}).min, 1);
  EXPECT_DOUBLE_EQ(grow_axis({1, 321}).max, 401);
  double axis = 0;
  int changes = 0;
  for (double end = 100; end <= 5000; ++end) {
    const Range x = grow_axis({0, end});
    EXPECT_GE(x.max, end);
    EXPECT_LE((x.max - end) / x.max, 0.25 + 1e-12);  // at most a quarter of the axis to spare
    EXPECT_GE(x.max, axis) << end;
    changes += x.max != axis;
    axis = x.max;
  }
  EXPECT_LE(changes, 20);  // over 4,900 steps
}

TEST(PlotMath, SnappedYAxesMoveInHalfTickSteps) {
  // 143.2..251.7 with about 5 ticks: 20 apart, so the ends move in 10s.
  EXPECT_DOUBLE_EQ(tick_step({143.2, 251.7}, 5), 20);
  Range y = snap_to_ticks({143.2, 251.7}, 5, 0.5, true);
  EXPECT_DOUBLE_EQ(y.min, 140);
  EXPECT_DOUBLE_EQ(y.max, 260);
  // Data moving inside those steps leaves the axis where it is.
  Range later = snap_to_ticks({141.0, 258.0}, 5, 0.5, true);
  EXPECT_DOUBLE_EQ(later.min, 140);
  EXPECT_DOUBLE_EQ(later.max, 260);
  // Negative ranges snap outward too; a value on a multiple stays; degenerate input is kept.
  Range n = snap_to_ticks({-7.3, -1.2}, 5, 1.0, true);
  EXPECT_DOUBLE_EQ(n.min, -8);
  EXPECT_DOUBLE_EQ(n.max, -1);
  EXPECT_DOUBLE_EQ(snap_to_ticks({0, 400}, 4, 1.0, false).max, 400);
  Range flat = snap_to_ticks({5, 5}, 5, 1.0, true);
  EXPECT_DOUBLE_EQ(flat.min, 5);
  EXPECT_DOUBLE_EQ(flat.max, 5);
  EXPECT_EQ(tick_step({1, 1}, 5), 0);
}

}  // namespace
}  // namespace latent::ui
