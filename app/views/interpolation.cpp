// Interpolation between two encoded test digits: the N-step strip (lerp or slerp), animated, with
// the path drawn on the latent pad.
#include <algorithm>
#include <cmath>

#include "latent/data_sources.h"
#include "views/view.h"

namespace latent::app {
namespace {

void endpoint_picker(AppState& state, const char* name, int& index) {
  ImGui::PushID(name);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  if (ImGui::InputInt(name, &index)) state.interp_dirty = true;
  index = std::clamp(index, 0, int(state.data.test_size()) - 1);  // read below, this frame
  const auto& labels = state.data.test_labels();
  ImGui::SameLine();
  ImGui::TextDisabled("%s", state.data.class_name(labels[size_t(index)]).c_str());
  if (!state.data.labeled()) {
    ImGui::PopID();
    return;
  }
  ImGui::SameLine();
  ImGui::TextDisabled("| next of class");
  // Each click on a class steps to the next test image of it (right click: the previous one), so
  // that a teacher can look through the 7s, not only at the first one.
  auto step = [&](int label, int direction) {
    const int i = step_to_label(labels, index, label, direction);
    if (i >= 0 && i != index) index = i, state.interp_dirty = true;
    else if (i < 0) state.notify("no test image is of class " + state.data.class_name(label), true, 4);
  };
  if (state.data.classes() <= 20) {
    for (int label = 0; label < state.data.classes(); ++label) {
      ImGui::SameLine(0, 2);
      ImGui::PushID(label);
      const bool next = ImGui::SmallButton(std::to_string(label).c_str());
      const bool previous = ImGui::IsItemClicked(ImGuiMouseButton_Right);
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("%s: left click the next test image of this class, right click the previous one",
                          state.data.class_name(label).c_str());
      if (next || previous) step(label, next ? 1 : -1);
      ImGui::PopID();
    }
  } else {
    // Too many classes for a button each: a class number, its name, and the two steps.
    int& label = state.interp_class;
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5);
    ImGui::InputInt("##class", &label);
    label = std::clamp(label, 0, state.data.classes() - 1);
    ImGui::SameLine();
    if (ImGui::SmallButton("<")) step(label, -1);
    ImGui::SameLine(0, 2);
    if (ImGui::SmallButton(">")) step(label, 1);
    ImGui::SameLine();
    ImGui::TextDisabled("%s", state.data.class_name(label).c_str());
  }
  ImGui::PopID();
}

}  // namespace

class InterpolationView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;
};

void InterpolationView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Interpolation", open)) return ImGui::End();
  if (state.data.empty()) {
    ImGui::TextDisabled("no dataset");
    return ImGui::End();
  }
  endpoint_picker(state, "A", state.interp_a);
  endpoint_picker(state, "B", state.interp_b);
  int kind = state.interp_kind == Interpolation::Spherical ? 1 : 0;
  if (ImGui::RadioButton("lerp", &kind, 0) | ImGui::RadioButton("slerp", &kind, 1)) state.interp_dirty = true;
  help_marker("Both endpoints are mu of q(z|x) for the two images. lerp walks the straight line; slerp walks the "
              "arc, keeping the norm where N(0, I) puts its mass in many dimensions.");
  state.interp_kind = kind ? Interpolation::Spherical : Interpolation::Linear;
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  if (ImGui::SliderInt("steps", &state.interp_steps, 2, 24)) state.interp_dirty = true;
  ImGui::SameLine();
  ImGui::Checkbox("morph", &state.interp_morph);
  help_marker("Plays the path as an animation, large, in the Decoded image view (and marks the frame shown here).");
  ImGui::SameLine();
  if (ImGui::Button("PNG")) export_png(state, gfx, "interpolation", state.interp_images, 1, int(state.interp_images.count));
  if (state.conditional()) {
    // Within a class: A and B are encoded under their own classes, the path decoded under this one.
    if (class_picker(state, "path decoded under")) state.interp_dirty = true;
    help_marker("A conditional VAE: each endpoint is encoded with its own class, q(z|x, y), and the whole path is decoded "
                "under the class chosen here, so it walks between two styles of one class. Pick A and B of that class "
                "to interpolate within it.");
  }

  const float width = ImGui::GetContentRegionAvail().x;
  if (gfx.endpoints.valid()) {
    const float h = ImGui::GetFontSize() * 4;
    gfx.renderer.image(gfx.endpoints, ImVec2(h * 2 + h / 28, h), gfx.colormap);
    ImGui::SameLine();
    const auto& labels = state.data.test_labels();
    ImGui::TextDisabled("A = test #%d (%s)\nB = test #%d (%s)", state.interp_a,
                        state.data.class_name(labels[size_t(state.interp_a)]).c_str(), state.interp_b,
                        state.data.class_name(labels[size_t(state.interp_b)]).c_str());
  }
  if (gfx.interpolation.valid() && state.interp_images.count > 0) {
    const float cell = width / float(state.interp_images.count);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    gfx.renderer.image(gfx.interpolation, ImVec2(width, cell * float(gfx.interpolation.height()) / float(gfx.interpolation.width()) * float(state.interp_images.count)), gfx.colormap);
    if (state.interp_morph) {
      const int frame = state.morph_frame();
      ImGui::GetWindowDrawList()->AddRect(ImVec2(p.x + cell * float(frame), p.y),
                                          ImVec2(p.x + cell * float(frame + 1), p.y + cell), IM_COL32(255, 220, 80, 255), 0, 0, 2);
    }
  }
  ImGui::End();
}

std::unique_ptr<View> make_interpolation_view() { return make_view<InterpolationView>(); }

}  // namespace latent::app
