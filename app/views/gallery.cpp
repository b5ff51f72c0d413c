// Reconstructions of a fixed test batch (originals over reconstructions) and samples from the prior.
#include <algorithm>
#include <string>

#include "views/view.h"

namespace latent::app {

class GalleryView final : public View {
 public:
  void draw(AppState& state, Gfx& gfx, bool* open) override;

 private:
  static void pseudo_inputs(AppState& state, Gfx& gfx, float width);
};

// The VampPrior's pseudo-inputs u_k: the images whose posteriors q(z|u_k) make up p(z). They start
// as training images and are trained with the model.
void GalleryView::pseudo_inputs(AppState& state, Gfx& gfx, float width) {
  const ImageBatch& u = state.pseudo_images;
  if (state.prior() != "vamp" || u.count == 0) return;
  if (gfx.pseudo_generation != state.scatter_generation) {
    gfx.pseudo_generation = state.scatter_generation;
    gfx.pseudo.upload_tiled(u, 1, int(u.count));
  }
  ImGui::TextDisabled("VampPrior pseudo-inputs u_k (the first %lld)", (long long)u.count);
  help_marker("p(z) = (1/K) sum_k q(z | u_k): a mixture of the encoder's posteriors of K learned images. They start "
              "as training images; training moves them to where the prior should put its mass. The pad marks "
              "their means with triangles.");
  ImGui::SameLine();
  if (ImGui::SmallButton("PNG##pseudo")) export_png(state, gfx, "pseudo-inputs", u, 1, int(u.count));
  if (!gfx.pseudo.valid()) return;
  const float aspect = float(gfx.pseudo.width()) / float(gfx.pseudo.height());
  gfx.renderer.image(gfx.pseudo, ImVec2(width, width / aspect), gfx.colormap);
}

void GalleryView::draw(AppState& state, Gfx& gfx, bool* open) {
  if (!begin_panel("Reconstructions and samples", open)) return ImGui::End();
  const float width = ImGui::GetContentRegionAvail().x;
  ImGui::TextDisabled("test images (top) and their reconstructions decode(mu(x))");
  help_marker("The reconstruction term E_q[log p(x|z)] rewards these for matching the originals.");
  same_line_if_fits(button_width("PNG"));  // below the caption when a wide font leaves no room
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
  const std::string prior = state.prior();
  const char* prior_name = prior == "normal" ? "N(0, I)" : prior == "mog" ? "the learned mixture" : "the VampPrior";
  if (state.samples_class_rows > 0) {
    ImGui::TextDisabled("samples: %d z ~ p(z) = %s across, a class down (from %s)", AppState::kSampleColumns, prior_name,
                        state.data.class_name(state.samples_first_class).c_str());
    help_marker("A conditional VAE: each column is one z decoded under each class y. Down a column the style stays; "
                "the class changes the content. The class picker (Decoded image) sets the first row.");
  } else {
    ImGui::TextDisabled("samples: z ~ p(z) = %s, decoded", prior_name);
  }
  same_line_if_fits(button_width("resample (G)"));
  if (ImGui::SmallButton("resample (G)")) {
    ++state.sample_seed;
    state.gallery_dirty = true;
  }
  same_line_if_fits(button_width("PNG"));
  const int count = int(state.samples.count);
  if (ImGui::SmallButton("PNG")) export_png(state, gfx, "samples", state.samples, gfx.samples_rows, count / std::max(1, gfx.samples_rows));
  if (state.samples_class_rows > 0 && count % state.samples_class_rows == 0 && gfx.samples_rows != state.samples_class_rows) {
    // A class × sample grid keeps its rows: one per class.
    gfx.samples_rows = state.samples_class_rows;
    gfx.samples.upload_tiled(state.samples, gfx.samples_rows, count / gfx.samples_rows);
  }
  // Room kept below for the VampPrior's strip of pseudo-inputs (a line of text and one row).
  const bool pseudo = state.prior() == "vamp" && state.pseudo_images.count > 0;
  const float reserve = pseudo ? width / float(state.pseudo_images.count) + ImGui::GetFrameHeightWithSpacing() * 1.2f : 0;
  if (gfx.samples.valid() && count > 0 && state.samples_class_rows > 0) {
    const float h = std::max(8.0f, ImGui::GetContentRegionAvail().y - reserve);
    const float aspect = float(gfx.samples.width()) / float(gfx.samples.height());
    const float w = std::min(width, h * aspect);
    gfx.renderer.image(gfx.samples, ImVec2(w, w / aspect), gfx.colormap);
  } else if (gfx.samples.valid() && count > 0) {
    // The grid (1 x 32, 2 x 16, 4 x 8 ...) with the largest images that fit what is left of the window.
    const float h = std::max(8.0f, ImGui::GetContentRegionAvail().y - reserve);
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
  pseudo_inputs(state, gfx, width);
  ImGui::End();
}

std::unique_ptr<View> make_gallery_view() { return make_view<GalleryView>(); }

}  // namespace latent::app
