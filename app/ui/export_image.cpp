#include "ui/export_image.h"

#include <stb_image_write.h>
#include <stb_truetype.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "latent/error.h"
#include "latent/files.h"

namespace latent::ui {

RgbImage colorize(const Picture& image, Colormap map, int factor) {
  factor = std::clamp(factor, 1, 8);
  RgbImage out;
  out.width = image.width * factor;
  out.height = image.height * factor;
  out.rgb.resize(size_t(out.width) * size_t(out.height) * 3);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) {
      // Gray through the colormap; colour as it is (a colormap is for one value per pixel).
      const int sy = y / factor, sx = x / factor;
      const auto c = image.channels == 3 ? std::array<float, 3>{image.at(0, sy, sx), image.at(1, sy, sx), image.at(2, sy, sx)}
                                         : colormap(map, image.at(0, sy, sx));
      uint8_t* p = &out.rgb[(size_t(y) * size_t(out.width) + size_t(x)) * 3];
      for (int k = 0; k < 3; ++k) p[k] = uint8_t(std::lround(std::clamp(c[size_t(k)], 0.0f, 1.0f) * 255.0f));
    }
  return out;
}

RgbImage with_caption(const RgbImage& image, const std::string& caption, const std::string& font_path) {
  if (caption.empty() || image.width <= 0) return image;
  std::ifstream in(font_path, std::ios::binary);
  const std::vector<unsigned char> font_data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  stbtt_fontinfo font;
  if (font_data.empty() || !stbtt_InitFont(&font, font_data.data(), stbtt_GetFontOffsetForIndex(font_data.data(), 0)))
    return image;
  // The text fills the width if it has to: from 16 px down to 8 px high, as the image allows.
  float pixel_height = 16;
  const auto text_width = [&](float scale) {
    float w = 0;
    for (unsigned char ch : caption) {
      int advance = 0, bearing = 0;
      stbtt_GetCodepointHMetrics(&font, ch, &advance, &bearing);
      w += float(advance) * scale;
    }
    return w;
  };
  while (pixel_height > 8 && text_width(stbtt_ScaleForPixelHeight(&font, pixel_height)) > float(image.width - 8)) pixel_height -= 1;
  const float scale = stbtt_ScaleForPixelHeight(&font, pixel_height);
  int ascent = 0, descent = 0, gap = 0;
  stbtt_GetFontVMetrics(&font, &ascent, &descent, &gap);
  const int strip = int(std::ceil(pixel_height * 1.5f));
  RgbImage out;
  out.width = image.width;
  out.height = image.height + strip;
  out.rgb = image.rgb;
  out.rgb.resize(size_t(out.width) * size_t(out.height) * 3, 0);
  const int baseline = image.height + int(std::lround((float(strip) - pixel_height) / 2 + float(ascent) * scale));
  float pen = 4;
  for (unsigned char ch : caption) {
    int advance = 0, bearing = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    stbtt_GetCodepointHMetrics(&font, ch, &advance, &bearing);
    stbtt_GetCodepointBitmapBox(&font, ch, scale, scale, &x0, &y0, &x1, &y1);
    const int w = x1 - x0, h = y1 - y0;
    if (w > 0 && h > 0) {
      std::vector<unsigned char> glyph(size_t(w) * size_t(h));
      stbtt_MakeCodepointBitmap(&font, glyph.data(), w, h, w, scale, scale, ch);
      for (int gy = 0; gy < h; ++gy)
        for (int gx = 0; gx < w; ++gx) {
          const int x = int(pen) + x0 + gx, y = baseline + y0 + gy;
          if (x < 0 || x >= out.width || y < image.height || y >= out.height) continue;
          uint8_t* p = &out.rgb[(size_t(y) * size_t(out.width) + size_t(x)) * 3];
          const uint8_t a = glyph[size_t(gy) * size_t(w) + size_t(gx)];
          for (int k = 0; k < 3; ++k) p[k] = std::max(p[k], a);
        }
    }
    pen += float(advance) * scale;
  }
  return out;
}

void write_rgb_png(const std::string& path, const RgbImage& image) {
  if (image.width <= 0 || image.height <= 0) throw Error(path + ": nothing to write");
  // Opening a FIFO for writing would wait for a reader: only a regular file is written over.
  if (const std::string kind = describe_path(path); !kind.empty() && kind != "missing")
    throw Error("cannot write " + path + " (" + describe_unusable(kind) + ")");
  stbi_flip_vertically_on_write(0);  // a process-wide setting: the screenshot turns it on
  if (!stbi_write_png(path.c_str(), image.width, image.height, 3, image.rgb.data(), image.width * 3))
    throw Error(path + ": cannot write the PNG there");
}

std::string default_export_dir() {
  const std::string home = home_directory();
  std::string pictures;
  if (const char* v = std::getenv("XDG_PICTURES_DIR"); v && *v) pictures = v;
  if (pictures.empty()) {
    // user-dirs.dirs holds lines like XDG_PICTURES_DIR="$HOME/Pictures".
    const char* config = std::getenv("XDG_CONFIG_HOME");
    std::ifstream dirs((config && *config ? std::string(config) : home + "/.config") + "/user-dirs.dirs");
    for (std::string line; std::getline(dirs, line);) {
      const std::string key = "XDG_PICTURES_DIR=\"";
      if (line.rfind(key, 0) != 0 || line.size() < key.size() + 1 || line.back() != '"') continue;
      pictures = line.substr(key.size(), line.size() - key.size() - 1);
      if (pictures.rfind("$HOME", 0) == 0) pictures = home + pictures.substr(5);
    }
  }
  if (pictures.empty()) pictures = home + "/Pictures";
  return pictures + "/latent-explorer";
}

}  // namespace latent::ui
