#include "latent/image_io.h"

#include <stb_image_write.h>

#include <algorithm>

#include "latent/error.h"

namespace latent {

GrayImage tile_images(const ImageBatch& images, int rows, int cols, int pad, float gap, int64_t first) {
  GrayImage out;
  out.width = cols * images.width + (cols + 1) * pad;
  out.height = rows * images.height + (rows + 1) * pad;
  out.pixels.assign(size_t(out.width) * out.height, gap);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      int64_t index = first + int64_t(r) * cols + c;
      if (index >= images.count) return out;
      const float* src = images.image(index);
      int x0 = pad + c * (images.width + pad), y0 = pad + r * (images.height + pad);
      for (int y = 0; y < images.height; ++y)
        std::copy(src + y * images.width, src + (y + 1) * images.width,
                  out.pixels.begin() + (y0 + y) * out.width + x0);
    }
  return out;
}

GrayImage stack_rows(const std::vector<GrayImage>& parts, int pad, float gap) {
  GrayImage out;
  for (const auto& p : parts) {
    if (out.width != 0 && p.width != out.width) throw Error("stack_rows: images differ in width");
    out.width = p.width;
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out.pixels.insert(out.pixels.end(), size_t(pad) * out.width, gap);
    out.pixels.insert(out.pixels.end(), parts[i].pixels.begin(), parts[i].pixels.end());
  }
  out.height = out.width ? int(out.pixels.size() / size_t(out.width)) : 0;
  return out;
}

GrayImage upscale(const GrayImage& image, int factor) {
  GrayImage out;
  out.width = image.width * factor;
  out.height = image.height * factor;
  out.pixels.resize(size_t(out.width) * out.height);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x)
      out.pixels[size_t(y) * out.width + x] = image.pixels[size_t(y / factor) * image.width + x / factor];
  return out;
}

void write_png(const std::string& path, const GrayImage& image) {
  std::vector<uint8_t> bytes(image.pixels.size());
  std::transform(image.pixels.begin(), image.pixels.end(), bytes.begin(),
                 [](float v) { return uint8_t(std::clamp(v, 0.0f, 1.0f) * 255.0f + 0.5f); });
  if (image.width <= 0 || image.height <= 0 ||
      !stbi_write_png(path.c_str(), image.width, image.height, 1, bytes.data(), image.width))
    throw Error(path + ": cannot write PNG");
}

}  // namespace latent
