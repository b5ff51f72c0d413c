// The explorer's flags on top of latent-train's, and a scene's flags merged with the command line's.
#include "app_options.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "latent/error.h"
#include "latent/torchscript.h"
#include "scene.h"

namespace latent::app {
namespace {

std::pair<float, float> parse_pair(const std::string& flag, const std::string& text) {
  auto comma = text.find(',');
  if (comma == std::string::npos) throw Error(flag + ": expected two numbers like 0.5,-1");
  double a = parse_double(flag, text.substr(0, comma)), b = parse_double(flag, text.substr(comma + 1));
  return {float(a), float(b)};
}

AppOptions parse_app_flags(int argc, const char* const* argv) {
  static const std::set<std::string> flags = {"--frames", "--screenshot", "--stats", "--frame-log", "--pad", "--interpolate", "--views",
                                              "--grid", "--colormap", "--pad-background", "--curves", "--checkpoint",
                                              "--layout", "--autosave", "--tab", "--digit", "--redraw", "--ood",
                                              "--record", "--record-view", "--record-fps", "--record-scale", "--record-seconds",
                                              "--lesson", "--compare", "--compare-beta", "--compare-warmup",
                                              "--compare-arch", "--compare-latent"};
  static const std::set<std::string> switches = {"--train", "--log-y", "--sample-eps", "--watch", "--present", "--record-timeline"};
  AppOptions o;
  o.run = parse_run_options(argc, argv, flags, switches);
  if (!o.run.given.count("--out")) o.run.out = "";
  const auto& u = o.run.unparsed;
  for (size_t i = 0; i < u.size(); ++i) {
    const std::string& f = u[i];
    if (f == "--train") { o.train = true; continue; }
    if (f == "--log-y") { o.log_y = true; continue; }
    if (f == "--sample-eps") { o.sample_eps = true; continue; }
    if (f == "--watch") { o.watch = true; continue; }
    if (f == "--present") { o.present = true; continue; }
    if (f == "--record-timeline") { o.record.timeline = true; continue; }
    const std::string& v = u[++i];
    if (f == "--frames") {
      int64_t n = parse_int(f, v);
      if (n < 1) throw Error(f + ": must be >= 1");
      o.frames = int(std::min<int64_t>(n, 1 << 30));
    } else if (f == "--redraw") {
      if (v == "auto") o.redraw = Redraw::Auto;
      else if (v == "damaged") o.redraw = Redraw::Damaged;
      else if (v == "full") o.redraw = Redraw::Full;
      else if (v == "check") o.redraw = Redraw::Check;
      else throw Error(f + ": expected auto, damaged, full or check");
    } else if (f == "--screenshot") {
      o.screenshot = v;
    } else if (f == "--stats") {
      o.stats = v;
    } else if (f == "--frame-log") {
      o.frame_log = v;
    } else if (f == "--pad") {
      o.pad = parse_pair(f, v);
    } else if (f == "--interpolate") {
      auto [a, b] = parse_pair(f, v);
      if (a < 0 || b < 0 || a != std::floor(a) || b != std::floor(b)) throw Error(f + ": expected two test-image indices like 3,7");
      o.interpolate = std::make_pair(int(a), int(b));
    } else if (f == "--views") {
      // Checked against the view registry by the explorer, before its window opens.
      o.views.clear();
      size_t start = 0;
      while (start <= v.size()) {
        const size_t end = v.find(',', start);
        o.views.push_back(v.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) break;
        start = end + 1;
      }
    } else if (f == "--grid") {
      int64_t k = parse_int(f, v);
      if (k < 2 || k > 40) throw Error(f + ": grid size must be in 2..40");
      o.grid = int(k);
    } else if (f == "--colormap") {
      if (v == "gray") o.colormap = ui::Colormap::Gray;
      else if (v == "viridis") o.colormap = ui::Colormap::Viridis;
      else if (v == "magma") o.colormap = ui::Colormap::Magma;
      else throw Error(f + ": unknown colormap '" + v + "' (gray, viridis, magma)");
    } else if (f == "--pad-background") {
      if (v == "scatter") o.pad_background = PadBackground::Scatter;
      else if (v == "manifold") o.pad_background = PadBackground::Manifold;
      else if (v == "aggregate") o.pad_background = PadBackground::Aggregate;
      else throw Error(f + ": expected scatter, manifold or aggregate");
    } else if (f == "--curves") {
      if (v == "separate") o.curve_layout = CurveLayout::Separate;
      else if (v == "stacked") o.curve_layout = CurveLayout::Stacked;
      else throw Error(f + ": expected separate or stacked");
    } else if (f == "--checkpoint") {
      o.checkpoint = v;
    } else if (f == "--layout") {
      o.layout = v;
    } else if (f == "--autosave") {
      o.autosave = v;
    } else if (f == "--tab") {
      if (v != "curves" && v != "elbo" && v != "kl") throw Error(f + ": expected curves, elbo or kl");
      o.tab = v;
    } else if (f == "--ood") {
      if (v.empty()) throw Error(f + ": needs a dataset (a name or a path)");
      o.ood = v;
    } else if (f == "--compare") {
      if (v.empty()) throw Error(f + ": needs a checkpoint to show beside the run");
      o.compare = v;
    } else if (f == "--compare-beta") {
      const double beta = parse_double(f, v);
      if (std::string problem = check_beta(beta); !problem.empty()) throw Error(f + ": " + problem);
      o.compare_beta = beta;
    } else if (f == "--compare-warmup") {
      const double epochs = parse_double(f, v);
      if (std::string problem = check_warmup_epochs(epochs); !problem.empty()) throw Error(f + ": " + problem);
      o.compare_warmup = epochs;
    } else if (f == "--compare-arch") {
      if (std::string problem = check_architecture(v); !problem.empty()) throw Error(f + ": " + problem);
      o.compare_arch = v;
    } else if (f == "--compare-latent") {
      const int64_t latent = parse_int(f, v);
      if (latent < 1 || latent > kMaxLatentDim) throw Error(f + ": a latent size from 1 to " + std::to_string(kMaxLatentDim));
      o.compare_latent = int(latent);
    } else if (f == "--record") {
      // The place and the format are checked when the recording starts: a banner, and the app runs.
      if (v.empty()) throw Error(f + ": needs a file, e.g. training.gif");
      o.record.path = v;
    } else if (f == "--lesson") {
      const int lesson = parse_int(f, v);
      if (lesson < 1) throw Error(f + ": a lesson number from 1");  // the upper end is checked against the lessons
      o.lesson = lesson - 1;
    } else if (f == "--record-view") {
      o.record.view = v == "window" ? "" : v;  // checked against the view registry with --views
    } else if (f == "--record-fps") {
      const double fps = parse_double(f, v);
      if (!(fps >= 1 && fps <= 50)) throw Error(f + ": frames a second, 1 to 50");
      o.record.fps = fps;
    } else if (f == "--record-scale") {
      const double scale = parse_double(f, v);
      if (!(scale >= 0.1 && scale <= 2)) throw Error(f + ": a scale of the recorded pixels, 0.1 to 2");
      o.record.scale = scale;
    } else if (f == "--record-seconds") {
      const double seconds = parse_double(f, v);
      if (!(seconds > 0 && seconds <= 24 * 3600)) throw Error(f + ": seconds, more than 0 and at most a day");
      o.record.seconds = seconds;
    } else if (f == "--digit") {
      int64_t d = parse_int(f, v);
      if (d < 0) throw Error(f + ": a test-image index >= 0");
      o.digit = int(d);
    }
  }
  if (!o.compare.empty() && o.compare_beta >= 0) throw Error("--compare-beta: B is a second run or --compare's checkpoint, not both");
  for (const char* flag : {"--compare-warmup", "--compare-arch", "--compare-latent"})
    if (o.compare_beta < 0 && std::find(u.begin(), u.end(), flag) != u.end())
      throw Error(std::string(flag) + ": needs --compare-beta X (the second run it is for)");
  if (o.watch && o.run.model_file.empty()) throw Error("--watch: needs --model FILE, the TorchScript file to follow");
  if (o.record.timeline && o.train && !o.run.given.count("--epochs"))
    throw Error("--record-timeline: with --train, give --epochs N (the replay starts when the run ends)");
  if (o.record.timeline && std::find(u.begin(), u.end(), "--record-seconds") != u.end())
    throw Error("--record-seconds: a timeline replay ends with its last moment (--record-timeline)");
  for (const char* flag : {"--record-view", "--record-fps", "--record-scale", "--record-seconds", "--record-timeline"})
    if (o.record.path.empty() && std::find(u.begin(), u.end(), flag) != u.end())
      throw Error(std::string(flag) + ": needs --record FILE");
  check_model_file_flags(o.run);
  return o;
}

}  // namespace

AppOptions parse_app_flags(const std::vector<std::string>& args) {
  std::vector<const char*> argv = {"latent-explorer"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  return parse_app_flags(int(argv.size()), argv.data());
}

AppOptions parse_app_options(int argc, const char* const* argv) {
  std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  // --scene FILE: the scene's flags first, then the command line's, which win.
  std::string scene_path;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--scene" || args[i].rfind("--scene=", 0) == 0) {
      const bool joined = args[i] != "--scene";
      if (!joined && i + 1 >= args.size()) throw Error("--scene: missing value");
      scene_path = joined ? args[i].substr(8) : args[i + 1];
      if (scene_path.empty()) throw Error("--scene: needs a file");
      args.erase(args.begin() + long(i), args.begin() + long(i) + (joined ? 1 : 2));
      break;
    }
  }
  if (scene_path.empty()) return parse_app_flags(args);
  const Scene scene = read_scene(scene_path);
  try {
    parse_app_flags(scene.flags);  // alone first, so that a bad flag names the scene
  } catch (const Error& e) {
    throw Error("scene " + scene_path + ": " + e.what());
  }
  // B of Side by side is one choice (a checkpoint or a second run): one given on the command line
  // replaces the scene's whole, rather than clashing with it.
  const auto is_compare = [](const std::string& a) { return a.rfind("--compare", 0) == 0; };
  std::vector<std::string> all;
  const bool own_compare = std::any_of(args.begin(), args.end(), is_compare);
  for (size_t i = 0; i < scene.flags.size(); ++i) {
    if (own_compare && is_compare(scene.flags[i])) {
      if (scene.flags[i].find('=') == std::string::npos) ++i;  // and its value
      continue;
    }
    all.push_back(scene.flags[i]);
  }
  all.insert(all.end(), args.begin(), args.end());
  AppOptions o = parse_app_flags(all);
  o.scene = scene_path, o.scene_title = scene.title, o.scene_watch = scene.watch;
  o.scene_refused = scene.refused;
  // A model the scene names, not the user's own --model: asked about before it runs.
  o.model_from_scene = !o.run.model_file.empty() && std::none_of(args.begin(), args.end(), [](const std::string& a) {
    return a == "--model" || a.rfind("--model=", 0) == 0;
  });
  return o;
}

std::string app_options_help() {
  return R"(Explorer:
  --train                 start training at once
  --frames N              quit after N frames
  --screenshot FILE       write a PNG of the last frame, when the app quits
  --stats FILE            write frame-time and training statistics as JSON
  --frame-log FILE        write one CSV row per frame: where its time went (state update, each
                          view's panel, drawing, showing), pixels drawn, triangles
  --redraw auto|damaged|full|check   draw only what changed since the last frame (damaged), or
                          everything every frame (full), or check: what changed, then everything,
                          counting pixels that differ (slow; a test of the first). auto: damaged
                          under a software rasteriser, full on a GPU [auto]
  --views LIST            views to open: training,curves,pad,image,interpolation,gallery,grid,
                          lessons,messages,anomaly,traversal,arithmetic,draw,denoise,equation,
                          or all [the first seven]
  --pad X,Y               the pad's point (its two latent dims)
  --interpolate A,B       interpolation endpoints (test-image indices) [0,1]
  --grid K                manifold grid size, 2..40 [20]
  --colormap gray|viridis|magma     decoded-image colormap [gray]
  --pad-background scatter|manifold|aggregate [scatter]
  --curves separate|stacked         loss-curve layout [separate]
  --log-y                 logarithmic loss axis
  --checkpoint PATH       the path the Save/Load buttons use [<data home>/explorer.ckpt]
  --layout FILE           where the window layout is remembered
  --autosave PATH         where closing the app saves the model [<data home>/autosave.ckpt]
  --tab curves|elbo|kl    the loss window's tab [curves]
  --digit I               the test digit the ELBO views explain [0]
  --ood DATA              a second dataset for the Outliers view to score against the test set
  --sample-eps            draw z = mu + sigma * eps for that digit at start (as the ELBO tab's button does)
  --watch                 with --model FILE: reload FILE whenever it changes on disk (a run training
                          elsewhere that saves it every N steps); the views and their history follow
  --scene FILE            start with a scene's setup (a demo in assets/scenes, or one saved with
                          File > Save scene); flags given after it win
  --present               start in presentation mode (F5): fullscreen, large, high contrast, the
                          lesson's views and the bound in large type
  --lesson N              the lesson shown (and presented) at start [1]
  --compare CHECKPOINT    Side by side: that checkpoint beside the run (opens the view)
  --compare-beta X        Side by side: a second run with beta X beside this one
  --compare-warmup N      that second run's KL warm-up in epochs [0]
  --compare-arch NAME     that second run's architecture, mlp or conv [the run's]
  --compare-latent N      that second run's latent size [the run's]
  --record FILE.gif|.mp4  record the window (or --record-view NAME: one view) from the start
  --record-fps N          frames a second, 1..50 [15]
  --record-scale S        scale of the recorded pixels, 0.1..2 [1]
  --record-seconds N      stop recording after N seconds [when the app closes]
  --record-timeline       record a replay of the weight timeline instead, from the first step to
                          the last, one frame a moment at --record-fps (with --train --epochs N:
                          when the run ends)
)";
}

}  // namespace latent::app
