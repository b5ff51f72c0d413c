#pragma once
// The latent pad's scatter drawn into an RGBA image on the CPU: 10,000 points become one textured
// quad per frame instead of 20,000 triangles (which cost a software rasteriser ~7 ms a frame).
#include <cstdint>
#include <vector>

#include "latent/arrays.h"
#include "ui/pad_mapping.h"

namespace latent::ui {

// The pad's background, ImGui's packed ABGR: (16, 18, 24), opaque.
constexpr uint32_t kPadBackground = 0xFF181210u;
// The dots' opacity: overlapping dots show where the set is dense.
constexpr uint8_t kScatterAlpha = 170;

// A size × size image (ImGui's packed ABGR) of the points (points.at(i, dim_x), points.at(i, dim_y))
// over z ∈ [−extent, extent]², y up, each a radius-1 square in its label's colour, blended over the
// points drawn before it and over `background` (0: transparent). An opaque background makes the
// image the whole pad: nothing needs drawing under it, which a software rasteriser pays for per
// pixel (llvmpipe: ImGui's fill, a blended textured 1024×640 quad, 3.2 ms).
std::vector<uint32_t> rasterize_scatter(const LatentMatrix& points, const std::vector<int32_t>& labels, int dim_x,
                                        int dim_y, float extent, int size, uint8_t alpha = kScatterAlpha,
                                        uint32_t background = 0);

// The pad's scatter (its dots and background) with the view it was drawn for: the inference worker
// makes one with each encoded set, and the pad rasterises its own only when its view has changed.
struct ScatterImage {
  int dim_x = -1, dim_y = -1, size = 0;
  float extent = 0;
  std::vector<uint32_t> pixels;
  bool fits(int dx, int dy, int sz, float ext) const {
    return !pixels.empty() && dim_x == dx && dim_y == dy && size == sz && extent == ext;
  }
};
ScatterImage rasterize_pad_scatter(const LatentMatrix& points, const std::vector<int32_t>& labels, int dim_x, int dim_y,
                                   float extent, int size);

}  // namespace latent::ui
