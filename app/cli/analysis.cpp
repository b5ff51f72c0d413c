#include "cli/analysis.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "latent/bounds.h"
#include "latent/corruption.h"
#include "latent/dataset.h"
#include "latent/disentanglement.h"
#include "latent/error.h"
#include "latent/evaluation.h"
#include "latent/image_io.h"
#include "latent/inference.h"
#include "latent/latent_ops.h"
#include "latent/scores.h"

namespace latent {
namespace {

double mean(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += x;
  return v.empty() ? 0.0 : s / double(v.size());
}

void write_rows(std::ofstream& out, const char* set, const ImageScores& s) {
  char line[160];
  for (size_t i = 0; i < s.size(); ++i) {
    std::snprintf(line, sizeof line, "%s,%zu,%d,%.4f,%.4f,%.4f\n", set, i, int(s.labels[i]), s.neg_elbo[i], s.recon[i], s.kl[i]);
    out << line;
  }
}

}  // namespace

void write_likelihood_report(const Vae& vae, const Dataset& data, const Dataset* ood, const std::string& dir,
                             uint64_t seed) {
  const ImageScores test = score_test_set(vae, data, 0, seed);
  ImageScores other;
  if (ood) other = score_test_set(vae, *ood, 0, seed);
  const std::string csv = dir + "/scores.csv";
  {
    std::ofstream out(csv, std::ios::trunc);
    out << "set,index,label,neg_elbo,recon,kl\n";
    write_rows(out, "test", test);
    if (ood) write_rows(out, "ood", other);
    out.flush();
    if (!out) throw Error(csv + ": cannot write (" + std::strerror(errno) + ")");
  }
  const std::vector<int64_t> least = highest_scores(test.neg_elbo, 32);
  if (!least.empty()) {
    const int cols = std::min<int>(8, int(least.size())), rows = (int(least.size()) + cols - 1) / cols;
    write_png(dir + "/least-likely.png", upscale(tile_images(data.test_images(least), rows, cols), 2));
  }
  if (ood) {
    std::printf("ood images=%zu ood_images=%zu test_neg_elbo=%.4f ood_neg_elbo=%.4f ood_auroc=%.4f\n", test.size(),
                other.size(), mean(test.neg_elbo), mean(other.neg_elbo), auroc(test.neg_elbo, other.neg_elbo));
    std::fflush(stdout);
  }
}

void write_traversals(const Vae& vae, const Dataset& data, const std::string& dir) {
  const int d = vae.config().latent_dim;
  if (d <= 2 || data.test_size() == 0) return;
  const Evaluation e = evaluate_test_set(vae, data, 2000);
  const EncodedSet encoded = encode_test_set(vae, data, 2000);
  // Dimensions by the KL each carries; under a learned prior (no KL per dimension), by how much μ_d
  // moves with the input.
  const std::vector<int> order = dims_by_information(
      e.kl_per_dim.size() == size_t(d) ? e.kl_per_dim : latent_activity(encoded.posterior.mu));
  const int steps = 11;
  const LatentMatrix z = traversal_latents(encoded.posterior.mu.row(0), order, 3.0f, steps);
  const std::vector<int32_t> under = vae.config().conditional() ? std::vector<int32_t>{encoded.labels[0]} : std::vector<int32_t>{};
  write_png(dir + "/traversals.png", upscale(tile_images(vae.decode(z, under), d, steps), 2));
}

void print_disentanglement(const Vae& vae, const Dataset& data) {
  if (data.factors().empty()) return;
  const FactorInformation info = mutual_information_gap(vae, data);
  std::printf("disentanglement images=%lld mig=%.4f", (long long)data.test_size(), info.mig);
  for (int k = 0; k < info.factors; ++k)
    std::printf(" gap_%s=%.4f", info.factor_names[size_t(k)].c_str(), info.gap[size_t(k)]);
  std::printf("\n");
  std::fflush(stdout);
}

void write_denoising(const Vae& vae, const Dataset& data, const Corruption& corruption, const std::string& dir,
                     uint64_t seed) {
  if (!corruption.active() || data.test_size() == 0) return;
  double clean_sq = 0, corrupted_sq = 0;
  int64_t values = 0;
  const int64_t chunk = 1000;
  ImageBatch shown_inputs, shown_recon, shown_clean;
  for (int64_t first = 0; first < data.test_size(); first += chunk) {
    std::vector<int64_t> rows;
    for (int64_t i = first; i < std::min(first + chunk, data.test_size()); ++i) rows.push_back(i);
    const ImageBatch clean = data.test_images(rows);
    const ImageBatch noisy = corrupt_images(clean, corruption, seed + uint64_t(first));
    const ImageBatch from_clean = vae.reconstruct(clean), from_noisy = vae.reconstruct(noisy);
    for (size_t k = 0; k < clean.pixels.size(); ++k) {
      const double a = from_clean.pixels[k] - clean.pixels[k], b = from_noisy.pixels[k] - clean.pixels[k];
      clean_sq += a * a, corrupted_sq += b * b;
    }
    values += int64_t(clean.pixels.size());
    if (first == 0) shown_inputs = noisy, shown_recon = from_noisy, shown_clean = clean;
  }
  std::printf("denoise corrupt=%s images=%lld recon_mse_clean=%.5f recon_mse_corrupted=%.5f\n", to_string(corruption).c_str(),
              (long long)data.test_size(), clean_sq / double(values), corrupted_sq / double(values));
  std::fflush(stdout);
  const int shown = int(std::min<int64_t>(16, shown_inputs.count));
  write_png(dir + "/denoised.png", upscale(stack_rows({tile_images(shown_inputs, 1, shown), tile_images(shown_recon, 1, shown),
                                                       tile_images(shown_clean, 1, shown)}), 2));
}

void export_latents(const Vae& vae, const Dataset& data, const std::string& path) {
  const EncodedSet encoded = encode_test_set(vae, data);
  const LatentMatrix& mu = encoded.posterior.mu;
  const LatentMatrix& logvar = encoded.posterior.logvar;
  std::ofstream out(path, std::ios::trunc);
  out << "index,label";
  for (int64_t j = 0; j < mu.cols; ++j) out << ",mu_" << j;
  for (int64_t j = 0; j < mu.cols; ++j) out << ",logvar_" << j;
  out << '\n';
  char value[32];
  for (int64_t i = 0; i < mu.rows; ++i) {
    out << i << ',' << encoded.labels[size_t(i)];
    for (int64_t j = 0; j < mu.cols; ++j) std::snprintf(value, sizeof value, ",%.6g", mu.at(i, j)), out << value;
    for (int64_t j = 0; j < mu.cols; ++j) std::snprintf(value, sizeof value, ",%.6g", logvar.at(i, j)), out << value;
    out << '\n';
  }
  out.flush();
  if (!out) throw Error("--export-latents " + path + ": cannot write (" + std::strerror(errno) + ")");
}

}  // namespace latent
