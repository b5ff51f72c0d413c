// The loss-curve widget's numbers: ranges, ticks, smoothing, hover lookup, data <-> screen.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

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

// A long run's curve over a 500-pixel axis: the drawn samples stay near one per column, the line
// through them reaches every column's lowest and highest sample, and new steps change only the
// newest column's samples.
TEST(PlotMath, ColumnSamplesKeepEachColumnsExtremesAndOnlyTheNewestColumnChanges) {
  PlotTransform t;
  t.x = {0, 100000};
  t.y = {0, 10};
  t.width = 500;
  t.height = 300;
  std::vector<double> x, smooth_y, noisy_y;
  uint32_t seed = 1;
  for (int i = 0; i < 60000; ++i) {
    x.push_back(i);
    smooth_y.push_back(5 + 4 * std::exp(-i / 5000.0));
    seed = seed * 1664525u + 1013904223u;
    noisy_y.push_back(smooth_y.back() + 2.0 * (seed >> 8) / double(1u << 24) - 1.0);
  }
  const double columns_per_x = t.width / (t.x.max - t.x.min);
  const auto column = [&](size_t i) { return std::floor(x[i] * columns_per_x); };
  // 60,000 samples fill 300 of the 500 columns.
  const std::vector<size_t> smooth = column_samples(x, smooth_y, t);
  EXPECT_LE(smooth.size(), 300u + 60u) << "a smooth curve is about one sample per column";
  EXPECT_GE(smooth.size(), 300u);
  EXPECT_EQ(smooth.back(), x.size() - 1);  // the curve reaches its newest step
  const std::vector<size_t> noisy = column_samples(x, noisy_y, t);
  EXPECT_LE(noisy.size(), 2u * 300 + 1);  // two a column, and the newest step
  EXPECT_GE(noisy.size(), 2u * 300 - 30);
  EXPECT_EQ(noisy.back(), x.size() - 1);
  for (size_t k = 1; k < noisy.size(); ++k) ASSERT_LT(noisy[k - 1], noisy[k]);
  // Each column's drawn samples include its lowest and highest.
  for (double c = 0; c < 300; ++c) {
    double lo = INFINITY, hi = -INFINITY, drawn_lo = INFINITY, drawn_hi = -INFINITY;
    for (size_t i = 0; i < x.size(); ++i)
      if (column(i) == c) lo = std::min(lo, noisy_y[i]), hi = std::max(hi, noisy_y[i]);
    for (size_t i : noisy)
      if (column(i) == c) drawn_lo = std::min(drawn_lo, noisy_y[i]), drawn_hi = std::max(drawn_hi, noisy_y[i]);
    ASSERT_EQ(drawn_lo, lo) << "column " << c;
    ASSERT_EQ(drawn_hi, hi) << "column " << c;
  }
  // 1,000 more steps: the samples of every column but the formerly newest are the same.
  std::vector<double> longer_x = x, longer_y = noisy_y;
  for (int i = 60000; i < 61000; ++i) longer_x.push_back(i), longer_y.push_back(5.0 + (i % 7) * 0.3);
  const std::vector<size_t> longer = column_samples(longer_x, longer_y, t);
  const double newest = column(x.size() - 1);
  size_t kept = 0;
  while (kept < noisy.size() && column(noisy[kept]) < newest) ++kept;
  ASSERT_GE(longer.size(), kept);
  EXPECT_TRUE(std::equal(noisy.begin(), noisy.begin() + long(kept), longer.begin()));
  EXPECT_GE(kept + 3, noisy.size());  // all but the formerly newest column's (at most 3) samples
}

TEST(PlotMath, ColumnSamplesSkipWhatCannotBeDrawn) {
  PlotTransform t;
  t.x = {0, 10};
  t.y = {0.1, 100};
  t.width = 10;
  t.height = 100;
  const std::vector<double> x = {0, 1, 2, 3, 4, 5};
  EXPECT_EQ(column_samples(x, {1, NAN, 3, INFINITY, 5, 6}, t), (std::vector<size_t>{0, 2, 4, 5}));
  t.log_y = true;
  EXPECT_EQ(column_samples(x, {1, 0, 3, -1, 5, 6}, t), (std::vector<size_t>{0, 2, 4, 5}));
  EXPECT_TRUE(column_samples({}, {}, t).empty());
  EXPECT_EQ(column_samples({1, 2}, {1}, t), (std::vector<size_t>{0}));  // the shorter of x and y
}

// The summary kept between frames gives what column_samples() gives from scratch, whatever the
// chunks the data arrives in, through axis changes, and when the data is rewritten in place.
TEST(PlotMath, ColumnSummaryFollowsAppendedDataAsColumnSamplesDoes) {
  PlotTransform t;
  t.width = 300;
  t.height = 200;
  std::vector<double> x, y;
  ColumnSummary summary;
  uint32_t seed = 7;
  const auto next = [&seed] { return (seed = seed * 1664525u + 1013904223u) >> 8; };
  const auto extremes = [&] {
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < x.size(); ++i)
      if (std::isfinite(y[i]) && (!t.log_y || y[i] > 0)) lo = std::min(lo, y[i]), hi = std::max(hi, y[i]);
    return std::make_pair(lo, hi);
  };
  int checks = 0;
  while (x.size() < 40000) {
    const size_t chunk = 1 + next() % 700;  // a frame's worth of steps, or a burst
    for (size_t k = 0; k < chunk; ++k) {
      x.push_back(double(x.size()));
      const uint32_t r = next();
      y.push_back(r % 97 == 0 ? NAN : r % 89 == 0 ? -1.0 : 2 + std::sin(x.back() / 900.0) + (r % 1000) / 2000.0);
    }
    t.x = grow_axis({0, x.back()});                // steps by nice amounts: sometimes a new axis
    t.log_y = (x.size() / 10000) % 2 == 1;         // and now and then a log axis
    t.y = padded_range(extremes().first, extremes().second, t.log_y);
    summary.update(x, y, t);
    ASSERT_EQ(summary.samples(t), column_samples(x, y, t)) << "after " << x.size() << " samples";
    ASSERT_EQ(summary.extremes(), extremes());
    ++checks;
  }
  EXPECT_GT(checks, 50);
  // One column per pixel the data reaches (over 40,000 steps on a 50,000-step axis of 300 pixels).
  EXPECT_EQ(t.x.max, 50000);
  EXPECT_EQ(summary.columns(), size_t(x.back() * t.width / t.x.max) + 1);
  // Rewritten in place (another smoothing): the last value differs, so it starts over.
  for (double& v : y) v = std::isfinite(v) ? v * 0.5 : v;
  summary.update(x, y, t);
  EXPECT_EQ(summary.samples(t), column_samples(x, y, t));
  EXPECT_EQ(summary.extremes(), extremes());
  // A rewrite that keeps the last value is only seen through the generation.
  y[10] = 100;
  summary.update(x, y, t, /*generation=*/1);
  EXPECT_EQ(summary.extremes().second, 100);
  EXPECT_EQ(summary.samples(t), column_samples(x, y, t));
  // Fewer samples (another run's log): starts over.
  x.resize(500), y.resize(500);
  summary.update(x, y, t, 1);
  EXPECT_EQ(summary.samples(t), column_samples(x, y, t));
}

TEST(PlotMath, ColourBarTicksSitWhereTheHeatmapPutsTheirColour) {
  // A peak of 0.53: 0 and the peak at the ends, then nice values on the square-root scale.
  const auto ticks = sqrt_bar_ticks(0.53, 0.12);
  ASSERT_GE(ticks.size(), 3u);
  EXPECT_EQ(ticks.front().value, 0);
  EXPECT_DOUBLE_EQ(ticks.back().value, 0.53);
  EXPECT_EQ(ticks.back().position, 1);
  for (size_t i = 0; i < ticks.size(); ++i) {
    EXPECT_NEAR(ticks[i].position, std::sqrt(ticks[i].value / 0.53), 1e-12);
    if (i > 0) EXPECT_GE(ticks[i].position - ticks[i - 1].position, 0.12 - 1e-12);
  }
  // 0.5, 0.2, 0.1, 0.05, 0.02 and 0.01 would sit at 0.97, 0.61, 0.43, 0.31, 0.19 and 0.14: 0.5 is
  // too close to the peak's label, 0.02 to 0.05's.
  std::vector<double> values;
  for (const auto& t : ticks) values.push_back(t.value);
  EXPECT_EQ(values, (std::vector<double>{0, 0.01, 0.05, 0.1, 0.2, 0.53}));
  // Nothing to show: one tick at zero; never a NaN.
  EXPECT_EQ(sqrt_bar_ticks(0, 0.1).size(), 1u);
  EXPECT_EQ(sqrt_bar_ticks(NAN, 0.1).size(), 1u);
}

}  // namespace
}  // namespace latent::ui
