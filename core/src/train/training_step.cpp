#include "train/training_step.h"

#include "latent/error.h"
#include "objective/objective.h"
#include "train/mlp_step.h"

namespace latent {
namespace {

void ensure_grad(torch::Tensor& p) {
  if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
}

}  // namespace

TrainingStep::TrainingStep(Model& model, Gradients where) {
  for (auto& [name, p] : named_trainables(model)) {
    ensure_grad(p);
    parameters_.push_back(p);
    // A handle on the parameter's grad() shares its storage: writes through it land there.
    gradients_.push_back(where == Gradients::Own ? torch::zeros_like(p) : p.grad());
  }
}

AutogradStep::AutogradStep(Model& model, Gradients where) : TrainingStep(model, where), model_(model) {}

StepTerms AutogradStep::run(const torch::Tensor& x, const torch::Tensor& eps, double beta, int64_t images) {
  torch::AutoGradMode grad_mode(true);
  if (images <= 0) images = x.size(0);
  const ElboTerms t = elbo_terms(model_, x, eps);
  const torch::Tensor recon = t.recon.sum(), kl = t.kl_per_dim.sum();
  const torch::Tensor loss = (recon + beta * kl) / double(images);
  // autograd::grad, not backward(): the gradients come back as tensors of their own instead of being
  // accumulated into the parameters' grad(), so shards on other threads can share the parameters.
  const auto grads = torch::autograd::grad({loss}, parameters_, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                           /*allow_unused=*/true);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < grads.size(); ++i) {
    if (grads[i].defined())
      gradients_[i].copy_(grads[i]);
    else
      gradients_[i].zero_();
  }
  const auto values = torch::stack({recon.detach().to(torch::kFloat64), kl.detach().to(torch::kFloat64)}).cpu();
  StepTerms out;
  out.recon = values.data_ptr<double>()[0] / double(images);
  out.kl = values.data_ptr<double>()[1] / double(images);
  out.loss = out.recon + beta * out.kl;
  return out;
}

std::unique_ptr<TrainingStep> make_training_step(Model& model, TrainingStep::Gradients where, StepEngine engine) {
  auto* mlp = dynamic_cast<MlpModel*>(&model);
  const bool cpu = model.log_sigma().device().is_cpu();
  if (engine == StepEngine::HandWritten && !mlp) throw Error("the hand-written step is for the MLP only");
  if (engine == StepEngine::HandWritten || (engine == StepEngine::Auto && mlp && cpu))
    return std::make_unique<MlpStep>(*mlp, where);
  return std::make_unique<AutogradStep>(model, where);
}

}  // namespace latent
