#pragma once
// Test-set evaluation of the ELBO and encoding of a dataset for the latent scatter plot.
#include <cstdint>
#include <vector>

#include "latent/arrays.h"

namespace latent {

class Vae;
class Dataset;

// Means per image, in nats. loss = recon + KL is −ELBO (β = 1: the bound itself, whatever β
// training used). recon uses z = μ + σ·ε with one ε per image from a fixed seed, so it is repeatable.
struct Evaluation {
  int64_t images = 0;
  double recon = 0;
  double kl = 0;
  double loss = 0;
  std::vector<double> kl_per_dim;  // mean over images of ½(μ_d² + σ_d² − log σ_d² − 1); N(0, I) prior only
  // Under a prior without a closed-form KL (mog, vamp), kl is the mean of single-sample estimates
  // log q(z|x) − log p(z), with its standard error; kl_per_dim is then empty.
  bool kl_estimated = false;
  double kl_stderr = 0;
};

// Evaluates on the first `limit` test images (0 = all).
Evaluation evaluate_test_set(const Vae& vae, const Dataset& data, int64_t limit = 0,
                             uint64_t seed = 0);

// μ of q(z|x) for the first `limit` test images (0 = all), with their labels.
struct EncodedSet {
  Posterior posterior;
  std::vector<int32_t> labels;
};
EncodedSet encode_test_set(const Vae& vae, const Dataset& data, int64_t limit = 0);

}  // namespace latent
