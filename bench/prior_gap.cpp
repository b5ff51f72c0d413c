// How much a learned prior could take from a trained model's KL term, with its encoder kept. The
// KL term of the ELBO, averaged over the data, splits into two parts:
//   E_x KL(q(z|x) || p(z)) = I(x; z) + KL(q(z) || p(z)),
// the information z carries about x under q (which the reconstruction pays for) and how far the
// aggregate posterior q(z) = (1/N) sum_n q(z|x_n) is from the prior. A prior can only remove the
// second: p(z) = q(z) makes it 0. Monte Carlo over z ~ q(z|x_n), q(z) over the same N test images.
//   build/bench/prior_gap CHECKPOINT [--images N] [--samples S]
// Prints the three terms in nats per image, and the command.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "latent/checkpoint.h"
#include "latent/dataset.h"
#include "latent/inference.h"

namespace {

// log N(z; mu, diag(exp(logvar))) for one row.
double log_normal(const float* z, const float* mu, const float* logvar, int64_t d) {
  double s = 0;
  for (int64_t j = 0; j < d; ++j) {
    const double diff = double(z[j]) - mu[j];
    s += -0.5 * (std::log(2 * M_PI) + logvar[j] + diff * diff * std::exp(-double(logvar[j])));
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: prior_gap CHECKPOINT [--images N] [--samples S]\n");
    return 2;
  }
  const std::string path = argv[1];
  int64_t images = 10000;
  int samples = 4;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--images") images = std::max<int64_t>(2, std::atoll(argv[i + 1]));
    else if (flag == "--samples") samples = std::max(1, std::atoi(argv[i + 1]));
    else return std::fprintf(stderr, "unknown flag %s\n", flag.c_str()), 2;
  }
  try {
    const latent::Checkpoint checkpoint = latent::read_usable_checkpoint(path);
    const auto vae = latent::Vae::from_checkpoint(checkpoint);
    const latent::Dataset data = latent::Dataset::load(checkpoint.dataset);
    images = std::min(images, data.test_size());
    std::vector<int64_t> indices(static_cast<size_t>(images));
    std::iota(indices.begin(), indices.end(), 0);
    const latent::ImageBatch batch = data.test_images(indices);
    const latent::Posterior q = vae->encode(batch);
    const int64_t d = q.mu.cols;
    // Each image's z draws, and their log q(z|x_n).
    std::mt19937_64 rng(1);
    std::normal_distribution<float> normal;
    latent::LatentMatrix z{images * samples, d, std::vector<float>(size_t(images * samples * d))};
    std::vector<double> log_q_own(size_t(images * samples));
    for (int64_t n = 0; n < images; ++n)
      for (int s = 0; s < samples; ++s) {
        float* row = z.values.data() + (n * samples + s) * d;
        for (int64_t j = 0; j < d; ++j)
          row[j] = q.mu.values[size_t(n * d + j)] + std::exp(0.5f * q.logvar.values[size_t(n * d + j)]) * normal(rng);
        log_q_own[size_t(n * samples + s)] = log_normal(row, &q.mu.values[size_t(n * d)], &q.logvar.values[size_t(n * d)], d);
      }
    const std::vector<float> log_p = vae->log_prior(z);
    // log q(z) = log mean_m q(z | x_m), over every image, for every draw.
    double info = 0, marginal = 0;
    std::vector<double> terms(static_cast<size_t>(images));
    for (int64_t r = 0; r < z.rows; ++r) {
      const float* row = z.values.data() + r * d;
      double top = -INFINITY;
      for (int64_t m = 0; m < images; ++m) {
        terms[size_t(m)] = log_normal(row, &q.mu.values[size_t(m * d)], &q.logvar.values[size_t(m * d)], d);
        top = std::max(top, terms[size_t(m)]);
      }
      double sum = 0;
      for (double t : terms) sum += std::exp(t - top);
      const double log_aggregate = top + std::log(sum / double(images));
      info += log_q_own[size_t(r)] - log_aggregate;
      marginal += log_aggregate - log_p[size_t(r)];
    }
    info /= double(z.rows), marginal /= double(z.rows);
    std::printf("latent=%lld prior=%s images=%lld samples=%d kl=%.3f information=%.3f marginal_kl=%.3f (information at most log N = %.2f)\n",
                (long long)d, checkpoint.model.prior.c_str(), (long long)images, samples, info + marginal, info, marginal,
                std::log(double(images)));
    std::printf("command: build/bench/prior_gap %s --images %lld --samples %d\n", path.c_str(), (long long)images, samples);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
