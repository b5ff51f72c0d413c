// Reconstructions of a fixed test batch (originals over reconstructions) and samples from the prior.
#include <algorithm>

#include "views/view.h"

namespace latent::app {

class GalleryView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;
};

void GalleryView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Reconstructions and samples", open)) return ImGui::End();
  const float width = ImGui::GetContentRegionAvail().x;
  ImGui::TextDisabled("test images (top) and their reconstructions decode(mu(x))");
  help_marker("The reconstruction term E_q[log p(x|z)] rewards these for matching the originals.");
  ImGui::SameLine();
  if (ImGui::SmallButton("PNG##recon"))
    export_png(state, gfx, "reconstructions", state.originals_over_reconstructions(), 2, int(state.originals.count));
  if (gfx.gallery.valid() && state.originals.count > 0) {
    const ImVec2 p = ImGui::GetCursorScreenPos();
    gfx.renderer.image(gfx.gallery, ImVec2(width, width * float(gfx.gallery.height()) / float(gfx.gallery.width())), gfx.colormap);
    // Click a digit to make it the interpolation's A (left button) or B (right button).
    if (ImGui::IsItemHovered()) {
      const int column = std::clamp(int((ImGui::GetIO().MousePos.x - p.x) / width * float(state.originals.count)), 0,
                                    int(state.originals.count) - 1);
      ImGui::SetTooltip("test #%d: left click = interpolation A, right click = B", column);
      if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) state.interp_a = column, state.interp_dirty = true;
      if (ImGui::IsMouseClicked(ImGuiMouseButton_Right)) state.interp_b = column, state.interp_dirty = true;
    }
  }
  ImGui::TextDisabled("samples: z ~ p(z) = N(0, I), decoded");
  ImGui::SameLine();
  if (ImGui::SmallButton("resample (G)")) {
    ++state.sample_seed;
    state.gallery_dirty = true;
  }
  ImGui::SameLine();
  const int count = int(state.samples.count);
  if (ImGui::SmallButton("PNG")) export_png(state, gfx, "samples", state.samples, gfx.samples_rows, count / std::max(1, gfx.samples_rows));
  if (gfx.samples.valid() && count > 0) {
    // The grid (1 x 32, 2 x 16, 4 x 8 ...) with the largest images that fit what is left of the window.
    const float h = ImGui::GetContentRegionAvail().y;
    const auto side_for = [&](int rows) { return std::min(width / float(count / rows), h / float(rows)); };
    int best = gfx.samples_rows;
    float best_side = count % best == 0 ? side_for(best) : 0;
    for (int rows = 1; rows <= count; rows *= 2)
      if (count % rows == 0 && side_for(rows) > best_side * 1.05f) best = rows, best_side = side_for(rows);  // a clear gain only
    if (best != gfx.samples_rows) {
      gfx.samples_rows = best;
      gfx.samples.upload_tiled(state.samples, best, count / best);
    }
    const float aspect = float(gfx.samples.width()) / float(gfx.samples.height());
    const float w = std::min(width, h * aspect);
    gfx.renderer.image(gfx.samples, ImVec2(w, w / aspect), gfx.colormap);
  }
  ImGui::End();
}

std::unique_ptr<View> make_gallery_view() { return make_view<GalleryView>(); }

}  // namespace latent::app
