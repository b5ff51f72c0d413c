#include "objective/objective.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

namespace latent {

torch::Generator make_generator(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

torch::Tensor kl_per_dim(const torch::Tensor& mu, const torch::Tensor& logvar) {
  return 0.5 * (mu.square() + logvar.exp() - logvar - 1.0);
}

torch::Tensor kl_per_image(const torch::Tensor& mu, const torch::Tensor& logvar) {
  return kl_per_dim(mu, logvar).sum(1);
}

torch::Tensor reparameterize(const torch::Tensor& mu, const torch::Tensor& logvar, const torch::Tensor& eps) {
  return mu + torch::exp(0.5 * logvar) * eps;
}

torch::Tensor bernoulli_nll(const torch::Tensor& logits, const torch::Tensor& x) {
  return torch::binary_cross_entropy_with_logits(logits, x, {}, {}, at::Reduction::None).sum(1);
}

torch::Tensor gaussian_nll(const torch::Tensor& out, const torch::Tensor& x, const torch::Tensor& log_sigma, bool out_is_mean) {
  const double half_log_2pi = 0.5 * std::log(2.0 * M_PI);
  auto mean = out_is_mean ? out : torch::sigmoid(out);
  auto inv_var = torch::exp(-2.0 * log_sigma);
  return (0.5 * (x - mean).square() * inv_var).sum(1) + x.size(1) * (log_sigma.squeeze() + half_log_2pi);
}

torch::Tensor reconstruction_nll(const Model& model, const torch::Tensor& decoder_out, const torch::Tensor& x) {
  if (model.config().likelihood == ReconstructionLikelihood::Bernoulli) return bernoulli_nll(decoder_out, x);
  return gaussian_nll(decoder_out, x, model.log_sigma(), model.decodes_means());
}

torch::Tensor decoder_mean(const torch::Tensor& decoder_out) { return torch::sigmoid(decoder_out); }

ElboTerms elbo_terms(Model& model, const torch::Tensor& x, const torch::Tensor& eps, const torch::Tensor& y,
                     const torch::Tensor& target) {
  auto [mu, logvar] = model.encode(x, y);
  const torch::Tensor z = reparameterize(mu, logvar, eps);
  ElboTerms t;
  t.recon = reconstruction_nll(model, model.decode(z, y), target.defined() ? target : x);
  if (model.prior().closed_form_kl()) {
    t.kl_per_dim = kl_per_dim(mu, logvar);
    t.kl = t.kl_per_dim.sum(1);
  } else {
    t.kl = log_diagonal_normal(z, mu, logvar) - model.log_prior(z);
  }
  return t;
}

void evaluation_noise(int64_t images, int64_t latent_dim, uint64_t seed, torch::Tensor& out) {
  if (!out.defined() || out.size(0) != images || out.size(1) != latent_dim)
    out = torch::empty({images, latent_dim}, torch::kFloat32);
  auto gen = make_generator(seed);
  for (int64_t block = 0; block < images; block += kEvalNoiseRows)
    out.narrow(0, block, std::min(kEvalNoiseRows, images - block)).normal_(0, 1, gen);
}

void EvaluationSums::add(const EvaluationSums& other) {
  images += other.images;
  recon += other.recon;
  kl_total += other.kl_total;
  kl_squares += other.kl_squares;
  kl_estimated = kl_estimated || other.kl_estimated;
  if (kl.size() < other.kl.size()) kl.resize(other.kl.size(), 0.0);
  for (size_t i = 0; i < other.kl.size(); ++i) kl[i] += other.kl[i];
}

Evaluation EvaluationSums::finish() const {
  Evaluation e;
  e.images = images;
  if (images == 0) return e;
  const double n = double(images);
  if (!kl_estimated) {
    for (double v : kl) e.kl_per_dim.push_back(v / n);
    for (double v : e.kl_per_dim) e.kl += v;
  } else {
    e.kl = kl_total / n;
    e.kl_estimated = true;
    // The standard error of the mean of the per-image estimates.
    if (images > 1) e.kl_stderr = std::sqrt(std::max(0.0, (kl_squares - n * e.kl * e.kl) / (n - 1)) / n);
  }
  e.recon = recon / n;
  e.loss = e.recon + e.kl;
  return e;
}

EvaluationSums sum_elbo_terms(Model& model, const torch::Tensor& x, const torch::Tensor& eps, int64_t chunk,
                              const std::atomic<bool>* stop, const torch::Tensor& y) {
  torch::NoGradGuard no_grad;
  EvaluationSums out;
  const int64_t n = x.size(0), d = model.config().latent_dim;
  const bool estimated = !model.prior().closed_form_kl();
  out.kl_estimated = estimated;
  if (!estimated) out.kl.assign(size_t(d), 0.0);
  if (n == 0) return out;
  chunk = std::max<int64_t>(1, std::min(chunk, n));
  // Summed on the device in float64: no host sync per chunk, no rounding drift over 10,000 images.
  const auto sums = x.options().dtype(torch::kFloat64);
  torch::Tensor recon = torch::zeros({}, sums), kl = torch::zeros({d}, sums), kl_total = torch::zeros({}, sums),
                kl_squares = torch::zeros({}, sums);
  for (int64_t first = 0; first < n; first += chunk) {
    if (stop && stop->load()) break;
    const int64_t m = std::min(chunk, n - first);
    const ElboTerms t = elbo_terms(model, x.narrow(0, first, m), eps.narrow(0, first, m).to(x.device()),
                                   y.defined() ? y.narrow(0, first, m) : y);
    recon += t.recon.sum(0, false, torch::kFloat64);
    if (!estimated) kl += t.kl_per_dim.sum(0, false, torch::kFloat64);
    const torch::Tensor kl64 = t.kl.to(torch::kFloat64);
    kl_total += kl64.sum();
    kl_squares += kl64.square().sum();
    out.images += m;
  }
  if (out.images == 0) return out;
  if (!estimated) {
    const torch::Tensor kl_cpu = kl.cpu();
    out.kl.assign(kl_cpu.data_ptr<double>(), kl_cpu.data_ptr<double>() + d);
  }
  out.kl_total = kl_total.item<double>();
  out.kl_squares = kl_squares.item<double>();
  out.recon = recon.item<double>();
  return out;
}

Evaluation evaluate_images(Model& model, const torch::Tensor& x, uint64_t seed, int64_t chunk,
                           const std::atomic<bool>* stop, const torch::Tensor& y) {
  torch::Tensor eps;
  evaluation_noise(x.size(0), model.config().latent_dim, seed, eps);
  return sum_elbo_terms(model, x, eps, chunk, stop, y).finish();
}

}  // namespace latent
