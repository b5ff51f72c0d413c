#include "model/prior.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "latent/error.h"
#include "model/model.h"

namespace latent {
namespace {

const double kHalfLog2Pi = 0.5 * std::log(2.0 * M_PI);

// Log variances of mixture components are kept in this range when used: a component shrunk onto
// one posterior would make log p(z) unbounded.
constexpr double kMinLogVar = -9, kMaxLogVar = 4;

class NormalPrior final : public Prior {
 public:
  explicit NormalPrior(int latent) : latent_(latent) {}
  torch::Tensor log_prob(const torch::Tensor& z, Model&) override { return log_standard_normal(z); }
  torch::Tensor sample(int64_t n, torch::Generator& gen, Model& model) override {
    return torch::randn({n, latent_}, gen, torch::kFloat32).to(model.log_sigma().device());
  }
  bool closed_form_kl() const override { return true; }

 private:
  int latent_;
};

class MixturePrior final : public Prior {
 public:
  MixturePrior(int components, int latent) {
    means_ = register_parameter("means", torch::zeros({components, latent}));
    logvars_ = register_parameter("logvars", torch::zeros({components, latent}));
    logits_ = register_parameter("logits", torch::zeros({components}));
  }
  torch::Tensor log_prob(const torch::Tensor& z, Model&) override {
    return log_mixture(z, means_, logvars_.clamp(kMinLogVar, kMaxLogVar), torch::log_softmax(logits_, 0));
  }
  torch::Tensor sample(int64_t n, torch::Generator& gen, Model&) override {
    torch::NoGradGuard no_grad;
    const auto device = means_.device();
    auto k = torch::multinomial(torch::softmax(logits_, 0).cpu(), n, /*replacement=*/true, gen).to(device);
    auto eps = torch::randn({n, means_.size(1)}, gen, torch::kFloat32).to(device);
    return means_.index_select(0, k) + torch::exp(0.5 * logvars_.clamp(kMinLogVar, kMaxLogVar).index_select(0, k)) * eps;
  }
  // Means from N(0, I), unit variances, equal weights: at the start p(z) is a lumpy N(0, 2I).
  void initialize(torch::Generator& gen) override {
    torch::NoGradGuard no_grad;
    means_.copy_(torch::randn(means_.sizes(), gen, torch::kFloat32));
    logvars_.zero_();
    logits_.zero_();
  }

 private:
  torch::Tensor means_, logvars_, logits_;
};

class VampPrior final : public Prior {
 public:
  VampPrior(int components, int pixels) { u_ = register_parameter("pseudo_inputs", torch::zeros({components, pixels})); }
  torch::Tensor log_prob(const torch::Tensor& z, Model& model) override {
    auto [mu, logvar] = model.encode(images(), condition(model));
    const double log_k = std::log(double(u_.size(0)));
    return log_mixture(z, mu, logvar, torch::full({mu.size(0)}, -log_k, mu.options()));
  }
  torch::Tensor sample(int64_t n, torch::Generator& gen, Model& model) override {
    torch::NoGradGuard no_grad;
    const auto device = u_.device();
    auto k = torch::randint(u_.size(0), {n}, gen, torch::kLong).to(device);
    // The K components once, then each draw's: cheaper than encoding a pseudo-input per draw.
    auto [mu, logvar] = model.encode(images(), condition(model));
    mu = mu.index_select(0, k), logvar = logvar.index_select(0, k);
    return mu + torch::exp(0.5 * logvar) * torch::randn(mu.sizes(), gen, torch::kFloat32).to(device);
  }
  // Grey until initialize_from_data: each pseudo-input then starts as a training image (spread
  // evenly over those given, repeated when fewer than K).
  void initialize(torch::Generator&) override {
    torch::NoGradGuard no_grad;
    u_.fill_(0.5);
  }
  void initialize_from_data(const torch::Tensor& images) override {
    torch::NoGradGuard no_grad;
    if (images.size(0) < 1 || images.size(1) != u_.size(1)) throw Error("the VampPrior needs training images of the model's size");
    const int64_t k = u_.size(0), m = images.size(0);
    auto index = torch::arange(k, torch::kLong).mul_(m).div_(k, "floor").clamp_(0, m - 1);
    u_.copy_(images.to(torch::kCPU, torch::kFloat32).index_select(0, index).clamp(0, 1));
  }
  torch::Tensor pseudo_inputs() override { return images().detach(); }

 private:
  // Under a conditional model each pseudo-input has a class too, k mod classes (the trainer starts
  // u_k from a training image of that class): p(z) = (1/K) Σ_k q(z | u_k, y_k) is still one prior
  // for every class, as the conditional VAE's N(0, I) is.
  torch::Tensor condition(Model& model) {
    if (!model.config().conditional()) return {};
    return model.condition(torch::arange(u_.size(0), torch::kLong).remainder_(model.config().classes));
  }
  // The pseudo-inputs are pixel values, used clipped to [0, 1] (a hard tanh, as in the VampPrior
  // paper): inside the range the gradient reaches them whole, where a sigmoid would scale it by
  // p(1 − p) and all but freeze the near-black and near-white pixels that most images are made of.
  torch::Tensor images() { return torch::clamp(u_, 0, 1); }
  torch::Tensor u_;
};

}  // namespace

torch::Tensor log_standard_normal(const torch::Tensor& z) { return (-0.5 * z.square() - kHalfLog2Pi).sum(1); }

torch::Tensor log_diagonal_normal(const torch::Tensor& z, const torch::Tensor& mu, const torch::Tensor& logvar) {
  return (-0.5 * (z - mu).square() * torch::exp(-logvar) - 0.5 * logvar - kHalfLog2Pi).sum(1);
}

torch::Tensor log_mixture(const torch::Tensor& z, const torch::Tensor& mu, const torch::Tensor& logvar,
                          const torch::Tensor& log_weights) {
  // [N, 1, D] against [1, K, D] → [N, K] log densities, then log Σ_k w_k N_k. Rows of z a chunk at
  // a time, so that the [N, K, D] intermediates stay near 4 million values (16 MB) whatever N: the
  // IW bound asks for 16,384 rows at once, which against 500 components in 20 dims would be 650 MB
  // per intermediate.
  const auto one = [&](const torch::Tensor& rows) {
    auto diff = rows.unsqueeze(1) - mu.unsqueeze(0);
    auto log_n = (-0.5 * diff.square() * torch::exp(-logvar).unsqueeze(0) - 0.5 * logvar.unsqueeze(0) - kHalfLog2Pi).sum(2);
    return torch::logsumexp(log_n + log_weights.unsqueeze(0), 1);
  };
  const int64_t chunk = std::max<int64_t>(1, (int64_t(1) << 22) / std::max<int64_t>(1, mu.size(0) * mu.size(1)));
  if (z.size(0) <= chunk) return one(z);
  std::vector<torch::Tensor> parts;
  for (int64_t first = 0; first < z.size(0); first += chunk) parts.push_back(one(z.narrow(0, first, std::min(chunk, z.size(0) - first))));
  return torch::cat(parts);
}

std::shared_ptr<Prior> make_prior(const ModelConfig& c) {
  if (c.prior == "mog") return std::make_shared<MixturePrior>(c.prior_components, c.latent_dim);
  if (c.prior == "vamp") return std::make_shared<VampPrior>(c.prior_components, c.pixels());
  if (c.prior == "normal") return std::make_shared<NormalPrior>(c.latent_dim);
  throw Error("unknown prior '" + c.prior + "'");
}

}  // namespace latent
