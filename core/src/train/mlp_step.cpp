#include "train/mlp_step.h"

#include <algorithm>
#include <cmath>

#include "train/kernels.h"

namespace latent {

MlpStep::MlpStep(MlpModel& net, Gradients where) : TrainingStep(net, where), net_(net) {
  auto add = [this](std::vector<Layer>& layers, torch::nn::Sequential& body) {
    for (size_t i = 0; i < body->size(); ++i) {
      if (auto* linear = body[i]->as<torch::nn::LinearImpl>()) {
        layers.push_back({linear, gradient_for(linear->weight), gradient_for(linear->bias), false, {}, {}});
      } else {
        layers.back().activated = true;  // the activation after the previous Linear
      }
    }
  };
  add(encoder_, net.encoder->body);
  add(decoder_, net.decoder->body);
  mu_head_ = net.encoder->mu.get();
  logvar_head_ = net.encoder->logvar.get();
  mu_weight_grad_ = gradient_for(mu_head_->weight);
  mu_bias_grad_ = gradient_for(mu_head_->bias);
  logvar_weight_grad_ = gradient_for(logvar_head_->weight);
  logvar_bias_grad_ = gradient_for(logvar_head_->bias);
  log_sigma_grad_ = gradient_for(net.log_sigma());
}

torch::Tensor MlpStep::gradient_for(const torch::Tensor& p) const {
  for (size_t i = 0; i < parameters_.size(); ++i)
    if (parameters_[i].is_same(p)) return gradients_[i];
  return {};  // not trained (a fixed σ)
}

void MlpStep::prepare(int64_t batch, const torch::TensorOptions& options) {
  if (batch > capacity_ || mu_.device() != options.device()) {
    storage_.clear();
    auto add = [&](torch::Tensor* view, int64_t columns) {
      storage_.emplace_back(view, torch::empty({batch, columns}, options));
    };
    for (auto* layers : {&encoder_, &decoder_})
      for (auto& l : *layers) {
        add(&l.out, l.linear->options.out_features());
        add(&l.grad_in, l.linear->options.in_features());
      }
    const int64_t d = net_.config().latent_dim, p = net_.config().pixels();
    for (auto* t : {&mu_, &logvar_, &std_, &z_, &grad_mu_, &grad_logvar_}) add(t, d);
    add(&grad_h_, encoder_.empty() ? p : encoder_.back().linear->options.out_features());
    for (auto* t : {&mean_, &scratch_, &grad_out_}) add(t, p);
    capacity_ = batch;
    batch_ = -1;
  }
  if (batch == batch_) return;
  for (auto& [view, full] : storage_) *view = full.narrow(0, 0, batch);  // the first rows: contiguous
  batch_ = batch;
}

void MlpStep::forward(std::vector<Layer>& layers, const torch::Tensor& input) {
  const torch::Tensor* in = &input;
  for (auto& l : layers) {
    at::addmm_out(l.out, l.linear->bias, *in, l.linear->weight.t());
    if (l.activated) {
      if (net_.config().activation == Activation::Elu)
        at::elu_(l.out);
      else
        at::relu_(l.out);
    }
    in = &l.out;
  }
}

void MlpStep::activation_backward(torch::Tensor& grad, const torch::Tensor& activated_out) const {
  // Both derivatives follow from the output alone: ReLU′ = [y > 0]; ELU′ = 1 if y > 0 else y + 1.
  if (net_.config().activation == Activation::Elu)
    at::elu_backward_out(grad, grad, 1.0, 1.0, 1.0, /*is_result=*/true, activated_out);
  else
    at::threshold_backward_out(grad, grad, activated_out, 0);
}

torch::Tensor MlpStep::backward(std::vector<Layer>& layers, const torch::Tensor& input, torch::Tensor grad,
                                bool need_input_grad) {
  for (size_t i = layers.size(); i-- > 0;) {
    Layer& l = layers[i];
    if (l.activated) activation_backward(grad, l.out);
    const torch::Tensor& in = i > 0 ? layers[i - 1].out : input;
    at::mm_out(l.weight_grad, grad.t(), in);
    at::sum_out(l.bias_grad, grad, 0);
    if (i == 0 && !need_input_grad) return {};
    at::mm_out(l.grad_in, grad, l.linear->weight);
    grad = l.grad_in;
  }
  return grad;
}

torch::Tensor MlpStep::reconstruction(const torch::Tensor& out, const torch::Tensor& x, int64_t images, bool gradients) {
  if (net_.config().likelihood == ReconstructionLikelihood::Bernoulli) {
    // Σ BCE(l, x) = Σ softplus(l) − l·x, and its gradient sigmoid(l) − x.
    if (out.device().is_cpu() && x.scalar_type() == torch::kFloat32 && x.is_contiguous()) {
      // One fused pass instead of five (sigmoid, softplus, l·x, sum, difference): measured ~0.4 ms
      // of a 6.7 ms step on the 784-400-20 model.
      const double sum = bce_with_logits(out.data_ptr<float>(), x.data_ptr<float>(), grad_out_.data_ptr<float>(),
                                         float(1.0 / double(images)), out.numel());
      return torch::scalar_tensor(sum, torch::kFloat64);
    }
    at::sigmoid_out(mean_, out);
    at::softplus_out(scratch_, out);
    scratch_.addcmul_(out, x, -1.0);
    at::sub_out(grad_out_, mean_, x).mul_(1.0 / double(images));
    return scratch_.sum();
  }
  // Σ (x − s)²/(2σ²) + P·(log σ + ½ log 2π) per image, s = sigmoid(o).
  const int64_t rows = out.size(0);
  at::sigmoid_out(mean_, out);
  torch::Tensor log_sigma = net_.log_sigma();
  torch::Tensor inv_var = (-2.0 * log_sigma).exp();
  at::sub_out(scratch_, mean_, x);  // s − x
  at::mul_out(grad_out_, scratch_, scratch_);
  torch::Tensor sum_sq = grad_out_.sum();
  at::mul_out(grad_out_, mean_, mean_);
  at::sub_out(grad_out_, mean_, grad_out_);  // s(1 − s)
  grad_out_.mul_(scratch_).mul_(inv_var / double(images));
  const double pixels = double(net_.config().pixels());
  // ∂/∂log σ of the mean over `images` of this batch's rows: (rows·P − Σ (x − s)²/σ²) / images.
  if (gradients && log_sigma_grad_.defined())
    log_sigma_grad_.copy_((double(rows) * pixels - inv_var * sum_sq) / double(images));
  const double half_log_2pi = 0.5 * std::log(2.0 * M_PI);
  return (0.5 * inv_var * sum_sq + double(rows) * pixels * (log_sigma + half_log_2pi)).squeeze();
}

void MlpStep::kl_terms() {
  // ½(μ² + σ² − log σ² − 1), the ½ and the −1 left to the sums.
  at::mul_out(grad_mu_, std_, std_).addcmul_(mu_, mu_).sub_(logvar_);
}

void MlpStep::encode_decode(const torch::Tensor& x, const torch::Tensor& eps) {
  forward(encoder_, x);
  const torch::Tensor& h = encoder_.empty() ? x : encoder_.back().out;
  at::addmm_out(mu_, mu_head_->bias, h, mu_head_->weight.t());
  at::addmm_out(logvar_, logvar_head_->bias, h, logvar_head_->weight.t());
  at::mul_out(std_, logvar_, 0.5).exp_();  // σ = exp(½ log σ²)
  at::addcmul_out(z_, mu_, std_, eps);      // z = μ + σ·ε
  forward(decoder_, z_);
}

StepTerms MlpStep::run(const torch::Tensor& x, const torch::Tensor& eps, double beta, int64_t images, const torch::Tensor&,
                       const torch::Tensor& target) {
  torch::NoGradGuard no_grad;
  const int64_t batch = x.size(0);
  if (images <= 0) images = batch;
  prepare(batch, x.options());
  encode_decode(x, eps);
  const torch::Tensor& h = encoder_.empty() ? x : encoder_.back().out;

  torch::Tensor recon = reconstruction(decoder_.back().out, target.defined() ? target : x, images, /*gradients=*/true);
  // KL = ½ Σ (μ² + σ² − log σ² − 1), with grad_mu_ as scratch before it holds the gradient.
  kl_terms();
  torch::Tensor kl = 0.5 * (grad_mu_.sum() - double(grad_mu_.numel()));

  torch::Tensor grad_z = backward(decoder_, z_, grad_out_, /*need_input_grad=*/true);
  const double kl_scale = beta / double(images);
  at::add_out(grad_mu_, grad_z, mu_, kl_scale);  // ∂/∂μ: ∂z/∂μ = 1, ∂KL/∂μ = μ
  // ∂/∂log σ²: ∂z/∂log σ² = ½σε, ∂KL/∂log σ² = ½(σ² − 1).
  at::mul_out(grad_logvar_, grad_z, eps).mul_(std_).mul_(0.5);
  grad_logvar_.addcmul_(std_, std_, 0.5 * kl_scale).sub_(0.5 * kl_scale);
  at::mm_out(mu_weight_grad_, grad_mu_.t(), h);
  at::sum_out(mu_bias_grad_, grad_mu_, 0);
  at::mm_out(logvar_weight_grad_, grad_logvar_.t(), h);
  at::sum_out(logvar_bias_grad_, grad_logvar_, 0);
  if (!encoder_.empty()) {
    at::mm_out(grad_h_, grad_mu_, mu_head_->weight);
    grad_h_.addmm_(grad_logvar_, logvar_head_->weight);
    backward(encoder_, x, grad_h_, /*need_input_grad=*/false);
  }

  auto values = torch::stack({recon.to(torch::kFloat64), kl.to(torch::kFloat64)}).cpu();
  StepTerms t;
  t.recon = values.data_ptr<double>()[0] / double(images);
  t.kl = values.data_ptr<double>()[1] / double(images);
  t.loss = t.recon + beta * t.kl;
  return t;
}

}  // namespace latent
