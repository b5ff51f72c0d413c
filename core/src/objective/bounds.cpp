#include "latent/bounds.h"

#include <cmath>

#include "objective/bounds_math.h"
#include "data/dataset_impl.h"
#include "latent/dataset.h"
#include "latent/error.h"
#include "latent/inference.h"
#include "latent/scores.h"
#include "objective/objective.h"
#include "model/vae_impl.h"

namespace latent {
namespace {

// Cell centres of n equal cells over [lo, hi].
std::pair<float, float> centres(float lo, float hi, int n) {
  const float h = (hi - lo) / float(n);
  return {lo + h / 2, hi - h / 2};
}

// log p(x|z) (log p(x|z, y) for a conditional model, `y` holding one row per z, or one row for all).
LogLikelihood vae_log_likelihood(Model& net, const torch::Tensor& y = {}) {
  return [&net, y](const torch::Tensor& z, const torch::Tensor& x) {
    const torch::Tensor yz = !y.defined() || y.size(0) == z.size(0) ? y : y.expand({z.size(0), y.size(1)});
    return -reconstruction_nll(net, net.decode(z, yz), x);
  };
}

LogPrior vae_log_prior(Model& net) {
  return [&net](const torch::Tensor& z) { return net.log_prior(z); };
}

}  // namespace

torch::Tensor iw_log_marginal(const LogLikelihood& log_likelihood, const torch::Tensor& x, const torch::Tensor& mu,
                              const torch::Tensor& logvar, int k, torch::Generator& gen, const LogPrior& log_prior) {
  torch::NoGradGuard no_grad;
  const int64_t b = x.size(0), d = mu.size(1), p = x.size(1);
  auto eps = torch::randn({k, b, d}, gen, mu.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32)
                 .to(mu.device(), mu.scalar_type());
  auto z = (mu.unsqueeze(0) + torch::exp(0.5 * logvar).unsqueeze(0) * eps).reshape({k * b, d});
  auto mu_k = mu.unsqueeze(0).expand({k, b, d}).reshape({k * b, d});
  auto logvar_k = logvar.unsqueeze(0).expand({k, b, d}).reshape({k * b, d});
  auto x_k = x.unsqueeze(0).expand({k, b, p}).reshape({k * b, p});
  // log w = log p(x|z) + log p(z) − log q(z|x), then log of the mean of the weights.
  auto log_w = log_likelihood(z, x_k) + log_prior(z) - log_diagonal_normal(z, mu_k, logvar_k);
  return torch::logsumexp(log_w.view({k, b}).to(torch::kFloat64), 0) - std::log(double(k));
}

torch::Tensor log_joint_grid(const LogLikelihood& log_likelihood, const torch::Tensor& x, int n, float x0, float x1,
                             float y0, float y1, const LogPrior& log_prior) {
  torch::NoGradGuard no_grad;
  auto options = torch::TensorOptions().dtype(x.scalar_type()).device(x.device());
  auto xs = torch::linspace(x0, x1, n, options);
  auto ys = torch::linspace(y1, y0, n, options);  // top row first
  auto z = torch::stack({xs.repeat({n}), ys.repeat_interleave(n)}, 1);  // row r, column c → (xs[c], ys[r])
  std::vector<torch::Tensor> parts;
  const int64_t chunk = 8192;
  for (int64_t first = 0; first < z.size(0); first += chunk) {
    auto zc = z.narrow(0, first, std::min(chunk, z.size(0) - first));
    auto xc = x.reshape({1, -1}).expand({zc.size(0), x.numel()});
    parts.push_back(log_likelihood(zc, xc) + log_prior(zc));
  }
  return torch::cat(parts).to(torch::kFloat64).view({n, n});
}

namespace {

double log_add(double a, double b) {
  if (!std::isfinite(a)) return b;
  if (!std::isfinite(b)) return a;
  return std::max(a, b) + std::log1p(std::exp(-std::abs(a - b)));
}

// log ∫ over the box [x0, x1] × [y0, y1] with an n × n midpoint grid, recursing into the cells that
// hold the mass while they are a small part of the box.
double integrate_box(const LogLikelihood& log_likelihood, const LogPrior& log_prior, const torch::Tensor& x,
                     const GridIntegration& g, float x0, float x1, float y0, float y1, int n, int level) {
  const float hx = (x1 - x0) / float(n), hy = (y1 - y0) / float(n);
  auto [cx0, cx1] = centres(x0, x1, n);
  auto [cy0, cy1] = centres(y0, y1, n);
  torch::Tensor grid = log_joint_grid(log_likelihood, x, n, cx0, cx1, cy0, cy1, log_prior);
  const double log_cell = std::log(double(hx) * double(hy));
  const double peak = grid.max().item<double>();
  if (!std::isfinite(peak)) return peak;
  auto mass = (grid >= peak - g.window).nonzero();
  int r0 = int(mass.select(1, 0).min().item<int64_t>()), r1 = int(mass.select(1, 0).max().item<int64_t>());
  int q0 = int(mass.select(1, 1).min().item<int64_t>()), q1 = int(mass.select(1, 1).max().item<int64_t>());
  r0 = std::max(0, r0 - 1), q0 = std::max(0, q0 - 1);
  r1 = std::min(n - 1, r1 + 1), q1 = std::min(n - 1, q1 + 1);
  if (level + 1 >= g.levels || 2 * (r1 - r0 + 1) > n || 2 * (q1 - q0 + 1) > n)
    return torch::logsumexp(grid.flatten(), 0).item<double>() + log_cell;
  // Rows run top (y1) to bottom: row r covers y ∈ [y1 − (r+1)·hy, y1 − r·hy].
  const double inner = integrate_box(log_likelihood, log_prior, x, g, x0 + float(q0) * hx, x0 + float(q1 + 1) * hx,
                                     y1 - float(r1 + 1) * hy, y1 - float(r0) * hy, g.fine, level + 1);
  grid.narrow(0, r0, r1 - r0 + 1).narrow(1, q0, q1 - q0 + 1).fill_(-INFINITY);
  return log_add(inner, torch::logsumexp(grid.flatten(), 0).item<double>() + log_cell);
}

}  // namespace

double grid_log_marginal(const LogLikelihood& log_likelihood, const torch::Tensor& x, const GridIntegration& g,
                         const LogPrior& log_prior) {
  if (g.coarse < 4 || g.fine < 4 || g.levels < 1) throw Error("grid integration needs at least 4 points per axis");
  return integrate_box(log_likelihood, log_prior, x, g, -g.extent, g.extent, -g.extent, g.extent, g.coarse, 0);
}

namespace {

// IW_K of each row of x (with its classes y for a conditional model). [N], float64
torch::Tensor iw_per_image(Model& net, const torch::Tensor& x, const torch::Tensor& y, int iw_samples, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = make_generator(seed + 1);
  const LogPrior log_prior = vae_log_prior(net);
  const int64_t chunk = std::max<int64_t>(1, 16384 / iw_samples);
  std::vector<torch::Tensor> parts;
  for (int64_t first = 0; first < x.size(0); first += chunk) {
    const int64_t rows = std::min(chunk, x.size(0) - first);
    auto xb = x.narrow(0, first, rows);
    torch::Tensor yb = y.defined() ? y.narrow(0, first, rows) : y;
    auto [mu, logvar] = net.encode(xb, yb);
    // The K draws of each image are rows k·B + b (iw_log_marginal): each with its image's class.
    if (yb.defined()) yb = yb.unsqueeze(0).expand({iw_samples, rows, yb.size(1)}).reshape({iw_samples * rows, yb.size(1)});
    parts.push_back(iw_log_marginal(vae_log_likelihood(net, yb), xb, mu, logvar, iw_samples, gen, log_prior).cpu());
  }
  return parts.empty() ? torch::zeros({0}, torch::kFloat64) : torch::cat(parts);
}

BoundEvaluation evaluate_rows(const Vae& vae, const torch::Tensor& x, const torch::Tensor& y, int iw_samples, bool exact,
                              uint64_t seed, const GridIntegration& grid) {
  if (iw_samples < 0 || iw_samples > 100000) throw Error("importance samples must be in 1..100000");
  if (exact && vae.config().latent_dim != 2)
    throw Error("exact log p(x) by grid integration needs a 2-D latent (this model has " +
                std::to_string(vae.config().latent_dim) + ")");
  torch::NoGradGuard no_grad;
  Model& net = vae.impl().model();
  BoundEvaluation out;
  out.elbo = evaluate_images(net, x, seed, kEvalNoiseRows, nullptr, y);
  const LogPrior log_prior = vae_log_prior(net);
  if (iw_samples > 0) {
    out.iw_samples = iw_samples;
    out.iw_loss = -iw_per_image(net, x, y, iw_samples, seed).sum().item<double>() / double(x.size(0));
  }
  if (exact) {
    out.exact = true;
    double sum = 0;
    for (int64_t i = 0; i < x.size(0); ++i)
      sum += grid_log_marginal(vae_log_likelihood(net, y.defined() ? y.narrow(0, i, 1) : y), x[i], grid, log_prior);
    out.exact_nll = -sum / double(x.size(0));
  }
  return out;
}

}  // namespace

BoundEvaluation evaluate_bounds(const Vae& vae, const Dataset& data, int iw_samples, bool exact, int64_t limit,
                                uint64_t seed, const GridIntegration& grid) {
  const torch::Tensor x = test_rows(vae, data, limit);
  return evaluate_rows(vae, x, test_condition(vae, data, x.size(0)), iw_samples, exact, seed, grid);
}

BoundEvaluation evaluate_bounds(const Vae& vae, const ImageBatch& images, int iw_samples, bool exact, uint64_t seed,
                                const GridIntegration& grid) {
  if (images.count < 1) throw Error("evaluate_bounds: no images");
  return evaluate_rows(vae, images_tensor(images, vae.impl()), condition_rows(vae.impl(), images.labels, images.count),
                       iw_samples, exact, seed, grid);
}

std::vector<float> iw_scores(const Vae& vae, const ImageBatch& images, int samples, uint64_t seed) {
  if (samples < 1 || samples > 100000) throw Error("importance samples must be in 1..100000");
  if (images.count < 1) return {};
  const torch::Tensor scores =
      -iw_per_image(vae.impl().model(), images_tensor(images, vae.impl()),
                    condition_rows(vae.impl(), images.labels, images.count), samples, seed).to(torch::kFloat32).contiguous();
  return {scores.data_ptr<float>(), scores.data_ptr<float>() + scores.numel()};
}

PosteriorGrid posterior_grid(const Vae& vae, const ImageBatch& image, int resolution, float extent,
                             const GridIntegration& grid, double log_px) {
  if (vae.config().latent_dim != 2) throw Error("the true posterior grid needs a 2-D latent");
  if (image.count != 1) throw Error("posterior_grid takes one image");
  if (resolution < 4 || resolution > 1024) throw Error("posterior grid resolution must be in 4..1024");
  torch::NoGradGuard no_grad;
  Model& net = vae.impl().model();
  auto x = images_tensor(image, vae.impl());
  const torch::Tensor y = condition_rows(vae.impl(), image.labels, 1);
  const LogLikelihood log_likelihood = vae_log_likelihood(net, y);
  const LogPrior log_prior = vae_log_prior(net);
  PosteriorGrid out;
  auto [mu, logvar] = net.encode(x, y);
  out.resolution = resolution;
  if (extent > 0) {
    out.x0 = out.y0 = -extent;
    out.x1 = out.y1 = extent;
  } else {
    const float half = std::max(0.05f, 5 * torch::exp(0.5 * logvar).max().item<float>());
    const float mx = mu[0][0].item<float>(), my = mu[0][1].item<float>();
    out.x0 = mx - half, out.x1 = mx + half, out.y0 = my - half, out.y1 = my + half;
  }
  out.log_px = std::isfinite(log_px) ? log_px : grid_log_marginal(log_likelihood, x[0], grid, log_prior);
  auto [cx0, cx1] = centres(out.x0, out.x1, resolution);
  auto [cy0, cy1] = centres(out.y0, out.y1, resolution);
  auto density = torch::exp(log_joint_grid(log_likelihood, x[0], resolution, cx0, cx1, cy0, cy1, log_prior) - out.log_px)
                     .to(torch::kCPU, torch::kFloat32)
                     .contiguous();
  out.density.assign(density.data_ptr<float>(), density.data_ptr<float>() + density.numel());
  // ELBO = E_q[log p(x|z)] − KL(q ‖ p), the expectation from 512 samples of q.
  auto gen = make_generator(7);
  auto eps = torch::randn({512, 2}, gen, torch::kFloat32).to(x.device());
  auto z = mu + torch::exp(0.5 * logvar) * eps;
  const double expected_ll = log_likelihood(z, x.expand({512, x.size(1)})).mean().item<double>();
  // KL in closed form under N(0, I), else from the same 512 draws.
  const double kl = net.prior().closed_form_kl()
                        ? kl_per_image(mu, logvar).item<double>()
                        : (log_diagonal_normal(z, mu.expand({512, 2}), logvar.expand({512, 2})) - log_prior(z)).mean().item<double>();
  out.elbo = expected_ll - kl;
  auto mu_cpu = mu.cpu(), sigma_cpu = torch::exp(0.5 * logvar).cpu();
  out.mu = {mu_cpu[0][0].item<float>(), mu_cpu[0][1].item<float>()};
  out.sigma = {sigma_cpu[0][0].item<float>(), sigma_cpu[0][1].item<float>()};
  return out;
}

}  // namespace latent
