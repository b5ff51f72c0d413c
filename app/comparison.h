#pragma once
// Side by side: the model the explorer shows (A) beside another one (B), with the pad's z decoded
// under both, each one's loss history and its bound on the same test images. B is a moment of this
// run's timeline ("step 100 against the end"), a checkpoint ("β = 1 against β = 4", "MLP against
// conv"), or a second run trained beside this one from the same data with its own β, architecture
// or latent size. No GL here: the Side by side view (views/compare.cpp) draws what this holds.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app_state.h"

namespace latent::app {

class Comparison {
 public:
  enum class Source { Moment, Checkpoint, SecondRun };

  struct Side {
    std::shared_ptr<const Vae> vae;  // null: nothing to show yet
    std::string label;               // what it is: "this run, step 1200"
    ImageBatch decoded;              // the pad's z decoded by this side's model
    int64_t decoded_generation = 0;  // moves whenever `decoded` changes
    EncodedSet encoded;              // the first kEncoded test images' q(z|x), on the worker
    int64_t encoded_generation = 0;
    std::optional<BoundEvaluation> bound;  // on the first kBoundImages test images, on the worker
    // Which weights these are: `encoded` and `bound` are for the weights shown when the versions match.
    int64_t weights_version = 0, results_version = -1;
    bool results_current() const { return bound && results_version == weights_version; }
    // The training loss (−ELBO per image, β = 1) against the step, as far as this side has come.
    std::vector<double> steps, losses;
  };
  // Kept small: the worker shares the CPU with training (two runs, with a second one).
  static constexpr int64_t kEncoded = 2000, kBoundImages = 200;
  static constexpr int kIwSamples = 50;

  Comparison() = default;
  ~Comparison();
  Comparison(const Comparison&) = delete;
  Comparison& operator=(const Comparison&) = delete;

  Source source() const { return source_; }
  void set_source(Source source);
  // Moment: which of the timeline's moments B shows (clamped to it).
  int moment = 0;
  // Checkpoint: loads B from `path` (checked against the dataset); a problem is a message and B
  // stays as it was.
  void open_checkpoint(AppState& state, const std::string& path);
  const std::string& checkpoint_path() const { return checkpoint_path_; }
  // SecondRun: a run of the shown model's config and training settings, except for these (β, the
  // architecture, the latent size and the KL warm-up in epochs), trained beside the explorer's own
  // from step 0; a problem is a message.
  void start_second_run(AppState& state, double beta, const std::string& architecture, int latent_dim, double warmup_epochs);
  bool second_run_exists() const { return second_ != nullptr; }
  bool second_run_training() const;
  void pause_second_run();
  void resume_second_run();
  const Snapshot* second_run_snapshot() const { return second_snapshot_.get(); }

  // Once a frame, from the view while it is shown: takes each side's weights, decodes the pad's z
  // under both when it or the weights changed, and asks the worker for their encodings and bounds
  // when the weights changed (at most every 3 s while they keep changing).
  void update(AppState& state);
  // A new run in A (Reset, another dataset): B's moment and results go; a checkpoint or a second
  // run trained on another dataset goes too.
  void restart(AppState& state);

  const Side& a() const { return a_; }
  const Side& b() const { return b_; }
  // The pad's z as B takes it: the same vector when the latent sizes match; otherwise the pad's two
  // dims (where B has them) and 0 for the rest.
  static LatentMatrix z_for(const std::vector<float>& z, int dim_x, int dim_y, int latent_dim);
  // The pad's dims as a model of `latent_dim` dims shows them: the same where it has them, else its
  // first two (z_for sets those from the pad's point).
  static std::pair<int, int> pad_dims_for(int dim_x, int dim_y, int latent_dim);
  // The flags that bring B back when a scene saved at `scene_path` opens: --compare with B's
  // checkpoint (a moment's weights, to be written beside the scene as <name>-b.ckpt by the write it
  // returns, which throws latent::Error naming what it could not write), or the second run's
  // --compare-beta, --compare-warmup, --compare-arch and --compare-latent. Nothing when B shows nothing.
  AppState::SceneExtras scene_flags(const AppState& state, const std::string& scene_path) const;
  // Why B cannot show anything now ("" when it can), for the view to say.
  std::string why_empty(const AppState& state) const;

 private:
  void refresh(AppState& state, Side& side, const std::string& key, int64_t& asked_generation, double& asked_at,
               int64_t weights_generation);
  void decode(AppState& state, Side& side);

  Source source_ = Source::Moment;
  Side a_, b_;
  std::string checkpoint_path_;
  std::string b_data_;  // the dataset B was chosen on: another one (even of the same shape) drops it
  int64_t b_curve_step_ = -1;  // the moment B's history (A's, cut there) was copied for
  std::shared_ptr<const Vae> checkpoint_vae_;
  int64_t checkpoint_step_ = 0;
  std::unique_ptr<Trainer> second_;
  std::shared_ptr<const Snapshot> second_snapshot_;
  // What the sides show, to notice a change: their weights, and the z and class they decoded.
  // The trainer reuses its weight copies, so an address alone does not say the weights changed: A is
  // known by AppState::weights_generation, B by its address and step.
  int64_t a_shown_ = -1;
  std::pair<const Vae*, int64_t> b_shown_{nullptr, -1};
  int64_t a_weights_ = 0, b_weights_ = 0;  // bumped when a side's weights change
  std::vector<float> z_decoded_a_, z_decoded_b_;
  int class_decoded_a_ = -1, class_decoded_b_ = -1;
  int64_t a_decoded_weights_ = -1, b_decoded_weights_ = -1;
  int64_t a_asked_ = -1, b_asked_ = -1;
  double a_asked_at_ = -1e9, b_asked_at_ = -1e9;
  // Results from the worker land here (shared with the job, which may outlive a restart).
  struct Inbox {
    struct Result {
      EncodedSet encoded;
      BoundEvaluation bound;
      int64_t weights_version = 0;
    };
    std::optional<Result> a, b;
  };
  std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();
  size_t a_steps_seen_ = 0;
  uint64_t a_steps_generation_ = 0;  // AppState::steps_generation a_'s curve was copied at
  int64_t run_generation_ = -1;
};

}  // namespace latent::app
