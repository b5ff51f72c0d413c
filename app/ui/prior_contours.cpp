#include "ui/prior_contours.h"

#include <algorithm>
#include <functional>
#include <numeric>

namespace latent::ui {

std::vector<float> hpd_levels(const std::vector<float>& density, const std::vector<double>& masses) {
  std::vector<float> sorted(density);
  std::sort(sorted.begin(), sorted.end(), std::greater<float>());
  const double total = std::accumulate(sorted.begin(), sorted.end(), 0.0);
  std::vector<float> levels;
  for (double m : masses) {
    if (!(total > 0)) {
      levels.push_back(0);
      continue;
    }
    double sum = 0;
    float level = sorted.back();
    for (float v : sorted) {
      sum += v;
      if (sum >= m * total) {
        level = v;
        break;
      }
    }
    levels.push_back(level);
  }
  return levels;
}

std::vector<ContourSegment> contour_segments(const std::vector<float>& density, int n, float extent,
                                             const std::vector<float>& levels) {
  std::vector<ContourSegment> out;
  if (n < 2 || density.size() != size_t(n) * size_t(n)) return out;
  const float h = 2 * extent / float(n);
  const auto x_of = [&](float c) { return -extent + (c + 0.5f) * h; };
  const auto y_of = [&](float r) { return extent - (r + 0.5f) * h; };
  const auto at = [&](int r, int c) { return density[size_t(r) * size_t(n) + size_t(c)]; };
  for (size_t k = 0; k < levels.size(); ++k) {
    const float level = levels[k];
    if (!(level > 0)) continue;
    for (int r = 0; r + 1 < n; ++r)
      for (int c = 0; c + 1 < n; ++c) {
        // Corners in order top-left, top-right, bottom-right, bottom-left; the crossing on each edge
        // between two corners on opposite sides of the level, placed by linear interpolation.
        const float v[4] = {at(r, c), at(r, c + 1), at(r + 1, c + 1), at(r + 1, c)};
        const float pr[4] = {float(r), float(r), float(r + 1), float(r + 1)};
        const float pc[4] = {float(c), float(c + 1), float(c + 1), float(c)};
        float cross_x[4], cross_y[4];
        int crossings = 0;
        for (int e = 0; e < 4; ++e) {
          const int a = e, b = (e + 1) % 4;
          if ((v[a] >= level) == (v[b] >= level)) continue;
          const float t = (level - v[a]) / (v[b] - v[a]);
          cross_x[crossings] = x_of(pc[a] + t * (pc[b] - pc[a]));
          cross_y[crossings] = y_of(pr[a] + t * (pr[b] - pr[a]));
          ++crossings;
        }
        // Two crossings: one segment; four (a saddle): two, pairing neighbouring edges.
        for (int s = 0; s + 1 < crossings; s += 2)
          out.push_back({cross_x[s], cross_y[s], cross_x[s + 1], cross_y[s + 1], int(k)});
      }
  }
  return out;
}

}  // namespace latent::ui
