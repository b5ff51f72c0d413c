#pragma once
// Composing image batches into grids and writing them as PNG (stb_image_write), gray or RGB.
#include <string>

#include "latent/arrays.h"

namespace latent {

// One image of `channels` planes (1: gray, 3: RGB), pixels in [0, 1], plane after plane.
struct Picture {
  int width = 0;
  int height = 0;
  int channels = 1;
  std::vector<float> pixels;

  float& at(int c, int y, int x) { return pixels[(size_t(c) * height + y) * width + x]; }
  float at(int c, int y, int x) const { return pixels[(size_t(c) * height + y) * width + x]; }
};

// Tiles images[first, first + rows·cols) into rows × cols cells separated by `pad` pixels of `gap`.
Picture tile_images(const ImageBatch& images, int rows, int cols, int pad = 2, float gap = 0.5f, int64_t first = 0);
// Stacks pictures vertically with `pad` rows between them (they must have the same width and channels).
Picture stack_rows(const std::vector<Picture>& parts, int pad = 4, float gap = 0.5f);
// Nearest-neighbour upscale by an integer factor.
Picture upscale(const Picture& image, int factor);
// Throws latent::Error when the file cannot be written.
void write_png(const std::string& path, const Picture& image);

}  // namespace latent
