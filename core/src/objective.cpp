#include "objective.h"

#include <ATen/CPUGeneratorImpl.h>

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

torch::Tensor gaussian_nll(const torch::Tensor& out, const torch::Tensor& x, const torch::Tensor& log_sigma) {
  const double half_log_2pi = 0.5 * std::log(2.0 * M_PI);
  auto mean = torch::sigmoid(out);
  auto inv_var = torch::exp(-2.0 * log_sigma);
  return (0.5 * (x - mean).square() * inv_var).sum(1) + x.size(1) * (log_sigma.squeeze() + half_log_2pi);
}

torch::Tensor reconstruction_nll(VaeNetImpl& net, const torch::Tensor& decoder_out, const torch::Tensor& x) {
  if (net.config.likelihood == ReconstructionLikelihood::Bernoulli) return bernoulli_nll(decoder_out, x);
  return gaussian_nll(decoder_out, x, net.log_sigma());
}

torch::Tensor decoder_mean(const torch::Tensor& decoder_out) { return torch::sigmoid(decoder_out); }

Evaluation evaluate_images(VaeNetImpl& net, const torch::Tensor& x, uint64_t seed) {
  torch::NoGradGuard no_grad;
  Evaluation e;
  const int64_t n = x.size(0), chunk = kEvalNoiseRows;
  auto gen = make_generator(seed);
  torch::Tensor recon_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(x.device()));
  torch::Tensor kl_dims = torch::zeros({net.config.latent_dim}, recon_sum.options());
  for (int64_t first = 0; first < n; first += chunk) {
    auto xb = x.narrow(0, first, std::min(chunk, n - first));
    auto [mu, logvar] = net.encoder->forward(xb);
    auto eps = torch::randn(mu.sizes(), gen, torch::kFloat32).to(mu.device());
    auto out = net.decoder->forward(reparameterize(mu, logvar, eps));
    recon_sum += reconstruction_nll(net, out, xb).to(torch::kFloat64).sum();
    kl_dims += kl_per_dim(mu, logvar).to(torch::kFloat64).sum(0);
    e.images += xb.size(0);
  }
  if (e.images == 0) return e;
  kl_dims = (kl_dims / double(e.images)).cpu();
  e.recon = recon_sum.item<double>() / double(e.images);
  e.kl_per_dim.assign(kl_dims.data_ptr<double>(), kl_dims.data_ptr<double>() + kl_dims.numel());
  for (double d : e.kl_per_dim) e.kl += d;
  e.loss = e.recon + e.kl;
  return e;
}

}  // namespace latent
