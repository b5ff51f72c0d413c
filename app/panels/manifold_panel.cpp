// The decoded manifold: a K × K grid over the pad's two latent dims (the others held at z).
#include "panels/panels.h"

namespace latent::app {

void manifold_panel(AppState& state, Gfx& gfx) {
  ImGui::SetNextWindowPos(ImVec2(1010, 660), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(590, 340), ImGuiCond_FirstUseEver);
  if (!begin_panel("Manifold")) return ImGui::End();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
  if (ImGui::SliderInt("K", &state.options.grid, 2, 40)) state.grid_dirty = true;
  help_marker("decode(z) on a K x K grid with z_x, z_y in [-extent, extent] (the pad's extent).");
  ImGui::SameLine();
  if (ImGui::Button("PNG")) export_png(state, "manifold", state.grid_images, state.grid_k_shown, state.grid_k_shown);
  ImGui::SameLine();
  ImGui::TextDisabled("z%d across, z%d up", state.pad_dim_x, state.pad_dim_y);
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float side = std::max(32.0f, std::min(avail.x, avail.y));
  if (gfx.grid.valid()) gfx.renderer.image(gfx.grid, ImVec2(side, side), gfx.colormap);
  else ImGui::TextDisabled("decoding...");
  ImGui::End();
}

}  // namespace latent::app
