#include "latent/evaluation.h"

#include "data/dataset_impl.h"
#include "latent/dataset.h"
#include "latent/error.h"
#include "latent/inference.h"
#include "objective/objective.h"
#include "model/vae_impl.h"

namespace latent {

torch::Tensor test_rows(const Vae& vae, const Dataset& data, int64_t limit) {
  if (data.empty()) throw Error("no dataset loaded");
  if (std::string problem = image_mismatch(vae.config(), data.channels(), data.height(), data.width(), "dataset " + data.name());
      !problem.empty())
    throw Error(problem);
  const torch::Tensor& test = data.impl().test_floats();
  int64_t n = limit > 0 ? std::min(limit, test.size(0)) : test.size(0);
  return test.narrow(0, 0, n).to(vae.impl().device);
}

torch::Tensor test_condition(const Vae& vae, const Dataset& data, int64_t rows) {
  const ModelConfig& c = vae.config();
  if (!c.conditional()) return {};
  if (data.classes() != c.classes)
    throw Error("the conditional model is for " + std::to_string(c.classes) + " classes but dataset " + data.name() +
                (data.labeled() ? " has " + std::to_string(data.classes()) : std::string(" has no labels")));
  const auto& labels = data.test_labels();
  return vae.impl().model().condition(
      torch::tensor(std::vector<int64_t>(labels.begin(), labels.begin() + rows), torch::kLong));
}

Evaluation evaluate_test_set(const Vae& vae, const Dataset& data, int64_t limit, uint64_t seed) {
  const torch::Tensor x = test_rows(vae, data, limit);
  return evaluate_images(vae.impl().model(), x, seed, kEvalNoiseRows, nullptr, test_condition(vae, data, x.size(0)));
}

EncodedSet encode_test_set(const Vae& vae, const Dataset& data, int64_t limit) {
  torch::NoGradGuard no_grad;
  auto x = test_rows(vae, data, limit);
  EncodedSet out;
  out.posterior = encode_rows(vae.impl(), x, test_condition(vae, data, x.size(0)));
  out.labels.assign(data.test_labels().begin(), data.test_labels().begin() + x.size(0));
  return out;
}

}  // namespace latent
