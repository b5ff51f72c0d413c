#include "ui/aggregate_density.h"

#include "ui/prior_contours.h"

#include <algorithm>
#include <cmath>

namespace latent::ui {

DensityGrid aggregate_density(const Posterior& q, int dim_x, int dim_y, int resolution, float extent,
                              std::vector<float> prior) {
  DensityGrid g;
  g.resolution = resolution;
  g.extent = extent;
  const size_t cells = size_t(resolution) * size_t(resolution);
  g.q.assign(cells, 0.0f);
  const bool normal = prior.size() != cells;
  g.prior = std::move(prior);
  g.prior.resize(cells);
  g.hole.assign(cells, 0);
  const float h = 2 * extent / float(resolution);
  auto centre_x = [&](int c) { return -extent + (float(c) + 0.5f) * h; };
  auto centre_y = [&](int r) { return extent - (float(r) + 0.5f) * h; };
  const float two_pi = 2 * float(M_PI);
  if (normal)
    for (int r = 0; r < resolution; ++r)
      for (int c = 0; c < resolution; ++c) {
        const float x = centre_x(c), y = centre_y(r);
        g.prior[size_t(r) * resolution + c] = std::exp(-0.5f * (x * x + y * y)) / two_pi;
      }
  const int64_t n = q.mu.rows;
  const bool one_d = q.mu.cols < 2;
  for (int64_t i = 0; i < n; ++i) {
    const float mx = q.mu.at(i, dim_x), sx = std::exp(0.5f * q.logvar.at(i, dim_x));
    const float my = one_d ? 0.0f : q.mu.at(i, dim_y), sy = one_d ? 1.0f : std::exp(0.5f * q.logvar.at(i, dim_y));
    const int c0 = std::max(0, int((mx - 4 * sx + extent) / h)), c1 = std::min(resolution - 1, int((mx + 4 * sx + extent) / h));
    const int r0 = std::max(0, int((extent - (my + 4 * sy)) / h)), r1 = std::min(resolution - 1, int((extent - (my - 4 * sy)) / h));
    const float norm = 1.0f / (two_pi * sx * sy * float(n));
    for (int r = r0; r <= r1; ++r) {
      const float dy = (centre_y(r) - my) / sy;
      for (int c = c0; c <= c1; ++c) {
        const float dx = (centre_x(c) - mx) / sx;
        g.q[size_t(r) * resolution + c] += norm * std::exp(-0.5f * (dx * dx + dy * dy));
      }
    }
  }
  // Inside N(0, I)'s 2σ contour, N(z; 0, I) ≥ e^−2 / 2π; for another prior, inside the region that
  // holds the same share of its mass (on the grid).
  const float contour = normal ? std::exp(-2.0f) / two_pi : hpd_levels(g.prior, {kContourMasses[1]})[0];
  for (size_t i = 0; i < cells; ++i) g.hole[i] = g.prior[i] >= contour && g.q[i] < 0.05f * g.prior[i];
  return g;
}

}  // namespace latent::ui
