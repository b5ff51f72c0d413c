#pragma once
// One function per view, each over the shared AppState (and the GL textures it draws with).
#include "app_state.h"
#include "gfx.h"

namespace latent::app {

void training_panel(AppState& state);
void loss_curves_panel(AppState& state);
void latent_pad_panel(AppState& state, Gfx& gfx);
void decoded_image_panel(AppState& state, Gfx& gfx);
void interpolation_panel(AppState& state, Gfx& gfx);
void gallery_panel(AppState& state, Gfx& gfx);
void manifold_panel(AppState& state, Gfx& gfx);
void banners_overlay(AppState& state);

// Shared by the panels: a "(?)" marker whose tooltip explains the control before it.
void help_marker(const char* text);
// Uploads whichever image results changed since the last call into gfx's textures (cheap if none).
void sync_textures(const AppState& state, Gfx& gfx);
// A titled separator (ImGui 1.86 has no SeparatorText).
void section(const char* title);
// Writes `image` as a PNG under exports/ and reports it in a banner.
void export_png(AppState& state, const char* name, const ImageBatch& images, int rows, int cols);

}  // namespace latent::app
