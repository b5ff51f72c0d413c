#include "ui/pad_mapping.h"

#include <algorithm>

namespace latent::ui {

std::pair<float, float> PadMapping::to_latent_clamped(float sx, float sy) const {
  auto [zx, zy] = to_latent(sx, sy);
  return {std::clamp(zx, -extent, extent), std::clamp(zy, -extent, extent)};
}

}  // namespace latent::ui
