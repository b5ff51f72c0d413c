#pragma once
// Arithmetic in the latent space: class means and attribute vectors, z_A − z_B + z_C, traversals of
// one dimension at a time, and which dimensions carry information. Plain arithmetic on latents;
// decoding them is Vae::decode's.
#include <cstdint>
#include <vector>

#include "latent/arrays.h"

namespace latent {

// Active units (Burda et al. 2016): a dimension is active when its code moves with the input,
// Var_x(E_q[z_d]) > kActiveUnitVariance over a set of images.
constexpr double kActiveUnitVariance = 0.01;
// Var_x(μ_d) of each dimension over the rows of `mu` (0 for fewer than two rows).
std::vector<double> latent_activity(const LatentMatrix& mu);

// The dimensions in order of decreasing `information` (e.g. KL per dimension, or latent_activity),
// ties by index.
std::vector<int> dims_by_information(const std::vector<double>& information);

// `steps` rows per dimension of `dims` (dimension after dimension): `base` with that dimension set
// from −radius to radius evenly. Throws latent::Error for a dimension outside base, steps < 2 or a
// radius that is not positive and finite.
LatentMatrix traversal_latents(const std::vector<float>& base, const std::vector<int>& dims, float radius, int steps);

// The mean μ of each class 0..classes−1 over the rows of `mu` with that label (rows of labels
// outside the range are left out), and how many rows each mean has (0: the mean is all zero).
struct ClassMeans {
  LatentMatrix means;
  std::vector<int64_t> counts;
};
ClassMeans class_means(const LatentMatrix& mu, const std::vector<int32_t>& labels, int classes);

// z_a − z_b + z_c ("the analogy a is to b as ? is to c" read as: take c, add what a has that b
// lacks). Throws latent::Error when the sizes differ.
std::vector<float> latent_analogy(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& c);

// base + s·(to − from) for each strength s: an attribute vector (the mean of class `to` minus the
// mean of class `from`) added to one image's z at each strength, one row each.
LatentMatrix attribute_path(const std::vector<float>& base, const std::vector<float>& from, const std::vector<float>& to,
                            const std::vector<float>& strengths);

}  // namespace latent
