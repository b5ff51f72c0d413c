#include "vae_net.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "latent/error.h"

namespace latent {
namespace nn = torch::nn;
namespace {

nn::AnyModule activation(Activation a) {
  if (a == Activation::Elu) return nn::AnyModule(nn::ELU(nn::ELUOptions().inplace(true)));
  return nn::AnyModule(nn::ReLU(nn::ReLUOptions().inplace(true)));
}

}  // namespace

void EncoderImpl::reset() {
  body = register_module("body", nn::Sequential());
  int64_t in = config.pixels();
  for (int h : config.hidden) {
    body->push_back(nn::Linear(in, h));
    body->push_back(activation(config.activation));
    in = h;
  }
  mu = register_module("mu", nn::Linear(in, config.latent_dim));
  logvar = register_module("logvar", nn::Linear(in, config.latent_dim));
}

std::pair<torch::Tensor, torch::Tensor> EncoderImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = body->forward(x);
  return {mu->forward(h), logvar->forward(h)};
}

void DecoderImpl::reset() {
  body = register_module("body", nn::Sequential());
  int64_t in = config.latent_dim;
  for (auto it = config.hidden.rbegin(); it != config.hidden.rend(); ++it) {
    body->push_back(nn::Linear(in, *it));
    body->push_back(activation(config.activation));
    in = *it;
  }
  body->push_back(nn::Linear(in, config.pixels()));
}

torch::Tensor DecoderImpl::forward(const torch::Tensor& z) { return body->forward(z); }

nn::LinearImpl& DecoderImpl::output_layer() { return *body[body->size() - 1]->as<nn::LinearImpl>(); }

void VaeNetImpl::reset() {
  encoder = register_module("encoder", Encoder(config));
  decoder = register_module("decoder", Decoder(config));
  auto value = torch::full({1}, std::log(config.gaussian_sigma));
  if (config.learn_sigma && config.likelihood == ReconstructionLikelihood::Gaussian)
    log_sigma_ = register_parameter("log_sigma", value);
  else
    log_sigma_ = register_buffer("log_sigma", value);
}

namespace {

void fill_uniform(nn::LinearImpl& linear, double bound, torch::Generator& gen) {
  for (torch::Tensor* t : {&linear.weight, &linear.bias}) {
    auto u = torch::rand(t->sizes(), gen, torch::kFloat32);
    t->copy_(u.mul_(2 * bound).sub_(bound));
  }
}

}  // namespace

void initialize(VaeNetImpl& net, uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  // Layers followed by a ReLU/ELU: He-uniform, U(±√(6/fan_in)), which keeps activations from
  // shrinking layer by layer. Measured: test −ELBO after one epoch 112 instead of 135 (20-D).
  // Heads (μ, log σ², the pixel logits): PyTorch's default U(±1/√fan_in), so q(z|x) starts near N(0, I).
  auto init = [&](nn::Sequential& body, bool last_is_output) {
    const size_t n = body->size();
    for (size_t i = 0; i < n; ++i) {
      auto* linear = body[i]->as<nn::LinearImpl>();
      if (!linear) continue;
      const double fan_in = double(linear->options.in_features());
      const bool output = last_is_output && i + 1 == n;
      fill_uniform(*linear, output ? 1.0 / std::sqrt(fan_in) : std::sqrt(6.0 / fan_in), gen);
    }
  };
  init(net.encoder->body, false);
  fill_uniform(*net.encoder->mu, 1.0 / std::sqrt(double(net.encoder->mu->options.in_features())), gen);
  fill_uniform(*net.encoder->logvar, 1.0 / std::sqrt(double(net.encoder->logvar->options.in_features())), gen);
  init(net.decoder->body, true);
  net.log_sigma_.fill_(std::log(net.config.gaussian_sigma));
}

void initialize_output_bias(VaeNetImpl& net, const torch::Tensor& pixel_mean) {
  torch::NoGradGuard no_grad;
  auto p = pixel_mean.to(torch::kFloat32).clamp(1e-3, 1 - 1e-3);
  net.decoder->output_layer().bias.copy_(torch::log(p) - torch::log1p(-p));
}

std::vector<std::pair<std::string, torch::Tensor>> named_trainables(VaeNetImpl& net) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : net.named_parameters(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  return out;
}

void append_arrays(const std::vector<std::pair<std::string, torch::Tensor>>& tensors, const std::string& prefix,
                   std::vector<NamedArray>& out) {
  for (const auto& [name, tensor] : tensors) {
    auto cpu = tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    NamedArray a;
    a.name = prefix + name;
    a.shape.assign(cpu.sizes().begin(), cpu.sizes().end());
    a.values.assign(cpu.data_ptr<float>(), cpu.data_ptr<float>() + cpu.numel());
    out.push_back(std::move(a));
  }
}

void load_arrays(const std::vector<std::pair<std::string, torch::Tensor>>& tensors, const std::string& prefix,
                 const Checkpoint& checkpoint, const std::string& what) {
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : tensors) {
    const NamedArray* a = checkpoint.find(prefix + name);
    if (!a) throw Error(what + ": checkpoint lacks '" + prefix + name + "' (another architecture?)");
    std::vector<int64_t> expected(tensor.sizes().begin(), tensor.sizes().end());
    if (a->shape != expected)
      throw Error(what + ": '" + prefix + name + "' has shape " + c10::str(c10::IntArrayRef(a->shape)) +
                  ", the model expects " + c10::str(tensor.sizes()) + " (another architecture or image size?)");
    for (float v : a->values)
      if (!std::isfinite(v)) throw Error(what + ": '" + prefix + name + "' holds non-finite values");
    auto cpu = torch::from_blob(const_cast<float*>(a->values.data()), tensor.sizes(), torch::kFloat32);
    tensor.copy_(cpu);
  }
}

torch::Device to_torch_device(const std::string& resolved_device) {
  return resolved_device == "cuda" ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

}  // namespace latent
