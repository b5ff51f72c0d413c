#include "latent/image_io.h"

#include <stb_image_write.h>

#include <algorithm>

#include "latent/error.h"

namespace latent {

Picture tile_images(const ImageBatch& images, int rows, int cols, int pad, float gap, int64_t first) {
  Picture out;
  out.width = cols * images.width + (cols + 1) * pad;
  out.height = rows * images.height + (rows + 1) * pad;
  out.channels = images.channels;
  out.pixels.assign(size_t(out.channels) * out.width * out.height, gap);
  const int64_t plane = int64_t(images.height) * images.width;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const int64_t index = first + int64_t(r) * cols + c;
      if (index >= images.count) return out;
      const int x0 = pad + c * (images.width + pad), y0 = pad + r * (images.height + pad);
      for (int ch = 0; ch < images.channels; ++ch) {
        const float* src = images.image(index) + ch * plane;
        for (int y = 0; y < images.height; ++y) std::copy(src + y * images.width, src + (y + 1) * images.width, &out.at(ch, y0 + y, x0));
      }
    }
  return out;
}

Picture stack_rows(const std::vector<Picture>& parts, int pad, float gap) {
  Picture out;
  int height = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i && (parts[i].width != out.width || parts[i].channels != out.channels))
      throw Error("stack_rows: pictures differ in width or channels");
    out.width = parts[i].width;
    out.channels = parts[i].channels;
    height += (i ? pad : 0) + parts[i].height;
  }
  out.height = height;
  out.pixels.assign(size_t(out.channels) * out.width * out.height, gap);
  int y0 = 0;
  for (const Picture& p : parts) {
    for (int c = 0; c < p.channels; ++c)
      for (int y = 0; y < p.height; ++y) std::copy_n(p.pixels.data() + (size_t(c) * p.height + y) * p.width, p.width, &out.at(c, y0 + y, 0));
    y0 += p.height + pad;
  }
  return out;
}

Picture upscale(const Picture& image, int factor) {
  Picture out;
  out.width = image.width * factor;
  out.height = image.height * factor;
  out.channels = image.channels;
  out.pixels.resize(size_t(out.channels) * out.width * out.height);
  for (int c = 0; c < out.channels; ++c)
    for (int y = 0; y < out.height; ++y)
      for (int x = 0; x < out.width; ++x) out.at(c, y, x) = image.at(c, y / factor, x / factor);
  return out;
}

void write_png(const std::string& path, const Picture& image) {
  if (image.width <= 0 || image.height <= 0 || (image.channels != 1 && image.channels != 3))
    throw Error(path + ": cannot write PNG (an empty picture)");
  // PNG rows are interleaved: R, G, B per pixel.
  std::vector<uint8_t> bytes(image.pixels.size());
  size_t k = 0;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      for (int c = 0; c < image.channels; ++c) bytes[k++] = uint8_t(std::clamp(image.at(c, y, x), 0.0f, 1.0f) * 255.0f + 0.5f);
  if (!stbi_write_png(path.c_str(), image.width, image.height, image.channels, bytes.data(), image.width * image.channels))
    throw Error(path + ": cannot write PNG");
}

}  // namespace latent
