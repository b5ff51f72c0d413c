// Reconstructions of a fixed test batch (originals over reconstructions) and samples from the prior.
#include "panels/panels.h"

namespace latent::app {

void gallery_panel(AppState& state, Gfx& gfx) {
  ImGui::SetNextWindowPos(ImVec2(1010, 330), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(590, 330), ImGuiCond_FirstUseEver);
  if (!ImGui::Begin("Reconstructions and samples")) return ImGui::End();
  const float width = ImGui::GetContentRegionAvail().x;
  ImGui::TextDisabled("test digits (top) and their reconstructions decode(mu(x))");
  help_marker("The reconstruction term E_q[log p(x|z)] rewards these for matching the originals.");
  if (gfx.gallery.valid())
    gfx.renderer.image(gfx.gallery, ImVec2(width, width * float(gfx.gallery.height()) / float(gfx.gallery.width())), gfx.colormap);
  ImGui::TextDisabled("samples: z ~ p(z) = N(0, I), decoded");
  ImGui::SameLine();
  if (ImGui::SmallButton("resample (G)")) {
    ++state.sample_seed;
    state.gallery_dirty = true;
  }
  ImGui::SameLine();
  if (ImGui::SmallButton("PNG")) export_png(state, "samples", state.samples, 4, 8);
  if (gfx.samples.valid()) {
    const float h = ImGui::GetContentRegionAvail().y;
    const float aspect = float(gfx.samples.width()) / float(gfx.samples.height());
    const float w = std::min(width, h * aspect);
    gfx.renderer.image(gfx.samples, ImVec2(w, w / aspect), gfx.colormap);
  }
  ImGui::End();
}

}  // namespace latent::app
