#pragma once
// Bounds on log p(x) beyond the ELBO, and the true posterior on a grid (2-D latents):
//   ELBO ≤ IW_K = E[log (1/K) Σ_k p(x, z_k) / q(z_k|x)] ≤ log p(x),   z_k ~ q(z|x)  (Burda et al.)
//   log p(x) = log ∫ p(x|z) p(z) dz, integrated numerically over z when z is 2-D,
// and the gap log p(x) − ELBO = KL(q(z|x) ‖ p(z|x)) ≥ 0.
#include <cmath>
#include <cstdint>
#include <vector>

#include "latent/arrays.h"
#include "latent/evaluation.h"

namespace latent {

class Vae;
class Dataset;

// Grid integration for 2-D latents (midpoint rule on log p(x|z) + log p(z)): a coarse grid over
// [−extent, extent]², then, while the cells within `window` nats of the peak fill less than half of
// the grid, a finer grid over just those cells (one cell of margin), up to `levels` grids in all.
// A trained model's posterior is far narrower than a coarse cell; the nested grids resolve it.
struct GridIntegration {
  int coarse = 48;       // points per axis of the first grid
  int fine = 48;         // points per axis of each refinement
  int levels = 4;        // grids in all, at most
  float extent = 6.0f;   // the prior puts < 1e-7 of its mass outside [−6, 6]²
  double window = 30.0;  // nats below the peak that count as mass
};

struct BoundEvaluation {
  Evaluation elbo;            // the usual test-set ELBO terms
  int iw_samples = 0;         // K (0 = not computed)
  double iw_loss = 0;         // −IW_K per image
  bool exact = false;
  double exact_nll = 0;       // −log p(x) per image, by grid integration (2-D only)
};

// Evaluates the first `limit` test images (0 = all). iw_samples = 0 skips IW; exact requires a 2-D
// latent (throws latent::Error otherwise). Costly: see --eval-limit.
BoundEvaluation evaluate_bounds(const Vae& vae, const Dataset& data, int iw_samples, bool exact, int64_t limit = 0,
                                uint64_t seed = 0, const GridIntegration& grid = GridIntegration());
// The same for any images (e.g. the one digit the ELBO panel shows).
BoundEvaluation evaluate_bounds(const Vae& vae, const ImageBatch& images, int iw_samples, bool exact, uint64_t seed = 0,
                                const GridIntegration& grid = GridIntegration());

// The true posterior p(z|x) ∝ p(x|z) p(z) of one image on a regular grid over
// [x0, x1] × [y0, y1] (2-D latents), for the pad's heatmap; and log p(x), the ELBO and their gap.
struct PosteriorGrid {
  int resolution = 0;
  float x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  std::vector<float> density;  // p(z|x) at each grid point, row-major, top row = y1; sums·cell area ≈ 1
  double log_px = 0;           // log p(x), from the refined integration
  double elbo = 0;             // ELBO of this image (many-sample estimate of E_q[log p(x|z)])
  double gap() const { return log_px - elbo; }
  std::vector<float> mu, sigma;  // q(z|x) = N(mu, diag sigma²)
};
// The grid covers [−extent, extent]² (the pad), or, when extent <= 0, a close-up: q's mean ± five of
// its largest σ, where a trained model's narrow posterior can be seen.
// `log_px`, when known (e.g. from an earlier call for the same image and weights), skips the
// integration.
PosteriorGrid posterior_grid(const Vae& vae, const ImageBatch& image, int resolution = 96, float extent = 3.0f,
                             const GridIntegration& grid = GridIntegration(), double log_px = NAN);

}  // namespace latent
