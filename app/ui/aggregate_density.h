#pragma once
// The aggregate posterior q(z) = (1/N) Σ_x q(z|x) over the pad's two latent dims, against the prior
// p(z) (N(0, I), or a learned prior's marginal): where the encoded data sits, and the "holes" where
// the prior has mass but no image is encoded (the decoder has seen no data there, so samples from p(z) that land there look odd).
#include <vector>

#include "latent/arrays.h"

namespace latent::ui {

struct DensityGrid {
  int resolution = 0;
  float extent = 0;            // the grid covers [−extent, extent]², row-major, top row = +extent
  std::vector<float> q;        // aggregate posterior density at each cell centre
  std::vector<float> prior;    // p(z)'s marginal density at each cell centre
  // 1 where p(z) is inside its region of 86 % of the mass (N(0, I): the 2σ disk) and q(z) < 5 % of p(z)
  std::vector<unsigned char> hole;
};

// Each q(z|x) = N(μ, diag σ²) restricted to dims (dim_x, dim_y); σ from log σ². Gaussians are cut
// at 4σ, so the cost is about N × (cells within 4σ). `prior`: the prior's marginal density on the
// same grid (Vae::prior_marginal_grid); empty for N(0, I), computed here.
DensityGrid aggregate_density(const Posterior& q, int dim_x, int dim_y, int resolution, float extent,
                              std::vector<float> prior = {});

}  // namespace latent::ui
