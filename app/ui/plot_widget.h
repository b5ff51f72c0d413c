#pragma once
// A small line-plot widget drawn on ImGui's draw list (ImPlot is not packaged for Debian): axes,
// ticks and labels, a legend, vertical markers, optional stacked areas, and a hover readout.
#include <imgui.h>

#include <cstdint>
#include <string>
#include <vector>

namespace latent::ui {

struct PlotSeries {
  std::string name;
  const std::vector<double>* x = nullptr;
  const std::vector<double>* y = nullptr;
  ImU32 color = IM_COL32_WHITE;
  float thickness = 1.5f;
  bool points = false;         // draw dots (for sparse per-epoch series)
  const std::vector<double>* fill_from = nullptr;  // stacked area between fill_from and y (same x)
  bool fill_to_zero = false;
};

struct PlotMarker {
  double x = 0;
  std::string label;
};

struct PlotStyle {
  ImVec2 size{-1, 200};
  bool log_y = false;
  std::string x_label, y_label;
  // The line series' version: change it when samples already drawn change (a rebuild rather than
  // new samples appended); the widget keeps a summary of each line between frames (ColumnSummary).
  uint64_t generation = 0;
};

// Draws the plot in the current window. Returns the x under the mouse, or NAN when not hovered.
double plot(const char* id, const std::vector<PlotSeries>& series, const std::vector<PlotMarker>& markers,
            const PlotStyle& style);

}  // namespace latent::ui
