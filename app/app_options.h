#pragma once
// The explorer's flags on top of latent-train's (RunOptions), parsed from the command line and from a
// scene (--scene FILE: the scene's flags first, then the command line's, which win).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "latent/options.h"
#include "ui/colormap.h"

namespace latent::app {

enum class PadBackground { Scatter, Manifold, Aggregate };
enum class CurveLayout { Separate, Stacked };
// How frames are drawn: only what changed, everything every frame, or what changed and then
// everything again to count pixels that differ (a test of the damage tracking). Auto is Damaged
// under a software rasteriser (where pixels cost CPU time) and Full on a GPU (ui::redraw_for).
enum class Redraw { Auto, Damaged, Full, Check };

// A recording of the window or of one view (--record, File -> Record).
struct RecordSettings {
  std::string path;        // .gif or .mp4
  std::string view;        // a view's registry name, or "" for the whole window
  double fps = 15;         // 1..50
  double scale = 1;        // of the recorded pixels, 0.1..2
  bool caption = true;     // a strip below each frame: step, epoch, test -ELBO
  double seconds = 0;      // stop after this long (0: when stopped, or when the app closes)
  // Replay the weight timeline instead (--record-timeline): each kept moment from the first step to
  // the last, one frame each at `fps`, taken once the views have caught up with it.
  bool timeline = false;
};

// App flags on top of latent-train's (see parse_app_options).
struct AppOptions {
  RunOptions run;
  bool train = false;
  int frames = 0;  // quit after N frames (0 = run until closed)
  Redraw redraw = Redraw::Auto;
  std::string screenshot, stats, frame_log;
  std::optional<std::pair<float, float>> pad;
  std::optional<std::pair<int, int>> interpolate;
  std::vector<std::string> views;  // --views: names from the view registry, or "all"; empty = the defaults
  std::string tab = "curves";  // the curves window's tab: curves, elbo or kl
  int digit = 0;               // the test digit the ELBO views explain
  std::string ood;             // --ood: a dataset the Outliers view scores against the test set
  // Side by side's B at start: --compare CHECKPOINT, or --compare-beta X (a second run with that β).
  std::string compare;
  double compare_beta = -1;  // -1: none
  double compare_warmup = 0;  // --compare-warmup: that second run's KL warm-up, in epochs
  std::string compare_arch;   // --compare-arch: that second run's architecture ("": the run's own)
  int compare_latent = 0;     // --compare-latent: that second run's latent size (0: the run's own)
  bool sample_eps = false;     // draw the reparameterization's samples as soon as there are weights
  bool present = false;        // --present: start in presentation mode
  std::string scene, scene_title, scene_watch;  // --scene FILE, and what it says it shows
  std::vector<std::string> scene_refused;  // the scene's flags left out, and why (Scene::refused)
  bool model_from_scene = false;  // --model came from the scene: asked about first (load_model_file)
  int lesson = -1;             // --lesson N: the lesson (0-based) shown at start and presented; -1: none given
  int grid = 20;
  ui::Colormap colormap = ui::Colormap::Gray;
  PadBackground pad_background = PadBackground::Scatter;
  CurveLayout curve_layout = CurveLayout::Separate;
  bool log_y = false;
  std::string checkpoint;
  bool watch = false;  // --watch: reload --model's file whenever it changes on disk
  std::string layout;  // ImGui ini file
  // Where closing the app saves the model; empty = <data home>/autosave.ckpt, except in --frames
  // runs, which save only when --autosave is given.
  std::string autosave;
  RecordSettings record;  // --record FILE and its --record-* flags; path "" = none
};
// Throws latent::Error naming the flag, like parse_run_options.
AppOptions parse_app_options(int argc, const char* const* argv);
// The flags alone, as a scene holds them (no --scene): what a scene's save checks before writing.
AppOptions parse_app_flags(const std::vector<std::string>& args);
std::string app_options_help();

}  // namespace latent::app
