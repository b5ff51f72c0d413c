#pragma once
// The numbers behind the loss-curve widget, with no ImGui or GL: ranges, ticks, smoothing and the
// data <-> screen transform. Unit-tested in tests/test_plot_math.cpp.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace latent::ui {

struct Range {
  double min = 0;
  double max = 1;
};

// The range covering every finite value (positive only when log_y), padded by 5 % each side.
// Empty or constant data still give a usable, non-degenerate range.
Range value_range(const std::vector<const std::vector<double>*>& series, bool log_y);
// The same for data whose lowest and highest drawable values are lo and hi (lo > hi: none).
Range padded_range(double lo, double hi, bool log_y);

// "Nice" tick positions (1, 2 or 5 × 10^k apart) inside [min, max], about `target` of them.
std::vector<double> linear_ticks(Range range, int target = 5);
// The spacing linear_ticks() uses for `range` and `target`; 0 when the range is empty.
double tick_step(Range range, int target = 5);
// `range` widened to whole multiples of `fraction` × its tick step: max up (and min down when
// `snap_min`). The axis then stays put while new data falls inside it, so a live plot's old pixels
// stay as they were and only its newest segment is drawn again (and the eye is not asked to follow
// an axis that rescales every frame). For a y axis; it can step back when the tick spacing changes.
Range snap_to_ticks(Range range, int target, double fraction, bool snap_min);
// The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k that is >= v (v > 0; else v).
double nice_ceil(double v);
// An x axis that only grows: min kept, the span rounded up by nice_ceil (at most a quarter of the
// axis to spare).
// Monotone in range.max, so a run's step axis never steps back while the run goes on.
Range grow_axis(Range range);
std::vector<double> log_ticks(Range range);
// A short label: 1.5k, 120, 0.25, 1e-04. With the tick spacing `step`, enough decimals to tell
// neighbouring ticks apart (4689.5 and 4690 rather than 4690 twice).
std::string format_tick(double value, double step = 0);

// The smallest of 1, 2, 5 times a power of ten that is >= v (v > 0): an axis end that reads well.
double nice_ceiling(double v);

// Labelled ticks of a colour bar for densities in [0, peak] drawn on a square-root scale (colour
// position = sqrt(value / peak), as the heatmaps are): 0, the peak, and between them the values 1, 2 or
// 5 × 10^k whose positions keep at least `min_gap` (a share of the bar's length) from every other.
struct BarTick {
  double position = 0;  // 0 = bottom, 1 = top
  double value = 0;
};
std::vector<BarTick> sqrt_bar_ticks(double peak, double min_gap);

// Rows for labels placed left to right (each starting at lefts[i], widths[i] wide), so that no two
// in one row come closer than `gap`: each takes the lowest row where it fits. -1 for a label that
// fits in none of `max_rows` rows (it is left out; its marker line still shows).
std::vector<int> label_rows(const std::vector<float>& lefts, const std::vector<float>& widths, float gap, int max_rows);

// Whether tick labels `widths` wide, centred at `centres` (ascending), keep at least `gap` apart.
bool labels_fit(const std::vector<float>& centres, const std::vector<float>& widths, float gap);

// Exponential moving average with weight `smoothing` in [0, 1) on the past (0 = raw data), with
// the bias correction TensorBoard uses so the first points are not pulled towards 0.
std::vector<double> smooth(const std::vector<double>& y, double smoothing);
// The same, one value at a time, for series that grow: push(y) returns the smoothed value.
class Smoother {
 public:
  Smoother() : Smoother(0) {}
  explicit Smoother(double smoothing);
  double push(double y);

 private:
  double smoothing_, average_ = 0, weight_ = 0;
};

// Index of the sample whose x is nearest `x` (xs ascending); -1 when empty.
long nearest_index(const std::vector<double>& xs, double x);

// Maps data to a screen rectangle [left, left + width] × [top, top + height], y up.
struct PlotTransform {
  Range x, y;
  bool log_y = false;
  float left = 0, top = 0, width = 1, height = 1;

  std::pair<float, float> to_screen(double data_x, double data_y) const;
  std::pair<double, double> to_data(float screen_x, float screen_y) const;
};

// The samples of one series (x ascending) worth drawing through `t`: per pixel column of the axis,
// the column's last sample when its samples span less than a pixel vertically, else its lowest and
// highest (in order; the newest column also its last), so the drawn line covers the same pixels as
// all of them. About one point per column for a smoothed curve and two for a noisy one, however
// long the run (each point is two triangles of the frame), and the points of a
// column the data has left behind do not change while the axis stays put: only the curve's
// newest column is drawn again. Non-finite samples (and, on a log axis, non-positive ones) are
// skipped.
std::vector<size_t> column_samples(const std::vector<double>& x, const std::vector<double>& y, const PlotTransform& t);

// column_samples() for a series that grows by appending, kept from frame to frame: each pixel
// column's first, last, lowest and highest sample. update() reads only the samples appended since
// the last call (and the newest column's again), so a frame costs the same at step 100 and at step
// 1,000,000; it starts over when the x axis, the width or log_y change, when `generation` does (the
// owner's way to say that earlier samples changed), or when the data shrank or its last summarised
// sample is not what it was.
class ColumnSummary {
 public:
  void update(const std::vector<double>& x, const std::vector<double>& y, const PlotTransform& t, uint64_t generation = 0);
  // What column_samples(x, y, t) returns, for the data of the last update() and t's y axis.
  std::vector<size_t> samples(const PlotTransform& t) const;
  // The lowest and highest drawable value summarised (lo > hi when none): for padded_range().
  std::pair<double, double> extremes() const;
  size_t columns() const { return columns_.size(); }

 private:
  struct Column {
    double index;  // the pixel column, floor((x - axis min) · columns per x)
    size_t first, last, lowest, highest;
    double low, high;  // y at lowest and highest
  };
  std::vector<Column> columns_;
  size_t seen_ = 0;               // samples summarised
  double seen_x_ = 0, seen_y_ = 0;  // the last of them, to notice data rewritten in place
  Range x_axis_{0, 0};
  float width_ = 0;
  bool log_y_ = false;
  uint64_t generation_ = 0;
};

}  // namespace latent::ui
