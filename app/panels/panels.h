#pragma once
// One function per view, each over the shared AppState (and the GL textures it draws with).
#include "app_state.h"
#include "gfx.h"

namespace latent::app {

void training_panel(AppState& state);
void loss_curves_panel(AppState& state, Gfx& gfx);
// Tabs of the loss window: the bound written out for one digit and the test set, and KL per dim.
void elbo_tab(AppState& state, Gfx& gfx);
void kl_tab(AppState& state);
// The ELBO views' overlay on the pad: the true posterior, q's ellipses, reparameterized samples.
void draw_posterior_overlay(AppState& state, Gfx& gfx, ImDrawList* list, float left, float top, float size);
// A posterior grid as a heatmap (uploaded into `texture` when `generation` changed) with q's 1σ and
// 2σ ellipses, in the screen rectangle [min, max] showing z ∈ [zx0, zx1] × [zy0, zy1].
void draw_posterior(ImDrawList* list, RgbaTexture& texture, int64_t& texture_generation, int64_t generation,
                    const PosteriorGrid& grid, ImVec2 min, ImVec2 max, float zx0, float zx1, float zy0, float zy1);
void latent_pad_panel(AppState& state, Gfx& gfx);
void decoded_image_panel(AppState& state, Gfx& gfx);
void interpolation_panel(AppState& state, Gfx& gfx);
void gallery_panel(AppState& state, Gfx& gfx);
void manifold_panel(AppState& state, Gfx& gfx);
void banners_overlay(AppState& state);
void lessons_panel(AppState& state);

// Shared by the panels: a "(?)" marker whose tooltip explains the control before it, and the
// wrapped tooltip itself for the last item.
void help_marker(const char* text);
// ImGui::Begin for the main views, drawing the window's background only where it overlaps another
// window (elsewhere the framebuffer's clear colour, kPanelBackground, is the background).
bool begin_panel(const char* name, bool* open = nullptr);
// WindowBg of the style, which main() clears the framebuffer to.
constexpr float kPanelBackground[3] = {0.06f, 0.06f, 0.06f};
void hover_explanation(const char* text);
// Uploads whichever image results changed since the last call into gfx's textures (cheap if none).
void sync_textures(const AppState& state, Gfx& gfx);
// A titled separator (ImGui 1.86 has no SeparatorText).
void section(const char* title);
// Writes `image` as a PNG under exports/ and reports it in a banner.
void export_png(AppState& state, const char* name, const ImageBatch& images, int rows, int cols);

}  // namespace latent::app
