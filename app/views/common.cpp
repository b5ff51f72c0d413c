#include <imgui_internal.h>

#include <filesystem>

#include "latent/error.h"
#include "latent/image_io.h"
#include "ui/export_image.h"
#include "views/view.h"

namespace latent::app {

bool begin_panel(const char* name, bool* open) {
  // The window's background is the framebuffer's clear colour (kPanelBackground), not a quad of its
  // own: under a software rasteriser (Mesa llvmpipe) the backgrounds of the tiled windows were a
  // second full-screen layer of shaded pixels, about half of each frame's time (all views, Xvfb
  // 1600x1000: p50 38 -> 14-21 ms). A window that overlaps another one (a user dragged it there)
  // gets its opaque quad back, so nothing shows through.
  bool overlaps = false;
  if (ImGuiWindow* self = ImGui::FindWindowByName(name)) {
    const ImRect rect = self->Rect();
    for (ImGuiWindow* other : GImGui->Windows)
      if (other != self && other->WasActive && !other->Hidden &&
          !(other->Flags & (ImGuiWindowFlags_ChildWindow | ImGuiWindowFlags_Tooltip | ImGuiWindowFlags_Popup |
                            ImGuiWindowFlags_NoBackground)) &&
          other->Rect().Overlaps(rect))
        overlaps = true;
  }
  ImGui::SetNextWindowBgAlpha(overlaps ? 1.0f : 0.0f);
  return ImGui::Begin(name, open);
}

const char* const kNegativeNatsHelp =
    "With a Gaussian p(x|z) the reconstruction term is a density, not a probability: -log p(x|z) = "
    "||x - mu||^2 / (2 sigma^2) + D log(sigma sqrt(2 pi)). A density can exceed 1 where sigma is small, so its "
    "negative log, and the loss, can be below zero. Only differences between such numbers mean something; they "
    "cannot be compared with a Bernoulli model's nats.";

void hover_explanation(const char* text) {
  if (!ImGui::IsItemHovered()) return;
  ImGui::BeginTooltip();
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 28.0f);
  ImGui::TextUnformatted(text);
  ImGui::PopTextWrapPos();
  ImGui::EndTooltip();
}

void help_marker(const char* text) {
  ImGui::SameLine();
  ImGui::TextDisabled("(?)");
  hover_explanation(text);
}

void sync_textures(const AppState& state, Gfx& gfx) {
  if (gfx.decoded_generation != state.decoded_generation && state.decoded.count == 1) {
    gfx.decoded.upload(state.decoded.pixels.data(), state.decoded.width, state.decoded.height);
    gfx.decoded_generation = state.decoded_generation;
  }
  // The decoded image first and always; the other views one per frame (Gfx::take_refresh_turn).
  if (gfx.interp_generation != state.interp_generation && state.interp_images.count > 0 && gfx.take_refresh_turn()) {
    gfx.interpolation.upload_tiled(state.interp_images, 1, int(state.interp_images.count));
    gfx.endpoints.upload_tiled(state.interp_endpoints, 1, 2);
    gfx.interp_generation = state.interp_generation;
  }
  if (gfx.gallery_generation != state.gallery_generation && gfx.take_refresh_turn()) {
    gfx.gallery_generation = state.gallery_generation;
    if (ImageBatch both = state.originals_over_reconstructions(); both.count > 0)
      gfx.gallery.upload_tiled(both, 2, int(state.originals.count));
    if (state.samples.count > 0) gfx.samples.upload_tiled(state.samples, 4, 8);
  }
  if (gfx.grid_generation != state.grid_generation && gfx.take_refresh_turn()) {
    gfx.grid_generation = state.grid_generation;
    if (state.grid_images.count > 0) gfx.grid.upload_tiled(state.grid_images, state.grid_k_shown, state.grid_k_shown);
  }
  if (gfx.reparam_generation != state.elbo.reparam_generation && state.elbo.reparam_images.count > 0 &&
      gfx.take_refresh_turn()) {
    gfx.reparam.upload_tiled(state.elbo.reparam_images, 1, int(state.elbo.reparam_images.count));
    gfx.reparam_generation = state.elbo.reparam_generation;
  }
  if (state.interp_morph && state.interp_images.count > 0 &&
      (gfx.morph_generation != state.interp_generation || gfx.morph_frame != state.morph_frame())) {
    const int frame = state.morph_frame();
    gfx.morph.upload(state.interp_images.pixels.data() + size_t(frame) * size_t(state.interp_images.pixels_per_image()),
                     state.interp_images.width, state.interp_images.height);
    gfx.morph_generation = state.interp_generation;
    gfx.morph_frame = frame;
  }
  for (GrayTexture* t : {&gfx.morph, &gfx.decoded, &gfx.interpolation, &gfx.endpoints, &gfx.gallery, &gfx.samples, &gfx.grid, &gfx.reparam})
    t->set_smooth(gfx.smooth);
}

void section(const char* title) {
  ImGui::Spacing();
  ImGui::TextColored(ImVec4(0.55f, 0.75f, 1.0f, 1.0f), "%s", title);
  ImGui::Separator();
}

void export_png(AppState& state, const Gfx& gfx, const char* name, const ImageBatch& images, int rows, int cols) {
  if (images.count == 0) return state.notify("nothing to export yet", true, 4);
  try {
    const std::string file = std::string(name) + "-step" + std::to_string(state.snapshot ? state.snapshot->step : 0) + ".png";
    const std::string path = state.export_path(file);
    ui::RgbImage image = ui::colorize(tile_images(images, rows, cols, 1), gfx.colormap, state.export_scale);
    if (state.export_caption) image = ui::with_caption(image, state.export_caption_text(), kUiFont);
    ui::write_rgb_png(path, image);
    state.notify("exported " + path, false, 8);
  } catch (const std::exception& e) {
    state.notify(std::string("export failed: ") + e.what(), true, 0);
  }
}

void banners_overlay(AppState& state) {
  if (state.banners.empty()) return;
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(ImVec2(vp->WorkPos.x + vp->WorkSize.x / 2, vp->WorkPos.y + 8), ImGuiCond_Always, ImVec2(0.5f, 0));
  ImGui::SetNextWindowBgAlpha(0.92f);
  ImGui::Begin("##banners", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings |
                   ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav);
  // Above every window, whichever was clicked last (a click raises a window over the others).
  ImGui::BringWindowToDisplayFront(ImGui::GetCurrentWindow());
  for (size_t i = 0; i < state.banners.size(); ++i) {
    const Banner& b = state.banners[i];
    ImGui::PushID(int(i));
    ImGui::PushStyleColor(ImGuiCol_Text, b.error ? ImVec4(1.0f, 0.45f, 0.4f, 1) : ImVec4(0.6f, 0.95f, 0.6f, 1));
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 50);
    ImGui::TextUnformatted(b.text.c_str());
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
    ImGui::SameLine();
    if (ImGui::SmallButton("x")) {
      state.banners.erase(state.banners.begin() + long(i));
      ImGui::PopID();
      break;
    }
    ImGui::PopID();
  }
  ImGui::End();
}

}  // namespace latent::app
