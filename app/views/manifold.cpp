// The decoded manifold: a K × K grid over the pad's two latent dims (the others held at z).
#include "views/view.h"

namespace latent::app {

class ManifoldView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;
};

void ManifoldView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Manifold", open)) return ImGui::End();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
  if (ImGui::SliderInt("K", &state.options.grid, 2, 40)) state.grid_dirty = true;
  help_marker("decode(z) on a K x K grid with z_x, z_y in [-extent, extent] (the pad's extent).");
  ImGui::SameLine();
  if (ImGui::Button("PNG")) export_png(state, gfx, "manifold", state.grid_images, state.grid_k_shown, state.grid_k_shown);
  ImGui::SameLine();
  ImGui::TextDisabled("z%d across, z%d up", state.pad_dim_x, state.pad_dim_y);
  if (state.conditional()) {
    ImGui::SameLine();
    class_picker(state);
  }
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float side = std::max(32.0f, std::min(avail.x, avail.y));
  if (gfx.grid.valid()) gfx.renderer.image(gfx.grid, ImVec2(side, side), gfx.colormap);
  else ImGui::TextDisabled("decoding...");
  ImGui::End();
}

std::unique_ptr<View> make_manifold_view() { return make_view<ManifoldView>(); }

}  // namespace latent::app
