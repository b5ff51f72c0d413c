#include "ui/plot_math.h"

#include <algorithm>
#include <limits>
#include <cmath>
#include <cstdio>

namespace latent::ui {

Range value_range(const std::vector<const std::vector<double>*>& series, bool log_y) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto* s : series)
    for (double v : *s) {
      if (!std::isfinite(v) || (log_y && v <= 0)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  return padded_range(lo, hi, log_y);
}

Range padded_range(double lo, double hi, bool log_y) {
  if (!(lo <= hi) || !std::isfinite(lo) || !std::isfinite(hi)) return log_y ? Range{1, 10} : Range{0, 1};
  if (log_y) {
    double l = std::log10(lo), h = std::log10(hi);
    if (h - l < 1e-9) l -= 0.5, h += 0.5;
    double pad = 0.05 * (h - l);
    return {std::pow(10.0, l - pad), std::pow(10.0, h + pad)};
  }
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {
    double d = std::max(1.0, std::abs(hi) * 0.1);
    return {lo - d, hi + d};
  }
  double pad = 0.05 * (hi - lo);
  return {lo - pad, hi + pad};
}

double tick_step(Range r, int target) {
  const double span = r.max - r.min;
  if (!(span > 0) || !std::isfinite(span) || target < 1) return 0;
  const double raw = span / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  // The 1-2-5 step whose tick count comes closest to the target.
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (std::abs(span / (m * magnitude) - target) < std::abs(span / step - target)) step = m * magnitude;
  return step;
}

std::vector<double> linear_ticks(Range r, int target) {
  std::vector<double> ticks;
  const double step = tick_step(r, target);
  if (step <= 0) return ticks;
  for (double t = std::ceil(r.min / step) * step; t <= r.max + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

Range snap_to_ticks(Range r, int target, double fraction, bool snap_min) {
  const double unit = tick_step(r, target) * fraction;
  if (!(unit > 0) || !std::isfinite(unit)) return r;
  // A hair of tolerance so that a value already on a multiple stays there.
  Range out = r;
  out.max = std::ceil(r.max / unit - 1e-9) * unit;
  if (snap_min) out.min = std::floor(r.min / unit + 1e-9) * unit;
  if (!(out.max > out.min)) return r;
  return out;
}

double nice_ceil(double v) {
  if (!(v > 0) || !std::isfinite(v)) return v;
  const double magnitude = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0})
    if (m * magnitude >= v * (1 - 1e-12)) return m * magnitude;
  return 10 * magnitude;
}

Range grow_axis(Range r) {
  const double span = nice_ceil(r.max - r.min);
  if (!(span > 0) || !std::isfinite(span)) return r;
  return {r.min, r.min + span};
}

std::vector<double> log_ticks(Range r) {
  std::vector<double> ticks;
  if (!(r.min > 0) || !(r.max > r.min)) return ticks;
  int lo = int(std::floor(std::log10(r.min))), hi = int(std::ceil(std::log10(r.max)));
  const bool dense = hi - lo < 3;
  for (int e = lo; e <= hi; ++e)
    for (double m : dense ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
      double t = m * std::pow(10.0, e);
      if (t >= r.min && t <= r.max) ticks.push_back(t);
    }
  return ticks;
}

std::string format_tick(double v, double step) {
  char buf[32];
  double a = std::abs(v);
  if (a == 0) return "0";
  if (step > 0 && a < 1e7 && step < a && step >= 1e-6) {
    const int decimals = std::max(0, int(std::ceil(-std::log10(step) - 1e-9)));
    if (a >= 1e4 && step >= 100) {
      std::snprintf(buf, sizeof buf, "%gk", std::round(v / 100.0) / 10.0);
    } else {
      std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    }
    return buf;
  }
  if (a >= 1e4 && a < 1e7)
    std::snprintf(buf, sizeof buf, "%gk", std::round(v / 100.0) / 10.0);
  else if (a >= 1e-2 && a < 1e4)
    std::snprintf(buf, sizeof buf, "%.4g", v);
  else
    std::snprintf(buf, sizeof buf, "%.0e", v);
  return buf;
}

Smoother::Smoother(double smoothing) : smoothing_(std::clamp(smoothing, 0.0, 0.999)) {}

double Smoother::push(double y) {
  if (!std::isfinite(y)) return y;  // shown as a gap, and left out of the average
  average_ = smoothing_ * average_ + (1 - smoothing_) * y;
  weight_ = smoothing_ * weight_ + (1 - smoothing_);
  return average_ / weight_;
}

std::vector<double> smooth(const std::vector<double>& y, double smoothing) {
  std::vector<double> out(y.size());
  Smoother smoother(smoothing);
  for (size_t i = 0; i < y.size(); ++i) out[i] = smoother.push(y[i]);
  return out;
}

long nearest_index(const std::vector<double>& xs, double x) {
  if (xs.empty()) return -1;
  auto it = std::lower_bound(xs.begin(), xs.end(), x);
  if (it == xs.end()) return long(xs.size()) - 1;
  if (it == xs.begin()) return 0;
  return (x - *(it - 1) <= *it - x) ? long(it - xs.begin()) - 1 : long(it - xs.begin());
}

namespace {
double to_unit(double v, Range r, bool log) {
  if (log) return (std::log10(v) - std::log10(r.min)) / (std::log10(r.max) - std::log10(r.min));
  return (v - r.min) / (r.max - r.min);
}
double from_unit(double u, Range r, bool log) {
  if (log) return std::pow(10.0, std::log10(r.min) + u * (std::log10(r.max) - std::log10(r.min)));
  return r.min + u * (r.max - r.min);
}
}  // namespace

std::pair<float, float> PlotTransform::to_screen(double data_x, double data_y) const {
  double ux = to_unit(data_x, x, false), uy = to_unit(data_y, y, log_y);
  return {float(left + ux * width), float(top + (1 - uy) * height)};
}

std::pair<double, double> PlotTransform::to_data(float screen_x, float screen_y) const {
  double ux = (screen_x - left) / width, uy = 1 - (screen_y - top) / height;
  return {from_unit(ux, x, false), from_unit(uy, y, log_y)};
}

std::vector<size_t> column_samples(const std::vector<double>& x, const std::vector<double>& y, const PlotTransform& t) {
  ColumnSummary summary;
  summary.update(x, y, t);
  return summary.samples(t);
}

void ColumnSummary::update(const std::vector<double>& x, const std::vector<double>& y, const PlotTransform& t,
                           uint64_t generation) {
  const size_t n = std::min(x.size(), y.size());
  const bool same_axis = x_axis_.min == t.x.min && x_axis_.max == t.x.max && width_ == t.width && log_y_ == t.log_y;
  const bool same_data = generation == generation_ && n >= seen_ &&
                         (seen_ == 0 || (x[seen_ - 1] == seen_x_ && (y[seen_ - 1] == seen_y_ ||
                                                                       (std::isnan(y[seen_ - 1]) && std::isnan(seen_y_)))));
  if (!same_axis || !same_data) {
    columns_.clear();
    seen_ = 0;
    x_axis_ = t.x, width_ = t.width, log_y_ = t.log_y, generation_ = generation;
  }
  if (n == seen_) return;
  // The newest column may go on: read it again with what was appended.
  size_t i = seen_;
  if (!columns_.empty()) i = columns_.back().first, columns_.pop_back();
  const double columns_per_x = t.width / (t.x.max - t.x.min);
  const auto usable = [&](size_t k) { return std::isfinite(x[k]) && std::isfinite(y[k]) && (!t.log_y || y[k] > 0); };
  while (i < n) {
    if (!usable(i)) {
      ++i;
      continue;
    }
    Column c{std::floor((x[i] - t.x.min) * columns_per_x), i, i, i, i, y[i], y[i]};
    for (++i; i < n; ++i) {
      if (!usable(i)) continue;
      if (std::floor((x[i] - t.x.min) * columns_per_x) != c.index) break;
      c.last = i;
      if (y[i] < c.low) c.lowest = i, c.low = y[i];
      if (y[i] > c.high) c.highest = i, c.high = y[i];
    }
    columns_.push_back(c);
  }
  seen_ = n;
  seen_x_ = x[n - 1], seen_y_ = y[n - 1];
}

std::vector<size_t> ColumnSummary::samples(const PlotTransform& t) const {
  std::vector<size_t> out;
  out.reserve(2 * columns_.size() + 1);
  for (size_t k = 0; k < columns_.size(); ++k) {
    const Column& c = columns_[k];
    const float span = t.to_screen(0, c.low).second - t.to_screen(0, c.high).second;
    if (span < 1) {
      out.push_back(c.last);
      continue;
    }
    // Its lowest and highest, in order: the line covers the column's span, and the segments that
    // join columns stay within their neighbours' spans. The newest column also ends on its last
    // sample, where the reader looks for the current value.
    const bool newest = k + 1 == columns_.size();
    for (size_t p : {std::min(c.lowest, c.highest), std::max(c.lowest, c.highest), newest ? c.last : size_t(0)})
      if (out.empty() || out.back() < p) out.push_back(p);
  }
  return out;
}

std::pair<double, double> ColumnSummary::extremes() const {
  double lo = INFINITY, hi = -INFINITY;
  for (const Column& c : columns_) lo = std::min(lo, c.low), hi = std::max(hi, c.high);
  return {lo, hi};
}

std::vector<int> label_rows(const std::vector<float>& lefts, const std::vector<float>& widths, float gap, int max_rows) {
  std::vector<size_t> order(lefts.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lefts[a] < lefts[b]; });
  std::vector<float> row_end(size_t(std::max(0, max_rows)), -std::numeric_limits<float>::infinity());
  std::vector<int> rows(lefts.size(), -1);
  for (size_t i : order)
    for (size_t r = 0; r < row_end.size(); ++r)
      if (lefts[i] >= row_end[r] + gap) {
        rows[i] = int(r);
        row_end[r] = lefts[i] + widths[i];
        break;
      }
  return rows;
}

bool labels_fit(const std::vector<float>& centres, const std::vector<float>& widths, float gap) {
  for (size_t i = 1; i < centres.size(); ++i)
    if (centres[i] - centres[i - 1] < (widths[i] + widths[i - 1]) / 2 + gap) return false;
  return true;
}

double nice_ceiling(double v) {
  if (!(v > 0) || !std::isfinite(v)) return 1;
  const double power = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= v * (1 - 1e-12)) return m * power;
  return 10 * power;
}

std::vector<BarTick> sqrt_bar_ticks(double peak, double min_gap) {
  if (!(peak > 0) || !std::isfinite(peak)) return {{0, 0}};
  std::vector<BarTick> ticks = {{0, 0}, {1, peak}};
  const auto free_at = [&](double position) {
    for (const BarTick& t : ticks)
      if (std::abs(t.position - position) < min_gap) return false;
    return true;
  };
  // From the largest nice value below the peak downwards; below peak / 10^4 a tick sits within 1 %
  // of the bottom, where 0 already is.
  const double top = std::pow(10.0, std::floor(std::log10(peak)));
  for (double power = top; power >= peak * 1e-4; power /= 10)
    for (double m : {5.0, 2.0, 1.0}) {
      const double value = m * power;
      if (value >= peak * (1 - 1e-9)) continue;
      const double position = std::sqrt(value / peak);
      if (free_at(position)) ticks.push_back({position, value});
    }
  std::sort(ticks.begin(), ticks.end(), [](const BarTick& a, const BarTick& b) { return a.position < b.position; });
  return ticks;
}

}  // namespace latent::ui
