#pragma once
// The GL side the panels draw with: our image program and one texture per image view, with the
// result generation each texture was last filled from (so uploads happen only when data changed).
#include "gl/image_renderer.h"

namespace latent::app {

struct Gfx {
  ImageRenderer renderer;
  GrayTexture decoded, interpolation, endpoints, gallery, samples, grid;
  int64_t gallery_generation = -1, grid_generation = -1, samples_generation = -1;
  int64_t decoded_generation = -1, interp_generation = -1;
  ui::Colormap colormap = ui::Colormap::Gray;
  bool smooth = false;
};

}  // namespace latent::app
