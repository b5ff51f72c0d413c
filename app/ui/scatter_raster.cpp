#include "ui/scatter_raster.h"

#include <algorithm>

#include "ui/colormap.h"

namespace latent::ui {
namespace {

// Porter-Duff "over" of a colour with alpha onto an ABGR pixel.
uint32_t over(uint32_t dst, uint32_t src) {
  const uint32_t sa = src >> 24, da = dst >> 24;
  const uint32_t out_a = sa + da * (255 - sa) / 255;
  if (out_a == 0) return 0;
  uint32_t out = out_a << 24;
  for (int shift = 0; shift < 24; shift += 8) {
    const uint32_t s = (src >> shift) & 0xFF, d = (dst >> shift) & 0xFF;
    const uint32_t c = (s * sa + d * da * (255 - sa) / 255) / out_a;
    out |= std::min<uint32_t>(c, 255) << shift;
  }
  return out;
}

}  // namespace

std::vector<uint32_t> rasterize_scatter(const LatentMatrix& points, const std::vector<int32_t>& labels, int dim_x,
                                        int dim_y, float extent, int size, uint8_t alpha, uint32_t background) {
  std::vector<uint32_t> image(size_t(std::max(size, 0)) * size_t(std::max(size, 0)), background);
  if (size <= 0 || points.cols == 0) return image;
  const PadMapping map{0, 0, float(size), extent};
  for (int64_t i = 0; i < points.rows; ++i) {
    auto [sx, sy] = map.to_screen(points.at(i, dim_x), points.cols > 1 ? points.at(i, dim_y) : 0.0f);
    const int cx = int(sx), cy = int(sy);
    const uint32_t colour = label_color(i < int64_t(labels.size()) ? labels[size_t(i)] : -1, alpha);
    for (int y = std::max(0, cy - 1); y <= std::min(size - 1, cy + 1); ++y)
      for (int x = std::max(0, cx - 1); x <= std::min(size - 1, cx + 1); ++x) {
        uint32_t& px = image[size_t(y) * size + x];
        px = over(px, colour);
      }
  }
  return image;
}

ScatterImage rasterize_pad_scatter(const LatentMatrix& points, const std::vector<int32_t>& labels, int dim_x, int dim_y,
                                   float extent, int size) {
  return {dim_x, dim_y, size, extent,
          rasterize_scatter(points, labels, dim_x, dim_y, extent, size, kScatterAlpha, kPadBackground)};
}

}  // namespace latent::ui
