#pragma once
// A view is one window of the explorer: one file in app/views/ with a class derived from View, and
// one line in registry.cpp (kViews). The registry gives the --views names, the View menu, the
// frame log's columns, which background results are refreshed when the weights change, and the
// default layout; a view owns the state that is its own (what it shows and how), and reads the
// model, the data and the shared results from AppState.
#include <memory>
#include <string>
#include <vector>

#include "app_state.h"
#include "gfx.h"

namespace latent::app {

class View {
 public:
  virtual ~View() = default;
  // Builds the view's window (ImGui::Begin ... End); its close button clears `*open`.
  virtual void draw(AppState& state, Gfx& gfx, bool* open) = 0;
  // A new run began (Reset, another dataset, a loaded checkpoint): what the view kept of the old
  // run's history goes, whether or not the view is showing.
  virtual void restart() {}
  // The view was closed, whatever closed it (its close button, the View menu, presenting): work it
  // started in the background should stop taking the CPU.
  virtual void hidden() {}
  // Flags that bring back what the view holds beyond AppState (Side by side's B) when a scene saved
  // at `scene_path` opens, and the files they name that are to be written beside the scene.
  virtual AppState::SceneExtras scene_flags(const AppState& state, const std::string& scene_path) const { return {}; }
};

// Where a view sits in the default layout: a column of the window (0 left, 1 middle, 2 right) and
// its share of that column's height.
struct LayoutSlot {
  int column = 0;
  float height_share = 1;
};

struct ViewInfo {
  const char* name;   // --views and the frame log's "<name>_ms" column (not "render" or "present": the frame's own)
  const char* title;  // the window's title and its View-menu entry
  const char* key;    // its shortcut in the View menu ("" for none)
  bool open_at_start;
  unsigned recomputes;  // Refresh bits: what new weights refresh for it (AppState::refresh_wanted)
  LayoutSlot slot;
  std::unique_ptr<View> (*make)();
  bool needs_data = true;  // without a dataset loaded, the view says how to load one instead
};

// Every view, in the order their windows are built (the pad before the decoded image, so that a
// drag decodes within the frame).
const std::vector<ViewInfo>& view_registry();
// Which views --views opens: its names, or "all"; none given opens those marked open_at_start.
// Throws Error naming the flag for an unknown name.
std::vector<bool> views_to_open(const std::vector<std::string>& names);

template <class V>
std::unique_ptr<View> make_view() {
  return std::make_unique<V>();
}

// Tabs of the loss window: the bound written out for one digit and the test set, and KL per dim.
struct ElboTabState {
  std::vector<double> xs, elbo_loss, iw_loss;  // the test-set history as the small plot draws it
};
void elbo_tab(AppState& state, Gfx& gfx, ElboTabState& tab);
struct KlTabState {
  std::vector<double> activity;  // Var_x(mu_d) of the encoded test set, per dim
  int64_t activity_generation = -1;
  bool relative = false;  // bars scaled to the tallest one instead of in nats
  double scale_nats = 0;  // the run's absolute scale so far (it only grows until a restart)
};
void kl_tab(AppState& state, KlTabState& tab);
// The ELBO views' overlay on the pad: the true posterior, q's ellipses, reparameterized samples.
// `bar_length`: the heatmap's colour bar, hung at the pad's top from `bar_right` (the pad's right
// edge, or beyond it where the bar stands beside the pad).
void draw_posterior_overlay(AppState& state, Gfx& gfx, ImDrawList* list, float left, float top, float size, float bar_length,
                            float bar_right);
// A posterior grid as a heatmap (uploaded into `texture` when `generation` changed) with q's 1σ and
// 2σ ellipses, in the screen rectangle [min, max] showing z ∈ [zx0, zx1] × [zy0, zy1]. Returns the
// grid's peak density (for its colour bar; 0 when there is no grid).
double draw_posterior(ImDrawList* list, RgbaTexture& texture, int64_t& texture_generation, int64_t generation,
                      const PosteriorGrid& grid, ImVec2 min, ImVec2 max, float zx0, float zx1, float zy0, float zy1);
// The colours of the bound's terms wherever they are written out (the ELBO tab, the bound's view),
// those of their loss curves.
inline const ImVec4 kTermLogPx(0.85f, 0.7f, 1.0f, 1), kTermRecon(0.35f, 0.63f, 1.0f, 1), kTermKl(1.0f, 0.59f, 0.24f, 1);
// The messages: banners drawn above every window, each dismissable.
void banners_overlay(AppState& state);

// Shared by the panels: a "(?)" marker whose tooltip explains the control before it, and the
// wrapped tooltip itself for the last item.
void help_marker(const char* text);
// A conditional model's class picker (a combo of the data's class names), which sets
// state.condition_class; nothing for a plain model. Returns whether the class changed.
bool class_picker(AppState& state, const char* label = "class");
// ImGui::Begin for the main views, drawing the window's background only where it overlaps another
// window (elsewhere the framebuffer's clear colour, kPanelBackground, is the background).
bool begin_panel(const char* name, bool* open = nullptr);
// WindowBg of the style, which main() clears the framebuffer to.
constexpr float kPanelBackground[3] = {0.06f, 0.06f, 0.06f};
void hover_explanation(const char* text);
// Why a Gaussian model's loss can be below zero (shown beside its numbers).
extern const char* const kNegativeNatsHelp;
// Uploads whichever image results changed since the last call into gfx's textures (cheap if none).
void sync_textures(const AppState& state, Gfx& gfx);
// The colour bar of a density heatmap drawn as draw_posterior and the aggregate posterior draw it
// (magma, colour position = sqrt(density / peak)), hanging from `top_right` on a dark backing: above,
// `caption` (the quantity and its units); below it a bar `length` pixels long with labelled ticks from
// 0 to `peak`; and, with `hole`, the swatch of the prior's holes.
void density_colour_bar(ImDrawList* list, ImVec2 top_right, float length, double peak, const char* caption, bool hole = false);
// The height of that, backing included.
float density_colour_bar_height(float length, const char* caption, bool hole = false);
// The width to leave for one beside its heatmap: the backing's with tick labels of up to 6 characters
// (one that needs more reaches a little over the heatmap), the same from frame to frame.
float density_colour_bar_room(const char* caption);
// The captions of the pad's two heatmaps.
constexpr const char* kPosteriorBarCaption = "p(z|x)\nper unit area";
constexpr const char* kAggregateBarCaption = "q(z)\nper unit area";
// Continues the line after the last item when `width` more pixels fit in the window, else starts a
// new one (a row of controls wraps in a narrow window instead of running past its edge). The widths
// of a button and of a checkbox with their label.
void same_line_if_fits(float width);
float button_width(const char* label);
float checkbox_width(const char* label);
// A titled separator (ImGui 1.86 has no SeparatorText).
void section(const char* title);
// Writes the images tiled rows x cols as a PNG in the export folder, as the screen shows them (the
// colormap, the export scale and caption), and says where in a message.
void export_png(AppState& state, const Gfx& gfx, const char* name, const ImageBatch& images, int rows, int cols);
// A font about twice the UI font's size for numbers read from afar (the bound's view); set by main
// whenever it builds the fonts.
ImFont* big_font();
void set_big_font(ImFont* font);
// The glyphs the fonts hold: Latin-1 and the bound's symbols (‖ − ≤ ≥).
const ImWchar* font_glyph_ranges();
// The lessons, and the views each one shows when presented (registry names, the bound and the
// lessons themselves first).
int lesson_count();
// Opens what lesson `lesson` talks about, as its Back and Next buttons do.
void show_lesson(AppState& state, int lesson);
std::vector<std::string> presentation_views(int lesson);
// The UI's font (Debian's fonts-dejavu-core), also used for export captions.
constexpr const char* kUiFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

}  // namespace latent::app
