#include "latent/scores.h"

#include "data/dataset_impl.h"
#include "latent/dataset.h"
#include "latent/error.h"
#include "latent/inference.h"
#include "model/vae_impl.h"
#include "objective/objective.h"

namespace latent {
namespace {

std::vector<float> to_floats(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kCPU, torch::kFloat32).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// The objective's terms per image, a chunk at a time, with the noise evaluate_images draws.
ImageScores score_rows(const Vae& vae, const torch::Tensor& x, const torch::Tensor& y, uint64_t seed,
                       const std::atomic<bool>* stop) {
  torch::NoGradGuard no_grad;
  Model& model = vae.impl().model();
  torch::Tensor eps;
  evaluation_noise(x.size(0), model.config().latent_dim, seed, eps);
  std::vector<torch::Tensor> recon, kl;
  for (int64_t first = 0; first < x.size(0); first += kEvalNoiseRows) {
    if (stop && stop->load()) break;
    const int64_t m = std::min(kEvalNoiseRows, x.size(0) - first);
    const ElboTerms t = elbo_terms(model, x.narrow(0, first, m), eps.narrow(0, first, m).to(x.device()),
                                   y.defined() ? y.narrow(0, first, m) : y);
    recon.push_back(t.recon.cpu());
    kl.push_back(t.kl.cpu());
  }
  ImageScores s;
  if (recon.empty()) return s;
  const torch::Tensor r = torch::cat(recon), k = torch::cat(kl);
  s.recon = to_floats(r);
  s.kl = to_floats(k);
  s.neg_elbo = to_floats(r + k);
  return s;
}

}  // namespace

ImageScores score_test_set(const Vae& vae, const Dataset& data, int64_t limit, uint64_t seed,
                           const std::atomic<bool>* stop) {
  const torch::Tensor x = test_rows(vae, data, limit);
  ImageScores s = score_rows(vae, x, test_condition(vae, data, x.size(0)), seed, stop);
  s.labels.assign(data.test_labels().begin(), data.test_labels().begin() + int64_t(s.size()));
  return s;
}

ImageScores score_images(const Vae& vae, const ImageBatch& images, uint64_t seed) {
  if (images.count < 1) return {};
  ImageScores s = score_rows(vae, images_tensor(images, vae.impl()),
                             condition_rows(vae.impl(), images.labels, images.count), seed, nullptr);
  s.labels = images.labels.size() == size_t(images.count) ? images.labels
                                                          : std::vector<int32_t>(size_t(images.count), kUnlabeled);
  return s;
}

}  // namespace latent
