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
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  // As large as fits, at the images' aspect ratio.
  const float aspect = state.data.height() > 0 ? float(state.data.width()) / float(state.data.height()) : 1.0f;
  const float h = std::max(32.0f, std::min(avail.x / aspect, avail.y - ImGui::GetFontSize() * 1.5f));
  const ImVec2 size(h * aspect, h);
  // The interpolation's morph, when it plays, else the pad's point.
  const bool morph = state.interp_morph && gfx.morph.valid() && state.interp_images.count > 0;
  if (morph) gfx.renderer.image(gfx.morph, size, gfx.colormap);
  else if (gfx.decoded.valid()) gfx.renderer.image(gfx.decoded, size, gfx.colormap);
  else ImGui::TextDisabled("waiting for the model");
  if (morph) {
    ImGui::TextDisabled("morph A -> B: image %d of %lld along the path (drag the pad to stop)", state.morph_frame() + 1,
                        (long long)state.interp_images.count);
  } else {
    ImGui::TextDisabled("E[x|z] under p(x|z), decoded from the pad's z");
  }
  ImGui::End();
}

std::unique_ptr<View> make_decoded_image_view() { return make_view<DecodedImageView>(); }

}  // namespace latent::app
