// Interpolation between two encoded test digits: the N-step strip (lerp or slerp), animated, with
// the path drawn on the latent pad.
#include <algorithm>
#include <cmath>

#include "panels/panels.h"

namespace latent::app {
namespace {

// The first test image with `label`, or -1.
int first_with_label(const AppState& state, int label) {
  const auto& labels = state.data.test_labels();
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] == label) return int(i);
  return -1;
}

void endpoint_picker(AppState& state, const char* name, int& index) {
  ImGui::PushID(name);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  if (ImGui::InputInt(name, &index)) state.interp_dirty = true;
  index = std::clamp(index, 0, int(state.data.test_size()) - 1);  // read below, this frame
  ImGui::SameLine();
  ImGui::TextDisabled("or label");
  for (int label = 0; label < 10; ++label) {
    ImGui::SameLine(0, 2);
    ImGui::PushID(label);
    if (ImGui::SmallButton(std::to_string(label).c_str())) {
      int i = first_with_label(state, label);
      if (i >= 0) index = i, state.interp_dirty = true;
    }
    ImGui::PopID();
  }
  ImGui::PopID();
}

}  // namespace

void interpolation_panel(AppState& state, Gfx& gfx) {
  static bool animate = true;
  ImGui::SetNextWindowPos(ImVec2(1010, 0), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(590, 330), ImGuiCond_FirstUseEver);
  if (!begin_panel("Interpolation")) return ImGui::End();
  if (state.data.empty()) {
    ImGui::TextDisabled("no dataset");
    return ImGui::End();
  }
  endpoint_picker(state, "A", state.interp_a);
  endpoint_picker(state, "B", state.interp_b);
  int kind = state.interp_kind == Interpolation::Spherical ? 1 : 0;
  if (ImGui::RadioButton("lerp", &kind, 0) | ImGui::RadioButton("slerp", &kind, 1)) state.interp_dirty = true;
  help_marker("Both endpoints are mu of q(z|x) for the two digits. lerp walks the straight line; slerp walks the "
              "arc, keeping the norm where N(0, I) puts its mass in many dimensions.");
  state.interp_kind = kind ? Interpolation::Spherical : Interpolation::Linear;
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  if (ImGui::SliderInt("steps", &state.interp_steps, 2, 24)) state.interp_dirty = true;
  ImGui::SameLine();
  ImGui::Checkbox("animate", &animate);
  ImGui::SameLine();
  if (ImGui::Button("PNG")) export_png(state, "interpolation", state.interp_images, 1, int(state.interp_images.count));

  const float width = ImGui::GetContentRegionAvail().x;
  if (gfx.endpoints.valid()) {
    const float h = ImGui::GetFontSize() * 4;
    gfx.renderer.image(gfx.endpoints, ImVec2(h * 2 + h / 28, h), gfx.colormap);
    ImGui::SameLine();
    ImGui::TextDisabled("A = test #%d (label %d)\nB = test #%d (label %d)", state.interp_a,
                        state.data.test_labels()[size_t(state.interp_a)], state.interp_b,
                        state.data.test_labels()[size_t(state.interp_b)]);
  }
  if (gfx.interpolation.valid() && state.interp_images.count > 0) {
    const float cell = width / float(state.interp_images.count);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    gfx.renderer.image(gfx.interpolation, ImVec2(width, cell * float(gfx.interpolation.height()) / float(gfx.interpolation.width()) * float(state.interp_images.count)), gfx.colormap);
    if (animate) {
      // A frame marches along the strip, once per two seconds.
      int frame = int(std::fmod(state.now * 0.5, 1.0) * double(state.interp_images.count));
      ImGui::GetWindowDrawList()->AddRect(ImVec2(p.x + cell * float(frame), p.y),
                                          ImVec2(p.x + cell * float(frame + 1), p.y + cell), IM_COL32(255, 220, 80, 255), 0, 0, 2);
    }
  }
  ImGui::End();
}

}  // namespace latent::app
