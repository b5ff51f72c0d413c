#pragma once
// How well a model's latent dimensions line up with a generated set's known factors of variation:
// the mutual information between each dimension and each factor, and the Mutual Information Gap
// (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs"):
//   MIG = (1/K) Σ_k (I(z_a; v_k) − I(z_b; v_k)) / H(v_k),
// a and b the dimensions with the largest and second largest information about factor k. 1 when
// each factor lives in one dimension alone; 0 when no dimension says more about a factor than
// another does.
#include <cstdint>
#include <string>
#include <vector>

#include "latent/arrays.h"

namespace latent {

class Vae;
class Dataset;

struct FactorInformation {
  int dims = 0, factors = 0;
  std::vector<std::string> factor_names;
  std::vector<double> mutual_information;  // I(z_d; v_k) in nats, dims × factors, row d
  std::vector<double> factor_entropy;      // H(v_k) in nats
  std::vector<double> gap;                 // per factor: the normalised gap (0 for a constant factor)
  std::vector<int> top_dim;                // per factor: the dimension that knows it best
  double mig = 0;                          // the mean gap over the factors that vary
  double mi(int dim, int factor) const { return mutual_information[size_t(dim) * size_t(factors) + size_t(factor)]; }
};

// From latents (one row per image: e.g. μ of q(z|x)) and each image's value index for each factor
// (rows × values_per_factor.size(), row-major). Each dimension is discretised into `bins` equal
// bins over its range, and the information is that of the discrete joint histogram. Throws
// latent::Error on mismatched sizes or a value index out of range.
FactorInformation mutual_information_gap(const LatentMatrix& latents, const std::vector<int32_t>& factor_values,
                                         const std::vector<int>& values_per_factor, int bins = 20);

// The same for a model on its dataset's test set (μ of the first `limit` images, 0 = all): the
// dataset must know its factors (Dataset::factors(), e.g. `shapes`), else latent::Error.
FactorInformation mutual_information_gap(const Vae& vae, const Dataset& data, int64_t limit = 0, int bins = 20);

}  // namespace latent
