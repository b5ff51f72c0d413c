#pragma once
// The latent pad's scatter drawn into an RGBA image on the CPU: 10,000 points become one textured
// quad per frame instead of 20,000 triangles (which cost a software rasteriser ~7 ms a frame).
#include <cstdint>
#include <vector>

#include "latent/arrays.h"
#include "ui/pad_mapping.h"

namespace latent::ui {

// A size × size image (ImGui's packed ABGR, transparent background) of the points
// (points.at(i, dim_x), points.at(i, dim_y)) over z ∈ [−extent, extent]², y up, each a
// radius-1 square in its label's colour, blended over the points drawn before it.
std::vector<uint32_t> rasterize_scatter(const LatentMatrix& points, const std::vector<uint8_t>& labels, int dim_x,
                                        int dim_y, float extent, int size, uint8_t alpha = 170);

}  // namespace latent::ui
