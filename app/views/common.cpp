#include <imgui_internal.h>

#include <algorithm>
#include <filesystem>

#include "latent/error.h"
#include "latent/image_io.h"
#include "ui/colormap.h"
#include "ui/export_image.h"
#include "ui/plot_math.h"
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

namespace {
ImFont* g_big_font = nullptr;
}  // namespace

ImFont* big_font() { return g_big_font ? g_big_font : ImGui::GetFont(); }
void set_big_font(ImFont* font) { g_big_font = font; }

const ImWchar* font_glyph_ranges() {
  static const ImWchar ranges[] = {0x0020, 0x00FF, 0x2016, 0x2016, 0x2212, 0x2212, 0x2248, 0x2248, 0x2264, 0x2265, 0};
  return ranges;
}

void help_marker(const char* text) {
  same_line_if_fits(ImGui::CalcTextSize("(?)").x);
  ImGui::TextDisabled("(?)");
  hover_explanation(text);
}

bool class_picker(AppState& state, const char* label) {
  const int classes = state.classes();
  if (classes == 0) return false;
  int chosen = std::clamp(state.condition_class, 0, classes - 1);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
  bool changed = false;
  if (ImGui::BeginCombo(label, state.data.class_name(chosen).c_str())) {
    for (int c = 0; c < classes; ++c) {
      const bool selected = c == chosen;
      if (ImGui::Selectable(state.data.class_name(c).c_str(), selected)) chosen = c, changed = true;
      if (selected) ImGui::SetItemDefaultFocus();
    }
    ImGui::EndCombo();
  }
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("The class y this conditional model decodes under: p(x|z, y). The pad's z, the manifold, the "
                      "interpolation's path and the samples follow it.");
  if (changed) state.set_condition_class(chosen);
  return changed;
}

void sync_textures(const AppState& state, Gfx& gfx) {
  if (gfx.decoded_generation != state.decoded_generation && state.decoded.count == 1) {
    gfx.decoded.upload(state.decoded.pixels.data(), state.decoded.width, state.decoded.height, state.decoded.channels);
    if (state.every_class.count > 0) gfx.every_class.upload_tiled(state.every_class, 1, int(state.every_class.count));
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
    if (state.samples.count > 0 && state.samples.count % gfx.samples_rows == 0)
      gfx.samples.upload_tiled(state.samples, gfx.samples_rows, int(state.samples.count) / gfx.samples_rows);
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
                     state.interp_images.width, state.interp_images.height, state.interp_images.channels);
    gfx.morph_generation = state.interp_generation;
    gfx.morph_frame = frame;
  }
  for (ImageTexture* t : {&gfx.morph, &gfx.decoded, &gfx.every_class, &gfx.interpolation, &gfx.endpoints, &gfx.gallery,
                          &gfx.samples, &gfx.grid, &gfx.reparam})
    t->set_smooth(gfx.smooth);
}

void same_line_if_fits(float width) {
  const ImGuiWindow* window = ImGui::GetCurrentWindow();
  float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
  if (window->DC.TextWrapPos > 0) right = std::min(right, window->Pos.x - window->Scroll.x + window->DC.TextWrapPos);
  const float next = ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x;
  if (next + width <= right) ImGui::SameLine();
}

float button_width(const char* label) {
  return ImGui::CalcTextSize(label, nullptr, true).x + 2 * ImGui::GetStyle().FramePadding.x;
}

float checkbox_width(const char* label) {
  return ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize(label, nullptr, true).x;
}

void section(const char* title) {
  ImGui::Spacing();
  ImGui::TextColored(ImVec4(0.55f, 0.75f, 1.0f, 1.0f), "%s", title);
  ImGui::Separator();
}

float density_colour_bar_height(float length, const char* caption, bool hole) {
  const float font = ImGui::GetFontSize(), pad = font * 0.3f;
  return ImGui::CalcTextSize(caption).y + 3 * pad + length + (hole ? font + pad : 0);
}

namespace {

// The bar's tick labels and its backing's width, for a bar `length` pixels long.
struct BarLayout {
  std::vector<ui::BarTick> ticks;
  std::vector<std::string> labels;
  float width = 0;  // the backing's, padding included
};

// The backing's width around `caption` and tick labels up to `label_width` wide ("hole" included).
float backing_width(const char* caption, float label_width) {
  const float font = ImGui::GetFontSize(), pad = font * 0.3f;
  const float bar_w = std::max(6.0f, font * 0.55f);
  return std::max(ImGui::CalcTextSize(caption).x, std::max(label_width, ImGui::CalcTextSize("hole").x) + pad + bar_w) + 2 * pad;
}

BarLayout bar_layout(double peak, float length, const char* caption) {
  const float font = ImGui::GetFontSize();
  BarLayout b;
  b.ticks = ui::sqrt_bar_ticks(peak, double(font * 1.05f / length));
  float label_w = 0;
  for (const ui::BarTick& t : b.ticks) {
    b.labels.push_back(ui::format_tick(t.value));
    label_w = std::max(label_w, ImGui::CalcTextSize(b.labels.back().c_str()).x);
  }
  b.width = backing_width(caption, label_w);
  return b;
}

}  // namespace

float density_colour_bar_room(const char* caption) { return backing_width(caption, ImGui::CalcTextSize("0.0000").x); }

void density_colour_bar(ImDrawList* dl, ImVec2 top_right, float length, double peak, const char* caption, bool hole) {
  if (!(peak > 0) || !std::isfinite(peak)) return;
  const float font = ImGui::GetFontSize(), pad = font * 0.3f;
  const float bar_w = std::max(6.0f, font * 0.55f);
  const float caption_h = ImGui::CalcTextSize(caption).y + pad;
  const float bar_h = length;
  if (bar_h < font * 2) return;  // too small to read: the caption and the tooltip say enough
  const BarLayout layout = bar_layout(peak, length, caption);
  const std::vector<ui::BarTick>& ticks = layout.ticks;
  const std::vector<std::string>& labels = layout.labels;
  const float caption_w = ImGui::CalcTextSize(caption).x;
  const ImVec2 box_min(top_right.x - layout.width, top_right.y),
      box_max(top_right.x, top_right.y + density_colour_bar_height(length, caption, hole));
  // Its own clip rectangle: the bar may stand beside the heatmap it explains, outside its clip.
  dl->PushClipRect(box_min, box_max, false);
  dl->AddRectFilled(box_min, box_max, IM_COL32(10, 10, 14, 190), 3.0f);
  const ImU32 text = IM_COL32(230, 230, 230, 235);
  dl->AddText(ImVec2(top_right.x - pad - caption_w, top_right.y + pad), text, caption);
  const float x1 = top_right.x - pad, x0 = x1 - bar_w, y_top = top_right.y + pad + caption_h, y_bottom = y_top + bar_h;
  constexpr int kSteps = 48;
  for (int i = 0; i < kSteps; ++i) {
    const float lo = float(i) / kSteps, hi = float(i + 1) / kSteps;
    const auto c = ui::colormap(ui::Colormap::Magma, (lo + hi) / 2);
    dl->AddRectFilled(ImVec2(x0, y_bottom - hi * bar_h), ImVec2(x1, y_bottom - lo * bar_h + 0.5f),
                      IM_COL32(int(c[0] * 255), int(c[1] * 255), int(c[2] * 255), 255));
  }
  dl->AddRect(ImVec2(x0, y_top), ImVec2(x1, y_bottom), IM_COL32(200, 200, 200, 120));
  for (size_t i = 0; i < ticks.size(); ++i) {
    const float y = y_bottom - float(ticks[i].position) * bar_h;
    dl->AddLine(ImVec2(x0 - pad * 0.7f, y), ImVec2(x0, y), text);
    const ImVec2 size = ImGui::CalcTextSize(labels[i].c_str());
    dl->AddText(ImVec2(x0 - pad - size.x, std::clamp(y - size.y / 2, y_top - size.y / 2, y_bottom - size.y / 2)), text, labels[i].c_str());
  }
  if (hole) {
    const float y = y_bottom + pad;
    dl->AddRectFilled(ImVec2(x0, y + 2), ImVec2(x1, y + font - 2), IM_COL32(255, 60, 60, 200));
    const char* what = "hole";
    dl->AddText(ImVec2(x0 - pad - ImGui::CalcTextSize(what).x, y), text, what);
  }
  dl->PopClipRect();
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
  // Where the banners and their close buttons were last frame: with the mouse over a banner's text
  // the stack fades and lets the mouse through, so that the controls beneath stay in reach (a
  // scene's title stays up for half a minute, often over a view's toolbar); its "x" still closes it.
  static ImRect last_window, last_buttons;
  if (state.banners.empty()) {
    last_window = last_buttons = ImRect();
    return;
  }
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  const bool see_through = last_window.Contains(mouse) && !last_buttons.Contains(mouse);
  // Nothing expires under the mouse: a banner being read stays until 2 s after the mouse leaves.
  if (last_window.Contains(mouse))
    for (Banner& b : state.banners)
      if (b.expires > 0) b.expires = std::max(b.expires, state.now + 2.0);
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(ImVec2(vp->WorkPos.x + vp->WorkSize.x / 2, vp->WorkPos.y + 8), ImGuiCond_Always, ImVec2(0.5f, 0));
  ImGui::SetNextWindowBgAlpha(see_through ? 0.12f : 0.92f);
  ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings |
                           ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav;
  if (see_through) flags |= ImGuiWindowFlags_NoMouseInputs;
  ImGui::PushStyleVar(ImGuiStyleVar_Alpha, see_through ? 0.3f : 1.0f);
  ImGui::Begin("##banners", nullptr, flags);
  // Above every window, whichever was clicked last (a click raises a window over the others).
  ImGui::BringWindowToDisplayFront(ImGui::GetCurrentWindow());
  // The close buttons in one column at the right, so that the rest of the stack is text.
  const float wrap = ImGui::GetFontSize() * 50;
  float text_width = 0;
  for (const Banner& b : state.banners) text_width = std::max(text_width, ImGui::CalcTextSize(b.text.c_str(), nullptr, false, wrap).x);
  const float column = ImGui::GetCursorPosX() + text_width + ImGui::GetStyle().ItemSpacing.x * 2;
  ImRect buttons;
  for (size_t i = 0; i < state.banners.size(); ++i) {
    const Banner& b = state.banners[i];
    ImGui::PushID(int(i));
    ImGui::PushStyleColor(ImGuiCol_Text, b.error ? ImVec4(1.0f, 0.45f, 0.4f, 1) : ImVec4(0.6f, 0.95f, 0.6f, 1));
    ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + wrap);
    ImGui::TextUnformatted(b.text.c_str());
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
    ImGui::SameLine(column);
    const bool close = ImGui::SmallButton("x");
    if (i == 0) buttons = ImRect(ImGui::GetItemRectMin(), ImGui::GetItemRectMax());
    else buttons.Add(ImRect(ImGui::GetItemRectMin(), ImGui::GetItemRectMax()));
    ImGui::PopID();
    if (close) {
      state.banners.erase(state.banners.begin() + long(i));
      break;
    }
  }
  // The column's full height between the buttons, padded a little, so that moving between two
  // of them does not flicker.
  buttons.Expand(ImGui::GetStyle().ItemSpacing.y);
  last_buttons = buttons;
  last_window = ImGui::GetCurrentWindow()->Rect();
  ImGui::End();
  ImGui::PopStyleVar();
}

}  // namespace latent::app
