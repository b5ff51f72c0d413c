#pragma once
// The latent pad's coordinates: a square of the screen showing z ∈ [−extent, extent]², y up.
#include <utility>

namespace latent::ui {

struct PadMapping {
  float left = 0, top = 0, size = 1;  // the square on screen, in pixels
  float extent = 3;                   // half-width of the latent window

  std::pair<float, float> to_screen(float zx, float zy) const {
    return {left + (zx + extent) / (2 * extent) * size, top + (extent - zy) / (2 * extent) * size};
  }
  std::pair<float, float> to_latent(float sx, float sy) const {
    return {(sx - left) / size * 2 * extent - extent, extent - (sy - top) / size * 2 * extent};
  }
  // to_latent, clamped to the window.
  std::pair<float, float> to_latent_clamped(float sx, float sy) const;
  bool contains(float sx, float sy) const { return sx >= left && sx <= left + size && sy >= top && sy <= top + size; }
};

}  // namespace latent::ui
