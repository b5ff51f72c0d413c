#include "ui/layout.h"

#include <algorithm>
#include <array>

namespace latent::ui {

std::vector<WindowRect> column_layout(float width, float height, float top, const std::vector<LayoutEntry>& entries) {
  // The controls' column is narrower; it keeps at least 300 px (its fields' width) when the window
  // has room for that, and the other two share the rest as 51 : 49.
  std::array<float, 3> weight = {0.245f, 0.385f, 0.37f};
  std::array<bool, 3> used{};
  for (const auto& e : entries)
    if (e.open) used[size_t(std::clamp(e.column, 0, 2))] = true;
  float total = 0;
  for (size_t c = 0; c < 3; ++c) total += used[c] ? weight[c] : 0;
  std::array<float, 3> col_width{};
  for (size_t c = 0; c < 3; ++c) col_width[c] = total > 0 && used[c] ? width * weight[c] / total : 0;
  if (used[0] && (used[1] || used[2]) && col_width[0] < 300 && width >= 900) {
    const float rest = width - 300, others = col_width[1] + col_width[2];
    for (size_t c = 1; c < 3; ++c) col_width[c] = others > 0 ? col_width[c] / others * rest : 0;
    col_width[0] = 300;
  }
  std::array<float, 3> col_x{};
  for (size_t c = 1; c < 3; ++c) col_x[c] = col_x[c - 1] + col_width[c - 1];
  std::array<float, 3> shares{};
  for (const auto& e : entries)
    if (e.open) shares[size_t(std::clamp(e.column, 0, 2))] += std::max(0.01f, e.height_share);
  const float column_height = std::max(0.0f, height - top);
  std::array<float, 3> next_y = {top, top, top};
  std::vector<WindowRect> rects(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (!e.open) continue;
    const size_t c = size_t(std::clamp(e.column, 0, 2));
    const float h = column_height * std::max(0.01f, e.height_share) / shares[c];
    rects[i] = {col_x[c], next_y[c], col_width[c], h};
    next_y[c] += h;
  }
  // Rounded to whole pixels, each rectangle ending where the next begins.
  for (auto& r : rects) {
    if (r.width <= 0) continue;
    const float x1 = float(int(r.x + r.width + 0.5f)), y1 = float(int(r.y + r.height + 0.5f));
    r.x = float(int(r.x + 0.5f)), r.y = float(int(r.y + 0.5f));
    r.width = std::min(x1, width) - r.x, r.height = std::min(y1, height) - r.y;
  }
  return rects;
}

}  // namespace latent::ui
