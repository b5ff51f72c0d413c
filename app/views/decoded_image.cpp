// The decoded image of the pad's point, large, drawn through our shader with a colormap.
#include "views/view.h"

namespace latent::app {

class DecodedImageView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;
};

void DecodedImageView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Decoded image", open)) return ImGui::End();
  sync_textures(state, gfx);  // the pad may have moved the point earlier in this frame
  int map = int(gfx.colormap);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  const char* maps[] = {"gray", "viridis", "magma"};
  if (ImGui::Combo("colormap", &map, maps, ui::kColormapCount)) gfx.colormap = ui::Colormap(map);
  ImGui::SameLine();
  ImGui::Checkbox("smooth", &gfx.smooth);
  help_marker("Nearest shows the 28x28 pixels as they are; smooth interpolates between them.");
  ImGui::SameLine();
  if (ImGui::Button("PNG")) export_png(state, gfx, "decoded", state.decoded, 1, 1);
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float side = std::max(32.0f, std::min(avail.x, avail.y - ImGui::GetFontSize() * 1.5f));
  // The interpolation's morph, when it plays, else the pad's point.
  const bool morph = state.interp_morph && gfx.morph.valid() && state.interp_images.count > 0;
  if (morph) gfx.renderer.image(gfx.morph, ImVec2(side, side), gfx.colormap);
  else if (gfx.decoded.valid()) gfx.renderer.image(gfx.decoded, ImVec2(side, side), gfx.colormap);
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
