#pragma once
// Composing image batches into grids and writing them as PNG (stb_image_write).
#include <string>

#include "latent/arrays.h"

namespace latent {

// A single grayscale image, pixels in [0, 1].
struct GrayImage {
  int width = 0;
  int height = 0;
  std::vector<float> pixels;
};

// Tiles images[first, first + rows·cols) into rows × cols cells separated by `pad` pixels of `gap`.
GrayImage tile_images(const ImageBatch& images, int rows, int cols, int pad = 2, float gap = 0.5f,
                      int64_t first = 0);
// Stacks grids vertically with `pad` rows between them (they must have the same width).
GrayImage stack_rows(const std::vector<GrayImage>& parts, int pad = 4, float gap = 0.5f);
// Nearest-neighbour upscale by an integer factor.
GrayImage upscale(const GrayImage& image, int factor);
// Throws latent::Error when the file cannot be written.
void write_png(const std::string& path, const GrayImage& image);

}  // namespace latent
