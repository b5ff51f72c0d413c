// The decoded image of the pad's point, large, drawn through our shader with a colormap.
#include <string>

#include "views/view.h"

namespace latent::app {

class DecodedImageView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;
};

void DecodedImageView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Decoded image", open)) return ImGui::End();
  sync_textures(state, gfx);  // the pad may have moved the point earlier in this frame
  // The colormap maps gray levels; colour images are shown as they are.
  const bool rgb = state.data.channels() == 3;
  int map = int(gfx.colormap);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  const char* maps[] = {"gray", "viridis", "magma"};
  ImGui::BeginDisabled(rgb);
  if (ImGui::Combo("colormap", &map, maps, ui::kColormapCount)) gfx.colormap = ui::Colormap(map);
  ImGui::EndDisabled();
  if (rgb && ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) ImGui::SetTooltip("colormaps apply to grayscale images only");
  ImGui::SameLine();
  ImGui::Checkbox("smooth", &gfx.smooth);
  help_marker(("Nearest shows the " + std::to_string(state.data.width()) + "x" + std::to_string(state.data.height()) +
               " pixels as they are; smooth interpolates between them.")
                  .c_str());
  ImGui::SameLine();
  if (ImGui::Button("PNG")) export_png(state, gfx, "decoded", state.decoded, 1, 1);
  class_picker(state);
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  // As large as fits, at the images' aspect ratio, leaving a conditional model's strip of every
  // class (one row of cells and a line of text) below.
  const float aspect = state.data.height() > 0 ? float(state.data.width()) / float(state.data.height()) : 1.0f;
  const int strip = int(state.every_class.count);
  const float strip_h = strip > 0 ? avail.x / float(strip) / aspect + ImGui::GetFrameHeightWithSpacing() : 0.0f;
  const float h = std::max(32.0f, std::min(avail.x / aspect, avail.y - ImGui::GetFontSize() * 1.5f - strip_h));
  const ImVec2 size(h * aspect, h);
  // The interpolation's morph, when it plays, else the pad's point.
  const bool morph = state.interp_morph && gfx.morph.valid() && state.interp_images.count > 0;
  if (morph) gfx.renderer.image(gfx.morph, size, gfx.colormap);
  else if (gfx.decoded.valid()) gfx.renderer.image(gfx.decoded, size, gfx.colormap);
  else ImGui::TextDisabled("waiting for the model");
  if (morph) {
    ImGui::TextDisabled("morph A -> B: image %d of %lld along the path (drag the pad to stop)", state.morph_frame() + 1,
                        (long long)state.interp_images.count);
  } else if (strip > 0) {
    ImGui::TextDisabled("E[x|z, y] under p(x|z, y) for y = %s", state.data.class_name(state.condition_labels().at(0)).c_str());
  } else {
    ImGui::TextDisabled("E[x|z] under p(x|z), decoded from the pad's z");
  }
  if (strip > 0 && gfx.every_class.valid()) {
    // One z, every class: z holds what the classes share (slant, thickness, size), y what differs.
    ImGui::TextDisabled("one z, every class (click one to pick it)");
    help_marker("The pad's z decoded under each class y. A conditional VAE's encoder sees the class, so z need not "
                "carry it: what stays the same along this row is the style z encodes, what changes is the class.");
    const float width = ImGui::GetContentRegionAvail().x, cell = width / float(strip);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    gfx.renderer.image(gfx.every_class, ImVec2(width, cell / aspect), gfx.colormap);
    const int picked = std::clamp(state.condition_class, 0, strip - 1);
    if (state.condition_class < strip)
      ImGui::GetWindowDrawList()->AddRect(ImVec2(p.x + cell * float(picked), p.y), ImVec2(p.x + cell * float(picked + 1), p.y + cell / aspect),
                                          IM_COL32(255, 220, 80, 255), 0, 0, 2);
    if (ImGui::IsItemHovered()) {
      const int column = std::clamp(int((ImGui::GetIO().MousePos.x - p.x) / cell), 0, strip - 1);
      ImGui::SetTooltip("%s: click to decode the pad under this class", state.data.class_name(column).c_str());
      if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) state.set_condition_class(column);
    }
  }
  ImGui::End();
}

std::unique_ptr<View> make_decoded_image_view() { return make_view<DecodedImageView>(); }

}  // namespace latent::app
