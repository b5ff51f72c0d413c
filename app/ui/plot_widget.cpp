#include "ui/plot_widget.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "ui/plot_math.h"

namespace latent::ui {

double plot(const char* id, const std::vector<PlotSeries>& series, const std::vector<PlotMarker>& markers,
            const PlotStyle& style) {
  ImGui::PushID(id);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  ImVec2 size = style.size;
  if (size.x <= 0) size.x = ImGui::GetContentRegionAvail().x;
  if (size.y <= 0) size.y = std::max(80.0f, ImGui::GetContentRegionAvail().y);
  ImGui::InvisibleButton("plot", size);
  const bool hovered = ImGui::IsItemHovered();
  const float font = ImGui::GetFontSize();
  const float left_pad = font * 3.2f, bottom_pad = font * 2.4f, right_pad = font * 0.6f;
  const float top_pad = style.y_label.empty() ? font * 0.6f : font * 1.4f;  // room for the axis title
  PlotTransform t;
  t.left = origin.x + left_pad;
  t.top = origin.y + top_pad;
  t.width = std::max(10.0f, size.x - left_pad - right_pad);
  t.height = std::max(10.0f, size.y - top_pad - bottom_pad);
  t.log_y = style.log_y;

  std::vector<const std::vector<double>*> xs;
  for (const auto& s : series)
    if (s.x && s.y && !s.y->empty()) xs.push_back(s.x);
  t.x = Range{0, 1};
  if (!xs.empty()) {
    double lo = INFINITY, hi = -INFINITY;
    for (const auto* x : xs) lo = std::min(lo, x->front()), hi = std::max(hi, x->back());
    t.x = hi > lo ? Range{lo, hi} : Range{lo - 1, lo + 1};
  }
  // An x axis that stays put while new data lands inside it: it grows in nice steps (see plot_math.h).
  t.x = grow_axis(t.x);
  // Each line's pixel-column summary, brought up to date with the samples appended since the last
  // frame: the y range and the drawn samples come from it, so a frame does not read the whole run.
  static std::unordered_map<ImGuiID, ColumnSummary> summaries;
  std::vector<const ColumnSummary*> summary(series.size(), nullptr);
  double lo = INFINITY, hi = -INFINITY;
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    if (!s.x || !s.y || s.y->empty()) continue;
    if (s.points) {  // a few points (one per epoch): read them all
      for (double v : *s.y)
        if (std::isfinite(v) && (!style.log_y || v > 0)) lo = std::min(lo, v), hi = std::max(hi, v);
      continue;
    }
    ColumnSummary& c = summaries[ImGui::GetID(s.name.c_str())];
    c.update(*s.x, *s.y, t, style.generation);
    summary[k] = &c;
    const auto [l, h] = c.extremes();
    lo = std::min(lo, l), hi = std::max(hi, h);
  }
  t.y = padded_range(lo, hi, style.log_y);
  if (!style.log_y)
    for (const auto& s : series)
      if (s.fill_to_zero) t.y.min = std::min(t.y.min, 0.0);
  const float font_size = ImGui::GetFontSize();
  const int x_tick_target = std::max(2, int(t.width / (font_size * 5)));
  const int y_tick_target = std::max(2, int(t.height / (font_size * 2.5f)));
  // A y axis that moves in half tick steps (see plot_math.h).
  if (!style.log_y) t.y = snap_to_ticks(t.y, y_tick_target, 0.5, true);

  const ImU32 grid = IM_COL32(255, 255, 255, 28), axis = IM_COL32(200, 200, 200, 160), text = ImGui::GetColorU32(ImGuiCol_Text);
  dl->AddRectFilled(ImVec2(t.left, t.top), ImVec2(t.left + t.width, t.top + t.height), IM_COL32(20, 22, 28, 255));
  dl->PushClipRect(origin, ImVec2(origin.x + size.x, origin.y + size.y), true);
  const auto y_ticks = style.log_y ? log_ticks(t.y) : linear_ticks(t.y, y_tick_target);
  for (double v : y_ticks) {
    float y = t.to_screen(t.x.min, v).second;
    dl->AddLine(ImVec2(t.left, y), ImVec2(t.left + t.width, y), grid);
    std::string label = format_tick(v, style.log_y || y_ticks.size() < 2 ? 0 : y_ticks[1] - y_ticks[0]);
    ImVec2 ts = ImGui::CalcTextSize(label.c_str());
    dl->AddText(ImVec2(t.left - ts.x - 4, y - ts.y / 2), text, label.c_str());
  }
  // As many x ticks as their labels leave room for: fewer when the labels are long (large steps,
  // or a narrow range that needs decimals).
  std::vector<double> x_ticks;
  std::vector<std::string> x_labels;
  for (int target = x_tick_target; target >= 2; --target) {
    x_ticks = linear_ticks(t.x, target);
    x_labels.clear();
    std::vector<float> centres, widths;
    for (double v : x_ticks) {
      x_labels.push_back(format_tick(v, x_ticks.size() < 2 ? 0 : x_ticks[1] - x_ticks[0]));
      centres.push_back(t.to_screen(v, t.y.min).first);
      widths.push_back(ImGui::CalcTextSize(x_labels.back().c_str()).x);
    }
    if (labels_fit(centres, widths, font_size * 0.6f)) break;
    if (target == 2 && x_ticks.size() > 2) x_ticks.resize(1), x_labels.resize(1);  // nothing fits: the first only
  }
  for (size_t i = 0; i < x_ticks.size(); ++i) {
    float x = t.to_screen(x_ticks[i], t.y.min).first;
    dl->AddLine(ImVec2(x, t.top), ImVec2(x, t.top + t.height), grid);
    const std::string& label = x_labels[i];
    ImVec2 ts = ImGui::CalcTextSize(label.c_str());
    // Centred under its tick, but kept inside the plot (the last tick sits on the right edge).
    const float label_x = std::clamp(x - ts.x / 2, origin.x, origin.x + size.x - ts.x);
    dl->AddText(ImVec2(label_x, t.top + t.height + 2), text, label.c_str());
  }
  dl->AddRect(ImVec2(t.left, t.top), ImVec2(t.left + t.width, t.top + t.height), axis);
  if (!style.x_label.empty()) {
    ImVec2 ts = ImGui::CalcTextSize(style.x_label.c_str());
    dl->AddText(ImVec2(t.left + t.width / 2 - ts.x / 2, t.top + t.height + font * 1.15f), text, style.x_label.c_str());
  }
  if (!style.y_label.empty()) dl->AddText(ImVec2(origin.x + 2, origin.y), IM_COL32(200, 200, 200, 200), style.y_label.c_str());

  dl->PushClipRect(ImVec2(t.left, t.top), ImVec2(t.left + t.width, t.top + t.height), true);
  auto clamp_y = [&](double v) { return style.log_y ? std::max(v, t.y.min) : v; };
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    if (!s.x || !s.y || s.y->empty()) continue;
    const auto& x = *s.x;
    const auto& y = *s.y;
    std::vector<size_t> idx;
    if (s.points)
      for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) idx.push_back(i);
    else
      idx = summary[k]->samples(t);
    if (s.fill_from || s.fill_to_zero) {
      ImU32 fill = (s.color & 0x00FFFFFF) | (uint32_t(90) << 24);
      // Anti-aliased edges would leave faint seams between the adjacent quads of the area.
      const ImDrawListFlags flags = dl->Flags;
      dl->Flags &= ~ImDrawListFlags_AntiAliasedFill;
      for (size_t k = 1; k < idx.size(); ++k) {
        size_t a = idx[k - 1], b = idx[k];
        double base_a = s.fill_from ? (*s.fill_from)[a] : (style.log_y ? t.y.min : 0.0);
        double base_b = s.fill_from ? (*s.fill_from)[b] : (style.log_y ? t.y.min : 0.0);
        if (!std::isfinite(y[a]) || !std::isfinite(y[b]) || !std::isfinite(base_a) || !std::isfinite(base_b)) continue;
        auto [xa, ya] = t.to_screen(x[a], clamp_y(y[a]));
        auto [xb, yb] = t.to_screen(x[b], clamp_y(y[b]));
        auto [xa0, ya0] = t.to_screen(x[a], clamp_y(base_a));
        auto [xb0, yb0] = t.to_screen(x[b], clamp_y(base_b));
        dl->AddQuadFilled(ImVec2(xa, ya), ImVec2(xb, yb), ImVec2(xb0, yb0), ImVec2(xa0, ya0), fill);
      }
      dl->Flags = flags;
    }
    std::vector<ImVec2> line;
    line.reserve(idx.size());
    for (size_t i : idx) {
      if (!std::isfinite(y[i]) || (style.log_y && y[i] <= 0)) continue;
      auto [sx, sy] = t.to_screen(x[i], y[i]);
      line.emplace_back(sx, sy);
    }
    // A whole-pixel width lets ImGui draw the line from its baked anti-aliased line texture: 2
    // triangles a segment instead of 6 for a fractional width, which llvmpipe sets up one by one
    // (the loss curves were 25,000 of a frame's 30,000 triangles; see docs/benchmarks.md).
    const float thickness = std::max(1.0f, std::round(s.thickness));
    if (line.size() >= 2) dl->AddPolyline(line.data(), int(line.size()), s.color, 0, thickness);
    if (s.points || line.size() == 1)
      for (const auto& p : line) dl->AddCircleFilled(p, 3.0f, s.color);
  }
  // Marker labels sit along the bottom of the plot, away from the legend at the top, in rows so
  // that no two overlap; one that fits in no row keeps its line and shows its label on hover.
  {
    std::vector<float> lefts, widths;
    std::vector<float> lines;
    for (const auto& m : markers) {
      lines.push_back(t.to_screen(m.x, t.y.min).first);
      widths.push_back(ImGui::CalcTextSize(m.label.c_str()).x);
      // Right of its line, or left of it where the plot's right edge would cut the label.
      const bool fits_right = lines.back() + 3 + widths.back() <= t.left + t.width;
      lefts.push_back(fits_right ? lines.back() + 3 : lines.back() - 3 - widths.back());
    }
    const int max_rows = std::max(1, std::min(3, int(t.height / (font_size * 3))));
    const std::vector<int> rows = label_rows(lefts, widths, font_size * 0.5f, max_rows);
    for (size_t i = 0; i < markers.size(); ++i) {
      const float x = lines[i];
      dl->AddLine(ImVec2(x, t.top), ImVec2(x, t.top + t.height), IM_COL32(255, 220, 80, 150), 1.0f);
      if (rows[i] < 0) continue;
      const float y = t.top + t.height - font_size * 1.15f * float(rows[i] + 1) - 2;
      dl->AddRectFilled(ImVec2(lefts[i] - 1, y), ImVec2(lefts[i] + widths[i] + 1, y + font_size), IM_COL32(20, 22, 28, 200));
      dl->AddText(ImVec2(lefts[i], y), IM_COL32(255, 220, 80, 230), markers[i].label.c_str());
    }
  }
  dl->PopClipRect();

  // Legend, top right, inside the plot: a name too long for the plot is shortened with "...", and
  // entries that would run below it are left out.
  float ly = t.top + 4;
  for (const auto& s : series) {
    if (ly + font > t.top + t.height) break;
    std::string name = s.name;
    const float room = t.width - font * 1.6f - 8;
    while (name.size() > 4 && ImGui::CalcTextSize(name.c_str()).x > room) name = name.substr(0, name.size() - 4) + "...";
    if (room <= font) break;
    ImVec2 ts = ImGui::CalcTextSize(name.c_str());
    float lx = t.left + t.width - ts.x - font * 1.6f;
    dl->AddRectFilled(ImVec2(lx - 4, ly - 1), ImVec2(t.left + t.width - 2, ly + ts.y + 1), IM_COL32(20, 22, 28, 200));
    dl->AddLine(ImVec2(lx, ly + ts.y / 2), ImVec2(lx + font, ly + ts.y / 2), s.color, 2.5f);
    dl->AddText(ImVec2(lx + font * 1.2f, ly), text, name.c_str());
    ly += ts.y + 2;
  }

  double hover_x = NAN;
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  if (hovered && mouse.x >= t.left && mouse.x <= t.left + t.width) {
    hover_x = t.to_data(mouse.x, mouse.y).first;
    dl->AddLine(ImVec2(mouse.x, t.top), ImVec2(mouse.x, t.top + t.height), IM_COL32(255, 255, 255, 90));
    ImGui::BeginTooltip();
    bool any = false;
    for (const auto& s : series) {
      if (!s.x || !s.y || s.y->empty()) continue;
      long i = nearest_index(*s.x, hover_x);
      if (i < 0) continue;
      if (!any) ImGui::Text("%s %s", style.x_label.empty() ? "x" : style.x_label.c_str(), format_tick((*s.x)[size_t(i)]).c_str());
      any = true;
      ImGui::TextColored(ImColor(s.color), "%s: %.3f", s.name.c_str(), (*s.y)[size_t(i)]);
    }
    if (!any) ImGui::TextUnformatted("no data yet");
    ImGui::EndTooltip();
  }
  dl->PopClipRect();
  ImGui::PopID();
  return hover_x;
}

}  // namespace latent::ui
