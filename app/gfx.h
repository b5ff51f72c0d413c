#pragma once
// The GL side the panels draw with: our image program and one texture per image view, with the
// result generation each texture was last filled from (so uploads happen only when data changed).
#include <string>

#include "gl/image_renderer.h"

namespace latent::app {

struct Gfx {
  ImageRenderer renderer;
  ImageTexture decoded, interpolation, endpoints, gallery, samples, grid;
  ImageTexture every_class;  // a conditional model's "one z, every class" strip, with `decoded`
  ImageTexture morph;  // the interpolation image the morph shows now
  int64_t morph_generation = -1;
  int morph_frame = -1;
  // The true posterior p(z|x) as a heatmap over the pad, and the reparameterization's decodings.
  RgbaTexture posterior, close_up, aggregate;
  ImageTexture reparam;
  int64_t posterior_generation = -1, close_up_generation = -1, reparam_generation = -1, aggregate_generation = -1;
  // The pad's scatter, rasterised when the encoded set or the view changes.
  RgbaTexture scatter;
  struct ScatterKey {
    int64_t generation = -1;
    int dim_x = -1, dim_y = -1, size = 0;
    float extent = 0;
    bool operator==(const ScatterKey& o) const {
      return generation == o.generation && dim_x == o.dim_x && dim_y == o.dim_y && size == o.size && extent == o.extent;
    }
  } scatter_key;
  int64_t gallery_generation = -1, grid_generation = -1;
  int samples_rows = 4;  // the samples' grid as the gallery last laid it out for its window
  int64_t decoded_generation = -1, interp_generation = -1;
  // While training, new weights refresh every view within a few frames of each other, and under a
  // software rasteriser a frame that redraws several of them at once is the slow one (the gallery,
  // the grid and the decoded image together are 30-45 % of the window). So the views training
  // refreshes take turns: one of them uploads its new images per frame (the first to ask), the
  // others a frame or two later. The pad's decoded image is not among them: a drag shows in its
  // own frame.
  int64_t frame = 0, refreshed_in_frame = -1;
  bool take_refresh_turn() {
    if (refreshed_in_frame == frame) return false;
    refreshed_in_frame = frame;
    return true;
  }
  // The Training panel's preview of the dataset, and which dataset it was made from.
  ImageTexture data_preview;
  std::string data_preview_key;
  // The VampPrior's pseudo-inputs in the gallery, from the scatter generation they came with.
  ImageTexture pseudo;
  int64_t pseudo_generation = -1;
  ui::Colormap colormap = ui::Colormap::Gray;
  bool smooth = false;
};

}  // namespace latent::app
