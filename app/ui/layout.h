#pragma once
// The default arrangement of the explorer's views, worked out from the window's size: three
// columns (controls, the curves over the pad, the image views), each open view taking its share of
// its column's height. Used on the first start, by View -> Reset layout, and on every resize until
// the user moves or resizes a window. No ImGui: tested without a display.
#include <vector>

namespace latent::ui {

struct WindowRect {
  float x = 0, y = 0, width = 0, height = 0;
};

struct LayoutEntry {
  int column = 0;          // 0, 1 or 2
  float height_share = 1;  // of its column, against the other open views there
  bool open = true;
};

// Rectangles for `entries` (closed ones get an empty rectangle) in a window `width` x `height`
// whose views start `top` pixels down (below the menu bar). The columns fill the width, the views
// in each column fill its height, and nothing reaches past the window. A column with no open view
// gives its width to the others.
std::vector<WindowRect> column_layout(float width, float height, float top, const std::vector<LayoutEntry>& entries);

}  // namespace latent::ui
