// The latent pad: drag a point over z and see its decoding in the same frame, over the encoded test
// set (coloured by label) or the decoded manifold; the Interpolation view's path is drawn on top while it is open.
#include <algorithm>
#include <cstdio>
#include <cmath>
#include <string>

#include "latent/data_sources.h"
#include "views/view.h"
#include "ui/pad_mapping.h"
#include "ui/scatter_raster.h"

namespace latent::app {

class LatentPadView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;
};

void LatentPadView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Latent pad", open)) return ImGui::End();
  const int dims = state.latent_dim();
  if (state.z.empty()) {
    ImGui::TextDisabled("no model yet");
    return ImGui::End();
  }
  int background = int(state.options.pad_background);
  ImGui::RadioButton("encoded test set", &background, 0);
  help_marker(state.prior() == "normal"
                  ? "Each dot is mu(x) of q(z|x) for one test image, coloured by its label. The KL term pulls them "
                    "towards N(0, I) (the circles at 1, 2 and 3 sigma): watch the clusters pack around the origin as "
                    "training goes on."
                  : "Each dot is mu(x) of q(z|x) for one test image, coloured by its label. The KL term pulls them "
                    "towards the learned prior p(z), whose contours (39, 86 and 99 % of its mass) are drawn in blue; "
                    "the prior in turn moves towards where the data is encoded. VampPrior: triangles mark its "
                    "pseudo-inputs' q(z|u).");
  same_line_if_fits(checkbox_width("decoded manifold"));
  ImGui::RadioButton("decoded manifold", &background, 1);
  help_marker("The decoder's mean image at each point of a grid over the pad: p(x|z) as a map.");
  same_line_if_fits(checkbox_width("q(z) vs p(z)"));
  ImGui::RadioButton("q(z) vs p(z)", &background, 2);
  help_marker("The aggregate posterior q(z) = mean over test images of q(z|x), against the prior p(z) (its "
              "contours hold 39, 86 and 99 % of its mass: for N(0, I) the circles at 1, 2, 3 sigma). Red: holes, "
              "where the prior has mass (inside the 86 % contour) but q(z) is under 5 % of it. Samples from p(z) "
              "that land there decode to things the decoder never learned: click one. A learned prior can close "
              "the holes by moving its mass to where the data is.");
  const PadBackground chosen = PadBackground(background);
  if (chosen != state.options.pad_background) {
    state.options.pad_background = chosen;
    state.grid_dirty = true;
  }
  same_line_if_fits(ImGui::GetFontSize() * 5 + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize("extent").x);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5);
  if (ImGui::SliderFloat("extent", &state.pad_extent, 1.0f, 6.0f, "%.1f")) state.grid_dirty = state.scatter_dirty = true;
  if (dims > 2) {
    // Wide enough for two digits beside ImGui's - and + buttons.
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6.5f);
    if (ImGui::InputInt("x dim", &state.pad_dim_x)) state.grid_dirty = state.scatter_dirty = true;
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6.5f);
    if (ImGui::InputInt("y dim", &state.pad_dim_y)) state.grid_dirty = state.scatter_dirty = true;
    state.pad_dim_x = std::clamp(state.pad_dim_x, 0, dims - 1);
    state.pad_dim_y = std::clamp(state.pad_dim_y, 0, dims - 1);
    if (state.pad_dim_y == state.pad_dim_x) state.pad_dim_y = (state.pad_dim_x + 1) % dims;
    same_line_if_fits(button_width("zero the rest"));
    if (ImGui::Button("zero the rest")) {
      for (int d = 0; d < dims; ++d)
        if (d != state.pad_dim_x && d != state.pad_dim_y) state.z[size_t(d)] = 0;
      state.decoded_dirty = state.grid_dirty = true;
    }
    same_line_if_fits(button_width("rest = mu of A"));
    if (ImGui::Button("rest = mu of A") && state.scatter.posterior.mu.rows > state.interp_a) {
      for (int d = 0; d < dims; ++d)
        if (d != state.pad_dim_x && d != state.pad_dim_y) state.z[size_t(d)] = state.scatter.posterior.mu.at(state.interp_a, d);
      state.decoded_dirty = state.grid_dirty = true;
    }
    help_marker("The pad shows two latent dims; the others stay at these values (zero, or the mean of the "
                "interpolation's image A under q(z|x)).");
    if (ImGui::TreeNode("other dims")) {
      for (int d = 0; d < dims; ++d) {
        if (d == state.pad_dim_x || d == state.pad_dim_y) continue;
        ImGui::PushID(d);
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
        if (ImGui::SliderFloat(("z" + std::to_string(d)).c_str(), &state.z[size_t(d)], -4, 4, "%.2f"))
          state.decoded_dirty = state.grid_dirty = true;
        ImGui::PopID();
      }
      ImGui::TreePop();
    }
  }

  const bool manifold = state.options.pad_background == PadBackground::Manifold && gfx.grid.valid() && state.grid_k_shown > 1;
  const bool aggregate = state.options.pad_background == PadBackground::Aggregate && state.aggregate.resolution > 0;
  const bool scatter = !manifold && !aggregate && state.scatter.posterior.mu.rows > 0;  // also while the others load
  const bool posterior_bar = state.elbo.show_posterior && dims == 2 && state.elbo.posterior.resolution > 0;

  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float legend_h = ImGui::GetFontSize() * 1.6f;
  float size = std::max(50.0f, std::min(avail.x, avail.y - legend_h));
  // The heatmaps' colour bars stand beside the pad where that costs it at most a fifth of its side
  // (a panel wider than tall usually has the room); otherwise they hang over its right edge.
  const float bar_room = std::max(aggregate ? density_colour_bar_room(kAggregateBarCaption) : 0.0f,
                                  posterior_bar ? density_colour_bar_room(kPosteriorBarCaption) : 0.0f);
  const float beside = std::min(avail.x - bar_room, avail.y - legend_h);
  const bool bars_beside = bar_room > 0 && beside >= 50 && beside >= size * 0.8f;
  if (bars_beside) size = beside;
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const float bar_right = p0.x + size + (bars_beside ? bar_room : 0.0f);
  ui::PadMapping map{p0.x, p0.y, size, state.pad_extent};
  ImGui::InvisibleButton("pad", ImVec2(size, size));
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->PushClipRect(p0, ImVec2(p0.x + size, p0.y + size), true);
  const int dx = state.pad_dim_x, dy = state.pad_dim_y;
  // The manifold (opaque, beyond the pad's edges) and the scatter (its background baked in) cover
  // the whole pad: the plain background is drawn only under the aggregate, or when there is nothing.
  // The colour bars' lengths: the true posterior's at the top right, the aggregate's below it, both
  // as long as fits (up to 8 lines of text each).
  const float bar_space = aggregate && posterior_bar
                             ? (size - density_colour_bar_height(0, kPosteriorBarCaption) - density_colour_bar_height(0, kAggregateBarCaption, true) -
                                ImGui::GetFontSize()) / 2
                             : size * 0.3f;
  const float bar_length = std::min(ImGui::GetFontSize() * 8, bar_space);
  if (!manifold && !scatter) dl->AddRectFilled(p0, ImVec2(p0.x + size, p0.y + size), ui::kPadBackground);
  if (manifold) {
    // Grid points sit at ±extent; each tile covers half a cell beyond them.
    const float half = state.pad_extent / float(state.grid_k_shown - 1);
    auto [x0, y0] = map.to_screen(-state.pad_extent - half, state.pad_extent + half);
    auto [x1, y1] = map.to_screen(state.pad_extent + half, -state.pad_extent - half);
    gfx.renderer.draw(dl, gfx.grid, ImVec2(x0, y0), ImVec2(x1, y1), gfx.colormap);
  } else if (aggregate) {
    const ui::DensityGrid& g = state.aggregate;
    if (gfx.aggregate_generation != state.scatter_generation && (!gfx.aggregate.valid() || gfx.take_refresh_turn())) {
      float peak = 0;
      for (float v : g.q) peak = std::max(peak, v);
      std::vector<uint32_t> rgba(g.q.size());
      for (size_t i = 0; i < rgba.size(); ++i) {
        if (g.hole[i]) {
          rgba[i] = IM_COL32(255, 60, 60, 120);
          continue;
        }
        const float t = peak > 0 ? std::sqrt(g.q[i] / peak) : 0;
        auto c = ui::colormap(ui::Colormap::Magma, t);
        rgba[i] = IM_COL32(int(c[0] * 255), int(c[1] * 255), int(c[2] * 255), int(t * 255));
      }
      gfx.aggregate.upload(rgba.data(), g.resolution, g.resolution);
      gfx.aggregate_generation = state.scatter_generation;
    }
    auto [ax0, ay0] = map.to_screen(-g.extent, g.extent);
    auto [ax1, ay1] = map.to_screen(g.extent, -g.extent);
    dl->AddImage(gfx.aggregate.id(), ImVec2(ax0, ay0), ImVec2(ax1, ay1));
    float peak = 0;
    for (float v : g.q) peak = std::max(peak, v);
    density_colour_bar(dl, ImVec2(bar_right, p0.y + size - density_colour_bar_height(bar_length, kAggregateBarCaption, true)),
                       bar_length, peak, kAggregateBarCaption, true);
  } else if (scatter) {
    const Gfx::ScatterKey key{state.scatter_generation, dx, dy, std::min(2048, int(size)), state.pad_extent};
    state.pad_raster_size = key.size;
    if (!(key == gfx.scatter_key) && (!gfx.scatter.valid() || gfx.take_refresh_turn())) {
      // The worker's image was drawn with the set, for the view the pad had then.
      const ui::ScatterImage* image = &state.scatter_image;
      ui::ScatterImage own;
      if (!image->fits(dx, dy, key.size, state.pad_extent)) {
        own = ui::rasterize_pad_scatter(state.scatter.posterior.mu, state.scatter.labels, dx, dy, state.pad_extent, key.size);
        image = &own;
      }
      gfx.scatter.upload(image->pixels.data(), key.size, key.size);
      gfx.scatter_key = key;
    }
    dl->AddImage(gfx.scatter.id(), p0, ImVec2(p0.x + size, p0.y + size));
  }
  draw_posterior_overlay(state, gfx, dl, p0.x, p0.y, size, bar_length, bar_right);
  // Axes through the origin, ticks at whole numbers.
  const ImU32 axis = IM_COL32(255, 255, 255, 60);
  auto [ox, oy] = map.to_screen(0, 0);
  dl->AddLine(ImVec2(p0.x, oy), ImVec2(p0.x + size, oy), axis);
  dl->AddLine(ImVec2(ox, p0.y), ImVec2(ox, p0.y + size), axis);
  for (int t = -int(state.pad_extent); t <= int(state.pad_extent); ++t) {
    auto [tx, ty] = map.to_screen(float(t), float(t));
    dl->AddLine(ImVec2(tx, oy - 3), ImVec2(tx, oy + 3), axis);
    dl->AddLine(ImVec2(ox - 3, ty), ImVec2(ox + 3, ty), axis);
    if (t != 0) dl->AddText(ImVec2(tx + 2, oy + 2), IM_COL32(255, 255, 255, 110), std::to_string(t).c_str());
  }
  // Prior contours, the regions of 39 %, 86 % and 99 % of p(z)'s mass: for N(0, I) the circles at
  // 1, 2 and 3 σ; for a learned prior, its own (ui/prior_contours.h).
  const int contour_alpha = state.options.pad_background == PadBackground::Aggregate ? 110 : 45;
  if (state.prior() == "normal") {
    for (float r : {1.0f, 2.0f, 3.0f})
      dl->AddCircle(ImVec2(ox, oy), r / (2 * state.pad_extent) * size, IM_COL32(255, 255, 255, contour_alpha), 64);
  } else {
    // Brighter than the circles: a learned prior's shape is the point of showing it.
    const ImU32 colours[3] = {IM_COL32(120, 230, 255, 200), IM_COL32(120, 230, 255, 140), IM_COL32(120, 230, 255, 80)};
    for (const ui::ContourSegment& s : state.prior_contours) {
      auto [ax, ay] = map.to_screen(s.x0, s.y0);
      auto [bx, by] = map.to_screen(s.x1, s.y1);
      dl->AddLine(ImVec2(ax, ay), ImVec2(bx, by), colours[std::clamp(s.contour, 0, 2)], 1.5f);
    }
    // The VampPrior's components sit at the encoder's means of its pseudo-inputs.
    const LatentMatrix& u = state.pseudo_points;
    if (u.cols == dims)
      for (int64_t k = 0; k < u.rows; ++k) {
        auto [ux, uy] = map.to_screen(u.at(k, dx), dims > 1 ? u.at(k, dy) : 0.0f);
        dl->AddTriangleFilled(ImVec2(ux, uy - 5), ImVec2(ux - 4.5f, uy + 3.5f), ImVec2(ux + 4.5f, uy + 3.5f), IM_COL32(120, 230, 255, 230));
        dl->AddTriangle(ImVec2(ux, uy - 5), ImVec2(ux - 4.5f, uy + 3.5f), ImVec2(ux + 4.5f, uy + 3.5f), IM_COL32(0, 0, 0, 200));
      }
  }
  // Interpolation path, while a view that keeps it up to date is open (it is the Interpolation
  // view's A and B; closed, its path would stay where the weights were when it closed).
  if ((state.refresh_wanted & kRefreshInterpolation) && state.interp_path.rows >= 2 && state.interp_path.cols == dims) {
    std::vector<ImVec2> path;
    for (int64_t i = 0; i < state.interp_path.rows; ++i) {
      auto [sx, sy] = map.to_screen(state.interp_path.at(i, dx), dims > 1 ? state.interp_path.at(i, dy) : 0.0f);
      path.emplace_back(sx, sy);
    }
    dl->AddPolyline(path.data(), int(path.size()), IM_COL32(255, 220, 80, 220), 0, 2.0f);
    for (const auto& p : path) dl->AddCircleFilled(p, 2.5f, IM_COL32(255, 220, 80, 220));
    // An endpoint outside the pad's window is marked where it leaves it: an arrow on the edge,
    // pointing at it, with its coordinates.
    const auto endpoint = [&](ImVec2 p, const char* name, int64_t row) {
      const ImU32 yellow = IM_COL32(255, 220, 80, 255);
      if (map.contains(p.x, p.y)) return dl->AddText(ImVec2(p.x + 5, p.y - 16), yellow, name);
      const ImVec2 edge(std::clamp(p.x, p0.x + 8, p0.x + size - 8), std::clamp(p.y, p0.y + 8, p0.y + size - 8));
      const float ddx = p.x - edge.x, ddy = p.y - edge.y, len = std::max(1e-3f, std::sqrt(ddx * ddx + ddy * ddy));
      const ImVec2 u(ddx / len, ddy / len), n(-u.y, u.x);
      dl->AddTriangleFilled(ImVec2(edge.x + u.x * 8, edge.y + u.y * 8), ImVec2(edge.x - u.x * 4 + n.x * 6, edge.y - u.y * 4 + n.y * 6),
                            ImVec2(edge.x - u.x * 4 - n.x * 6, edge.y - u.y * 4 - n.y * 6), yellow);
      char text[64];
      std::snprintf(text, sizeof text, "%s (%.1f, %.1f)", name, state.interp_path.at(row, dx), dims > 1 ? state.interp_path.at(row, dy) : 0.0f);
      const ImVec2 ts = ImGui::CalcTextSize(text);
      dl->AddText(ImVec2(std::clamp(edge.x - u.x * (ts.x / 2 + 12) - ts.x / 2, p0.x, p0.x + size - ts.x),
                         std::clamp(edge.y - u.y * (ts.y + 8) - ts.y / 2, p0.y, p0.y + size - ts.y)), yellow, text);
    };
    endpoint(path.front(), "A", 0);
    endpoint(path.back(), "B", state.interp_path.rows - 1);
  }
  // Other views' marks: a point, or q's 1σ and 2σ ellipses, with its label.
  for (const auto& [owner, entry] : state.pad_marks) {
    if (state.now - entry.first > 0.25) continue;
    for (const AppState::PadMark& m : entry.second) {
      if (int(m.z.size()) != dims) continue;
      const float mx = m.z[size_t(dx)], my = dims > 1 ? m.z[size_t(dy)] : 0.0f;
      auto [sx, sy] = map.to_screen(mx, my);
      if (m.sigma.size() == m.z.size()) {
        const float rx = m.sigma[size_t(dx)] * size / (2 * state.pad_extent), ry = (dims > 1 ? m.sigma[size_t(dy)] : 0.0f) * size / (2 * state.pad_extent);
        for (float k : {1.0f, 2.0f}) {
          std::vector<ImVec2> ring;
          for (int i = 0; i < 48; ++i) {
            const float a = float(i) / 48 * 6.2831853f;
            ring.emplace_back(sx + k * rx * std::cos(a), sy + k * ry * std::sin(a));
          }
          dl->AddPolyline(ring.data(), int(ring.size()), m.colour, ImDrawFlags_Closed, k == 1 ? 2.0f : 1.0f);
        }
      }
      dl->AddCircleFilled(ImVec2(sx, sy), 5, m.colour);
      dl->AddCircle(ImVec2(sx, sy), 5, IM_COL32(0, 0, 0, 220), 0, 1.5f);
      dl->AddText(ImVec2(sx + 7, sy - 7), m.colour, m.label.c_str());
    }
  }
  // Dragging moves the point; the decode happens now, so the image panel shows it this frame.
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  if (ImGui::IsItemActive() && ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
    auto [zx, zy] = map.to_latent_clamped(mouse.x, mouse.y);
    state.set_pad_point(zx, zy);
  }
  auto [px, py] = map.to_screen(state.z[size_t(dx)], dims > 1 ? state.z[size_t(dy)] : 0.0f);
  dl->AddCircleFilled(ImVec2(px, py), 7, IM_COL32(255, 255, 255, 255));
  dl->AddCircle(ImVec2(px, py), 7, IM_COL32(0, 0, 0, 255), 0, 2);
  dl->PopClipRect();
  if (ImGui::IsItemHovered()) {
    auto [hx, hy] = map.to_latent(mouse.x, mouse.y);
    ImGui::SetTooltip("z%d = %.2f, z%d = %.2f\ndrag to decode", dx, hx, dy, hy);
  }
  // Legend (the dataset's class names, as many as fit a line's worth) and readout.
  const int shown = std::min(state.data.classes(), 20);
  for (int label = state.data.labeled() ? 0 : kUnlabeled; label < shown; ++label) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(ui::label_color(label)));
    ImGui::TextUnformatted(state.data.class_name(label).c_str());
    ImGui::PopStyleColor();
    ImGui::SameLine();
    if (!state.data.labeled()) break;
  }
  if (state.data.classes() > shown) {
    ImGui::TextDisabled("+%d more", state.data.classes() - shown);
    ImGui::SameLine();
  }
  ImGui::TextDisabled(" z = (%.2f, %.2f)  decode %.2f ms", state.z[size_t(dx)], dims > 1 ? state.z[size_t(dy)] : 0.0f,
                      state.decode_ms);
  ImGui::End();
}

std::unique_ptr<View> make_latent_pad_view() { return make_view<LatentPadView>(); }

}  // namespace latent::app
