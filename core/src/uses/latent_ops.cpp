#include "latent/latent_ops.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "latent/error.h"

namespace latent {

std::vector<double> latent_activity(const LatentMatrix& mu) {
  std::vector<double> activity(size_t(std::max<int64_t>(mu.cols, 0)), 0.0);
  if (mu.rows < 2) return activity;
  for (int64_t d = 0; d < mu.cols; ++d) {
    double mean = 0, sq = 0;
    for (int64_t i = 0; i < mu.rows; ++i) mean += mu.at(i, d);
    mean /= double(mu.rows);
    for (int64_t i = 0; i < mu.rows; ++i) sq += (mu.at(i, d) - mean) * (mu.at(i, d) - mean);
    activity[size_t(d)] = sq / double(mu.rows - 1);
  }
  return activity;
}

std::vector<int> dims_by_information(const std::vector<double>& information) {
  std::vector<int> order(information.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    const double ia = std::isnan(information[size_t(a)]) ? -1 : information[size_t(a)];
    const double ib = std::isnan(information[size_t(b)]) ? -1 : information[size_t(b)];
    return ia > ib;
  });
  return order;
}

LatentMatrix traversal_latents(const std::vector<float>& base, const std::vector<int>& dims, float radius, int steps) {
  if (steps < 2) throw Error("a traversal needs at least 2 steps");
  if (!(radius > 0) || !std::isfinite(radius)) throw Error("a traversal's radius must be a positive number");
  LatentMatrix out;
  out.rows = int64_t(dims.size()) * steps;
  out.cols = int64_t(base.size());
  out.values.reserve(size_t(out.rows * out.cols));
  for (int d : dims) {
    if (d < 0 || d >= int(base.size()))
      throw Error("traversal: dimension " + std::to_string(d) + " is outside the " + std::to_string(base.size()) + "-D latent");
    for (int s = 0; s < steps; ++s) {
      std::vector<float> z = base;
      z[size_t(d)] = -radius + 2 * radius * float(s) / float(steps - 1);
      out.values.insert(out.values.end(), z.begin(), z.end());
    }
  }
  return out;
}

ClassMeans class_means(const LatentMatrix& mu, const std::vector<int32_t>& labels, int classes) {
  ClassMeans out;
  out.means.rows = std::max(classes, 0);
  out.means.cols = mu.cols;
  out.means.values.assign(size_t(out.means.rows * mu.cols), 0.0f);
  out.counts.assign(size_t(out.means.rows), 0);
  std::vector<double> sums(out.means.values.size(), 0.0);
  const int64_t rows = std::min<int64_t>(mu.rows, int64_t(labels.size()));
  for (int64_t i = 0; i < rows; ++i) {
    const int32_t c = labels[size_t(i)];
    if (c < 0 || c >= classes) continue;
    ++out.counts[size_t(c)];
    for (int64_t d = 0; d < mu.cols; ++d) sums[size_t(c * mu.cols + d)] += mu.at(i, d);
  }
  for (int c = 0; c < classes; ++c)
    if (out.counts[size_t(c)] > 0)
      for (int64_t d = 0; d < mu.cols; ++d)
        out.means.values[size_t(c * mu.cols + d)] = float(sums[size_t(c * mu.cols + d)] / double(out.counts[size_t(c)]));
  return out;
}

std::vector<float> latent_analogy(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& c) {
  if (a.size() != b.size() || a.size() != c.size()) throw Error("latent arithmetic: the three latents differ in size");
  std::vector<float> out(a.size());
  for (size_t d = 0; d < a.size(); ++d) out[d] = a[d] - b[d] + c[d];
  return out;
}

LatentMatrix attribute_path(const std::vector<float>& base, const std::vector<float>& from, const std::vector<float>& to,
                            const std::vector<float>& strengths) {
  if (from.size() != base.size() || to.size() != base.size()) throw Error("attribute vector: the latents differ in size");
  LatentMatrix out;
  out.rows = int64_t(strengths.size());
  out.cols = int64_t(base.size());
  for (float s : strengths)
    for (size_t d = 0; d < base.size(); ++d) out.values.push_back(base[d] + s * (to[d] - from[d]));
  return out;
}

}  // namespace latent
