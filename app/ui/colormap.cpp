#include "ui/colormap.h"

#include <algorithm>
#include <cmath>

namespace latent::ui {

const char* colormap_name(Colormap map) {
  switch (map) {
    case Colormap::Gray: return "gray";
    case Colormap::Viridis: return "viridis";
    case Colormap::Magma: return "magma";
  }
  return "?";
}

namespace {
// Degree-6 polynomial fits of matplotlib's maps (Matt Zucker, public domain); shaders/image.frag
// evaluates the same coefficients.
using Poly = std::array<std::array<float, 3>, 7>;
constexpr Poly kViridis = {{{0.2777273272234177f, 0.005407344544966578f, 0.3340998053353061f},
                            {0.1050930431085774f, 1.404613529898575f, 1.384590162594685f},
                            {-0.3308618287255563f, 0.214847559468213f, 0.09509516302823659f},
                            {-4.634230498983486f, -5.799100973351585f, -19.33244095627987f},
                            {6.228269936347081f, 14.17993336680509f, 56.69055260068105f},
                            {4.776384997670288f, -13.74514537774601f, -65.35303263337234f},
                            {-5.435455855934631f, 4.645852612178535f, 26.3124352495832f}}};
constexpr Poly kMagma = {{{-0.002136485053939582f, -0.000749655052795221f, -0.005386127855323933f},
                          {0.2516605407371642f, 0.6775232436837668f, 2.494026599312351f},
                          {8.353717279216625f, -3.577719514958484f, 0.3144679030132573f},
                          {-27.66873308576866f, 14.26473078096533f, -13.64921318813922f},
                          {52.17613981234068f, -27.94360607168351f, 12.94416944238394f},
                          {-50.76852536473588f, 29.04658282127291f, 4.23415299384598f},
                          {18.65570506591883f, -11.48977351997711f, -5.601961508734096f}}};

std::array<float, 3> evaluate(const Poly& c, float t) {
  std::array<float, 3> rgb{};
  for (int ch = 0; ch < 3; ++ch) {
    float v = c[6][ch];
    for (int k = 5; k >= 0; --k) v = v * t + c[k][ch];
    rgb[ch] = std::clamp(v, 0.0f, 1.0f);
  }
  return rgb;
}
}  // namespace

std::array<float, 3> colormap(Colormap map, float t) {
  t = std::clamp(t, 0.0f, 1.0f);
  switch (map) {
    case Colormap::Viridis: return evaluate(kViridis, t);
    case Colormap::Magma: return evaluate(kMagma, t);
    case Colormap::Gray: break;
  }
  return {t, t, t};
}

uint32_t label_color(int label, uint8_t alpha) {
  // Tableau 10 for labels 0-9 (the most distinct), then its ten lighter partners for 10-19.
  static constexpr uint32_t kTab20[20] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2,
                                          0x7f7f7f, 0xbcbd22, 0x17becf, 0xaec7e8, 0xffbb78, 0x98df8a, 0xff9896,
                                          0xc5b0d5, 0xc49c94, 0xf7b6d2, 0xc7c7c7, 0xdbdb8d, 0x9edae5};
  uint32_t rgb = 0xbdbdbd;  // unlabeled
  if (label >= 0 && label < 20) {
    rgb = kTab20[label];
  } else if (label >= 20) {
    // Beyond 20, a hue from a hash of the label: stable from run to run, neighbours far apart.
    const uint32_t h = uint32_t(label) * 2654435761u;
    const float hue = float(h >> 8) / float(1 << 24);
    const float s = 0.55f + 0.3f * float((h >> 4) & 15) / 15.0f, v = 0.9f;
    const float k[3] = {5, 3, 1};
    uint32_t channel[3];
    for (int i = 0; i < 3; ++i) {
      const float t = std::fmod(k[i] + hue * 6, 6.0f);
      channel[i] = uint32_t(std::lround(255 * (v - v * s * std::max(0.0f, std::min({t, 4 - t, 1.0f})))));
    }
    rgb = (channel[0] << 16) | (channel[1] << 8) | channel[2];
  }
  const uint32_t r = (rgb >> 16) & 0xFF, g = (rgb >> 8) & 0xFF, b = rgb & 0xFF;
  return (uint32_t(alpha) << 24) | (b << 16) | (g << 8) | r;
}

}  // namespace latent::ui
