#pragma once
// Colormaps for images (the same polynomials as shaders/image.frag) and colours for class labels.
#include <array>
#include <cstdint>

namespace latent::ui {

enum class Colormap { Gray = 0, Viridis = 1, Magma = 2 };
constexpr int kColormapCount = 3;
const char* colormap_name(Colormap map);

// RGB in [0, 1] for t in [0, 1] (clamped).
std::array<float, 3> colormap(Colormap map, float t);

// A colour per class label, as ImGui's packed ABGR: distinct ones (Tableau 20) for labels 0-19, a
// stable hashed hue beyond, and one neutral gray for kUnlabeled (any negative label).
uint32_t label_color(int label, uint8_t alpha = 255);

}  // namespace latent::ui
