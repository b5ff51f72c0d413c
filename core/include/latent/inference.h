#pragma once
// Inference over a frozen copy of a VAE's weights: what the UI thread calls while training goes on.
// A Vae is immutable once made; share it as std::shared_ptr<const Vae>. Each call runs under
// torch::NoGradGuard on the calling thread and never touches the trainer's model.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "latent/arrays.h"
#include "latent/config.h"

namespace latent {

struct VaeImpl;
struct Checkpoint;

class Vae {
 public:
  explicit Vae(std::shared_ptr<const VaeImpl> impl);

  // Rebuilds the model a checkpoint describes, on `device` ("cpu", "cuda" or "auto").
  static std::shared_ptr<const Vae> from_checkpoint(const Checkpoint& checkpoint,
                                                    const std::string& device = "cpu");

  const ModelConfig& config() const;
  std::string device() const;

  // A conditional model (config().conditional()) is q(z|x, y) and p(x|z, y): it needs a class for
  // every image it encodes (ImageBatch::labels) and for every z it decodes (`labels`: one per row,
  // or one for all rows). A plain model ignores labels. Missing or out-of-range classes throw
  // latent::Error.
  //
  // q(z|x): μ and log σ² for each image. Images must match the model's size.
  Posterior encode(const ImageBatch& images) const;
  // E[x|z] of p(x|z) for each row of z: sigmoid(logits) for Bernoulli, the mean for Gaussian.
  ImageBatch decode(const LatentMatrix& z, const std::vector<int32_t>& labels = {}) const;
  // decode(μ(x)): the deterministic reconstruction (under each image's own class).
  ImageBatch reconstruct(const ImageBatch& images) const;
  // decode(z) for z ~ p(z) (the model's prior), with its own generator seeded by `seed`.
  ImageBatch sample_prior(int count, uint64_t seed, const std::vector<int32_t>& labels = {}) const;
  // The z of those draws: sample_prior(n, s) decodes sample_latents(n, s).
  LatentMatrix sample_latents(int count, uint64_t seed) const;
  // log p(z) under the model's prior for each row of z.
  std::vector<float> log_prior(const LatentMatrix& z) const;
  // A conditional model: every row of z decoded under each of `classes`, class-major (the rows of z
  // under classes[0], then under classes[1], ...): "one z, every class" and class × sample grids.
  ImageBatch decode_under_classes(const LatentMatrix& z, const std::vector<int32_t>& classes) const;
  // The VampPrior's pseudo-inputs as images in [0, 1], with their classes under a conditional model
  // (k mod classes); none (count 0) for other priors.
  ImageBatch pseudo_inputs() const;
  // p(z)'s marginal density over latent dims (dim_x, dim_y) at the centres of a resolution² grid
  // over [−extent, extent]² (row-major, top row = +extent). Exact for N(0, I) and for a 2-D latent;
  // otherwise a histogram of `samples` draws from the prior, smoothed over a cell either side.
  std::vector<float> prior_marginal_grid(int dim_x, int dim_y, int resolution, float extent, int samples = 200000,
                                         uint64_t seed = 3) const;

  const VaeImpl& impl() const { return *impl_; }

 private:
  std::shared_ptr<const VaeImpl> impl_;
};

// A checkpoint read as every program reads one before using it: a valid file whose weights fit the
// model its metadata describes, and whose training history (if any) is one of its run. Throws
// latent::Error starting with `path`.
Checkpoint read_usable_checkpoint(const std::string& path);
// Writes `vae`'s weights as a checkpoint (no optimizer state: it opens for inference, or resumes
// with a fresh Adam), recording `dataset` and `step`. A PyTorch (TorchScript) model cannot be
// written this way: latent::Error says so, as it does for a place that cannot be written.
void write_weights(const Vae& vae, const std::string& path, const std::string& dataset, int64_t step);
// Throws latent::Error starting with `path` when the checkpoint's model is not for the C×H×W images
// of `dataset`, or is a conditional model for another number of classes than its `classes`.
void check_checkpoint_fits(const Checkpoint& checkpoint, const std::string& path, int channels, int height, int width,
                           const std::string& dataset, int classes);

enum class Interpolation { Linear, Spherical };

// `steps` points from a to b inclusive (steps >= 2): lerp, or slerp along the great circle with
// the norm interpolated linearly (falls back to lerp when a and b are nearly parallel).
LatentMatrix interpolate(const std::vector<float>& a, const std::vector<float>& b, int steps,
                         Interpolation kind);

struct GridSpec {
  int dim_x = 0;        // latent dim along the grid's columns
  int dim_y = 1;        // latent dim along the grid's rows
  int k = 20;           // k × k points
  float extent = 3.0f;  // z in [-extent, extent] on both axes
  std::vector<float> base;  // values of the other dims (empty = all zero)
  int32_t label = 0;        // the class a conditional model decodes the grid under
};
// The z of each grid point, row-major, top row = largest z_y (as on a plot).
LatentMatrix grid_latents(const GridSpec& spec, int latent_dim);
// decode(grid_latents(spec)); throws latent::Error on a bad spec.
ImageBatch decode_grid(const Vae& vae, const GridSpec& spec);

}  // namespace latent
