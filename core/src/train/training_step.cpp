#include "train/training_step.h"

#include "latent/error.h"
#include "objective/objective.h"
#include "train/mlp_step.h"

namespace latent {
namespace {

void ensure_grad(torch::Tensor& p) {
  if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
}

// Whether grads[i] can become the parameter's gradient as it is: contiguous, the whole of its own
// storage, and shared with no other gradient of the step (autograd hands one tensor to both inputs
// of an addition), since the trainer later adds into and zeroes gradients in place.
bool can_take(const std::vector<torch::Tensor>& grads, size_t i) {
  const torch::Tensor& g = grads[i];
  if (!g.is_contiguous() || g.storage_offset() != 0 || g.storage().nbytes() != size_t(g.nbytes())) return false;
  for (size_t j = 0; j < grads.size(); ++j)
    if (j != i && grads[j].defined() && grads[j].storage().is_alias_of(g.storage())) return false;
  return true;
}

}  // namespace

TrainingStep::TrainingStep(Model& model, Gradients where) : into_parameters_(where == Gradients::IntoParameters) {
  for (auto& [name, p] : named_trainables(model)) {
    ensure_grad(p);
    parameters_.push_back(p);
    // A handle on the parameter's grad() shares its storage: writes through it land there.
    gradients_.push_back(where == Gradients::Own ? torch::zeros_like(p) : p.grad());
  }
}

AutogradStep::AutogradStep(Model& model, Gradients where) : TrainingStep(model, where), model_(model) {}

StepTerms AutogradStep::run(const torch::Tensor& x, const torch::Tensor& eps, double beta, int64_t images,
                            const torch::Tensor& y, const torch::Tensor& target) {
  torch::AutoGradMode grad_mode(true);
  if (images <= 0) images = x.size(0);
  const ElboTerms t = elbo_terms(model_, x, eps, y, target);
  const torch::Tensor recon = t.recon.sum(), kl = t.kl.sum();
  const torch::Tensor loss = (recon + beta * kl) / double(images);
  // autograd::grad, not backward(): the gradients come back as tensors of their own instead of being
  // accumulated into the parameters' grad(), so shards on other threads can share the parameters.
  const auto grads = torch::autograd::grad({loss}, parameters_, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                           /*allow_unused=*/true);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < grads.size(); ++i) {
    const torch::Tensor& g = grads[i];
    if (!g.defined()) {
      gradients_[i].zero_();
    } else if (can_take(grads, i)) {
      // The gradient is a whole buffer of its own with the parameter's layout: keep it instead of
      // copying it (a conv model's dense layers hold millions of values).
      gradients_[i] = g;
      if (into_parameters_) parameters_[i].mutable_grad() = g;
    } else {
      gradients_[i].copy_(g);
    }
  }
  const torch::Tensor kl_squares = t.kl.detach().to(torch::kFloat64).square().sum();
  const auto values = torch::stack({recon.detach().to(torch::kFloat64), kl.detach().to(torch::kFloat64), kl_squares}).cpu();
  StepTerms out;
  out.recon = values.data_ptr<double>()[0] / double(images);
  out.kl = values.data_ptr<double>()[1] / double(images);
  out.kl_squares = values.data_ptr<double>()[2] / double(images);
  out.loss = out.recon + beta * out.kl;
  return out;
}

std::unique_ptr<TrainingStep> make_training_step(Model& model, TrainingStep::Gradients where, StepEngine engine) {
  auto* mlp = dynamic_cast<MlpModel*>(&model);
  const bool cpu = model.log_sigma().device().is_cpu();
  // The hand-written step has the closed-form KL to N(0, I) and the plain MLP's layers written into it.
  const bool normal = model.prior().closed_form_kl();
  if (mlp && model.config().conditional()) mlp = nullptr;
  if (engine == StepEngine::HandWritten && (!mlp || !normal))
    throw Error("the hand-written step is for the plain (not conditional) MLP with the N(0, I) prior only");
  if (engine == StepEngine::HandWritten || (engine == StepEngine::Auto && mlp && cpu && normal))
    return std::make_unique<MlpStep>(*mlp, where);
  return std::make_unique<AutogradStep>(model, where);
}

}  // namespace latent
