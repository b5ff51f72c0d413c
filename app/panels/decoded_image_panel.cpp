// The decoded image of the pad's point, large, drawn through our shader with a colormap.
#include "panels/panels.h"

namespace latent::app {

void decoded_image_panel(AppState& state, Gfx& gfx) {
  ImGui::SetNextWindowPos(ImVec2(0, 560), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(390, 440), ImGuiCond_FirstUseEver);
  if (!begin_panel("Decoded image")) return ImGui::End();
  sync_textures(state, gfx);  // the pad may have moved the point earlier in this frame
  int map = int(gfx.colormap);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  const char* maps[] = {"gray", "viridis", "magma"};
  if (ImGui::Combo("colormap", &map, maps, ui::kColormapCount)) gfx.colormap = ui::Colormap(map);
  ImGui::SameLine();
  ImGui::Checkbox("smooth", &gfx.smooth);
  help_marker("Nearest shows the 28x28 pixels as they are; smooth interpolates between them.");
  ImGui::SameLine();
  if (ImGui::Button("PNG")) export_png(state, "decoded", state.decoded, 1, 1);
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float side = std::max(32.0f, std::min(avail.x, avail.y - ImGui::GetFontSize() * 1.5f));
  if (gfx.decoded.valid()) gfx.renderer.image(gfx.decoded, ImVec2(side, side), gfx.colormap);
  else ImGui::TextDisabled("waiting for the model");
  ImGui::TextDisabled("E[x|z] under p(x|z), decoded from the pad's z");
  ImGui::End();
}

}  // namespace latent::app
