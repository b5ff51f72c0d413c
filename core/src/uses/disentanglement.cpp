#include "latent/disentanglement.h"

#include <algorithm>
#include <cmath>

#include "latent/dataset.h"
#include "latent/error.h"
#include "latent/evaluation.h"
#include "latent/inference.h"

namespace latent {
namespace {

double entropy(const std::vector<double>& counts, double total) {
  double h = 0;
  for (double c : counts)
    if (c > 0) h -= (c / total) * std::log(c / total);
  return h;
}

}  // namespace

FactorInformation mutual_information_gap(const LatentMatrix& latents, const std::vector<int32_t>& factor_values,
                                         const std::vector<int>& values_per_factor, int bins) {
  const int64_t n = latents.rows;
  const int dims = int(latents.cols), factors = int(values_per_factor.size());
  if (bins < 2) throw Error("mutual information: at least 2 bins per dimension");
  if (factors == 0) throw Error("mutual information: no factors");
  if (n < 2) throw Error("mutual information: at least 2 images");
  if (int64_t(latents.values.size()) != n * dims) throw Error("mutual information: the latents are not rows x cols");
  if (int64_t(factor_values.size()) != n * factors)
    throw Error("mutual information: " + std::to_string(factor_values.size()) + " factor values for " +
                std::to_string(n) + " images of " + std::to_string(factors) + " factors");
  for (int k = 0; k < factors; ++k)
    if (values_per_factor[size_t(k)] < 1) throw Error("mutual information: a factor with no values");
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < factors; ++k) {
      const int32_t v = factor_values[size_t(i * factors + k)];
      if (v < 0 || v >= values_per_factor[size_t(k)])
        throw Error("mutual information: factor " + std::to_string(k) + " value " + std::to_string(v) + " out of range");
    }

  FactorInformation out;
  out.dims = dims;
  out.factors = factors;
  out.mutual_information.assign(size_t(dims) * size_t(factors), 0.0);
  const double total = double(n);
  for (int k = 0; k < factors; ++k) {
    std::vector<double> counts(size_t(values_per_factor[size_t(k)]), 0.0);
    for (int64_t i = 0; i < n; ++i) counts[size_t(factor_values[size_t(i * factors + k)])] += 1;
    out.factor_entropy.push_back(entropy(counts, total));
  }
  std::vector<int> cell(static_cast<size_t>(n));
  for (int d = 0; d < dims; ++d) {
    float lo = latents.at(0, d), hi = lo;
    for (int64_t i = 0; i < n; ++i) lo = std::min(lo, latents.at(i, d)), hi = std::max(hi, latents.at(i, d));
    const double width = double(hi) - double(lo);
    std::vector<double> bin_counts(size_t(bins), 0.0);
    for (int64_t i = 0; i < n; ++i) {
      const double t = width > 0 ? (double(latents.at(i, d)) - lo) / width : 0.0;
      cell[size_t(i)] = std::clamp(int(t * bins), 0, bins - 1);
      bin_counts[size_t(cell[size_t(i)])] += 1;
    }
    const double h_bins = entropy(bin_counts, total);
    for (int k = 0; k < factors; ++k) {
      // I(z; v) = H(z) + H(v) − H(z, v) over the joint histogram.
      const int values = values_per_factor[size_t(k)];
      std::vector<double> joint(size_t(bins) * size_t(values), 0.0);
      for (int64_t i = 0; i < n; ++i) joint[size_t(cell[size_t(i)]) * size_t(values) + size_t(factor_values[size_t(i * factors + k)])] += 1;
      const double mi = h_bins + out.factor_entropy[size_t(k)] - entropy(joint, total);
      out.mutual_information[size_t(d) * size_t(factors) + size_t(k)] = std::max(0.0, mi);
    }
  }
  int varying = 0;
  for (int k = 0; k < factors; ++k) {
    std::vector<double> column;
    for (int d = 0; d < dims; ++d) column.push_back(out.mi(d, k));
    const int top = int(std::max_element(column.begin(), column.end()) - column.begin());
    out.top_dim.push_back(top);
    double second = 0;
    for (int d = 0; d < dims; ++d)
      if (d != top) second = std::max(second, column[size_t(d)]);
    const double h = out.factor_entropy[size_t(k)];
    const double g = h > 1e-12 ? (column[size_t(top)] - second) / h : 0.0;
    out.gap.push_back(g);
    if (h > 1e-12) out.mig += g, ++varying;
  }
  if (varying > 0) out.mig /= varying;
  return out;
}

FactorInformation mutual_information_gap(const Vae& vae, const Dataset& data, int64_t limit, int bins) {
  const std::vector<Factor>& factors = data.factors();
  if (factors.empty())
    throw Error("dataset " + data.name() + " has no known factors of variation (a generated set such as shapes has)");
  const EncodedSet encoded = encode_test_set(vae, data, limit);
  const int64_t n = encoded.posterior.mu.rows;
  std::vector<int> values;
  for (const Factor& f : factors) values.push_back(int(f.values.size()));
  const std::vector<int32_t>& all = data.test_factors();
  std::vector<int32_t> used(all.begin(), all.begin() + n * int64_t(factors.size()));
  FactorInformation out = mutual_information_gap(encoded.posterior.mu, used, values, bins);
  for (const Factor& f : factors) out.factor_names.push_back(f.name);
  return out;
}

}  // namespace latent
