#include "data/pixels.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace latent {
namespace {

// One output sample along an axis: the source samples it averages and their weights (summing to 1).
struct Tap {
  int first = 0;
  std::vector<float> weights;
};

// Area averaging when shrinking: output i covers source [i·in/out, (i+1)·in/out), each source sample
// weighted by its overlap. Bilinear when enlarging, with pixel centres at half-integers.
std::vector<Tap> axis_taps(int in, int out) {
  std::vector<Tap> taps(static_cast<size_t>(out));
  const double scale = double(in) / out;
  for (int i = 0; i < out; ++i) {
    Tap& t = taps[size_t(i)];
    if (in == out) {
      t.first = i;
      t.weights = {1.0f};
    } else if (out < in) {
      const double lo = i * scale, hi = (i + 1) * scale;
      const int a = int(std::floor(lo)), b = std::min(in, int(std::ceil(hi)));
      t.first = a;
      for (int s = a; s < b; ++s) {
        const double overlap = std::min(hi, double(s + 1)) - std::max(lo, double(s));
        t.weights.push_back(float(overlap / scale));
      }
    } else {
      const double src = std::clamp((i + 0.5) * scale - 0.5, 0.0, double(in - 1));
      const int a = std::min(int(src), in - 1), b = std::min(a + 1, in - 1);
      const float f = float(src - a);
      t.first = a;
      t.weights = b == a ? std::vector<float>{1.0f} : std::vector<float>{1.0f - f, f};
    }
  }
  return taps;
}

uint8_t to_byte(float v) { return uint8_t(std::clamp(std::lround(v), 0L, 255L)); }

}  // namespace

void conform_image(const PixelView& in, int out_channels, int out_height, int out_width, uint8_t* out) {
  const int h = in.height, w = in.width;
  const bool alpha = in.channels == 2 || in.channels == 4;
  const bool colour_in = in.channels >= 3;
  // The image in the output's channels at its own size, as floats in 0..255.
  std::vector<float> planes(size_t(out_channels) * h * w);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const uint8_t* p = in.data + y * in.stride_y + x * in.stride_x;
      const float a = alpha ? p[(in.channels - 1) * in.stride_c] / 255.0f : 1.0f;
      float rgb[3];
      if (colour_in) {
        for (int c = 0; c < 3; ++c) rgb[c] = p[c * in.stride_c] * a;
      } else {
        rgb[0] = rgb[1] = rgb[2] = p[0] * a;
      }
      const size_t at = size_t(y) * w + x;
      if (out_channels == 1)
        planes[at] = colour_in ? 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2] : rgb[0];
      else
        for (int c = 0; c < 3; ++c) planes[size_t(c) * h * w + at] = rgb[c];
    }
  if (out_height == h && out_width == w) {
    for (size_t i = 0; i < planes.size(); ++i) out[i] = to_byte(planes[i]);
    return;
  }
  // Separable: along x into a H × out_width buffer, then along y into the output.
  const std::vector<Tap> xs = axis_taps(w, out_width), ys = axis_taps(h, out_height);
  std::vector<float> rows(size_t(h) * out_width);
  for (int c = 0; c < out_channels; ++c) {
    const float* plane = planes.data() + size_t(c) * h * w;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < out_width; ++x) {
        const Tap& t = xs[size_t(x)];
        float v = 0;
        for (size_t k = 0; k < t.weights.size(); ++k) v += t.weights[k] * plane[size_t(y) * w + t.first + k];
        rows[size_t(y) * out_width + x] = v;
      }
    uint8_t* dst = out + size_t(c) * out_height * out_width;
    for (int y = 0; y < out_height; ++y) {
      const Tap& t = ys[size_t(y)];
      for (int x = 0; x < out_width; ++x) {
        float v = 0;
        for (size_t k = 0; k < t.weights.size(); ++k) v += t.weights[k] * rows[(t.first + k) * out_width + x];
        dst[size_t(y) * out_width + x] = to_byte(v);
      }
    }
  }
}

}  // namespace latent
